// Predicted against measured, layer by layer (dlc compare). Layers are
// matched by their hierarchical name, which simulate and run share. For each
// layer, time = forward + backward + update; its error is
//   (predicted − measured) / measured;
// MAPE is the mean of |error| over the layers measured to take time, and
// the end-to-end error compares the step times. The layers that dominate
// the error are those with the largest |predicted − measured| in seconds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compiler/result.hpp"

namespace dlc::simulator {

struct LayerComparison {
  std::string name, op;
  double predicted = 0, measured = 0;  // seconds per step
  std::optional<double> error;         // relative; none when measured is 0
};

struct Comparison {
  std::string predicted_source, measured_source, model, experiment;
  std::string predicted_model;           // `model` is the measured record's
  std::vector<LayerComparison> layers;   // in the measured record's order
  std::vector<std::string> only_predicted, only_measured;  // names without a partner
  double mape = 0;                       // over layers with a measured time
  std::size_t compared = 0;              // layers in the MAPE
  double predicted_step = 0, measured_step = 0;
  double step_error = 0;                 // relative
  std::vector<std::size_t> dominant;     // indices into layers, largest absolute gap first (at most 5)
};

Comparison compare(const compiler::Result& predicted, const compiler::Result& measured);

// What makes a comparison doubtful: records of different models, layers
// without a partner (a measured run's reorder and gradient-sum rows aside,
// which no prediction has).
std::vector<std::string> comparison_warnings(const Comparison& c);

std::string comparison_table(const Comparison& c);
std::string comparison_json(const Comparison& c);
std::string comparison_csv(const Comparison& c);

}  // namespace dlc::simulator
