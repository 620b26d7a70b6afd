#include "simulator/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <cstdint>

#include "simulator/collectives.hpp"
#include "simulator/memory.hpp"
#include "simulator/roofline.hpp"

namespace dlc::simulator {

using compiler::OpClass;
using compiler::Plan;
using compiler::PlanOp;

namespace {

std::int64_t attr(const PlanOp& op, const char* name) {
  int i = op.def ? op.def->param_index(name) : -1;
  if (i < 0) return 0;
  const auto& a = op.args.attrs.at(static_cast<std::size_t>(i));
  return a.ints.empty() ? 0 : a.ints.front();
}
bool flag(const PlanOp& op, const char* name) {
  int i = op.def ? op.def->param_index(name) : -1;
  return i >= 0 && op.args.attrs.at(static_cast<std::size_t>(i)).flag;
}

// Bytes per parameter of each part of the training state: the weights as
// computed with, their gradients, an fp32 master copy (mixed precision) and
// the optimizer's fp32 moments.
struct StateBytes {
  double weights, gradients, master, optimizer;
};
StateBytes state_bytes(const Plan& p) {
  double b = static_cast<double>(p.element_bytes);
  bool mixed = p.precision == "mixed";
  double moments = p.optimizer == "momentum" ? 4 : p.optimizer == "adam" || p.optimizer == "adamw" ? 8 : 0;
  return {mixed ? 2.0 : b, mixed ? 2.0 : b, mixed ? 4.0 : 0.0, moments};
}


// Collectives over a group of `size` devices whose consecutive members are
// `stride` ranks apart (ranks fill a node before the next).
//
// A ring's latency is NCCL's (src/graph/tuning.cc): every one of its g − 1
// steps per phase waits for a hop, g − n of them inside nodes and n − 1
// across the network, each at least the framework's `collective_latency`
// (the library's own cost of a step, beyond the wire's).
class Groups {
 public:
  Groups(const NetworkCosts& net, std::int64_t per_node, const Cost& step_latency)
      : net_(net), per_node_(per_node) {
    share_ = net.net_bandwidth / static_cast<double>(per_node);  // one device's share of its node's ports
    node_latency_ = max(net.node_latency, step_latency);
    net_latency_ = max(net.net_latency, step_latency);
  }

  // Members of the group on one node, and nodes it spans.
  std::pair<std::int64_t, std::int64_t> spread(std::int64_t size, std::int64_t stride) const {
    std::int64_t local = stride >= per_node_ ? 1 : std::min(size, std::max<std::int64_t>(1, per_node_ / stride));
    return {local, (size + local - 1) / local};
  }

  Cost allreduce(const Cost& w, std::int64_t size, std::int64_t stride) const {
    if (size <= 1) return Cost(0);
    auto [k, n] = spread(size, stride);
    double g = static_cast<double>(size);
    if (n == 1) return Cost(2 * (g - 1) / g) * w / net_.node_bandwidth + Cost(2 * (g - 1)) * node_latency_;
    Cost flat = Cost(2 * (g - 1) / g) * w / min(net_.node_bandwidth, share_) +
                Cost(2 * (g - 1)) * max(node_latency_, net_latency_);
    if (k == 1) return flat;
    // The node's k devices each carry 1/k of the data across the network, on their own ports.
    double kk = static_cast<double>(k), nn = static_cast<double>(n);
    Cost hierarchical = Cost(2 * (kk - 1) / kk) * w / net_.node_bandwidth + Cost(2 * (g - nn)) * node_latency_ +
                        Cost(2 * (nn - 1) / nn) * (w / kk) / share_ + Cost(2 * (nn - 1)) * net_latency_;
    return min(flat, hierarchical);
  }
  // Each member sends (size − 1)/size of its `w` bytes to the others.
  Cost alltoall(const Cost& w, std::int64_t size, std::int64_t stride) const {
    if (size <= 1) return Cost(0);
    auto [k, n] = spread(size, stride);
    double g = static_cast<double>(size);
    Cost beta = n == 1 ? net_.node_bandwidth : min(net_.node_bandwidth, share_);
    Cost alpha = n == 1 ? node_latency_ : max(node_latency_, net_latency_);
    return Cost((g - 1) / g) * w / beta + Cost(g - 1) * alpha;
  }
  // One device sends `w` bytes to a device `stride` ranks away.
  Cost send(const Cost& w, std::int64_t stride) const {
    bool across = stride >= per_node_;
    return across ? w / min(net_.node_bandwidth, share_) + max(net_.node_latency, net_.net_latency)
                  : w / net_.node_bandwidth + net_.node_latency;
  }

 private:
  const NetworkCosts& net_;
  std::int64_t per_node_;
  Cost share_, node_latency_, net_latency_;
};

// The cut of `units` (each a cost) into `chunks` contiguous non-empty runs
// with the largest run as small as possible: the start of each run.
std::vector<std::size_t> partition(const std::vector<double>& units, std::size_t chunks) {
  double lo = *std::max_element(units.begin(), units.end()), hi = 0;
  for (double u : units) hi += u;
  auto fits = [&](double limit) {
    std::size_t runs = 1;
    double sum = 0;
    for (double u : units) {
      if (sum + u > limit && sum > 0) {
        ++runs;
        sum = 0;
      }
      sum += u;
    }
    return runs <= chunks;
  };
  for (int i = 0; i < 100 && hi - lo > 1e-12 * hi; ++i) {
    double mid = (lo + hi) / 2;
    (fits(mid) ? hi : lo) = mid;
  }
  // Greedy at the limit found, keeping at least one unit for every run left.
  std::vector<std::size_t> starts{0};
  double sum = 0;
  for (std::size_t i = 0; i < units.size(); ++i) {
    std::size_t runs_left = chunks - starts.size();
    bool must = units.size() - i == runs_left;  // one unit per remaining run
    if (i > 0 && runs_left > 0 && (must || (sum + units[i] > hi && sum > 0))) {
      starts.push_back(i);
      sum = 0;
    }
    sum += units[i];
  }
  return starts;
}

// How tensor parallelism treats an op.
enum class Split { whole, column, row, heads, vocab_embedding, experts, between };

}  // namespace

bool uses_parallel_engine(const Plan& p) {
  return p.parallel == "hybrid" || p.parallel_args.count("zero") || p.microbatch || p.recompute != "none";
}

bool build_parallel(const Plan& plan, Simulation& s, std::string& error) {
  DeviceCosts dev;
  NetworkCosts net;
  if (!start_model(plan, s, dev, net, error)) return false;
  Params& params = s.params;
  if (plan.parallel == "model") {
    error = "model(...) parallelism cannot be combined with ZeRO, microbatches or recomputation; "
            "write parallel = hybrid(tensor = N, ...) for tensor parallelism with them";
    return false;
  }
  const compiler::PlanSystem& sys = plan.system;
  const std::int64_t devices = sys.devices(), per_node = sys.devices_per_node;

  // ---- the layout ----
  ParallelLayout L;
  bool hybrid = plan.parallel == "hybrid";
  L.tensor = hybrid ? plan.parallel_integer("tensor", 1) : 1;
  L.pipeline = hybrid ? plan.parallel_integer("pipeline", 1) : 1;
  std::int64_t tp = L.tensor * L.pipeline;
  if (hybrid && plan.parallel_args.count("data")) {
    L.data = plan.parallel_integer("data", 1);
  } else {
    if (devices % tp != 0) {
      error = fmt::format("tensor {} x pipeline {} = {} devices do not divide the {} devices of '{}'", L.tensor,
                          L.pipeline, tp, devices, sys.name);
      return false;
    }
    L.data = devices / tp;
  }
  if (tp * L.data != devices) {
    error = fmt::format("tensor {} x pipeline {} x data {} = {} devices, but '{}' has {} ({} node{} of {})", L.tensor,
                        L.pipeline, L.data, tp * L.data, sys.name, devices, sys.nodes, sys.nodes == 1 ? "" : "s",
                        per_node);
    return false;
  }
  if (L.tensor > 1 && (L.tensor <= per_node ? per_node % L.tensor != 0 : L.tensor % per_node != 0)) {
    error = fmt::format("a tensor-parallel group of {} devices does not tile '{}''s nodes of {} (it would straddle "
                        "two nodes): use a divisor or a multiple of {}",
                        L.tensor, sys.name, per_node, per_node);
    return false;
  }
  L.expert = hybrid ? plan.parallel_integer("expert", 1) : 1;
  if (L.data % L.expert != 0) {
    error = fmt::format("expert parallelism over {} replicas needs the data-parallel degree ({}) to be a multiple "
                        "of it", L.expert, L.data);
    return false;
  }
  L.sequence = plan.parallel_arg("sequence", "false") == "true";
  L.schedule = plan.parallel_arg("schedule", "one_f_one_b");
  L.chunks = plan.parallel_integer("virtual", 1);
  if (L.schedule == "interleaved" && L.chunks < 2) {
    error = "the interleaved schedule needs virtual >= 2 model chunks per device (virtual = 1 is one_f_one_b)";
    return false;
  }
  if (L.schedule != "interleaved" && L.chunks != 1) {
    error = fmt::format("virtual = {} model chunks per device needs schedule = interleaved", L.chunks);
    return false;
  }
  L.zero = static_cast<int>(plan.parallel_integer("zero", 0));
  L.microbatch = plan.microbatch.value_or(1);
  bool overlap = plan.parallel_arg("overlap", "false") == "true";
  bool tensor_overlap = plan.parallel_arg("tensor_overlap", "false") == "true";
  bool training = plan.phase == "training";
  if (!training && (L.zero > 0 || plan.recompute != "none")) {
    error = "ZeRO and recomputation are training techniques; this experiment is inference";
    return false;
  }
  if (plan.batch_per != "global" && tp > 1) {
    error = fmt::format("batch {} per {} is ambiguous when a model replica spans {} devices (tensor {} x pipeline "
                        "{}): write the global batch (batch = {})",
                        plan.batch, plan.batch_per, tp, L.tensor, L.pipeline,
                        plan.batch * (plan.batch_per == "device" ? devices : sys.nodes) / tp);
    return false;
  }
  const double t = static_cast<double>(L.tensor), d = static_cast<double>(L.data);
  const double e = static_cast<double>(L.expert), p = static_cast<double>(L.pipeline);
  const double v = static_cast<double>(L.chunks), b = static_cast<double>(plan.element_bytes);

  // ---- batch and microbatches ----
  double b0 = static_cast<double>(plan.batch);
  double global0 = written_global_batch(plan);
  Cost written = params.add("batch", b0);
  params.constrain(*params.find("batch"), {1, 1e12, false, true});
  s.global_batch = written * (global0 / b0);
  // Without `microbatch` a replica runs its whole share of the batch at once.
  Cost microbatch = s.global_batch / d;
  if (plan.microbatch) {
    microbatch = params.add("microbatch", static_cast<double>(L.microbatch));
    params.constrain(*params.find("microbatch"), {1, 1e9, false, true});
  }
  Cost m = s.global_batch / (microbatch * d);  // microbatches per replica
  s.batch_per_device = m;
  s.devices = Cost(static_cast<double>(devices));

  // ---- each op under tensor parallelism, per microbatch ----
  const std::size_t n = plan.ops.size();
  Cost step_latency = params.add("software.collective_latency", plan.software_collective_latency.value_or(0),
                                 lang::dims::time());
  params.constrain(*params.find("software.collective_latency"), {0, 1e300, false, false});
  Groups groups(net, per_node, step_latency);
  std::vector<Split> split(n, Split::whole);
  std::vector<bool> out_split(n, false);
  for (std::size_t i = 0; i < n && L.tensor > 1; ++i) {
    const PlanOp& op = plan.ops[i];
    bool in_split = !op.inputs.empty();
    bool any_split = false;
    for (int j : op.inputs) {
      in_split = in_split && out_split[static_cast<std::size_t>(j)];
      any_split = any_split || out_split[static_cast<std::size_t>(j)];
    }
    if (op.op == "attention") {
      std::int64_t heads = attr(op, "heads"), kv = attr(op, "kv_heads") > 0 ? attr(op, "kv_heads") : heads;
      if (heads % L.tensor != 0 || kv % L.tensor != 0) {
        error = fmt::format("tensor parallelism over {} devices splits attention heads: layer '{}' has {} heads and "
                            "{} key-value heads, not multiples of {}",
                            L.tensor, op.name, heads, kv, L.tensor);
        return false;
      }
      split[i] = Split::heads;
    } else if (op.op == "fc") {
      split[i] = any_split ? Split::row : Split::column;
      out_split[i] = !any_split;
    } else if (op.op == "lm_head") {
      split[i] = Split::column;
      out_split[i] = true;
    } else if (op.op == "embedding") {
      split[i] = Split::vocab_embedding;
    } else if (op.op == "moe") {
      split[i] = Split::experts;
    } else if (op.params == 0 && in_split) {
      split[i] = Split::between;
      out_split[i] = true;
    }
  }
  auto tensor_split = [&](std::size_t i) { return split[i] != Split::whole; };
  // The fraction of an op's work one device of a tensor group does, and of its
  // output it holds (a row-parallel layer's output is whole after its
  // all-reduce, unless sequence parallelism scatters it).
  auto share = [&](std::size_t i) { return tensor_split(i) || L.sequence ? 1.0 / t : 1.0; };
  auto out_share = [&](std::size_t i) { return out_split[i] || L.sequence ? 1.0 / t : 1.0; };

  // Units: the model's top-level layers, for pipeline cuts and full recomputation.
  std::vector<std::size_t> unit_of(n);
  std::vector<std::string> unit_names;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& name = plan.ops[i].name;
    std::string prefix = name.find('.') == std::string::npos ? name : name.substr(0, name.find('.'));
    if (unit_names.empty() || unit_names.back() != prefix || prefix == name) unit_names.push_back(prefix);
    unit_of[i] = unit_names.size() - 1;
  }
  std::vector<bool> repeated(unit_names.size(), false);  // a `layerN.` unit, not a lone op
  for (std::size_t i = 0; i < n; ++i) repeated[unit_of[i]] = plan.ops[i].name.find('.') != std::string::npos;
  bool full = plan.recompute == "full", selective = plan.recompute == "selective", ops = plan.recompute == "ops";

  struct OpCost {
    Cost forward, backward, recompute;         // per microbatch, comm included
    Cost forward_comm, backward_comm;          // the communication part
    Cost forward_compute, forward_memory;      // roofline terms, for the bound
    double kept = 0;                           // bytes kept per sample on one device
    double kept_all = 0;                       // ... were nothing recomputed
    double recompute_macs = 0;                 // per sample: what op-level recomputation runs again
    double params = 0;                         // on one device
  };
  std::vector<OpCost> costs(n);
  std::vector<bool> inplace = shared_with_inplace(plan);
  std::size_t counted_unit = SIZE_MAX;  // op-level recomputation: the unit whose products are being counted
  int products = 0;
  double update_per_param = update_traffic(plan);
  for (std::size_t i = 0; i < n; ++i) {
    const PlanOp& op = plan.ops[i];
    OpCost& c = costs[i];
    GemmSplit gemm_split;
    if (split[i] == Split::column || split[i] == Split::heads) gemm_split.n = L.tensor;
    if (split[i] == Split::row) gemm_split.k = L.tensor;
    if (split[i] == Split::heads) gemm_split.count = L.tensor;
    OpTimes times = op_times(op, dev, microbatch, gemm_split);
    double f = share(i);
    c.forward_compute = times.forward_compute * f;
    c.forward_memory = times.forward_memory * f;
    bool has_backward = training && !times.backward.is_constant();
    Cost fixed = op.macs_forward == 0 && op.bytes_forward == 0 && op.weight_bytes == 0 ? Cost(0) : dev.fixed;
    c.forward = max(c.forward_compute, c.forward_memory) + fixed;
    if (has_backward) c.backward = max(times.backward_compute * f, times.backward_memory * f) + dev.fixed;
    Cost out_bytes = microbatch * static_cast<double>(op.activation_bytes);
    Cost in_bytes = microbatch * (static_cast<double>(op.input_elements) * b);
    switch (split[i]) {
      case Split::row:
      case Split::vocab_embedding: c.forward_comm = groups.allreduce(out_bytes, L.tensor, 1); break;
      case Split::column:
        if (op.data_gradient) c.backward_comm = groups.allreduce(in_bytes, L.tensor, 1);
        break;
      case Split::heads:
      case Split::experts:
        c.forward_comm = groups.allreduce(out_bytes, L.tensor, 1);
        if (op.data_gradient) c.backward_comm = groups.allreduce(in_bytes, L.tensor, 1);
        break;
      default: break;
    }
    if (tensor_overlap) {
      // Cut into one chunk per member, each chunk's exchange runs beside the
      // next chunk's GEMM: two stages pipelined over t chunks take
      // max(compute, comm) + min(compute, comm) / t, so what the collective
      // adds to the op is that less its compute.
      auto exposed = [t](const Cost& comm, const Cost& compute) {
        if (comm.is_constant() && comm.constant_value() == 0) return comm;
        return max(compute, comm) + min(compute, comm) / t - compute;
      };
      c.forward_comm = exposed(c.forward_comm, c.forward_compute);
      c.backward_comm = exposed(c.backward_comm, times.backward_compute * f);
    }
    if (op.op == "moe" && L.expert > 1) {
      // Dispatch and combine: the routed tokens all-to-all over the expert group, each way.
      double capacity = op.args.attrs.at(static_cast<std::size_t>(op.def->param_index("capacity"))).number;
      double experts = static_cast<double>(attr(op, "experts"));
      double routed = experts * std::ceil(capacity * static_cast<double>(op.output.at(0) * attr(op, "top_k")) / experts);
      Cost tokens = microbatch * (routed * static_cast<double>(op.output.back()) * b / t);
      Cost a2a = Cost(2) * groups.alltoall(tokens, L.expert, L.tensor);
      c.forward_comm = c.forward_comm + a2a;
      c.backward_comm = c.backward_comm + a2a;
      if (attr(op, "experts") % L.expert != 0) {
        error = fmt::format("expert parallelism over {} replicas: layer '{}' has {} experts, not a multiple", L.expert,
                            op.name, attr(op, "experts"));
        return false;
      }
    }
    if (!training) c.backward_comm = Cost(0);
    c.forward = c.forward + c.forward_comm;
    if (has_backward) c.backward = c.backward + c.backward_comm;
    // Activations kept for backward, per sample, on one device.
    double internal = static_cast<double>(op.internal_activation_bytes);
    if (selective && op.op == "attention" && !flag(op, "flash")) {
      // The probabilities go; their forward (the scores and the weighted sum) runs again in backward.
      double tokens = static_cast<double>(op.output.at(0)), width = static_cast<double>(op.output.at(1));
      internal -= static_cast<double>(attr(op, "heads")) * tokens * tokens * b;
      double core = 2 * tokens * tokens * width;  // MACs of Q·Kᵀ and P·V
      c.recompute = Cost(2 * core) * microbatch / dev.class_rate[static_cast<int>(OpClass::attention)] * f;
    }
    double out = inplace[i] ? 0.0 : static_cast<double>(op.activation_bytes) * out_share(i);
    c.kept = c.kept_all = out + internal * f;
    if (ops && training && repeated[unit_of[i]]) {
      // Op-level selective checkpointing as torchtitan's policy runs it (PyTorch's
      // selective activation checkpointing, `selective_ac_option = "op"`): within a
      // layer, the output of every odd-numbered matrix product and of the attention
      // kernel is kept; every other product and every other op runs its forward
      // again in backward. Attention's products count in the order Q, K, V, output;
      // any other op with products (fc, matmul, conv, a mixture of experts) counts as one.
      if (counted_unit != unit_of[i]) counted_unit = unit_of[i], products = 0;
      auto kept_product = [&] { return ++products % 2 == 1; };
      if (op.op == "attention") {
        double tokens = static_cast<double>(op.output.at(0)), width = static_cast<double>(op.output.at(1));
        double heads = static_cast<double>(attr(op, "heads")), groups_kv = static_cast<double>(attr(op, "kv_heads"));
        double kv_width = (groups_kv > 0 ? groups_kv : heads) * width / heads;
        const double per_token_macs[4] = {width * width, width * kv_width, width * kv_width, width * width};
        const double widths[3] = {width, kv_width, kv_width};
        // The kernel's output (the context) and what it keeps for backward stay: the
        // op's internal tensors less Q, K and V.
        c.kept = (internal - tokens * (width + 2 * kv_width) * b) * f;
        double recomputed = 0;
        bool output_recomputed = false;
        for (int k = 0; k < 4; ++k) {
          if (kept_product()) c.kept += k < 3 ? tokens * widths[k] * b * f : out;
          else {
            recomputed += tokens * per_token_macs[k];
            output_recomputed = output_recomputed || k == 3;
          }
        }
        c.recompute_macs = recomputed;
        double fraction = op.macs_forward > 0 ? recomputed / static_cast<double>(op.macs_forward) : 0;
        c.recompute = (c.forward - c.forward_comm) * fraction + (output_recomputed ? c.forward_comm : Cost(0));
      } else if (!op.gemms.empty() || op.op == "moe") {
        if (!kept_product()) {
          c.kept = internal * f;
          c.recompute = c.forward;
          c.recompute_macs = static_cast<double>(op.macs_forward);
        }
      } else {
        c.kept = 0;
        c.recompute = c.forward;
        c.recompute_macs = static_cast<double>(op.macs_forward);
      }
    }
    double p_share = op.op == "moe" ? 1.0 / (t * e) : tensor_split(i) ? 1.0 / t : 1.0;
    c.params = static_cast<double>(op.params) * p_share;
  }
  // Full recomputation: each repeated layer keeps only what enters it, and
  // runs its forward again in backward.
  std::vector<double> unit_input(unit_names.size(), 0), unit_kept(unit_names.size(), 0);
  std::vector<std::size_t> counted(n, SIZE_MAX);  // the unit a source was last counted for
  for (std::size_t i = 0; i < n; ++i) {
    unit_kept[unit_of[i]] += costs[i].kept;
    for (int j : plan.ops[i].inputs) {
      auto src = static_cast<std::size_t>(j);
      // (What no layer holds is kept anyway; a tensor two ops of the layer read is kept once.)
      if (unit_of[src] == unit_of[i] || !repeated[unit_of[src]] || counted[src] == unit_of[i]) continue;
      counted[src] = unit_of[i];
      unit_input[unit_of[i]] += static_cast<double>(plan.ops[src].activation_bytes) * out_share(src);
    }
  }
  double recompute_working = 0;
  if (ops) {
    // What one layer recomputes lives while its backward runs.
    std::vector<double> recomputed(unit_names.size(), 0);
    for (std::size_t i = 0; i < n; ++i) recomputed[unit_of[i]] += costs[i].kept_all - costs[i].kept;
    for (std::size_t u = 0; u < unit_names.size(); ++u)
      if (repeated[u]) recompute_working = std::max(recompute_working, recomputed[u]);
  }
  if (full) {
    for (std::size_t i = 0; i < n; ++i)
      if (repeated[unit_of[i]] && training) costs[i].recompute = costs[i].forward;
    for (std::size_t u = 0; u < unit_names.size(); ++u)
      if (repeated[u]) recompute_working = std::max(recompute_working, unit_kept[u]);
  }

  // ---- pipeline stages ----
  std::size_t chunks = static_cast<std::size_t>(L.pipeline * L.chunks);
  if (unit_names.size() < chunks) {
    error = fmt::format("{} pipeline stage{} x {} chunk{} need at least {} layers to cut between; '{}' has {}",
                        L.pipeline, L.pipeline == 1 ? "" : "s", L.chunks, L.chunks == 1 ? "" : "s", chunks,
                        plan.model, unit_names.size());
    return false;
  }
  std::vector<double> unit_cost(unit_names.size(), 0);
  for (std::size_t i = 0; i < n; ++i)
    unit_cost[unit_of[i]] +=
        (costs[i].forward + costs[i].backward + costs[i].recompute).evaluate(params.values());
  // Frameworks give each chunk as many of the repeated layers (`layerN.*`) as they can, the ops before
  // the first on the first chunk and those after the last on the last (Megatron-LM); `balance = cost`
  // cuts where the layers' real costs are most even. A model with fewer repeated layers than chunks
  // (a CNN's stages) is cut by cost.
  std::vector<std::size_t> layer_units;
  for (std::size_t u = 0; u < unit_names.size(); ++u)
    if (repeated[u]) layer_units.push_back(u);
  std::vector<std::size_t> starts;
  if (plan.parallel_arg("balance", "layers") == "layers" && layer_units.size() >= chunks) {
    std::size_t per = layer_units.size() / chunks, extra = layer_units.size() % chunks, next = 0;
    for (std::size_t c = 0; c < chunks; ++c) {
      starts.push_back(c == 0 ? 0 : layer_units[next]);
      next += per + (c < extra ? 1 : 0);
    }
  } else {
    starts = partition(unit_cost, chunks);
  }
  std::vector<std::size_t> chunk_of_unit(unit_names.size());
  for (std::size_t c = 0, u = 0; u < unit_names.size(); ++u) {
    while (c + 1 < starts.size() && u >= starts[c + 1]) ++c;
    chunk_of_unit[u] = c;
  }
  L.stage_of.resize(n);
  for (std::size_t i = 0; i < n; ++i) L.stage_of[i] = chunk_of_unit[unit_of[i]] % static_cast<std::size_t>(L.pipeline);

  // Per stage: forward and backward per microbatch (compute, comm), weights, activations.
  std::size_t stages = static_cast<std::size_t>(L.pipeline);
  std::vector<Cost> F(stages), B(stages), Fc(stages), Bc(stages);
  std::vector<double> weights(stages, 0), kept(stages, 0), largest_params(stages, 0), largest_out(stages, 0);
  std::vector<double> expert_weights(stages, 0);  // a moe's: exchanged and sharded over the d / e replicas holding them
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t st = L.stage_of[i];
    const OpCost& c = costs[i];
    F[st] = F[st] + c.forward;
    B[st] = B[st] + c.backward + c.recompute;
    Fc[st] = Fc[st] + c.forward_comm;
    Bc[st] = Bc[st] + c.backward_comm;
    weights[st] += c.params;
    if (plan.ops[i].op == "moe") expert_weights[st] += c.params;
    largest_params[st] = std::max(largest_params[st], c.params);
    largest_out[st] = std::max(largest_out[st], static_cast<double>(plan.ops[i].activation_bytes) * out_share(i));
    bool dropped = full && repeated[unit_of[i]];
    if (!dropped) kept[st] += c.kept;
  }
  if (full || ops)
    for (std::size_t u = 0; u < unit_names.size(); ++u)
      if (repeated[u]) {
        std::size_t first = 0;
        while (unit_of[first] != u) ++first;
        kept[L.stage_of[first]] += unit_input[u];
      }
  // Point-to-point: what crosses each cut, forward and (as gradients) backward.
  std::int64_t stage_stride = L.tensor * L.data;
  // An output crosses every cut between its chunk and its last consumer's.
  std::vector<std::size_t> last_use(n, 0);
  for (std::size_t j = 0; j < n; ++j)
    for (int k : plan.ops[j].inputs)
      last_use[static_cast<std::size_t>(k)] = std::max(last_use[static_cast<std::size_t>(k)], chunk_of_unit[unit_of[j]]);
  std::vector<double> crossing(starts.size() + 1, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = chunk_of_unit[unit_of[i]] + 1; c <= last_use[i]; ++c)
      crossing[c] += static_cast<double>(plan.ops[i].activation_bytes);
  for (std::size_t c = 1; c < starts.size() && L.pipeline > 1; ++c) {
    Cost transfer = groups.send(microbatch * (crossing[c] / t), stage_stride);
    std::size_t sender = (c - 1) % stages, receiver = c % stages;
    F[sender] = F[sender] + transfer;
    Fc[sender] = Fc[sender] + transfer;
    if (training) {
      B[receiver] = B[receiver] + transfer;
      Bc[receiver] = Bc[receiver] + transfer;
    }
  }

  // MACs executed per step: forward, backward and what recomputation runs again.
  double macs = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const PlanOp& op = plan.ops[i];
    macs += static_cast<double>(op.macs_forward);
    if (!training) continue;
    macs += static_cast<double>(op.macs_backward);
    if (full && repeated[unit_of[i]]) macs += static_cast<double>(op.macs_forward);
    macs += costs[i].recompute_macs;
    if (selective && op.op == "attention" && !flag(op, "flash")) {
      double tokens = static_cast<double>(op.output.at(0));
      macs += 2 * tokens * tokens * static_cast<double>(op.output.at(1));
    }
  }
  s.hardware_macs = s.global_batch * macs;

  // ---- the step ----
  StateBytes sb = state_bytes(plan);
  Cost step_max = 0, step_sum = 0, exposed = 0, compute_max = 0, update_max = 0;
  Cost memory = 0;
  // The weights of a stage in two groups: the dense ones, replicated over the d replicas (ranks t
  // apart), and the experts', over the d / e replicas holding the same experts (t · e apart).
  struct Part {
    double params;
    std::int64_t replicas, stride;
  };
  // ZeRO 3 gathers each layer's weights when it runs (forward, again to recompute it, and backward) and
  // reduce-scatters its gradients after: per microbatch, one collective of each per layer with weights.
  std::vector<Cost> zero3(stages, Cost(0));
  for (std::size_t i = 0; i < n && training && L.zero == 3; ++i) {
    const OpCost& c = costs[i];
    if (c.params <= 0) continue;
    bool moe = plan.ops[i].op == "moe";
    std::int64_t replicas = moe ? L.data / L.expert : L.data, stride = moe ? L.tensor * L.expert : L.tensor;
    double gathers = full && repeated[unit_of[i]] ? 3 : 2;
    Cost& z = zero3[L.stage_of[i]];
    z = z + (Cost(gathers) * groups.allreduce(Cost(c.params * sb.weights), replicas, stride) +
             groups.allreduce(Cost(c.params * sb.gradients), replicas, stride)) / 2;
  }
  for (std::size_t st = 0; st < stages; ++st) {
    Cost S = training ? F[st] + B[st] : F[st];
    Cost exchange = 0, gathers = 0;  // the gradients' exchange; ZeRO 1 and 2's weight gathers
    const Part parts[] = {{weights[st] - expert_weights[st], L.data, L.tensor},
                          {expert_weights[st], L.data / L.expert, L.tensor * L.expert}};
    double updated = 0, sharded = 0, state = 0;  // parameters; bytes per device
    for (const Part& part : parts) {
      if (part.params <= 0) continue;
      Cost W = Cost(part.params * sb.weights), G = Cost(part.params * sb.gradients);
      Cost reduce = groups.allreduce(G, part.replicas, part.stride);
      Cost gather = groups.allreduce(W, part.replicas, part.stride);
      double r = static_cast<double>(part.replicas);
      // ZeRO 1 and 2: the gradients reduce-scattered and the weights gathered once per step; else an
      // all-reduce. (ZeRO 3's collectives run per layer and microbatch: zero3 above.)
      if (training && L.zero != 3) exchange = exchange + (L.zero > 0 ? reduce / 2 : reduce);
      if (training && (L.zero == 1 || L.zero == 2)) gathers = gathers + gather / 2;
      updated += L.zero > 0 ? part.params / r : part.params;
      // Memory: ZeRO 1 shards the master copy and the moments, 2 the gradients too, 3 the weights too.
      double whole = 0, split = 0;
      (L.zero >= 1 ? split : whole) += training ? part.params * (sb.master + sb.optimizer) : 0;
      (L.zero >= 2 ? split : whole) += training ? part.params * sb.gradients : 0;
      (L.zero >= 3 ? split : whole) += part.params * sb.weights;
      state += whole;
      sharded += split / r;
    }
    if (training && L.zero == 3) S = max(S, zero3[st]);
    // Overlapped, the gradients' exchange runs beside the last microbatch's
    // backward, and the weights' gathers beside the next step's first
    // forward (Megatron-LM's --overlap-grad-reduce and --overlap-param-gather).
    if (overlap) exchange = max(exchange - B[st], Cost(0)) + max(gathers - F[st], Cost(0));
    else exchange = exchange + gathers;
    step_max = max(step_max, S);
    step_sum = step_sum + S;
    exposed = max(exposed, exchange);
    Cost update = training ? Cost(updated * update_per_param) / dev.bandwidth : Cost(0);
    update_max = max(update_max, update);
    Cost busy = m * (training ? F[st] - Fc[st] + B[st] - Bc[st] : F[st] - Fc[st]) + update;
    compute_max = max(compute_max, busy);
    // ZeRO 3 holds, besides its shards, the layer gathered now and the next, prefetched.
    if (L.zero >= 3) state += 2 * largest_params[st] * sb.weights;
    Cost in_flight = 1;
    if (training) {
      double ahead = static_cast<double>(L.pipeline) - static_cast<double>(st);
      if (L.schedule == "gpipe") in_flight = m;
      else if (L.schedule == "interleaved") in_flight = min(m * v, Cost(ahead + (p - 1) / v));
      else in_flight = min(m, Cost(ahead));
    }
    Cost activations = training ? microbatch * (Cost(kept[st]) * in_flight + recompute_working)
                                : microbatch * Cost(largest_out[st] * 2);
    Cost total = Cost(state + sharded) + activations + microbatch * largest_out[st];
    memory = max(memory, total);
  }
  Cost pipeline = L.pipeline == 1 ? m * step_max : m * step_max + Cost((p - 1) / v) * (step_sum / p);
  // A device issues its stage's share of the kernels, once per microbatch.
  Cost framework;
  s.step = framework_step(s, pipeline + exposed + update_max,
                          m * Cost(kernels_per_pass(plan) / static_cast<double>(L.pipeline)), s.global_batch / d,
                          framework);
  s.memory = memory;
  s.device_memory_bytes = sys.device.memory;

  // ---- layers: per step, on the device that runs them ----
  for (std::size_t i = 0; i < n; ++i) {
    const OpCost& c = costs[i];
    LayerCost l;
    l.name = plan.ops[i].name;
    l.op = plan.ops[i].op;
    l.forward = m * c.forward;
    l.backward = m * (c.backward + c.recompute);
    l.forward_compute = m * c.forward_compute;
    l.forward_memory = m * c.forward_memory;
    l.comm = m * c.forward_comm;
    if (training && plan.ops[i].params > 0) {
      double replicas = plan.ops[i].op == "moe" ? d / e : d;  // the experts' are sharded over d / e
      double updated = L.zero > 0 ? c.params / replicas : c.params;
      l.update = Cost(updated * update_per_param) / dev.bandwidth;
    }
    s.forward = s.forward + l.forward;
    s.backward = s.backward + l.backward;
    s.update = s.update + l.update;
    s.layers.push_back(std::move(l));
  }
  if (plan.dataset) {
    params.add("dataset", *plan.dataset, lang::dims::samples());
    params.constrain(*params.find("dataset"), {1, 1e18, false, true});
  }
  if (plan.epochs) {
    params.add("epochs", *plan.epochs);
    params.constrain(*params.find("epochs"), {0, 1e9, true, false});
  }
  // The busiest device's own work, for compute_s (x[4] + x[5] + x[6] - x[8] in evaluate()).
  std::vector<Cost> roots = {s.batch_per_device, s.global_batch, s.devices, s.step,  compute_max,     Cost(0),
                             Cost(0),            s.memory,       Cost(0),   s.hardware_macs, framework};
  for (const LayerCost& l : s.layers)
    for (const Cost* c : {&l.forward, &l.backward, &l.update, &l.forward_compute, &l.forward_memory, &l.comm,
                          &l.grid, &l.required_bandwidth, &l.bandwidth})
      roots.push_back(*c);
  s.program = CostProgram::compile(roots);
  s.layout = std::move(L);
  return true;
}

}  // namespace dlc::simulator
