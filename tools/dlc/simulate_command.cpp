// dlc simulate FILE: the analytic prediction of a file's experiments. One
// experiment prints its per-layer table and totals; several print one row
// each; --set changes a parameter of the cost model, --scale sweeps one.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <optional>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "compiler/checker.hpp"
#include "compiler/plan.hpp"
#include "compiler/result.hpp"
#include "simulator/crossbar.hpp"
#include "simulator/maxcut.hpp"
#include "simulator/simulate.hpp"
#include "tools/dlc/commands.hpp"
#include "tools/dlc/frontend.hpp"

namespace dlc::tools {

namespace {

using simulator::Params;
using simulator::Simulation;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    std::size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// A Hopfield experiment: its graph (generated, or read from its file) and
// its trials on the crossbar chip. A failure's message names the graph
// file's line where it has one.
std::optional<compiler::Result> hopfield(const compiler::Plan& plan, std::string& error) {
  const compiler::PlanHopfield& h = *plan.hopfield;
  std::string text;
  if (h.graph == "file") {
    std::ifstream in(h.path, std::ios::binary);
    if (h.path.empty() || !in) {
      error = fmt::format("cannot read the graph file '{}'", h.path);
      return std::nullopt;
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  simulator::Graph graph;
  int line = 0;
  if (!simulator::experiment_graph(h, text, graph, error, line)) {
    if (line > 0) error = fmt::format("{}:{}: {}", h.path, line, error);
    return std::nullopt;
  }
  compiler::Result r;
  if (!simulator::run_hopfield(plan, graph, r, error)) return std::nullopt;
  return r;
}

}  // namespace

int run_simulate(const SimulateOptions& o) {
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  auto t0 = clock::now();
  clock::duration building{}, evaluating{};
  std::size_t evaluations = 0;
  bool color = use_color(o.color);
  lang::Diagnostics diags;
  auto module = compiler::check(load_input(o.file, diags), diags);
  auto t1 = clock::now();
  if (report(diags, *module->program, color)) return 1;

  std::vector<std::string> names;
  auto experiments = select_experiments(*module, o.file, o.experiment, "simulate", names);
  if (experiments.empty()) return 1;
  if (!o.scale.empty() && experiments.size() > 1) {
    fmt::print(stderr, "dlc: error: --scale sweeps one experiment; choose one with --experiment ({})\n",
               fmt::join(names, ", "));
    return 1;
  }

  std::vector<compiler::ExperimentOutcome> outcomes;
  std::vector<compiler::ScalePoint> points;
  std::string scale_key;
  // An experiment that cannot be simulated is reported at its name and kept,
  // with its error, among the records; the others of the file are still
  // simulated and shown.
  lang::Diagnostics failures;
  for (const compiler::CheckedDecl* e : experiments) {
    compiler::Plan plan = compiler::lower(*module, *e);
    compiler::ExperimentOutcome& outcome = outcomes.emplace_back();
    outcome.experiment = plan.experiment;
    outcome.model = plan.model;
    outcome.system = plan.system.name;
    auto fail = [&](std::string message) {
      failures.error(e->decl->name.range, message);
      outcome.error = std::move(message);
    };
    Simulation sim;
    std::string error;
    if (plan.hopfield) {
      if (!o.set.empty() || !o.scale.empty()) {
        fmt::print(stderr, "dlc: error: --set and --scale change a cost model's parameters; the hopfield experiment "
                           "'{}' has none\n", plan.experiment);
        return 1;
      }
      outcome.result = hopfield(plan, error);
      if (!outcome.result) fail(error);
      continue;
    }
    auto b0 = clock::now();
    if (!simulator::build(plan, sim, error)) {
      fail(error);
      continue;
    }
    building += clock::now() - b0;
    for (const std::string& assignment : o.set) {
      std::size_t eq = assignment.find('=');
      if (eq == std::string::npos || !set_parameter(sim.params, assignment.substr(0, eq), assignment.substr(eq + 1), error)) {
        fmt::print(stderr, "dlc: error: --set {}: {}\n", assignment, eq == std::string::npos ? "expected key=value" : error);
        return 1;
      }
    }
    if (!o.scale.empty()) {
      std::size_t eq = o.scale.find('=');
      if (eq == std::string::npos) {
        fmt::print(stderr, "dlc: error: --scale {}: expected key=v1,v2,...\n", o.scale);
        return 1;
      }
      scale_key = o.scale.substr(0, eq);
      std::vector<double> base(sim.params.values().begin(), sim.params.values().end());
      for (const std::string& value : split(o.scale.substr(eq + 1), ',')) {
        if (!set_parameter(sim.params, scale_key, value, error)) {
          fmt::print(stderr, "dlc: error: --scale {}: {}\n", o.scale, error);
          return 1;
        }
        std::vector<double> point(sim.params.values().begin(), sim.params.values().end());
        for (std::size_t i = 0; i < base.size(); ++i) sim.params.set(static_cast<simulator::ParamId>(i), base[i]);
        compiler::ScalePoint sp;
        sp.value = value;
        sp.devices = sim.devices.evaluate(point);
        compiler::Result r;
        auto e0 = clock::now();
        if (sim.layout && (scale_key == "nodes" || scale_key == "devices_per_node")) {
          // A tensor x pipeline x data layout is built for its device count: each point is
          // built anew, the data-parallel degree following the devices.
          compiler::Plan at = plan;
          auto count = std::llround(point[*sim.params.find(scale_key)]);
          (scale_key == "nodes" ? at.system.nodes : at.system.devices_per_node) = count;
          at.parallel_args.erase("data");
          sp.devices = static_cast<double>(at.system.devices());
          Simulation rebuilt;
          bool ok = simulator::build(at, rebuilt, sp.error);
          for (const std::string& assignment : o.set) {
            std::size_t eq = assignment.find('=');
            ok = ok && set_parameter(rebuilt.params, assignment.substr(0, eq), assignment.substr(eq + 1), sp.error);
          }
          if (ok && simulator::evaluate(rebuilt, rebuilt.params.values(), r, sp.error)) sp.result = std::move(r);
        } else if (simulator::evaluate(sim, point, r, sp.error)) {
          sp.result = std::move(r);
        }
        evaluating += clock::now() - e0;
        ++evaluations;
        points.push_back(std::move(sp));
      }
      continue;
    }
    compiler::Result r;
    auto e0 = clock::now();
    bool ok = simulator::evaluate(sim, r, error);
    evaluating += clock::now() - e0;
    ++evaluations;
    if (ok && o.functional) {
      if (!plan.system.crossbar) {
        fail(fmt::format("--functional: '{}' runs on '{}', which is not a crossbar chip", plan.experiment,
                         plan.system.name));
        continue;
      }
      simulator::FunctionalOptions fo;
      fo.samples = o.samples;
      fo.seed = plan.system.crossbar->seed;
      compiler::Plan at = plan;  // the chip as --set leaves it
      at.system.crossbar = simulator::crossbar_at(sim, sim.params.values());
      ok = simulator::functional_errors(at, fo, r, error);
    }
    if (!ok) {
      fail(error);
      continue;
    }
    outcome.result = std::move(r);
  }
  bool failed = report(failures, *module->program, color);
  std::string format = o.format.empty() ? default_format(o.output) : o.format;
  bool any = std::any_of(outcomes.begin(), outcomes.end(), [](const auto& x) { return x.result.has_value(); });
  // Nothing to show, except the records of several failed experiments to a script.
  bool records = outcomes.size() > 1 && format != "table";
  if (!any && points.empty() && !records) return 1;

  if (o.stats)
    fmt::print(stderr, "{}: stats: load+check {:.2f} ms, build the cost model {:.3f} ms, {} evaluation(s) {:.3f} ms "
                       "({:.4f} ms each)\n",
               o.file, ms(t1 - t0), ms(building), evaluations, ms(evaluating),
               evaluations ? ms(evaluating) / static_cast<double>(evaluations) : 0.0);
  std::string text;
  if (!points.empty()) {
    text = format == "json" ? compiler::scale_json(scale_key, points)
           : format == "csv" ? compiler::scale_csv(scale_key, points)
                             : fmt::format("{}: {} swept\n\n{}", experiments.front()->name, scale_key,
                                           compiler::scale_table(scale_key, points));
  } else if (outcomes.size() == 1) {
    const compiler::Result& r = *outcomes.front().result;
    text = format == "json"  ? compiler::result_json(r)
           : format == "csv" ? compiler::result_csv(r)
                             : compiler::result_table(r);
  } else {
    text = format == "json" ? compiler::results_json(outcomes)
           : format == "csv" ? compiler::results_csv(outcomes)
                             : compiler::results_summary_table(outcomes);
  }
  int written = write_result(text, o.output);
  return failed ? 1 : written;
}

}  // namespace dlc::tools
