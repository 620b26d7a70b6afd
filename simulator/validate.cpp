#include "simulator/validate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "compiler/checker.hpp"
#include "compiler/plan.hpp"
#include "compiler/result.hpp"
#include "compiler/table.hpp"
#include "simulator/simulate.hpp"

namespace dlc::simulator {

namespace {

// The metric of a simulated result, in its base unit; nothing when the result has none.
std::optional<double> metric_of(const compiler::Result& r, double devices, const std::string& metric) {
  if (metric == "iteration_s") return r.totals.iteration_s;
  if (metric == "total_s") return r.totals.total_s;
  if (metric == "samples_per_s") return r.totals.samples_per_s;
  if (metric == "samples_per_s_per_device") return r.totals.samples_per_s / devices;
  if (!r.utilisation) return std::nullopt;
  if (metric == "tokens_per_s") return r.utilisation->tokens_per_s;
  if (metric == "tokens_per_s_per_device" && r.utilisation->tokens_per_s) return *r.utilisation->tokens_per_s / devices;
  if (metric == "flops_per_device") return r.utilisation->flops_per_device_per_s;
  if (metric == "mfu") return r.utilisation->mfu;
  return std::nullopt;
}

ValidationScope summarise(const std::string& name, const std::vector<const ValidatedRow*>& rows) {
  ValidationScope s;
  s.name = name;
  for (const ValidatedRow* r : rows) {
    if (!r->predicted) continue;
    double e = r->relative_error();
    ++s.rows;
    s.mape += std::fabs(e);
    s.bias += e;
    if (std::fabs(e) >= std::fabs(s.worst_error)) {
      s.worst_error = e;
      s.worst = r->row.id;
    }
  }
  if (s.rows > 0) {
    s.mape /= s.rows;
    s.bias /= s.rows;
  }
  return s;
}

std::string percent(double x) { return fmt::format("{:+.1f}%", 100 * x); }

// The ratio measured / predicted of the step time a row's error gives.
double step_ratio(const ValidatedRow& r) {
  double e = r.relative_error();
  bool time = r.row.metric == "iteration_s" || r.row.metric == "total_s";
  return time ? 1 / (1 + e) : 1 + e;
}

IntervalCheck check_intervals(const std::vector<ValidatedRow>& rows) {
  IntervalCheck c;
  std::map<std::string, std::vector<const ValidatedRow*>> held_out;
  for (const ValidatedRow& r : rows)
    if (r.predicted && r.row.split == "holdout") held_out[r.row.workload_class].push_back(&r);
  for (const auto& [name, members] : held_out) {
    std::vector<double> ratios;
    for (const ValidatedRow* r : members) ratios.push_back(step_ratio(*r));
    ClassInterval all = interval_from(name, ratios);
    c.intervals.push_back(all);
    for (std::size_t i = 0; i < members.size(); ++i) {
      double x = ratios[i];
      ++c.holdout;
      if (x >= all.low && x <= all.high) ++c.covered;
      std::vector<double> others = ratios;
      others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
      ClassInterval loo = interval_from(name, others);
      if (!others.empty() && x >= loo.low && x <= loo.high) ++c.covered_leave_one_out;
    }
  }
  return c;
}

}  // namespace

Validation validate(const std::vector<compiler::ValidationRow>& rows, const std::string& folder,
                    const std::vector<ValidationOverride>& overrides) {
  Validation v;
  std::map<std::string, std::unique_ptr<compiler::CheckedModule>> modules;
  std::map<std::string, std::string> module_errors;
  for (const compiler::ValidationRow& row : rows) {
    ValidatedRow out{row, std::nullopt, "", ""};
    std::string path = (std::filesystem::path(folder) / row.spec).lexically_normal().string();
    if (!modules.count(path) && !module_errors.count(path)) {
      lang::Diagnostics diags;
      auto module = compiler::compile_file(path, diags);
      if (diags.has_errors() || !module) module_errors[path] = fmt::format("'{}' does not check", path);
      else modules[path] = std::move(module);
    }
    const compiler::CheckedModule* m = modules.count(path) ? modules[path].get() : nullptr;
    const compiler::CheckedDecl* e = m ? m->find_decl(row.experiment) : nullptr;
    if (!m) {
      out.error = module_errors[path];
    } else if (!e || e->kind != lang::ast::DeclKind::experiment) {
      out.error = fmt::format("'{}' has no experiment '{}'", row.spec, row.experiment);
    } else {
      compiler::Plan plan = compiler::lower(*m, *e);
      Simulation sim;
      compiler::Result r;
      auto in_scope = [&](const std::string& scope) {
        return scope.empty() || scope == plan.framework || scope == plan.system.device.name ||
               scope == plan.precision || scope == row.workload_class;
      };
      auto adjust = [&] {
        for (const ValidationOverride& o : overrides)
          if (in_scope(o.scope) && !set_parameter(sim.params, o.key, o.value, out.error)) {
            std::string message = fmt::format("--set {}{}={}: {}", o.scope.empty() ? "" : o.scope + ":", o.key,
                                              o.value, out.error.substr(0, out.error.find(';')));
            if (std::find(v.override_errors.begin(), v.override_errors.end(), message) == v.override_errors.end())
              v.override_errors.push_back(message);
            return false;
          }
        return true;
      };
      out.model_class = workload_class(plan);
      if (build(plan, sim, out.error) && adjust() && evaluate(sim, r, out.error)) {
        out.predicted = metric_of(r, static_cast<double>(plan.system.devices()), row.metric);
        if (!out.predicted) out.error = fmt::format("experiment '{}' gives no {}", row.experiment, row.metric);
      }
    }
    if (!out.predicted) ++v.failed;
    v.rows.push_back(std::move(out));
  }
  std::vector<const ValidatedRow*> all, holdout, calibration;
  std::map<std::string, std::vector<const ValidatedRow*>> classes;
  for (const ValidatedRow& r : v.rows) {
    all.push_back(&r);
    (r.row.split == "holdout" ? holdout : calibration).push_back(&r);
    classes[r.row.workload_class].push_back(&r);
  }
  v.scopes.push_back(summarise("all", all));
  v.scopes.push_back(summarise("holdout", holdout));
  v.scopes.push_back(summarise("calibration", calibration));
  for (const auto& [name, members] : classes) v.scopes.push_back(summarise("class: " + name, members));
  // The held-out rows of each class: what the targets are about.
  for (const auto& [name, members] : classes) {
    std::vector<const ValidatedRow*> held_out;
    for (const ValidatedRow* r : members)
      if (r->row.split == "holdout") held_out.push_back(r);
    v.scopes.push_back(summarise("holdout: " + name, held_out));
  }
  v.intervals = check_intervals(v.rows);
  return v;
}

std::string validation_table(const Validation& v) {
  compiler::TextTable t;
  using A = compiler::TextTable::Align;
  t.column("row");
  t.column("class");
  t.column("split");
  t.column("metric");
  t.column("published", A::right);
  t.column("predicted", A::right);
  t.column("error", A::right);
  for (const ValidatedRow& r : v.rows) {
    lang::Dimension dim;
    compiler::metric_dimension(r.row.metric, dim);
    auto show = [&](double x) {
      return r.row.metric == "mfu" ? fmt::format("{:.1f}%", 100 * x) : lang::format_quantity({x, dim});
    };
    t.row({r.row.id, r.row.workload_class, r.row.split, r.row.metric, show(r.row.published),
           r.predicted ? show(*r.predicted) : "-", r.predicted ? percent(r.relative_error()) : "failed"});
  }
  std::string out = t.render();
  compiler::TextTable s;
  s.column("scope");
  s.column("rows", A::right);
  s.column("MAPE", A::right);
  s.column("bias", A::right);
  s.column("worst");
  for (const ValidationScope& sc : v.scopes)
    if (sc.rows > 0)
      s.row({sc.name, std::to_string(sc.rows), fmt::format("{:.1f}%", 100 * sc.mape), percent(sc.bias),
             fmt::format("{} ({})", sc.worst, percent(sc.worst_error))});
  out += "\n" + s.render();
  out += "\nerror = (predicted - published) / published: > 0 is optimistic for a rate, pessimistic for a time\n";
  compiler::TextTable iv;
  iv.column("interval of the step (measured / predicted)");
  iv.column("held-out rows", A::right);
  iv.column("low", A::right);
  iv.column("high", A::right);
  for (const ClassInterval& c : v.intervals.intervals)
    iv.row({c.workload_class, std::to_string(c.rows), fmt::format("{:.3f}", c.low), fmt::format("{:.3f}", c.high)});
  out += "\n" + iv.render();
  const IntervalCheck& ic = v.intervals;
  if (ic.holdout > 0)
    out += fmt::format("held-out rows inside their class's interval: {} of {} ({:.0f}%); inside the interval of "
                       "the class's other held-out rows (leave one out): {} ({:.0f}%)\n",
                       ic.covered, ic.holdout, 100.0 * ic.covered / ic.holdout, ic.covered_leave_one_out,
                       100.0 * ic.covered_leave_one_out / ic.holdout);
  for (const ValidatedRow& r : v.rows)
    if (!r.predicted) out += fmt::format("{}: not simulated: {}\n", r.row.id, r.error);
  return out;
}

std::string validation_json(const Validation& v) {
  using json = nlohmann::ordered_json;
  json rows = json::array();
  for (const ValidatedRow& r : v.rows) {
    json row = {{"id", r.row.id},         {"class", r.row.workload_class}, {"split", r.row.split},
                {"metric", r.row.metric}, {"published", r.row.published},  {"source", r.row.source}};
    row["predicted"] = r.predicted ? json(*r.predicted) : json(nullptr);
    row["error"] = r.predicted ? json(r.relative_error()) : json(nullptr);
    if (!r.predicted) row["failure"] = r.error;
    rows.push_back(row);
  }
  json scopes = json::array();
  for (const ValidationScope& s : v.scopes)
    scopes.push_back({{"scope", s.name}, {"rows", s.rows}, {"mape", s.mape}, {"bias", s.bias},
                      {"worst", s.worst}, {"worst_error", s.worst_error}});
  json intervals = json::array();
  for (const ClassInterval& c : v.intervals.intervals)
    intervals.push_back({{"class", c.workload_class}, {"rows", c.rows}, {"low", c.low}, {"high", c.high}});
  return json{{"schema", "dlc.validation/1"},
              {"rows", rows},
              {"scopes", scopes},
              {"intervals", intervals},
              {"coverage",
               {{"holdout", v.intervals.holdout},
                {"covered", v.intervals.covered},
                {"covered_leave_one_out", v.intervals.covered_leave_one_out}}}}
             .dump(2) +
         "\n";
}

std::string validation_csv(const Validation& v) {
  std::string out = "id,class,split,metric,published,predicted,error\n";
  for (const ValidatedRow& r : v.rows)
    out += fmt::format("{},{},{},{},{},{},{}\n", compiler::csv_field(r.row.id), compiler::csv_field(r.row.workload_class),
                       r.row.split, r.row.metric, r.row.published, r.predicted ? fmt::format("{}", *r.predicted) : "",
                       r.predicted ? fmt::format("{}", r.relative_error()) : "");
  return out;
}

bool check_limits(const Validation& v, const std::string& path, std::vector<std::string>& failures,
                  std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot read '{}'", path);
    return false;
  }
  std::string line;
  int number = 0;
  int allowed_failures = 0;  // "failed,N,0": rows the model cannot simulate yet, recorded
  bool check_shipped = false;  // "intervals,1,0": the intervals dlc ships are this data set's
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = compiler::csv_fields(line);
    if (f.size() == 3 && f[0] == "scope") continue;
    if (f.size() == 3 && f[0] == "failed") {
      allowed_failures = std::atoi(f[1].c_str());
      continue;
    }
    if (f.size() == 3 && f[0] == "intervals") {
      check_shipped = f[1] == "1";
      continue;
    }
    double mape = 0, margin = 0;
    if (f.size() != 3 || std::sscanf(f[1].c_str(), "%lf", &mape) != 1 || std::sscanf(f[2].c_str(), "%lf", &margin) != 1) {
      error = fmt::format("{}:{}: expected scope,mape,margin (fractions: holdout,0.264,0.01)", path, number);
      return false;
    }
    auto it = std::find_if(v.scopes.begin(), v.scopes.end(), [&](const ValidationScope& s) { return s.name == f[0]; });
    if (it == v.scopes.end() || it->rows == 0) {
      failures.push_back(fmt::format("scope '{}' ({}:{}) has no rows", f[0], path, number));
    } else if (it->mape > mape + margin) {
      failures.push_back(fmt::format("{}: MAPE {:.1f}% is above its recorded {:.1f}% by more than the {:.1f}-point "
                                     "margin",
                                     f[0], 100 * it->mape, 100 * mape, 100 * margin));
    }
  }
  for (const ValidatedRow& r : v.rows)
    if (!r.model_class.empty() && r.model_class != r.row.workload_class)
      failures.push_back(fmt::format("{}: its class is '{}' but dlc gives its experiment '{}'", r.row.id,
                                     r.row.workload_class, r.model_class));
  for (const ClassInterval& c : check_shipped ? v.intervals.intervals : std::vector<ClassInterval>{}) {
    const ClassInterval* shipped = shipped_interval(c.workload_class);
    auto near = [](double a, double b) { return std::fabs(a - b) <= 5e-4 * std::max(1.0, std::fabs(b)); };
    if (!shipped || shipped->rows != c.rows || !near(shipped->low, c.low) || !near(shipped->high, c.high))
      failures.push_back(fmt::format("the interval dlc ships for {} ({}) is not the data set's ({} rows, {:.4f} "
                                     "to {:.4f}): update simulator/interval.cpp",
                                     c.workload_class,
                                     shipped ? fmt::format("{} rows, {:.4f} to {:.4f}", shipped->rows, shipped->low,
                                                           shipped->high)
                                             : "none",
                                     c.rows, c.low, c.high));
  }
  if (v.failed > allowed_failures)
    for (const ValidatedRow& r : v.rows)
      if (!r.predicted) failures.push_back(fmt::format("{}: not simulated: {}", r.row.id, r.error));
  if (v.failed > allowed_failures)
    failures.push_back(fmt::format("{} row(s) could not be simulated; {} recorded", v.failed, allowed_failures));
  return true;
}

}  // namespace dlc::simulator
