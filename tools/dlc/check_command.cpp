// dlc check: load, parse and check each input separately; print diagnostics
// (stderr) and a one-line summary or a stage dump (stdout).
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <map>

#include "compiler/checker.hpp"
#include "compiler/table.hpp"
#include "compiler/plan.hpp"
#include "tools/dlc/commands.hpp"
#include "tools/dlc/frontend.hpp"

namespace dlc::tools {

namespace {

std::string human_count(std::int64_t n) {
  if (n >= 1'000'000'000'000'000) return fmt::format("{:.2f}P", n / 1e15);
  if (n >= 1'000'000'000'000) return fmt::format("{:.2f}T", n / 1e12);
  if (n >= 1'000'000'000) return fmt::format("{:.2f}G", n / 1e9);
  if (n >= 1'000'000) return fmt::format("{:.2f}M", n / 1e6);
  if (n >= 10'000) return fmt::format("{:.1f}K", n / 1e3);
  return std::to_string(n);
}

std::string graph_summary(const compiler::ModelGraph& g) {
  compiler::GraphTotals t = compiler::totals(g);
  return fmt::format("{} layer{}, {} params, {} MACs per sample", g.layers.size(), g.layers.size() == 1 ? "" : "s",
                     human_count(t.params + t.state), human_count(t.macs_forward));
}

// What the root file declares, one line each, then a count of what it imports.
std::string summary(const compiler::CheckedModule& m) {
  using lang::ast::DeclKind;
  const auto& files = m.program->files;
  std::string out;
  std::map<std::string, int> imported;
  std::size_t imported_files = 0;
  for (const lang::ast::File& file : files) {
    bool root = m.program->is_root(file.id);
    if (!root && !file.decls.empty()) ++imported_files;
    for (const lang::ast::Decl& d : file.decls) {
      std::string kind = lang::ast::decl_kind_name(d.kind);
      if (!root) {
        ++imported[kind];
        continue;
      }
      std::string detail;
      if (d.kind == DeclKind::model) {
        const compiler::ModelGraph* g = m.find_model(d.name.name);
        detail = g ? graph_summary(*g) : "parameterised; instantiate it with arguments";
      } else if (d.kind == DeclKind::block) {
        std::string params;
        for (const lang::ast::Param& p : d.params) params += (params.empty() ? "" : ", ") + p.name.name;
        detail = fmt::format("block {}({})", d.name.name, params);
      } else if (const compiler::CheckedDecl* c = m.find_decl(d.name.name)) {
        std::vector<std::string> props;
        for (const compiler::Property& p : c->properties) {
          if (props.size() == 4) {
            props.push_back("...");
            break;
          }
          props.push_back(fmt::format("{} = {}", p.key, compiler::value_string(p.value, nullptr, true)));
        }
        for (const std::string& p : props) detail += (detail.empty() ? "" : "; ") + p;
      }
      if (d.kind == DeclKind::block) out += fmt::format("  {}\n", detail);
      else out += fmt::format("  {} {}: {}\n", kind, d.name.name, detail);
    }
  }
  if (!imported.empty()) {
    std::string list;
    for (const auto& [k, n] : imported) list += fmt::format("{}{} {}{}", list.empty() ? "" : ", ", n, k, n == 1 ? "" : "s");
    out += fmt::format("  imported: {} ({} file{})\n", list, imported_files, imported_files == 1 ? "" : "s");
  }
  for (const compiler::ModelGraph& g : m.models)
    if (g.origin && g.origin->kind == DeclKind::experiment)
      out += fmt::format("  model {} (used by experiment {}): {}\n", g.name, g.origin->name.name, graph_summary(g));
  return out;
}

}  // namespace

int run_check(const CheckOptions& options) {
  bool color = use_color(options.color);
  bool failed = false;
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  for (const std::string& input : options.inputs) {
    auto t0 = clock::now();
    lang::Diagnostics diags;
    auto program = load_input(input, diags);
    std::string ast_text;
    if (options.emit == "ast" && program->syntax_ok)
      for (const lang::ast::File& f : program->files)
        if (program->is_root(f.id)) ast_text += lang::ast::dump(f);
    auto t1 = clock::now();
    compiler::CheckOptions check_options;
    check_options.library_models = is_module_name(input);
    auto module = compiler::check(std::move(program), diags, check_options);
    auto t2 = clock::now();
    bool errors = report(diags, *module->program, color);
    if (options.stats) {
      std::size_t layers = 0, bytes = 0;
      for (const compiler::ModelGraph& g : module->models) layers += g.layers.size();
      for (std::size_t f = 0; f < module->program->sources.size(); ++f) bytes += module->program->sources.file(f).text.size();
      rusage usage{};
      getrusage(RUSAGE_SELF, &usage);
      fmt::print(stderr, "{}: stats: {} file(s), {} bytes, {} layer(s); load+parse {:.2f} ms, check {:.2f} ms, "
                         "total {:.2f} ms; peak memory {}\n",
                 input, module->program->sources.size(), bytes, layers, ms(t1 - t0), ms(t2 - t1), ms(t2 - t0),
                 compiler::human_bytes(usage.ru_maxrss * 1024.0));  // ru_maxrss is in KiB
    }
    // The syntax tree is shown whenever the file parses, even with semantic errors.
    if (options.emit == "ast") std::fputs(ast_text.c_str(), stdout);
    if (errors) {
      failed = true;
      continue;
    }
    if (options.emit == "ast") continue;
    if (options.emit == "plan") std::fputs(compiler::dump_plans(*module).c_str(), stdout);
    else if (options.emit == "checked") std::fputs(compiler::dump(*module, options.all).c_str(), stdout);
    else if (!options.quiet) fmt::print("{}: ok\n{}", input, summary(*module));
  }
  return failed ? 1 : 0;
}

}  // namespace dlc::tools
