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

}  // namespace

Validation validate(const std::vector<compiler::ValidationRow>& rows, const std::string& folder) {
  Validation v;
  std::map<std::string, std::unique_ptr<compiler::CheckedModule>> modules;
  std::map<std::string, std::string> module_errors;
  for (const compiler::ValidationRow& row : rows) {
    ValidatedRow out{row, std::nullopt, ""};
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
      if (build(plan, sim, out.error) && evaluate(sim, r, out.error)) {
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
  return json{{"schema", "dlc.validation/1"}, {"rows", rows}, {"scopes", scopes}}.dump(2) + "\n";
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
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = compiler::csv_fields(line);
    if (f.size() == 3 && f[0] == "scope") continue;
    if (f.size() == 3 && f[0] == "failed") {
      allowed_failures = std::atoi(f[1].c_str());
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
  if (v.failed > allowed_failures)
    for (const ValidatedRow& r : v.rows)
      if (!r.predicted) failures.push_back(fmt::format("{}: not simulated: {}", r.row.id, r.error));
  if (v.failed > allowed_failures)
    failures.push_back(fmt::format("{} row(s) could not be simulated; {} recorded", v.failed, allowed_failures));
  return true;
}

}  // namespace dlc::simulator
