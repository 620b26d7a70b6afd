// dlc validate DATASET.csv [--check LIMITS.csv]: the accuracy benchmark
// (simulator/validate.hpp).
#include <filesystem>
#include <fmt/format.h>

#include "compiler/validation.hpp"
#include "simulator/validate.hpp"
#include "tools/dlc/commands.hpp"
#include "tools/dlc/frontend.hpp"

namespace dlc::tools {

int run_validate(const ValidateOptions& o) {
  std::vector<compiler::ValidationRow> rows;
  std::string error;
  if (!compiler::read_validation_rows(o.dataset, rows, error)) {
    fmt::print(stderr, "dlc: error: {}\n", error);
    return 1;
  }
  std::vector<simulator::ValidationOverride> overrides;
  for (const std::string& assignment : o.set) {
    std::size_t eq = assignment.find('=');
    if (eq == std::string::npos) {
      fmt::print(stderr, "dlc: error: --set {}: expected [SCOPE:]key=value\n", assignment);
      return 1;
    }
    std::string key = assignment.substr(0, eq), scope;
    if (std::size_t colon = key.find(':'); colon != std::string::npos) {
      scope = key.substr(0, colon);
      key = key.substr(colon + 1);
    }
    overrides.push_back({scope, key, assignment.substr(eq + 1)});
  }
  simulator::Validation v =
      simulator::validate(rows, std::filesystem::path(o.dataset).parent_path().string(), overrides);
  if (!v.override_errors.empty()) {
    for (const std::string& e : v.override_errors) fmt::print(stderr, "dlc: error: {}\n", e);
    return 1;
  }
  std::string format = o.format.empty() ? default_format(o.output) : o.format;
  std::string text = format == "json"  ? simulator::validation_json(v)
                     : format == "csv" ? simulator::validation_csv(v)
                                       : simulator::validation_table(v);
  int written = write_result(text, o.output);
  if (written != 0) return written;
  if (o.limits.empty()) return 0;
  std::vector<std::string> failures;
  if (!simulator::check_limits(v, o.limits, failures, error)) {
    fmt::print(stderr, "dlc: error: {}\n", error);
    return 1;
  }
  for (const std::string& f : failures) fmt::print(stderr, "dlc validate: {}\n", f);
  return failures.empty() ? 0 : 1;
}

}  // namespace dlc::tools
