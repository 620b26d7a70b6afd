// The accuracy benchmark's data set (tests/validation/): published,
// measured figures, each with the dlc experiment that models it. One CSV row
// per figure:
//
//   id,class,split,spec,experiment,metric,published,source
//   t1_gpt_1_7b,transformer training,holdout,narayanan2021.dlc,t1_gpt_1_7b,flops_per_device,137 TFLOPS,"..."
//
//   class       the workload class errors are summarised over (CNN training,
//               CNN inference, transformer training, transformer inference,
//               multi-node scaling, ...)
//   split       calibration (may tune the standard library's defaults) or
//               holdout (never does); decided before anything is fitted and
//               never moved after a row's error has been seen
//   spec        a .dlc file, relative to the data set's folder
//   metric      what the figure is: iteration_s and total_s (the whole run:
//               dataset x epochs or tokens) (time), samples_per_s and
//               samples_per_s_per_device (samples/s), tokens_per_s and
//               tokens_per_s_per_device (a count per second: 1.2M/s),
//               flops_per_device (FLOP/s: 163 TFLOPS), mfu (%)
//   published   the figure with its unit, checked against the metric's
//               dimension ("163 TFLOPS", "2230 samples/s", "1.42 s", "46.2 %")
//   source      paper and table, or repository, path and version
#pragma once

#include <string>
#include <vector>

#include "lang/units.hpp"

namespace dlc::compiler {

struct ValidationRow {
  std::string id, workload_class, split, spec, experiment, metric, published_text, source;
  double published = 0;  // in the metric's base unit
  int line = 0;          // in the data set's file
};

// The dimension a metric's figures have; false for an unknown metric.
bool metric_dimension(const std::string& metric, lang::Dimension& out);
// The metrics there are, for messages.
std::vector<std::string> metric_names();

// Reads a data set. False with "FILE:LINE: message" on a malformed row (a
// missing column, an unknown metric or split, a figure whose unit is not the
// metric's, a repeated id).
bool read_validation_rows(const std::string& path, std::vector<ValidationRow>& rows, std::string& error);

// One line of CSV split into its fields (RFC 4180: quoted fields, "" inside).
std::vector<std::string> csv_fields(const std::string& line);

}  // namespace dlc::compiler
