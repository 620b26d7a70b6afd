#include "compiler/schema.hpp"

#include "lang/diagnostics.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace dlc::compiler {

using lang::Dimension;
using lang::ast::DeclKind;
namespace dims = lang::dims;

const PropSpec* Schema::find(std::string_view name) const {
  for (const PropSpec& p : props)
    if (p.name == name) return &p;
  return nullptr;
}

std::vector<std::string> Schema::names() const {
  std::vector<std::string> v;
  for (const PropSpec& p : props) v.push_back(p.name);
  return v;
}

namespace {

PropSpec make(std::string name, PropType type, std::string doc) {
  PropSpec p;
  p.name = std::move(name);
  p.type = type;
  p.doc = std::move(doc);
  return p;
}
PropSpec quantity(std::string name, Dimension d, std::string doc, double min = 0, double max = 1e308) {
  PropSpec p = make(std::move(name), PropType::quantity, std::move(doc));
  p.dim = d;
  p.min = min;
  p.max = max;
  return p;
}
PropSpec integer(std::string name, std::string doc, double min = 1, double max = 1e18) {
  PropSpec p = make(std::move(name), PropType::integer, std::move(doc));
  p.min = min;
  p.max = max;
  return p;
}
PropSpec boolean(std::string name, std::string doc) { return make(std::move(name), PropType::boolean, std::move(doc)); }
PropSpec string(std::string name, std::string doc) { return make(std::move(name), PropType::string, std::move(doc)); }
PropSpec choice(std::string name, std::vector<std::string> choices, std::string doc) {
  PropSpec p = make(std::move(name), PropType::enumeration, std::move(doc));
  p.choices = std::move(choices);
  return p;
}
// A choice that also recognises `words`, refusing each with `reason` ({} is the word).
PropSpec refusing(PropSpec p, std::vector<std::string> words, const std::string& reason) {
  for (std::string& w : words) {
    std::string why = reason;
    why.replace(why.find("{}"), 2, w);
    p.refused.emplace_back(std::move(w), std::move(why));
  }
  return p;
}
PropSpec reference(std::string name, std::vector<DeclKind> kinds, std::string doc) {
  PropSpec p = make(std::move(name), PropType::reference, std::move(doc));
  p.kinds = std::move(kinds);
  return p;
}
PropSpec replicated(std::string name, DeclKind kind, std::string doc) {
  PropSpec p = make(std::move(name), PropType::replicated, std::move(doc));
  p.kinds = {kind};
  return p;
}
PropSpec group(std::string name, const Schema* s, std::string doc) {
  PropSpec p = make(std::move(name), PropType::group, std::move(doc));
  p.group = s;
  return p;
}
PropSpec positive(PropSpec p) {
  p.positive = true;
  return p;
}
PropSpec required(PropSpec p) {
  p.required = true;
  return p;
}

// Efficiency per op class: the fraction of peak (compute) and of bandwidth
// (memory) an op class reaches. Plain numbers in (0, 1].
const Schema& efficiency_schema() {
  static const Schema s{"efficiency", [] {
    std::vector<PropSpec> v;
    for (const char* c : {"conv", "matmul", "elementwise", "normalization", "pooling", "recurrent",
                          "attention", "data_movement", "embedding", "memory"})
      v.push_back(positive(quantity(c, dims::number(),
                                    std::string_view(c) == "memory"
                                        ? std::string("fraction of memory bandwidth reached in practice")
                                        : fmt::format("fraction of peak (or, for memory-bound classes, of bandwidth) "
                                                      "reached by {} ops", c),
                                    0, 1)));
    return v;
  }()};
  return s;
}

const Schema& peak_schema() {
  static const Schema s{"peak", [] {
    std::vector<PropSpec> v;
    for (const char* p : {"fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "int4"})
      v.push_back(positive(quantity(p, dims::op_rate(), fmt::format("peak {} rate", p))));
    return v;
  }()};
  return s;
}

const Schema& device_schema() {
  static const Schema s{"device", {
      required(choice("kind", {"cpu", "gpu", "tpu", "accelerator"}, "what the device is")),
      string("vendor", "manufacturer"),
      group("peak", &peak_schema(),
            "peak arithmetic rate per precision, of the tensor (matrix) engine where the device has one: what "
            "convolutions, fc layers, attention and recurrent layers run at"),
      group("vector", &peak_schema(),
            "peak rate of the vector units per precision (CUDA cores, SIMD): what normalisations, elementwise "
            "ops and pooling run at; default: peak"),
      positive(quantity("memory", dims::bytes(), "device memory capacity")),
      positive(quantity("memory_bandwidth", dims::bandwidth(), "device memory bandwidth")),
      group("efficiency", &efficiency_schema(), "fraction of peak reached per op class"),
      group("efficiency_backward", &efficiency_schema(),
            "the same for the backward pass (data and weight gradients); default: the forward's"),
      group("efficiency_inference", &efficiency_schema(),
            "the forward pass's in inference experiments (no state kept for a backward); default: efficiency"),
      quantity("launch_overhead", dims::time(), "fixed cost per kernel or primitive"),
      positive(quantity("power", dims::power(), "board or socket power")),
      positive(quantity("power_limit", dims::power(), "the power the board is capped at (nvidia-smi -pl), below "
                        "`power`: the compute rates fall as the cube root of the ratio; energy counts the cap")),
      integer("cores", "cores or streaming multiprocessors (on a GPU, what GEMMs' tiles spread over: wave "
              "quantisation)"),
      positive(quantity("clock", dims::frequency(), "clock under load")),
  }};
  return s;
}

const Schema& link_schema() {
  static const Schema s{"link", {
      choice("kind", {"pcie", "nvlink", "infiniband", "ethernet", "xgmi", "other"}, "link technology"),
      required(positive(quantity("bandwidth", dims::bandwidth(), "bandwidth per direction"))),
      quantity("latency", dims::time(), "one-way latency"),
      positive(quantity("efficiency", dims::number(), "fraction of bandwidth reached in practice", 0, 1)),
      integer("lanes", "lanes (PCIe)"),
  }};
  return s;
}

const Schema& node_schema() {
  static const Schema s{"node", {
      required(replicated("devices", DeclKind::device, "accelerators in the node: 8 * P100")),
      reference("link", {DeclKind::link}, "link between devices inside the node"),
      reference("network", {DeclKind::link}, "the node's network interface"),
      integer("nics", "network interfaces per node (bandwidth adds up)"),
      integer("devices_per_switch", "devices sharing one PCIe switch uplink"),
      reference("switch_uplink", {DeclKind::link}, "link from a PCIe switch to the host"),
      replicated("cpu", DeclKind::device, "host processors"),
      positive(quantity("memory", dims::bytes(), "host memory")),
      positive(quantity("power", dims::power(), "node power")),
  }};
  return s;
}

const Schema& cluster_schema() {
  static const Schema s{"cluster", {
      required(replicated("nodes", DeclKind::node, "nodes in the cluster: 8 * Apollo6500")),
      required(reference("network", {DeclKind::link}, "network between nodes")),
      refusing(choice("topology", {"fat_tree", "switch"},
                      "network topology: a full-bisection network (switch or fat tree), what the all-reduce models "
                      "assume"),
               {"ring", "torus", "dragonfly"},
               "the all-reduce models assume a full-bisection network (a switch or a fat tree: every node "
               "reaches every other at its full port bandwidth); a {} network's hops and bisection are not "
               "modelled, so its figures would silently be a fat tree's. Leave 'topology' out or write "
               "fat_tree or switch"),
  }};
  return s;
}

PropSpec zero_stage() {
  return integer("zero", "ZeRO stage: 1 shards the optimizer state over the data-parallel replicas, 2 the "
                 "gradients too, 3 the weights too (FSDP); 0 none", 0, 3);
}

const Schema& data_parallel_schema() {
  static const Schema s{"data(...)", {
      choice("allreduce", {"ring", "tree", "hierarchical", "parameter_server"}, "all-reduce algorithm"),
      boolean("overlap", "overlap gradient exchange with backward computation"),
      quantity("bucket", dims::bytes(), "gradient bucket size", 1),
      zero_stage(),
  }};
  return s;
}

// Tensor, pipeline and data parallelism combined (3-D, Megatron-LM style),
// with sequence and expert parallelism; see docs/simulate.md.
const Schema& hybrid_parallel_schema() {
  static const Schema s{"hybrid(...)", {
      integer("tensor", "tensor-parallel degree: each layer split over this many devices, inside a node first",
              1, 1e9),
      integer("pipeline", "pipeline-parallel degree: the layers cut into this many stages", 1, 1e9),
      integer("data", "data-parallel degree (replicas); default: the devices left, devices / (tensor x pipeline)",
              1, 1e9),
      integer("expert", "expert-parallel degree: a mixture of experts' experts spread over this many of the "
              "data-parallel replicas", 1, 1e9),
      boolean("sequence", "sequence parallelism: what tensor parallelism leaves whole (norms, residuals) split "
              "along the sequence, reduce-scatter and all-gather in place of all-reduce"),
      choice("schedule", {"gpipe", "one_f_one_b", "interleaved"}, "pipeline schedule: GPipe, 1F1B (PipeDream-Flush; the default) or interleaved 1F1B"),
      integer("virtual", "model chunks per device with the interleaved schedule", 1, 1e6),
      choice("balance", {"layers", "cost"},
             "how the pipeline is cut: as many repeated layers per stage as possible (the default, as "
             "Megatron-LM does), or where the layers' real costs are most even"),
      zero_stage(),
      boolean("overlap", "overlap the data-parallel gradient exchange with the last microbatch's backward"),
      boolean("tensor_overlap", "overlap each tensor-parallel collective with the GEMMs of its layer, chunk by "
              "chunk (Megatron-LM's --tp-comm-overlap, Transformer Engine's userbuffers)"),
  }};
  return s;
}

// Model parallelism splits the fc and matmul layers over all the devices of
// the system (see docs/simulate.md).
const Schema& model_parallel_schema() {
  static const Schema s{"model(...)", {
      choice("scheme", {"summa", "tensor"}, "how layers are split: SUMMA on a square grid, or tensor (Megatron-LM)"),
  }};
  return s;
}

// A framework profile: a `framework` declaration of the standard library
// (specs/std/frameworks.dlc), or an experiment's own `software { ... }`.
const Schema& software_schema() {
  static const Schema s{"software", {
      string("name", "framework name (Caffe, TensorFlow, ...)"),
      group("efficiency", &efficiency_schema(), "framework efficiency per op class"),
      quantity("overhead", dims::time(), "framework overhead per layer, on the device's time line"),
      quantity("dispatch", dims::time(),
               "host time to issue one kernel, asynchronous to the device: a step lasts at least its kernels' "
               "issue time"),
      quantity("step_overhead", dims::time(), "host time per step that the device waits for (synchronisation, "
               "the optimizer's and the loop's own work)"),
      quantity("sample_overhead", dims::time(), "host time per sample on each device that the device waits for "
               "(input pipeline, pre- and post-processing)"),
      quantity("jitter", dims::number(), "coefficient of variation of one device's step time: a synchronous "
               "step over many devices waits for the slowest", 0, 1),
      quantity("collective_latency", dims::time(), "the communication library's time per step of a ring "
               "collective (each of a ring's devices - 1 steps), where it exceeds the link's latency"),
      positive(quantity("collective_efficiency", dims::number(), "fraction of the links' bandwidth the "
                        "framework's collectives reach (many small per-tensor collectives reach little); 1 by "
                        "default", 0, 1)),
      positive(quantity("winograd", dims::number(), "speed-up of 3 x 3, stride-1 convolutions on vector units "
                        "(Winograd-class algorithms the framework's library picks); 1 by default")),
      boolean("eager_attention", "attention's scores go through separate kernels (scaling, mask, softmax, "
              "dropout), each reading and writing them, softmax in fp32 under autocast; default: fused kernels"),
      boolean("eager_rmsnorm", "RMSNorm runs as separate kernels (upcast, square, mean, scaling, downcast, "
              "weight), as eager PyTorch runs torch.nn.RMSNorm; default: one fused kernel"),
      boolean("autocast", "mixed precision cast op by op (PyTorch's torch.autocast): each GEMM op with weights "
              "(convolution, linear layer) issues one more kernel per forward pass, its weights' cast to 16 bits"),
  }};
  return s;
}

// A Hopfield network solving max-cut on a crossbar (simulator/hopfield.hpp).
const Schema& graph_random_schema() {
  static const Schema s{"random(...)", {
      integer("nodes", "nodes of the graph", 2, 100000),
      quantity("density", dims::number(), "probability of each edge (Erdős–Rényi)", 0, 1),
      integer("seed", "random seed", 0),
      boolean("weighted", "edge weights ±1 at random instead of 1"),
  }};
  return s;
}

const Schema& graph_file_schema() {
  static const Schema s{"file(...)", {
      string("path", "an edge list (Biq Mac format: 'n m', then 'u v [w]' per edge), relative to this file"),
  }};
  return s;
}

const Schema& hopfield_schema() {
  static const Schema s{"hopfield", [] {
    PropSpec graph = make("graph", PropType::variant, "the max-cut instance: random(...) or file(...)");
    graph.choices = {"random", "file"};
    graph.args = {&graph_random_schema(), &graph_file_schema()};
    return std::vector<PropSpec>{
        required(graph),
        integer("trials", "independent runs from random states", 1, 1000000),
        integer("sweeps", "updates of every neuron per trial", 1, 1000000),
        quantity("noise_start", dims::number(),
                 "annealing noise at the first update, in units of the local field's spread", 0, 1000),
        quantity("noise_end", dims::number(), "annealing noise at the last update", 0, 1000),
        choice("schedule", {"linear", "exponential", "constant"}, "how the noise falls from start to end"),
        integer("seed", "random seed of the trials", 0),
        quantity("optimum", dims::number(), "the known best cut (else found by brute force up to 24 nodes)", 0),
    };
  }()};
  return s;
}

const Schema& experiment_schema() {
  static const Schema s{"experiment", [] {
    PropSpec batch = quantity("batch", dims::number(), "batch size", 1, 1e9);
    batch.per = {"device", "node", "global"};
    batch.whole = true;
    PropSpec dataset = quantity("dataset", dims::samples(), "samples per epoch", 1);
    dataset.whole = true;
    PropSpec parallel = make("parallel", PropType::variant, "how work is split across devices");
    parallel.choices = {"data", "model", "hybrid"};
    parallel.args = {&data_parallel_schema(), &model_parallel_schema(), &hybrid_parallel_schema()};
    // Required unless the experiment is a Hopfield network's (the checker says so).
    PropSpec model = make("model", PropType::model, "the network");
    return std::vector<PropSpec>{
        model,
        required(reference("system", {DeclKind::device, DeclKind::node, DeclKind::cluster, DeclKind::crossbar},
                            "what it runs on")),
        dataset,
        positive(quantity("epochs", dims::number(), "passes over the dataset")),
        batch,
        choice("scaling", {"weak", "strong"}, "weak: batch per device fixed; strong: global batch fixed"),
        parallel,
        choice("precision", {"fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8", "mixed"}, "arithmetic precision"),
        choice("optimizer", {"sgd", "momentum", "adam", "adamw"}, "optimizer (for memory and update cost)"),
        integer("tokens", "tokens to train on (sequence models): the run's time, energy and cost", 1, 1e18),
        [] {
          PropSpec price = quantity("price", lang::dims::price_rate(),
                                    "what the system costs to run: USD/h per device (or per node)", 0);
          price.per = {"device", "node"};
          return price;
        }(),
        integer("microbatch", "samples per microbatch: the global batch is run as microbatches through the "
                "pipeline, or accumulated, with one gradient exchange and optimizer step per batch", 1, 1e9),
        choice("recompute", {"none", "selective", "ops", "full"},
               "activation recomputation: selective recomputes attention's scores (Korthikanti et al. 2022), "
               "ops every layer's ops but its attention kernel and every other matrix product (PyTorch's "
               "op-level selective checkpointing, torchtitan's policy), full every layer's forward from its input"),
        choice("phase", {"training", "inference"}, "training or inference"),
        reference("framework", {DeclKind::framework}, "the framework's profile (std.frameworks): its "
                  "efficiencies and host overheads; `software { ... }` overrides single values"),
        group("software", &software_schema(), "framework profile"),
        positive(quantity("target_time", dims::time(), "time budget for the whole run")),
        group("hopfield", &hopfield_schema(), "a Hopfield network solving max-cut on a crossbar, instead of a model"),
    };
  }()};
  return s;
}

const Schema& crossbar_noise_schema() {
  static const Schema s{"noise", {
      quantity("programming_variation", dims::number(), "relative std. dev. of programmed conductance", 0, 10),
      quantity("read_noise", dims::number(), "relative std. dev. of each read", 0, 10),
      quantity("wire_resistance", dims::resistance(), "resistance per cell of wire", 0),
      quantity("stuck_at", dims::number(), "fraction of stuck cells", 0, 1),
      integer("seed", "random seed", 0),
  }};
  return s;
}

// The parts of a crossbar chip whose power or area is given per unit (see
// compiler/crossbar.hpp for the counts).
const std::vector<std::pair<const char*, const char*>>& crossbar_parts() {
  static const std::vector<std::pair<const char*, const char*>> parts{
      {"adc", "one ADC"},
      {"dac", "one DAC (one per row of each array)"},
      {"sample_hold", "one sample-and-hold (one per column of each array)"},
      {"array", "one array"},
      {"shift_add", "an IMA's shift-and-add units"},
      {"input_register", "an IMA's input register"},
      {"output_register", "an IMA's output register"},
      {"edram", "a tile's eDRAM buffer"},
      {"bus", "a tile's bus"},
      {"router", "a tile's share of a router"},
      {"digital", "a tile's digital units (activation, pooling, shift-and-add, output register)"},
      {"io", "the chip's off-chip links"},
  };
  return parts;
}

// The power (or area) of each part, per unit.
Schema crossbar_parts_schema(const char* what, Dimension dim) {
  std::vector<PropSpec> v;
  for (const auto& [name, part] : crossbar_parts())
    v.push_back(quantity(name, dim, fmt::format("{} of {}", what, part)));
  return {what, v};
}

const Schema& crossbar_power_schema() {
  static const Schema s = crossbar_parts_schema("power", dims::power());
  return s;
}

const Schema& crossbar_area_schema() {
  static const Schema s = crossbar_parts_schema("area", dims::area());
  return s;
}

const Schema& crossbar_schema() {
  static const Schema s{"crossbar", {
      integer("rows", "rows per array"),
      integer("cols", "columns per array"),
      integer("cell_bits", "bits stored per cell", 1, 8),
      integer("weight_bits", "bits per weight", 1, 32),
      integer("input_bits", "bits per input", 1, 32),
      integer("dac_bits", "bits per DAC step", 1, 16),
      integer("adc_bits", "ADC resolution", 1, 24),
      integer("cols_per_adc", "columns sharing one ADC"),
      positive(quantity("read_time", dims::time(), "one array read")),
      positive(quantity("adc_rate", dims::sample_rate(), "ADC sample rate (1.28 GSa/s)")),
      integer("arrays_per_ima", "arrays per in-situ multiply-accumulate unit"),
      integer("adcs_per_ima", "ADCs per IMA"),
      integer("imas_per_tile", "IMAs per tile"),
      integer("tiles", "tiles per chip"),
      positive(quantity("clock", dims::frequency(), "digital clock")),
      positive(quantity("digital_ops_per_cycle", dims::number(),
                        "element operations per cycle of a tile's digital units (pooling, activations)")),
      choice("signed_weights", {"offset", "differential"}, "how negative weights are encoded"),
      boolean("unit_column", "offset encoding: a unit column per array removes the bias"),
      boolean("flip_encoding", "columns whose sum would exceed half the ADC range are stored flipped (ISAAC)"),
      boolean("replicate", "copy the layers with the most positions onto spare arrays to balance the pipeline"),
      quantity("conductance_min", dims::conductance(), "lowest programmable conductance", 0),
      quantity("conductance_max", dims::conductance(), "highest programmable conductance", 0),
      group("power", &crossbar_power_schema(), "power per unit of each part"),
      group("area", &crossbar_area_schema(), "area per unit of each part"),
      group("noise", &crossbar_noise_schema(), "non-idealities (all off by default)"),
  }};
  return s;
}

}  // namespace

const char* PropSpec::type_name() const {
  switch (type) {
    case PropType::quantity: return "quantity";
    case PropType::integer: return "integer";
    case PropType::boolean: return "boolean";
    case PropType::string: return "string";
    case PropType::enumeration: return "choice";
    case PropType::reference: return "reference";
    case PropType::replicated: return "reference";
    case PropType::model: return "model";
    case PropType::group: return "group";
    case PropType::variant: return "choice";
  }
  return "value";
}

const Schema* schema_for(DeclKind kind) {
  switch (kind) {
    case DeclKind::device: return &device_schema();
    case DeclKind::link: return &link_schema();
    case DeclKind::node: return &node_schema();
    case DeclKind::cluster: return &cluster_schema();
    case DeclKind::experiment: return &experiment_schema();
    case DeclKind::crossbar: return &crossbar_schema();
    case DeclKind::framework: return &software_schema();
    default: return nullptr;
  }
}

std::string expected_text(const PropSpec& spec) {
  auto kinds = [&] {
    std::vector<std::string> k;
    for (DeclKind d : spec.kinds) k.push_back(lang::ast::decl_kind_name(d));
    std::string out;
    for (std::size_t i = 0; i < k.size(); ++i) out += (i == 0 ? "" : i + 1 == k.size() ? " or " : ", ") + k[i];
    return out;
  };
  switch (spec.type) {
    case PropType::quantity:
      return spec.dim.dimensionless() ? "a plain number" : lang::with_article(spec.dim.describe());
    case PropType::integer: return "an integer";
    case PropType::boolean: return "true or false";
    case PropType::string: return "a string";
    case PropType::enumeration:
    case PropType::variant: return fmt::format("one of: {}", fmt::join(spec.choices, ", "));
    case PropType::reference: return lang::with_article(kinds());
    case PropType::replicated: return fmt::format("a {} or a count times a {} (8 * X)", kinds(), kinds());
    case PropType::model: return "a model";
    case PropType::group: return "a group { ... }";
  }
  return "a value";
}

}  // namespace dlc::compiler
