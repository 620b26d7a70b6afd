#include "compiler/plan.hpp"

#include <filesystem>
#include <fmt/format.h>

namespace dlc::compiler {

std::int64_t precision_bytes(std::string_view p) {
  if (p == "fp64") return 8;
  if (p == "fp32" || p == "tf32") return 4;
  if (p == "fp16" || p == "bf16" || p == "mixed") return 2;
  return 1;  // fp8, int8
}

namespace {

const Value* get(const CheckedDecl& d, std::string_view key) {
  const Property* p = d.find(key);
  return p ? &p->value : nullptr;
}

double number(const CheckedDecl& d, std::string_view key, double fallback = 0) {
  const Value* v = get(d, key);
  return v && v->kind == Value::Kind::number ? v->number : fallback;
}

std::string text(const Value& v) {
  switch (v.kind) {
    case Value::Kind::symbol:
    case Value::Kind::string: return v.text;
    case Value::Kind::boolean: return v.boolean ? "true" : "false";
    case Value::Kind::number: return v.integral ? std::to_string(v.integer) : fmt::format("{}", v.number);
    default: return value_string(v);
  }
}

PlanLink link(const CheckedModule& m, const lang::ast::Decl* decl) {
  const CheckedDecl& d = *m.find_decl(decl->name.name);
  return {d.name, number(d, "bandwidth"), number(d, "latency"), number(d, "efficiency", 1)};
}

std::optional<PlanLink> link_property(const CheckedModule& m, const CheckedDecl& d, std::string_view key) {
  const Value* v = get(d, key);
  if (!v || !v->decl) return std::nullopt;
  return link(m, v->decl);
}

PlanDevice device(const CheckedDecl& d) {
  PlanDevice out;
  out.name = d.name;
  for (const Property& p : d.properties) {
    if (p.key == "kind") out.kind = p.value.text;
    else if (p.key.starts_with("peak.")) out.peak[p.key.substr(5)] = p.value.number;
    else if (p.key.starts_with("vector.")) out.vector_peak[p.key.substr(7)] = p.value.number;
    else if (p.key.starts_with("efficiency.")) out.efficiency[p.key.substr(11)] = p.value.number;
    else if (p.key.starts_with("efficiency_backward.")) out.efficiency_backward[p.key.substr(20)] = p.value.number;
    else if (p.key.starts_with("efficiency_inference.")) out.efficiency_inference[p.key.substr(21)] = p.value.number;
  }
  out.memory = number(d, "memory");
  out.memory_bandwidth = number(d, "memory_bandwidth");
  if (const Value* v = get(d, "launch_overhead")) out.launch_overhead = v->number;
  out.power = number(d, "power");
  out.power_limit = number(d, "power_limit");
  out.cores = static_cast<std::int64_t>(number(d, "cores"));
  return out;
}

// A replicated reference (8 * P100): the count and the declaration.
std::pair<std::int64_t, const CheckedDecl*> replicated(const CheckedModule& m, const CheckedDecl& d,
                                                       std::string_view key) {
  const Value* v = get(d, key);
  if (!v || !v->decl) return {0, nullptr};
  return {v->count, m.find_decl(v->decl->name.name)};
}

// A crossbar declaration over ISAAC-CE's defaults (compiler/crossbar.hpp).
Crossbar crossbar(const CheckedDecl& d) {
  Crossbar c;
  c.name = d.name;
  auto whole = [&](std::string_view key, std::int64_t& field) {
    if (const Value* v = get(d, key)) field = static_cast<std::int64_t>(v->number);
  };
  auto real = [&](std::string_view key, double& field) {
    if (const Value* v = get(d, key)) field = v->number;
  };
  auto flag = [&](std::string_view key, bool& field) {
    if (const Value* v = get(d, key)) field = v->boolean;
  };
  for (auto& [key, field] : c.integers()) whole(key, *field);
  for (auto& [key, field] : c.reals()) real(key, *field);
  if (const Value* v = get(d, "signed_weights")) c.signed_weights = v->text;
  flag("unit_column", c.unit_column);
  flag("flip_encoding", c.flip_encoding);
  flag("replicate", c.replicate);
  for (auto& [name, part] : c.parts()) {
    real(fmt::format("power.{}", name), part->power);
    real(fmt::format("area.{}", name), part->area);
  }
  real("noise.programming_variation", c.programming_variation);
  real("noise.read_noise", c.read_noise);
  real("noise.wire_resistance", c.wire_resistance);
  real("noise.stuck_at", c.stuck_at);
  if (const Value* v = get(d, "noise.seed")) c.seed = static_cast<std::uint64_t>(v->number);
  return c;
}

PlanSystem system(const CheckedModule& m, const CheckedDecl& d) {
  PlanSystem s;
  s.name = d.name;
  s.kind = lang::ast::decl_kind_name(d.kind);
  const CheckedDecl* node = nullptr;
  if (d.kind == lang::ast::DeclKind::device) {
    s.device = device(d);
    return s;
  }
  if (d.kind == lang::ast::DeclKind::crossbar) {
    s.crossbar = crossbar(d);
    s.device.name = d.name;
    s.device.kind = "crossbar";
    return s;
  }
  if (d.kind == lang::ast::DeclKind::cluster) {
    auto [count, n] = replicated(m, d, "nodes");
    s.nodes = count;
    node = n;
    s.network = link_property(m, d, "network");
  } else if (d.kind == lang::ast::DeclKind::node) {
    node = &d;
  }
  if (!node) return s;
  auto [count, dev] = replicated(m, *node, "devices");
  s.devices_per_node = count;
  if (dev) s.device = device(*dev);
  s.intra_node = link_property(m, *node, "link");
  if (!s.network) s.network = link_property(m, *node, "network");
  s.nics = static_cast<std::int64_t>(number(*node, "nics", 1));
  s.devices_per_switch = static_cast<std::int64_t>(number(*node, "devices_per_switch", 0));
  s.switch_uplink = link_property(m, *node, "switch_uplink");
  return s;
}

}  // namespace

namespace {

// Elements a layer reads through its windows, per sample: kernel elements
// per output for max and average pooling, `size` per input for LRN; `in`
// for everything else.
std::int64_t window_reads(const Layer& l, std::int64_t in, std::int64_t out) {
  if (!l.def || (l.op != "maxpool" && l.op != "avgpool" && l.op != "lrn")) return in;
  const std::vector<std::int64_t>& v = l.args.attrs.at(l.def->param_index(l.op == "lrn" ? "size" : "kernel")).ints;
  if (l.op == "lrn") return v.at(0) * in;
  std::size_t rank = l.output.shape.size() - 1;
  std::int64_t window = 1;
  for (std::size_t i = 0; i < rank; ++i) window *= v.size() == 1 ? v[0] : v.at(i);
  return window * out;
}

}  // namespace

namespace {

PlanHopfield hopfield(const CheckedModule& m, const CheckedDecl& e) {
  PlanHopfield h;
  if (const Value* g = get(e, "hopfield.graph")) {
    h.graph = g->text;
    for (std::size_t i = 0; g->kind == Value::Kind::call && i < g->items->size(); ++i) {
      const std::string& name = (*g->names)[i].name;
      const Value& v = (*g->items)[i];
      if (name == "nodes") h.nodes = static_cast<std::int64_t>(v.number);
      else if (name == "density") h.density = v.number;
      else if (name == "seed") h.graph_seed = static_cast<std::uint64_t>(v.number);
      else if (name == "weighted") h.weighted = v.boolean;
      else if (name == "path") h.path = v.text;
    }
  }
  // A path is relative to the spec that writes it (an experiment may inherit
  // its graph from one in another file).
  h.path_written = h.path;
  const Value* graph = get(e, "hopfield.graph");
  if (graph && !h.path.empty() && !std::filesystem::path(h.path).is_absolute()) {
    const std::string& spec = m.program->sources.file(graph->where.file).path;
    if (!spec.empty()) h.path = (std::filesystem::path(spec).parent_path() / h.path).lexically_normal().string();
  }
  if (const Value* v = get(e, "hopfield.trials")) h.trials = static_cast<std::int64_t>(v->number);
  if (const Value* v = get(e, "hopfield.sweeps")) h.sweeps = static_cast<std::int64_t>(v->number);
  if (const Value* v = get(e, "hopfield.noise_start")) h.noise_start = v->number;
  if (const Value* v = get(e, "hopfield.noise_end")) h.noise_end = v->number;
  if (const Value* v = get(e, "hopfield.schedule")) h.schedule = v->text;
  if (const Value* v = get(e, "hopfield.seed")) h.seed = static_cast<std::uint64_t>(v->number);
  if (const Value* v = get(e, "hopfield.optimum")) h.optimum = v->number;
  return h;
}

}  // namespace

Plan lower(const CheckedModule& m, const CheckedDecl& e) {
  Plan p;
  p.experiment = e.name;
  if (const Value* v = get(e, "model")) p.model = v->text;
  if (const Value* v = get(e, "phase")) p.phase = v->text;
  if (const Value* v = get(e, "precision")) p.precision = v->text;
  p.element_bytes = precision_bytes(p.precision);
  if (const Value* v = get(e, "batch")) {
    const Value& n = v->kind == Value::Kind::per ? v->elements()[0] : *v;
    p.batch = static_cast<std::int64_t>(n.number);
    p.batch_per = v->kind == Value::Kind::per ? v->text : "global";
  }
  if (const Value* v = get(e, "scaling")) p.scaling = v->text;
  if (const Value* v = get(e, "dataset")) p.dataset = v->number;
  if (const Value* v = get(e, "epochs")) p.epochs = v->number;
  if (const Value* v = get(e, "target_time")) p.target_time = v->number;
  if (const Value* v = get(e, "optimizer")) p.optimizer = v->text;
  if (const Value* v = get(e, "microbatch")) p.microbatch = static_cast<std::int64_t>(v->number);
  if (const Value* v = get(e, "recompute")) p.recompute = v->text;
  if (const Value* v = get(e, "tokens")) p.tokens = v->number;
  if (const Value* v = get(e, "price")) {
    const Value& n = v->kind == Value::Kind::per ? v->elements()[0] : *v;
    p.price = n.number;
    p.price_per = v->kind == Value::Kind::per ? v->text : "device";
  }
  if (const Value* v = get(e, "parallel")) {
    p.parallel = v->text;
    if (v->kind == Value::Kind::call)
      for (std::size_t i = 0; i < v->items->size(); ++i) p.parallel_args[(*v->names)[i].name] = text((*v->items)[i]);
  }
  // The framework's profile, then the experiment's own values over it.
  auto software = [&p](std::string_view key, const Value& value) {
    if (key.starts_with("efficiency.")) p.software_efficiency[std::string(key.substr(11))] = value.number;
    else if (key == "overhead") p.software_overhead = value.number;
    else if (key == "dispatch") p.software_dispatch = value.number;
    else if (key == "step_overhead") p.software_step_overhead = value.number;
    else if (key == "sample_overhead") p.software_sample_overhead = value.number;
    else if (key == "jitter") p.software_jitter = value.number;
    else if (key == "collective_latency") p.software_collective_latency = value.number;
    else if (key == "collective_efficiency") p.software_collective_efficiency = value.number;
    else if (key == "winograd") p.software_winograd = value.number;
    else if (key == "autocast") p.software_autocast = value.boolean;
    else if (key == "eager_attention") p.software_eager_attention = value.boolean;
    else if (key == "eager_rmsnorm") p.software_eager_rmsnorm = value.boolean;
    else if (key == "name") p.software_name = value.text;
  };
  if (const Value* v = get(e, "framework"); v && v->decl)
    if (const CheckedDecl* f = m.find_decl(v->decl->name.name)) {
      p.framework = f->name;
      p.software_name = f->name;
      for (const Property& prop : f->properties) software(prop.key, prop.value);
    }
  for (const Property& prop : e.properties)
    if (prop.key.starts_with("software.")) software(std::string_view(prop.key).substr(9), prop.value);
  if (const Value* v = get(e, "system"); v && v->decl)
    if (const CheckedDecl* sys = m.find_decl(v->decl->name.name)) p.system = system(m, *sys);
  if (get(e, "hopfield.graph")) {
    p.hopfield = hopfield(m, e);
    p.phase = "inference";
    return p;
  }

  const ModelGraph* g = m.find_model(p.model);
  if (!g) return p;
  std::int64_t b = p.element_bytes;
  // A sequence model reads token ids: its first input's length is the tokens of a sample.
  for (const Layer& l : g->layers)
    if (l.op_class == OpClass::input) {
      if (is_integer(l.output.dtype)) p.tokens_per_sample = l.output.elements();
      break;
    }
  for (const Layer& l : g->layers) {
    PlanOp op;
    op.name = l.name;
    op.op = l.op;
    op.op_class = l.op_class;
    op.output = l.output.shape;
    op.inputs = l.inputs;
    op.data_gradient = l.data_gradient;
    op.params = l.params;
    op.state = l.state;
    op.macs_forward = l.macs_forward;
    op.macs_backward = l.macs_backward;
    std::int64_t in = 0;
    for (int i : l.inputs) in += g->layers[i].output.elements();
    std::int64_t out = l.output.elements();
    // An input is written by the data loader, a view shares its input's
    // memory: neither moves bytes on the device nor keeps an output of its own.
    const OpDef* def = find_op(l.op);
    // Dropout is the identity at inference: frameworks skip it (the CPU runtime runs it as a view too).
    bool no_work = l.op_class == OpClass::input || (def && def->view) || (l.op == "dropout" && p.phase == "inference");
    // Backward reads the output's gradient and the inputs and writes the
    // inputs' gradients; a layer fed only by data writes none, and one that
    // also has no weights has no backward at all.
    std::int64_t gradients_written = l.data_gradient ? in : 0;
    bool no_backward = no_work || !l.needs_gradient;
    op.bytes_forward = no_work ? 0 : (in + out) * b;
    op.bytes_backward = no_backward ? 0 : (in + gradients_written + out) * b;
    // Windows that overlap read their inputs more than once: a pooling
    // layer's reads are its windows (kernel elements per output), an LRN's its
    // channel windows (size per input).
    if (std::int64_t reads = window_reads(l, in, out); reads != in) {
      op.bytes_forward = (reads + out) * b;
      op.bytes_backward = no_backward ? 0 : (gradients_written + reads + out) * b;
    }
    // Batch normalisation in training computes the batch's mean and variance
    // first: two more passes over its input (inference uses the running ones).
    if (l.op == "batchnorm" && p.phase == "training") op.bytes_forward = (3 * in + out) * b;
    if (l.op == "rmsnorm" && p.software_eager_rmsnorm) {
      EagerNormBytes e = eager_rmsnorm_bytes(b);
      op.bytes_forward = out * e.forward;
      op.bytes_backward = no_backward ? 0 : out * e.backward;
    }
    // Tensors inside the op (attention's scores) that go through memory.
    op.scratch_bytes_forward = l.scratch_forward * b;
    op.scratch_bytes_backward = no_backward ? 0 : l.scratch_backward * b;
    if (l.op == "attention" && l.scratch_forward > 0 && p.software_eager_attention) {
      // heads · T² score elements, each moving eager_attention_bytes (the fused passes are 4 and 7).
      EagerAttentionBytes e = eager_attention_bytes(b, p.precision == "mixed" && p.software_autocast,
                                                    p.phase == "training");
      op.scratch_bytes_forward = l.scratch_forward / 4 * e.forward;
      op.scratch_bytes_backward = no_backward ? 0 : l.scratch_forward / 4 * e.backward;
    }
    op.bytes_forward += op.scratch_bytes_forward;
    op.bytes_backward += op.scratch_bytes_backward;
    op.weight_bytes = (l.params + l.state) * b;
    op.activation_bytes = no_work && l.op_class != OpClass::input ? 0 : out * b;
    op.internal_activation_bytes = l.kept * b;
    op.active_params = l.active_params;
    op.macs_model = l.macs_model;
    op.input_elements = in;
    op.gemms = l.gemms;
    op.def = l.def;
    op.args = l.args;
    p.ops.push_back(std::move(op));
  }
  return p;
}

std::string dump_plans(const CheckedModule& m) {
  std::string out;
  for (const CheckedDecl& d : m.decls) {
    if (d.kind != lang::ast::DeclKind::experiment || !m.program->is_root(d.decl->name.range.file)) continue;
    Plan p = lower(m, d);
    out += fmt::format("plan {}: model {}, {} {}, batch {} per {} ({} scaling), parallel {}", p.experiment, p.model,
                       p.phase, p.precision, p.batch, p.batch_per, p.scaling, p.parallel);
    for (const auto& [k, v] : p.parallel_args) out += fmt::format(" {}={}", k, v);
    if (p.microbatch) out += fmt::format(", microbatch {}", *p.microbatch);
    if (p.recompute != "none") out += fmt::format(", recompute {}", p.recompute);
    out += "\n";
    const PlanSystem& s = p.system;
    out += fmt::format("  system {} ({}): {} node(s) x {} x {}", s.name, s.kind, s.nodes, s.devices_per_node,
                       s.device.name);
    if (s.intra_node) out += fmt::format("; intra-node {} {} B/s", s.intra_node->name, s.intra_node->bandwidth);
    if (s.network) out += fmt::format("; network {} x {} {} B/s", s.nics, s.network->name, s.network->bandwidth);
    if (s.devices_per_switch > 0) out += fmt::format("; {} device(s) per switch", s.devices_per_switch);
    out += "\n";
    for (const PlanOp& op : p.ops)
      out += fmt::format("  {} {} {} macs={}/{} bytes={}/{} weights={}\n", op.name, op.op, shape_string(op.output),
                         op.macs_forward, op.macs_backward, op.bytes_forward, op.bytes_backward, op.weight_bytes);
  }
  return out;
}

}  // namespace dlc::compiler
