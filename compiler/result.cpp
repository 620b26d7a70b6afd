#include "compiler/result.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler/table.hpp"

namespace dlc::compiler {

bool result_from_json(const std::string& text, Result& r, std::string& error) {
  using json = nlohmann::json;
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    error = "not valid JSON";
    return false;
  }
  if (!j.is_object() || j.value("schema", "") != "dlc.result/1") {
    error = "not a dlc.result/1 record (dlc simulate --format json writes one)";
    return false;
  }
  try {
    r = Result{};
    r.source = j.value("source", "");
    r.experiment = j.value("experiment", "");
    r.model = j.value("model", "");
    r.system = j.value("system", "");
    r.device = j.value("device", "");
    r.phase = j.value("phase", "");
    r.precision = j.value("precision", "");
    r.batch = j.value("batch", std::int64_t{0});
    for (const json& l : j.at("layers")) {
      LayerResult lr;
      lr.name = l.at("name").get<std::string>();
      lr.op = l.value("op", "");
      lr.forward_s = l.value("forward_s", 0.0);
      lr.backward_s = l.value("backward_s", 0.0);
      lr.update_s = l.value("update_s", 0.0);
      lr.bound = l.value("bound", "");
      lr.op_class = l.value("class", "");
      if (l.contains("spread") && l["spread"].is_number()) lr.spread = l["spread"].get<double>();
      if (l.contains("work") && l["work"].is_object()) {
        const json& w = l["work"];
        lr.work = LayerResult::Work{w.at("macs_forward").get<double>(), w.at("macs_backward").get<double>(),
                                    w.at("bytes_forward").get<double>(), w.at("bytes_backward").get<double>(),
                                    w.at("weight_bytes").get<double>()};
      }
      r.layers.push_back(std::move(lr));
    }
    const json& t = j.at("totals");
    r.totals.iteration_s = t.at("iteration_s").get<double>();
    r.totals.compute_s = t.value("compute_s", 0.0);
    r.totals.comm_s = t.value("comm_s", 0.0);
    r.totals.samples_per_s = t.value("samples_per_s", 0.0);
    r.totals.memory_per_device_bytes = t.value("memory_per_device_bytes", 0.0);
    if (t.contains("epoch_s") && t["epoch_s"].is_number()) r.totals.epoch_s = t["epoch_s"].get<double>();
    if (t.contains("total_s") && t["total_s"].is_number()) r.totals.total_s = t["total_s"].get<double>();
    if (j.contains("device_model") && j["device_model"].is_object()) {
      const json& d = j["device_model"];
      r.device_model = DeviceModel{d.value("name", ""), d.value("kind", ""), d.at("peak").get<double>(),
                                   d.at("memory_bandwidth").get<double>()};
    }
  } catch (const json::exception& e) {
    error = std::string("a dlc.result/1 record with a missing or mistyped key: ") + e.what();
    return false;
  }
  return true;
}

std::string result_json(const Result& r) {
  using json = nlohmann::ordered_json;
  json layers = json::array();
  for (const LayerResult& l : r.layers) {
    json row = {{"name", l.name},         {"op", l.op},           {"forward_s", l.forward_s},
                {"backward_s", l.backward_s}, {"update_s", l.update_s}, {"bound", l.bound}};
    if (!l.op_class.empty()) row["class"] = l.op_class;
    if (l.spread) row["spread"] = *l.spread;
    if (l.work)
      row["work"] = {{"macs_forward", l.work->macs_forward},   {"macs_backward", l.work->macs_backward},
                     {"bytes_forward", l.work->bytes_forward}, {"bytes_backward", l.work->bytes_backward},
                     {"weight_bytes", l.work->weight_bytes}};
    layers.push_back(std::move(row));
  }
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
  if (r.requirements) {
    const Requirements& q = *r.requirements;
    j["requirements"] = {{"macs_per_epoch", q.macs_per_epoch},
                         {"flops_per_epoch", q.flops_per_epoch},
                         {"target_s", optional(q.target_s)},
                         {"macs_per_s", optional(q.macs_per_s)},
                         {"flops_per_s", optional(q.flops_per_s)}};
  }
  if (r.device_model)
    j["device_model"] = {{"name", r.device_model->name},
                         {"kind", r.device_model->kind},
                         {"peak", r.device_model->peak},
                         {"memory_bandwidth", r.device_model->memory_bandwidth}};
  if (r.energy_per_sample_j) j["energy_per_sample_j"] = *r.energy_per_sample_j;
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
  if (!r.summa.empty()) {
    json rows = json::array();
    for (const SummaLayer& s : r.summa)
      rows.push_back({{"layer", s.layer}, {"grid", s.grid}, {"required_bandwidth", s.required_bandwidth},
                      {"bandwidth", s.bandwidth}});
    j["summa"] = rows;
  }
  return j.dump(2) + "\n";
}

namespace {

std::string seconds(double s) { return human_seconds(s); }

std::string rate(double samples_per_s) {
  if (samples_per_s >= 1e6) return fmt::format("{:.2f}M", samples_per_s / 1e6);
  if (samples_per_s >= 1e4) return fmt::format("{:.1f}K", samples_per_s / 1e3);
  return fmt::format("{:.1f}", samples_per_s);
}

std::string gigabytes(double b) { return fmt::format("{:.2f} GB", b / 1e9); }

std::string joules(double j) {
  double a = std::fabs(j);
  if (a == 0) return "0 J";
  if (a < 1e-9) return fmt::format("{:.3g} pJ", j * 1e12);
  if (a < 1e-6) return fmt::format("{:.3g} nJ", j * 1e9);
  if (a < 1e-3) return fmt::format("{:.3g} uJ", j * 1e6);
  if (a < 1) return fmt::format("{:.3g} mJ", j * 1e3);
  return fmt::format("{:.3g} J", j);
}

// A crossbar chip running a model: per layer, its arrays and what a sample
// costs there; then the chip at its peak, and the model's totals.
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
      t.row({l.name, l.op, "digital", "", "", "", seconds(l.latency_s), joules(l.energy_j), "", ""});
      continue;
    }
    t.row({l.name, l.op, with_separators(std::llround(l.arrays)), fmt::format("{:g}", l.replicas),
           with_separators(std::llround(l.mvms)), with_separators(std::llround(l.adc_conversions)),
           seconds(l.latency_s), joules(l.energy_j), fmt::format("{:.3g} mm²", l.area_m2 * 1e6),
           fmt::format("{:.0f}%", 100 * l.utilisation)});
  }
  std::string out = fmt::format("{} on {} (crossbar): {}, batch {}; per sample\n\n", r.model, r.system, r.phase,
                                r.batch);
  out += t.render();
  out += fmt::format("\nchip {}: {} arrays; a product takes {}; peak {:.2f} TOPS, {:.2f} W, {:.2f} mm²: "
                     "{:.1f} GOPS/W, {:.1f} GOPS/s/mm²\n",
                     c.name, with_separators(std::llround(c.arrays)), seconds(c.mvm_s), c.peak_ops_per_s / 1e12,
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
                     seconds(x.latency_s), seconds(x.interval_s), rate(r.totals.samples_per_s),
                     x.ops_per_sample * r.totals.samples_per_s / 1e12);
  std::string parts;
  for (const auto& [name, e] : x.energy_by_part)
    if (e > 0) parts += fmt::format("{}{} {:.1f}%", parts.empty() ? "" : ", ", name, 100 * e / x.energy_j);
  out += fmt::format("  energy {} per sample ({}); {:.2f} W at that rate; {:.2f} mm²\n", joules(x.energy_j), parts,
                     x.power_w, x.area_m2 * 1e6);
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

// A Hopfield experiment: the graph, the success of annealed and noise-free
// trials, and what a solution costs on the chip.
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
                     seconds(h.update_s), joules(h.update_j), seconds(r.totals.iteration_s),
                     joules(*r.energy_per_sample_j));
  if (h.time_to_solution_s)
    out += fmt::format("to solution (99%): {} and {}\n", seconds(*h.time_to_solution_s),
                       joules(*h.energy_to_solution_j));
  if (!h.energy_trace.empty()) {
    out += "energy of the first trial after each sweep:";
    for (double e : h.energy_trace) out += fmt::format(" {:g}", e);
    out += "\n";
  }
  return out;
}

std::string hours(const std::optional<double>& s) { return s ? fmt::format("{:.1f}", *s / 3600) : "-"; }

}  // namespace

std::string result_table(const Result& r) {
  if (r.crossbar) return crossbar_table(r);
  if (r.hopfield) return hopfield_table(r);
  TextTable t;
  using A = TextTable::Align;
  t.column("layer");
  t.column("op");
  t.column("forward", A::right);
  t.column("backward", A::right);
  t.column("update", A::right);
  t.column("bound");
  // Measured records: how much each layer's time varied over the iterations.
  bool spread = std::any_of(r.layers.begin(), r.layers.end(), [](const LayerResult& l) { return l.spread; });
  if (spread) t.column("spread", A::right);
  for (const LayerResult& l : r.layers) {
    if (l.forward_s == 0 && l.backward_s == 0 && l.update_s == 0) continue;  // inputs, reshapes
    std::vector<std::string> row{l.name, l.op, seconds(l.forward_s), seconds(l.backward_s), seconds(l.update_s), l.bound};
    if (spread) row.push_back(l.spread ? fmt::format("{:.0f}%", 100 * *l.spread) : "");
    t.row(row);
  }
  // A measured run is one machine's share: its batch is that machine's.
  std::string out = fmt::format("{} on {} ({}): {}, {}, {} {}\n\n", r.model, r.system, r.device, r.phase,
                                r.precision, r.source == "measured" ? "batch" : "global batch", r.batch);
  out += t.render();
  out += fmt::format("\nstep {}: compute {}, exposed communication {}; {} samples/s; memory {} per device\n",
                     seconds(r.totals.iteration_s), seconds(r.totals.compute_s), seconds(r.totals.comm_s),
                     rate(r.totals.samples_per_s), gigabytes(r.totals.memory_per_device_bytes));
  if (r.totals.epoch_s)
    out += fmt::format("epoch {}{}\n", seconds(*r.totals.epoch_s),
                       r.totals.total_s ? fmt::format(", whole run {}", seconds(*r.totals.total_s)) : "");
  if (r.requirements) {
    const Requirements& q = *r.requirements;
    out += fmt::format("work per epoch: {:.3g} MACs (3 x forward x dataset; the cookbook calls these FLOPs) = {:.3g} FLOPs\n",
                       q.macs_per_epoch, q.flops_per_epoch);
    if (q.macs_per_s)
      out += fmt::format("to finish in {}: {:.1f} T MAC/s sustained = {:.1f} TFLOPS (a device's peak counts 2 FLOPs per MAC)\n",
                         seconds(*q.target_s), *q.macs_per_s / 1e12, *q.flops_per_s / 1e12);
  }
  for (const SummaLayer& s : r.summa)
    out += fmt::format("SUMMA {} on a {:g} x {:g} grid: needs β ≥ {:.1f} GB/s to stay compute-bound; has {:.1f} GB/s\n",
                       s.layer, s.grid, s.grid, s.required_bandwidth / 1e9, s.bandwidth / 1e9);
  return out;
}

std::string result_csv(const Result& r) {
  std::string out = "name,op,forward_s,backward_s,update_s,bound\n";
  double forward = 0, backward = 0, update = 0;
  for (const LayerResult& l : r.layers) {
    out += fmt::format("{},{},{},{},{},{}\n", csv_field(l.name), l.op, l.forward_s, l.backward_s, l.update_s, l.bound);
    forward += l.forward_s;
    backward += l.backward_s;
    update += l.update_s;
  }
  // The layers' sums (no layer name has parentheses); the step, with the
  // exchange, is in the JSON's totals.
  out += fmt::format("(total),,{},{},{},\n", forward, backward, update);
  return out;
}

std::string results_summary_table(const std::vector<Result>& results) {
  TextTable t;
  using A = TextTable::Align;
  t.column("experiment");
  t.column("model");
  t.column("system");
  t.column("batch", A::right);
  t.column("step", A::right);
  t.column("samples/s", A::right);
  t.column("memory/device", A::right);
  t.column("epoch", A::right);
  t.column("total", A::right);
  // Next to a crossbar chip, the energy of every system whose power is known.
  bool energy = std::any_of(results.begin(), results.end(),
                            [](const Result& r) { return r.crossbar.has_value() || r.hopfield.has_value(); });
  if (energy) t.column("energy/sample", A::right);
  auto maybe = [](const std::optional<double>& s) { return s ? seconds(*s) : std::string("-"); };
  for (const Result& r : results) {
    std::vector<std::string> row{r.experiment,
                                 r.model,
                                 r.system,
                                 std::to_string(r.batch),
                                 seconds(r.totals.iteration_s),
                                 rate(r.totals.samples_per_s),
                                 r.crossbar || r.hopfield ? std::string("-")
                                                          : gigabytes(r.totals.memory_per_device_bytes),
                                 maybe(r.totals.epoch_s), maybe(r.totals.total_s)};
    if (energy) row.push_back(r.energy_per_sample_j ? joules(*r.energy_per_sample_j) : "-");
    t.row(row);
  }
  std::string out = t.render();
  for (const Result& r : results) {
    if (r.requirements && r.requirements->flops_per_s)
      out += fmt::format("{}: {:.3g} MACs per epoch = {:.3g} FLOPs; {:.1f} TFLOPS sustained to finish in {}\n",
                         r.experiment, r.requirements->macs_per_epoch, r.requirements->flops_per_epoch,
                         *r.requirements->flops_per_s / 1e12, seconds(*r.requirements->target_s));
    for (const SummaLayer& s : r.summa)
      out += fmt::format("{}: SUMMA {} on a {:g} x {:g} grid needs β ≥ {:.1f} GB/s; has {:.1f} GB/s\n", r.experiment,
                         s.layer, s.grid, s.grid, s.required_bandwidth / 1e9, s.bandwidth / 1e9);
  }
  return out;
}

std::string results_csv(const std::vector<Result>& results) {
  std::string out = "experiment,model,system,batch,iteration_s,samples_per_s,memory_per_device_bytes,epoch_s,total_s\n";
  auto optional = [](const std::optional<double>& s) { return s ? fmt::format("{}", *s) : std::string(); };
  for (const Result& r : results)
    out += fmt::format("{},{},{},{},{},{},{},{},{}\n", csv_field(r.experiment), csv_field(r.model), csv_field(r.system),
                       r.batch, r.totals.iteration_s, r.totals.samples_per_s, r.totals.memory_per_device_bytes,
                       optional(r.totals.epoch_s), optional(r.totals.total_s));
  return out;
}

std::string results_json(const std::vector<Result>& results) {
  std::string out = "[\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    std::string one = result_json(results[i]);
    one.pop_back();  // the newline
    out += one + (i + 1 < results.size() ? ",\n" : "\n");
  }
  return out + "]\n";
}

std::string scale_table(const std::string& key, const std::vector<ScalePoint>& points) {
  TextTable t;
  using A = TextTable::Align;
  t.column(key, A::right);
  t.column("devices", A::right);
  t.column("step", A::right);
  t.column("samples/s", A::right);
  t.column("speed-up", A::right);
  t.column("efficiency", A::right);
  t.column("total (h)", A::right);
  const ScalePoint* base = nullptr;
  for (const ScalePoint& p : points)
    if (p.result && !base) base = &p;
  for (const ScalePoint& p : points) {
    if (!p.result) {
      t.row({p.value, fmt::format("{:g}", p.devices), "-", "-", "-", "-", p.error});
      continue;
    }
    double speedup = p.result->totals.samples_per_s / base->result->totals.samples_per_s;
    double scale = p.devices / base->devices;
    t.row({p.value, fmt::format("{:g}", p.devices), seconds(p.result->totals.iteration_s),
           rate(p.result->totals.samples_per_s), fmt::format("{:.2f}", speedup),
           scale != 1 ? fmt::format("{:.0f}%", 100 * speedup / scale) : "-", hours(p.result->totals.total_s)});
  }
  return t.render();
}

std::string scale_csv(const std::string& key, const std::vector<ScalePoint>& points) {
  std::string out = fmt::format("{},devices,iteration_s,samples_per_s,total_s,error\n", csv_field(key));
  for (const ScalePoint& p : points) {
    if (!p.result) {
      out += fmt::format("{},{},,,,{}\n", csv_field(p.value), p.devices, csv_field(p.error));
      continue;
    }
    out += fmt::format("{},{},{},{},{},\n", csv_field(p.value), p.devices, p.result->totals.iteration_s,
                       p.result->totals.samples_per_s,
                       p.result->totals.total_s ? fmt::format("{}", *p.result->totals.total_s) : "");
  }
  return out;
}

std::string scale_json(const std::string& key, const std::vector<ScalePoint>& points) {
  using json = nlohmann::ordered_json;
  json rows = json::array();
  for (const ScalePoint& p : points) {
    json row = {{"value", p.value}, {"devices", p.devices}};
    if (p.result) {
      row["iteration_s"] = p.result->totals.iteration_s;
      row["samples_per_s"] = p.result->totals.samples_per_s;
      row["total_s"] = p.result->totals.total_s ? json(*p.result->totals.total_s) : json(nullptr);
    } else {
      row["error"] = p.error;
    }
    rows.push_back(row);
  }
  return json{{"schema", "dlc.scale/1"}, {"parameter", key}, {"points", rows}}.dump(2) + "\n";
}

}  // namespace dlc::compiler
