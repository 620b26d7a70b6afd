// Units as types. A Quantity is a value in SI base units together with its
// Dimension, a vector of integer exponents over dlc's base dimensions:
//
//   op (a floating-point or integer operation), byte, second, sample,
//   joule, metre, ampere, and money (US dollars: a price per device-hour is
//   USD/h)
//
// so FLOP/s is op·s⁻¹, GB/s is byte·s⁻¹, a watt is J·s⁻¹. Bits are bytes / 8
// (56 Gb/s == 7 GB/s); SI prefixes (K M G T P E, m u n p f) and binary prefixes
// (Ki Mi Gi Ti Pi, bytes and bits only) differ (16 GiB != 16 GB). A bare prefix
// is a count multiplier: 100M samples == 1e8 samples.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dlc::lang {

enum BaseDim { kOp, kByte, kSecond, kSample, kJoule, kMetre, kAmpere, kMoney, kBaseDims };

struct Dimension {
  std::array<std::int8_t, kBaseDims> exp{};

  static Dimension none() { return {}; }
  static Dimension base(BaseDim d, int power = 1) {
    Dimension r;
    r.exp[d] = static_cast<std::int8_t>(power);
    return r;
  }
  bool dimensionless() const { return *this == Dimension{}; }
  Dimension operator*(const Dimension& o) const;
  Dimension operator/(const Dimension& o) const;
  Dimension pow(int n) const;
  friend bool operator==(const Dimension&, const Dimension&) = default;

  // Unit form: "B/s", "op/s", "J", "1" for plain numbers.
  std::string unit() const;
  // What the dimension is called: "bandwidth (B/s)", "time (s)", "plain number".
  std::string describe() const;
};

// Common dimensions, named once.
namespace dims {
inline Dimension number() { return {}; }
inline Dimension ops() { return Dimension::base(kOp); }
inline Dimension op_rate() { return Dimension::base(kOp) / Dimension::base(kSecond); }
inline Dimension bytes() { return Dimension::base(kByte); }
inline Dimension bandwidth() { return Dimension::base(kByte) / Dimension::base(kSecond); }
inline Dimension time() { return Dimension::base(kSecond); }
inline Dimension frequency() { return Dimension{} / Dimension::base(kSecond); }
inline Dimension samples() { return Dimension::base(kSample); }
inline Dimension sample_rate() { return Dimension::base(kSample) / Dimension::base(kSecond); }
inline Dimension energy() { return Dimension::base(kJoule); }
inline Dimension power() { return Dimension::base(kJoule) / Dimension::base(kSecond); }
inline Dimension length() { return Dimension::base(kMetre); }
inline Dimension area() { return Dimension::base(kMetre, 2); }
inline Dimension current() { return Dimension::base(kAmpere); }
inline Dimension money() { return Dimension::base(kMoney); }
inline Dimension price_rate() { return money() / time(); }
inline Dimension voltage() { return power() / current(); }
inline Dimension resistance() { return voltage() / current(); }
inline Dimension conductance() { return current() / voltage(); }
}  // namespace dims

struct Quantity {
  double value = 0;  // in SI base units (bytes, seconds, ...)
  Dimension dim;
};

// Parses one unit term as written after a number: "GB", "Gb", "GiB", "TFLOPS",
// "us", "mm2", "M" (a bare prefix), "samples". Returns the factor to base
// units and the dimension, or nothing if the word is not a unit.
std::optional<Quantity> parse_unit_term(std::string_view word);

// For an unknown unit: "'GB/s'", "'GB' or 'Gb'", or "" when nothing is close.
std::string suggest_unit(std::string_view word);

// Parses a quantity written on a command line: "16", "56 Gb/s", "100Gb/s",
// "1.2e12 FLOP/s", "50K samples". Nothing when it is not one.
std::optional<Quantity> parse_quantity(std::string_view text);

// Formats a quantity for people: "7 GB/s", "16 GiB" is shown as "17.18 GB".
std::string format_quantity(const Quantity& q);

}  // namespace dlc::lang
