// dlc validate: the accuracy benchmark. Every row of a data set of
// published measurements (compiler/validation.hpp) is simulated from its
// experiment and set against the published figure; the errors are summarised
// per split (calibration, holdout) and per workload class: MAPE (the mean of
// |predicted − published| / published), bias (the mean signed error: > 0 is
// optimistic for rates, pessimistic for times) and the worst row. A limits
// file records the MAPE each scope reached, so that a change that makes the
// predictions worse fails a test.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compiler/validation.hpp"

namespace dlc::simulator {

struct ValidatedRow {
  compiler::ValidationRow row;
  std::optional<double> predicted;  // in the metric's base unit; nothing where the experiment failed
  std::string error;                // why it failed
  double relative_error() const { return predicted ? (*predicted - row.published) / row.published : 0; }
};

struct ValidationScope {
  std::string name;  // "all", "holdout", "calibration", "class: CNN training", ...
  int rows = 0;
  double mape = 0, bias = 0;
  std::string worst;  // the row of the largest |error|
  double worst_error = 0;
};

struct Validation {
  std::vector<ValidatedRow> rows;
  std::vector<ValidationScope> scopes;
  int failed = 0;  // rows whose experiment could not be simulated
};

// Simulates every row; spec paths are relative to `folder`.
Validation validate(const std::vector<compiler::ValidationRow>& rows, const std::string& folder);

std::string validation_table(const Validation& v);
std::string validation_json(const Validation& v);  // schema dlc.validation/1
std::string validation_csv(const Validation& v);

// Checks the scopes against a limits file (CSV: scope,mape,margin; one row per
// scope, MAPE and margin as fractions; and `failed,N,0`, the rows the model
// cannot simulate yet): a scope whose MAPE exceeds its recorded value by more
// than the margin, a scope the file names that has no rows, or more rows that
// cannot be simulated than recorded is a failure. False with a message when
// the file cannot be read.
bool check_limits(const Validation& v, const std::string& path, std::vector<std::string>& failures,
                  std::string& error);

}  // namespace dlc::simulator
