// Plain-text tables for people: a header, a rule, aligned columns (numbers
// to the right), and thousands separators for counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::compiler {

class TextTable {
 public:
  enum class Align { left, right };
  void column(std::string header, Align align = Align::left);
  void row(std::vector<std::string> cells);
  void rule();  // a separating line before the next row (totals)
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<Align> aligns_;
  std::vector<std::vector<std::string>> rows_;  // an empty row is a rule
};

std::string with_separators(std::int64_t n);  // 60965224 -> "60,965,224"

// Seconds for people, signed: 46.2 us, -1.23 ms, 4.56 s, 2.5 h.
std::string human_seconds(double s);

// One CSV field, quoted when it needs to be (RFC 4180).
std::string csv_field(const std::string& s);

}  // namespace dlc::compiler
