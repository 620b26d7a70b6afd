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
  // The primitives of the row that ran on a backend's reference kernels
  // ("softmax_v2 backward (ref:any)"): slow, not what the machine can do.
  std::vector<std::string> reference_kernels;
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
  // The framework's share: host time the devices wait for (kernel issue past
  // the device's work, per-step and per-sample overheads) and the wait for
  // the slowest device of a synchronous step. Absent without a profile.
  std::optional<double> framework_s;
  double samples_per_s = 0;
  // The step's prediction interval from the accuracy benchmark's held-out
  // error for the experiment's workload class (simulator/interval.hpp).
  std::optional<double> iteration_s_low, iteration_s_high;
  std::string interval_class;  // the workload class it comes from
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

// How well a step uses the devices. Model FLOPs count the model's arithmetic
// once, however it is run: 2 x 3 x forward MACs per sample in training (the
// backward pass twice the forward), attention's scores over every query-key
// pair (Megatron-LM's and PaLM's convention), a mixture of experts' top-k
// tokens without padding; for a dense transformer that is 6 · N · tokens plus
// attention's 12 · layers · T² · D per sequence (with N the parameters used by
// the matrix products). Hardware FLOPs are what the devices execute,
// recomputation included. MFU and HFU divide them by the step time, the
// devices and the tensor engine's peak at the experiment's precision.
struct Utilisation {
  std::optional<double> tokens_per_s;  // sequence models (token ids as input)
  double model_flops_per_step = 0;
  double hardware_flops_per_step = 0;
  double peak_flops_per_device = 0;
  double mfu = 0, hfu = 0;
  double flops_per_device_per_s = 0;   // achieved: hardware FLOPs per step / step / devices
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

// A crossbar chip running a model (simulator/crossbar.hpp): the chip at its
// peak, the model's mapping, and where time and energy go. Energies per
// sample; areas in m², power in W.
struct CrossbarLayer {
  std::string name, op;
  bool mapped = false;        // on arrays (else on the digital units)
  double arrays = 0;          // with replicas
  double replicas = 1;
  double mvms = 0;            // matrix-vector products per sample
  double adc_conversions = 0; // per sample
  double latency_s = 0;       // one sample, this layer
  double energy_j = 0;        // per sample
  std::vector<std::pair<std::string, double>> energy_by_part;  // J per sample (adc, dac, ...)
  double area_m2 = 0;         // its arrays' share of the tiles' area
  double utilisation = 0;     // weight cells / cells of its arrays
};

struct CrossbarChip {
  std::string name;
  double peak_ops_per_s = 0;        // 2 per MAC, at full use of every array
  double power_w = 0, area_m2 = 0;  // one chip
  double tile_power_w = 0, tile_area_m2 = 0;
  double adc_power_share = 0;       // of a tile's
  double adc_area_share = 0;
  double adc_power_w = 0;           // the chip's ADCs together
  double conversions_per_mac = 0;   // at full use
  double mvm_s = 0;                 // one matrix-vector product
  double arrays = 0;                // per chip
  std::int64_t adc_bits = 0, adc_bits_required = 0;
  std::int64_t adc_bits_required_unflipped = 0;  // the same without ISAAC's flipped encoding
  bool flip_encoding = false;
};

struct CrossbarRun {
  CrossbarChip chip;
  double arrays_needed = 0;
  double chips = 0;
  double utilisation = 0;           // arrays used / arrays of the chips
  double latency_s = 0;             // one sample through every layer
  double interval_s = 0;            // pipelined: between two samples (the slowest layer)
  double energy_j = 0;              // per sample, static power included
  std::vector<std::pair<std::string, double>> energy_by_part;  // J per sample
  double power_w = 0;               // at the run's throughput
  double area_m2 = 0;               // all chips
  double ops_per_sample = 0;        // 2 x MACs
  std::vector<CrossbarLayer> layers;
};

// A Hopfield network solving max-cut on a crossbar (simulator/maxcut.hpp).
struct HopfieldReport {
  std::string graph;                 // how it was made: "random(...)" or the file's path
  std::int64_t nodes = 0, edges = 0;
  std::optional<double> optimum;     // the best cut, where known
  std::string optimum_source;        // "brute force" or "given"
  std::int64_t trials = 0, sweeps = 0;
  double noise_start = 0, noise_end = 0;
  std::string schedule;
  double best_cut = 0;               // over all trials
  double mean_cut = 0;               // of the trials' final states
  std::optional<double> success_rate;             // final state optimal
  std::optional<double> success_rate_noise_free;  // the same trials without annealing noise
  std::optional<double> mean_updates_to_solution;
  double arrays = 0;                 // holding W
  double update_s = 0, update_j = 0; // one update: a product on the arrays
  std::optional<double> time_to_solution_s, energy_to_solution_j;  // 99 % confidence
  std::vector<double> energy_trace;  // the first trial's energy after each sweep
};

// One layer through the functional model of a crossbar (dlc simulate
// --functional): its error against the exact product.
struct FunctionalLayer {
  std::string name, op;
  std::int64_t inputs = 0, outputs = 0, samples = 0;  // K, the outputs checked, the input vectors
  double max_abs = 0, rms = 0;    // in units of the exact outputs
  double deviation = 0;           // RMS error / RMS of the exact outputs
  double enob = 0;                // log2(range / (√12 · RMS)); +inf when exact
  bool exact = false;
  std::int64_t saturations = 0;   // ADC conversions clipped
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
  std::optional<CrossbarRun> crossbar;       // experiments on a crossbar chip
  std::optional<HopfieldReport> hopfield;    // Hopfield experiments
  std::vector<FunctionalLayer> functional;   // dlc simulate --functional
  std::optional<double> energy_per_sample_j; // where the system's power is known
  std::optional<Utilisation> utilisation;    // models on devices (not crossbars)
  // A run of `tokens` tokens (experiment property): its steps; its time is totals.total_s.
  std::optional<double> tokens, steps;
  std::optional<double> energy_j;            // the whole run, where the devices' power is known
  std::optional<double> cost_usd;            // the whole run, at the experiment's price
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
// One of several experiments of a file: its result, or the message of the
// error that left it without one. A script reading the JSON or CSV of a file
// sees every experiment it asked for, the failed ones with their error.
struct ExperimentOutcome {
  std::string experiment, model, system;
  std::optional<Result> result;
  std::string error;  // the diagnostic's message, where result is empty
};
// Several experiments side by side: one row each. The table shows the
// results only (a person has read the errors on stderr just above it);
// JSON and CSV keep the failed experiments as records with an "error".
std::string results_summary_table(const std::vector<ExperimentOutcome>& outcomes);
// A JSON array of dlc.result/1; a failed experiment is {"schema", "source",
// "experiment", "model", "system", "error"}.
std::string results_json(const std::vector<ExperimentOutcome>& outcomes);
// One row per experiment; the last column, error, is empty where it ran.
std::string results_csv(const std::vector<ExperimentOutcome>& outcomes);

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
