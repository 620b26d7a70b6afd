#include "compiler/result.hpp"

#include <nlohmann/json.hpp>

namespace dlc::compiler {

std::string result_json(const Result& r) {
  using json = nlohmann::ordered_json;
  json layers = json::array();
  for (const LayerResult& l : r.layers)
    layers.push_back({{"name", l.name},
                      {"op", l.op},
                      {"forward_s", l.forward_s},
                      {"backward_s", l.backward_s},
                      {"update_s", l.update_s},
                      {"bound", l.bound}});
  auto optional = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json j = {{"schema", "dlc.result/1"},
            {"source", r.source},
            {"experiment", r.experiment},
            {"model", r.model},
            {"system", r.system},
            {"device", r.device},
            {"phase", r.phase},
            {"batch", r.batch},
            {"precision", r.precision},
            {"layers", layers},
            {"totals",
             {{"iteration_s", r.totals.iteration_s},
              {"compute_s", r.totals.compute_s},
              {"comm_s", r.totals.comm_s},
              {"samples_per_s", r.totals.samples_per_s},
              {"epoch_s", optional(r.totals.epoch_s)},
              {"total_s", optional(r.totals.total_s)},
              {"memory_per_device_bytes", r.totals.memory_per_device_bytes}}}};
  return j.dump(2) + "\n";
}

}  // namespace dlc::compiler
