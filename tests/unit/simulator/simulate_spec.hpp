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
