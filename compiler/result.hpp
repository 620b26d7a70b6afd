// The Result: what a backend (the simulator, later the runtime) reports for
// an experiment. With the Plan it is the contract between the layers; JSON
// schema dlc.result/1 (DESIGN.md), keys fixed:
//   {"schema", "source": "simulated"|"measured", "experiment", "model",
//    "system", "device", "phase", "batch", "precision",
//    "layers": [{"name", "op", "forward_s", "backward_s", "update_s", "bound"}],
//    "totals": {"iteration_s", "compute_s", "comm_s", "samples_per_s",
//               "epoch_s", "total_s", "memory_per_device_bytes"}}
// Times in seconds, sizes in bytes; human units only in tables.
//
// A measured record (dlc run) adds what calibration needs, so that it stands
// on its own: per layer "class", "spread" (the spread of its time over the
// timed iterations, relative to the median) and "work" (the Plan's per-sample
// MACs and bytes), and at the top "device_model" (the peak and bandwidth of
// the device the experiment named). Readers ignore keys they do not know.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dlc::compiler {

struct LayerResult {
  std::string name;
  std::string op;
  double forward_s = 0;
  double backward_s = 0;
  double update_s = 0;
  std::string bound;  // "compute", "memory", "communication", "overhead", or "" for free ops
  // Measured records only:
  std::string op_class;             // the op's class (conv, matmul, ...); "" for rows that are not layers
  std::optional<double> spread;     // (p90 - p10) / median of the layer's time over the timed iterations
  struct Work {                     // the Plan's figures (per sample, except weight_bytes)
    double macs_forward = 0, macs_backward = 0, bytes_forward = 0, bytes_backward = 0, weight_bytes = 0;
  };
  std::optional<Work> work;
};

// The device an experiment named, as the simulator saw it: what calibration
// fits efficiencies against.
struct DeviceModel {
  std::string name, kind;
  double peak = 0;              // FLOP/s at the record's precision
  double memory_bandwidth = 0;  // B/s
};

struct ResultTotals {
  double iteration_s = 0;   // one step of the global batch
  double compute_s = 0;     // forward + backward + update on one device
  double comm_s = 0;        // communication not hidden behind computation
  double samples_per_s = 0;
  std::optional<double> epoch_s;
  std::optional<double> total_s;
  double memory_per_device_bytes = 0;
};

// The compute requirement of a training run (the cookbook's "compute
// requirements"): work per epoch = 3 x forward MACs x dataset, the talk's
// convention (its "FLOPs" are multiply-accumulates), and in FLOPs (2 x);
// with a target time, the sustained rate the whole run needs.
struct Requirements {
  double macs_per_epoch = 0;
  double flops_per_epoch = 0;
  std::optional<double> target_s;
  std::optional<double> macs_per_s;   // sustained, to finish in target_s
  std::optional<double> flops_per_s;
};

// A layer split by SUMMA over a grid of √P x √P devices: the bandwidth its
// data movement needs to stay behind its compute, β ≥ (M·K + K·N)·b·√P·γ / (2·M·K·N)
// (for M = K = N = n and fp32, the cookbook's β ≥ 4pγ/n), and what it has.
struct SummaLayer {
  std::string layer;
  double grid = 1;                 // √P
  double required_bandwidth = 0;   // B/s
  double bandwidth = 0;            // B/s
};

struct Result {
  std::string source = "simulated";
  std::string experiment, model, system, device, phase, precision;
  std::int64_t batch = 0;  // global batch of one step
  std::vector<LayerResult> layers;
  ResultTotals totals;
  std::optional<Requirements> requirements;  // training runs with a dataset
  std::vector<SummaLayer> summa;             // model-parallel runs
  std::optional<DeviceModel> device_model;   // measured records
};

std::string result_json(const Result& r);

// Reads a dlc.result/1 record (what simulate and run write). False with a
// message when the text is not one.
bool result_from_json(const std::string& text, Result& out, std::string& error);

}  // namespace dlc::compiler

namespace dlc::compiler {

// The per-layer table and totals, for people.
std::string result_table(const Result& r);
// One row per layer (name, op, forward_s, backward_s, update_s, bound).
std::string result_csv(const Result& r);
// Several experiments side by side: one row each.
std::string results_summary_table(const std::vector<Result>& results);
std::string results_json(const std::vector<Result>& results);  // a JSON array of dlc.result/1
std::string results_csv(const std::vector<Result>& results);   // one row per experiment

// A sweep of one parameter: its values with the step time, throughput,
// speed-up over the first value and, when the devices change, efficiency.
struct ScalePoint {
  std::string value;         // as given: "16", "100 Gb/s"
  double devices = 1;
  std::optional<Result> result;  // nothing where the point failed
  std::string error;
};
std::string scale_table(const std::string& key, const std::vector<ScalePoint>& points);
std::string scale_json(const std::string& key, const std::vector<ScalePoint>& points);
std::string scale_csv(const std::string& key, const std::vector<ScalePoint>& points);

}  // namespace dlc::compiler
