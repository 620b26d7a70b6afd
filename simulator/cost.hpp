// Cost expressions: the analytic models are written once, as small
// expression trees over named parameters (a device's peak, a link's
// bandwidth, the batch, the node count, ...) and the constants of a Plan
// (each op's MACs and bytes). `dlc simulate` evaluates them with the plain
// interpreter here; a sweep changes parameter values and evaluates again,
// without rebuilding anything (DESIGN.md, "One cost model, two evaluators").
//
//   Params params;
//   Cost peak = params.add("device.peak", 10.6e12);
//   Cost t = max(Cost(2 * macs) / peak, Cost(bytes) / bandwidth) + overhead;
//   double seconds = t.evaluate(params.values());
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lang/units.hpp"

namespace dlc::simulator {

using ParamId = std::uint32_t;

class Cost {
 public:
  enum class Op : std::uint8_t { constant, param, add, sub, mul, div, max, min, log2, exp2, sqrt, ceil, select };

  Cost() : Cost(0.0) {}
  Cost(double value);  // NOLINT: constants convert implicitly
  static Cost param(ParamId id);

  friend Cost operator+(const Cost& a, const Cost& b);
  friend Cost operator-(const Cost& a, const Cost& b);
  friend Cost operator*(const Cost& a, const Cost& b);
  friend Cost operator/(const Cost& a, const Cost& b);
  friend Cost max(const Cost& a, const Cost& b);
  friend Cost min(const Cost& a, const Cost& b);
  friend Cost log2(const Cost& a);
  friend Cost exp2(const Cost& a);  // 2^a
  friend Cost sqrt(const Cost& a);
  friend Cost ceil(const Cost& a);
  // cond > 0 ? a : b
  friend Cost select(const Cost& cond, const Cost& a, const Cost& b);

  // The value for the given parameter values (indexed by ParamId).
  double evaluate(std::span<const double> params) const;

  bool is_constant() const;
  double constant_value() const;  // only when is_constant()
  Op op() const;
  std::size_t size() const;  // nodes in the tree (shared subtrees once per use)
  // The node's identity: equal for copies of one Cost (a cache key; the node
  // lives as long as a Cost holds it).
  const void* id() const { return node_.get(); }
  // "max((2 * 1.2e+09 / device.peak.fp32), ...)": for dumps and tests.
  std::string to_string(std::span<const std::string> names) const;

  struct Node;
  friend class CostProgram;

 private:
  explicit Cost(std::shared_ptr<const Node> n) : node_(std::move(n)) {}
  static Cost make(Op op, std::initializer_list<Cost> args);
  std::shared_ptr<const Node> node_;
};

// Many cost expressions compiled together into a flat program: every shared
// subexpression once, in an order where arguments come first. Running it is
// one pass over an array, so a sweep of a thousand points re-evaluates a
// whole model (every layer's times and the totals) in microseconds each.
class CostProgram {
 public:
  // Compiles `roots`; output i of a run is the value of roots[i].
  static CostProgram compile(std::span<const Cost> roots);
  // Evaluates every root; `out` receives one value per root.
  void run(std::span<const double> params, std::vector<double>& out) const;
  std::size_t instructions() const { return code_.size(); }

 private:
  struct Instr {
    Cost::Op op;
    std::uint32_t a = 0, b = 0, c = 0;  // argument slots, or the parameter id
    double value = 0;                   // constants
  };
  std::vector<Instr> code_;
  std::vector<std::uint32_t> outputs_;
  mutable std::vector<double> slots_;
};

// Named parameters and their current values.
class Params {
 public:
  // A new parameter (or the existing one of that name, value updated), with
  // the dimension its values have (for --set and --scale to check units).
  Cost add(std::string name, double value, lang::Dimension dim = {});
  lang::Dimension dimension(ParamId id) const { return dims_.at(id); }

  // What values a parameter accepts (checked by --set and --scale).
  struct Range {
    double min = 0;              // inclusive, unless `positive`
    double max = 1e300;
    bool positive = false;       // strictly greater than min (0)
    bool integer = false;
  };
  void constrain(ParamId id, Range r) { ranges_.at(id) = r; }
  const Range& range(ParamId id) const { return ranges_.at(id); }
  std::optional<ParamId> find(std::string_view name) const;
  void set(ParamId id, double value) { values_.at(id) = value; }
  double value(ParamId id) const { return values_.at(id); }
  std::span<const double> values() const { return values_; }
  std::span<const std::string> names() const { return names_; }
  std::size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::vector<double> values_;
  std::vector<lang::Dimension> dims_;
  std::vector<Range> ranges_;
};

}  // namespace dlc::simulator
