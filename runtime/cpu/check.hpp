// dlc run --check: every layer of a plan, once, on small inputs, through the
// same oneDNN lowering as a timed run, against the plain C++ reference
// implementations (runtime/cpu/reference.hpp). Each layer is shrunk: its
// inputs keep their rank but every dimension is capped (channels and
// features at 8, spatial sizes at 12, sequence lengths at 8; a layer whose
// attributes need more keeps its channels or features, then its shape), the
// batch is 2, and the layer is re-inferred with its own attributes; it runs
// forward and, for training experiments, backward (data and weight
// gradients) and the SGD step of its weights, with random inputs, weights
// and output gradients.
//
// The error of a tensor is max |dlc − reference| / max(1, max |reference|);
// a layer passes when every tensor is within 1e-4 (float arithmetic with
// different summation orders; the references accumulate in double).
#pragma once

#include <string>
#include <vector>

#include "compiler/plan.hpp"

namespace dlc::runtime::cpu {

struct TensorCheck {
  std::string tensor;  // "output", "input 0 grad", "weights grad", ...
  double error = 0;
};

struct LayerCheck {
  std::string name, op;
  std::string shape;   // the shrunk input shape(s) it ran on, per sample
  std::vector<TensorCheck> tensors;
  double max_error = 0;
  bool passed = true;
};

struct CheckReport {
  std::vector<LayerCheck> layers;
  double tolerance = 1e-4;
  bool training = true;
  bool passed() const;
  int failures() const;
};

// False with a message when a layer cannot be checked (an op without a
// reference, a shape that cannot be shrunk).
bool check_plan(const compiler::Plan& plan, bool training, CheckReport& report, std::string& error);

std::string check_table(const CheckReport& report);

}  // namespace dlc::runtime::cpu
