// The sliding window of a conv or pooling layer of the Plan, per spatial
// dim, in the form both the oneDNN lowering and the reference
// implementations take: kernel, stride, left and right padding, dilation
// (1 = dense). The right padding is what gives the layer's output size
// (pooling's ceil mode needs more than the left; conv's floor rounding may
// need less).
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/plan.hpp"

namespace dlc::runtime::cpu {

struct Window {
  std::vector<std::int64_t> kernel, stride, pad_l, pad_r, dilation;
};

// `in` and `out` are the layer's input and output shapes per sample ([C, spatial...]).
Window layer_window(const compiler::PlanOp& op, const compiler::Shape& in, const compiler::Shape& out);

}  // namespace dlc::runtime::cpu
