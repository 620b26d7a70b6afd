#include "compiler/validation.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <set>

namespace dlc::compiler {

namespace {

struct Metric {
  const char* name;
  lang::Dimension dim;
};

const std::vector<Metric>& metrics() {
  static const std::vector<Metric> all = {
      {"iteration_s", lang::dims::time()},
      {"total_s", lang::dims::time()},
      {"samples_per_s", lang::dims::sample_rate()},
      {"samples_per_s_per_device", lang::dims::sample_rate()},
      {"tokens_per_s", lang::dims::frequency()},
      {"tokens_per_s_per_device", lang::dims::frequency()},
      {"flops_per_device", lang::dims::op_rate()},
      {"mfu", lang::dims::number()},
  };
  return all;
}

}  // namespace

bool metric_dimension(const std::string& metric, lang::Dimension& out) {
  for (const Metric& m : metrics())
    if (metric == m.name) {
      out = m.dim;
      return true;
    }
  return false;
}

std::vector<std::string> metric_names() {
  std::vector<std::string> names;
  for (const Metric& m : metrics()) names.emplace_back(m.name);
  return names;
}

std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

bool read_validation_rows(const std::string& path, std::vector<ValidationRow>& rows, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot read '{}'", path);
    return false;
  }
  static const std::vector<std::string> kHeader = {"id",     "class",     "split", "spec",
                                                   "experiment", "metric", "published", "source"};
  std::string line;
  int number = 0;
  std::set<std::string> ids;
  auto fail = [&](const std::string& message) {
    error = fmt::format("{}:{}: {}", path, number, message);
    return false;
  };
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;  // comments: how the rows were chosen and split
    std::vector<std::string> f = csv_fields(line);
    if (ids.empty() && rows.empty() && f == kHeader) continue;
    if (f.size() != kHeader.size())
      return fail(fmt::format("expected {} columns (id, class, split, spec, experiment, metric, published, "
                              "source), got {}",
                              kHeader.size(), f.size()));
    ValidationRow r{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
    r.line = number;
    if (r.id.empty() || !ids.insert(r.id).second)
      return fail(r.id.empty() ? "a row without an id" : fmt::format("id '{}' is used twice", r.id));
    if (r.split != "calibration" && r.split != "holdout")
      return fail(fmt::format("split '{}': expected calibration or holdout", r.split));
    lang::Dimension dim;
    if (!metric_dimension(r.metric, dim))
      return fail(fmt::format("unknown metric '{}' (one of: {})", r.metric, fmt::join(metric_names(), ", ")));
    std::optional<lang::Quantity> q = lang::parse_quantity(r.published_text);
    if (!q) return fail(fmt::format("published figure '{}' is not a quantity", r.published_text));
    if (q->dim != dim)
      return fail(fmt::format("published figure '{}' is {}, but metric {} is {}", r.published_text,
                              q->dim.describe(), r.metric, dim.describe()));
    if (!(q->value > 0)) return fail(fmt::format("published figure '{}' is not positive", r.published_text));
    r.published = q->value;
    rows.push_back(std::move(r));
  }
  if (rows.empty()) {
    error = fmt::format("'{}' has no rows", path);
    return false;
  }
  return true;
}

}  // namespace dlc::compiler
