// The commands of the dlc tool: flag structs and the functions that run them.
#pragma once

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

}  // namespace dlc::tools
