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

class Evaluator {
 public:
  // Limits that keep any input finite: layers per model, evaluation steps.
  static constexpr std::size_t kMaxLayers = 200'000;
  static constexpr std::size_t kMaxSteps = 10'000'000;
  static constexpr std::size_t kMaxListLength = 1'000'000;
  static constexpr std::size_t kMaxStringLength = 1'000'000;
  static constexpr int kMaxCallDepth = 64;

  Evaluator(const Symbols& symbols, lang::Diagnostics& diags);
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
