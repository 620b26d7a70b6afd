// Memory per device during an experiment, with b the precision's element
// size and B the batch per device:
//
//   weights      (params + state) · b; with mixed precision an fp16 copy and
//                an fp32 master copy of the trainable ones: params · 6 + state · 4
//   gradients    params · b                          (training)
//   optimizer    sgd 0, momentum params · 4, adam and adamw params · 8 (fp32 moments)
//   activations  training: every op's output is kept for backward,
//                Σ outputs · b · B; inference: the largest op's inputs and
//                output, max (inputs + output) · b · B
//   workspace    one more buffer of the largest output, max output · b · B
//
// With model parallelism the layers split across the devices (`split`, one
// flag per op) hold 1/ways of their params, gradients and optimizer state;
// every other layer's are whole on every device.
//
// An experiment whose total exceeds the device's memory does not fit.
#pragma once

#include <vector>

#include "compiler/plan.hpp"
#include "simulator/cost.hpp"

namespace dlc::simulator {

struct MemoryCosts {
  Cost weights, gradients, optimizer, activations, workspace;
  Cost total() const { return weights + gradients + optimizer + activations + workspace; }
};

MemoryCosts memory_costs(const compiler::Plan& plan, const Cost& batch_per_device);
MemoryCosts memory_costs(const compiler::Plan& plan, const Cost& batch_per_device, const std::vector<bool>& split,
                         const Cost& ways);

}  // namespace dlc::simulator
