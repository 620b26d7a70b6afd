#include "simulator/roofline.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace dlc::simulator {

using compiler::OpClass;

namespace {

constexpr OpClass kClasses[] = {OpClass::conv, OpClass::matmul, OpClass::elementwise, OpClass::normalization,
                                OpClass::pooling, OpClass::recurrent, OpClass::attention,
                                OpClass::data_movement, OpClass::embedding, OpClass::input};

double lookup(const std::map<std::string, double>& m, std::string_view key, double fallback) {
  auto it = m.find(std::string(key));
  return it == m.end() ? fallback : it->second;
}

}  // namespace

double default_efficiency(OpClass c, bool matrix_engine, bool tf32, bool accelerator) {
  if (matrix_engine) switch (c) {
      case OpClass::conv: return tf32 ? kMatrixEfficiency.conv_tf32 : kMatrixEfficiency.conv;
      case OpClass::matmul: return kMatrixEfficiency.matmul;
      case OpClass::attention: return kMatrixEfficiency.attention;
      case OpClass::recurrent: return kMatrixEfficiency.recurrent;
      default: return 1.0;
    }
  switch (c) {
    case OpClass::conv: return accelerator ? kAcceleratorVectorEfficiency.conv : 0.7;
    case OpClass::matmul: return accelerator ? kAcceleratorVectorEfficiency.matmul : 0.8;
    case OpClass::attention: return 0.7;
    case OpClass::recurrent: return 0.5;
    default: return 1.0;
  }
}

bool matrix_engine(const compiler::PlanDevice& d, const std::string& precision) {
  if (d.kind == "cpu") return false;
  double vector = vector_peak_at(d, precision);
  if (vector <= 0) vector = peak_at(d, "fp32");
  return peak_at(d, precision) > vector;
}

double default_launch_overhead(const std::string& kind) { return kind == "cpu" ? 1e-6 : 5e-6; }

bool memory_bound_class(OpClass c) {
  switch (c) {
    case OpClass::elementwise:
    case OpClass::normalization:
    case OpClass::pooling:
    case OpClass::data_movement:
    case OpClass::embedding: return true;
    default: return false;
  }
}

double peak_at(const compiler::PlanDevice& d, const std::string& precision) { return peak_in(d.peak, precision); }

double vector_peak_at(const compiler::PlanDevice& d, const std::string& precision) {
  return peak_in(d.vector_peak, precision);
}

double peak_in(const std::map<std::string, double>& peaks, const std::string& precision) {
  auto get = [&](const char* p) { return lookup(peaks, p, 0); };
  if (precision == "fp64") return get("fp64");
  if (precision == "fp32") return get("fp32");
  if (precision == "tf32") return get("tf32") > 0 ? get("tf32") : get("fp32");
  // fp16 and bf16 at their own rate where the device gives it (an A100's vector units: 78 and 39
  // TFLOPS), else the other's; mixed precision at the faster.
  if (precision == "fp16" || precision == "bf16") {
    double own = get(precision.c_str()), other = get(precision == "fp16" ? "bf16" : "fp16");
    return own > 0 ? own : other > 0 ? other : get("fp32");
  }
  if (precision == "mixed") {
    double half = std::max(get("fp16"), get("bf16"));
    return half > 0 ? half : get("fp32");
  }
  double own = get(precision.c_str());
  if (own > 0) return own;
  double half = std::max(get("fp16"), get("bf16"));
  return half > 0 ? half : get("fp32");
}

Cost DeviceCosts::efficiency(OpClass c) const { return class_efficiency[static_cast<int>(c)]; }

bool device_costs(const compiler::Plan& plan, Params& params, DeviceCosts& out, std::string& error) {
  const compiler::PlanDevice& d = plan.system.device;
  double peak = peak_at(d, plan.precision);
  if (peak <= 0) {
    error = fmt::format("device '{}' has no peak rate usable at {} (give peak {{ {} = ... }})", d.name,
                        plan.precision, plan.precision == "mixed" ? "fp16" : plan.precision);
    return false;
  }
  if (d.memory_bandwidth <= 0) {
    error = fmt::format("device '{}' has no memory_bandwidth: the roofline needs it", d.name);
    return false;
  }
  // A power cap below the board power the peaks are quoted at lowers the
  // clock: dynamic power goes as f·V², and V as f along the voltage-frequency
  // curve, so the compute rates fall as the cube root of the ratio.
  double clock = 1;
  if (d.power_limit > 0) {
    if (d.power <= 0) {
      error = fmt::format("device '{}' gives power_limit but not power: a cap lowers the clock relative to the "
                          "board power its peaks are quoted at",
                          d.name);
      return false;
    }
    clock = std::cbrt(std::min(1.0, d.power_limit / d.power));
  }
  Cost clock_factor = params.add("device.power_clock", clock);
  params.constrain(*params.find("device.power_clock"), {0, 1, true, false});
  out.peak = params.add("device.peak", peak, lang::dims::op_rate()) * clock_factor;
  // Normalisations, elementwise ops and pooling run on the vector units, where the device gives their rate.
  Cost vector = out.peak;
  if (double v = vector_peak_at(d, plan.precision); v > 0) {
    vector = params.add("device.vector_peak", v, lang::dims::op_rate()) * clock_factor;
    params.constrain(*params.find("device.vector_peak"), {0, 1e300, true, false});
  }
  out.memory_bandwidth = params.add("device.memory_bandwidth", d.memory_bandwidth, lang::dims::bandwidth());
  out.memory_efficiency =
      params.add("device.efficiency.memory", lookup(d.efficiency, "memory", kDefaultMemoryEfficiency));
  double overhead = d.launch_overhead ? *d.launch_overhead : default_launch_overhead(d.kind);
  out.launch_overhead = params.add("device.launch_overhead", overhead, lang::dims::time());
  out.software_overhead = params.add("software.overhead", plan.software_overhead.value_or(0), lang::dims::time());
  Cost software_efficiency[10];
  bool matrix = matrix_engine(d, plan.precision), tf32 = plan.precision == "tf32";
  for (OpClass c : kClasses) {
    std::string name(compiler::op_class_name(c));
    Cost device = params.add("device.efficiency." + name, lookup(d.efficiency, name, default_efficiency(c, matrix, tf32, d.kind != "cpu")));
    Cost software = params.add("software.efficiency." + name, lookup(plan.software_efficiency, name, 1.0));
    software_efficiency[static_cast<int>(c)] = software;
    // An inference experiment's forward pass, where the device gives its own efficiency for it.
    if (auto inference = d.efficiency_inference.find(name);
        plan.phase == "inference" && inference != d.efficiency_inference.end()) {
      device = params.add("device.efficiency_inference." + name, inference->second);
      params.constrain(*params.find("device.efficiency_inference." + name), {0, 1, true, false});
    }
    out.class_efficiency[static_cast<int>(c)] = device * software;
    out.class_rate[static_cast<int>(c)] = (memory_bound_class(c) ? vector : out.peak) * out.class_efficiency[static_cast<int>(c)];
  }
  auto constrain = [&](const char* name, Params::Range r) { params.constrain(*params.find(name), r); };
  constrain("device.peak", {0, 1e300, true, false});
  constrain("device.memory_bandwidth", {0, 1e300, true, false});
  constrain("device.efficiency.memory", {0, 1, true, false});
  // The backward pass's efficiency, per class where the device gives one.
  Cost backward_efficiency[10];
  for (OpClass c : kClasses) {
    std::string name(compiler::op_class_name(c));
    int i = static_cast<int>(c);
    auto given = d.efficiency_backward.find(name);
    if (given == d.efficiency_backward.end()) {
      backward_efficiency[i] = out.class_efficiency[i];
      continue;
    }
    Cost device = params.add("device.efficiency_backward." + name, given->second);
    constrain(("device.efficiency_backward." + name).c_str(), {0, 1, true, false});
    backward_efficiency[i] = device * software_efficiency[i];
  }
  for (OpClass c : kClasses) {
    std::string name(compiler::op_class_name(c));
    constrain(("device.efficiency." + name).c_str(), {0, 1, true, false});
    constrain(("software.efficiency." + name).c_str(), {0, 1e300, true, false});
  }
  out.bandwidth = out.memory_bandwidth * out.memory_efficiency;
  for (OpClass c : kClasses) {
    int i = static_cast<int>(c);
    out.class_bandwidth[i] = memory_bound_class(c) ? out.bandwidth * out.class_efficiency[i] : out.bandwidth;
    out.class_rate_backward[i] = (memory_bound_class(c) ? vector : out.peak) * backward_efficiency[i];
    out.class_bandwidth_backward[i] = memory_bound_class(c) ? out.bandwidth * backward_efficiency[i] : out.bandwidth;
  }
  out.fixed = out.launch_overhead + out.software_overhead;
  if (d.kind == "gpu" && d.cores > 0) out.cores = static_cast<double>(d.cores);
  Cost winograd = params.add("software.winograd", plan.software_winograd.value_or(1));
  constrain("software.winograd", {0, 1e300, true, false});
  int conv = static_cast<int>(OpClass::conv);
  out.conv3x3_rate = matrix ? out.class_rate[conv] : out.class_rate[conv] * winograd;
  out.conv3x3_rate_backward = matrix ? out.class_rate_backward[conv] : out.class_rate_backward[conv] * winograd;
  return true;
}

bool winograd_shape(const compiler::PlanOp& op) {
  if (op.op != "conv" || !op.def || op.output.size() != 3) return false;  // [C, H, W]: a 2-D convolution
  auto ints = [&](const char* name) {
    int i = op.def->param_index(name);
    return i < 0 ? std::vector<std::int64_t>{} : op.args.attrs.at(static_cast<std::size_t>(i)).ints;
  };
  auto all = [](const std::vector<std::int64_t>& v, std::int64_t x) {
    return std::all_of(v.begin(), v.end(), [x](std::int64_t e) { return e == x; });
  };
  std::vector<std::int64_t> kernel = ints("kernel"), groups = ints("groups");
  // A square kernel may be written once (kernel = 3) or per dimension (kernel = [3, 3]).
  return (kernel.size() == 1 || kernel.size() == 2) && all(kernel, 3) && all(ints("stride"), 1) &&
         all(ints("dilation"), 1) &&
         (groups.empty() || groups.front() == 1);
}

namespace {

// A tile's edge along a dimension of `d`: kTile, or the power of two
// that covers a smaller d, at least kMinTile (libraries ship narrow tiles for
// skinny products).
Cost edge(const Cost& d) { return min(Cost(kTile), max(Cost(kMinTile), exp2(ceil(log2(d))))); }

// Adds one product's work, m x k by k x n, `instances` of them, to `padded`
// (as tiled over `cores`) and `useful`.
void tile(const Cost& m, const Cost& n, const Cost& k, const Cost& instances, double cores, Cost& padded,
          Cost& useful) {
  Cost tm = edge(m), tn = edge(n);
  Cost tiles = ceil(m / tm) * ceil(n / tn) * instances;
  Cost fill = Cost(0) - ceil(Cost(0) - Cost(cores) / tiles);  // floor(cores / tiles)
  Cost split = max(Cost(1), min(fill, ceil(k / kTile)));
  Cost waves = ceil(tiles * split / cores);
  padded = padded + waves * cores * tm * tn * k / split;
  useful = useful + m * n * k * instances;
}

}  // namespace

WaveFactors wave_factors(const compiler::PlanOp& op, double cores, const Cost& batch, const GemmSplit& split) {
  WaveFactors w;
  if (cores <= 0 || op.gemms.empty()) return w;
  Cost padded_forward = 0, useful_forward = 0, padded_backward = 0, useful_backward = 0;
  auto part = [](std::int64_t x, std::int64_t by) { return static_cast<double>(std::max<std::int64_t>(1, x / by)); };
  for (const compiler::Gemm& g : op.gemms) {
    // A row block's products split n or k; a batched product's instances split.
    Cost n = part(g.n, g.m_per_sample ? split.n : 1), k = part(g.k, g.m_per_sample ? split.k : 1);
    Cost count = part(g.count, g.m_per_sample ? 1 : split.count);
    Cost m = g.m_per_sample ? Cost(static_cast<double>(g.m)) * batch : Cost(static_cast<double>(g.m));
    Cost instances = g.m_per_sample ? count : count * batch;
    tile(m, n, k, instances, cores, padded_forward, useful_forward);
    tile(m, k, n, instances, cores, padded_backward, useful_backward);  // the data gradient
    tile(n, k, m, instances, cores, padded_backward, useful_backward);  // the weight (or second operand's) gradient
  }
  w.forward = padded_forward / useful_forward;
  w.backward = padded_backward / useful_backward;
  return w;
}

OpTimes op_times(const compiler::PlanOp& op, const DeviceCosts& d, const Cost& batch, const GemmSplit& split) {
  OpTimes t;
  bool empty = op.macs_forward == 0 && op.bytes_forward == 0 && op.weight_bytes == 0;
  if (empty) return t;  // an input, a reshape: no device work
  bool winograd = winograd_shape(op);
  const Cost& rate = winograd ? d.conv3x3_rate : d.class_rate[static_cast<int>(op.op_class)];
  const Cost& bandwidth = d.class_bandwidth[static_cast<int>(op.op_class)];
  const Cost& fixed = d.fixed;
  // Tensors inside the op (attention's scores, the logits' loss) are other kernels' traffic: it adds.
  auto io = [](std::int64_t bytes, std::int64_t scratch) { return static_cast<double>(bytes - scratch); };
  Cost scratch_forward = Cost(static_cast<double>(op.scratch_bytes_forward)) * batch / d.bandwidth;
  WaveFactors waves;
  if (d.cores > 0 && !op.gemms.empty()) {
    std::string key = fmt::format("{}|{},{},{}", batch.id(), split.n, split.k, split.count);
    for (const compiler::Gemm& g : op.gemms) key += fmt::format("|{},{},{},{},{}", g.m, g.n, g.k, g.count, g.m_per_sample);
    auto [it, fresh] = d.wave_cache.try_emplace(key);
    if (fresh) {
      WaveFactors w = wave_factors(op, d.cores, batch, split);
      it->second = {w.forward, w.backward};
    }
    waves.forward = it->second.first;
    waves.backward = it->second.second;
  }
  t.forward_compute = Cost(2.0 * static_cast<double>(op.macs_forward)) * batch / rate * waves.forward;
  t.forward_memory = (Cost(io(op.bytes_forward, op.scratch_bytes_forward)) * batch +
                      static_cast<double>(op.weight_bytes)) / bandwidth + scratch_forward;
  t.forward = max(t.forward_compute + scratch_forward, t.forward_memory) + fixed;
  // What only data feeds and has no weights (a relu on the input) has no
  // backward pass, so no launch either.
  if (op.macs_backward == 0 && op.bytes_backward == 0 && op.weight_bytes == 0) return t;
  int c = static_cast<int>(op.op_class);
  t.backward_compute =
      Cost(2.0 * static_cast<double>(op.macs_backward)) * batch / (winograd ? d.conv3x3_rate_backward : d.class_rate_backward[c]) *
      waves.backward;
  Cost scratch_backward = Cost(static_cast<double>(op.scratch_bytes_backward)) * batch / d.bandwidth;
  t.backward_memory = (Cost(io(op.bytes_backward, op.scratch_bytes_backward)) * batch +
                       2.0 * static_cast<double>(op.weight_bytes)) / d.class_bandwidth_backward[c] + scratch_backward;
  t.backward = max(t.backward_compute + scratch_backward, t.backward_memory) + fixed;
  return t;
}

}  // namespace dlc::simulator
