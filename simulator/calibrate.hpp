// Calibration (dlc calibrate): fits the roofline's per-op-class efficiencies,
// launch overhead and, where the data determine it, memory efficiency
// (simulator/roofline.hpp) to the per-layer times of measured runs.
//
// Each forward and each backward time of a layer with work is one sample i,
// with C_i = 2·MACs·B / peak and M_i = (bytes·B + k·weight bytes) / bandwidth
// (k = 1 forward, 2 backward; B the record's batch): the times at efficiency 1.
// The model is
//   t_i = max(C_i · u[c], M_i · w[c]) + L
// with u[c] = 1/efficiency[c]; w[c] = m = 1/memory efficiency for the compute
// classes (conv, matmul, recurrent, attention) and w[c] = m·u[c] for the
// memory-bound ones. It minimises Σ ((pred_i − t_i) / t_i)², the relative
// residuals (the target is MAPE), in the unknowns u[c] of the compute classes,
// w[c] of the memory-bound classes, m and L. The max() makes it piecewise
// linear, so it alternates: (a) classify each sample as compute- or
// memory-bound under the current parameters; (b) solve the weighted linear
// least-squares problem for that classification (Householder QR), until the
// classification stops changing (at most 50 rounds). An unknown no sample
// determines keeps its default: the efficiency of a class with no
// compute-bound sample, m without memory-bound samples of a compute class
// (then m may be lowered, never below 1, so that the memory-bound classes stay
// at most 1), L when the samples cannot tell it from the rest. Efficiencies
// are clamped into (0, 1] and L to ≥ 0 (the clamped unknown is fixed at its
// bound and the others solved again); the fit says when a clamp fired.
// Update times are not fitted: they are taken as measured.
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

// The roofline parameters calibration fits (peak and bandwidth are given).
struct RooflineParams {
  std::array<double, kOpClasses> efficiency{};  // per op class
  double memory_efficiency = 0;
  double launch_overhead = 0;  // s
};

// The simulator's defaults for a device of this kind (roofline.hpp).
RooflineParams default_roofline(const std::string& kind);

struct ClassFit {
  compiler::OpClass op_class = compiler::OpClass::input;
  std::size_t samples = 0;        // forward and backward times of the class
  std::size_t determining = 0;    // of them, those that determine its efficiency under the fit
  double before = 0, after = 0;   // efficiency: the default, the fitted one
  bool fitted = false;            // false: nothing determined it, it keeps the default
  bool clamped = false;
  double mape_before = 0, mape_after = 0;  // over the class's samples
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
  std::vector<ClassFit> classes;  // the classes with samples, in OpClass order
  std::vector<RecordFit> records;
  bool memory_fitted = false, memory_clamped = false;
  std::size_t memory_samples = 0;  // memory-bound samples of compute classes (they determine m)
  bool launch_fitted = false, launch_clamped = false;
  std::size_t samples = 0, layers = 0;
  double sample_mape_before = 0, sample_mape_after = 0;  // forward and backward times separately
  double layer_mape_before = 0, layer_mape_after = 0;    // forward + backward per layer
  int iterations = 0;
  bool converged = false;
  std::vector<std::string> notes;  // clamps and other things a reader should know
};

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
