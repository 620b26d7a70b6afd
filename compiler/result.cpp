#include "compiler/result.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "compiler/result_crossbar.hpp"
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
  if (j.contains("error") && j["error"].is_string()) {  // an experiment that failed: nothing to read
    error = fmt::format("the record of experiment '{}' has no result: {}", j.value("experiment", ""),
                        j["error"].get<std::string>());
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
      if (l.contains("reference_kernels") && l["reference_kernels"].is_array())
        for (const json& k : l["reference_kernels"])
          if (k.is_string()) lr.reference_kernels.push_back(k.get<std::string>());
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
    if (t.contains("framework_s") && t["framework_s"].is_number()) r.totals.framework_s = t["framework_s"].get<double>();
    if (t.contains("iteration_s_low") && t["iteration_s_low"].is_number() && t.contains("iteration_s_high") &&
        t["iteration_s_high"].is_number()) {
      r.totals.iteration_s_low = t["iteration_s_low"].get<double>();
      r.totals.iteration_s_high = t["iteration_s_high"].get<double>();
      r.totals.interval_class = t.value("interval_class", "");
    }
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
    if (!l.reference_kernels.empty()) row["reference_kernels"] = l.reference_kernels;
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
  if (r.totals.framework_s) j["totals"]["framework_s"] = *r.totals.framework_s;
  if (r.totals.iteration_s_low && r.totals.iteration_s_high) {
    j["totals"]["iteration_s_low"] = *r.totals.iteration_s_low;
    j["totals"]["iteration_s_high"] = *r.totals.iteration_s_high;
    j["totals"]["interval_class"] = r.totals.interval_class;
  }
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
  if (r.utilisation) {
    const Utilisation& u = *r.utilisation;
    j["utilisation"] = {{"tokens_per_s", optional(u.tokens_per_s)},
                        {"model_flops_per_step", u.model_flops_per_step},
                        {"hardware_flops_per_step", u.hardware_flops_per_step},
                        {"peak_flops_per_device", u.peak_flops_per_device},
                        {"mfu", u.mfu},
                        {"hfu", u.hfu},
                        {"flops_per_device_per_s", u.flops_per_device_per_s}};
  }
  if (r.tokens) j["tokens"] = *r.tokens;
  if (r.steps) j["steps"] = *r.steps;
  if (r.energy_j) j["energy_j"] = *r.energy_j;
  if (r.cost_usd) j["cost_usd"] = *r.cost_usd;
  add_crossbar_json(j, r);
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

std::string rate(double samples_per_s) { return human_rate(samples_per_s); }

std::string gigabytes(double b) { return fmt::format("{:.2f} GB", b / 1e9); }

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
  std::vector<std::string> on_reference;
  for (const LayerResult& l : r.layers) {
    if (l.forward_s == 0 && l.backward_s == 0 && l.update_s == 0) continue;  // inputs, reshapes
    std::string bound = l.bound;
    if (!l.reference_kernels.empty()) {
      bound += " *";
      on_reference.push_back(fmt::format("{}: {}", l.name, fmt::join(l.reference_kernels, ", ")));
    }
    std::vector<std::string> row{l.name, l.op, seconds(l.forward_s), seconds(l.backward_s), seconds(l.update_s), bound};
    if (spread) row.push_back(l.spread ? fmt::format("{:.0f}%", 100 * *l.spread) : "");
    t.row(row);
  }
  // A measured run is one machine's share: its batch is that machine's.
  std::string out = fmt::format("{} on {} ({}): {}, {}, {} {}\n\n", r.model, r.system, r.device, r.phase,
                                r.precision, r.source == "measured" ? "batch" : "global batch", r.batch);
  out += t.render();
  if (!on_reference.empty())
    out += fmt::format("* ran on reference kernels, far slower than this machine allows; do not calibrate on "
                       "them:\n  {}\n",
                       fmt::join(on_reference, "\n  "));
  out += fmt::format("\nstep {}: compute {}, exposed communication {}{}; {} samples/s; memory {} per device\n",
                     seconds(r.totals.iteration_s), seconds(r.totals.compute_s), seconds(r.totals.comm_s),
                     r.totals.framework_s ? ", framework " + seconds(*r.totals.framework_s) : std::string(),
                     rate(r.totals.samples_per_s), gigabytes(r.totals.memory_per_device_bytes));
  if (r.totals.iteration_s_low && r.totals.iteration_s_high)
    out += fmt::format("step {} to {}: the range of the accuracy benchmark's held-out errors for {} (docs/validate.md)\n",
                       seconds(*r.totals.iteration_s_low), seconds(*r.totals.iteration_s_high),
                       r.totals.interval_class);
  if (r.utilisation) {
    const Utilisation& u = *r.utilisation;
    if (u.tokens_per_s) out += fmt::format("{} tokens/s; ", human_count(*u.tokens_per_s));
    out += fmt::format("model FLOPs {:.3g} per step: MFU {:.1f}%; executed {:.3g}{}: HFU {:.1f}%, {}FLOP/s per "
                       "device of its {}FLOP/s\n",
                       u.model_flops_per_step, 100 * u.mfu, u.hardware_flops_per_step,
                       u.hardware_flops_per_step > u.model_flops_per_step * 1.0001 ? " (recomputation included)" : "",
                       100 * u.hfu, human_si(u.flops_per_device_per_s), human_si(u.peak_flops_per_device));
  }
  if (r.totals.epoch_s)
    out += fmt::format("epoch {}{}\n", seconds(*r.totals.epoch_s),
                       r.totals.total_s ? fmt::format(", whole run {}", seconds(*r.totals.total_s)) : "");
  if (r.tokens && r.steps && r.totals.total_s)
    out += fmt::format("{} tokens: {} steps, {}\n", human_count(*r.tokens), with_separators(std::llround(*r.steps)),
                       seconds(*r.totals.total_s));
  if (r.energy_j || r.cost_usd) {
    std::vector<std::string> parts;
    if (r.energy_j) parts.push_back(fmt::format("energy {}", human_joules(*r.energy_j)));
    if (r.cost_usd) parts.push_back(fmt::format("cost {} USD", human_count(*r.cost_usd)));
    out += fmt::format("whole run: {}\n", fmt::join(parts, "; "));
  }
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
  if (r.crossbar) return crossbar_csv(r);
  if (r.hopfield) return hopfield_csv(r);
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

std::string results_summary_table(const std::vector<ExperimentOutcome>& outcomes) {
  std::vector<Result> results;
  for (const ExperimentOutcome& o : outcomes)
    if (o.result) results.push_back(*o.result);
  TextTable t;
  using A = TextTable::Align;
  t.column("experiment");
  t.column("model");
  t.column("system");
  t.column("batch", A::right);
  t.column("step", A::right);
  // The step's prediction interval (ResultTotals), where any result has one.
  bool range = std::any_of(results.begin(), results.end(), [](const Result& r) { return r.totals.iteration_s_low; });
  if (range) t.column("step range", A::right);
  t.column("samples/s", A::right);
  t.column("memory/device", A::right);
  t.column("epoch", A::right);
  t.column("total", A::right);
  // Next to a crossbar chip, the energy of every system whose power is known.
  bool energy = std::any_of(results.begin(), results.end(),
                            [](const Result& r) { return r.crossbar.has_value() || r.hopfield.has_value(); });
  if (energy) t.column("energy/sample", A::right);
  // Sequence models: tokens/s and MFU; runs with a price: their cost.
  bool tokens = std::any_of(results.begin(), results.end(),
                            [](const Result& r) { return r.utilisation && r.utilisation->tokens_per_s; });
  bool cost = std::any_of(results.begin(), results.end(), [](const Result& r) { return r.cost_usd.has_value(); });
  if (tokens) {
    t.column("tokens/s", A::right);
    t.column("MFU", A::right);
  }
  if (cost) t.column("cost", A::right);
  auto maybe = [](const std::optional<double>& s) { return s ? seconds(*s) : std::string("-"); };
  for (const Result& r : results) {
    std::vector<std::string> row{r.experiment, r.model, r.system, std::to_string(r.batch),
                                 seconds(r.totals.iteration_s)};
    if (range)
      row.push_back(r.totals.iteration_s_low && r.totals.iteration_s_high
                        ? seconds(*r.totals.iteration_s_low) + "–" + seconds(*r.totals.iteration_s_high)
                        : std::string("-"));
    for (std::string cell : {rate(r.totals.samples_per_s),
                             r.crossbar || r.hopfield ? std::string("-") : gigabytes(r.totals.memory_per_device_bytes),
                             maybe(r.totals.epoch_s), maybe(r.totals.total_s)})
      row.push_back(std::move(cell));
    if (energy) row.push_back(r.energy_per_sample_j ? human_joules(*r.energy_per_sample_j) : "-");
    if (tokens) {
      bool has = r.utilisation && r.utilisation->tokens_per_s;
      row.push_back(has ? human_count(*r.utilisation->tokens_per_s) : "-");
      row.push_back(r.utilisation ? fmt::format("{:.1f}%", 100 * r.utilisation->mfu) : "-");
    }
    if (cost) row.push_back(r.cost_usd ? human_count(*r.cost_usd) + " USD" : "-");
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

std::string results_csv(const std::vector<ExperimentOutcome>& outcomes) {
  std::string out = "experiment,model,system,batch,iteration_s,samples_per_s,memory_per_device_bytes,epoch_s,total_s,"
                    "tokens_per_s,mfu,energy_j,cost_usd,error\n";
  auto optional = [](const std::optional<double>& s) { return s ? fmt::format("{}", *s) : std::string(); };
  for (const ExperimentOutcome& o : outcomes) {
    if (!o.result) {
      out += fmt::format("{},{},{},,,,,,,,,,,{}\n", csv_field(o.experiment), csv_field(o.model), csv_field(o.system),
                         csv_field(o.error));
      continue;
    }
    const Result& r = *o.result;
    std::optional<double> tokens_per_s, mfu;
    if (r.utilisation) {
      tokens_per_s = r.utilisation->tokens_per_s;
      mfu = r.utilisation->mfu;
    }
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},\n", csv_field(r.experiment), csv_field(r.model),
                       csv_field(r.system), r.batch, r.totals.iteration_s, r.totals.samples_per_s,
                       r.totals.memory_per_device_bytes, optional(r.totals.epoch_s), optional(r.totals.total_s),
                       optional(tokens_per_s), optional(mfu), optional(r.energy_j), optional(r.cost_usd));
  }
  return out;
}

std::string results_json(const std::vector<ExperimentOutcome>& outcomes) {
  using json = nlohmann::ordered_json;
  std::string out = "[\n";
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const ExperimentOutcome& o = outcomes[i];
    std::string one = o.result ? result_json(*o.result)
                               : json{{"schema", "dlc.result/1"}, {"source", "simulated"}, {"experiment", o.experiment},
                                      {"model", o.model},         {"system", o.system},     {"error", o.error}}
                                         .dump(2);
    if (one.back() == '\n') one.pop_back();
    out += one + (i + 1 < outcomes.size() ? ",\n" : "\n");
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
  // A crossbar chip's sweep (its rows, its ADC bits, its tiles) changes the
  // arrays and chips the model takes, their area, power and energy too.
  bool chip = std::any_of(points.begin(), points.end(),
                          [](const ScalePoint& p) { return p.result && p.result->crossbar; });
  if (chip) add_crossbar_scale_columns(t);
  const ScalePoint* base = nullptr;
  for (const ScalePoint& p : points)
    if (p.result && !base) base = &p;
  for (const ScalePoint& p : points) {
    if (!p.result) {
      std::vector<std::string> row{p.value, fmt::format("{:g}", p.devices), "-", "-", "-", "-", p.error};
      if (chip) row.resize(row.size() + crossbar_scale_cells(nullptr).size());
      t.row(row);
      continue;
    }
    double speedup = p.result->totals.samples_per_s / base->result->totals.samples_per_s;
    double scale = p.devices / base->devices;
    std::vector<std::string> row{p.value, fmt::format("{:g}", p.devices), seconds(p.result->totals.iteration_s),
                                 rate(p.result->totals.samples_per_s), fmt::format("{:.2f}", speedup),
                                 scale != 1 ? fmt::format("{:.0f}%", 100 * speedup / scale) : "-",
                                 hours(p.result->totals.total_s)};
    if (chip) {
      std::vector<std::string> cells = crossbar_scale_cells(&*p.result);
      row.insert(row.end(), cells.begin(), cells.end());
    }
    t.row(row);
  }
  return t.render();
}

std::string scale_csv(const std::string& key, const std::vector<ScalePoint>& points) {
  bool chip = std::any_of(points.begin(), points.end(),
                          [](const ScalePoint& p) { return p.result && p.result->crossbar; });
  std::string out = fmt::format("{},devices,iteration_s,samples_per_s,total_s,error{}\n", csv_field(key),
                                chip ? crossbar_scale_csv_header() : "");
  for (const ScalePoint& p : points) {
    if (!p.result) {
      out += fmt::format("{},{},,,,{}{}\n", csv_field(p.value), p.devices, csv_field(p.error),
                         chip ? crossbar_scale_csv_fields(nullptr) : "");
      continue;
    }
    out += fmt::format("{},{},{},{},{},", csv_field(p.value), p.devices, p.result->totals.iteration_s,
                       p.result->totals.samples_per_s,
                       p.result->totals.total_s ? fmt::format("{}", *p.result->totals.total_s) : "");
    if (chip) out += crossbar_scale_csv_fields(&*p.result);
    out += "\n";
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
      add_crossbar_scale_json(row, *p.result);
    } else {
      row["error"] = p.error;
    }
    rows.push_back(row);
  }
  return json{{"schema", "dlc.scale/1"}, {"parameter", key}, {"points", rows}}.dump(2) + "\n";
}

}  // namespace dlc::compiler
