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

// Samples per second for people: 926.1, 473.6K, 1.25M.
std::string human_rate(double per_s);

// Bytes for people, in decimal SI units as every dlc command prints sizes
// (1 kB = 10^3 B, 1 GB = 10^9 B; device memories are sold in them):
// 512 B, 603.9 kB, 12.0 MB, 21.00 GB, 1.20 TB.
std::string human_bytes(double bytes);

// Joules for people: 4.42 nJ, 28.8 mJ; a run's in watt-hours: 3.2 kWh, 41.5 MWh.
std::string human_joules(double j);

// A rate or size with an SI prefix and a space, for a unit to follow: "412 T", "18.2 G", "950 ".
std::string human_si(double v);

// Counts for people (tokens, money), three digits and an SI prefix: 512, 37.5K, 4.19M, 15T.
std::string human_count(double n);

// One CSV field, quoted when it needs to be (RFC 4180).
std::string csv_field(const std::string& s);

}  // namespace dlc::compiler
