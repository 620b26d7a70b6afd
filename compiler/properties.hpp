// Checks the properties of non-model declarations against their schema.
#pragma once

#include <map>
#include <set>
#include <string>

#include "compiler/evaluator.hpp"
#include "compiler/module.hpp"
#include "compiler/schema.hpp"
#include "compiler/symbols.hpp"

namespace dlc::compiler {

class PropertyChecker {
 public:
  PropertyChecker(const Symbols& symbols, Evaluator& eval, lang::Diagnostics& diags, CheckedModule& module);
  // Checks a declaration (and its base first), appends it to the module.
  const CheckedDecl* check(const lang::ast::Decl& decl);

 private:
  const Symbols& symbols_;
  Evaluator& eval_;
  lang::Diagnostics& diags_;
  CheckedModule& module_;
  std::map<const lang::ast::Decl*, const CheckedDecl*> done_;
  const lang::ast::Decl* current_ = nullptr;  // the declaration being checked

  void check_group(const lang::ast::Decl& d, const Schema& schema, const std::vector<lang::ast::Property>& props,
                   const std::string& prefix, CheckedDecl& out, std::map<std::string, lang::SourceRange>& seen);
  void check_experiment_task(const lang::ast::Decl& d, const CheckedDecl& out,
                             const std::map<std::string, lang::SourceRange>& seen);
  void set(CheckedDecl& out, const std::string& key, Value v);
  bool validate(const PropSpec& spec, const std::string& key, const lang::ast::Expr& expr, Value& v);
  bool mismatch(const std::string& key, const PropSpec& spec, const Value& v);
  bool in_range(const PropSpec& spec, const std::string& key, const Value& v);
  bool check_choice(const PropSpec& spec, const std::string& key, const Value& v);
  bool check_variant(const PropSpec& spec, const std::string& key, Value& v);
  bool check_reference(const PropSpec& spec, const std::string& key, Value& v);
  bool check_model(const std::string& key, const lang::ast::Expr& expr, Value& v);
  static std::string example_unit(const lang::Dimension& d);
};

}  // namespace dlc::compiler
