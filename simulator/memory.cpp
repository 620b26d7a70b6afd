#include "simulator/memory.hpp"

#include <algorithm>

namespace dlc::simulator {

MemoryCosts memory_costs(const compiler::Plan& plan, const Cost& batch) {
  double params = 0, state = 0, kept = 0, largest_io = 0, largest_out = 0;
  for (const compiler::PlanOp& op : plan.ops) {
    params += static_cast<double>(op.params);
    state += static_cast<double>(op.state);
    kept += static_cast<double>(op.activation_bytes);
    largest_io = std::max(largest_io, static_cast<double>(op.bytes_forward));
    largest_out = std::max(largest_out, static_cast<double>(op.activation_bytes));
  }
  double b = static_cast<double>(plan.element_bytes);
  bool training = plan.phase == "training";
  MemoryCosts m;
  m.weights = plan.precision == "mixed" ? Cost(params * 6 + state * 4) : Cost((params + state) * b);
  m.gradients = training ? Cost(params * b) : Cost(0);
  double moments = plan.optimizer == "momentum" ? 4 : plan.optimizer == "adam" || plan.optimizer == "adamw" ? 8 : 0;
  m.optimizer = training ? Cost(params * moments) : Cost(0);
  m.activations = batch * (training ? kept : largest_io);
  m.workspace = batch * largest_out;
  return m;
}

}  // namespace dlc::simulator
