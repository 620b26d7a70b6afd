// dlc simulate --functional: a model's layers through the functional model
// of its crossbar chip (simulator/crossbar_functional.hpp).
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <random>
#include <stdexcept>

#include "simulator/crossbar.hpp"
#include "simulator/crossbar_functional.hpp"

namespace dlc::simulator {

namespace {

constexpr double kMaxArrays = 1 << 20;

// Uniform in [-1, 1] from the generator's bits (the same on every toolchain).
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-52 - 1.0; }

}  // namespace

bool functional_errors(const compiler::Plan& plan, const FunctionalOptions& o, compiler::Result& r,
                       std::string& error) {
  if (!plan.system.crossbar) {
    error = "--functional needs an experiment on a crossbar chip";
    return false;
  }
  const compiler::Crossbar& xbar = *plan.system.crossbar;
  std::mt19937_64 rng(o.seed);
  for (const compiler::PlanOp& op : plan.ops) {
    std::vector<LayerMatrix> ms = layer_matrices(op);
    if (ms.empty()) continue;
    auto k = static_cast<std::int64_t>(ms.front().k);
    auto n = std::min(static_cast<std::int64_t>(ms.front().n), o.max_outputs);
    // Each array is held cell by cell: keep the model's memory bounded.
    double sign = xbar.signed_weights == "differential" ? 2 : 1;
    double arrays = std::ceil(static_cast<double>(k) / static_cast<double>(xbar.rows)) *
                    std::ceil(static_cast<double>(n * xbar.cells_per_weight()) * sign / static_cast<double>(xbar.cols));
    if (arrays > kMaxArrays) {
      error = fmt::format("--functional: layer '{}' would take {:.3g} arrays of {} x {}; the functional model holds up "
                          "to {} per layer",
                          op.name, arrays, xbar.rows, xbar.cols, static_cast<std::int64_t>(kMaxArrays));
      return false;
    }
    std::vector<double> w(static_cast<std::size_t>(k * n)), computed, exact;
    for (double& v : w) v = uniform(rng);
    MvmStats stats;
    try {
      RealCrossbarMatrix m = RealCrossbarMatrix::program(xbar, k, n, w, rng);
      for (int s = 0; s < o.samples; ++s) {
        std::vector<double> x(static_cast<std::size_t>(k));
        for (double& v : x) v = uniform(rng);
        std::vector<double> y = m.mvm(x, rng, &stats), e = exact_mvm(k, n, w, x);
        computed.insert(computed.end(), y.begin(), y.end());
        exact.insert(exact.end(), e.begin(), e.end());
      }
    } catch (const std::invalid_argument& e) {
      error = e.what();
      return false;
    }
    MvmError err = compare(computed, exact, stats);
    double power = 0;
    for (double v : exact) power += v * v;
    double rms_exact = std::sqrt(power / static_cast<double>(exact.size()));
    compiler::FunctionalLayer l;
    l.name = op.name;
    l.op = op.op;
    l.inputs = k;
    l.outputs = n;
    l.samples = o.samples;
    l.max_abs = err.max_abs;
    l.rms = err.rms;
    l.deviation = rms_exact > 0 ? err.rms / rms_exact : 0;
    l.enob = err.enob;
    l.exact = err.exact;
    l.saturations = err.saturations;
    r.functional.push_back(l);
  }
  return true;
}

}  // namespace dlc::simulator
