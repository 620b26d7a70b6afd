// Calibration against records generated from known roofline parameters, a
// small case solved by hand, and the clamps.
#include <doctest/doctest.h>

#include <algorithm>

#include "simulator/calibrate.hpp"
#include "simulator/roofline.hpp"
#include "tests/unit/approx.hpp"

using namespace dlc;
using namespace dlc::compiler;
using namespace dlc::simulator;
using dlc::test::approx;

namespace {

constexpr double kPeak = 100e9, kBandwidth = 10e9;

std::size_t at(OpClass c) { return static_cast<std::size_t>(c); }

Result record(const std::string& phase, std::int64_t batch) {
  Result r;
  r.source = "measured";
  r.model = "Net";
  r.experiment = "e";
  r.phase = phase;
  r.precision = "fp32";
  r.batch = batch;
  r.device_model = DeviceModel{"Test CPU", "cpu", kPeak, kBandwidth};
  return r;
}

// The simulator's roofline (roofline.hpp) for one layer, forward or backward.
double roofline(const RooflineParams& p, OpClass c, bool backward, double macs, double bytes, double weight_bytes,
                double batch) {
  double eff = (backward ? p.efficiency_backward : p.efficiency)[at(c)];
  double compute = 2 * macs * batch / (kPeak * eff);
  double bandwidth = kBandwidth * p.bandwidth_scale * p.memory_efficiency * (memory_bound_class(c) ? eff : 1);
  double memory = (bytes * batch + weight_bytes) / bandwidth;
  return std::max(compute, memory) + p.launch_overhead;
}

void add_layer(Result& r, const RooflineParams& p, const std::string& name, OpClass c, LayerResult::Work w) {
  LayerResult l;
  l.name = name;
  l.op = std::string(op_class_name(c));
  l.op_class = l.op;
  l.work = w;
  double b = static_cast<double>(r.batch);
  l.forward_s = roofline(p, c, false, w.macs_forward, w.bytes_forward, w.weight_bytes, b);
  if (r.phase == "training")
    l.backward_s = roofline(p, c, true, w.macs_backward, w.bytes_backward, 2 * w.weight_bytes, b);
  r.totals.iteration_s += l.forward_s + l.backward_s;
  r.layers.push_back(l);
}

void add_reorder(Result& r) {
  LayerResult l;
  l.name = "conv1/reorder";
  l.op = "reorder";
  l.forward_s = 1e-3;  // not a model layer: ignored by the fit
  r.layers.push_back(l);
}

}  // namespace

// Records written by the roofline itself, every conv and matmul sample
// compute-bound: the fit gives back each compute class's efficiencies, the
// launch overhead, and for the memory-bound classes the products
// memory efficiency x class efficiency (only those enter their roofline).
// The records have no update times, so the memory efficiency keeps its
// default 0.8 (above every class's fraction: pooling's 0.9 x 0.6 = 0.54 is
// 0.675 of it).
TEST_CASE("calibrate recovers the parameters that generated the records") {
  RooflineParams truth = default_roofline("cpu");
  truth.efficiency[at(OpClass::conv)] = 0.55;
  truth.efficiency_backward[at(OpClass::conv)] = 0.45;
  truth.efficiency[at(OpClass::matmul)] = truth.efficiency_backward[at(OpClass::matmul)] = 0.4;
  truth.efficiency[at(OpClass::elementwise)] = truth.efficiency_backward[at(OpClass::elementwise)] = 0.35;
  truth.efficiency[at(OpClass::pooling)] = truth.efficiency_backward[at(OpClass::pooling)] = 0.6;
  truth.memory_efficiency = 0.9;
  truth.launch_overhead = 2e-6;
  Result train = record("training", 32);
  add_layer(train, truth, "conv1", OpClass::conv, {2e6, 4e6, 4e4, 8e4, 1e4});
  add_reorder(train);
  add_layer(train, truth, "relu1", OpClass::elementwise, {0, 0, 3e4, 6e4, 0});
  add_layer(train, truth, "pool1", OpClass::pooling, {0, 0, 4e4, 5e4, 0});
  add_layer(train, truth, "conv2", OpClass::conv, {8e6, 1.6e7, 2e4, 4e4, 1e5});
  add_layer(train, truth, "relu2", OpClass::elementwise, {0, 0, 1e4, 2e4, 0});
  add_layer(train, truth, "fc1", OpClass::matmul, {1e6, 2e6, 8e3, 1.6e4, 4e6});
  Result infer = record("inference", 16);
  add_layer(infer, truth, "conv1", OpClass::conv, {2e6, 4e6, 4e4, 8e4, 1e4});
  std::vector<Result> records{train, infer};

  Calibration c;
  std::string error;
  REQUIRE(calibrate(records, c, error));
  CHECK(c.samples == 13);  // 6 layers forward and backward, 1 forward in inference
  CHECK(c.layers == 7);
  CHECK(c.after.efficiency[at(OpClass::conv)] == approx(0.55).epsilon(1e-9));
  CHECK(c.after.efficiency_backward[at(OpClass::conv)] == approx(0.45).epsilon(1e-9));
  CHECK(c.after.efficiency[at(OpClass::matmul)] == approx(0.4).epsilon(1e-9));
  CHECK(c.after.launch_overhead == 2e-6);
  CHECK(c.after.memory_efficiency == 0.8);
  CHECK(c.after.bandwidth_scale == 1.0);
  CHECK(c.after.efficiency[at(OpClass::pooling)] == approx(0.675).epsilon(1e-9));
  CHECK(c.after.efficiency[at(OpClass::elementwise)] * c.after.memory_efficiency == approx(0.9 * 0.35).epsilon(1e-9));
  CHECK(c.after.efficiency[at(OpClass::normalization)] == 1.0);  // no samples: the default
  CHECK(c.notes.empty());
  CHECK(c.sample_mape_after < 1e-9);
  CHECK(c.layer_mape_after < 1e-9);
  CHECK(c.sample_mape_before > 0.1);
  // conv, matmul, elementwise, pooling: forward and backward each; conv in inference too.
  REQUIRE(c.classes.size() == 9);
  CHECK(c.classes[0].op_class == OpClass::conv);
  CHECK(c.classes[0].pass == Pass::forward);
  CHECK(c.classes[0].samples == 2);
  CHECK(c.classes[1].pass == Pass::backward);
  CHECK(c.classes[1].samples == 2);
  CHECK(c.classes[2].pass == Pass::inference);
  CHECK(c.classes[2].samples == 1);
  CHECK(c.after.efficiency_inference[at(OpClass::conv)] == approx(0.55).epsilon(1e-9));
  CHECK(c.after.efficiency_inference[at(OpClass::matmul)] == approx(0.4).epsilon(1e-9));  // the training forward's
  REQUIRE(c.records.size() == 2);
  CHECK(c.records[0].step_after == approx(train.totals.iteration_s).epsilon(1e-9));
}

// By hand. Peak 1 GFLOP/s and bandwidth 1 GB/s, inference at batch 1:
//   conv a: 5e5 MACs, C = 2·5e5 / 1e9 = 1 ms, measured 2.1 ms
//   conv b: 1e6 MACs, C = 2 ms,                measured 4.1 ms
//   relu r: 1e6 bytes, M = 1e6 / 1e9 = 1 ms,   measured 2.6 ms
//   relu s: 2e6 bytes, M = 2 ms,               measured 5.1 ms
// With L = 0.1 ms (on the grid) every ratio agrees: conv (2.1 − 0.1) / 1 =
// (4.1 − 0.1) / 2 = 2 (efficiency 0.5), relu (2.6 − 0.1) / 1 = (5.1 − 0.1) / 2
// = 2.5: 0.4 of the bandwidth. No update times: the memory efficiency keeps
// its default 0.8, and elementwise is 0.4 / 0.8 = 0.5. Every sample exact:
// that L wins.
// Before (conv 0.7, elementwise 1, memory 0.8, L 1 us): a 1/0.7 ms + 1 us.
TEST_CASE("calibrate: two classes by hand") {
  Result r = record("inference", 1);
  r.device_model = DeviceModel{"Slow", "cpu", 1e9, 1e9};
  auto layer = [&](const std::string& name, OpClass c, double macs, double bytes, double measured) {
    LayerResult l;
    l.name = name;
    l.op_class = std::string(op_class_name(c));
    l.work = LayerResult::Work{macs, 0, bytes, 0, 0};
    l.forward_s = measured;
    r.layers.push_back(l);
  };
  layer("a", OpClass::conv, 5e5, 1, 2.1e-3);
  layer("b", OpClass::conv, 1e6, 1, 4.1e-3);
  layer("r", OpClass::elementwise, 0, 1e6, 2.6e-3);
  layer("s", OpClass::elementwise, 0, 2e6, 5.1e-3);
  r.totals.iteration_s = 13.9e-3;
  Calibration c;
  std::string error;
  REQUIRE(calibrate(std::vector<Result>{r}, c, error));
  CHECK(c.after.efficiency[at(OpClass::conv)] == approx(0.5).epsilon(1e-9));
  CHECK(c.after.launch_overhead == 0.1e-3);
  CHECK(c.after.efficiency[at(OpClass::elementwise)] == approx(0.5).epsilon(1e-9));
  CHECK(c.after.memory_efficiency == 0.8);
  // Before: a 1.4296 ms against 2.1 (−31.9 %), b 2.8581 against 4.1, r and s 1.251 and 2.501 ms.
  double a = 1e-3 / 0.7 + 1e-6, b = 2e-3 / 0.7 + 1e-6, rr = 1e-3 / 0.8 + 1e-6, s = 2e-3 / 0.8 + 1e-6;
  double conv_before = ((2.1e-3 - a) / 2.1e-3 + (4.1e-3 - b) / 4.1e-3) / 2;
  double relu_before = ((2.6e-3 - rr) / 2.6e-3 + (5.1e-3 - s) / 5.1e-3) / 2;
  REQUIRE(c.classes.size() == 2);
  CHECK(c.classes[0].mape_before == approx(conv_before));
  CHECK(c.classes[1].mape_before == approx(relu_before));
  CHECK(c.sample_mape_before == approx((conv_before + relu_before) / 2));
  CHECK(c.sample_mape_after < 1e-9);
  CHECK(c.records[0].step_before == approx(a + b + rr + s));
  CHECK(c.records[0].step_after == approx(13.9e-3));
}

// conv a: C = 1 ms measured 0.6 ms (ratio 0.6, weight 1/0.6); conv b: C = 2 ms
// measured 1.1 ms (0.55, weight 1/0.55, more than half the total): the
// weighted median is 0.55, an efficiency of 1/0.55 = 1.82, clamped to 1. Any
// launch overhead only makes the too-slow predictions slower: L = 0.
TEST_CASE("calibrate clamps efficiencies to 1") {
  Result r = record("inference", 1);
  r.device_model = DeviceModel{"Fast", "gpu", 1e9, 1e9};
  for (auto [name, macs, t] : {std::tuple{"a", 5e5, 0.6e-3}, std::tuple{"b", 1e6, 1.1e-3}}) {
    LayerResult l;
    l.name = name;
    l.op_class = "conv";
    l.work = LayerResult::Work{macs, 0, 1, 0, 0};
    l.forward_s = t;
    r.layers.push_back(l);
  }
  Calibration c;
  std::string error;
  REQUIRE(calibrate(std::vector<Result>{r}, c, error));
  CHECK(c.after.efficiency[at(OpClass::conv)] == 1.0);
  CHECK(c.after.launch_overhead == 0.0);
  REQUIRE(c.classes.size() == 1);
  CHECK(c.classes[0].clamped);
  REQUIRE(c.notes.size() == 1);
  CHECK(c.notes[0] == "efficiency_inference.conv: 1.82 clamped to 1 (faster than the device's peak allows)");
  CHECK(c.before.launch_overhead == 5e-6);  // a gpu's default
}

// Update times give the memory efficiency: conv weights of 1e6 B take
// 3e6 B / 1 GB/s = 3 ms at the nominal bandwidth; measured 5 ms: 0.6.
TEST_CASE("calibrate takes the memory efficiency from the SGD updates") {
  Result r = record("training", 1);
  r.device_model = DeviceModel{"Slow", "cpu", 1e9, 1e9};
  LayerResult l;
  l.name = "conv1";
  l.op_class = "conv";
  l.work = LayerResult::Work{5e5, 1e6, 1, 1, 1e6};
  l.forward_s = 2e-3;
  l.backward_s = 4e-3;
  l.update_s = 5e-3;
  r.layers.push_back(l);
  Calibration c;
  std::string error;
  REQUIRE(calibrate(std::vector<Result>{r}, c, error));
  CHECK(c.after.memory_efficiency == approx(0.6).epsilon(1e-9));
  CHECK(c.after.bandwidth_scale == 1.0);
}

TEST_CASE("calibration_problem says why a record cannot be used") {
  Result ok = record("training", 8);
  add_layer(ok, default_roofline("cpu"), "conv1", OpClass::conv, {1e6, 2e6, 1e4, 2e4, 1e3});
  CHECK(calibration_problem(ok) == "");
  Result simulated = ok;
  simulated.source = "simulated";
  CHECK(calibration_problem(simulated) ==
        "not a measured record (\"source\": \"simulated\"): dlc run writes measured ones");
  Result no_model = ok;
  no_model.device_model.reset();
  CHECK(calibration_problem(no_model).starts_with("a measured record without \"device_model\""));
  Result no_work = ok;
  no_work.layers[0].work.reset();
  CHECK(calibration_problem(no_work) == "no layer has \"work\" and \"class\": nothing to fit");
  Result other = ok;
  other.device_model->peak = 2 * kPeak;
  CHECK(calibration_problem(other, &ok, "a.json") ==
        "measured against device model 'Test CPU' (cpu, peak 2e+11 FLOP/s, 1e+10 B/s), but a.json against "
        "'Test CPU' (cpu, peak 1e+11 FLOP/s, 1e+10 B/s): calibrate one device at a time");
  Result half = ok;
  half.precision = "fp16";
  CHECK(calibration_problem(half, &ok, "a.json") ==
        "precision fp16 differs from fp32 of a.json: the peak depends on it, calibrate one precision at a time");
}

TEST_CASE("quantity_text writes values dlc reads back") {
  CHECK(quantity_text(448e9, "FLOP/s") == "448 GFLOP/s");
  CHECK(quantity_text(69e9, "B/s") == "69 GB/s");
  CHECK(quantity_text(1.5e-6, "s") == "1.5 us");
  CHECK(quantity_text(0, "s") == "0 s");
}
