#include "simulator/interval.hpp"

#include <algorithm>
#include <cmath>

namespace dlc::simulator {

std::string workload_class(const compiler::Plan& plan) {
  bool attention = false, conv = false;
  for (const compiler::PlanOp& op : plan.ops) {
    attention = attention || op.op_class == compiler::OpClass::attention;
    conv = conv || op.op_class == compiler::OpClass::conv;
  }
  if (!attention && !conv) return "";
  if (plan.system.nodes > 1) return "multi-node scaling";
  return std::string(attention ? "transformer " : "CNN ") + (plan.phase == "inference" ? "inference" : "training");
}

ClassInterval interval_from(const std::string& workload_class, std::vector<double> ratios) {
  ClassInterval c{workload_class, 1, 1, static_cast<int>(ratios.size())};
  if (ratios.empty()) return c;
  std::sort(ratios.begin(), ratios.end());
  std::size_t n = ratios.size();
  std::size_t k = std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(0.1 * static_cast<double>(n + 1))));
  k = std::min(k, n);
  c.low = ratios[k - 1];
  c.high = ratios[n - k];
  return c;
}

namespace {

// Generated from tests/validation/rows.csv by `dlc validate` (its "intervals"
// table); the `cli/validate` test fails when these differ from it.
const ClassInterval kShipped[] = {
    {"CNN inference", 0.870887, 0.936361, 3},
    {"CNN training", 1.00354, 1.14695, 6},
    {"multi-node scaling", 0.899101, 1.14142, 22},
    {"transformer inference", 0.862259, 1.28949, 5},
    {"transformer training", 0.661663, 1.10466, 5},
};

}  // namespace

std::span<const ClassInterval> shipped_intervals() { return kShipped; }

const ClassInterval* shipped_interval(const std::string& workload_class) {
  for (const ClassInterval& c : kShipped)
    if (c.workload_class == workload_class) return &c;
  return nullptr;
}

}  // namespace dlc::simulator
