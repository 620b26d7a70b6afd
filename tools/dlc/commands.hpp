// The commands of the dlc tool: flag structs and the functions that run them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::tools {

std::string version_text();

struct CheckOptions {
  std::vector<std::string> inputs;
  std::string emit;  // "", "ast", "checked"
  bool all = false;
  bool quiet = false;
  bool stats = false;  // time per stage and peak memory, on stderr
  std::string color = "auto";
};

int run_check(const CheckOptions& options);

struct StatsOptions {
  std::string target;  // a model of the standard library, or a .dlc file
  std::string model;   // with a file: which model
  std::int64_t batch = 1;
  std::string format;  // table, json, csv; "" = table on a terminal, else json
  std::string output;  // -o FILE
  std::string color = "auto";
};
int run_stats(const StatsOptions& options);

struct SimulateOptions {
  std::string file;
  std::string experiment;        // "" = every experiment of the file
  std::vector<std::string> set;  // key=value
  std::string scale;             // key=v1,v2,...
  bool stats = false;            // time per stage, on stderr
  bool functional = false;       // crossbar experiments: each layer through the functional model
  int samples = 4;               // input vectors per layer, with --functional
  std::string format;
  std::string output;
  std::string color = "auto";
};
int run_simulate(const SimulateOptions& options);

struct CompareOptions {
  std::string predicted, measured;  // dlc.result/1 files
  std::string format;
  std::string output;
};
int run_compare(const CompareOptions& options);

struct ValidateOptions {
  std::string dataset;  // a CSV of published measurements (tests/validation/rows.csv)
  std::string limits;   // --check: a CSV of recorded MAPEs
  std::vector<std::string> set;  // --set [SCOPE:]key=value
  std::string format;
  std::string output;
};
int run_validate(const ValidateOptions& options);

struct RunOptions {
  std::string file;
  std::string experiment;     // "" = the file's only experiment
  std::string device = "cpu";
  int warmup = 3;
  int iters = 10;
  int threads = 0;            // 0 = every core
  std::string max_memory;     // "" = the RAM available now; else a size with a unit (8GB)
  bool check = false;         // each layer once on small inputs against the reference
  bool describe_device = false;
  bool one_device = false;    // run one device's share of a system of several
  std::string format;
  std::string output;
  std::string color = "auto";
};
int run_run(const RunOptions& options);

struct CalibrateOptions {
  std::vector<std::string> measured;  // dlc.result/1 files with "source": "measured"
  std::string device;                 // name of the device to write ("" = derived from the records)
  std::string output;                 // -o DEVICE.dlc (required)
  std::string format;                 // how to print the fit: table or json
};
int run_calibrate(const CalibrateOptions& options);

struct ModelsOptions {
  std::string format;
  std::string output;
};
int run_models(const ModelsOptions& options);

}  // namespace dlc::tools
