// The roofline model of one op on one device (Williams, Waterman and
// Patterson, "Roofline", CACM 2009), forward and backward separately:
//
//   compute = 2 · MACs · batch / (peak · efficiency[class] · software[class])
//             (the memory-bound classes below at the vector units' peak,
//             where the device gives one: `vector { bf16 = ... }`)
//   memory  = (bytes · batch + weight bytes) / (memory bandwidth · memory efficiency)
//             (memory-bound classes: / efficiency[class] · software[class] as well)
//   time    = max(compute, memory) + scratch + launch overhead + software overhead
//
// On a GPU that gives its multiprocessors (`cores`), the compute terms of
// GEMM ops (OpResult::gemms: fully connected layers, convolutions as implicit
// GEMM, attention's products, matmul) are divided by the wave quantisation
// utilisation of their products (as NeuSight and the CUTLASS profiler count
// it): a product's output is cut into kTile x kTile tiles (a dimension
// below kTile into one tile of the power of two that covers it, at least
// kMinTile: libraries ship narrow tiles for skinny products), one multiprocessor
// computing one tile at a time, so it takes ceil(tiles / cores) waves, each
// as long as a whole tile's; where the tiles are too few to fill a wave, the
// library splits the reduction (split-K) over up to
// floor(cores / tiles) multiprocessors. Utilisation = the products' MACs /
// (waves x cores x kTile² x k / split); backward, the data gradient's product
// (m x k, reducing n) and the weight gradient's (n x k, reducing m).
// Under tensor parallelism each device's share of a product is tiled
// (GemmSplit).
//
// A framework's `winograd` factor divides the compute term of 3 x 3,
// stride-1 convolutions on vector units (winograd_shape below).
//
// where scratch is the traffic of tensors inside the op that other kernels
// move (attention's scores through the softmax, masking and dropout, without
// flash attention; the logits through the loss): scratch bytes · batch /
// (memory bandwidth · memory efficiency), added, since those kernels do not
// overlap the op's GEMMs.
//
// The memory-bound classes (elementwise, normalization, pooling,
// data_movement, embedding) are limited by bandwidth, so their efficiency is
// the fraction of the (efficient) bandwidth they reach: a device can say that
// pooling reaches 40 % of it. The other classes' efficiency scales compute
// only. The bound reported is the larger term. Ops with no work (reshape,
// flatten, an input) cost nothing. Defaults, where a device does not say:
//   efficiency: conv 0.7, matmul 0.8, attention 0.7, recurrent 0.5, the
//   memory-bound classes 1.0 (they are limited by bandwidth); memory 0.8;
//   launch overhead 5 us on accelerators, 1 us on CPUs.
#pragma once

#include <string>

#include "compiler/plan.hpp"
#include "simulator/cost.hpp"

namespace dlc::simulator {

// The parameters of a device (and software profile) at a precision.
struct DeviceCosts {
  Cost peak;                 // FLOP/s at the experiment's precision
  Cost memory_bandwidth;     // B/s
  Cost memory_efficiency;
  Cost launch_overhead;      // s per op
  Cost software_overhead;    // s per op
  Cost efficiency(compiler::OpClass c) const;  // device x software
  Cost class_efficiency[10];
  // Shared by every op (built once, so a model of 500 layers stays small):
  Cost class_rate[10];       // peak x efficiency, per op class
  Cost bandwidth;            // memory bandwidth x memory efficiency
  Cost class_bandwidth[10];
  // The backward pass's (efficiency_backward, where the device gives it; else the forward's).
  // (The forward's are efficiency_inference in inference experiments, where the device gives it.)
  Cost class_rate_backward[10];
  Cost class_bandwidth_backward[10];  // bandwidth, x efficiency for the memory-bound classes
  Cost fixed;           // launch + software overhead
  // 3 x 3, stride-1 convolutions on the vector units: the class's rates times
  // the framework's `winograd` speed-up (1 on a matrix engine).
  Cost conv3x3_rate, conv3x3_rate_backward;
  double cores = 0;  // multiprocessors a GEMM's tiles spread over (0: no wave quantisation)
  // op_times' wave factors, forward and backward, one pair of Costs per
  // distinct products, split and batch: a model's repeated layers share them
  // (the cost program compiles a shared subtree once).
  mutable std::map<std::string, std::pair<Cost, Cost>> wave_cache;
};

// A GEMM's tile edge (CUTLASS's and cuBLAS's common 128 x 128 threadblock
// tile); a dimension below it gets the power of two that covers it, at least
// kMinTile.
inline constexpr double kTile = 128, kMinTile = 16;

// The part of an op's products one device of a tensor-parallel group
// computes: n (column parallel) or k (row parallel) of its row-block
// products divided, and the instances (heads) of its batched ones.
struct GemmSplit {
  std::int64_t n = 1, k = 1, count = 1;
};

// A 2-D convolution with a 3 x 3 kernel, stride 1, no dilation, one group:
// what Winograd-class algorithms (Lavin and Gray 2016) compute with fewer
// multiplications, and what cuDNN picks them for on CUDA cores.
bool winograd_shape(const compiler::PlanOp& op);

// Registers the device's parameters (device.peak, device.memory_bandwidth,
// device.efficiency.<class>, ...) and returns them as costs. Fails with a
// message when the device has no usable peak or bandwidth.
bool device_costs(const compiler::Plan& plan, Params& params, DeviceCosts& out, std::string& error);

// The peak of the device at a precision, with the fallbacks: tf32 -> fp32;
// fp16 and bf16 -> their own, else the other, else fp32; mixed -> the larger
// of fp16 and bf16, else fp32; fp8/int8 -> themselves, else
// fp16 or bf16, else fp32. 0 when none applies.
double peak_at(const compiler::PlanDevice& device, const std::string& precision);
// The same over the vector units' rates (`vector { ... }`); 0 when the device gives none.
double vector_peak_at(const compiler::PlanDevice& device, const std::string& precision);
// The fallbacks above over any table of rates per precision.
double peak_in(const std::map<std::string, double>& peaks, const std::string& precision);

// The defaults above (calibration starts from them and reports against them),
// on vector units; on a matrix engine (tensor cores, matrix cores, a TPU's
// MXU: the precision's peak above the vector units' rate), the compute-bound
// classes' defaults below, fitted to the calibration rows of the accuracy
// benchmark (tests/validation, docs/validate.md).
// Convolutions at tf32 have their own (cuDNN's tf32 kernels move twice the
// operand bytes of fp16 ones per multiply-accumulate).
struct MatrixEfficiency {
  double conv, matmul, attention, recurrent, conv_tf32;
};
inline constexpr MatrixEfficiency kMatrixEfficiency{0.7955, 0.566, 0.7314, 0.5, 0.294};
// An accelerator's vector units (a GPU's CUDA cores: fp32 without tf32)
// have their own convolution and GEMM defaults, fitted to the same rows; a
// CPU's vector units keep the defaults above (dlc calibrate fits those to
// the machine it runs on).
struct VectorEfficiency {
  double conv, matmul;
};
inline constexpr VectorEfficiency kAcceleratorVectorEfficiency{0.7634, 1.0};
double default_efficiency(compiler::OpClass c, bool matrix_engine = false, bool tf32 = false,
                          bool accelerator = false);
// Whether the experiment's precision runs on the device's matrix engine.
bool matrix_engine(const compiler::PlanDevice& device, const std::string& precision);
constexpr double kDefaultMemoryEfficiency = 0.8;
double default_launch_overhead(const std::string& kind);  // cpu: 1 us, else 5 us
// The classes whose efficiency applies to their memory term too (default 1).
bool memory_bound_class(compiler::OpClass c);

struct OpTimes {
  Cost forward, backward;
  Cost forward_compute, forward_memory;   // the two bounds, for reporting
  Cost backward_compute, backward_memory;
};

// The op's forward and backward time at `batch` samples per device.
OpTimes op_times(const compiler::PlanOp& op, const DeviceCosts& d, const Cost& batch, const GemmSplit& split = {});

// Wave quantisation's factor (>= 1) on the compute of the op's forward and
// backward products at `batch` samples: padded work / useful work.
struct WaveFactors {
  Cost forward = 1, backward = 1;
};
WaveFactors wave_factors(const compiler::PlanOp& op, double cores, const Cost& batch, const GemmSplit& split = {});

}  // namespace dlc::simulator
