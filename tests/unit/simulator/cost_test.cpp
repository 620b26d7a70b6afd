// Cost expressions: building, folding, evaluating with changed parameters.
#include <doctest/doctest.h>

#include <cmath>

#include "simulator/cost.hpp"

using namespace dlc::simulator;

TEST_CASE("cost: a roofline evaluates to the larger bound plus the overhead") {
  Params params;
  Cost peak = params.add("device.peak", 10e12);  // FLOP/s
  Cost bw = params.add("device.bandwidth", 500e9);  // B/s
  Cost overhead = params.add("device.launch_overhead", 5e-6);
  // 1 GMAC and 100 MB: compute 2e9 / 1e13 = 200 us, memory 1e8 / 5e11 = 200 us.
  Cost t = max(Cost(2e9) / peak, Cost(1e8) / bw) + overhead;
  CHECK(t.evaluate(params.values()) == doctest::Approx(205e-6));
  // Halve the bandwidth: memory-bound, 400 us + 5 us.
  params.set(*params.find("device.bandwidth"), 250e9);
  CHECK(t.evaluate(params.values()) == doctest::Approx(405e-6));
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
  CHECK(t.evaluate(params.values()) == doctest::Approx(2.0 * 553430176 * 3 / 7e9));
  params.set(*params.find("workers"), 64);
  CHECK(t.evaluate(params.values()) == doctest::Approx(2.0 * 553430176 * 6 / 7e9));
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
