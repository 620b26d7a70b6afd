// Model statistics: per-layer and total parameters, multiply-accumulates and
// memory of a checked model (dlc stats), and the catalog of the standard
// library's models (dlc models), with their table, JSON and CSV forms.
//
// JSON schemas (keys are fixed; scripts rely on them):
//   dlc.stats/1  {"schema", "model", "batch", "layers": [{"name", "op",
//                 "output_shape", "params_trainable", "params_state",
//                 "macs_forward", "macs_backward", "activation_bytes"}],
//                 "totals": {"params_trainable", "params_state", "params_total",
//                 "macs_forward", "macs_backward", "weight_bytes", "activation_bytes"}}
//   dlc.models/1 {"schema", "models": [{"name", "title", "type", "params_trainable",
//                 "params_state", "params_total", "size_bytes", "macs_forward"}]}
// Counts are per batch (macs and activation bytes scale with it; parameters
// do not); sizes in bytes; MACs are multiply-accumulates (FLOPs = 2 x MACs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/module.hpp"

namespace dlc::compiler {

struct LayerStats {
  std::string name;
  std::string op;
  Shape output_shape;  // per sample
  std::int64_t params_trainable = 0;
  std::int64_t params_state = 0;
  std::int64_t macs_forward = 0;
  std::int64_t macs_backward = 0;
  std::int64_t activation_bytes = 0;
};

struct ModelStats {
  std::string model;
  std::int64_t batch = 1;
  std::vector<LayerStats> layers;
  LayerStats totals;            // name "total"
  std::int64_t weight_bytes = 0;  // trainable and state, in each layer's element type
  std::int64_t params_active = 0; // trainable, used per token (a mixture of experts': router and top-k experts)
};

// False when a figure at this batch size does not fit in 64 bits.
bool compute_stats(const ModelGraph& graph, std::int64_t batch, ModelStats& out);
std::string stats_table(const ModelStats& stats);
std::string stats_json(const ModelStats& stats);
std::string stats_csv(const ModelStats& stats);

// A model of the library's catalog: the models with an @type annotation, in
// the order their files are imported and declared.
struct CatalogEntry {
  std::string name;   // ResNet50
  std::string title;  // @title, or the name
  std::string type;   // @type: CNN, RNN, MLP, Transformer
  std::int64_t params_trainable = 0;
  std::int64_t params_state = 0;
  std::int64_t macs_forward = 0;  // per sample
  std::int64_t params_active = 0;  // trainable, used per token (a mixture of experts: fewer)

  std::int64_t params_total() const { return params_trainable + params_state; }
  std::int64_t size_bytes() const { return 4 * params_total(); }  // fp32
};

// The names of the catalog's models, in catalog order.
std::vector<std::string> catalog_names(const Program& program);
// The catalog entries of a module that has instantiated them.
std::vector<CatalogEntry> catalog(const CheckedModule& module);
std::string catalog_table(const std::vector<CatalogEntry>& entries);
std::string catalog_json(const std::vector<CatalogEntry>& entries);
std::string catalog_csv(const std::vector<CatalogEntry>& entries);

}  // namespace dlc::compiler
