#include "compiler/stats.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/symbols.hpp"
#include "compiler/table.hpp"

namespace dlc::compiler {

bool compute_stats(const ModelGraph& graph, std::int64_t batch, ModelStats& s) {
  s = ModelStats{};
  s.model = graph.name;
  s.batch = batch;
  s.totals.name = "total";
  bool ok = true;
  auto mul = [&](std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) ok = false;
    return r;
  };
  auto add = [&](std::int64_t& sum, std::int64_t v) {
    if (__builtin_add_overflow(sum, v, &sum)) ok = false;
  };
  for (const Layer& l : graph.layers) {
    LayerStats r;
    r.name = l.name;
    r.op = l.op;
    r.output_shape = l.output.shape;
    r.params_trainable = l.params;
    r.params_state = l.state;
    r.macs_forward = mul(l.macs_forward, batch);
    r.macs_backward = mul(l.macs_backward, batch);
    r.activation_bytes = mul(mul(l.output.elements(), dtype_bytes(l.output.dtype)), batch);
    add(s.totals.params_trainable, r.params_trainable);
    add(s.totals.params_state, r.params_state);
    add(s.params_active, l.active_params);
    add(s.totals.macs_forward, r.macs_forward);
    add(s.totals.macs_backward, r.macs_backward);
    add(s.totals.activation_bytes, r.activation_bytes);
    // Weights are stored in the layer's floating-point type (f32 for ids' embeddings).
    std::int64_t bytes = is_integer(l.output.dtype) ? 4 : dtype_bytes(l.output.dtype);
    add(s.weight_bytes, mul(l.params + l.state, bytes));
    s.layers.push_back(std::move(r));
  }
  return ok;
}

namespace {

// 5.68 M, 3.87 G, 1.67 T: three significant digits and an SI prefix.
std::string scaled(double v) {
  static const std::pair<double, const char*> prefixes[] = {{1e18, "E"}, {1e15, "P"}, {1e12, "T"},
                                                            {1e9, "G"},  {1e6, "M"},  {1e3, "K"}};
  for (const auto& [f, p] : prefixes)
    if (v >= f) return fmt::format("{:.3g} {} ", v / f, p);
  return fmt::format("{:g} ", v);
}

nlohmann::ordered_json layer_json(const LayerStats& l) {
  return {{"name", l.name},
          {"op", l.op},
          {"output_shape", l.output_shape},
          {"params_trainable", l.params_trainable},
          {"params_state", l.params_state},
          {"macs_forward", l.macs_forward},
          {"macs_backward", l.macs_backward},
          {"activation_bytes", l.activation_bytes}};
}

}  // namespace

std::string stats_table(const ModelStats& s) {
  TextTable t;
  using A = TextTable::Align;
  t.column("layer");
  t.column("op");
  t.column("output");
  t.column("params", A::right);
  t.column("state", A::right);
  t.column("MACs forward", A::right);
  t.column("MACs backward", A::right);
  t.column("activations", A::right);
  auto add = [&](const LayerStats& l, const std::string& shape) {
    t.row({l.name, l.op, shape, with_separators(l.params_trainable), with_separators(l.params_state),
           with_separators(l.macs_forward), with_separators(l.macs_backward),
           human_bytes(static_cast<double>(l.activation_bytes))});
  };
  for (const LayerStats& l : s.layers) add(l, shape_string(l.output_shape));
  t.rule();
  add(s.totals, "");
  std::string out = fmt::format("{}: {} layer{}, batch {}; sizes in SI units (1 MB = 10^6 B)\n\n", s.model,
                                s.layers.size(), s.layers.size() == 1 ? "" : "s", s.batch);
  out += t.render();
  out += fmt::format("\nparameters: {} trainable + {} state = {} ({} as stored)\n",
                     with_separators(s.totals.params_trainable), with_separators(s.totals.params_state),
                     with_separators(s.totals.params_trainable + s.totals.params_state),
                     human_bytes(static_cast<double>(s.weight_bytes)));
  if (s.params_active != s.totals.params_trainable)
    out += fmt::format("active per token: {} of the {} trainable\n", with_separators(s.params_active),
                       with_separators(s.totals.params_trainable));
  out += fmt::format("forward: {}MACs = {}FLOPs; backward: {}MACs (per batch of {})\n", scaled(s.totals.macs_forward),
                     scaled(2.0 * s.totals.macs_forward), scaled(s.totals.macs_backward), s.batch);
  return out;
}

std::string stats_json(const ModelStats& s) {
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const LayerStats& l : s.layers) layers.push_back(layer_json(l));
  nlohmann::ordered_json j = {
      {"schema", "dlc.stats/1"},
      {"model", s.model},
      {"batch", s.batch},
      {"layers", layers},
      {"totals",
       {{"params_trainable", s.totals.params_trainable},
        {"params_state", s.totals.params_state},
        {"params_total", s.totals.params_trainable + s.totals.params_state},
        {"params_active", s.params_active},
        {"macs_forward", s.totals.macs_forward},
        {"macs_backward", s.totals.macs_backward},
        {"weight_bytes", s.weight_bytes},
        {"activation_bytes", s.totals.activation_bytes}}}};
  return j.dump(2) + "\n";
}

std::string stats_csv(const ModelStats& s) {
  std::string out = "name,op,output_shape,params_trainable,params_state,macs_forward,macs_backward,activation_bytes\n";
  auto line = [&](const LayerStats& l, const std::string& shape) {
    out += fmt::format("{},{},{},{},{},{},{},{}\n", csv_field(l.name), l.op, csv_field(shape), l.params_trainable,
                       l.params_state, l.macs_forward, l.macs_backward, l.activation_bytes);
  };
  for (const LayerStats& l : s.layers) line(l, shape_string(l.output_shape));
  LayerStats total = s.totals;
  total.name = "(total)";  // layer names cannot contain parentheses
  line(total, "");
  return out;
}

std::vector<std::string> catalog_names(const Program& program) {
  std::vector<std::string> names;
  for (const lang::ast::File& f : program.files)
    for (const lang::ast::Decl& d : f.decls)
      if (d.kind == lang::ast::DeclKind::model && !annotation(d, "type").empty()) names.push_back(d.name.name);
  return names;
}

std::vector<CatalogEntry> catalog(const CheckedModule& module) {
  std::vector<CatalogEntry> out;
  for (const lang::ast::File& f : module.program->files)
    for (const lang::ast::Decl& d : f.decls) {
      std::string type = d.kind == lang::ast::DeclKind::model ? annotation(d, "type") : "";
      const ModelGraph* g = type.empty() ? nullptr : module.find_model(d.name.name);
      if (!g) continue;
      GraphTotals t = totals(*g);
      std::string title = annotation(d, "title");
      out.push_back(
          {d.name.name, title.empty() ? d.name.name : title, type, t.params, t.state, t.macs_forward, t.active_params});
    }
  return out;
}

std::string catalog_table(const std::vector<CatalogEntry>& entries) {
  TextTable t;
  using A = TextTable::Align;
  t.column("model");
  t.column("type");
  t.column("params", A::right);
  t.column("size (fp32)", A::right);
  t.column("GMACs (forward)", A::right);
  t.column("dlc name");
  for (const CatalogEntry& e : entries) {
    double mib = e.size_bytes() / 1048576.0;
    std::string size = mib >= 10 ? fmt::format("{:.0f} MB", mib) : fmt::format("{:.1f} MB", mib);
    double g = e.macs_forward / 1e9;
    std::string gmacs = g >= 10 ? fmt::format("{:.1f}", g) : g >= 0.1 ? fmt::format("{:.2f}", g) : fmt::format("{:.3f}", g);
    t.row({e.title, e.type, with_separators(e.params_total()), size, gmacs, e.name});
  }
  return t.render() + "\nparams: trainable + state (BatchNorm running statistics), as the Deep Learning "
                      "Cookbook counts them;\nMB = 2^20 bytes; GMACs: forward multiply-accumulates per sample "
                      "(1 MAC = 2 FLOPs).\n";
}

std::string catalog_json(const std::vector<CatalogEntry>& entries) {
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const CatalogEntry& e : entries)
    models.push_back({{"name", e.name},
                      {"title", e.title},
                      {"type", e.type},
                      {"params_trainable", e.params_trainable},
                      {"params_state", e.params_state},
                      {"params_total", e.params_total()},
                      {"size_bytes", e.size_bytes()},
                      {"macs_forward", e.macs_forward}});
  return nlohmann::ordered_json{{"schema", "dlc.models/1"}, {"models", models}}.dump(2) + "\n";
}

std::string catalog_csv(const std::vector<CatalogEntry>& entries) {
  std::string out = "name,title,type,params_trainable,params_state,params_total,size_bytes,macs_forward\n";
  for (const CatalogEntry& e : entries)
    out += fmt::format("{},{},{},{},{},{},{},{}\n", e.name, csv_field(e.title), e.type, e.params_trainable,
                       e.params_state, e.params_total(), e.size_bytes(), e.macs_forward);
  return out;
}

}  // namespace dlc::compiler
