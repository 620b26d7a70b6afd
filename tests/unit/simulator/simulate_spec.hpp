// Simulating a spec written inline in a test: its (last) experiment, built
// and evaluated. `ok` is false with the simulator's message when either
// step refuses the experiment.
#pragma once

#include <doctest/doctest.h>
#include <string>

#include "compiler/checker.hpp"
#include "compiler/plan.hpp"
#include "simulator/simulate.hpp"

namespace dlc::test {

// A device that is compute-bound on the fc layers below (10 TFLOPS, 1 PB/s,
// no launch overhead), links without latency, and a model of n units of one
// 1024 -> 1024 fc without bias: 1,048,576 MACs and parameters each,
// 4,096 B of output per sample in fp32.
inline constexpr const char* kUnitsSpec = R"(
device D {
  kind = gpu; peak { fp32 = 10 TFLOPS } memory = 80 GB; memory_bandwidth = 1000 TB/s
  efficiency { matmul = 1; memory = 1 } launch_overhead = 0 s
}
link L { bandwidth = 10 GB/s; latency = 0 s }
link Net { bandwidth = 5 GB/s; latency = 2 us }
node Duo { devices = 2 * D; link = L }
node Quad { devices = 4 * D; link = L }
node Box { devices = 8 * D; link = L; network = Net }
cluster Pair { nodes = 2 * Box; network = Net }
block unit(x) { return fc(x, 1024, bias = false) }
model Units(n = 4) {
  input x: f32[1024]
  repeat layer in 1..=n { x = unit(x, name = "") }
  output x
}
)";

struct SpecRun {
  compiler::Result result;
  std::string error;
  bool ok = false;
};

inline SpecRun simulate_spec(const std::string& text) {
  lang::Diagnostics diags;
  auto module = compiler::compile_text("spec.dlc", text, diags);
  REQUIRE_FALSE(diags.has_errors());
  const compiler::CheckedDecl* e = nullptr;
  for (const compiler::CheckedDecl& d : module->decls)
    if (d.kind == lang::ast::DeclKind::experiment) e = &d;
  REQUIRE(e);
  compiler::Plan plan = compiler::lower(*module, *e);
  simulator::Simulation sim;
  SpecRun run;
  if (simulator::build(plan, sim, run.error)) run.ok = simulator::evaluate(sim, run.result, run.error);
  return run;
}

}  // namespace dlc::test
