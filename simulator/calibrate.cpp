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

constexpr int kMaxRounds = 50;

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
  double compute = 0, memory = 0;  // the two terms at efficiency 1, s
  double measured = 0;             // s
  std::size_t record = 0, layer = 0;
};

double predict(const RooflineParams& p, const Sample& s, bool* compute_bound = nullptr) {
  double eff = p.efficiency[static_cast<std::size_t>(s.cls)];
  double compute = s.compute / eff;
  double memory = s.memory / (p.memory_efficiency * (s.memory_class ? eff : 1.0));
  if (compute_bound) *compute_bound = compute >= memory;
  return std::max(compute, memory) + p.launch_overhead;
}

// The weighted least-squares solution of A·x ≈ b (A n × k, row-major) by
// Householder QR on unit-norm columns. Returns -1, or the first column that
// is (numerically) a combination of the ones before it.
int least_squares(std::vector<std::vector<double>> a, std::vector<double> b, std::size_t k, std::vector<double>& x) {
  std::size_t n = b.size();
  if (n < k) return static_cast<int>(n);
  std::vector<double> scale(k, 0);
  for (std::size_t j = 0; j < k; ++j) {
    for (std::size_t i = 0; i < n; ++i) scale[j] += a[i][j] * a[i][j];
    scale[j] = std::sqrt(scale[j]);
    if (scale[j] == 0) return static_cast<int>(j);
    for (std::size_t i = 0; i < n; ++i) a[i][j] /= scale[j];
  }
  for (std::size_t j = 0; j < k; ++j) {
    double norm = 0;
    for (std::size_t i = j; i < n; ++i) norm += a[i][j] * a[i][j];
    norm = std::sqrt(norm);
    if (norm < 1e-10) return static_cast<int>(j);
    double alpha = a[j][j] > 0 ? -norm : norm;
    std::vector<double> v(n - j);
    for (std::size_t i = j; i < n; ++i) v[i - j] = a[i][j];
    v[0] -= alpha;
    double vv = 0;
    for (double e : v) vv += e * e;
    auto reflect = [&](auto&& at) {
      double dot = 0;
      for (std::size_t i = j; i < n; ++i) dot += v[i - j] * at(i);
      for (std::size_t i = j; i < n; ++i) at(i) -= 2 * dot / vv * v[i - j];
    };
    for (std::size_t l = j; l < k; ++l) reflect([&](std::size_t i) -> double& { return a[i][l]; });
    reflect([&](std::size_t i) -> double& { return b[i]; });
  }
  x.assign(k, 0);
  for (std::size_t j = k; j-- > 0;) {
    double s = b[j];
    for (std::size_t l = j + 1; l < k; ++l) s -= a[j][l] * x[l];
    x[j] = s / a[j][j];
  }
  for (std::size_t j = 0; j < k; ++j) x[j] /= scale[j];
  return -1;
}

// The unknowns: x[c] (u[c] of a compute class, w[c] of a memory-bound one),
// then m, then L.
constexpr int kM = kOpClasses, kL = kOpClasses + 1, kUnknowns = kOpClasses + 2;
using Unknowns = std::array<double, kUnknowns>;

Unknowns to_unknowns(const RooflineParams& p) {
  Unknowns x{};
  x[kM] = 1 / p.memory_efficiency;
  x[kL] = p.launch_overhead;
  for (int c = 0; c < kOpClasses; ++c)
    x[c] = (memory_bound_class(class_at(c)) ? x[kM] : 1.0) / p.efficiency[static_cast<std::size_t>(c)];
  return x;
}

RooflineParams to_params(const Unknowns& x) {
  RooflineParams p;
  p.memory_efficiency = 1 / x[kM];
  p.launch_overhead = x[kL];
  for (int c = 0; c < kOpClasses; ++c)
    p.efficiency[static_cast<std::size_t>(c)] = (memory_bound_class(class_at(c)) ? x[kM] : 1.0) / x[c];
  return p;
}

struct Round {
  Unknowns x{};
  std::array<bool, kUnknowns> determined{}, clamped{};
  std::array<double, kUnknowns> unclamped{};
  bool memory_lowered = false;
};

// One least-squares solve for a classification, with the clamps.
Round solve(const std::vector<Sample>& samples, const std::vector<bool>& compute_bound, const Unknowns& current) {
  Round r;
  r.x = current;
  std::array<bool, kUnknowns> used{};
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    used[static_cast<std::size_t>(!s.memory_class && !compute_bound[i] ? kM : s.cls)] = true;
  }
  used[kL] = true;
  std::array<std::optional<double>, kUnknowns> fixed;
  for (int j = 0; j < kUnknowns; ++j)
    if (!used[static_cast<std::size_t>(j)]) fixed[static_cast<std::size_t>(j)] = current[static_cast<std::size_t>(j)];
  for (int attempt = 0; attempt <= kUnknowns; ++attempt) {
    std::vector<int> free;
    for (int j = 0; j < kUnknowns; ++j)
      if (!fixed[static_cast<std::size_t>(j)]) free.push_back(j);
    std::vector<int> column(kUnknowns, -1);
    for (std::size_t f = 0; f < free.size(); ++f) column[static_cast<std::size_t>(free[f])] = static_cast<int>(f);
    std::vector<std::vector<double>> a;
    std::vector<double> b;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const Sample& s = samples[i];
      std::array<double, kUnknowns> row{};
      if (compute_bound[i])
        row[static_cast<std::size_t>(s.cls)] = s.memory_class ? s.compute / current[kM] : s.compute;
      else
        row[static_cast<std::size_t>(s.memory_class ? s.cls : kM)] = s.memory;
      row[kL] = 1;
      std::vector<double> free_row(free.size());
      double rhs = s.measured;
      for (int j = 0; j < kUnknowns; ++j) {
        std::size_t u = static_cast<std::size_t>(j);
        if (fixed[u])
          rhs -= row[u] * *fixed[u];
        else
          free_row[static_cast<std::size_t>(column[u])] = row[u] / s.measured;
      }
      a.push_back(std::move(free_row));
      b.push_back(rhs / s.measured);
    }
    std::vector<double> x;
    int deficient = free.empty() ? -1 : least_squares(a, b, free.size(), x);
    if (deficient >= 0) {  // not determined by the samples: keep the current value
      std::size_t u = static_cast<std::size_t>(free[static_cast<std::size_t>(deficient)]);
      fixed[u] = current[u];
      used[u] = false;
      continue;
    }
    for (std::size_t f = 0; f < free.size(); ++f) r.x[static_cast<std::size_t>(free[f])] = x[f];
    for (int j = 0; j < kUnknowns; ++j)
      if (fixed[static_cast<std::size_t>(j)]) r.x[static_cast<std::size_t>(j)] = *fixed[static_cast<std::size_t>(j)];
    // Clamps: efficiencies into (0, 1], L ≥ 0. A clamped unknown is fixed at its bound, the rest solved again.
    bool again = false;
    auto clamp = [&](int j, double bound) {
      std::size_t u = static_cast<std::size_t>(j);
      r.clamped[u] = true;
      r.unclamped[u] = r.x[u];
      fixed[u] = bound;
      again = true;
    };
    for (int c = 0; c < kOpClasses; ++c)
      if (!memory_bound_class(class_at(c)) && !fixed[static_cast<std::size_t>(c)] &&
          r.x[static_cast<std::size_t>(c)] < 1)
        clamp(c, 1);
    if (!fixed[kM] && r.x[kM] < 1) clamp(kM, 1);
    if (!fixed[kL] && r.x[kL] < 0) clamp(kL, 0);
    if (again) continue;
    // A memory-bound class faster than the memory efficiency allows: with m
    // undetermined, lower m (raise the memory efficiency) to it, else clamp.
    double fastest = r.x[kM];
    for (int c = 0; c < kOpClasses; ++c)
      if (memory_bound_class(class_at(c)) && used[static_cast<std::size_t>(c)])
        fastest = std::min(fastest, r.x[static_cast<std::size_t>(c)]);
    if (!used[kM] && fastest < r.x[kM]) {
      r.x[kM] = std::max(1.0, fastest);
      r.memory_lowered = true;
    }
    for (int c = 0; c < kOpClasses; ++c) {
      std::size_t u = static_cast<std::size_t>(c);
      if (memory_bound_class(class_at(c)) && !fixed[u] && r.x[u] < r.x[kM]) {
        r.unclamped[u] = r.x[kM] / r.x[u];  // as an efficiency
        r.clamped[u] = true;
        fixed[u] = r.x[kM];
        again = true;
      }
    }
    if (!again) break;
  }
  r.determined = used;
  return r;
}

double mean(double sum, std::size_t n) { return n ? sum / static_cast<double>(n) : 0; }

}  // namespace

RooflineParams default_roofline(const std::string& kind) {
  RooflineParams p;
  for (int c = 0; c < kOpClasses; ++c) p.efficiency[static_cast<std::size_t>(c)] = default_efficiency(class_at(c));
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
  for (std::size_t ri = 0; ri < records.size(); ++ri) {
    const compiler::Result& r = records[ri];
    double batch = static_cast<double>(r.batch);
    for (std::size_t li = 0; li < r.layers.size(); ++li) {
      const compiler::LayerResult& l = r.layers[li];
      std::optional<int> cls = class_index(l.op_class);
      if (!l.work || !cls) continue;
      const compiler::LayerResult::Work& w = *l.work;
      auto add = [&](double macs, double bytes, double weight_reads, double measured) {
        Sample s{*cls, memory_bound_class(class_at(*cls)), 2 * macs * batch / out.device.peak,
                 (bytes * batch + weight_reads * w.weight_bytes) / out.device.memory_bandwidth, measured, ri, li};
        if (measured > 0 && (s.compute > 0 || s.memory > 0)) samples.push_back(s);
      };
      add(w.macs_forward, w.bytes_forward, 1, l.forward_s);
      if (r.phase == "training") add(w.macs_backward, w.bytes_backward, 2, l.backward_s);
    }
  }
  if (samples.empty()) {
    error = "no layer with work has a measured time: nothing to fit";
    return false;
  }

  // Alternate classification and solve until the classification stops changing.
  Unknowns x = to_unknowns(out.before);
  auto classify = [&](const Unknowns& u) {
    RooflineParams p = to_params(u);
    std::vector<bool> bound(samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i) {
      bool compute = false;
      predict(p, samples[i], &compute);
      bound[i] = compute;
    }
    return bound;
  };
  std::vector<bool> bound = classify(x);
  Round round;
  for (out.iterations = 1; out.iterations <= kMaxRounds; ++out.iterations) {
    round = solve(samples, bound, x);
    std::vector<bool> next = classify(round.x);
    bool same_m = std::fabs(round.x[kM] - x[kM]) <= 1e-12 * x[kM];
    x = round.x;
    bool done = next == bound && same_m;
    bound = std::move(next);
    if (done) {
      out.converged = true;
      break;
    }
  }
  out.iterations = std::min(out.iterations, kMaxRounds);
  out.after = to_params(x);

  // What the fit says, per class and overall.
  std::array<std::size_t, kOpClasses> count{}, determining{};
  std::array<double, kOpClasses> before_sum{}, after_sum{};
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
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    std::size_t c = static_cast<std::size_t>(s.cls);
    double before = predict(out.before, s), after = predict(out.after, s);
    ++count[c];
    if (s.memory_class || bound[i]) ++determining[c];
    if (!s.memory_class && !bound[i]) ++out.memory_samples;
    before_sum[c] += std::fabs(before - s.measured) / s.measured;
    after_sum[c] += std::fabs(after - s.measured) / s.measured;
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

  for (int ci = 0; ci < kOpClasses; ++ci) {
    std::size_t c = static_cast<std::size_t>(ci);
    if (!count[c]) {
      out.after.efficiency[c] = out.before.efficiency[c];
      continue;
    }
    ClassFit f;
    f.op_class = class_at(ci);
    f.samples = count[c];
    f.determining = determining[c];
    f.before = out.before.efficiency[c];
    f.after = out.after.efficiency[c];
    f.fitted = round.determined[c];
    f.clamped = round.clamped[c];
    f.mape_before = mean(before_sum[c], count[c]);
    f.mape_after = mean(after_sum[c], count[c]);
    std::string name(compiler::op_class_name(f.op_class));
    if (f.clamped) {
      double raw = memory_bound_class(f.op_class) ? round.unclamped[c] : 1 / round.unclamped[c];
      out.notes.push_back(raw > 0 ? fmt::format("{}: efficiency {:.3g} clamped to 1 (faster than the device model "
                                                "allows)", name, raw)
                                  : fmt::format("{}: efficiency clamped to 1 (the fit leaves its compute no time)",
                                                name));
    } else if (!f.fitted) {
      out.notes.push_back(fmt::format("{}: no compute-bound sample; its efficiency keeps the default {:.3g}", name,
                                      f.before));
    }
    out.classes.push_back(f);
  }
  out.memory_fitted = round.determined[kM];
  out.memory_clamped = round.clamped[kM];
  out.launch_fitted = round.determined[kL];
  out.launch_clamped = round.clamped[kL];
  if (out.memory_clamped)
    out.notes.push_back(fmt::format("memory efficiency {:.3g} clamped to 1", 1 / round.unclamped[kM]));
  if (round.memory_lowered)
    out.notes.push_back(fmt::format("memory efficiency raised to {:.3g}, what the memory-bound classes reach "
                                    "(no memory-bound conv or matmul sample determines it)",
                                    out.after.memory_efficiency));
  if (out.launch_clamped)
    out.notes.push_back(fmt::format("launch overhead {:.3g} s clamped to 0", round.unclamped[kL]));
  if (!out.launch_fitted)
    out.notes.push_back("the samples do not determine the launch overhead: it keeps the default");
  if (!out.converged)
    out.notes.push_back(fmt::format("the compute/memory classification still changed after {} rounds: the fit is "
                                    "the last round's",
                                    kMaxRounds));
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

std::string calibration_table(const Calibration& c) {
  compiler::TextTable t;
  using A = compiler::TextTable::Align;
  t.column("parameter");
  t.column("samples", A::right);
  t.column("default", A::right);
  t.column("fitted", A::right);
  t.column("MAPE before", A::right);
  t.column("MAPE after", A::right);
  // The fitted value, marked where a clamp fired or nothing determined it.
  auto fitted = [](std::string value, bool clamped, bool determined) {
    return value + (clamped ? " (clamped)" : !determined ? " (default)" : "");
  };
  for (const ClassFit& f : c.classes)
    t.row({fmt::format("efficiency.{}", compiler::op_class_name(f.op_class)), std::to_string(f.samples),
           fmt::format("{:.3f}", f.before), fitted(fmt::format("{:.3f}", f.after), f.clamped, f.fitted),
           percent(f.mape_before), percent(f.mape_after)});
  t.row({"efficiency.memory", std::to_string(c.memory_samples), fmt::format("{:.3f}", c.before.memory_efficiency),
         fitted(fmt::format("{:.3f}", c.after.memory_efficiency), c.memory_clamped, c.memory_fitted), "-", "-"});
  t.row({"launch_overhead", std::to_string(c.samples), compiler::human_seconds(c.before.launch_overhead),
         fitted(compiler::human_seconds(c.after.launch_overhead), c.launch_clamped, c.launch_fitted), "-", "-"});
  std::string out = fmt::format("{} ({}, {}: peak {}, memory bandwidth {}): {} samples from {} record(s)\n\n",
                                c.device.name, c.device.kind, c.precision, quantity_text(c.device.peak, "FLOP/s"),
                                quantity_text(c.device.memory_bandwidth, "B/s"), c.samples, c.records.size());
  out += t.render();
  out += fmt::format("\nper-sample MAPE {} before, {} after ({} forward and backward times, {} rounds)\n",
                     percent(c.sample_mape_before), percent(c.sample_mape_after), c.samples, c.iterations);
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
    classes.push_back({{"class", compiler::op_class_name(f.op_class)}, {"samples", f.samples},
                       {"determining_samples", f.determining}, {"default", f.before}, {"efficiency", f.after},
                       {"fitted", f.fitted}, {"clamped", f.clamped}, {"mape_before", f.mape_before},
                       {"mape_after", f.mape_after}});
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
              {"memory_efficiency", {{"samples", c.memory_samples}, {"default", c.before.memory_efficiency},
                                     {"value", c.after.memory_efficiency}, {"fitted", c.memory_fitted},
                                     {"clamped", c.memory_clamped}}},
              {"launch_overhead_s", {{"default", c.before.launch_overhead}, {"value", c.after.launch_overhead},
                                     {"fitted", c.launch_fitted}, {"clamped", c.launch_clamped}}},
              {"samples", c.samples},
              {"layers", c.layers},
              {"sample_mape_before", c.sample_mape_before},
              {"sample_mape_after", c.sample_mape_after},
              {"layer_mape_before", c.layer_mape_before},
              {"layer_mape_after", c.layer_mape_after},
              {"records", records},
              {"rounds", c.iterations},
              {"converged", c.converged},
              {"notes", c.notes}}
             .dump(2) +
         "\n";
}

}  // namespace dlc::simulator
