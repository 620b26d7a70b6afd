// Prediction intervals: every simulated step time carries the range that the
// accuracy benchmark's held-out rows of its workload class give
// (tests/validation, docs/validate.md). Method (split conformal prediction,
// Lei et al. 2018, one-sided on each end): for the n held-out rows of a class,
// the ratio measured / predicted of the step time (a rate's error e gives
// 1 + e, a time's 1 / (1 + e)); with k = max(1, ⌊0.1 (n + 1)⌋), the interval
// is [k-th smallest ratio, k-th largest ratio] × the predicted step. For a
// new experiment of the class exchangeable with those rows it holds the
// measured step with probability at least 1 − 2k / (n + 1); `dlc validate`
// reports how often it held for each held-out row with the interval built
// from the others (leave one out). The rows are GPU runs: experiments on
// other devices get no interval.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compiler/plan.hpp"

namespace dlc::simulator {

// The workload classes of the benchmark: "CNN training", "CNN inference",
// "transformer training", "transformer inference" (on one node) and
// "multi-node scaling" (more than one node). "" for a model that is neither a
// CNN nor a transformer (no convolution, no attention).
std::string workload_class(const compiler::Plan& plan);

struct ClassInterval {
  std::string workload_class;
  double low = 1, high = 1;  // ratios measured / predicted of the step time
  int rows = 0;              // held-out rows they come from
};

// The interval of a class from its held-out ratios (the method above).
ClassInterval interval_from(const std::string& workload_class, std::vector<double> ratios);

// The intervals dlc ships, one per class: `dlc validate` recomputes them from
// the data set and --check fails when they differ (simulator/interval.cpp).
std::span<const ClassInterval> shipped_intervals();
const ClassInterval* shipped_interval(const std::string& workload_class);

}  // namespace dlc::simulator
