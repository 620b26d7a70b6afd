// The program's declarations by name, and the pieces of the checker that
// share them: the static pass (names, calls, arguments, recursion) and the
// evaluator (shapes, units, property values).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/loader.hpp"
#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"

namespace dlc::compiler {

struct Symbols {
  std::map<std::string, const lang::ast::Decl*, std::less<>> decls;
  std::set<const lang::ast::Decl*> broken;  // declarations with static errors: not evaluated

  const lang::ast::Decl* find(std::string_view name) const {
    auto it = decls.find(name);
    return it == decls.end() ? nullptr : it->second;
  }
  std::vector<std::string> names(std::initializer_list<lang::ast::DeclKind> kinds = {}) const;
};

// Built-in functions usable in expressions (channels(x), len(l), ...).
struct Builtin {
  std::string_view name;
  int min_args, max_args;  // max -1: any
  std::string_view summary;
};
const Builtin* find_builtin(std::string_view name);
std::vector<std::string> builtin_names();

// Parameter types a model or block parameter may declare.
bool valid_param_type(std::string_view type);
inline constexpr const char* kParamTypes[] = {"int", "number", "bool", "string", "list", "tensor", "quantity"};

// Annotations the checker knows: @type(CNN|RNN|MLP|Transformer) and
// @title("...") on models. The value of one on a declaration, or "".
std::string annotation(const lang::ast::Decl& decl, std::string_view name);
inline constexpr const char* kModelTypes[] = {"CNN", "RNN", "MLP", "Transformer"};

// The static pass: collects declarations (duplicates are errors), then checks
// every body: names, callees, argument names and counts, element types,
// recursion between blocks. Declarations with errors go to `broken`.
void resolve(const Program& program, Symbols& symbols, lang::Diagnostics& diags);

}  // namespace dlc::compiler
