#include "lang/units.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <utility>
#include <vector>

namespace dlc::lang {

Dimension Dimension::operator*(const Dimension& o) const {
  Dimension r;
  for (int i = 0; i < kBaseDims; ++i) r.exp[i] = static_cast<std::int8_t>(exp[i] + o.exp[i]);
  return r;
}

Dimension Dimension::operator/(const Dimension& o) const {
  Dimension r;
  for (int i = 0; i < kBaseDims; ++i) r.exp[i] = static_cast<std::int8_t>(exp[i] - o.exp[i]);
  return r;
}

Dimension Dimension::pow(int n) const {
  Dimension r;
  for (int i = 0; i < kBaseDims; ++i) r.exp[i] = static_cast<std::int8_t>(exp[i] * n);
  return r;
}

namespace {

// Symbols of the base dimensions, in the order of BaseDim.
constexpr const char* kBaseSymbols[kBaseDims] = {"FLOP", "B", "s", "sample", "J", "m", "A", "USD"};

struct NamedDimension {
  Dimension dim;
  const char* name;
};

// Watts and volts read better than J/s and J/(s·A).
const std::pair<Dimension, const char*> kDerivedSymbols[] = {
    {dims::power(), "W"}, {dims::voltage(), "V"}, {dims::resistance(), "Ohm"}, {dims::conductance(), "S"},
    {dims::frequency(), "Hz"}};

}  // namespace

std::string Dimension::unit() const {
  if (dimensionless()) return "1";
  for (const auto& [d, sym] : kDerivedSymbols)
    if (d == *this) return sym;
  std::string num, den;
  for (int i = 0; i < kBaseDims; ++i) {
    int e = exp[i];
    if (e == 0) continue;
    std::string& side = e > 0 ? num : den;
    if (!side.empty()) side += "·";
    side += kBaseSymbols[i];
    if (std::abs(e) != 1) side += fmt::format("^{}", std::abs(e));
  }
  if (den.empty()) return num;
  return fmt::format("{}/{}", num.empty() ? std::string_view("1") : std::string_view(num), den);
}

std::string Dimension::describe() const {
  static const std::pair<Dimension, const char*> named[] = {
      {dims::number(), "plain number"},   {dims::ops(), "operation count"},
      {dims::op_rate(), "compute rate"},  {dims::bytes(), "size"},
      {dims::bandwidth(), "bandwidth"},   {dims::time(), "time"},
      {dims::frequency(), "frequency"},   {dims::samples(), "sample count"},
      {dims::sample_rate(), "throughput"}, {dims::energy(), "energy"},
      {dims::power(), "power"},           {dims::length(), "length"},
      {dims::area(), "area"},             {dims::current(), "current"},
      {dims::voltage(), "voltage"},       {dims::resistance(), "resistance"},
      {dims::conductance(), "conductance"}, {dims::money(), "amount of money"},
      {dims::price_rate(), "price per time"},
  };
  for (const auto& [d, name] : named)
    if (d == *this) return d.dimensionless() ? name : fmt::format("{} ({})", name, unit());
  return fmt::format("quantity in {}", unit());
}

namespace {

struct UnitDef {
  const char* name;
  double factor;
  Dimension dim;
  bool binary_ok;  // accepts Ki/Mi/... (bytes and bits)
  bool prefix_ok;
};

const UnitDef* find_base_unit(std::string_view w) {
  static const UnitDef units[] = {
      {"FLOP", 1, dims::ops(), false, true},      {"FLOPs", 1, dims::ops(), false, true},
      {"FLOPS", 1, dims::op_rate(), false, true}, {"OP", 1, dims::ops(), false, true},
      {"OPs", 1, dims::ops(), false, true},       {"OPS", 1, dims::op_rate(), false, true},
      {"op", 1, dims::ops(), false, true},        {"ops", 1, dims::ops(), false, true},
      {"MAC", 2, dims::ops(), false, true},       {"MACs", 2, dims::ops(), false, true},
      {"B", 1, dims::bytes(), true, true},        {"byte", 1, dims::bytes(), true, true},
      {"bytes", 1, dims::bytes(), true, true},    {"b", 0.125, dims::bytes(), true, true},
      {"bit", 0.125, dims::bytes(), true, true},  {"bits", 0.125, dims::bytes(), true, true},
      {"s", 1, dims::time(), false, true},        {"sec", 1, dims::time(), false, false},
      {"min", 60, dims::time(), false, false},    {"h", 3600, dims::time(), false, false},
      {"hour", 3600, dims::time(), false, false}, {"hours", 3600, dims::time(), false, false},
      {"day", 86400, dims::time(), false, false}, {"days", 86400, dims::time(), false, false},
      {"Hz", 1, dims::frequency(), false, true},  {"sample", 1, dims::samples(), false, true},
      {"samples", 1, dims::samples(), false, true}, {"Sa", 1, dims::samples(), false, true},
      {"S", 1, dims::conductance(), false, true},
      {"J", 1, dims::energy(), false, true},      {"W", 1, dims::power(), false, true},
      {"m", 1, dims::length(), false, true},      {"A", 1, dims::current(), false, true},
      {"V", 1, dims::voltage(), false, true},     {"Ohm", 1, dims::resistance(), false, true},
      {"ohm", 1, dims::resistance(), false, true}, {"%", 0.01, dims::number(), false, false},
      {"USD", 1, dims::money(), false, false},
  };
  for (const UnitDef& u : units)
    if (w == u.name) return &u;
  return nullptr;
}

struct Prefix {
  const char* name;
  double factor;
  bool binary;
};

constexpr Prefix kPrefixes[] = {
    {"Ki", 1024.0, true}, {"Mi", 1048576.0, true}, {"Gi", 1073741824.0, true},
    {"Ti", 1099511627776.0, true}, {"Pi", 1125899906842624.0, true},
    {"K", 1e3, false}, {"k", 1e3, false}, {"M", 1e6, false}, {"G", 1e9, false},
    {"T", 1e12, false}, {"P", 1e15, false}, {"E", 1e18, false}, {"m", 1e-3, false},
    // micro is 'u' (names are ASCII)
    {"u", 1e-6, false}, {"n", 1e-9, false}, {"p", 1e-12, false},
    {"f", 1e-15, false},
};

std::optional<Quantity> unit_without_power(std::string_view w) {
  if (const UnitDef* u = find_base_unit(w)) return Quantity{u->factor, u->dim};
  for (const Prefix& p : kPrefixes) {
    std::string_view pn = p.name;
    if (!w.starts_with(pn)) continue;
    std::string_view rest = w.substr(pn.size());
    if (rest.empty()) {
      // A bare prefix multiplies a count: 100M samples, 4K.
      if (!p.binary && p.factor >= 1e3) return Quantity{p.factor, dims::number()};
      continue;
    }
    const UnitDef* u = find_base_unit(rest);
    if (!u || !u->prefix_ok || (p.binary && !u->binary_ok)) continue;
    return Quantity{p.factor * u->factor, u->dim};
  }
  return std::nullopt;
}

}  // namespace

std::optional<Quantity> parse_unit_term(std::string_view word) {
  if (word.empty()) return std::nullopt;
  if (auto q = unit_without_power(word)) return q;
  // A trailing power: mm2, mm^2, m^-1.
  std::size_t caret = word.find('^');
  std::string_view head = word, power = {};
  if (caret != std::string_view::npos) {
    head = word.substr(0, caret);
    power = word.substr(caret + 1);
  } else if (word.size() >= 2 && std::isdigit(static_cast<unsigned char>(word.back()))) {
    head = word.substr(0, word.size() - 1);
    power = word.substr(word.size() - 1);
  }
  if (power.empty() || power.size() > 2) return std::nullopt;
  int n = 0;
  bool neg = power[0] == '-';
  for (char c : power.substr(neg ? 1 : 0)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > 4) return std::nullopt;
  if (neg) n = -n;
  auto q = unit_without_power(head);
  if (!q || q->dim.dimensionless()) return std::nullopt;
  return Quantity{std::pow(q->value, n), q->dim.pow(n)};
}

std::string format_quantity(const Quantity& q) {
  std::string unit = q.dim.unit();
  double v = q.value;
  if (q.dim == dims::samples()) {
    unit = "samples";
    if (v == 1) unit = "sample";
  }
  if (q.dim.dimensionless()) return fmt::format("{:g}", v);
  static const std::pair<double, const char*> prefixes[] = {
      {1e18, "E"}, {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "K"},
      {1, ""},     {1e-3, "m"}, {1e-6, "u"}, {1e-9, "n"}, {1e-12, "p"}};
  if (q.dim == dims::samples() && std::fabs(v) < 1e3) return fmt::format("{:g} {}", v, unit);  // no milli-samples
  bool simple = unit.find_first_of("/·^") == std::string::npos || q.dim == dims::bandwidth() ||
                q.dim == dims::op_rate();
  if (simple && v != 0) {
    for (const auto& [f, p] : prefixes) {
      if (std::fabs(v) >= f * 0.9999999) {
        if (q.dim == dims::samples()) return fmt::format("{:g}{} {}", v / f, p, unit);  // 1.28M samples
        return fmt::format("{:g} {}{}", v / f, p, unit);
      }
    }
  }
  return fmt::format("{:g} {}", v, unit);
}

}  // namespace dlc::lang

namespace dlc::lang {

namespace {

// Spellings people write: every unit, alone and with the common prefixes.
const std::vector<std::string>& unit_spellings() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> v;
    const char* bases[] = {"B", "b", "FLOP", "FLOPS", "OPS", "MAC", "s", "Hz", "W", "J", "V", "A", "S", "Ohm",
                           "m", "sample", "samples", "Sa", "bytes", "bits", "min", "h", "hours", "days", "USD"};
    const char* prefixes[] = {"", "K", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "m", "u", "n", "p"};
    for (const char* p : prefixes)
      for (const char* b : bases) {
        std::string w = std::string(p) + b;
        if (parse_unit_term(w)) v.push_back(w);
      }
    return v;
  }();
  return all;
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

std::optional<Quantity> parse_quantity(std::string_view text) {
  std::string s(text);
  const char* begin = s.c_str();
  char* end = nullptr;
  double value = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(value)) return std::nullopt;
  Quantity q{value, Dimension{}};
  std::string rest(end);
  // Terms separated by spaces multiply; a '/' divides by the term after it.
  std::size_t i = 0;
  bool divide = false;
  while (i < rest.size()) {
    char c = rest[i];
    if (c == ' ') {
      ++i;
      continue;
    }
    if (c == '/') {
      divide = true;
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '/') ++j;
    auto term = parse_unit_term(std::string_view(rest).substr(i, j - i));
    if (!term) return std::nullopt;
    q.value = divide ? q.value / term->value : q.value * term->value;
    q.dim = divide ? q.dim / term->dim : q.dim * term->dim;
    divide = false;
    i = j;
  }
  if (divide) return std::nullopt;  // a trailing '/'
  return q;
}

std::string suggest_unit(std::string_view word) {
  // GBps, Gbps, MBps: a rate written without the slash.
  if (word.size() > 2 && word.ends_with("ps") && parse_unit_term(word.substr(0, word.size() - 2)))
    return fmt::format("'{}/s'", word.substr(0, word.size() - 2));
  // gb, gib, tflops: the right letters in the wrong case (bits and bytes differ by case).
  std::vector<std::string> cased;
  for (const std::string& s : unit_spellings())
    if (same_ignoring_case(s, word)) cased.push_back(fmt::format("'{}'", s));
  if (!cased.empty()) {
    std::string out;
    for (std::size_t i = 0; i < cased.size(); ++i)
      out += (i == 0 ? "" : i + 1 == cased.size() ? " or " : ", ") + cased[i];
    return out;
  }
  // Otherwise the closest spelling, if one is close (an edit or two).
  std::size_t best = word.size() <= 3 ? 1 : 2;
  std::string found;
  for (const std::string& s : unit_spellings()) {
    // The distance is at least the difference in length: most words are
    // done here (a 256-byte word took ~1 ms against every spelling).
    if (std::max(s.size(), word.size()) - std::min(s.size(), word.size()) > best) continue;
    // Levenshtein distance, small words only.
    std::vector<std::size_t> row(s.size() + 1);
    for (std::size_t j = 0; j <= s.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= word.size(); ++i) {
      std::size_t diag = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= s.size(); ++j) {
        std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (word[i - 1] == s[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    if (row[s.size()] <= best && (found.empty() || row[s.size()] < best)) {
      best = row[s.size()];
      found = s;
      if (best == 0) break;
    }
  }
  return found.empty() ? "" : fmt::format("'{}'", found);
}

}  // namespace dlc::lang
