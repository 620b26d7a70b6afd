#include "simulator/simulate.hpp"

#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "lang/diagnostics.hpp"
#include "lang/units.hpp"
#include "simulator/collectives.hpp"
#include "simulator/crossbar.hpp"
#include "simulator/interval.hpp"
#include "simulator/memory.hpp"
#include "simulator/parallel.hpp"
#include "simulator/roofline.hpp"

namespace dlc::simulator {

using compiler::OpClass;
using compiler::Plan;

namespace {


// Memory per device of a variant of the plan, or nothing when it cannot be
// simulated (a layout the system does not allow, ...).
std::optional<double> memory_of(const Plan& plan) {
  Simulation sim;
  std::string error;
  if (!build(plan, sim, error)) return std::nullopt;
  compiler::Result r;
  if (!evaluate(sim, sim.params.values(), r, error, false)) return std::nullopt;
  return r.totals.memory_per_device_bytes;
}

// What would make an experiment that does not fit fit: each knob changed on
// its own, tried (a variant fits when it simulates and its memory is within
// the device's). "zero = 3 (41.20 GB)", ...; if none does alone, whether all
// of them together would.
std::string fitting_changes(const Plan& plan, double capacity) {
  struct Variant {
    std::string what;
    Plan plan;
  };
  // Each knob: its settings from the mildest; the first that fits is named.
  std::vector<std::vector<Variant>> knobs;
  bool training = plan.phase == "training";
  bool hybrid = plan.parallel == "hybrid";
  bool model_parallel = plan.parallel == "model";
  if (training && !model_parallel && plan.system.devices() > 1) {
    std::vector<Variant> zero;
    for (std::int64_t z = plan.parallel_integer("zero", 0) + 1; z <= 3; ++z) {
      Plan v = plan;
      v.parallel_args["zero"] = std::to_string(z);
      zero.push_back({fmt::format("zero = {}", z), v});
    }
    knobs.push_back(zero);
  }
  if (training && !model_parallel && plan.recompute != "full") {
    std::vector<Variant> recompute;
    for (const char* r : {"selective", "ops", "full"})
      if (plan.recompute != r) {
        Plan v = plan;
        v.recompute = r;
        recompute.push_back({fmt::format("recompute = {}", r), v});
      }
    knobs.push_back(recompute);
  }
  if (!model_parallel && plan.microbatch.value_or(2) > 1) {
    Plan v = plan;
    v.microbatch = 1;
    knobs.push_back({{"microbatch = 1", v}});
  }
  if (!model_parallel) {
    std::int64_t t = hybrid ? plan.parallel_integer("tensor", 1) : 1;
    std::int64_t p = hybrid ? plan.parallel_integer("pipeline", 1) : 1;
    Plan base = plan;
    if (!hybrid && base.batch_per != "global") {  // a replica's batch, written globally
      base.batch *= base.batch_per == "device" ? plan.system.devices() : plan.system.nodes;
      base.batch_per = "global";
    }
    auto layout = [&](std::int64_t tt, std::int64_t pp) {
      Plan v = base;
      v.parallel = "hybrid";
      v.parallel_args["tensor"] = std::to_string(tt);
      v.parallel_args["pipeline"] = std::to_string(pp);
      v.parallel_args.erase("data");
      return v;
    };
    std::vector<Variant> tensor, pipeline;
    for (std::int64_t tt = 2 * t; tt <= plan.system.devices_per_node; tt *= 2)
      tensor.push_back({fmt::format("tensor = {}", tt), layout(tt, p)});
    for (std::int64_t pp = 2 * p; pp * t <= plan.system.devices(); pp *= 2)
      pipeline.push_back({fmt::format("pipeline = {}", pp), layout(t, pp)});
    if (!tensor.empty()) knobs.push_back(tensor);
    if (!pipeline.empty()) knobs.push_back(pipeline);
  }
  if (plan.precision == "fp32" || plan.precision == "fp64") {
    Plan v = plan;
    v.precision = "mixed";
    v.element_bytes = compiler::precision_bytes("mixed");
    double f = static_cast<double>(v.element_bytes) / static_cast<double>(plan.element_bytes);
    for (compiler::PlanOp& op : v.ops)  // the Plan's bytes are at the element size
      for (std::int64_t* b : {&op.bytes_forward, &op.bytes_backward, &op.weight_bytes, &op.activation_bytes,
                              &op.internal_activation_bytes})
        *b = static_cast<std::int64_t>(static_cast<double>(*b) * f);
    knobs.push_back({{"precision = mixed", v}});
  }
  if (plan.batch > 1 && !plan.microbatch) {
    Plan v = plan;
    v.batch = plan.batch / 2;
    knobs.push_back(
        {{fmt::format("batch = {}{}", v.batch, plan.batch_per == "global" ? "" : " per " + plan.batch_per), v}});
  }
  std::vector<std::string> fits, tried;
  for (const std::vector<Variant>& knob : knobs) {
    bool fit = false;
    for (const Variant& v : knob)
      if (auto m = memory_of(v.plan); m && *m <= capacity) {
        fits.push_back(fmt::format("{} ({:.2f} GB)", v.what, *m / 1e9));
        fit = true;
        break;
      }
    if (!fit && !knob.empty()) tried.push_back(knob.back().what);
  }
  if (!fits.empty()) return fmt::format("; each of these fits: {}", fmt::join(fits, ", "));
  if (tried.empty()) return "";
  return fmt::format("; none of these fits on its own: {}", fmt::join(tried, ", "));
}

}  // namespace

double written_global_batch(const Plan& plan) {
  double b = static_cast<double>(plan.batch);
  return plan.batch_per == "device" ? b * static_cast<double>(plan.system.devices())
         : plan.batch_per == "node" ? b * static_cast<double>(plan.system.nodes)
                                    : b;
}

bool start_model(const Plan& plan, Simulation& s, DeviceCosts& dev, NetworkCosts& net, std::string& error) {
  s = Simulation{};
  s.plan = plan;
  return device_costs(plan, s.params, dev, error) && network_costs(plan, s.params, net, error);
}

// key=value, the value a number with an optional unit of the parameter's dimension.
bool set_parameter(Params& params, const std::string& key, const std::string& text, std::string& error) {
  auto id = params.find(key);
  if (!id) {
    std::vector<std::string> names(params.names().begin(), params.names().end());
    std::string close = lang::closest_match(key, names);
    error = fmt::format("no parameter '{}'{}; the model's parameters are: {}", key,
                        close.empty() ? "" : fmt::format(" (did you mean '{}'?)", close), fmt::join(names, ", "));
    return false;
  }
  auto q = lang::parse_quantity(text);
  if (!q) {
    error = fmt::format("'{}' is not a number with a unit (write {}=100 or {}=56Gb/s)", text, key, key);
    return false;
  }
  lang::Dimension want = params.dimension(*id);
  bool counts = want == lang::dims::samples() && q->dim.dimensionless();
  if (q->dim != want && !counts) {
    error = fmt::format("'{}' expects {}, got {}", key,
                        want.dimensionless() ? "a plain number" : lang::with_article(want.describe()),
                        q->dim.dimensionless() ? "a plain number" : lang::with_article(q->dim.describe()));
    return false;
  }
  const Params::Range& r = params.range(*id);
  double v = q->value;
  if (r.integer && v != std::floor(v)) {
    error = fmt::format("'{}' must be a whole number, got {}", key, v);
    return false;
  }
  if ((r.positive && v <= r.min) || (!r.positive && v < r.min) || v > r.max) {
    error = r.positive && r.max >= 1e300 ? fmt::format("'{}' must be positive, got {}", key, text)
            : r.max >= 1e300            ? fmt::format("'{}' must be at least {}, got {}", key, r.min, text)
                                         : fmt::format("'{}' must be {} {} and at most {}, got {}", key,
                                                       r.positive ? "above" : "at least", r.min, r.max, text);
    return false;
  }
  params.set(*id, v);
  return true;
}

double kernels_per_pass(const Plan& plan) {
  bool training = plan.phase == "training";
  bool casts = plan.software_autocast && plan.precision == "mixed";
  double kernels = 0;
  for (const compiler::PlanOp& op : plan.ops) {
    if (op.macs_forward == 0 && op.bytes_forward == 0 && op.weight_bytes == 0) continue;
    kernels += 1;
    // Autocast runs GEMM ops (convolutions, linear layers, matmuls) at 16 bits,
    // casting their weights every forward; normalisations keep theirs.
    if (casts && op.params > 0 && !op.gemms.empty()) kernels += 1;
    if (training) kernels += (op.data_gradient ? 1 : 0) + (op.params > 0 ? 1 : 0);
  }
  return kernels;
}

Cost framework_step(Simulation& s, const Cost& device_step, const Cost& kernels, const Cost& samples, Cost& extra) {
  const Plan& plan = s.plan;
  Params& params = s.params;
  s.framework = !plan.framework.empty() || plan.software_dispatch || plan.software_step_overhead ||
                plan.software_sample_overhead || plan.software_jitter;
  auto add = [&](const char* name, const std::optional<double>& v, lang::Dimension dim, double max) {
    Cost c = params.add(name, v.value_or(0), dim);
    params.constrain(*params.find(name), {0, max, false, false});
    return c;
  };
  Cost dispatch = add("software.dispatch", plan.software_dispatch, lang::dims::time(), 1e300);
  Cost per_step = add("software.step_overhead", plan.software_step_overhead, lang::dims::time(), 1e300);
  Cost per_sample = add("software.sample_overhead", plan.software_sample_overhead, lang::dims::time(), 1e300);
  Cost jitter = add("software.jitter", plan.software_jitter, {}, 1);
  // √(2 ln N) = √(2 ln 2 · log2 N); 0 on one device.
  Cost slowest = Cost(1) + jitter * sqrt(Cost(2 * std::log(2.0)) * log2(s.devices));
  Cost step = max(device_step * slowest, kernels * dispatch) + per_step + samples * per_sample;
  extra = step - device_step;
  return step;
}

bool build(const Plan& plan, Simulation& s, std::string& error) {
  if (plan.system.crossbar) return build_crossbar(plan, s, error);
  if (uses_parallel_engine(plan)) return build_parallel(plan, s, error);
  DeviceCosts dev;
  NetworkCosts net;
  if (!start_model(plan, s, dev, net, error)) return false;
  Params& params = s.params;
  s.devices = net.devices_per_node * net.nodes;

  // Batch per device and global batch, for weak and strong scaling.
  const compiler::PlanSystem& sys = plan.system;
  double base_devices = static_cast<double>(sys.devices());
  double b0 = static_cast<double>(plan.batch);
  double global0 = written_global_batch(plan);
  // `batch` is the experiment's batch as written (per device, per node or global).
  Cost written = params.add("batch", b0);
  params.constrain(*params.find("batch"), {1, 1e12, false, true});
  Cost global_at_base = written * (global0 / b0);
  if (plan.scaling == "strong") {
    s.global_batch = global_at_base;
    s.batch_per_device = global_at_base / s.devices;
  } else {
    s.batch_per_device = global_at_base / base_devices;
    s.global_batch = s.batch_per_device * s.devices;
  }

  bool training = plan.phase == "training";
  bool model_parallel = plan.parallel == "model";
  bool tensor = model_parallel && plan.parallel_arg("scheme", "summa") == "tensor";
  std::size_t fc_seen = 0;  // tensor parallelism: fc layers alternate column- and row-parallel
  double b = static_cast<double>(plan.element_bytes);
  Cost update_rate = dev.bandwidth;
  std::vector<bool> split_ops(plan.ops.size(), false);
  // Tensor parallelism: the activations each device holds 1/P of (bytes per
  // sample, per op), and which ops' outputs are split (a column-parallel fc's,
  // and a weightless op's whose inputs all are: the GELU between the fcs).
  std::vector<double> sharded(plan.ops.size(), 0);
  std::vector<bool> output_split(plan.ops.size(), false);
  Cost layer_comm = 0;  // model parallelism: communication inside the layers, past their compute
  double update_bytes_per_param = update_traffic(plan);

  // Layers: roofline times; model parallelism for fc and matmul layers.
  for (const compiler::PlanOp& op : plan.ops) {
    std::size_t index = static_cast<std::size_t>(&op - plan.ops.data());
    LayerCost l;
    l.name = op.name;
    l.op = op.op;
    // With model parallelism every device sees the whole batch of its group.
    Cost batch = model_parallel ? s.global_batch : s.batch_per_device;
    OpTimes t = op_times(op, dev, batch);
    bool split = model_parallel && op.op_class == OpClass::matmul && op.macs_forward > 0 && (!tensor || op.params > 0);
    bool heads = tensor && op.op_class == OpClass::attention;
    if (tensor && (split || heads)) {
      // Megatron-LM (Shoeybi et al. 2019): the work and the weights are split
      // P ways. A column-parallel fc needs nothing forward and all-reduces its
      // input's gradient backward; a row-parallel fc, and attention (its heads
      // split, its output projection row-parallel), all-reduce their output
      // forward. fc layers alternate column, row, column, ... in model order.
      Cost p = s.devices;
      bool row = heads || (fc_seen++ % 2 == 1);
      // Its heads' Q, K, V, context and scores; a column-parallel fc's output.
      sharded[index] = heads ? static_cast<double>(op.internal_activation_bytes)
                             : row ? 0.0 : static_cast<double>(op.activation_bytes);
      output_split[index] = !row;
      Cost out_bytes = batch * static_cast<double>(op.activation_bytes);
      Cost in_bytes = batch * (static_cast<double>(op.input_elements) * b);
      Cost forward_comm = row ? allreduce("ring", out_bytes, net) : Cost(0);
      Cost backward_comm = row ? Cost(0) : allreduce("ring", in_bytes, net);
      if (heads) backward_comm = allreduce("ring", in_bytes, net);
      l.comm = forward_comm;
      l.forward_compute = t.forward_compute / p;
      l.forward_memory = t.forward_memory / p;
      l.forward = max(l.forward_compute, l.forward_memory) + forward_comm + dev.fixed;
      l.backward = training ? max(t.backward_compute / p, t.backward_memory / p) + backward_comm + dev.fixed : Cost(0);
      layer_comm = layer_comm + forward_comm + (training ? backward_comm : Cost(0));
      split = true;
    } else if (split) {
      Cost p = s.devices;
      // Panels move over the links; on a single device, from its memory (the
      // cookbook's β is "memory or interconnect" bandwidth).
      Cost links = select(Cost(1.5) - net.nodes, net.node_bandwidth, min(net.node_bandwidth, net.net_bandwidth));
      Cost beta = select(p - 1.5, links, dev.memory_bandwidth * dev.memory_efficiency);
      // M x K times K x N: K·N are the weights, M·K the layer's input rows.
      double kn = static_cast<double>(op.params);
      double mk = static_cast<double>(op.input_elements);
      Cost data = (batch * mk + kn) * b / (sqrt(p) * beta);
      Cost compute_f = t.forward_compute / p, compute_b = t.backward_compute / p;
      l.comm = data;
      // data ≤ compute  ⇔  β ≥ (M·K + K·N)·b·√P·γ / (2·M·K·N), γ the effective compute rate
      double mkn = static_cast<double>(op.macs_forward);
      l.summa = true;
      l.grid = sqrt(p);
      l.required_bandwidth = (batch * mk + kn) * b * sqrt(p) * (dev.peak * dev.efficiency(op.op_class)) /
                             (Cost(2) * batch * mkn);
      l.bandwidth = beta;
      l.forward_compute = compute_f;
      l.forward_memory = t.forward_memory / p;
      Cost work_f = max(compute_f, t.forward_memory / p), work_b = max(compute_b, t.backward_memory / p);
      l.forward = max(work_f, data) + dev.fixed;
      l.backward = training ? max(work_b, Cost(2) * data) + dev.fixed : Cost(0);
      // What the panels' movement adds beyond the layer's own work.
      layer_comm = layer_comm + max(work_f, data) - work_f + (training ? max(work_b, Cost(2) * data) - work_b : Cost(0));
    } else {
      bool all_split = tensor && op.params == 0 && !op.inputs.empty();
      for (int i : op.inputs) all_split = all_split && output_split[static_cast<std::size_t>(i)];
      if (all_split) {
        output_split[index] = true;
        sharded[index] = static_cast<double>(op.activation_bytes);
      }
      l.forward = t.forward;
      l.forward_compute = t.forward_compute;
      l.forward_memory = t.forward_memory;
      l.backward = training ? t.backward : Cost(0);
    }
    split_ops[index] = split;
    if (training && op.params > 0) {
      l.update = Cost(static_cast<double>(op.params) * update_bytes_per_param) / update_rate;
      if (split) l.update = l.update / s.devices;  // each device updates its block of the weights
    }
    s.forward = s.forward + l.forward;
    s.backward = s.backward + l.backward;
    s.update = s.update + l.update;
    s.layers.push_back(std::move(l));
  }

  // Gradient exchange (data parallelism).
  if (training && !model_parallel) {
    std::string algorithm = plan.parallel_arg("allreduce", "ring");
    bool overlap = plan.parallel_arg("overlap", "false") == "true";
    double bucket = 25.0 * 1024 * 1024;  // PyTorch DDP's default bucket
    if (auto it = plan.parallel_args.find("bucket"); it != plan.parallel_args.end()) bucket = std::stod(it->second);
    double total_gradient = 0;
    for (const compiler::PlanOp& op : plan.ops) total_gradient += static_cast<double>(op.params) * b;
    Cost exchange_total = allreduce(algorithm, Cost(total_gradient), net);
    if (overlap) {
      // Walk backward from the last layer; a bucket closes at `bucket` bytes.
      Cost backward_done = 0, exchange_done = 0;
      double pending = 0;
      for (std::size_t i = s.layers.size(); i-- > 0;) {
        backward_done = backward_done + s.layers[i].backward;
        pending += static_cast<double>(plan.ops[i].params) * b;
        bool last = i == 0;
        if (pending > 0 && (pending >= bucket || last)) {
          exchange_done = max(exchange_done, backward_done) + allreduce(algorithm, Cost(pending), net);
          pending = 0;
        }
      }
      s.step = s.forward + max(s.backward, exchange_done) + s.update;
    } else {
      s.step = s.forward + s.backward + exchange_total + s.update;
    }
  } else {
    s.step = s.forward + s.backward + s.update;
  }
  Cost framework;
  s.step = framework_step(s, s.step, Cost(kernels_per_pass(plan)), s.batch_per_device, framework);

  if (plan.dataset) {
    params.add("dataset", *plan.dataset, lang::dims::samples());
    params.constrain(*params.find("dataset"), {1, 1e18, false, true});
  }
  if (plan.epochs) {
    params.add("epochs", *plan.epochs);
    params.constrain(*params.find("epochs"), {0, 1e9, true, false});
  }

  // With model parallelism the split layers' weights, gradients and optimizer
  // state are spread over the devices; the other layers' are whole on each.
  MemoryCosts mem = memory_costs(plan, model_parallel ? s.global_batch : s.batch_per_device, split_ops, s.devices,
                                 sharded);
  s.memory = mem.total();
  s.device_memory_bytes = sys.device.memory;

  double macs = 0;
  for (const compiler::PlanOp& op : plan.ops)
    macs += static_cast<double>(op.macs_forward + (training ? op.macs_backward : 0));
  s.hardware_macs = s.global_batch * macs;
  std::vector<Cost> roots = {s.batch_per_device, s.global_batch, s.devices,  s.step,     s.forward, s.backward,
                             s.update,           s.memory,       layer_comm, s.hardware_macs, framework};
  for (const LayerCost& l : s.layers)
    for (const Cost* c : {&l.forward, &l.backward, &l.update, &l.forward_compute, &l.forward_memory, &l.comm,
                          &l.grid, &l.required_bandwidth, &l.bandwidth})
      roots.push_back(*c);
  s.program = CostProgram::compile(roots);
  return true;
}

bool evaluate(const Simulation& s, compiler::Result& r, std::string& error) {
  return evaluate(s, s.params.values(), r, error, true);
}

bool evaluate(const Simulation& s, std::span<const double> values, compiler::Result& r, std::string& error) {
  return evaluate(s, values, r, error, false);
}

bool evaluate(const Simulation& s, std::span<const double> values, compiler::Result& r, std::string& error,
              bool suggest) {
  if (s.crossbar) return evaluate_crossbar(s, values, r, error);
  std::vector<double> x;
  s.program.run(values, x);
  const double per_device = x[0], global = x[1], devices = x[2], step = x[3];
  const double compute = x[4] + x[5] + x[6] - x[8], memory = x[7];
  const Plan& p = s.plan;
  const compiler::PlanSystem& sys = p.system;
  auto value = [&](const char* name) { return values[*s.params.find(name)]; };
  if (value("devices_per_node") > 1 && !sys.intra_node) {
    error = fmt::format("'{}' has no link between the devices of a node, so it cannot have {} per node", sys.name,
                        value("devices_per_node"));
    return false;
  }
  if (value("nodes") > 1 && !sys.network) {
    error = fmt::format("'{}' has no network between nodes, so it cannot have {} nodes", sys.name, value("nodes"));
    return false;
  }
  if (!(global < 9e18)) {
    error = fmt::format("a global batch of {:g} samples is too large", global);
    return false;
  }
  if (s.layout) {
    const ParallelLayout& L = *s.layout;
    if (value("devices_per_node") != static_cast<double>(sys.devices_per_node) ||
        value("nodes") != static_cast<double>(sys.nodes)) {
      error = fmt::format("the parallel layout (tensor {} x pipeline {} x data {}) is fixed for '{}''s {} devices; "
                          "write the other system or layout in the spec rather than scale it",
                          L.tensor, L.pipeline, L.data, sys.name, sys.devices());
      return false;
    }
    auto given = s.params.find("microbatch");
    double microbatch = given ? values[*given] : global / static_cast<double>(L.data);
    if (per_device < 1 - 1e-9 || std::fabs(per_device - std::round(per_device)) > 1e-9) {
      error = fmt::format("a global batch of {:g} does not split into microbatches of {:g} over {} data-parallel "
                          "replicas ({:g} / ({} x {:g}) = {:g}); make the batch a multiple of {:g}",
                          global, microbatch, L.data, global, L.data, microbatch, per_device,
                          static_cast<double>(L.data) * microbatch);
      return false;
    }
    if (L.schedule == "interleaved" && std::llround(per_device) % L.pipeline != 0) {
      error = fmt::format("the interleaved schedule needs the microbatches per replica ({}) to be a multiple of the "
                          "pipeline's {} stages", std::llround(per_device), L.pipeline);
      return false;
    }
  } else if (p.parallel != "model" && std::fabs(per_device - std::round(per_device)) > 1e-9) {
    error = fmt::format("a global batch of {} does not divide across {} devices", global, devices);
    return false;
  }
  if (s.device_memory_bytes > 0 && memory > s.device_memory_bytes) {
    error = fmt::format("experiment '{}' needs {:.2f} GB per device but '{}' has {:.2f} GB: {:.2f} GB too much",
                        p.experiment, memory / 1e9, sys.device.name, s.device_memory_bytes / 1e9,
                        (memory - s.device_memory_bytes) / 1e9);
    if (suggest) error += fitting_changes(p, s.device_memory_bytes);
    return false;
  }
  if (p.parallel == "model" && (p.parallel_args.count("scheme") == 0 || p.parallel_args.at("scheme") == "summa")) {
    double side = std::round(std::sqrt(devices));
    if (side * side != devices) {
      error = fmt::format("SUMMA needs a square number of devices (a √P x √P grid); {} is not (try {} or {})",
                          devices, std::floor(std::sqrt(devices)) * std::floor(std::sqrt(devices)),
                          std::ceil(std::sqrt(devices)) * std::ceil(std::sqrt(devices)));
      return false;
    }
  }
  r = compiler::Result{};
  r.experiment = p.experiment;
  r.model = p.model;
  r.system = sys.name;
  r.device = sys.device.name;
  r.phase = p.phase;
  r.precision = p.precision;
  r.batch = static_cast<std::int64_t>(std::llround(global));
  r.layers.reserve(s.layers.size());
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    const double* l = &x[Simulation::kTotals + i * Simulation::kPerLayer];
    compiler::LayerResult lr;
    lr.name = s.layers[i].name;
    lr.op = s.layers[i].op;
    lr.forward_s = l[0];
    lr.backward_s = l[1];
    lr.update_s = l[2];
    if (lr.forward_s > 0) {
      double c = l[3], m = l[4], d = l[5];
      lr.bound = d > std::max(c, m) ? "communication" : c >= m ? "compute" : "memory";
      if (std::max(std::max(c, m), d) < lr.forward_s * 0.5) lr.bound = "overhead";
    }
    if (s.layers[i].summa) r.summa.push_back({lr.name, l[6], l[7], l[8]});
    r.layers.push_back(std::move(lr));
  }
  if (!std::isfinite(step) || step <= 0 || !std::isfinite(memory)) {
    error = "the model's parameters give no finite, positive step time (a zero rate or bandwidth?)";
    return false;
  }
  r.totals.iteration_s = step;
  r.totals.compute_s = compute;
  r.totals.comm_s = std::max(0.0, step - compute - x[10]);
  if (s.framework) r.totals.framework_s = x[10];
  r.totals.samples_per_s = step > 0 ? global / step : 0;
  // The benchmark's rows are GPU runs: other devices get no interval until it has rows for them.
  const ClassInterval* c = sys.device.kind == "gpu" ? shipped_interval(workload_class(p)) : nullptr;
  if (c && c->rows > 0) {
    r.totals.iteration_s_low = step * c->low;
    r.totals.iteration_s_high = step * c->high;
    r.totals.interval_class = c->workload_class;
  }
  auto dataset = s.params.find("dataset"), epochs = s.params.find("epochs");
  if (dataset && r.totals.samples_per_s > 0) {
    // An epoch is a whole number of steps: the last, partial batch is a step too.
    r.totals.epoch_s = std::ceil(values[*dataset] / global - 1e-9) * step;
    if (epochs) r.totals.total_s = *r.totals.epoch_s * values[*epochs];
  }
  r.totals.memory_per_device_bytes = memory;
  // A capped board draws at most its cap.
  double power = sys.device.power_limit > 0 && sys.device.power > 0
                     ? std::min(sys.device.power, sys.device.power_limit)
                     : sys.device.power;
  if (power > 0) r.energy_per_sample_j = power * devices * step / global;
  // How well the step uses the devices (compiler/result.hpp, Utilisation).
  compiler::Utilisation u;
  double model_macs = 0;
  for (const compiler::PlanOp& op : p.ops) model_macs += static_cast<double>(op.macs_model);
  bool training = p.phase == "training";
  u.model_flops_per_step = 2 * model_macs * (training ? 3 : 1) * global;
  u.hardware_flops_per_step = 2 * x[9];
  u.peak_flops_per_device = peak_at(sys.device, p.precision);
  u.flops_per_device_per_s = u.hardware_flops_per_step / step / devices;
  u.mfu = u.model_flops_per_step / (step * devices * u.peak_flops_per_device);
  u.hfu = u.hardware_flops_per_step / (step * devices * u.peak_flops_per_device);
  if (p.tokens_per_sample > 0) u.tokens_per_s = r.totals.samples_per_s * static_cast<double>(p.tokens_per_sample);
  if (!p.ops.empty()) r.utilisation = u;
  if (p.tokens) {
    if (p.tokens_per_sample == 0) {
      error = fmt::format("tokens = {:g} needs a sequence model (token ids as its input); '{}' reads {}; give "
                          "dataset and epochs instead",
                          *p.tokens, p.model, p.ops.empty() ? "nothing" : "no token ids");
      return false;
    }
    if (dataset) {
      error = "give either tokens or dataset (with epochs), not both: each sets the length of the run";
      return false;
    }
    r.tokens = *p.tokens;
    r.steps = std::ceil(*p.tokens / (global * static_cast<double>(p.tokens_per_sample)) - 1e-9);
    r.totals.total_s = *r.steps * step;
  }
  if (r.totals.total_s) {
    if (power > 0) r.energy_j = power * devices * *r.totals.total_s;
    if (p.price) {
      double units = p.price_per == "node" ? static_cast<double>(sys.nodes) : devices;
      r.cost_usd = *p.price * units * *r.totals.total_s;
    }
  }
  if (p.phase == "training" && dataset) {
    compiler::Requirements q;
    double forward = 0;
    for (const compiler::PlanOp& op : p.ops) forward += static_cast<double>(op.macs_forward);
    q.macs_per_epoch = 3 * forward * values[*dataset];
    q.flops_per_epoch = 2 * q.macs_per_epoch;
    if (p.target_time) {
      double total = q.macs_per_epoch * (epochs ? values[*epochs] : 1);
      q.target_s = *p.target_time;
      q.macs_per_s = total / *p.target_time;
      q.flops_per_s = 2 * *q.macs_per_s;
    }
    r.requirements = q;
  }
  return true;
}

}  // namespace dlc::simulator
