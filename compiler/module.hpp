// The checked module: what the checker hands to later stages. Every model
// that can be instantiated is a graph of layers with inferred shapes and
// costs; every device, link, node, cluster, experiment and crossbar has its
// properties evaluated, unit-checked against its schema and normalised to SI
// base units.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "compiler/loader.hpp"
#include "compiler/ops.hpp"
#include "compiler/value.hpp"

namespace dlc::compiler {

struct Layer {
  std::string name;  // hierarchical and stable: stage2.block1.conv1
  std::string op;    // "conv", ..., or "input"
  OpClass op_class = OpClass::input;
  std::vector<int> inputs;  // indices of producing layers
  TensorInfo output;
  std::int64_t params = 0;  // trainable
  std::int64_t state = 0;   // non-trainable
  std::int64_t macs_forward = 0;
  std::int64_t macs_backward = 0;  // without the inputs' gradients where data_gradient is false
  std::int64_t active_params = 0;  // used per token (a mixture of experts': router and top-k experts)
  std::int64_t macs_model = 0;     // forward MACs of the model's arithmetic (OpResult::macs_model)
  std::int64_t kept = 0;           // elements kept inside the op for backward, per sample (OpResult::kept)
  std::int64_t scratch_forward = 0, scratch_backward = 0;  // elements through memory inside the op
  std::vector<Gemm> gemms;         // the forward pass's matrix products (OpResult::gemms)
  // Training computes a gradient of this layer's output: it has trainable
  // parameters or an input that does (not so for data and what only data feeds).
  bool needs_gradient = false;
  bool data_gradient = false;  // some input needs a gradient, so backward computes the inputs'
  const OpDef* def = nullptr;  // the op (nullptr for inputs)
  OpArgs args;                 // its bound arguments: what a backend needs to build it
  lang::SourceRange where;
};

// "kernel=[3, 3] stride=[1, 1] ...": a layer's attributes as text.
std::string layer_attributes(const Layer& layer);

struct ModelGraph {
  std::string name;          // ResNet50
  std::string instantiation; // ResNet([3, 4, 6, 3]), or "" for a plain model
  const lang::ast::Decl* decl = nullptr;    // the model whose body produced the graph
  const lang::ast::Decl* origin = nullptr;  // the declaration that asked for it (model or experiment)
  std::vector<Layer> layers;
  std::vector<int> outputs;
};

// Sums over a graph's layers.
struct GraphTotals {
  std::int64_t params = 0;  // trainable
  std::int64_t active_params = 0;  // trainable, used per token (fewer in a mixture of experts)
  std::int64_t state = 0;   // non-trainable
  std::int64_t macs_forward = 0;
  std::int64_t macs_backward = 0;
};
GraphTotals totals(const ModelGraph& graph);

struct Property {
  std::string key;  // dotted: "peak.fp32"
  Value value;
};

struct CheckedDecl {
  lang::ast::DeclKind kind;
  std::string name;
  const lang::ast::Decl* decl = nullptr;
  std::vector<Property> properties;  // in schema order, inherited ones included

  const Property* find(std::string_view key) const;
};

struct CheckedModule {
  std::unique_ptr<Program> program;
  std::vector<ModelGraph> models;
  std::deque<CheckedDecl> decls;  // everything but models and blocks (stable addresses)

  const ModelGraph* find_model(std::string_view name) const;
  const CheckedDecl* find_decl(std::string_view name) const;
};

// dlc check --emit=checked: stable text of a checked module (declarations of
// the root file only, unless `all` is set).
std::string dump(const CheckedModule& module, bool all = false);
// The text of a value as the checked dump shows it: SI numbers with units.
// With `human`, quantities are shown with prefixes (7 GB/s) instead of exact SI numbers.
std::string value_string(const Value& v, const ModelGraph* graph = nullptr, bool human = false);

}  // namespace dlc::compiler
