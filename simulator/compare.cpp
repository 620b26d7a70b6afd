#include "simulator/compare.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

#include "compiler/table.hpp"

namespace dlc::simulator {

Comparison compare(const compiler::Result& predicted, const compiler::Result& measured) {
  Comparison c;
  c.predicted_source = predicted.source;
  c.measured_source = measured.source;
  c.model = measured.model;
  c.predicted_model = predicted.model;
  c.experiment = measured.experiment;
  std::map<std::string, const compiler::LayerResult*> by_name;
  for (const compiler::LayerResult& l : predicted.layers) by_name[l.name] = &l;
  auto total = [](const compiler::LayerResult& l) { return l.forward_s + l.backward_s + l.update_s; };
  double sum = 0;
  for (const compiler::LayerResult& m : measured.layers) {
    auto it = by_name.find(m.name);
    if (it == by_name.end()) {
      c.only_measured.push_back(m.name);
      continue;
    }
    LayerComparison lc{m.name, m.op, total(*it->second), total(m), std::nullopt};
    if (lc.measured > 0) {
      lc.error = (lc.predicted - lc.measured) / lc.measured;
      sum += std::fabs(*lc.error);
      ++c.compared;
    }
    c.layers.push_back(std::move(lc));
    by_name.erase(it);
  }
  for (const compiler::LayerResult& l : predicted.layers)
    if (by_name.count(l.name)) c.only_predicted.push_back(l.name);
  c.mape = c.compared ? sum / static_cast<double>(c.compared) : 0;
  c.predicted_step = predicted.totals.iteration_s;
  c.measured_step = measured.totals.iteration_s;
  c.step_error = c.measured_step > 0 ? (c.predicted_step - c.measured_step) / c.measured_step : 0;
  std::vector<std::size_t> order(c.layers.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::fabs(c.layers[a].predicted - c.layers[a].measured) > std::fabs(c.layers[b].predicted - c.layers[b].measured);
  });
  for (std::size_t i = 0; i < order.size() && i < 5; ++i)
    if (c.layers[order[i]].predicted != c.layers[order[i]].measured) c.dominant.push_back(order[i]);
  return c;
}

std::vector<std::string> comparison_warnings(const Comparison& c) {
  std::vector<std::string> w;
  if (c.predicted_model != c.model)
    w.push_back(fmt::format("the records are of different models ({} predicted, {} measured)", c.predicted_model,
                            c.model));
  std::vector<std::string> only_measured;
  for (const std::string& name : c.only_measured)
    if (name.find('/') == std::string::npos) only_measured.push_back(name);  // not LAYER/reorder, LAYER/grad_sum
  if (only_measured.empty() && c.only_predicted.empty()) return w;
  auto some = [](const std::vector<std::string>& names) {
    std::string s;
    for (std::size_t i = 0; i < names.size() && i < 3; ++i) s += (i ? ", " : "") + names[i];
    return names.size() > 3 ? fmt::format("{} and {} more", s, names.size() - 3) : s;
  };
  std::string text = fmt::format("the layer sets differ: {} layer(s) matched by name", c.layers.size());
  if (!c.only_predicted.empty())
    text += fmt::format("; {} only predicted ({})", c.only_predicted.size(), some(c.only_predicted));
  if (!only_measured.empty()) text += fmt::format("; {} only measured ({})", only_measured.size(), some(only_measured));
  w.push_back(std::move(text));
  return w;
}

namespace {

std::string seconds(double s) { return compiler::human_seconds(s); }

std::string percent(const std::optional<double>& e) { return e ? fmt::format("{:+.1f}%", *e * 100) : "-"; }

}  // namespace

std::string comparison_table(const Comparison& c) {
  compiler::TextTable t;
  using A = compiler::TextTable::Align;
  t.column("layer");
  t.column("op");
  t.column(c.predicted_source.empty() ? "predicted" : c.predicted_source, A::right);
  t.column(c.measured_source.empty() ? "measured" : c.measured_source, A::right);
  t.column("error", A::right);
  for (const LayerComparison& l : c.layers) {
    if (l.predicted == 0 && l.measured == 0) continue;
    t.row({l.name, l.op, seconds(l.predicted), seconds(l.measured), percent(l.error)});
  }
  std::string out = fmt::format("{} ({}): {} against {}\n\n", c.model, c.experiment,
                                c.predicted_source.empty() ? "predicted" : c.predicted_source,
                                c.measured_source.empty() ? "measured" : c.measured_source);
  out += t.render();
  out += fmt::format("\nper-layer MAPE {:.1f}% over {} layers; step {} against {}: {:+.1f}% end to end\n", c.mape * 100,
                     c.compared, seconds(c.predicted_step), seconds(c.measured_step), c.step_error * 100);
  if (!c.dominant.empty()) {
    out += "largest gaps:";
    for (std::size_t i : c.dominant)
      out += fmt::format(" {} ({})", c.layers[i].name, seconds(c.layers[i].predicted - c.layers[i].measured));
    out += "\n";
  }
  if (!c.only_predicted.empty() || !c.only_measured.empty())
    out += fmt::format("unmatched: {} layer(s) only predicted, {} only measured\n", c.only_predicted.size(),
                       c.only_measured.size());
  return out;
}

std::string comparison_json(const Comparison& c) {
  using json = nlohmann::ordered_json;
  json layers = json::array();
  for (const LayerComparison& l : c.layers)
    layers.push_back({{"name", l.name}, {"op", l.op}, {"predicted_s", l.predicted}, {"measured_s", l.measured},
                      {"error", l.error ? json(*l.error) : json(nullptr)}});
  json dominant = json::array();
  for (std::size_t i : c.dominant) dominant.push_back(c.layers[i].name);
  return json{{"schema", "dlc.comparison/1"},
              {"model", c.model},
              {"experiment", c.experiment},
              {"layers", layers},
              {"mape", c.mape},
              {"compared_layers", c.compared},
              {"predicted_step_s", c.predicted_step},
              {"measured_step_s", c.measured_step},
              {"step_error", c.step_error},
              {"dominant", dominant},
              {"only_predicted", c.only_predicted},
              {"only_measured", c.only_measured}}
             .dump(2) +
         "\n";
}

std::string comparison_csv(const Comparison& c) {
  std::string out = "name,op,predicted_s,measured_s,error\n";
  for (const LayerComparison& l : c.layers)
    out += fmt::format("{},{},{},{},{}\n", compiler::csv_field(l.name), l.op, l.predicted, l.measured,
                       l.error ? fmt::format("{}", *l.error) : "");
  return out;
}

}  // namespace dlc::simulator
