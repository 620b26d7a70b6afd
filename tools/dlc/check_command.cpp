// dlc check: load, parse and check each input separately; print diagnostics
// (stderr) and a one-line summary or a stage dump (stdout).
#include <cstdio>
#include <filesystem>
#include <map>
#include <fmt/format.h>
#include <unistd.h>

#include "compiler/checker.hpp"
#include "runtime/gpu_info.hpp"
#include "tools/dlc/commands.hpp"

namespace dlc::tools {

namespace {

bool use_color(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  return isatty(fileno(stderr)) && !std::getenv("NO_COLOR");
}

// "std" and "std.models" name standard-library modules; anything else is a path.
bool is_module_name(const std::string& s) {
  if (std::filesystem::exists(s)) return false;
  return s == "std" || s.starts_with("std.");
}

std::string human_count(std::int64_t n) {
  if (n >= 1'000'000'000) return fmt::format("{:.2f}G", n / 1e9);
  if (n >= 1'000'000) return fmt::format("{:.2f}M", n / 1e6);
  if (n >= 10'000) return fmt::format("{:.1f}K", n / 1e3);
  return std::to_string(n);
}

std::string summary(const compiler::CheckedModule& m) {
  std::vector<std::string> parts;
  for (const compiler::ModelGraph& g : m.models) {
    std::int64_t params = 0, macs = 0;
    for (const compiler::Layer& l : g.layers) {
      params += l.params + l.state;
      macs += l.macs_forward;
    }
    parts.push_back(fmt::format("{} ({} layers, {} params, {} MACs)", g.name, g.layers.size(), human_count(params),
                                human_count(macs)));
  }
  std::map<std::string, int> kinds;
  for (const compiler::CheckedDecl& d : m.decls) ++kinds[lang::ast::decl_kind_name(d.kind)];
  std::string text = fmt::format("{} model{}", m.models.size(), m.models.size() == 1 ? "" : "s");
  for (const auto& [k, n] : kinds) text += fmt::format(", {} {}{}", n, k, n == 1 ? "" : "s");
  std::string out = text + "\n";
  for (const std::string& p : parts) out += "  " + p + "\n";
  return out;
}

}  // namespace

std::string version_text() {
  runtime::GpuProbe gpus = runtime::probe_gpus();
  std::string gpu = gpus.gpus.empty()
                        ? gpus.reason
                        : fmt::format("{} GPU{} ({})", gpus.gpus.size(), gpus.gpus.size() == 1 ? "" : "s",
                                      gpus.gpus[0].name);
  return fmt::format("dlc {}\nCUDA: {}; {}", DLC_VERSION, gpus.cuda_built ? "built" : "not built", gpu);
}

int run_check(const CheckOptions& options) {
  bool color = use_color(options.color);
  bool failed = false;
  for (const std::string& input : options.inputs) {
    lang::Diagnostics diags;
    auto program = std::make_unique<compiler::Program>();
    if (is_module_name(input)) {
      if (input == "std") {
        for (const std::string& m : compiler::standard_modules()) compiler::load_module(*program, m, diags);
      } else {
        compiler::load_module(*program, input, diags);
      }
    } else {
      compiler::load_file(*program, input, diags);
    }
    std::string ast_text;
    if (options.emit == "ast" && !program->files.empty() && program->syntax_ok)
      ast_text = lang::ast::dump(program->files.front());
    auto module = compiler::check(std::move(program), diags);
    diags.finalize();
    std::fputs(diags.render(module->program->sources, color).c_str(), stderr);
    if (diags.has_errors()) {
      failed = true;
      continue;
    }
    if (options.emit == "ast") std::fputs(ast_text.c_str(), stdout);
    else if (options.emit == "checked") std::fputs(compiler::dump(*module, options.all).c_str(), stdout);
    else if (!options.quiet) fmt::print("{}: ok, {}", input, summary(*module));
  }
  return failed ? 1 : 0;
}

}  // namespace dlc::tools
