// Memory per device during an experiment, with b the precision's element
// size and B the batch per device:
//
//   weights      (params + state) · b; with mixed precision an fp16 copy and
//                an fp32 master copy of the trainable ones: params · 6 + state · 4
//   gradients    params · b                          (training)
//   optimizer    sgd 0, momentum params · 4, adam and adamw params · 8 (fp32 moments)
//   activations  training: every op's output is kept for backward (once for
//                a convolution or batch norm and the in-place ReLU that alone
//                reads it, as frameworks run it), and
//                attention keeps Q, K, V, its context and its softmax
//                probabilities, (4 · T · D + heads · T²) · b per sample:
//                Σ kept · B; inference: the largest op's inputs and output,
//                max (inputs + output) · b · B
//   workspace    one more buffer of the largest output, max output · b · B
//
// With model parallelism the layers split across the devices (`split`, one
// flag per op) hold 1/ways of their params, gradients and optimizer state;
// every other layer's are whole on every device. With tensor parallelism the
// split tensors' activations are held 1/ways too (`sharded`, bytes per sample
// per op): Korthikanti et al. 2022, "Reducing Activation Recomputation in
// Large Transformer Models", section 4.2.2: a transformer layer keeps
// s·b·h·(34 + 5·a·s/h) bytes in fp16 without parallelism and
// s·b·h·(10 + 24/t + 5·a·s/(h·t)) with t-way tensor parallelism, the layer
// norms, the dropouts after the row-parallel layers and the inputs of the
// column-parallel ones staying whole. dlc keeps no dropout masks the model
// does not have and keeps every op's output, so for GPT-2 (no dropout ops)
// it keeps s·b·h·(12 + 24/t + 2·a·s/(h·t)) bytes per layer: the same split
// part, plus the attention's and the second fc's outputs whole.
//
// An experiment whose total exceeds the device's memory does not fit.
#pragma once

#include <vector>

#include "compiler/plan.hpp"
#include "simulator/cost.hpp"

namespace dlc::simulator {

// The ops whose output shares its buffer with an in-place ReLU after it (a
// convolution's or batch norm's output that only the ReLU reads, which
// overwrites it and keeps its own output, all its backward needs): their
// output is not kept a second time.
std::vector<bool> shared_with_inplace(const compiler::Plan& plan);

// Bytes read and written per parameter by an optimizer step: sgd reads w and
// g and writes w (3 b); mixed precision updates the fp32 master copy (read
// and write 4 + 4), reads the fp16 gradient and writes the fp16 copy (2 + 2);
// momentum adds its fp32 buffer (2 x 4), Adam its two moments (4 x 4).
double update_traffic(const compiler::Plan& plan);

struct MemoryCosts {
  Cost weights, gradients, optimizer, activations, workspace;
  Cost total() const { return weights + gradients + optimizer + activations + workspace; }
};

MemoryCosts memory_costs(const compiler::Plan& plan, const Cost& batch_per_device);
MemoryCosts memory_costs(const compiler::Plan& plan, const Cost& batch_per_device, const std::vector<bool>& split,
                         const Cost& ways, const std::vector<double>& sharded = {});

}  // namespace dlc::simulator
