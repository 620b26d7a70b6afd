#include "compiler/table.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace dlc::compiler {

namespace {
// Display width in characters (UTF-8 continuation bytes take no column).
std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}
}  // namespace

void TextTable::column(std::string header, Align align) {
  headers_.push_back(std::move(header));
  aligns_.push_back(align);
}

void TextTable::row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void TextTable::rule() { rows_.emplace_back(); }

std::string TextTable::render() const {
  std::vector<std::size_t> widths(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) {
    widths[c] = width(headers_[c]);
    for (const auto& r : rows_)
      if (!r.empty()) widths[c] = std::max(widths[c], width(r[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      std::string pad(widths[c] - width(cells[c]), ' ');
      bool last = c + 1 == cells.size();
      if (aligns_[c] == Align::right) out += pad + cells[c];
      else out += cells[c] + (last ? "" : pad);
      if (!last) out += "  ";
    }
    return out + "\n";
  };
  std::string total_rule;
  for (std::size_t c = 0; c < widths.size(); ++c) total_rule += std::string(widths[c], '-') + (c + 1 < widths.size() ? "  " : "");
  std::string out = line(headers_) + total_rule + "\n";
  for (const auto& r : rows_) out += r.empty() ? total_rule + "\n" : line(r);
  return out;
}

std::string with_separators(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string human_seconds(double s) {
  double a = std::fabs(s);
  if (a == 0) return "0";
  if (a < 1e-3) return fmt::format("{:.1f} us", s * 1e6);
  if (a < 1) return fmt::format("{:.2f} ms", s * 1e3);
  if (a < 3600) return fmt::format("{:.2f} s", s);
  return fmt::format("{:.1f} h", s / 3600);
}

std::string human_bytes(double b) {
  double a = std::fabs(b);
  if (a >= 1e12) return fmt::format("{:.2f} TB", b / 1e12);
  if (a >= 1e9) return fmt::format("{:.2f} GB", b / 1e9);
  if (a >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
  if (a >= 1e3) return fmt::format("{:.1f} kB", b / 1e3);
  return fmt::format("{:.0f} B", b);
}

std::string human_rate(double per_s) {
  if (per_s >= 1e6) return fmt::format("{:.2f}M", per_s / 1e6);
  if (per_s >= 1e4) return fmt::format("{:.1f}K", per_s / 1e3);
  return fmt::format("{:.1f}", per_s);
}

std::string human_joules(double j) {
  double a = std::fabs(j);
  if (a == 0) return "0 J";
  if (a < 1e-9) return fmt::format("{:.3g} pJ", j * 1e12);
  if (a < 1e-6) return fmt::format("{:.3g} nJ", j * 1e9);
  if (a < 1e-3) return fmt::format("{:.3g} uJ", j * 1e6);
  if (a < 1) return fmt::format("{:.3g} mJ", j * 1e3);
  if (a < 1e3) return fmt::format("{:.3g} J", j);
  // A training run's: kilowatt-hours read better than gigajoules.
  if (a < 3.6e6) return fmt::format("{:.3g} kJ", j / 1e3);
  if (a < 3.6e9) return fmt::format("{:.3g} kWh", j / 3.6e6);
  if (a < 3.6e12) return fmt::format("{:.3g} MWh", j / 3.6e9);
  return fmt::format("{:.3g} GWh", j / 3.6e12);
}

std::string human_si(double v) {
  static const std::pair<double, const char*> prefixes[] = {{1e18, "E"}, {1e15, "P"}, {1e12, "T"},
                                                            {1e9, "G"},  {1e6, "M"},  {1e3, "k"}};
  for (const auto& [f, p] : prefixes)
    if (std::fabs(v) >= f) return fmt::format("{:.3g} {}", v / f, p);
  return fmt::format("{:.3g} ", v);
}

std::string human_count(double n) {
  double a = std::fabs(n);
  if (a >= 1e12) return fmt::format("{:.3g}T", n / 1e12);
  if (a >= 1e9) return fmt::format("{:.3g}G", n / 1e9);
  if (a >= 1e6) return fmt::format("{:.3g}M", n / 1e6);
  if (a >= 1e4) return fmt::format("{:.3g}K", n / 1e3);
  return fmt::format("{:.4g}", n);
}

}  // namespace dlc::compiler
