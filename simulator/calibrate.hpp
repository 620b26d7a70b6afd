// Calibration (dlc calibrate): fits the roofline's per-op-class efficiencies,
// forward and backward, the effective memory bandwidth and the launch
// overhead (simulator/roofline.hpp) to the per-layer times of measured runs.
//
// Each forward and each backward time of a layer with work is one sample i,
// with C_i = 2·MACs·B / peak and M_i = (bytes·B + k·weight bytes) / bandwidth
// (k = 1 forward, 2 backward; B the record's batch): the times at efficiency 1.
// The roofline predicts t_i = max(C_i / e, M_i / (m·e_mem)) + L. A sample of
// a compute class (conv, matmul, recurrent, attention) fits its class's
// compute efficiency, one of a memory-bound class its bandwidth efficiency:
// per class and pass (forward and backward in training, forward in
// inference: inference primitives keep no state for a backward and run
// faster), the factor a minimising the mean
// absolute relative error Σ |a·x_i + L − t_i| / t_i, which is the weighted
// median of (t_i − L) / x_i with weights x_i / t_i (x_i = C_i or M_i). A
// median, not a mean: a few layers far off (a first convolution of three
// channels, say) do not drag the class.
//
// The memory efficiency m is what the SGD updates of conv and fc weights
// reach (12 B per parameter, the simulator's update model; the same weighted
// median), else the default. The memory-bound classes' fractions f of the
// nominal bandwidth can exceed it, and on CPUs even 1, where tensors that fit
// in the caches move faster than DRAM: m is raised to the largest f, and what
// exceeds 1 goes into an effective bandwidth (the nominal one times it); each
// class's efficiency is its f over that, in (0, 1]. Compute efficiencies above 1 are clamped (the fit says so). The
// launch overhead L is chosen among a grid of values (0 to half the shortest
// sample) as the one with the least MAPE over all samples. Classes and passes
// without samples keep the simulator's defaults (a pass without samples: the
// training forward's, or the inference forward's when only that was measured).
// The steps reported add the measured update times to the predicted forward
// and backward ones.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "compiler/ops.hpp"
#include "compiler/result.hpp"

namespace dlc::simulator {

inline constexpr int kOpClasses = 10;  // compiler::OpClass values

// The roofline parameters calibration fits (peak is given).
struct RooflineParams {
  std::array<double, kOpClasses> efficiency{};           // per op class, forward
  std::array<double, kOpClasses> efficiency_backward{};  // per op class, backward
  std::array<double, kOpClasses> efficiency_inference{};  // per op class, forward in inference
  double memory_efficiency = 0;
  double bandwidth_scale = 1;  // effective memory bandwidth over the device model's
  double launch_overhead = 0;  // s
};

// The simulator's defaults for a device of this kind (roofline.hpp).
RooflineParams default_roofline(const std::string& kind);

// The passes a class is fitted for: forward and backward in training, forward in inference.
enum class Pass { forward, backward, inference };
inline constexpr int kPasses = 3;
std::string_view pass_group(Pass p);  // "efficiency", "efficiency_backward", "efficiency_inference"

struct ClassFit {
  compiler::OpClass op_class = compiler::OpClass::input;
  Pass pass = Pass::forward;
  std::size_t samples = 0;
  double before = 0, after = 0;   // efficiency: the default, the fitted one
  bool clamped = false;
  double mape_before = 0, mape_after = 0;  // over the class's samples of this pass
};

struct RecordFit {
  std::string model, experiment, phase;
  std::int64_t batch = 0;
  std::size_t samples = 0;
  double measured_step = 0;     // totals.iteration_s
  double step_before = 0, step_after = 0;  // Σ predicted forward + backward, + the measured updates
};

struct Calibration {
  compiler::DeviceModel device;
  std::string precision;
  RooflineParams before, after;
  std::vector<ClassFit> classes;  // the classes and passes with samples, in OpClass order, forward first
  std::vector<RecordFit> records;
  std::size_t samples = 0, layers = 0;
  double sample_mape_before = 0, sample_mape_after = 0;  // forward and backward times separately
  double layer_mape_before = 0, layer_mape_after = 0;    // forward + backward per layer
  std::vector<std::string> notes;  // clamps and other things a reader should know
  // Where the fitted spec predicts its own input worse than the spec it
  // started from (a record's step, the per-layer or per-sample MAPE): the fit
  // minimises each class's error, which need not bring the sums closer.
  std::vector<std::string> warnings;
  std::size_t reference_layers = 0;  // layers left out: they ran on reference kernels
};

// The warnings of a calibration whose figures are computed (c.warnings).
std::vector<std::string> calibration_warnings(const Calibration& c);

// Why a record cannot be calibrated on ("" when it can): not measured, no
// device_model, no layer with work; with `first`, a device model or precision
// other than the first record's (`first_label` names it in the message).
std::string calibration_problem(const compiler::Result& r, const compiler::Result* first = nullptr,
                                const std::string& first_label = "the first record");

// Fits over all records, which must pass calibration_problem against the
// first. False with a message when they do not.
bool calibrate(std::span<const compiler::Result> records, Calibration& out, std::string& error);

// A value with an SI prefix and its unit, in dlc's syntax: exactly (the
// shortest round trip) or to `digits` significant digits.
// quantity_text(4.48e11, "FLOP/s") is "448 GFLOP/s".
std::string quantity_text(double value, const std::string& unit, int digits = 0);

std::string calibration_table(const Calibration& c);
std::string calibration_json(const Calibration& c);  // schema dlc.calibration/1

}  // namespace dlc::simulator
