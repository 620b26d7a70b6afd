// The accuracy benchmark's data set reader (compiler/validation.hpp) and the
// validation over it (simulator/validate.hpp), on small files written here.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "compiler/validation.hpp"
#include "simulator/validate.hpp"
#include "tests/unit/approx.hpp"

using namespace dlc;
using dlc::test::approx;

namespace {

std::string write(const std::string& name, const std::string& text) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "dlc_validation_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name) << text;
  return (dir / name).string();
}

const char* kHeader = "id,class,split,spec,experiment,metric,published,source\n";

std::string read_error(const std::string& body) {
  std::vector<compiler::ValidationRow> rows;
  std::string error;
  CHECK_FALSE(compiler::read_validation_rows(write("bad.csv", kHeader + body), rows, error));
  return error.substr(error.find("bad.csv"));
}

}  // namespace

TEST_CASE("validation: CSV fields, quoted as RFC 4180 quotes them") {
  CHECK(compiler::csv_fields("a,\"b, c\",\"say \"\"hi\"\"\",") ==
        std::vector<std::string>{"a", "b, c", "say \"hi\"", ""});
}

TEST_CASE("validation: rows with units checked against their metric") {
  std::vector<compiler::ValidationRow> rows;
  std::string error;
  std::string path = write("ok.csv", std::string("# a comment\n") + kHeader +
                                         "r1,CNN training,holdout,a.dlc,e,samples_per_s,2230 samples/s,\"NVIDIA, DLE\"\n"
                                         "r2,transformer training,calibration,a.dlc,e,mfu,46.2 %,PaLM\n"
                                         "r3,CNN inference,holdout,a.dlc,e,iteration_s,3.4 ms,x\n");
  REQUIRE_MESSAGE(compiler::read_validation_rows(path, rows, error), error);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].published == 2230);
  CHECK(rows[0].source == "NVIDIA, DLE");
  CHECK(rows[0].line == 3);
  CHECK(rows[1].published == approx(0.462));
  CHECK(rows[2].published == approx(0.0034));
}

TEST_CASE("validation: malformed rows are errors at their line") {
  CHECK(read_error("r1,CNN training,test,a.dlc,e,mfu,40 %,x\n") ==
        "bad.csv:2: split 'test': expected calibration or holdout");
  CHECK(read_error("r1,CNN training,holdout,a.dlc,e,images,40 %,x\n") ==
        "bad.csv:2: unknown metric 'images' (one of: iteration_s, total_s, samples_per_s, samples_per_s_per_device, "
        "tokens_per_s, tokens_per_s_per_device, flops_per_device, mfu)");
  CHECK(read_error("r1,CNN training,holdout,a.dlc,e,iteration_s,3.4 GB,x\n") ==
        "bad.csv:2: published figure '3.4 GB' is size (B), but metric iteration_s is time (s)");
  CHECK(read_error("r1,CNN training,holdout,a.dlc,e,iteration_s,3.4 s,x\nr1,CNN training,holdout,a.dlc,e,"
                   "iteration_s,3.5 s,x\n") == "bad.csv:3: id 'r1' is used twice");
  CHECK(read_error("r1,CNN training,holdout,a.dlc\n") ==
        "bad.csv:2: expected 8 columns (id, class, split, spec, experiment, metric, published, source), got 4");
  CHECK(read_error("r1,CNN training,holdout,a.dlc,e,iteration_s,fast,x\n") ==
        "bad.csv:2: published figure 'fast' is not a quantity");
}

TEST_CASE("validation: errors, MAPE and bias per scope, and a row that cannot be simulated") {
  // One fc [1024] -> [1000] on a 10 TFLOPS device that reads at 100 GB/s, inference of 64 samples:
  // memory-bound, (8,096 * 64 + 4,100,000) / 1e11 = 46.18144 us (simulate_test.cpp's first case).
  write("fc.dlc", R"(
model FC {
  input x: f32[1024]
  output fc(x, 1000)
}
device D {
  kind = gpu; peak { fp32 = 10 TFLOPS } memory = 16 GB; memory_bandwidth = 100 GB/s
  efficiency { matmul = 1; memory = 1 } launch_overhead = 0 s
}
experiment E { model = FC; system = D; batch = 64; phase = inference }
)");
  std::vector<compiler::ValidationRow> rows;
  std::string error;
  std::string path = write("rows.csv", std::string(kHeader) +
                                           "fast,CNN inference,holdout,fc.dlc,E,iteration_s,40 us,x\n"
                                           "slow,CNN inference,calibration,fc.dlc,E,iteration_s,50 us,x\n"
                                           "none,CNN inference,holdout,fc.dlc,Nope,iteration_s,50 us,x\n");
  REQUIRE_MESSAGE(compiler::read_validation_rows(path, rows, error), error);
  simulator::Validation v = simulator::validate(rows, std::filesystem::path(path).parent_path().string());
  REQUIRE(v.rows.size() == 3);
  CHECK(*v.rows[0].predicted == approx(46.18144e-6));
  CHECK(v.rows[0].relative_error() == approx(46.18144 / 40 - 1));
  CHECK(v.rows[1].relative_error() == approx(46.18144 / 50 - 1));
  CHECK_FALSE(v.rows[2].predicted);
  CHECK(v.rows[2].error == "'fc.dlc' has no experiment 'Nope'");
  CHECK(v.failed == 1);
  const simulator::ValidationScope& all = v.scopes.at(0);
  CHECK(all.name == "all");
  CHECK(all.rows == 2);
  CHECK(all.mape == approx((0.154536 + 0.0763712) / 2));
  CHECK(all.bias == approx((0.154536 - 0.0763712) / 2));
  CHECK(all.worst == "fast");
  CHECK(v.scopes.at(1).name == "holdout");
  CHECK(v.scopes.at(1).mape == approx(0.154536));
  // Limits: holdout within 15.5 % passes; the failed row fails the check.
  std::vector<std::string> failures;
  REQUIRE(simulator::check_limits(v, write("limits.csv", "scope,mape,margin\nholdout,0.15,0.01\n"), failures, error));
  CHECK(failures == std::vector<std::string>{"none: not simulated: 'fc.dlc' has no experiment 'Nope'",
                                             "1 row(s) could not be simulated; 0 recorded"});
  // A recorded failure passes until there are more.
  failures.clear();
  REQUIRE(simulator::check_limits(v, write("limits.csv", "scope,mape,margin\nholdout,0.15,0.01\nfailed,1,0\n"),
                                  failures, error));
  CHECK(failures.empty());
  // Where the file says so, the intervals dlc ships must be this data set's: its one held-out row gives
  // CNN inference the interval of one ratio measured / predicted, 40 / 46.18144.
  failures.clear();
  REQUIRE(simulator::check_limits(
      v, write("limits.csv", "scope,mape,margin\nholdout,0.15,0.01\nfailed,1,0\nintervals,1,0\n"), failures, error));
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].starts_with("the interval dlc ships for CNN inference ("));
  CHECK(failures[0].ends_with("is not the data set's (1 rows, 0.8661 to 0.8661): update simulator/interval.cpp"));
}
