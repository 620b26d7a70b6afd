#include "simulator/maxcut.hpp"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

#include "simulator/crossbar_functional.hpp"
#include "simulator/simulate.hpp"

namespace dlc::simulator {

using compiler::Plan;
using compiler::PlanHopfield;

namespace {
constexpr double kMaxEdges = 2e7;
// W is programmed densely, n x n, when the field goes through the functional model.
constexpr std::int64_t kMaxDenseNodes = 4096;
constexpr double kMaxWork = 2e10;
}  // namespace

bool experiment_graph(const PlanHopfield& h, const std::string& text, Graph& out, std::string& error,
                      int& error_line) {
  error_line = 0;
  if (h.graph == "file") return parse_edge_list(text, out, error, error_line);
  if (h.nodes < 2) {
    error = "random(...) needs nodes = N (at least 2)";
    return false;
  }
  // Kept to what fits in memory with room to spare (an edge is 16 bytes).
  double expected_edges = h.density * static_cast<double>(h.nodes) * static_cast<double>(h.nodes - 1) / 2;
  if (expected_edges > kMaxEdges) {
    error = fmt::format("random(nodes = {}, density = {:g}) has about {:.3g} edges; dlc keeps graphs to {:g}",
                        h.nodes, h.density, expected_edges, kMaxEdges);
    return false;
  }
  out = random_graph(static_cast<int>(h.nodes), h.density, h.graph_seed, h.weighted);
  return true;
}

namespace {

// What one update costs on the chip: the cost model of W as one n x n layer.
bool update_cost(const Plan& plan, std::int64_t n, double& seconds, double& joules, double& arrays,
                 std::string& error) {
  Plan p;
  p.experiment = plan.experiment;
  p.model = "hopfield";
  p.phase = "inference";
  p.precision = plan.precision;
  p.element_bytes = plan.element_bytes;
  p.system = plan.system;
  compiler::PlanOp input;
  input.name = "s";
  input.op = "input";
  input.output = {n};
  compiler::PlanOp w;
  w.name = "W";
  w.op = "fc";
  w.op_class = compiler::OpClass::matmul;
  w.def = compiler::find_op("fc");
  w.output = {n};
  w.inputs = {0};
  w.params = n * n;
  w.macs_forward = n * n;
  w.args.tensors = {compiler::TensorInfo{{n}, compiler::DType::f32}};
  p.ops = {input, w};
  Simulation sim;
  compiler::Result r;
  if (!build(p, sim, error) || !evaluate(sim, r, error)) return false;
  seconds = r.crossbar->latency_s;
  joules = r.crossbar->energy_j;
  arrays = r.crossbar->arrays_needed;
  return true;
}

HopfieldOptions options(const PlanHopfield& h, std::optional<double> optimum) {
  HopfieldOptions o;
  o.trials = static_cast<int>(h.trials);
  o.sweeps = static_cast<int>(h.sweeps);
  o.noise_start = h.noise_start;
  o.noise_end = h.noise_end;
  o.schedule = h.schedule == "exponential" ? HopfieldOptions::Schedule::exponential
               : h.schedule == "constant"  ? HopfieldOptions::Schedule::constant
                                           : HopfieldOptions::Schedule::linear;
  o.seed = h.seed;
  o.optimum = optimum;
  return o;
}

}  // namespace

bool run_hopfield(const Plan& plan, const Graph& graph, compiler::Result& out, std::string& error) {
  if (!plan.hopfield || !plan.system.crossbar) {
    error = fmt::format("a hopfield experiment runs on a crossbar chip; '{}' is a {}", plan.system.name,
                        plan.system.kind);
    return false;
  }
  const PlanHopfield& h = *plan.hopfield;
  // A spin is ±1: two bits of signed input, so a product takes
  // ⌈2 / dac_bits⌉ reads whatever the chip's input width (16 bits on ISAAC).
  compiler::Plan chip = plan;
  chip.system.crossbar->input_bits = 2;
  const compiler::Crossbar& xbar = *chip.system.crossbar;
  if (h.schedule == "exponential" && (h.noise_start > 0) != (h.noise_end > 0)) {
    error = "an exponential schedule needs noise_start and noise_end both above 0 (or both 0)";
    return false;
  }
  const std::int64_t n = graph.nodes;
  // Every update reads a field of n terms, twice over (annealed and
  // noise-free): refuse what would run for hours rather than seem to hang.
  double work = 2.0 * static_cast<double>(h.trials) * static_cast<double>(h.sweeps) * static_cast<double>(n) *
                static_cast<double>(n);
  if (work > kMaxWork) {
    error = fmt::format("{} trials of {} sweeps over {} nodes is about {:.2g} multiply-adds; dlc runs up to {:g} "
                        "(fewer trials or sweeps)",
                        h.trials, h.sweeps, n, work, kMaxWork);
    return false;
  }
  compiler::HopfieldReport rep;
  rep.graph = h.graph == "file" ? h.path_written
                                : fmt::format("random({} nodes, density {:g}, seed {}{})", h.nodes, h.density,
                                              h.graph_seed, h.weighted ? ", weighted" : "");
  rep.nodes = n;
  rep.edges = static_cast<std::int64_t>(graph.edges.size());
  rep.trials = h.trials;
  rep.sweeps = h.sweeps;
  rep.noise_start = h.noise_start;
  rep.noise_end = h.noise_end;
  rep.schedule = h.schedule;
  if (h.optimum) {
    rep.optimum = h.optimum;
    rep.optimum_source = "given";
  } else if (n <= 24) {
    rep.optimum = brute_force_max_cut(graph).value;
    rep.optimum_source = "brute force";
  }
  if (!update_cost(chip, n, rep.update_s, rep.update_j, rep.arrays, error)) return false;

  // The local field from the arrays. An ideal chip whose ADC is wide enough
  // computes it exactly (the functional model is bit-exact there), so the
  // plain sum stands in for it; otherwise every read goes through the model.
  Field field = exact_field(graph);
  std::int64_t needed = compiler::adc_bits_required(xbar.rows, xbar.dac_bits, xbar.cell_bits, xbar.flip_encoding);
  bool ideal = xbar.programming_variation == 0 && xbar.read_noise == 0 && xbar.stuck_at == 0 &&
               xbar.wire_resistance == 0 && xbar.adc_bits >= needed;
  std::shared_ptr<RealCrossbarMatrix> matrix;
  if (!ideal && n > kMaxDenseNodes) {
    error = fmt::format("a graph of {} nodes on a chip with non-idealities: the functional model programs W densely, "
                        "up to {} nodes",
                        n, kMaxDenseNodes);
    return false;
  }
  if (!ideal) {
    std::mt19937_64 rng(xbar.seed);
    std::vector<double> w = hopfield_weights(graph);
    try {
      matrix = std::make_shared<RealCrossbarMatrix>(RealCrossbarMatrix::program(xbar, n, n, w, rng));
    } catch (const std::invalid_argument& e) {
      error = e.what();
      return false;
    }
    field = [matrix](int i, std::span<const std::int8_t> s, std::mt19937_64& rng) {
      std::vector<double> x(s.begin(), s.end());
      return matrix->mvm_one(x, i, rng);
    };
  }
  HopfieldRun annealed, quiet;
  try {
    annealed = solve(graph, options(h, rep.optimum), field);
    HopfieldOptions still = options(h, rep.optimum);
    still.noise_start = still.noise_end = 0;
    still.schedule = HopfieldOptions::Schedule::constant;
    quiet = solve(graph, still, field);
  } catch (const std::invalid_argument& e) {
    error = e.what();
    return false;
  }
  rep.best_cut = annealed.best_cut;
  for (const HopfieldTrial& t : annealed.trials) rep.mean_cut += t.final_cut / static_cast<double>(h.trials);
  rep.success_rate = annealed.success_rate;
  rep.success_rate_noise_free = quiet.success_rate;
  rep.mean_updates_to_solution = annealed.mean_updates_to_solution;
  if (!annealed.energy_traces.empty()) rep.energy_trace = annealed.energy_traces.front();
  if (rep.success_rate) {
    ToSolution tts = to_solution_99(annealed, rep.update_s, rep.update_j);
    if (std::isfinite(tts.seconds)) {
      rep.time_to_solution_s = tts.seconds;
      rep.energy_to_solution_j = tts.joules;
    }
  }

  out = compiler::Result{};
  out.experiment = plan.experiment;
  out.model = "hopfield";
  out.system = plan.system.name;
  out.device = plan.system.name;
  out.phase = "inference";
  out.precision = plan.precision;
  out.batch = 1;
  double trial_s = rep.update_s * static_cast<double>(annealed.updates_per_trial);
  out.totals.iteration_s = trial_s;
  out.totals.compute_s = trial_s;
  out.totals.samples_per_s = trial_s > 0 ? 1 / trial_s : 0;
  out.energy_per_sample_j = rep.update_j * static_cast<double>(annealed.updates_per_trial);
  out.hopfield = std::move(rep);
  return true;
}

}  // namespace dlc::simulator
