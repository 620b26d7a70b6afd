#include "simulator/memory.hpp"

#include <algorithm>

namespace dlc::simulator {

std::vector<bool> shared_with_inplace(const compiler::Plan& plan) {
  std::size_t n = plan.ops.size();
  std::vector<int> consumers(n, 0);
  for (const compiler::PlanOp& op : plan.ops)
    for (int i : op.inputs) ++consumers[static_cast<std::size_t>(i)];
  std::vector<bool> shared(n, false);
  for (const compiler::PlanOp& op : plan.ops) {
    if (op.op != "relu" || op.inputs.size() != 1) continue;
    auto src = static_cast<std::size_t>(op.inputs[0]);
    if (consumers[src] == 1 && plan.ops[src].op_class != compiler::OpClass::input) shared[src] = true;
  }
  return shared;
}

double update_traffic(const compiler::Plan& plan) {
  double b = static_cast<double>(plan.element_bytes);
  double base = plan.precision == "mixed" ? 4 + 4 + 2 + 2 : 3 * b;
  if (plan.optimizer == "momentum") return base + 2 * 4;
  if (plan.optimizer == "adam" || plan.optimizer == "adamw") return base + 4 * 4;
  return base;
}

MemoryCosts memory_costs(const compiler::Plan& plan, const Cost& batch) {
  return memory_costs(plan, batch, std::vector<bool>(plan.ops.size(), false), Cost(1));
}

MemoryCosts memory_costs(const compiler::Plan& plan, const Cost& batch, const std::vector<bool>& split,
                         const Cost& ways, const std::vector<double>& sharded) {
  double whole = 0, spread = 0, state = 0, kept = 0, kept_sharded = 0, largest_io = 0, largest_out = 0;
  std::vector<bool> shared = shared_with_inplace(plan);
  for (std::size_t i = 0; i < plan.ops.size(); ++i) {
    const compiler::PlanOp& op = plan.ops[i];
    (split[i] ? spread : whole) += static_cast<double>(op.params);
    state += static_cast<double>(op.state);
    double own = static_cast<double>((shared[i] ? 0 : op.activation_bytes) + op.internal_activation_bytes);
    double part = i < sharded.size() ? sharded[i] : 0;
    kept += own - part;
    kept_sharded += part;
    largest_io = std::max(largest_io, static_cast<double>(op.bytes_forward));
    largest_out = std::max(largest_out, static_cast<double>(op.activation_bytes));
  }
  double b = static_cast<double>(plan.element_bytes);
  bool training = plan.phase == "training";
  Cost params = spread > 0 ? Cost(whole) + Cost(spread) / ways : Cost(whole);  // per device
  MemoryCosts m;
  m.weights = plan.precision == "mixed" ? params * 6 + Cost(state * 4) : (params + Cost(state)) * b;
  m.gradients = training ? params * b : Cost(0);
  double moments = plan.optimizer == "momentum" ? 4 : plan.optimizer == "adam" || plan.optimizer == "adamw" ? 8 : 0;
  m.optimizer = training ? params * moments : Cost(0);
  Cost stored = kept_sharded > 0 ? Cost(kept) + Cost(kept_sharded) / ways : Cost(kept);
  m.activations = training ? batch * stored : batch * largest_io;
  m.workspace = batch * largest_out;
  return m;
}

}  // namespace dlc::simulator
