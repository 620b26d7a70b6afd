// Cost expressions: building, folding, evaluating with changed parameters.
#include <doctest/doctest.h>

#include <cmath>

#include "simulator/cost.hpp"
#include "tests/unit/approx.hpp"

using namespace dlc::simulator;
using dlc::test::approx;

TEST_CASE("cost: a roofline evaluates to the larger bound plus the overhead") {
  Params params;
  Cost peak = params.add("device.peak", 10e12);  // FLOP/s
  Cost bw = params.add("device.bandwidth", 500e9);  // B/s
  Cost overhead = params.add("device.launch_overhead", 5e-6);
  // 1 GMAC and 100 MB: compute 2e9 / 1e13 = 200 us, memory 1e8 / 5e11 = 200 us.
  Cost t = max(Cost(2e9) / peak, Cost(1e8) / bw) + overhead;
  CHECK(t.evaluate(params.values()) == approx(205e-6));
  // Halve the bandwidth: memory-bound, 400 us + 5 us.
  params.set(*params.find("device.bandwidth"), 250e9);
  CHECK(t.evaluate(params.values()) == approx(405e-6));
}

TEST_CASE("cost: constants fold and neutral elements vanish") {
  Cost c = Cost(2) * Cost(3) + Cost(4);
  CHECK(c.is_constant());
  CHECK(c.constant_value() == 10);
  Params params;
  Cost p = params.add("p", 7);
  CHECK((p * Cost(1)).op() == Cost::Op::param);
  CHECK((Cost(0) + p).op() == Cost::Op::param);
  CHECK((p * Cost(0)).is_constant());
  CHECK(select(Cost(1), p, Cost(3)).op() == Cost::Op::param);
  CHECK(log2(Cost(8)).constant_value() == 3);
  CHECK(ceil(Cost(2.1)).constant_value() == 3);
}

TEST_CASE("cost: the seed's tree all-reduce, 2 w log2(p) / beta") {
  Params params;
  Cost p = params.add("workers", 8);
  Cost beta = params.add("link.bandwidth", 7e9);  // 56 Gb/s
  Cost w = 138357544.0 * 4;                       // VGG-16 gradients, fp32
  Cost t = Cost(2) * w * log2(p) / beta;
  // 2 * 553,430,176 * 3 / 7e9 = 0.474368722... s
  CHECK(t.evaluate(params.values()) == approx(2.0 * 553430176 * 3 / 7e9));
  params.set(*params.find("workers"), 64);
  CHECK(t.evaluate(params.values()) == approx(2.0 * 553430176 * 6 / 7e9));
  CHECK(t.to_string(params.names()) == "((1106860352 * log2(workers)) / link.bandwidth)");  // 2 * w folded
}

TEST_CASE("cost: select, min and sizes") {
  Params params;
  Cost x = params.add("x", -1);
  Cost e = select(x, Cost(10), min(x, Cost(5)));
  CHECK(e.evaluate(params.values()) == -1);
  params.set(0, 2);
  CHECK(e.evaluate(params.values()) == 10);
  CHECK(e.size() == 6);  // select, x, 10, min, x, 5
  CHECK(params.add("x", 3).op() == Cost::Op::param);  // same name: same parameter, value updated
  CHECK(params.size() == 1);
  CHECK(params.value(0) == 3);
}

TEST_CASE("cost: the tree interpreter and the compiled program agree on random expressions") {
  // A fixed linear congruential generator: the same expressions every run.
  std::uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  Params params;
  std::vector<Cost> leaves;
  for (int i = 0; i < 6; ++i) leaves.push_back(params.add("p" + std::to_string(i), 1.0 + static_cast<double>(next() % 100)));
  for (int i = 0; i < 6; ++i) leaves.push_back(Cost(0.5 + static_cast<double>(next() % 50)));
  std::vector<Cost> pool = leaves;
  for (int i = 0; i < 400; ++i) {
    const Cost& a = pool[next() % pool.size()];
    const Cost& b = pool[next() % pool.size()];
    const Cost& c = pool[next() % pool.size()];
    switch (next() % 11) {
      case 0: pool.push_back(a + b); break;
      case 1: pool.push_back(a - b); break;
      case 2: pool.push_back(a * b); break;
      case 3: pool.push_back(a / (b * b + 1.0)); break;
      case 4: pool.push_back(max(a, b)); break;
      case 5: pool.push_back(min(a, b)); break;
      case 6: pool.push_back(log2(a * a + 1.0)); break;
      case 7: pool.push_back(sqrt(a * a)); break;
      case 8: pool.push_back(exp2(min(a, 20.0))); break;
      case 9: pool.push_back(ceil(a)); break;
      default: pool.push_back(select(a - b, c, a)); break;
    }
  }
  std::vector<Cost> roots(pool.end() - 50, pool.end());
  CostProgram program = CostProgram::compile(roots);
  for (int point = 0; point < 20; ++point) {
    for (ParamId id = 0; id < params.size(); ++id) params.set(id, 0.25 + static_cast<double>(next() % 1000) / 10);
    std::vector<double> out;
    program.run(params.values(), out);
    for (std::size_t i = 0; i < roots.size(); ++i) {
      double tree = roots[i].evaluate(params.values());
      if (std::isnan(tree)) CHECK(std::isnan(out[i]));
      else if (tree == 0 || std::isinf(tree)) CHECK(out[i] == tree);  // ceil and exp2 reach both
      else CHECK(out[i] == approx(tree));
    }
  }
}
