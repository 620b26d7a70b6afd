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
#include "simulator/interval.hpp"

namespace dlc::simulator {

struct ValidatedRow {
  compiler::ValidationRow row;
  std::optional<double> predicted;  // in the metric's base unit; nothing where the experiment failed
  std::string error;                // why it failed
  std::string model_class;          // the class dlc gives the experiment (simulator/interval.hpp)
  double relative_error() const { return predicted ? (*predicted - row.published) / row.published : 0; }
};

struct ValidationScope {
  std::string name;  // "all", "holdout", "calibration", "class: CNN training", "holdout: CNN training", ...
  int rows = 0;
  double mape = 0, bias = 0;
  std::string worst;  // the row of the largest |error|
  double worst_error = 0;
};

// The prediction intervals the held-out rows give (simulator/interval.hpp),
// and how often they hold.
struct IntervalCheck {
  std::vector<ClassInterval> intervals;  // one per class with held-out rows
  int holdout = 0;                       // held-out rows simulated
  int covered = 0;                       // inside their class's interval
  int covered_leave_one_out = 0;         // inside the interval of the class's other held-out rows
};

struct Validation {
  std::vector<ValidatedRow> rows;
  std::vector<ValidationScope> scopes;
  IntervalCheck intervals;
  int failed = 0;  // rows whose experiment could not be simulated
  std::vector<std::string> override_errors;  // --set values no row in their scope could take, once each
};

// A parameter of the cost model changed for the rows in `scope` (all rows
// when empty): those whose experiment's framework, device, precision or
// workload class is `scope`. What `dlc validate --set [SCOPE:]KEY=VALUE`
// gives, to see what a default would do to the benchmark before changing it.
struct ValidationOverride {
  std::string scope, key, value;
};

// Simulates every row; spec paths are relative to `folder`. An override
// that names no parameter of a row's model is an error of that row.
Validation validate(const std::vector<compiler::ValidationRow>& rows, const std::string& folder,
                    const std::vector<ValidationOverride>& overrides = {});

std::string validation_table(const Validation& v);
std::string validation_json(const Validation& v);  // schema dlc.validation/1
std::string validation_csv(const Validation& v);

// Checks the scopes against a limits file (CSV: scope,mape,margin; one row per
// scope, MAPE and margin as fractions; and `failed,N,0`, the rows the model
// cannot simulate yet): a scope whose MAPE exceeds its recorded value by more
// than the margin, a scope the file names that has no rows, or more rows that
// cannot be simulated than recorded is a failure. False with a message when
// the file cannot be read.
// Besides the limits: a row whose class is not the one dlc gives its
// experiment is a failure, and, where the file says `intervals,1,0` (the data
// set dlc's intervals come from), shipped intervals (simulator/interval.cpp)
// that differ from the data set's.
bool check_limits(const Validation& v, const std::string& path, std::vector<std::string>& failures,
                  std::string& error);

}  // namespace dlc::simulator
