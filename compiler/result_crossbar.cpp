#include "compiler/result_crossbar.hpp"

#include <cmath>
#include <fmt/format.h>
#include <vector>

#include "compiler/table.hpp"

namespace dlc::compiler {

void add_crossbar_json(nlohmann::ordered_json& j, const Result& r) {
  using json = nlohmann::ordered_json;
  auto optional = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  if (r.crossbar) {
    const CrossbarRun& x = *r.crossbar;
    const CrossbarChip& c = x.chip;
    json parts = json::object();
    for (const auto& [name, e] : x.energy_by_part) parts[name] = e;
    json rows = json::array();
    for (const CrossbarLayer& l : x.layers) {
      json by_part = json::object();
      for (const auto& [name, e] : l.energy_by_part) by_part[name] = e;
      rows.push_back({{"name", l.name},       {"op", l.op},
                      {"mapped", l.mapped},   {"arrays", l.arrays},
                      {"replicas", l.replicas}, {"mvms", l.mvms},
                      {"adc_conversions", l.adc_conversions}, {"latency_s", l.latency_s},
                      {"energy_j", l.energy_j}, {"energy_by_part_j", by_part},
                      {"area_m2", l.area_m2}, {"utilisation", l.utilisation}});
    }
    j["crossbar"] = {{"chip",
                      {{"name", c.name},
                       {"peak_ops_per_s", c.peak_ops_per_s},
                       {"power_w", c.power_w},
                       {"area_m2", c.area_m2},
                       {"ops_per_s_per_w", c.peak_ops_per_s / c.power_w},
                       {"ops_per_s_per_m2", c.peak_ops_per_s / c.area_m2},
                       {"tile_power_w", c.tile_power_w},
                       {"tile_area_m2", c.tile_area_m2},
                       {"adc_power_w", c.adc_power_w},
                       {"adc_power_share", c.adc_power_share},
                       {"adc_area_share", c.adc_area_share},
                       {"adc_conversions_per_mac", c.conversions_per_mac},
                       {"mvm_s", c.mvm_s},
                       {"arrays", c.arrays},
                       {"adc_bits", c.adc_bits},
                       {"adc_bits_required", c.adc_bits_required},
                       {"adc_bits_required_unflipped", c.adc_bits_required_unflipped}}},
                     {"arrays_needed", x.arrays_needed},
                     {"chips", x.chips},
                     {"utilisation", x.utilisation},
                     {"latency_s", x.latency_s},
                     {"interval_s", x.interval_s},
                     {"energy_j", x.energy_j},
                     {"energy_by_part_j", parts},
                     {"power_w", x.power_w},
                     {"area_m2", x.area_m2},
                     {"ops_per_sample", x.ops_per_sample},
                     {"layers", rows}};
  }
  if (!r.functional.empty()) {
    json rows = json::array();
    for (const FunctionalLayer& l : r.functional)
      rows.push_back({{"name", l.name},       {"op", l.op},         {"inputs", l.inputs},
                      {"outputs", l.outputs}, {"samples", l.samples}, {"max_abs", l.max_abs},
                      {"rms", l.rms},         {"deviation", l.deviation},
                      {"enob", l.exact ? json(nullptr) : json(l.enob)}, {"exact", l.exact},
                      {"saturations", l.saturations}});
    j["functional"] = rows;
  }
  if (r.hopfield) {
    const HopfieldReport& h = *r.hopfield;
    j["hopfield"] = {{"graph", h.graph},
                     {"nodes", h.nodes},
                     {"edges", h.edges},
                     {"optimum", optional(h.optimum)},
                     {"optimum_source", h.optimum_source},
                     {"trials", h.trials},
                     {"sweeps", h.sweeps},
                     {"noise_start", h.noise_start},
                     {"noise_end", h.noise_end},
                     {"schedule", h.schedule},
                     {"best_cut", h.best_cut},
                     {"mean_cut", h.mean_cut},
                     {"success_rate", optional(h.success_rate)},
                     {"success_rate_noise_free", optional(h.success_rate_noise_free)},
                     {"mean_updates_to_solution", optional(h.mean_updates_to_solution)},
                     {"arrays", h.arrays},
                     {"update_s", h.update_s},
                     {"update_j", h.update_j},
                     {"time_to_solution_s", optional(h.time_to_solution_s)},
                     {"energy_to_solution_j", optional(h.energy_to_solution_j)},
                     {"energy_trace", h.energy_trace}};
  }
}

std::string crossbar_table(const Result& r) {
  const CrossbarRun& x = *r.crossbar;
  const CrossbarChip& c = x.chip;
  TextTable t;
  using A = TextTable::Align;
  t.column("layer");
  t.column("op");
  t.column("arrays", A::right);
  t.column("copies", A::right);
  t.column("MVMs", A::right);
  t.column("ADC conv.", A::right);
  t.column("latency", A::right);
  t.column("energy", A::right);
  t.column("area", A::right);
  t.column("cells used", A::right);
  for (const CrossbarLayer& l : x.layers) {
    if (!l.mapped) {
      t.row({l.name, l.op, "digital", "", "", "", human_seconds(l.latency_s), human_joules(l.energy_j), "", ""});
      continue;
    }
    t.row({l.name, l.op, with_separators(std::llround(l.arrays)), fmt::format("{:g}", l.replicas),
           with_separators(std::llround(l.mvms)), with_separators(std::llround(l.adc_conversions)),
           human_seconds(l.latency_s), human_joules(l.energy_j), fmt::format("{:.3g} mm²", l.area_m2 * 1e6),
           fmt::format("{:.0f}%", 100 * l.utilisation)});
  }
  std::string out = fmt::format("{} on {} (crossbar): {}, batch {}; per sample\n\n", r.model, r.system, r.phase,
                                r.batch);
  out += t.render();
  out += fmt::format("\nchip {}: {} arrays; a product takes {}; peak {:.2f} TOPS, {:.2f} W, {:.2f} mm²: "
                     "{:.1f} GOPS/W, {:.1f} GOPS/s/mm²\n",
                     c.name, with_separators(std::llround(c.arrays)), human_seconds(c.mvm_s), c.peak_ops_per_s / 1e12,
                     c.power_w, c.area_m2 * 1e6, c.peak_ops_per_s / c.power_w / 1e9,
                     c.peak_ops_per_s / (c.area_m2 * 1e6) / 1e9);
  out += fmt::format("  ADCs: {:.1f}% of a tile's power, {:.1f}% of its area, {:.2f} W per chip; {:.4g} conversions "
                     "per MAC; {} bits, {} needed ({}){}\n",
                     100 * c.adc_power_share, 100 * c.adc_area_share, c.adc_power_w, c.conversions_per_mac,
                     c.adc_bits, c.adc_bits_required,
                     c.flip_encoding ? fmt::format("flipped encoding; {} without", c.adc_bits_required_unflipped)
                                     : "no flipped encoding",
                     c.adc_bits < c.adc_bits_required ? " (column sums can clip: see dlc simulate --functional)" : "");
  out += fmt::format("model: {} arrays on {:g} chip(s) ({:.1f}% used); latency {}, pipelined interval {}: "
                     "{} samples/s; {:.2f} TOPS achieved\n",
                     with_separators(std::llround(x.arrays_needed)), x.chips, 100 * x.utilisation,
                     human_seconds(x.latency_s), human_seconds(x.interval_s), human_rate(r.totals.samples_per_s),
                     x.ops_per_sample * r.totals.samples_per_s / 1e12);
  std::string parts;
  for (const auto& [name, e] : x.energy_by_part)
    if (e > 0) parts += fmt::format("{}{} {:.1f}%", parts.empty() ? "" : ", ", name, 100 * e / x.energy_j);
  out += fmt::format("  energy {} per sample ({}); {:.2f} W at that rate; {:.2f} mm²\n", human_joules(x.energy_j),
                     parts, x.power_w, x.area_m2 * 1e6);
  if (!r.functional.empty()) {
    TextTable f;
    f.column("layer");
    f.column("op");
    f.column("K x N", A::right);
    f.column("max error", A::right);
    f.column("RMS error", A::right);
    f.column("deviation", A::right);
    f.column("ENOB", A::right);
    f.column("clipped", A::right);
    for (const FunctionalLayer& l : r.functional)
      f.row({l.name, l.op, fmt::format("{} x {}", l.inputs, l.outputs), fmt::format("{:.3g}", l.max_abs),
             fmt::format("{:.3g}", l.rms), fmt::format("{:.3g}%", 100 * l.deviation),
             l.exact ? std::string("exact") : fmt::format("{:.1f}", l.enob), with_separators(l.saturations)});
    out += fmt::format("\nfunctional model: {} random input vector(s) per layer, weights and inputs uniform in "
                       "[-1, 1]; errors in the units of the outputs\n\n",
                       r.functional.front().samples);
    out += f.render();
  }
  return out;
}

std::string hopfield_table(const Result& r) {
  const HopfieldReport& h = *r.hopfield;
  auto share = [](const std::optional<double>& p) { return p ? fmt::format("{:.0f}%", 100 * *p) : std::string("-"); };
  std::string out = fmt::format("max-cut by a Hopfield network on {} (crossbar)\n\n", r.system);
  out += fmt::format("graph {}: {} nodes, {} edges; best cut {}\n", h.graph, h.nodes, h.edges,
                     h.optimum ? fmt::format("{:g} ({})", *h.optimum, h.optimum_source) : std::string("unknown"));
  out += fmt::format("{} trials of {} sweeps ({} updates each); annealing noise {:g} -> {:g}, {}\n", h.trials,
                     h.sweeps, h.sweeps * h.nodes, h.noise_start, h.noise_end, h.schedule);
  TextTable t;
  using A = TextTable::Align;
  t.column("run");
  t.column("reached the best cut", A::right);
  t.row({"annealed", share(h.success_rate)});
  t.row({"noise-free", share(h.success_rate_noise_free)});
  out += "\n" + t.render() + "\n";
  out += fmt::format("best cut found {:g}; mean final cut {:.2f}", h.best_cut, h.mean_cut);
  if (h.mean_updates_to_solution)
    out += fmt::format("; {:.0f} updates to the best cut on average", *h.mean_updates_to_solution);
  out += "\n";
  out += fmt::format("W on {:g} array(s); an update takes {} and {}; a trial {} and {}\n", h.arrays,
                     human_seconds(h.update_s), human_joules(h.update_j), human_seconds(r.totals.iteration_s),
                     human_joules(*r.energy_per_sample_j));
  if (h.time_to_solution_s)
    out += fmt::format("to solution (99%): {} and {}\n", human_seconds(*h.time_to_solution_s),
                       human_joules(*h.energy_to_solution_j));
  if (!h.energy_trace.empty()) {
    out += "energy of the first trial after each sweep:";
    for (double e : h.energy_trace) out += fmt::format(" {:g}", e);
    out += "\n";
  }
  return out;
}

std::string crossbar_csv(const Result& r) {
  const CrossbarRun& x = *r.crossbar;
  std::string out = "name,op,mapped,arrays,replicas,mvms,adc_conversions,latency_s,energy_j,area_m2,utilisation\n";
  for (const CrossbarLayer& l : x.layers)
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(l.name), l.op, l.mapped, l.arrays, l.replicas,
                       l.mvms, l.adc_conversions, l.latency_s, l.energy_j, l.area_m2, l.utilisation);
  // The model on its chips (no layer name has parentheses): latency and
  // energy per sample, the static io energy included.
  out += fmt::format("(total),,,{},,,,{},{},{},{}\n", x.arrays_needed, x.latency_s, x.energy_j, x.area_m2,
                     x.utilisation);
  return out;
}

std::string hopfield_csv(const Result& r) {
  const HopfieldReport& h = *r.hopfield;
  auto maybe = [](const std::optional<double>& v) { return v ? fmt::format("{}", *v) : std::string(); };
  std::string out = "key,value\n";
  std::vector<std::pair<std::string, std::string>> rows{
      {"graph", csv_field(h.graph)},
      {"nodes", std::to_string(h.nodes)},
      {"edges", std::to_string(h.edges)},
      {"optimum", maybe(h.optimum)},
      {"trials", std::to_string(h.trials)},
      {"sweeps", std::to_string(h.sweeps)},
      {"best_cut", fmt::format("{}", h.best_cut)},
      {"mean_cut", fmt::format("{}", h.mean_cut)},
      {"success_rate", maybe(h.success_rate)},
      {"success_rate_noise_free", maybe(h.success_rate_noise_free)},
      {"update_s", fmt::format("{}", h.update_s)},
      {"update_j", fmt::format("{}", h.update_j)},
      {"time_to_solution_s", maybe(h.time_to_solution_s)},
      {"energy_to_solution_j", maybe(h.energy_to_solution_j)},
  };
  for (const auto& [k, v] : rows) out += k + "," + v + "\n";
  return out;
}

void add_crossbar_scale_columns(TextTable& t) {
  using A = TextTable::Align;
  t.column("arrays", A::right);
  t.column("chips", A::right);
  t.column("area", A::right);
  t.column("chip power", A::right);
  t.column("energy/sample", A::right);
}

std::vector<std::string> crossbar_scale_cells(const Result* r) {
  if (!r || !r->crossbar) return std::vector<std::string>(5);
  const CrossbarRun& x = *r->crossbar;
  return {with_separators(std::llround(x.arrays_needed)), fmt::format("{:g}", x.chips),
          fmt::format("{:.2f} mm²", x.area_m2 * 1e6), fmt::format("{:.2f} W", x.chip.power_w),
          human_joules(x.energy_j)};
}

std::string crossbar_scale_csv_header() { return ",arrays,chips,area_m2,chip_power_w,energy_per_sample_j"; }

std::string crossbar_scale_csv_fields(const Result* r) {
  if (!r || !r->crossbar) return ",,,,,";
  const CrossbarRun& x = *r->crossbar;
  return fmt::format(",{},{},{},{},{}", x.arrays_needed, x.chips, x.area_m2, x.chip.power_w, x.energy_j);
}

void add_crossbar_scale_json(nlohmann::ordered_json& row, const Result& r) {
  if (!r.crossbar) return;
  const CrossbarRun& x = *r.crossbar;
  row["arrays"] = x.arrays_needed;
  row["chips"] = x.chips;
  row["area_m2"] = x.area_m2;
  row["chip_power_w"] = x.chip.power_w;
  row["energy_per_sample_j"] = x.energy_j;
}

}  // namespace dlc::compiler
