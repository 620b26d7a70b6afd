// dlc stats MODEL|FILE and dlc models: what a network costs, layer by layer,
// and the standard library's catalog (the Deep Learning Cookbook's table).
#include <filesystem>
#include <fmt/format.h>

#include "compiler/checker.hpp"
#include "compiler/stats.hpp"
#include "tools/dlc/commands.hpp"
#include "tools/dlc/frontend.hpp"

namespace dlc::tools {

namespace {

// A spec file, as opposed to the name of a library model: a folder called
// ResNet50 next to you does not hide the model.
bool is_file(const std::string& target) {
  return target.ends_with(".dlc") || target.find('/') != std::string::npos ||
         std::filesystem::is_regular_file(target);
}

// The model to report from a file: --model, or the only one the file declares.
const compiler::ModelGraph* pick_model(const compiler::CheckedModule& m, const std::string& file,
                                       const std::string& wanted) {
  if (!wanted.empty()) return m.find_model(wanted);
  std::vector<const compiler::ModelGraph*> mine;  // declared by the file, or used by its experiments
  for (const compiler::ModelGraph& g : m.models)
    if (g.origin && m.program->is_root(g.origin->name.range.file)) mine.push_back(&g);
  if (mine.size() == 1) return mine.front();
  if (mine.empty()) {
    fmt::print(stderr, "dlc: error: {} declares no model that can be built without arguments\n", file);
  } else {
    std::string names;
    for (const compiler::ModelGraph* g : mine) names += (names.empty() ? "" : ", ") + g->name;
    fmt::print(stderr, "dlc: error: {} declares {} models ({}); choose one with --model NAME\n", file, mine.size(), names);
  }
  return nullptr;
}

}  // namespace

int run_stats(const StatsOptions& options) {
  bool color = use_color(options.color);
  lang::Diagnostics diags;
  bool from_file = is_file(options.target);
  std::string model_name = from_file ? options.model : options.target;
  if (!from_file && !options.model.empty()) {
    fmt::print(stderr, "dlc: error: --model selects a model of a file; '{}' already names one\n", options.target);
    return 1;
  }
  auto program = from_file ? load_input(options.target, diags) : load_input("std.models", diags);
  compiler::CheckOptions check_options;
  if (!model_name.empty()) check_options.models.push_back(model_name);
  auto module = compiler::check(std::move(program), diags, check_options);
  if (report(diags, *module->program, color)) return 1;
  const compiler::ModelGraph* graph = pick_model(*module, options.target, model_name);
  if (!graph) return 1;
  compiler::ModelStats stats;
  if (!compiler::compute_stats(*graph, options.batch, stats)) {
    fmt::print(stderr, "dlc: error: the figures of {} at batch {} do not fit in 64 bits; use a smaller batch\n",
               graph->name, options.batch);
    return 1;
  }
  std::string format = options.format.empty() ? default_format(options.output) : options.format;
  std::string text = format == "json"  ? compiler::stats_json(stats)
                     : format == "csv" ? compiler::stats_csv(stats)
                                       : compiler::stats_table(stats);
  return write_result(text, options.output);
}

int run_models(const ModelsOptions& options) {
  lang::Diagnostics diags;
  auto program = load_input("std.models", diags);
  compiler::CheckOptions check_options;
  check_options.models = compiler::catalog_names(*program);
  auto module = compiler::check(std::move(program), diags, check_options);
  if (report(diags, *module->program, use_color("auto"))) return 2;  // the library itself is broken: our bug
  std::vector<compiler::CatalogEntry> entries = compiler::catalog(*module);
  std::string format = options.format.empty() ? default_format(options.output) : options.format;
  std::string text = format == "json"  ? compiler::catalog_json(entries)
                     : format == "csv" ? compiler::catalog_csv(entries)
                                       : compiler::catalog_table(entries);
  return write_result(text, options.output);
}

}  // namespace dlc::tools
