#include "simulator/cost.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace dlc::simulator {

struct Cost::Node {
  Op op;
  double value = 0;  // constant
  ParamId param = 0;
  std::vector<Cost> args;
};

Cost::Cost(double value) : node_(std::make_shared<Node>(Node{Op::constant, value, 0, {}})) {}

Cost Cost::param(ParamId id) { return Cost(std::make_shared<Node>(Node{Op::param, 0, id, {}})); }

bool Cost::is_constant() const { return node_->op == Op::constant; }
double Cost::constant_value() const { return node_->value; }
Cost::Op Cost::op() const { return node_->op; }

namespace {

double apply(Cost::Op op, double a, double b, double c) {
  switch (op) {
    case Cost::Op::add: return a + b;
    case Cost::Op::sub: return a - b;
    case Cost::Op::mul: return a * b;
    case Cost::Op::div: return a / b;
    case Cost::Op::max: return std::max(a, b);
    case Cost::Op::min: return std::min(a, b);
    case Cost::Op::log2: return std::log2(a);
    case Cost::Op::sqrt: return std::sqrt(a);
    case Cost::Op::ceil: return std::ceil(a);
    case Cost::Op::select: return a > 0 ? b : c;
    default: return 0;
  }
}

}  // namespace

// Builders fold constants and the neutral elements, so a model written with
// fixed inputs collapses to a number and only what depends on parameters stays.
Cost Cost::make(Op op, std::vector<Cost> args) {
  bool all_constant = std::all_of(args.begin(), args.end(), [](const Cost& c) { return c.is_constant(); });
  if (all_constant) {
    double a = args[0].constant_value(), b = args.size() > 1 ? args[1].constant_value() : 0;
    double c = args.size() > 2 ? args[2].constant_value() : 0;
    return Cost(apply(op, a, b, c));
  }
  auto is = [](const Cost& x, double v) { return x.is_constant() && x.constant_value() == v; };
  switch (op) {
    case Op::add:
      if (is(args[0], 0)) return args[1];
      if (is(args[1], 0)) return args[0];
      break;
    case Op::sub:
      if (is(args[1], 0)) return args[0];
      break;
    case Op::mul:
      if (is(args[0], 1)) return args[1];
      if (is(args[1], 1)) return args[0];
      if (is(args[0], 0) || is(args[1], 0)) return Cost(0.0);
      break;
    case Op::div:
      if (is(args[1], 1)) return args[0];
      break;
    case Op::select:
      if (args[0].is_constant()) return args[0].constant_value() > 0 ? args[1] : args[2];
      break;
    default: break;
  }
  return Cost(std::make_shared<Node>(Node{op, 0, 0, std::move(args)}));
}

Cost operator+(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::add, {a, b}); }
Cost operator-(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::sub, {a, b}); }
Cost operator*(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::mul, {a, b}); }
Cost operator/(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::div, {a, b}); }
Cost max(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::max, {a, b}); }
Cost min(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::min, {a, b}); }
Cost log2(const Cost& a) { return Cost::make(Cost::Op::log2, {a}); }
Cost ceil(const Cost& a) { return Cost::make(Cost::Op::ceil, {a}); }
Cost sqrt(const Cost& a) { return Cost::make(Cost::Op::sqrt, {a}); }
Cost select(const Cost& cond, const Cost& a, const Cost& b) { return Cost::make(Cost::Op::select, {cond, a, b}); }

double Cost::evaluate(std::span<const double> params) const {
  const Node& n = *node_;
  switch (n.op) {
    case Op::constant: return n.value;
    case Op::param: return params[n.param];
    case Op::select: return n.args[0].evaluate(params) > 0 ? n.args[1].evaluate(params) : n.args[2].evaluate(params);
    case Op::log2:
    case Op::sqrt:
    case Op::ceil: return apply(n.op, n.args[0].evaluate(params), 0, 0);
    default: return apply(n.op, n.args[0].evaluate(params), n.args[1].evaluate(params), 0);
  }
}

std::size_t Cost::size() const {
  std::size_t n = 1;
  for (const Cost& a : node_->args) n += a.size();
  return n;
}

std::string Cost::to_string(std::span<const std::string> names) const {
  const Node& n = *node_;
  auto arg = [&](std::size_t i) { return n.args[i].to_string(names); };
  switch (n.op) {
    case Op::constant: return fmt::format("{}", n.value);
    case Op::param: return n.param < names.size() ? names[n.param] : fmt::format("p{}", n.param);
    case Op::add: return fmt::format("({} + {})", arg(0), arg(1));
    case Op::sub: return fmt::format("({} - {})", arg(0), arg(1));
    case Op::mul: return fmt::format("({} * {})", arg(0), arg(1));
    case Op::div: return fmt::format("({} / {})", arg(0), arg(1));
    case Op::max: return fmt::format("max({}, {})", arg(0), arg(1));
    case Op::min: return fmt::format("min({}, {})", arg(0), arg(1));
    case Op::log2: return fmt::format("log2({})", arg(0));
    case Op::ceil: return fmt::format("ceil({})", arg(0));
    case Op::sqrt: return fmt::format("sqrt({})", arg(0));
    case Op::select: return fmt::format("({} > 0 ? {} : {})", arg(0), arg(1), arg(2));
  }
  return "?";
}

Cost Params::add(std::string name, double value, lang::Dimension dim) {
  if (auto id = find(name)) {
    values_[*id] = value;
    return Cost::param(*id);
  }
  names_.push_back(std::move(name));
  values_.push_back(value);
  dims_.push_back(dim);
  return Cost::param(static_cast<ParamId>(names_.size() - 1));
}

std::optional<ParamId> Params::find(std::string_view name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<ParamId>(i);
  return std::nullopt;
}

}  // namespace dlc::simulator
