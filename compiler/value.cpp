// Values of the language: constructors and descriptions for messages.
#include <fmt/format.h>

#include "compiler/value.hpp"
#include "lang/diagnostics.hpp"

namespace dlc::compiler {

using lang::Dimension;
using lang::SourceRange;
using lang::ast::decl_kind_name;

Value Value::integer_value(std::int64_t v, SourceRange at) {
  Value r;
  r.kind = Kind::number;
  r.integral = true;
  r.integer = v;
  r.number = static_cast<double>(v);
  r.where = at;
  return r;
}
Value Value::real(double v, Dimension d, SourceRange at) {
  Value r;
  r.kind = Kind::number;
  r.number = v;
  r.dim = d;
  r.where = at;
  return r;
}
Value Value::boolean_value(bool b, SourceRange at) {
  Value r;
  r.kind = Kind::boolean;
  r.boolean = b;
  r.where = at;
  return r;
}
Value Value::string_value(std::string s, SourceRange at) {
  Value r;
  r.kind = Kind::string;
  r.text = std::move(s);
  r.where = at;
  return r;
}
Value Value::list(std::vector<Value> items, SourceRange at) {
  Value r;
  r.kind = Kind::list;
  r.items = std::make_shared<std::vector<Value>>(std::move(items));
  r.where = at;
  return r;
}
Value Value::symbol(std::string name, SourceRange at) {
  Value r;
  r.kind = Kind::symbol;
  r.text = std::move(name);
  r.where = at;
  return r;
}

std::string describe(const Value& v) {
  switch (v.kind) {
    case Value::Kind::poison: return "an invalid value";
    case Value::Kind::number:
      if (v.dim.dimensionless()) return v.integral ? "an integer" : "a number";
      return lang::with_article(v.dim.describe());
    case Value::Kind::boolean: return "a boolean";
    case Value::Kind::string: return "a string";
    case Value::Kind::list: return "a list";
    case Value::Kind::tensor: return "a tensor";
    case Value::Kind::decl: return fmt::format("{} '{}'", decl_kind_name(v.decl->kind), v.decl->name.name);
    case Value::Kind::replicated:
      return fmt::format("{} x {} '{}'", v.count, decl_kind_name(v.decl->kind), v.decl->name.name);
    case Value::Kind::symbol: return fmt::format("the name '{}'", v.text);
    case Value::Kind::call: return fmt::format("'{}(...)'", v.text);
    case Value::Kind::per: return "a value 'per' something";
  }
  return "a value";
}

// ---- the evaluator ----------------------------------------------------------

}  // namespace dlc::compiler
