// Benchmark of the simulator (not a test): lowering an experiment to its
// Plan, building its cost model and evaluating it, best of 20 after a
// warm-up (the first run of a process pays for touching fresh memory, which
// is slow on these machines); then a 1,000-point sweep of the node count.
// Usage: dlc_bench_simulate SPEC.dlc EXPERIMENT   (bench/simulate.sh runs it)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "compiler/checker.hpp"
#include "compiler/plan.hpp"
#include "simulator/simulate.hpp"

using namespace dlc;
using Clock = std::chrono::steady_clock;

static double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: dlc_bench_simulate SPEC.dlc EXPERIMENT\n");
    return 2;
  }
  lang::Diagnostics diags;
  auto module = compiler::compile_file(argv[1], diags);
  const compiler::CheckedDecl* e = module->find_decl(argv[2]);
  if (diags.has_errors() || !e) {
    std::fprintf(stderr, "cannot check %s or find experiment %s\n", argv[1], argv[2]);
    return 1;
  }
  double best = 1e9, best_build = 1e9, best_eval = 1e9;
  std::size_t layers = 0, instructions = 0;
  double iteration = 0;
  for (int run = 0; run < 21; ++run) {
    auto t0 = Clock::now();
    compiler::Plan plan = compiler::lower(*module, *e);
    simulator::Simulation sim;
    std::string error;
    if (!simulator::build(plan, sim, error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    auto t1 = Clock::now();
    compiler::Result r;
    if (!simulator::evaluate(sim, r, error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    auto t2 = Clock::now();
    if (run == 0) continue;  // warm-up
    best = std::min(best, ms(t2 - t0));
    best_build = std::min(best_build, ms(t1 - t0));
    best_eval = std::min(best_eval, ms(t2 - t1));
    layers = plan.ops.size();
    instructions = sim.program.instructions();
    iteration = r.totals.iteration_s;
  }
  std::printf("%s: %zu layers, %zu cost instructions; lower + build %.3f ms, evaluate %.3f ms, total %.3f ms "
              "(best of 20); step %.4f s\n",
              argv[2], layers, instructions, best_build, best_eval, best, iteration);

  // A 1,000-point sweep of the node count: one evaluation per point.
  compiler::Plan plan = compiler::lower(*module, *e);
  simulator::Simulation sim;
  std::string error;
  simulator::build(plan, sim, error);
  if (sim.layout) {  // a hybrid layout is built for its system's device count
    std::printf("(no sweep of the node count: a tensor x pipeline x data layout is fixed to its system)\n");
    return 0;
  }
  std::vector<double> values(sim.params.values().begin(), sim.params.values().end());
  simulator::ParamId nodes = *sim.params.find("nodes");
  auto t0 = Clock::now();
  double sum = 0;
  for (int n = 1; n <= 1000; ++n) {
    values[nodes] = n;
    compiler::Result r;
    if (simulator::evaluate(sim, values, r, error)) sum += r.totals.samples_per_s;
  }
  auto t1 = Clock::now();
  std::printf("sweep of nodes = 1..1000: 1000 points in %.2f ms (%.1f us each, checksum %.6g)\n", ms(t1 - t0),
              ms(t1 - t0) * 1000 / 1000, sum);
  return 0;
}
