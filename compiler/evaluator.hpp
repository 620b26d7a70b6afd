// The evaluator: runs model and block bodies to build layer graphs (shapes,
// parameters, MACs), and evaluates property values of hardware and
// experiment declarations. Errors become diagnostics at the expression that
// caused them, with notes for the chain of block calls; the failing value
// turns into poison so one mistake is reported once.
#pragma once

#include <memory>

#include "compiler/module.hpp"
#include "compiler/symbols.hpp"

namespace dlc::compiler {

// Limits that keep any input finite: each is an error where it is reached.
// At these, the largest takes about a second to reach in a release build;
// the fuzzer lowers them, so that it reaches them often and fast.
struct EvaluationLimits {
  std::size_t layers = 200'000;  // per model
  std::size_t steps = 4'000'000;  // evaluation steps per model or property (~0.5 s)
  std::size_t list_length = 1'000'000;
  std::size_t string_length = 1'000'000;
  int call_depth = 64;  // nested block calls, or aliases of a model
};

class Evaluator {
 public:
  Evaluator(const Symbols& symbols, lang::Diagnostics& diags, const EvaluationLimits& limits = {});
  ~Evaluator();

  // Instantiates a model with its defaults (a plain model or one whose
  // parameters all have defaults), or follows an alias (model X = Y(args)).
  // Returns false when the model has errors.
  bool instantiate(const lang::ast::Decl& model, ModelGraph& out);
  // Instantiates a model from a call in a property (model = ResNet([3, 4, 6, 3])).
  bool instantiate_call(const lang::ast::Expr& call, ModelGraph& out);

  // Evaluates a property value: names of declarations become references,
  // other bare names become symbols (gpu, ring, fp32) for the schema to check.
  Value property_value(const lang::ast::Expr& e);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dlc::compiler
