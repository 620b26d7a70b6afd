// The Plan: what an experiment asks a backend to do, in numbers. It is one of
// the two contracts between the layers (the other is the Result): the
// simulator only reads Plans, and so will the runtime. Lowering an
// experiment resolves its references (model, system, links), takes the model's
// layers with their per-sample work and memory traffic at the experiment's
// precision, and carries the experiment's settings as plain values.
//
// Memory traffic of one op (bytes moved to and from device memory), with b
// the element size of the precision and W the op's parameters:
//   forward   (Σ inputs + output) · b per sample, plus W · b per step;
//   backward  (2 · Σ inputs + output) · b per sample (read the output's
//             gradient and the inputs, write the inputs' gradients), plus
//             2 · W · b per step (read the weights, write their gradients);
//             a layer fed only by data writes no input gradient ((Σ inputs +
//             output) · b), and without weights it has no backward (0).
// Windows that overlap read their inputs again: pooling reads kernel
// elements per output, LRN `size` per input (instead of Σ inputs, forward and
// backward); batch normalisation in training reads its input three times
// forward (mean, variance, normalise).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/crossbar.hpp"
#include "compiler/module.hpp"

namespace dlc::compiler {

struct PlanOp {
  std::string name;  // the layer's hierarchical name
  std::string op;
  OpClass op_class = OpClass::input;
  Shape output;      // per sample
  std::vector<int> inputs;
  bool data_gradient = false;       // training computes its inputs' gradients (not for what only data feeds)
  std::int64_t params = 0;          // trainable
  std::int64_t active_params = 0;   // trainable, used per token (a mixture of experts: router and top-k experts)
  std::int64_t state = 0;           // non-trainable
  std::int64_t macs_forward = 0;    // per sample
  std::int64_t macs_backward = 0;   // per sample
  std::int64_t macs_model = 0;      // per sample: the forward MACs model FLOPs count (OpResult::macs_model)
  std::int64_t bytes_forward = 0;   // activations moved, per sample
  std::int64_t bytes_backward = 0;  // per sample
  // The part of bytes_forward and bytes_backward that tensors inside the op
  // move (attention's scores through its softmax, the logits through the
  // loss): other kernels' traffic, so it adds to the op's time.
  std::int64_t scratch_bytes_forward = 0, scratch_bytes_backward = 0;
  std::int64_t weight_bytes = 0;    // (params + state) · b: read once per step
  std::int64_t activation_bytes = 0;  // the output kept for backward, per sample
  // What an op keeps inside itself for backward, per sample (OpResult::kept
  // · b): attention's Q, K, V, its context (the output projection's input)
  // and its softmax probabilities, (4 · T · D + heads · T²) · b for
  // multi-head attention (Korthikanti et al. 2022, 4.1).
  std::int64_t internal_activation_bytes = 0;
  std::int64_t input_elements = 0;    // all inputs together, per sample
  std::vector<Gemm> gemms;            // the forward pass's matrix products (Layer::gemms)
  const OpDef* def = nullptr;         // the op (nullptr for inputs): what a runtime builds it from
  OpArgs args;                        // its bound arguments, with the input shapes
};

// Bytes per element of attention's score matrix (batch x heads x T x T)
// where the framework runs its chain as separate kernels (eager PyTorch), b
// the element size, f the softmax's (4 B under autocast, which runs softmax
// in fp32; else b). Forward: Q·Kᵀ writes it; the scaling and the mask each
// read and write it; softmax reads it and writes f; training's dropout reads
// and writes f and writes a 1-byte mask; under autocast a cast back to b;
// P·V reads it:
//   forward  = b + 2b + 2b + (b + f) + [training] (2f + 1) + [cast] (f + b) + b
// Backward: dP written; dV's product reads P; dropout's backward reads dP and
// the mask and writes its gradient; under autocast a cast up to f; softmax's
// backward reads the gradient and its output and writes f; a cast down; the
// scaling's backward reads and writes; dQ's and dK's products read it:
//   backward = b + b + (2b + 1) + [cast] (b + f) + 3f + [cast] (f + b) + 2b + 2b
// Mixed precision in training: 33 and 41 B, against the fused kernels' 4b = 8
// and 7b = 14 (OpResult::scratch_forward and scratch_backward).
struct EagerAttentionBytes {
  std::int64_t forward, backward;
};
inline EagerAttentionBytes eager_attention_bytes(std::int64_t b, bool fp32_softmax, bool training) {
  std::int64_t f = fp32_softmax ? 4 : b, cast = fp32_softmax ? f + b : 0;
  std::int64_t forward = b + 2 * b + 2 * b + (b + f) + (training ? 2 * f + 1 : 0) + cast + b;
  std::int64_t backward = b + b + 2 * b + 1 + cast + 3 * f + cast + 2 * b + 2 * b;
  return {forward, backward};
}

// Bytes per element of an RMSNorm run as separate kernels, as eager PyTorch
// runs torch.nn.RMSNorm and the RMSNorm that torchtitan and Hugging Face
// write: y = (x.float() * rsqrt(mean(x.float()^2) + eps)).to(b) * weight, b
// the element size. Forward: the upcast reads b and writes 4; the square
// reads and writes 4; the mean reads 4 (per-row results negligible); the
// scaling reads and writes 4; the downcast reads 4 and writes b; the weight's
// product reads and writes b:
//   forward  = (b + 4) + 8 + 4 + 8 + (4 + b) + 2b = 28 + 4b
// Backward, through autograd: the weight's product writes the input gradient
// (reads b, writes b) and reduces the weight's (reads the gradient and the
// saved product, writes their product, reads it: 4b); the downcast's reads b
// and writes 4; the scaling's reads the gradient and x, writes the gradient
// and the row sums' products (4 + 4 + 4, then 4 + 4 + 4); the mean's expands
// (writes 4); the square's reads the gradient and x and writes 4 + 4 + 4;
// the two paths' gradients add (4 + 4 + 4); the upcast's reads 4 and writes
// b:
//   backward = 2b + 4b + (b + 4) + 24 + 4 + 12 + 12 + (4 + b) = 8b + 60
// Fused kernels: 2b and 3b (read x, write y; read the gradient and x, write
// the input gradient).
struct EagerNormBytes {
  std::int64_t forward, backward;
};
inline EagerNormBytes eager_rmsnorm_bytes(std::int64_t b) { return {28 + 4 * b, 8 * b + 60}; }

struct PlanLink {
  std::string name;
  double bandwidth = 0;   // B/s, per direction
  double latency = 0;     // s
  double efficiency = 1;  // fraction of bandwidth reached
};

struct PlanDevice {
  std::string name;
  std::string kind;                       // cpu, gpu, tpu, accelerator
  std::map<std::string, double> peak;     // FLOP/s per precision: "fp32" -> ... (the tensor engine's)
  std::map<std::string, double> vector_peak;  // the vector units', where given
  double memory = 0;                      // B (0: not given)
  double memory_bandwidth = 0;            // B/s (0: not given)
  std::map<std::string, double> efficiency;           // per op class, as given
  std::map<std::string, double> efficiency_backward;   // the backward pass's, where given
  std::map<std::string, double> efficiency_inference;  // the forward pass's in inference, where given
  std::optional<double> launch_overhead;  // s
  double power = 0;                       // W (0: not given)
  double power_limit = 0;                 // W: a cap below `power` (0: none)
  std::int64_t cores = 0;                 // cores or streaming multiprocessors (0: not given)
};

// The system an experiment runs on: `nodes` nodes of `devices_per_node`
// devices. A bare device is one node of one device.
struct PlanSystem {
  std::string name;
  std::string kind;  // device, node, cluster, crossbar
  PlanDevice device;
  std::int64_t devices_per_node = 1;
  std::int64_t nodes = 1;
  std::optional<PlanLink> intra_node;     // between devices of a node
  std::optional<PlanLink> network;        // between nodes (the cluster's, else the node's NIC)
  std::int64_t nics = 1;                  // network ports per node
  std::int64_t devices_per_switch = 0;    // 0: no PCIe switch sharing
  std::optional<PlanLink> switch_uplink;
  std::optional<Crossbar> crossbar;       // a crossbar chip (kind "crossbar"): its figures, defaults filled in

  std::int64_t devices() const { return devices_per_node * nodes; }
};

// A Hopfield network solving max-cut (simulator/hopfield.hpp): the graph and
// the annealing, as the experiment's hopfield group gives them.
struct PlanHopfield {
  std::string graph = "random";  // random or file
  std::int64_t nodes = 0;        // random(...)
  double density = 0.5;
  std::uint64_t graph_seed = 1;
  bool weighted = false;
  std::string path;              // file(...): resolved against the directory of the spec that names it
  std::string path_written;      // file(...): as the spec writes it
  std::int64_t trials = 100;
  std::int64_t sweeps = 15;
  double noise_start = 1, noise_end = 0;  // in units of the local field's spread
  std::string schedule = "linear";
  std::uint64_t seed = 1;
  std::optional<double> optimum;
};

struct Plan {
  std::string experiment;
  std::string model;
  std::string phase = "training";     // training or inference
  std::string precision = "fp32";
  std::int64_t element_bytes = 4;
  std::int64_t batch = 1;
  std::string batch_per = "device";   // device, node, global
  std::string scaling = "weak";       // weak, strong
  std::optional<double> dataset;      // samples per epoch
  std::optional<double> epochs;
  std::optional<double> target_time;  // s
  std::string optimizer = "sgd";
  std::optional<std::int64_t> microbatch;  // samples per microbatch (gradient accumulation, pipelines)
  std::string recompute = "none";          // none, selective, full
  std::optional<double> tokens;            // to train on (time, energy and cost of the run)
  std::optional<double> price;             // USD per second, per `price_per`
  std::string price_per = "device";        // device or node
  std::int64_t tokens_per_sample = 0;      // a sequence model's input length (token ids); 0 otherwise
  std::string parallel = "data";      // data, model, pipeline, hybrid
  std::map<std::string, std::string> parallel_args;  // allreduce = ring, overlap = true, ...
  // One of parallel_args, or `fallback` when the experiment does not give it.
  std::string parallel_arg(const std::string& key, const std::string& fallback) const {
    auto it = parallel_args.find(key);
    return it == parallel_args.end() ? fallback : it->second;
  }
  std::int64_t parallel_integer(const std::string& key, std::int64_t fallback) const {
    auto it = parallel_args.find(key);
    return it == parallel_args.end() ? fallback : std::stoll(it->second);
  }
  // The framework profile: the experiment's `framework` (a declaration), then
  // its own `software { ... }` values over it.
  std::string framework;                              // the declaration's name; "" without one
  std::map<std::string, double> software_efficiency;  // framework efficiency per op class
  std::optional<double> software_overhead;            // s per layer, on the device's time line
  std::optional<double> software_dispatch;            // host s per kernel, asynchronous
  std::optional<double> software_step_overhead;       // host s per step
  std::optional<double> software_sample_overhead;     // host s per sample per device
  std::optional<double> software_jitter;              // step time's coefficient of variation
  std::optional<double> software_collective_latency;  // s per ring step of a collective, at least
  std::optional<double> software_collective_efficiency;  // fraction of the links' bandwidth its collectives reach
  std::optional<double> software_winograd;            // speed-up of 3 x 3 convolutions on vector units
  bool software_autocast = false;  // mixed precision cast op by op: a weight cast kernel per weighted op
  bool software_eager_attention = false;  // attention's scores through separate kernels (eager_attention_bytes)
  bool software_eager_rmsnorm = false;    // RMSNorm as separate kernels (eager_rmsnorm_bytes)
  std::string software_name;
  PlanSystem system;
  std::vector<PlanOp> ops;
  std::optional<PlanHopfield> hopfield;  // a Hopfield experiment (no model, no ops)
};

// Bytes per element of a precision (fp32 4, fp16/bf16/mixed 2, fp8/int8 1, ...).
std::int64_t precision_bytes(std::string_view precision);

// Lowers an experiment of a checked module. The module must hold the
// experiment's model (the checker instantiates it).
Plan lower(const CheckedModule& module, const CheckedDecl& experiment);

// dlc check --emit=plan: the plans of the root file's experiments, as text.
std::string dump_plans(const CheckedModule& module);

}  // namespace dlc::compiler
