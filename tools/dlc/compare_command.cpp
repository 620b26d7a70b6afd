// dlc compare PREDICTED.json MEASURED.json: two dlc.result/1 records side by
// side, layer by layer, with the per-layer and end-to-end errors.
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "compiler/result.hpp"
#include "simulator/compare.hpp"
#include "tools/dlc/commands.hpp"
#include "tools/dlc/frontend.hpp"

namespace dlc::tools {

namespace {

bool read_result(const std::string& path, compiler::Result& r) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "dlc: error: cannot read '{}'\n", path);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string error;
  if (!compiler::result_from_json(text.str(), r, error)) {
    fmt::print(stderr, "dlc: error: '{}': {}\n", path, error);
    return false;
  }
  return true;
}

}  // namespace

int run_compare(const CompareOptions& o) {
  compiler::Result predicted, measured;
  if (!read_result(o.predicted, predicted) || !read_result(o.measured, measured)) return 1;
  simulator::Comparison c = simulator::compare(predicted, measured);
  if (c.compared == 0 && c.layers.empty()) {
    fmt::print(stderr, "dlc: error: '{}' and '{}' have no layer in common (are they the same model?)\n", o.predicted,
               o.measured);
    return 1;
  }
  for (const std::string& w : simulator::comparison_warnings(c)) fmt::print(stderr, "dlc compare: warning: {}\n", w);
  std::string format = o.format.empty() ? default_format(o.output) : o.format;
  std::string text = format == "json"  ? simulator::comparison_json(c)
                     : format == "csv" ? simulator::comparison_csv(c)
                                       : simulator::comparison_table(c);
  return write_result(text, o.output);
}

}  // namespace dlc::tools
