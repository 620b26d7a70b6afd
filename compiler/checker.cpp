#include "compiler/checker.hpp"

#include <fmt/format.h>

#include "compiler/evaluator.hpp"
#include "compiler/properties.hpp"
#include "compiler/symbols.hpp"

namespace dlc::compiler {

using namespace lang::ast;

namespace {

// A model is built on its own when nothing is left to pass: no parameters
// without defaults (an alias may have parameters too).
bool instantiable(const Decl& model) {
  for (const Param& p : model.params)
    if (!p.default_value) return false;
  return true;
}

}  // namespace

std::unique_ptr<CheckedModule> check(std::unique_ptr<Program> program, lang::Diagnostics& diags,
                                     const CheckOptions& options) {
  auto module = std::make_unique<CheckedModule>();
  module->program = std::move(program);
  const Program& p = *module->program;
  if (!p.syntax_ok) return module;  // a file that does not parse is not checked further

  Symbols symbols;
  resolve(p, symbols, diags);
  Evaluator evaluator(symbols, diags);
  PropertyChecker properties(symbols, evaluator, diags, *module);
  // Models first (experiments refer to them), then everything else in order.
  for (const File& f : p.files) {
    if (!options.library_models && !p.sources.file(f.id).module.empty()) continue;
    for (const Decl& d : f.decls) {
      if (d.kind != DeclKind::model || symbols.broken.count(&d) || !instantiable(d)) continue;
      if (module->find_model(d.name.name)) continue;
      ModelGraph g;
      g.origin = &d;
      if (evaluator.instantiate(d, g)) module->models.push_back(std::move(g));
    }
  }
  for (const File& f : p.files)
    for (const Decl& d : f.decls)
      if (d.kind != DeclKind::model && d.kind != DeclKind::block && !symbols.broken.count(&d))
        properties.check(d);
  for (const std::string& name : options.models) {
    if (module->find_model(name)) continue;
    const Decl* d = symbols.find(name);
    if (!d || d->kind != DeclKind::model) {
      std::string message = fmt::format("unknown model '{}'", name);
      std::string close = lang::closest_match(name, symbols.names({DeclKind::model}));
      if (!close.empty()) message += fmt::format("; did you mean '{}'?", close);
      diags.error({}, message);
      continue;
    }
    if (symbols.broken.count(d)) continue;  // its errors are reported
    if (!instantiable(*d)) {
      diags.error(d->name.range, fmt::format("model '{}' has parameters without defaults; give it arguments in "
                                             "a model of your own: model Mine = {}(...)", name, name));
      continue;
    }
    ModelGraph g;
    g.origin = d;
    if (evaluator.instantiate(*d, g)) module->models.push_back(std::move(g));
  }
  return module;
}

std::unique_ptr<CheckedModule> compile_file(const std::string& path, lang::Diagnostics& diags) {
  auto program = std::make_unique<Program>();
  load_file(*program, path, diags);
  return check(std::move(program), diags);
}

std::unique_ptr<CheckedModule> compile_text(const std::string& name, std::string text, lang::Diagnostics& diags) {
  auto program = std::make_unique<Program>();
  load_text(*program, name, std::move(text), diags);
  return check(std::move(program), diags);
}

}  // namespace dlc::compiler
