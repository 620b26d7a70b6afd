#include "simulator/cost.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace dlc::simulator {

struct Cost::Node {
  Op op;
  double value = 0;  // constant
  ParamId param = 0;
  std::uint8_t nargs = 0;
  std::shared_ptr<const Node> args[3];  // inline: one allocation per node
  // Where CostProgram::compile put this node, valid when `pass` is its pass.
  mutable std::uint64_t pass = 0;
  mutable std::uint32_t slot = 0;
};

namespace {
std::uint64_t next_pass = 0;  // each compile marks the nodes it placed with a new number
}  // namespace

Cost::Cost(double value) {
  auto n = std::make_shared<Node>();
  n->op = Op::constant;
  n->value = value;
  node_ = std::move(n);
}

Cost Cost::param(ParamId id) {
  auto n = std::make_shared<Node>();
  n->op = Op::param;
  n->param = id;
  return Cost(std::shared_ptr<const Node>(std::move(n)));
}

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
    case Cost::Op::exp2: return std::exp2(a);
    case Cost::Op::sqrt: return std::sqrt(a);
    case Cost::Op::ceil: return std::ceil(a);
    case Cost::Op::select: return a > 0 ? b : c;
    default: return 0;
  }
}

}  // namespace

// Builders fold constants and the neutral elements, so a model written with
// fixed inputs collapses to a number and only what depends on parameters stays.
Cost Cost::make(Op op, std::initializer_list<Cost> list) {
  const Cost* args = list.begin();
  bool all_constant = std::all_of(list.begin(), list.end(), [](const Cost& c) { return c.is_constant(); });
  if (all_constant) {
    double a = args[0].constant_value(), b = list.size() > 1 ? args[1].constant_value() : 0;
    double c = list.size() > 2 ? args[2].constant_value() : 0;
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
  auto n = std::make_shared<Node>();
  n->op = op;
  n->nargs = static_cast<std::uint8_t>(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) n->args[i] = args[i].node_;
  return Cost(std::shared_ptr<const Node>(std::move(n)));
}

Cost operator+(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::add, {a, b}); }
Cost operator-(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::sub, {a, b}); }
Cost operator*(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::mul, {a, b}); }
Cost operator/(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::div, {a, b}); }
Cost max(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::max, {a, b}); }
Cost min(const Cost& a, const Cost& b) { return Cost::make(Cost::Op::min, {a, b}); }
Cost log2(const Cost& a) { return Cost::make(Cost::Op::log2, {a}); }
Cost exp2(const Cost& a) { return Cost::make(Cost::Op::exp2, {a}); }
Cost ceil(const Cost& a) { return Cost::make(Cost::Op::ceil, {a}); }
Cost sqrt(const Cost& a) { return Cost::make(Cost::Op::sqrt, {a}); }
Cost select(const Cost& cond, const Cost& a, const Cost& b) { return Cost::make(Cost::Op::select, {cond, a, b}); }

double Cost::evaluate(std::span<const double> params) const {
  const Node& n = *node_;
  auto arg = [&](int i) { return Cost(n.args[i]); };
  switch (n.op) {
    case Op::constant: return n.value;
    case Op::param: return params[n.param];
    case Op::select: return arg(0).evaluate(params) > 0 ? arg(1).evaluate(params) : arg(2).evaluate(params);
    case Op::log2:
    case Op::exp2:
    case Op::sqrt:
    case Op::ceil: return apply(n.op, arg(0).evaluate(params), 0, 0);
    default: return apply(n.op, arg(0).evaluate(params), arg(1).evaluate(params), 0);
  }
}

std::size_t Cost::size() const {
  std::size_t n = 1;
  for (int i = 0; i < node_->nargs; ++i) n += Cost(node_->args[i]).size();
  return n;
}

std::string Cost::to_string(std::span<const std::string> names) const {
  const Node& n = *node_;
  auto arg = [&](std::size_t i) { return Cost(n.args[i]).to_string(names); };
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
    case Op::exp2: return fmt::format("exp2({})", arg(0));
    case Op::ceil: return fmt::format("ceil({})", arg(0));
    case Op::sqrt: return fmt::format("sqrt({})", arg(0));
    case Op::select: return fmt::format("({} > 0 ? {} : {})", arg(0), arg(1), arg(2));
  }
  return "?";
}

CostProgram CostProgram::compile(std::span<const Cost> roots) {
  CostProgram p;
  std::uint64_t pass = ++next_pass;
  auto placed = [&](const Cost::Node* n) { return n->pass == pass; };
  // Iterative post-order: a node is emitted after its arguments.
  std::vector<std::pair<const Cost::Node*, bool>> stack;
  auto emit = [&](const Cost::Node* n) {
    Instr in{n->op};
    if (n->op == Cost::Op::constant) in.value = n->value;
    if (n->op == Cost::Op::param) in.a = n->param;
    std::uint32_t* args[] = {&in.a, &in.b, &in.c};
    for (int i = 0; i < n->nargs; ++i) *args[i] = n->args[i]->slot;
    n->slot = static_cast<std::uint32_t>(p.code_.size());
    n->pass = pass;
    p.code_.push_back(in);
  };
  for (const Cost& root : roots) {
    stack.push_back({root.node_.get(), false});
    while (!stack.empty()) {
      auto [n, expanded] = stack.back();
      stack.pop_back();
      if (placed(n)) continue;
      if (expanded) {
        emit(n);
        continue;
      }
      stack.push_back({n, true});
      for (int i = 0; i < n->nargs; ++i)
        if (!placed(n->args[i].get())) stack.push_back({n->args[i].get(), false});
    }
    p.outputs_.push_back(root.node_->slot);
  }
  p.slots_.resize(p.code_.size());
  return p;
}

void CostProgram::run(std::span<const double> params, std::vector<double>& out) const {
  double* v = slots_.data();
  for (std::size_t i = 0; i < code_.size(); ++i) {
    const Instr& in = code_[i];
    switch (in.op) {
      case Cost::Op::constant: v[i] = in.value; break;
      case Cost::Op::param: v[i] = params[in.a]; break;
      case Cost::Op::select: v[i] = v[in.a] > 0 ? v[in.b] : v[in.c]; break;
      case Cost::Op::log2:
      case Cost::Op::exp2:
      case Cost::Op::sqrt:
      case Cost::Op::ceil: v[i] = apply(in.op, v[in.a], 0, 0); break;
      default: v[i] = apply(in.op, v[in.a], v[in.b], 0); break;
    }
  }
  out.resize(outputs_.size());
  for (std::size_t i = 0; i < outputs_.size(); ++i) out[i] = v[outputs_[i]];
}

Cost Params::add(std::string name, double value, lang::Dimension dim) {
  if (auto id = find(name)) {
    values_[*id] = value;
    return Cost::param(*id);
  }
  names_.push_back(std::move(name));
  values_.push_back(value);
  dims_.push_back(dim);
  ranges_.push_back(Range{});
  return Cost::param(static_cast<ParamId>(names_.size() - 1));
}

std::optional<ParamId> Params::find(std::string_view name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<ParamId>(i);
  return std::nullopt;
}

}  // namespace dlc::simulator
