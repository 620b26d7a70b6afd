#include "simulator/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "compiler/table.hpp"
#include "simulator/roofline.hpp"

namespace dlc::simulator {

using compiler::OpClass;

namespace {

OpClass class_at(int i) { return static_cast<OpClass>(i); }

std::optional<int> class_index(const std::string& name) {
  for (int i = 0; i < kOpClasses; ++i)
    if (name != "input" && compiler::op_class_name(class_at(i)) == name) return i;
  return std::nullopt;
}

// One forward or backward time of one layer.
struct Sample {
  int cls = 0;
  bool memory_class = false;
  int pass = 0;  // Pass
  double compute = 0, memory = 0;  // the two terms at efficiency 1 and the nominal bandwidth, s
  double measured = 0;             // s
  std::size_t record = 0, layer = 0;
};

std::array<double, kOpClasses>& efficiencies(RooflineParams& p, int pass) {
  return pass == 0 ? p.efficiency : pass == 1 ? p.efficiency_backward : p.efficiency_inference;
}
const std::array<double, kOpClasses>& efficiencies(const RooflineParams& p, int pass) {
  return efficiencies(const_cast<RooflineParams&>(p), pass);
}

double predict(const RooflineParams& p, const Sample& s) {
  double eff = efficiencies(p, s.pass)[static_cast<std::size_t>(s.cls)];
  double compute = s.compute > 0 ? s.compute / eff : 0;
  double memory = s.memory / (p.bandwidth_scale * p.memory_efficiency * (s.memory_class ? eff : 1.0));
  return std::max(compute, memory) + p.launch_overhead;
}

// The a minimising Σ |a·x_i − y_i| / y_i: the median of y_i / x_i weighted by x_i / y_i.
double weighted_median(std::vector<std::pair<double, double>> ratio_weight) {
  std::sort(ratio_weight.begin(), ratio_weight.end());
  double total = 0;
  for (const auto& [r, w] : ratio_weight) total += w;
  double acc = 0;
  for (const auto& [r, w] : ratio_weight) {
    acc += w;
    if (acc >= total / 2) return r;
  }
  return ratio_weight.empty() ? 0 : ratio_weight.back().first;
}

struct Fit {
  RooflineParams params;
  std::array<std::array<bool, kPasses>, kOpClasses> clamped{};
  std::array<std::array<double, kPasses>, kOpClasses> unclamped{};
  double mape = 0;
};

// The fit for a given launch overhead.
Fit fit_with(const std::vector<Sample>& samples, const std::vector<std::pair<double, double>>& updates,
             const RooflineParams& defaults, double launch) {
  Fit f;
  f.params = defaults;
  f.params.launch_overhead = launch;
  // Per class and pass: the factor of its bounding term.
  std::array<std::array<std::vector<std::pair<double, double>>, kPasses>, kOpClasses> ratios;
  for (const Sample& s : samples) {
    double x = s.memory_class ? s.memory : s.compute;
    double y = s.measured - launch;
    if (x <= 0 || y <= 0) continue;
    ratios[static_cast<std::size_t>(s.cls)][s.pass].push_back({y / x, x / y});
  }
  // Memory-bound classes: fractions of the nominal bandwidth; the largest sets the base.
  std::array<std::array<double, kPasses>, kOpClasses> fraction{};
  double largest = 0;
  for (int c = 0; c < kOpClasses; ++c)
    for (int pass = 0; pass < kPasses; ++pass)
      if (memory_bound_class(class_at(c)) && !ratios[c][pass].empty()) {
        fraction[c][pass] = 1 / weighted_median(ratios[c][pass]);
        largest = std::max(largest, fraction[c][pass]);
      }
  // The memory efficiency: what the SGD updates (pure streams over the
  // weights) reach, else the default; raised to the largest class fraction so
  // that every class efficiency stays in (0, 1], above 1 into the bandwidth.
  double base = defaults.memory_efficiency;
  if (!updates.empty()) base = 1 / weighted_median(updates);
  base = std::max(base, largest);
  f.params.bandwidth_scale = std::max(1.0, base);
  f.params.memory_efficiency = std::min(1.0, base);
  // Compute classes: their samples the memory term bounds at that base (a
  // small fc reading its weights) do not determine the compute efficiency.
  std::array<std::array<std::vector<std::pair<double, double>>, kPasses>, kOpClasses> compute_ratios;
  for (int c = 0; c < kOpClasses; ++c)
    for (int pass = 0; pass < kPasses; ++pass) {
      if (memory_bound_class(class_at(c)) || ratios[c][pass].empty()) continue;
      double u = weighted_median(ratios[c][pass]);
      for (const Sample& s : samples) {
        double y = s.measured - launch;
        if (s.cls != c || s.pass != pass || s.compute <= 0 || y <= 0) continue;
        if (s.memory / base < s.compute * u) compute_ratios[c][pass].push_back({y / s.compute, s.compute / y});
      }
      ratios[c][pass] = compute_ratios[c][pass];
    }
  for (int c = 0; c < kOpClasses; ++c) {
    for (int pass = 0; pass < kPasses; ++pass) {
      auto& eff = efficiencies(f.params, pass);
      if (ratios[c][pass].empty()) continue;
      double e = memory_bound_class(class_at(c)) ? fraction[c][pass] / base : 1 / weighted_median(ratios[c][pass]);
      f.unclamped[c][pass] = e;
      f.clamped[c][pass] = e > 1;
      eff[c] = std::min(e, 1.0);
    }
    // A pass nothing measured: the training forward's; the training forward,
    // when only inference was measured, the inference forward's.
    int fwd = static_cast<int>(Pass::forward), inf = static_cast<int>(Pass::inference);
    if (ratios[c][fwd].empty() && !ratios[c][inf].empty()) f.params.efficiency[c] = f.params.efficiency_inference[c];
    if (ratios[c][static_cast<int>(Pass::backward)].empty()) f.params.efficiency_backward[c] = f.params.efficiency[c];
    if (ratios[c][inf].empty()) f.params.efficiency_inference[c] = f.params.efficiency[c];
  }
  for (const Sample& s : samples) f.mape += std::fabs(predict(f.params, s) - s.measured) / s.measured;
  f.mape /= static_cast<double>(std::max<std::size_t>(samples.size(), 1));
  return f;
}

double mean(double sum, std::size_t n) { return n ? sum / static_cast<double>(n) : 0; }

}  // namespace

std::string_view pass_group(Pass p) {
  return p == Pass::forward ? "efficiency" : p == Pass::backward ? "efficiency_backward" : "efficiency_inference";
}

RooflineParams default_roofline(const std::string& kind) {
  RooflineParams p;
  for (int c = 0; c < kOpClasses; ++c)
    p.efficiency[static_cast<std::size_t>(c)] = p.efficiency_backward[static_cast<std::size_t>(c)] =
        p.efficiency_inference[static_cast<std::size_t>(c)] = default_efficiency(class_at(c));
  p.memory_efficiency = kDefaultMemoryEfficiency;
  p.launch_overhead = default_launch_overhead(kind);
  return p;
}

std::string calibration_problem(const compiler::Result& r, const compiler::Result* first,
                                const std::string& first_label) {
  if (r.source != "measured")
    return fmt::format("not a measured record (\"source\": \"{}\"): dlc run writes measured ones", r.source);
  if (!r.device_model)
    return "a measured record without \"device_model\": calibration needs the peak and bandwidth it was "
           "measured against";
  const compiler::DeviceModel& d = *r.device_model;
  if (!(d.peak > 0) || !(d.memory_bandwidth > 0))
    return fmt::format("device model '{}' has no positive peak and memory_bandwidth", d.name);
  if (r.batch <= 0) return fmt::format("the record's batch is {}, not a positive count", r.batch);
  bool work = std::any_of(r.layers.begin(), r.layers.end(),
                          [](const compiler::LayerResult& l) { return l.work && class_index(l.op_class); });
  if (!work) return "no layer has \"work\" and \"class\": nothing to fit";
  if (first && first->device_model) {
    const compiler::DeviceModel& f = *first->device_model;
    if (d.name != f.name || d.kind != f.kind || d.peak != f.peak || d.memory_bandwidth != f.memory_bandwidth)
      return fmt::format("measured against device model '{}' ({}, peak {:g} FLOP/s, {:g} B/s), but {} against '{}' "
                         "({}, peak {:g} FLOP/s, {:g} B/s): calibrate one device at a time",
                         d.name, d.kind, d.peak, d.memory_bandwidth, first_label, f.name, f.kind, f.peak,
                         f.memory_bandwidth);
    if (r.precision != first->precision)
      return fmt::format("precision {} differs from {} of {}: the peak depends on it, calibrate one precision at a "
                         "time",
                         r.precision, first->precision, first_label);
  }
  return "";
}

bool calibrate(std::span<const compiler::Result> records, Calibration& out, std::string& error) {
  out = Calibration{};
  if (records.empty()) {
    error = "no record to calibrate on";
    return false;
  }
  for (const compiler::Result& r : records) {
    error = calibration_problem(r, &records.front());
    if (!error.empty()) return false;
  }
  out.device = *records.front().device_model;
  out.precision = records.front().precision;
  out.before = default_roofline(out.device.kind);

  std::vector<Sample> samples;
  // The SGD updates of conv and fc weights: 12 B per parameter (read w and g,
  // write w) at the memory bandwidth; (measured / time at the nominal
  // bandwidth, weight) pairs for the memory efficiency's median.
  std::vector<std::pair<double, double>> updates;
  for (std::size_t ri = 0; ri < records.size(); ++ri) {
    const compiler::Result& r = records[ri];
    double batch = static_cast<double>(r.batch);
    for (std::size_t li = 0; li < r.layers.size(); ++li) {
      const compiler::LayerResult& l = r.layers[li];
      std::optional<int> cls = class_index(l.op_class);
      if (!l.work || !cls) continue;
      if (!l.reference_kernels.empty()) {  // a reference kernel's time says nothing of the device
        ++out.reference_layers;
        continue;
      }
      const compiler::LayerResult::Work& w = *l.work;
      auto add = [&](double macs, double bytes, double weight_reads, double measured, Pass pass) {
        Sample s{*cls, memory_bound_class(class_at(*cls)), static_cast<int>(pass), 2 * macs * batch / out.device.peak,
                 (bytes * batch + weight_reads * w.weight_bytes) / out.device.memory_bandwidth, measured, ri, li};
        if (measured > 0 && (s.compute > 0 || s.memory > 0)) samples.push_back(s);
      };
      bool training = r.phase == "training";
      add(w.macs_forward, w.bytes_forward, 1, l.forward_s, training ? Pass::forward : Pass::inference);
      if (l.update_s > 0 && w.weight_bytes > 0 && !memory_bound_class(class_at(*cls))) {
        double nominal = 3 * w.weight_bytes / out.device.memory_bandwidth;
        updates.push_back({l.update_s / nominal, nominal / l.update_s});
      }
      if (training) add(w.macs_backward, w.bytes_backward, 2, l.backward_s, Pass::backward);
    }
  }
  if (samples.empty()) {
    error = "no layer with work has a measured time: nothing to fit";
    return false;
  }

  // The launch overhead: the value of a grid up to half the shortest sample
  // with the least MAPE once the classes are fitted to it.
  double shortest = samples.front().measured;
  for (const Sample& s : samples) shortest = std::min(shortest, s.measured);
  Fit best = fit_with(samples, updates, out.before, 0);
  for (double l : {0.2e-6, 0.5e-6, 1e-6, 2e-6, 5e-6, 10e-6, 20e-6, 50e-6, 100e-6}) {
    if (l > shortest / 2) break;
    Fit f = fit_with(samples, updates, out.before, l);
    if (f.mape < best.mape) best = f;
  }
  out.after = best.params;

  // What the fit says, per class and pass, and overall.
  std::array<std::array<std::size_t, kPasses>, kOpClasses> count{};
  std::array<std::array<double, kPasses>, kOpClasses> before_sum{}, after_sum{};
  std::map<std::pair<std::size_t, std::size_t>, std::array<double, 3>> layers;  // measured, before, after
  out.records.resize(records.size());
  for (std::size_t ri = 0; ri < records.size(); ++ri) {
    const compiler::Result& r = records[ri];
    RecordFit& f = out.records[ri];
    f.model = r.model;
    f.experiment = r.experiment;
    f.phase = r.phase;
    f.batch = r.batch;
    f.measured_step = r.totals.iteration_s;
    for (const compiler::LayerResult& l : r.layers) f.step_before += l.update_s;
    f.step_after = f.step_before;
  }
  for (const Sample& s : samples) {
    double before = predict(out.before, s), after = predict(out.after, s);
    ++count[s.cls][s.pass];
    before_sum[s.cls][s.pass] += std::fabs(before - s.measured) / s.measured;
    after_sum[s.cls][s.pass] += std::fabs(after - s.measured) / s.measured;
    out.sample_mape_before += std::fabs(before - s.measured) / s.measured;
    out.sample_mape_after += std::fabs(after - s.measured) / s.measured;
    auto& layer = layers[{s.record, s.layer}];
    layer[0] += s.measured;
    layer[1] += before;
    layer[2] += after;
    RecordFit& f = out.records[s.record];
    ++f.samples;
    f.step_before += before;
    f.step_after += after;
  }
  out.samples = samples.size();
  out.sample_mape_before = mean(out.sample_mape_before, samples.size());
  out.sample_mape_after = mean(out.sample_mape_after, samples.size());
  for (const auto& [key, t] : layers) {
    out.layer_mape_before += std::fabs(t[1] - t[0]) / t[0];
    out.layer_mape_after += std::fabs(t[2] - t[0]) / t[0];
  }
  out.layers = layers.size();
  out.layer_mape_before = mean(out.layer_mape_before, layers.size());
  out.layer_mape_after = mean(out.layer_mape_after, layers.size());
  for (int c = 0; c < kOpClasses; ++c)
    for (int pass = 0; pass < kPasses; ++pass) {
      if (!count[c][pass]) continue;
      ClassFit f;
      f.op_class = class_at(c);
      f.pass = static_cast<Pass>(pass);
      f.samples = count[c][pass];
      f.before = efficiencies(out.before, pass)[c];
      f.after = efficiencies(out.after, pass)[c];
      f.clamped = best.clamped[c][pass];
      f.mape_before = mean(before_sum[c][pass], count[c][pass]);
      f.mape_after = mean(after_sum[c][pass], count[c][pass]);
      if (f.clamped)
        out.notes.push_back(fmt::format("{}.{}: {:.3g} clamped to 1 (faster than the device's peak allows)",
                                        pass_group(f.pass), compiler::op_class_name(f.op_class),
                                        best.unclamped[c][pass]));
      out.classes.push_back(f);
    }
  if (out.reference_layers)
    out.notes.push_back(fmt::format("{} layer(s) ran on the backend's reference kernels and were left out",
                                    out.reference_layers));
  out.warnings = calibration_warnings(out);
  if (out.after.bandwidth_scale > 1)
    out.notes.push_back(fmt::format("the memory-bound layers move data {:.3g}x faster than the device model's memory "
                                    "bandwidth (caches): the spec's bandwidth is the effective one",
                                    out.after.bandwidth_scale));
  return true;
}

std::string quantity_text(double value, const std::string& unit, int digits) {
  static constexpr std::pair<double, const char*> kPrefixes[] = {{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"},
                                                                 {1e3, "K"}, {1, ""}, {1e-3, "m"}, {1e-6, "u"},
                                                                 {1e-9, "n"}};
  if (value == 0) return "0 " + unit;
  for (const auto& [factor, prefix] : kPrefixes) {
    if (std::fabs(value) < factor && factor != 1e-9) continue;
    // The short form when it reads back as the same double, else the shortest exact one.
    std::string number = fmt::format("{:.{}g}", value / factor, digits > 0 ? digits : 15);
    if (digits <= 0 && std::stod(number) * factor != value) number = fmt::format("{}", value / factor);
    return fmt::format("{} {}{}", number, prefix, unit);
  }
  return "";
}

namespace {

std::string percent(double e) { return fmt::format("{:.1f}%", e * 100); }
std::string signed_percent(double e) { return fmt::format("{:+.1f}%", e * 100); }
double relative(double predicted, double measured) { return measured > 0 ? (predicted - measured) / measured : 0; }

}  // namespace

std::vector<std::string> calibration_warnings(const Calibration& c) {
  std::vector<std::string> w;
  for (const RecordFit& r : c.records) {
    double before = relative(r.step_before, r.measured_step), after = relative(r.step_after, r.measured_step);
    if (std::fabs(after) > std::fabs(before))
      w.push_back(fmt::format("the fitted spec predicts the step of {} ({}) worse than the spec it started from: {} "
                              "against {} before",
                              r.model, r.experiment, signed_percent(after), signed_percent(before)));
  }
  if (c.layer_mape_after > c.layer_mape_before)
    w.push_back(fmt::format("the fitted spec predicts the layers worse than the spec it started from: per-layer MAPE "
                            "{} against {} before",
                            percent(c.layer_mape_after), percent(c.layer_mape_before)));
  if (c.sample_mape_after > c.sample_mape_before)
    w.push_back(fmt::format("the fitted spec predicts the samples worse than the spec it started from: per-sample "
                            "MAPE {} against {} before",
                            percent(c.sample_mape_after), percent(c.sample_mape_before)));
  return w;
}

std::string calibration_table(const Calibration& c) {
  compiler::TextTable t;
  using A = compiler::TextTable::Align;
  t.column("parameter");
  t.column("samples", A::right);
  t.column("default", A::right);
  t.column("fitted", A::right);
  t.column("MAPE before", A::right);
  t.column("MAPE after", A::right);
  for (const ClassFit& f : c.classes)
    t.row({fmt::format("{}.{}", pass_group(f.pass), compiler::op_class_name(f.op_class)),
           std::to_string(f.samples), fmt::format("{:.3f}", f.before),
           fmt::format("{:.3f}{}", f.after, f.clamped ? " (clamped)" : ""), percent(f.mape_before),
           percent(f.mape_after)});
  t.row({"efficiency.memory", std::to_string(c.samples), fmt::format("{:.3f}", c.before.memory_efficiency),
         fmt::format("{:.3f}", c.after.memory_efficiency), "-", "-"});
  t.row({"memory_bandwidth", std::to_string(c.samples), quantity_text(c.device.memory_bandwidth, "B/s", 4),
         quantity_text(c.device.memory_bandwidth * c.after.bandwidth_scale, "B/s", 4), "-", "-"});
  t.row({"launch_overhead", std::to_string(c.samples), compiler::human_seconds(c.before.launch_overhead),
         compiler::human_seconds(c.after.launch_overhead), "-", "-"});
  std::string out = fmt::format("{} ({}, {}: peak {}, memory bandwidth {}): {} samples from {} record(s)\n\n",
                                c.device.name, c.device.kind, c.precision, quantity_text(c.device.peak, "FLOP/s"),
                                quantity_text(c.device.memory_bandwidth, "B/s"), c.samples, c.records.size());
  out += t.render();
  out += fmt::format("\nper-sample MAPE {} before, {} after ({} forward and backward times)\n",
                     percent(c.sample_mape_before), percent(c.sample_mape_after), c.samples);
  out += fmt::format("per-layer MAPE {} before, {} after ({} layers, forward + backward)\n",
                     percent(c.layer_mape_before), percent(c.layer_mape_after), c.layers);
  for (const RecordFit& r : c.records)
    out += fmt::format("step of {} ({}, {}, batch {}): measured {}, predicted {} ({}) before, {} ({}) after\n",
                       r.model, r.experiment, r.phase, r.batch, compiler::human_seconds(r.measured_step),
                       compiler::human_seconds(r.step_before), signed_percent(relative(r.step_before, r.measured_step)),
                       compiler::human_seconds(r.step_after), signed_percent(relative(r.step_after, r.measured_step)));
  for (const std::string& note : c.notes) out += "note: " + note + "\n";
  return out;
}

std::string calibration_json(const Calibration& c) {
  using json = nlohmann::ordered_json;
  json classes = json::array();
  for (const ClassFit& f : c.classes)
    classes.push_back({{"class", compiler::op_class_name(f.op_class)}, {"group", pass_group(f.pass)},
                       {"samples", f.samples}, {"default", f.before}, {"efficiency", f.after},
                       {"clamped", f.clamped}, {"mape_before", f.mape_before}, {"mape_after", f.mape_after}});
  json records = json::array();
  for (const RecordFit& r : c.records)
    records.push_back({{"model", r.model}, {"experiment", r.experiment}, {"phase", r.phase}, {"batch", r.batch},
                       {"samples", r.samples}, {"measured_step_s", r.measured_step},
                       {"predicted_step_before_s", r.step_before}, {"predicted_step_after_s", r.step_after},
                       {"step_error_before", relative(r.step_before, r.measured_step)},
                       {"step_error_after", relative(r.step_after, r.measured_step)}});
  return json{{"schema", "dlc.calibration/1"},
              {"device_model", {{"name", c.device.name}, {"kind", c.device.kind}, {"peak", c.device.peak},
                                {"memory_bandwidth", c.device.memory_bandwidth}}},
              {"precision", c.precision},
              {"classes", classes},
              {"memory_efficiency", {{"default", c.before.memory_efficiency}, {"value", c.after.memory_efficiency}}},
              {"memory_bandwidth", {{"default", c.device.memory_bandwidth},
                                    {"value", c.device.memory_bandwidth * c.after.bandwidth_scale}}},
              {"launch_overhead_s", {{"default", c.before.launch_overhead}, {"value", c.after.launch_overhead}}},
              {"samples", c.samples},
              {"layers", c.layers},
              {"sample_mape_before", c.sample_mape_before},
              {"sample_mape_after", c.sample_mape_after},
              {"layer_mape_before", c.layer_mape_before},
              {"layer_mape_after", c.layer_mape_after},
              {"records", records},
              {"notes", c.notes},
              {"warnings", c.warnings}}
             .dump(2) +
         "\n";
}

}  // namespace dlc::simulator
