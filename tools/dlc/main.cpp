// dlc: the command-line front end. It parses flags and calls the libraries;
// nothing else. Exit codes: 0 ok, 1 errors in the user's input, 2 internal
// error. Diagnostics go to stderr, results to stdout.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <fmt/format.h>
#include <unistd.h>

#include "lang/diagnostics.hpp"
#include "runtime/gpu_info.hpp"
#include "tools/dlc/commands.hpp"

namespace dlc::tools {

std::string version_text() {
  runtime::GpuProbe gpus = runtime::probe_gpus();
  std::string gpu = gpus.gpus.empty()
                        ? gpus.reason
                        : fmt::format("{} GPU{} ({})", gpus.gpus.size(), gpus.gpus.size() == 1 ? "" : "s",
                                      gpus.gpus[0].name);
  return fmt::format("dlc {}\nCUDA: {}; {}", DLC_VERSION, gpus.cuda_built ? "built" : "not built", gpu);
}

}  // namespace dlc::tools

namespace {

constexpr const char* kDescription =
    "dlc: a compiler and simulator for deep learning workloads.\n"
    "Describe models, devices, interconnects and clusters in .dlc files; check them,\n"
    "inspect them, simulate them, and run them on this machine.";

// CLI11 lets an option of many values (--set) take every word after it up to
// the next flag, the command's file too (`--set nodes=2 file.dlc --format
// csv` lost the file). One value per occurrence, repeated for more, as
// `--set a=1 --set b=2` is documented.
void one_value_per_occurrence(CLI::App& app) {
  for (CLI::App* command : app.get_subcommands({}))
    for (CLI::Option* option : command->get_options())
      if (option->nonpositional()) option->allow_extra_args(false);
}

// The first --name given to `command` that it does not have, with the closest
// one it has: CLI11 says only that an argument was "not expected" (and names
// the file it then could not place). "" when every --name is known.
std::string unknown_option(const CLI::App& command, int argc, char** argv) {
  std::vector<std::string> known;
  for (const CLI::Option* option : command.get_options())
    for (const std::string& name : option->get_lnames()) known.push_back("--" + name);
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
    std::string name = arg.substr(0, arg.find('='));
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string close = dlc::lang::closest_match(name, known);
    return fmt::format("unknown option '{}' for 'dlc {}'{}", name, command.get_name(),
                       close.empty() ? "" : fmt::format("; did you mean '{}'?", close));
  }
  return "";
}

int run(int argc, char** argv) {
  CLI::App app{kDescription, "dlc"};
  app.set_version_flag("--version", [] { return dlc::tools::version_text(); });  // probes GPUs only when asked
  app.require_subcommand(1);
  app.fallthrough(false);

  dlc::tools::CheckOptions check;
  CLI::App* check_cmd = app.add_subcommand("check", "Parse and check .dlc files (or std modules); print "
                                                    "diagnostics, exit 1 on errors");
  check_cmd->add_option("files", check.inputs, "files to check, or standard-library modules (std, std.models)")
      ->required();
  check_cmd->add_option("--emit", check.emit, "print a stage instead of the summary: ast, checked or plan (the experiments' plans)")
      ->check(CLI::IsMember({"ast", "checked", "plan"}));
  check_cmd->add_flag("--all", check.all, "with --emit=checked: include imported declarations");
  check_cmd->add_flag("-q,--quiet", check.quiet, "print nothing on success");
  check_cmd->add_flag("--stats", check.stats, "print time per stage and peak memory to stderr");
  check_cmd->add_option("--color", check.color, "colour diagnostics: auto, always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  dlc::tools::StatsOptions stats;
  CLI::App* stats_cmd = app.add_subcommand(
      "stats", "Per-layer parameters, multiply-accumulates and memory of a model (a standard-library name such as "
               "ResNet50, or a .dlc file)");
  stats_cmd->add_option("model", stats.target, "a model of the standard library (ResNet50), or a .dlc file")->required();
  stats_cmd->add_option("--model", stats.model, "with a file: the model to report");
  stats_cmd->add_option("--batch", stats.batch, "samples per batch (MACs and activations scale with it)")
      ->check(CLI::Range(1, 1'000'000));
  stats_cmd->add_option("--format", stats.format, "table, json (schema dlc.stats/1) or csv; default: table on a "
                                                  "terminal, json otherwise")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  stats_cmd->add_option("-o,--output", stats.output, "write to FILE (atomically) instead of stdout");
  stats_cmd->add_option("--color", stats.color, "colour diagnostics: auto, always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  dlc::tools::SimulateOptions simulate;
  CLI::App* simulate_cmd = app.add_subcommand(
      "simulate", "Predict how long an experiment takes and how it scales (the analytic models of docs/simulate.md)");
  simulate_cmd->add_option("file", simulate.file, "a .dlc file with experiments")->required();
  simulate_cmd->add_option("--experiment", simulate.experiment, "the experiment to simulate (default: all of the file's)");
  simulate_cmd->add_option("--set", simulate.set, "change a parameter of the model: --set nodes=16 --set network.bandwidth=100Gb/s");
  simulate_cmd->add_option("--scale", simulate.scale, "sweep a parameter: --scale nodes=1,2,4,8");
  simulate_cmd->add_flag("--functional", simulate.functional,
                         "crossbar experiments: run each mapped layer's product through the functional model of the "
                         "chip (quantisation, ADC, noise) and report its error");
  simulate_cmd->add_option("--samples", simulate.samples, "with --functional: random input vectors per layer")
      ->check(CLI::Range(1, 1000));
  simulate_cmd->add_flag("--stats", simulate.stats, "print the time of each stage (check, build the model, evaluate) to stderr");
  simulate_cmd->add_option("--format", simulate.format, "table, json (schema dlc.result/1) or csv; default: table on a "
                                                        "terminal, json otherwise")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  simulate_cmd->add_option("-o,--output", simulate.output, "write to FILE (atomically) instead of stdout");
  simulate_cmd->add_option("--color", simulate.color, "colour diagnostics: auto, always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  dlc::tools::CompareOptions compare;
  CLI::App* compare_cmd = app.add_subcommand(
      "compare", "Two results side by side (predicted and measured, or two predictions): per-layer error, MAPE, "
                 "end-to-end error, the layers that dominate it");
  compare_cmd->add_option("predicted", compare.predicted, "a dlc.result/1 file (dlc simulate --format json)")->required();
  compare_cmd->add_option("measured", compare.measured, "a dlc.result/1 file to compare against")->required();
  compare_cmd->add_option("--format", compare.format, "table, json (schema dlc.comparison/1) or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  compare_cmd->add_option("-o,--output", compare.output, "write to FILE (atomically) instead of stdout");

  dlc::tools::ValidateOptions validate;
  CLI::App* validate_cmd = app.add_subcommand(
      "validate", "Published measurements against dlc's predictions: per-row error, MAPE and bias per split and "
                  "workload class (the accuracy benchmark, tests/validation/)");
  validate_cmd->add_option("dataset", validate.dataset, "a CSV of published figures and the experiments that model "
                                                        "them (tests/validation/rows.csv)")
      ->required();
  validate_cmd->add_option("--check", validate.limits,
                           "a CSV of recorded MAPEs (scope,mape,margin): exit 1 when a scope is worse by more than "
                           "its margin");
  validate_cmd
      ->add_option("--set", validate.set,
                   "change a parameter of the rows' models, in all rows or in those whose framework, device, "
                   "precision or class is SCOPE: --set [SCOPE:]key=value (--set PyTorch:software.dispatch=50us)");
  validate_cmd->add_option("--format", validate.format, "table, json (schema dlc.validation/1) or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  validate_cmd->add_option("-o,--output", validate.output, "write to FILE (atomically) instead of stdout");

  dlc::tools::RunOptions runopt;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "Run an experiment as a real benchmark on this machine (oneDNN on the CPU) and measure each layer; "
             "--check tests every layer against a reference implementation");
  run_cmd->add_option("file", runopt.file, "a .dlc file with experiments");
  run_cmd->add_option("--experiment", runopt.experiment, "the experiment to run (needed when the file has several)");
  run_cmd->add_option("--device", runopt.device, "where to run: cpu")->check(CLI::IsMember({"cpu"}));
  run_cmd->add_option("--warmup", runopt.warmup, "untimed iterations first (default 3)")->check(CLI::Range(0, 100000));
  run_cmd->add_option("--iters", runopt.iters, "timed iterations (default 10)")->check(CLI::Range(1, 1000000));
  run_cmd->add_option("--threads", runopt.threads, "threads (default: every core)")->check(CLI::Range(1, 4096));
  run_cmd->add_option("--max-memory", runopt.max_memory,
                      "refuse runs that need more than this (8GB, 512MiB; default: the RAM available now)");
  run_cmd->add_flag("--check", runopt.check, "run each layer once on small inputs against a plain C++ reference "
                                             "and report the largest error, instead of timing");
  run_cmd->add_flag("--one-device", runopt.one_device,
                    "run one device's share of an experiment whose system has several devices (the exchange "
                    "between them is not run)");
  run_cmd->add_flag("--describe-device", runopt.describe_device,
                    "print a device spec for this machine (cores, vector ISA, clock, measured bandwidth)");
  run_cmd->add_option("--format", runopt.format, "table, json (schema dlc.result/1, \"source\": \"measured\") or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  run_cmd->add_option("-o,--output", runopt.output, "write to FILE (atomically) instead of stdout");
  run_cmd->add_option("--color", runopt.color, "colour diagnostics: auto, always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}));

  dlc::tools::CalibrateOptions calibrate;
  CLI::App* calibrate_cmd = app.add_subcommand(
      "calibrate", "Fit a device's per-op-class efficiencies, memory bandwidth and launch overhead to measured "
                   "runs (least mean absolute relative error: a weighted median per class, a grid search for the "
                   "overhead) and write a device spec");
  calibrate_cmd->add_option("measured", calibrate.measured, "dlc.result/1 files written by dlc run --format json")
      ->required();
  calibrate_cmd->add_option("--device", calibrate.device, "name of the device to write (default: the measured "
                                                          "device's name with _calibrated)");
  calibrate_cmd->add_option("-o,--output", calibrate.output, "the device spec to write (.dlc)")->required();
  calibrate_cmd->add_option("--format", calibrate.format, "how to print the fit: table or json")
      ->check(CLI::IsMember({"table", "json"}));

  dlc::tools::ModelsOptions models;
  CLI::App* models_cmd = app.add_subcommand(
      "models", "The standard library's models: type, parameters, size and forward MACs (the Deep Learning "
                "Cookbook's table, and more)");
  models_cmd->add_option("--format", models.format, "table, json (schema dlc.models/1) or csv; default: table on a "
                                                     "terminal, json otherwise")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  models_cmd->add_option("-o,--output", models.output, "write to FILE (atomically) instead of stdout");

  one_value_per_occurrence(app);

  // An unknown command deserves better than CLI11's "a subcommand is required".
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  if (argc > 1 && argv[1][0] != '-' && std::find(names.begin(), names.end(), argv[1]) == names.end()) {
    std::string close = dlc::lang::closest_match(argv[1], names);
    fmt::print(stderr, "dlc: error: unknown command '{}'{}\nRun 'dlc --help' for the commands.\n", argv[1],
               close.empty() ? "" : fmt::format("; did you mean '{}'?", close));
    return 1;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A misspelt option first: the other errors (a file "not expected" or
    // "required") follow from it.
    const CLI::App* command = argc > 1 && argv[1][0] != '-' ? app.get_subcommand(argv[1]) : nullptr;
    std::string unknown = command ? unknown_option(*command, argc, argv) : "";
    if (!unknown.empty()) {
      fmt::print(stderr, "dlc: error: {}\nRun 'dlc {} --help' for its options.\n", unknown, command->get_name());
      return 1;
    }
    fmt::print(stderr, "dlc: error: {}\nRun 'dlc --help' for the commands and their options.\n", e.what());
    return 1;
  }
  if (check_cmd->parsed()) return dlc::tools::run_check(check);
  if (stats_cmd->parsed()) return dlc::tools::run_stats(stats);
  if (models_cmd->parsed()) return dlc::tools::run_models(models);
  if (simulate_cmd->parsed()) return dlc::tools::run_simulate(simulate);
  if (compare_cmd->parsed()) return dlc::tools::run_compare(compare);
  if (validate_cmd->parsed()) return dlc::tools::run_validate(validate);
  if (run_cmd->parsed()) return dlc::tools::run_run(runopt);
  if (calibrate_cmd->parsed()) return dlc::tools::run_calibrate(calibrate);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "dlc: internal error: {}\nThis is a bug in dlc; please report it with the input.\n", e.what());
    return 2;
  } catch (...) {
    fmt::print(stderr, "dlc: internal error: unknown exception\n");
    return 2;
  }
}
