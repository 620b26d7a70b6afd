#include "compiler/checker.hpp"

#include <fmt/format.h>
#include <map>

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

// Warnings for a model's layers that reach no output, and inputs nothing
// uses: usually a forgotten `x = ...`. Their cost is still counted, as a
// framework running the spec as written would pay it.
void warn_unused(const ModelGraph& g, lang::Diagnostics& diags) {
  std::vector<bool> live(g.layers.size(), false);
  std::vector<int> work(g.outputs.begin(), g.outputs.end());
  while (!work.empty()) {
    int i = work.back();
    work.pop_back();
    if (live[i]) continue;
    live[i] = true;
    for (int in : g.layers[i].inputs) work.push_back(in);
  }
  // One warning per place in the source: a loop's dead layers are one mistake.
  std::map<std::pair<lang::FileId, std::uint32_t>, std::pair<const Layer*, int>> dead;
  std::vector<const Layer*> order;
  for (std::size_t i = 0; i < g.layers.size(); ++i) {
    if (live[i]) continue;
    const Layer& l = g.layers[i];
    auto [it, fresh] = dead.try_emplace({l.where.file, l.where.offset}, &l, 0);
    if (fresh) order.push_back(&l);
    ++it->second.second;
  }
  for (const Layer* l : order) {
    int n = dead[{l->where.file, l->where.offset}].second;
    std::string more = n > 1 ? fmt::format("; {} more made here", n - 1) : "";
    if (l->op == "input")
      diags.warning(l->where, fmt::format("input '{}' is not used by any output", l->name));
    else
      diags.warning(l->where, fmt::format("layer '{}' does not reach any output (its cost is still counted){}",
                                          l->name, more));
  }
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
  Evaluator evaluator(symbols, diags, options.limits);
  PropertyChecker properties(symbols, evaluator, diags, *module);
  // Models first (experiments refer to them), then everything else in order.
  for (const File& f : p.files) {
    if (!options.library_models && !p.sources.file(f.id).module.empty()) continue;
    for (const Decl& d : f.decls) {
      if (d.kind != DeclKind::model || symbols.broken.count(&d) || !instantiable(d)) continue;
      if (module->find_model(d.name.name)) continue;
      ModelGraph g;
      g.origin = &d;
      if (evaluator.instantiate(d, g)) {
        warn_unused(g, diags);
        module->models.push_back(std::move(g));
      }
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
