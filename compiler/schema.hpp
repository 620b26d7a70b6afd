// Property schemas: for each declaration kind (device, link, node, cluster,
// experiment, crossbar), the properties it accepts, what type or dimension
// each expects, and which are required. The checker validates evaluated
// values against these tables; later stages read the properties by key.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lang/ast.hpp"
#include "lang/units.hpp"

namespace dlc::compiler {

struct Schema;

enum class PropType {
  quantity,     // a number with a dimension (dim); plain numbers when dim is none
  integer,      // a plain integer
  boolean,
  string,
  enumeration,  // one of `choices`, written as a bare name
  reference,    // a declaration of one of `kinds`
  replicated,   // N * Decl or Decl, of one of `kinds`
  model,        // a model name or instantiation
  group,        // name { ... } with its own schema
  variant,      // one of `choices`, optionally called with arguments: data(allreduce = ring)
};

struct PropSpec {
  std::string name;
  PropType type;
  lang::Dimension dim;                     // quantity
  std::vector<std::string> choices;        // enumeration, variant
  // enumeration: words recognised but refused, each with the reason (a
  // choice the models do not distinguish is refused, not ignored)
  std::vector<std::pair<std::string, std::string>> refused;
  std::vector<lang::ast::DeclKind> kinds;  // reference, replicated
  std::vector<const Schema*> args;         // variant: arguments of each choice (parallel to choices)
  const Schema* group = nullptr;           // group
  double min = -1e308, max = 1e308;        // quantity/integer range
  bool required = false;
  std::vector<std::string> per;            // quantity: allowed `per` qualifiers (batch = 16 per device)
  std::string doc;
  bool whole = false;                      // quantity: a count, so an integral value
  bool positive = false;                   // quantity: zero is not allowed (a bandwidth, a peak rate)

  const char* type_name() const;
};

struct Schema {
  std::string what;  // "device", "peak", "data(...)"
  std::vector<PropSpec> props;
  const PropSpec* find(std::string_view name) const;
  std::vector<std::string> names() const;
};

// The schema of a declaration kind (device, link, node, cluster, experiment,
// crossbar); nullptr for models and blocks.
const Schema* schema_for(lang::ast::DeclKind kind);

// "a bandwidth (B/s)", "one of: weak, strong", "a link": what a spec expects.
std::string expected_text(const PropSpec& spec);

}  // namespace dlc::compiler
