// Lookups in the checked module, and its stable text form (--emit=checked).
#include "compiler/module.hpp"

#include <fmt/format.h>

namespace dlc::compiler {

const Property* CheckedDecl::find(std::string_view key) const {
  for (const Property& p : properties)
    if (p.key == key) return &p;
  return nullptr;
}

std::string layer_attributes(const Layer& layer) {
  if (!layer.def) return {};
  OpArgs args = layer.args;
  args.describe = true;
  OpResult r;
  OpError err;
  layer.def->infer(*layer.def, args, r, err);
  return r.attributes;
}

GraphTotals totals(const ModelGraph& graph) {
  GraphTotals t;
  for (const Layer& l : graph.layers) {
    t.params += l.params;
    t.active_params += l.active_params;
    t.state += l.state;
    t.macs_forward += l.macs_forward;
    t.macs_backward += l.macs_backward;
  }
  return t;
}

const ModelGraph* CheckedModule::find_model(std::string_view name) const {
  for (const ModelGraph& m : models)
    if (m.name == name) return &m;
  return nullptr;
}

const CheckedDecl* CheckedModule::find_decl(std::string_view name) const {
  for (const CheckedDecl& d : decls)
    if (d.name == name) return &d;
  return nullptr;
}

std::string value_string(const Value& v, const ModelGraph* graph, bool human) {
  using K = Value::Kind;
  switch (v.kind) {
    case K::poison: return "<invalid>";
    case K::number:
      if (v.dim.dimensionless()) return v.integral ? std::to_string(v.integer) : fmt::format("{}", v.number);
      if (human) return lang::format_quantity({v.number, v.dim});
      return fmt::format("{} {}", v.number, v.dim.unit());
    case K::boolean: return v.boolean ? "true" : "false";
    case K::string: {
      std::string s = "\"";
      for (char c : v.text) s += (c == '"' || c == '\\') ? std::string{'\\', c} : std::string{c};
      return s + "\"";
    }
    case K::symbol: return v.text;
    case K::decl: return v.decl->name.name;
    case K::replicated: return fmt::format("{} * {}", v.count, v.decl->name.name);
    case K::tensor:
      return graph ? fmt::format("tensor {}", shape_string(graph->layers[v.layer].output.shape)) : "tensor";
    case K::list: {
      std::string s = "[";
      for (std::size_t i = 0; i < v.items->size(); ++i) s += (i ? ", " : "") + value_string((*v.items)[i], graph, human);
      return s + "]";
    }
    case K::call: {
      std::string s = v.text + "(";
      for (std::size_t i = 0; i < v.items->size(); ++i) {
        s += i ? ", " : "";
        if (!(*v.names)[i].name.empty()) s += (*v.names)[i].name + " = ";
        s += value_string((*v.items)[i], graph, human);
      }
      return s + ")";
    }
    case K::per: return fmt::format("{} per {}", value_string(v.elements()[0], graph, human), v.text);
  }
  return "?";
}

namespace {

bool in_root(const CheckedModule& m, const lang::ast::Decl* d) {
  return d && m.program->is_root(d->name.range.file);
}

}  // namespace

std::string dump(const CheckedModule& module, bool all) {
  std::string out;
  for (const ModelGraph& g : module.models) {
    if (!all && !in_root(module, g.origin)) continue;
    out += fmt::format("model {}{}\n", g.name, g.instantiation.empty() ? "" : " = " + g.instantiation);
    for (const Layer& l : g.layers) {
      std::string inputs;
      for (int i : l.inputs) inputs += (inputs.empty() ? "" : ", ") + g.layers[i].name;
      out += fmt::format("  {} = {}({}) -> {}{}", l.name, l.op, inputs, dtype_name(l.output.dtype),
                         shape_string(l.output.shape));
      if (l.op != "input")
        out += fmt::format("  params={} state={} macs={}/{}", l.params, l.state, l.macs_forward, l.macs_backward);
      std::string attributes = layer_attributes(l);
      if (!attributes.empty()) out += "  " + attributes;
      out += "\n";
    }
    GraphTotals t = totals(g);
    std::string outputs;
    for (int o : g.outputs) outputs += (outputs.empty() ? "" : ", ") + g.layers[o].name;
    out += fmt::format("  outputs: {}\n", outputs);
    out += fmt::format("  total: layers={} params={} state={} macs={}/{}\n", g.layers.size(), t.params, t.state,
                       t.macs_forward, t.macs_backward);
  }
  for (const CheckedDecl& d : module.decls) {
    if (!all && !in_root(module, d.decl)) continue;
    out += fmt::format("{} {}\n", lang::ast::decl_kind_name(d.kind), d.name);
    for (const Property& p : d.properties) out += fmt::format("  {} = {}\n", p.key, value_string(p.value));
  }
  return out;
}

}  // namespace dlc::compiler
