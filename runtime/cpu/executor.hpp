// The oneDNN CPU backend of dlc run: a Plan lowered to oneDNN 2.6 primitives,
// run as a benchmark.
//
// Lowering happens in two stages, so that the memory a run needs is known
// before anything is allocated:
//   1. build(): every layer becomes primitive descriptors and primitives, with
//      memory formats chosen the way oneDNN recommends (format_tag::any for
//      convolution and inner product, the producer's format elsewhere), a
//      reorder step wherever a consumer wants another format than its
//      producer wrote, and buffers recorded as descriptors only;
//   2. allocate(): every buffer once, touched (random inputs, weights and
//      output gradients; zeros elsewhere), reused by every iteration.
//
// Inference runs the forward primitives. Training runs, per layer, forward;
// then in reverse order the gradient sums of outputs read by several layers,
// backward data and backward weights; then the SGD update (w -= lr * dw) of
// every weight. Each step belongs to a row: a layer of the plan (same name as
// dlc simulate's), "<layer>/reorder" for format conversions a layer needs,
// "<layer>/grad_sum" for the gradient sums of its output.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compiler/plan.hpp"
#include "compiler/result.hpp"

namespace dlc::runtime::cpu {

struct BuildOptions {
  std::int64_t batch = 1;           // samples per step on this machine
  bool training = true;
  bool input_gradients = false;     // also the gradient of the model's inputs (--check wants it; a run does not)
  float learning_rate = 0.01f;
};

// What the run allocates, in bytes, before it allocates it.
struct MemoryNeed {
  double activations = 0;  // layer outputs (and reorder copies)
  double gradients = 0;    // gradients of outputs and weights
  double weights = 0;      // weights, biases, batch-norm statistics
  double workspace = 0;    // pooling/LRN workspaces, dropout masks
  double scratchpad = 0;   // one scratchpad shared by every primitive
  double total() const { return activations + gradients + weights + workspace + scratchpad; }
};

// One row's timing: medians over the timed iterations, per phase.
struct RowTiming {
  std::string name, op, op_class;  // op_class "" for reorder and gradient-sum rows
  int plan_op = -1;                // index into Plan::ops, -1 for the extra rows
  double forward_s = 0, backward_s = 0, update_s = 0;
  double spread = 0;               // (p90 - p10) / median of the row's time per iteration
  int steps = 0;                   // primitives executed for the row per iteration
  std::vector<std::string> reference_kernels;  // its primitives on oneDNN's reference kernels
};

struct Measurement {
  std::vector<RowTiming> rows;
  double iteration_s = 0;     // median wall time of one iteration
  double iteration_spread = 0;
  double primitives_s = 0;    // median of the time inside primitives per iteration
  double overhead_s = 0;      // median of the time between primitives (dlc's own) per iteration
  int iterations = 0;
};

class Executor {
 public:
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Lowers the plan (no tensor allocated). Returns nullptr with a message
  // when an op cannot be lowered.
  static std::unique_ptr<Executor> build(const compiler::Plan& plan, const BuildOptions& options, std::string& error);

  const MemoryNeed& memory() const;
  int primitive_count() const;

  // Allocates every buffer and touches it; random data from `seed`.
  void allocate(std::uint64_t seed);

  // Untimed warm-up iterations, then timed ones; progress(i, n) after each.
  Measurement measure(int warmup, int iters, const std::function<void(int, int)>& progress = {});

  // --check: one iteration without the update, and access to the tensors in
  // plain row-major layout ([N, C, H, W], [N, F], ...).
  void run_once();
  void run_update();  // the SGD steps alone
  enum class Tensor { output, output_grad, weights, bias, weights_grad, bias_grad, mean, variance, mask };
  // The dims of a tensor of an op ({} when the op has none).
  std::vector<std::int64_t> dims(int op, Tensor t) const;
  std::vector<float> read(int op, Tensor t) const;
  void write(int op, Tensor t, const std::vector<float>& values);
  // The further tensors an op registered by name (recurrent layers' weights
  // per layer and direction, attention's projections, ...).
  std::vector<std::string> named(int op) const;
  std::vector<std::int64_t> dims(int op, const std::string& name) const;
  std::vector<float> read(int op, const std::string& name) const;

 private:
  struct Impl;
  explicit Executor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The measured Result (dlc.result/1, "source": "measured"): one row per
// timing row, the totals of the step, the plan's work per layer and the
// device model, for dlc compare and dlc calibrate.
compiler::Result measured_result(const compiler::Plan& plan, const BuildOptions& options, const Measurement& m,
                                 const MemoryNeed& memory);

// The threads oneDNN's primitives use (OpenMP); 0 keeps the default (every core).
void set_threads(int threads);
int max_threads();

// The RAM available now (MemAvailable), in bytes; 0 when unknown.
double available_memory();

}  // namespace dlc::runtime::cpu
