// Values of the language, as the evaluator computes them: numbers with their
// dimension, booleans, strings, lists, tensors (a layer of the graph being
// built), references to declarations (P100), replicated references (8 * P100),
// symbols (gpu, ring, fp32), variant calls (data(allreduce = ring)) and
// qualified values (16 per device). `poison` marks the result of an
// expression that already produced an error, so one mistake yields one
// diagnostic.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lang/ast.hpp"
#include "lang/units.hpp"

namespace dlc::compiler {

struct Value {
  enum class Kind { poison, number, boolean, string, list, tensor, decl, replicated, symbol, call, per };
  Kind kind = Kind::poison;
  lang::SourceRange where;  // the expression it came from

  // number
  double number = 0;
  bool integral = false;
  std::int64_t integer = 0;
  lang::Dimension dim;
  // boolean
  bool boolean = false;
  // string contents, symbol, call or per-qualifier name
  std::string text;
  // list elements; call arguments (named by `names`, each with where the name
  // is written, so a diagnostic about a name points at it; "" when
  // positional); per: the qualified value
  std::shared_ptr<std::vector<Value>> items;
  std::shared_ptr<std::vector<lang::ast::Identifier>> names;
  // tensor: index of the producing layer in the graph under construction
  int layer = -1;
  // decl / replicated
  const lang::ast::Decl* decl = nullptr;
  std::int64_t count = 1;

  static Value poison() { return {}; }
  static Value integer_value(std::int64_t v, lang::SourceRange at = {});
  static Value real(double v, lang::Dimension d, lang::SourceRange at = {});
  static Value boolean_value(bool b, lang::SourceRange at = {});
  static Value string_value(std::string s, lang::SourceRange at = {});
  static Value list(std::vector<Value> items, lang::SourceRange at = {});
  static Value symbol(std::string name, lang::SourceRange at = {});

  bool is_poison() const { return kind == Kind::poison; }
  bool is_int() const { return kind == Kind::number && integral && dim.dimensionless(); }
  bool is_plain_number() const { return kind == Kind::number && dim.dimensionless(); }
  const std::vector<Value>& elements() const { return *items; }
};

// What a value is, for messages: "an integer", "a tensor", "a bandwidth (B/s)".
std::string describe(const Value& v);

}  // namespace dlc::compiler
