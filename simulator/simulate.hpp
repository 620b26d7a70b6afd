// dlc simulate: an experiment's Plan turned into one cost model (cost
// expressions over named parameters), evaluated into a Result. The model of
// one training step with data parallelism over p devices, B samples each:
//
//   forward   Σ roofline forward times of the ops, at B          (roofline.hpp)
//   backward  Σ roofline backward times
//   update    the optimizer's pass over the weights, memory-bound:
//             params · b · (3 sgd, 5 momentum, 7 adam) / bandwidth
//   exchange  all-reduce of the gradients                        (collectives.hpp)
//             without overlap, one all-reduce after backward;
//             with overlap, per gradient bucket (layers grouped, last first,
//             until `bucket` bytes): a bucket's all-reduce starts when its
//             backward is done and the previous bucket's exchange is over
//   step      forward + (overlap ? max(backward, end of the last exchange)
//                                : backward + exchange) + update
//
// Model parallelism splits fc and matmul layers over the devices with SUMMA
// on a √p × √p grid (van de Geijn and Watts 1997; the cookbook's model):
// compute 2·M·K·N/(p·γ) against data (M·K + K·N)·b/(√p·β), the layer bound by
// the larger; p must be a square. Or tensor parallelism (Megatron-LM,
// Shoeybi et al. 2019): fc layers alternate column- and row-parallel,
// attention splits its heads; work and weights divided by p; a row-parallel
// layer (and attention) all-reduces its output forward, a column-parallel
// one (and attention) its input's gradient backward. Only the split layers'
// weights are spread; the communication inside layers is the step's
// communication. Inference runs forward only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/plan.hpp"
#include "compiler/result.hpp"
#include "simulator/cost.hpp"

namespace dlc::simulator {

struct LayerCost {
  std::string name, op;
  Cost forward, backward, update;
  Cost forward_compute, forward_memory;  // the roofline's two terms, for the bound
  Cost comm;                             // model-parallel data movement inside the layer
  bool summa = false;
  Cost grid, required_bandwidth, bandwidth;  // SUMMA layers
};

// The layout of a hybrid-parallel experiment (simulator/parallel.hpp).
struct ParallelLayout {
  std::int64_t tensor = 1, pipeline = 1, data = 1, expert = 1;
  std::int64_t chunks = 1;      // model chunks per device (interleaved schedule: virtual stages)
  std::int64_t microbatch = 1;  // samples
  bool sequence = false;
  std::string schedule = "one_f_one_b";
  int zero = 0;
  std::vector<std::size_t> stage_of;  // each op's pipeline stage
};

struct Simulation {
  compiler::Plan plan;
  Params params;
  std::vector<LayerCost> layers;
  Cost batch_per_device, global_batch, devices;
  Cost forward, backward, update;
  Cost step;             // one iteration of the global batch
  Cost memory;           // per device, bytes
  double device_memory_bytes = 0;
  Cost hardware_macs;    // MACs the devices execute per step, recomputation included
  // Everything evaluate() reads, compiled once: kTotals values, then
  // kPerLayer values for each layer.
  CostProgram program;
  static constexpr std::size_t kTotals = 11, kPerLayer = 9;
  bool framework = false;  // a framework profile's host terms are in the step (totals.framework_s)
  // Experiments on a crossbar chip: the chip's model (simulator/crossbar.hpp)
  // instead of the device roofline.
  std::shared_ptr<const struct CrossbarModel> crossbar;
  // Hybrid parallelism, ZeRO, microbatches or recomputation: the layout (the
  // first total is then the number of microbatches per replica).
  std::optional<ParallelLayout> layout;
};

struct DeviceCosts;
struct NetworkCosts;
// A fresh model of `plan`: the device's and the network's parameters
// registered (roofline.hpp, collectives.hpp). False with their message.
bool start_model(const compiler::Plan& plan, Simulation& s, DeviceCosts& dev, NetworkCosts& net, std::string& error);

// The framework profile's terms around the devices' step (a `framework`
// declaration or `software { ... }`; all zero without one):
//
//   step = max(device step · (1 + jitter · √(2 ln N)), kernels · dispatch)
//          + step_overhead + B · sample_overhead
//
// The host issues kernels asynchronously, so its issue time hides behind
// the device's work until it is the longer (batch-1 inference in an eager
// framework). A synchronous step over N devices lasts as long as the
// slowest: with step times of coefficient of variation `jitter`, the
// expected maximum of N normal draws is about √(2 ln N) standard deviations
// above the mean. `kernels` is what one device issues per step, B its
// `samples` (a replica's share of the batch). `extra` receives the step's increase (totals.framework_s).
struct Simulation;
Cost framework_step(Simulation& s, const Cost& device_step, const Cost& kernels, const Cost& samples, Cost& extra);
// Kernels one pass of the model issues: one per op with work forward (and,
// with autocast under mixed precision, one more per GEMM op with weights:
// the weights' cast); in training, backward one per op with a data gradient
// and one per op with weights.
double kernels_per_pass(const compiler::Plan& plan);
// key=value from the command line (--set): the value a number with an
// optional unit of the parameter's dimension, within its range. False with a
// message (naming the closest parameter) otherwise.
bool set_parameter(Params& params, const std::string& key, const std::string& text, std::string& error);
// The global batch an experiment writes (batch = 16 per device: 16 x devices).
double written_global_batch(const compiler::Plan& plan);

// Builds the cost model. Fails with a message on an experiment that cannot
// be simulated (no usable peak, no link between devices, ...).
bool build(const compiler::Plan& plan, Simulation& out, std::string& error);

// Evaluates the model at its current parameter values. Fails with a message
// when the batch does not divide across the devices or the experiment does
// not fit in device memory (saying by how much).
bool evaluate(const Simulation& sim, compiler::Result& out, std::string& error);
// The same at other parameter values (a sweep point), indexed like sim.params.
bool evaluate(const Simulation& sim, std::span<const double> values, compiler::Result& out, std::string& error);
// `suggest`: an experiment that does not fit tries the knobs that could make
// it (ZeRO, recomputation, microbatches, tensor and pipeline parallelism, a
// lower precision, a smaller batch), one at a time, and names those that fit
// with their memory (the first overload does; sweeps do not).
bool evaluate(const Simulation& sim, std::span<const double> values, compiler::Result& out, std::string& error,
              bool suggest);

}  // namespace dlc::simulator
