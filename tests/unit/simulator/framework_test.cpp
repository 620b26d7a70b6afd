// Framework profiles, collective latency, matrix engines and prediction
// intervals (simulator/simulate.hpp, parallel.cpp, roofline.hpp,
// interval.hpp) against numbers computed by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <fmt/format.h>
#include <string>

#include "simulator/interval.hpp"
#include "simulator/roofline.hpp"
#include "tests/unit/approx.hpp"
#include "tests/unit/simulator/simulate_spec.hpp"

using namespace dlc;
using dlc::test::approx;

namespace {

// The device, links and model of parallel_test.cpp (simulate_spec.hpp), and
// a framework profile F.
const std::string kSpec = std::string(dlc::test::kUnitsSpec) + "framework F { dispatch = 10 us }\n";

dlc::test::SpecRun simulate(const std::string& experiment) {
  return dlc::test::simulate_spec(kSpec + experiment);
}

compiler::Result run(const std::string& experiment) {
  dlc::test::SpecRun r = simulate(experiment);
  REQUIRE_MESSAGE(r.ok, r.error);
  return r.result;
}

// One fc at 2 samples forward: 2 * 1,048,576 * 2 / 1e13 s.
constexpr double kForward = 0.4194304e-6;

}  // namespace

TEST_CASE("framework: the host's kernel issue hides behind the device's work until it is longer") {
  // Inference at 2 samples: 4 kernels, 4 * 0.42 us on the device, 4 * 10 us on the host.
  compiler::Result r = run("experiment E { model = Units; system = D; batch = 2; phase = inference; framework = F }");
  CHECK(r.totals.iteration_s == approx(40e-6));
  REQUIRE(r.totals.framework_s);
  CHECK(*r.totals.framework_s == approx(40e-6 - 4 * kForward));
  // At 64 samples the device's 4 * 13.4 us are the longer: the host adds nothing.
  compiler::Result big =
      run("experiment E { model = Units; system = D; batch = 64; phase = inference; framework = F }");
  CHECK(big.totals.iteration_s == approx(4 * 32 * kForward));
  CHECK(std::fabs(*big.totals.framework_s) < 1e-15);
  // Without a profile there is no framework share.
  CHECK_FALSE(run("experiment E { model = Units; system = D; batch = 2; phase = inference }").totals.framework_s);
}

TEST_CASE("framework: an experiment's software group overrides its framework's values") {
  compiler::Result r = run("experiment E { model = Units; system = D; batch = 2; phase = inference; framework = F; "
                           "software { dispatch = 20 us } }");
  CHECK(r.totals.iteration_s == approx(80e-6));
}

TEST_CASE("framework: autocast issues a cast of each op's weights per forward, under mixed precision only") {
  // Inference at 2 samples, host-bound: 4 fcs and, with autocast at mixed precision, their 4 weight
  // casts, 10 us each.
  std::string e = "experiment E { model = Units; system = D; batch = 2; phase = inference; framework = F; ";
  CHECK(run(e + "precision = mixed; software { autocast = true } }").totals.iteration_s == approx(80e-6));
  CHECK(run(e + "precision = fp32; software { autocast = true } }").totals.iteration_s == approx(40e-6));
  CHECK(run(e + "precision = mixed }").totals.iteration_s == approx(40e-6));
}

TEST_CASE("framework: training issues a backward kernel per input gradient and per weight gradient") {
  // Forward 4 kernels; backward: layer1 (fed by data) its weight gradient only, layers 2-4 both: 11
  // kernels of 1 us against 11 x 0.42 us of device work and sgd's update (4 x 1,048,576 x 12 B at 1 PB/s).
  compiler::Result r = run("experiment E { model = Units; system = D; batch = 2; framework = F; "
                           "software { dispatch = 1 us; step_overhead = 1 ms; sample_overhead = 5 us } }");
  CHECK(r.totals.iteration_s == approx(11e-6 + 1e-3 + 2 * 5e-6));
}

TEST_CASE("framework: a synchronous step waits for the slowest of N devices") {
  std::string e = "experiment E { model = Units; system = Quad; batch = 2 per device; parallel = data; ";
  double base = run(e + "}").totals.iteration_s;
  compiler::Result r = run(e + "software { jitter = 0.1 } }");
  CHECK(r.totals.iteration_s == approx(base * (1 + 0.1 * std::sqrt(2 * std::log(4.0)))));
  // One device waits for nobody.
  double one = run("experiment E { model = Units; system = D; batch = 2 }").totals.iteration_s;
  CHECK(run("experiment E { model = Units; system = D; batch = 2; software { jitter = 0.1 } }").totals.iteration_s ==
        approx(one));
}

TEST_CASE("collectives: a ring's latency counts every one of its steps, inside nodes and across them (NCCL)") {
  // The gradient all-reduce over the 16 devices of Pair (8 per node, 2 nodes): hierarchical, with
  // 2 (16 - 2) steps inside the nodes and 2 (2 - 1) across. Links: 0 s inside, 2 us across; with a
  // collective latency of 3 us every step costs at least 3 us: 2 * 14 * 3 + 2 * 3 = 90 us against 4 us.
  std::string e = "experiment E { model = Units; system = Pair; batch = 2 per device; parallel = hybrid(data = 16); ";
  double without = run(e + "}").totals.iteration_s;
  double with = run(e + "software { collective_latency = 3 us } }").totals.iteration_s;
  CHECK(with - without == approx(86e-6));
}

TEST_CASE("parallel: ZeRO 3 gathers and reduce-scatters layer by layer, each collective with its latency") {
  // Units(4) on Quad (one node of 4), 8 samples each, mixed precision with Adam. Per microbatch and
  // layer: two all-gathers and a reduce-scatter, each (4 - 1) steps of 5 us: 45 us per layer, 180 us
  // for the four, past the bandwidth terms (1.5 all-reduces of 8,388,608 B over a 10 GB/s ring).
  std::string e = "experiment E { model = Units; system = Quad; batch = 8 per device; precision = mixed; "
                  "optimizer = adam; parallel = data(zero = 3); ";
  const double ring = 2 * 0.75 * 8388608 / 1e10, update = 4194304.0 * 28 / 1e15;
  CHECK(run(e + "}").totals.iteration_s == approx(1.5 * ring + update / 4));
  CHECK(run(e + "software { collective_latency = 5 us } }").totals.iteration_s ==
        approx(1.5 * ring + 180e-6 + update / 4));
}

TEST_CASE("roofline: a precision on the matrix engine starts from the matrix engine's efficiencies") {
  // 80 TFLOPS at fp16 (tensor cores) against 10 at fp32 (vector units); no efficiency given.
  std::string spec = R"(
device T { kind = gpu; peak { fp32 = 10 TFLOPS; fp16 = 80 TFLOPS } memory = 80 GB; memory_bandwidth = 1000 TB/s
           launch_overhead = 0 s }
block unit(x) { return fc(x, 1024, bias = false) }
model One { input x: f32[1024]; x = unit(x, name = "fc"); output x }
)";
  auto forward = [&](const char* precision) {
    dlc::test::SpecRun r = dlc::test::simulate_spec(
        spec + fmt::format("experiment E {{ model = One; system = T; batch = 64; phase = inference; precision = {} }}",
                           precision));
    REQUIRE_MESSAGE(r.ok, r.error);
    return r.result.totals.iteration_s;
  };
  const double flops = 2.0 * 1048576 * 64;
  CHECK(forward("fp16") == approx(flops / (80e12 * simulator::kMatrixEfficiency.matmul)));
  CHECK(forward("fp32") == approx(flops / (10e12 * simulator::kAcceleratorVectorEfficiency.matmul)));
}

TEST_CASE("roofline: a power cap lowers the compute rates by the cube root of its ratio, not the bandwidth") {
  // 1,000 W board power, capped at 512 W: the clock at 0.8 of the peaks' (0.512 = 0.8³).
  std::string device = R"(
device T { kind = gpu; peak { fp32 = 10 TFLOPS } memory = 80 GB; memory_bandwidth = 1 TB/s; launch_overhead = 0 s
           efficiency { matmul = 1.0; memory = 1.0; elementwise = 1.0 } power = 1000 W; %s }
model Fc { input x: f32[1024]; output fc(x, 1024, bias = false) }
model Relu { input x: f32[1048576]; output relu(x) }
)";
  auto step = [&](const char* cap, const char* model) {
    std::string spec = device;
    spec.replace(spec.find("%s"), 2, cap);
    dlc::test::SpecRun r = dlc::test::simulate_spec(
        spec + fmt::format("experiment E {{ model = {}; system = T; batch = 64; phase = inference; "
                           "precision = fp32 }}", model));
    REQUIRE_MESSAGE(r.ok, r.error);
    return r.result;
  };
  const double flops = 2.0 * 1048576 * 64;
  CHECK(step("", "Fc").totals.iteration_s == approx(flops / 10e12));
  compiler::Result capped = step("power_limit = 512 W", "Fc");
  CHECK(capped.totals.iteration_s == approx(flops / (10e12 * 0.8)));
  // A capped board draws its cap: 512 W over the step, per sample of 64.
  REQUIRE(capped.energy_per_sample_j);
  CHECK(*capped.energy_per_sample_j == approx(512 * flops / (10e12 * 0.8) / 64));
  // The memory-bound relu (read and write 4 B per element at 1 TB/s) keeps its time.
  CHECK(step("power_limit = 512 W", "Relu").totals.iteration_s == approx(64 * 1048576 * 8 / 1e12));
  // A cap above the board power changes nothing.
  CHECK(step("power_limit = 2000 W", "Fc").totals.iteration_s == approx(flops / 10e12));
  // Without the board power there is nothing to scale from.
  dlc::test::SpecRun missing = dlc::test::simulate_spec(R"(
device U { kind = gpu; peak { fp32 = 10 TFLOPS } memory = 80 GB; memory_bandwidth = 1 TB/s; power_limit = 500 W }
model Fc { input x: f32[1024]; output fc(x, 1024, bias = false) }
experiment E { model = Fc; system = U; batch = 1; phase = inference; precision = fp32 }
)");
  CHECK_FALSE(missing.ok);
  CHECK(missing.error == "device 'U' gives power_limit but not power: a cap lowers the clock relative to the "
                         "board power its peaks are quoted at");
}

TEST_CASE("roofline: a CPU's vector units keep their own defaults, not an accelerator's") {
  std::string spec = R"(
device C { kind = cpu; peak { fp32 = 10 TFLOPS } memory = 80 GB; memory_bandwidth = 1000 TB/s; launch_overhead = 0 s }
block unit(x) { return fc(x, 1024, bias = false) }
model One { input x: f32[1024]; x = unit(x, name = "fc"); output x }
experiment E { model = One; system = C; batch = 64; phase = inference; precision = fp32 }
)";
  dlc::test::SpecRun r = dlc::test::simulate_spec(spec);
  REQUIRE_MESSAGE(r.ok, r.error);
  CHECK(r.result.totals.iteration_s == approx(2.0 * 1048576 * 64 / (10e12 * 0.8)));
  CHECK(simulator::default_efficiency(compiler::OpClass::conv) == 0.7);
  CHECK(simulator::default_efficiency(compiler::OpClass::conv, false, false, true) ==
        simulator::kAcceleratorVectorEfficiency.conv);
}

TEST_CASE("interval: the workload class of an experiment") {
  compiler::Plan p;
  compiler::PlanOp fc;
  fc.op_class = compiler::OpClass::matmul;
  p.ops.push_back(fc);
  CHECK(simulator::workload_class(p) == "");
  compiler::PlanOp conv;
  conv.op_class = compiler::OpClass::conv;
  p.ops.push_back(conv);
  CHECK(simulator::workload_class(p) == "CNN training");
  p.phase = "inference";
  CHECK(simulator::workload_class(p) == "CNN inference");
  compiler::PlanOp attention;
  attention.op_class = compiler::OpClass::attention;
  p.ops.push_back(attention);
  CHECK(simulator::workload_class(p) == "transformer inference");
  p.system.nodes = 2;
  CHECK(simulator::workload_class(p) == "multi-node scaling");
}

TEST_CASE("interval: the k-th smallest and largest held-out ratios, k = max(1, floor(0.1 (n + 1)))") {
  simulator::ClassInterval five = simulator::interval_from("c", {1.2, 0.8, 1.0, 0.9, 1.1});
  CHECK(five.rows == 5);
  CHECK(five.low == 0.8);
  CHECK(five.high == 1.2);
  std::vector<double> nineteen;
  for (int i = 1; i <= 19; ++i) nineteen.push_back(0.1 * i);
  simulator::ClassInterval c = simulator::interval_from("c", nineteen);
  CHECK(c.low == approx(0.2));
  CHECK(c.high == approx(1.8));
  CHECK(simulator::interval_from("c", {}).rows == 0);
}

TEST_CASE("roofline: a framework's winograd factor speeds up 3 x 3 stride-1 convolutions on vector units only") {
  std::string spec = R"(
device T { kind = gpu; peak { fp32 = 10 TFLOPS; fp16 = 80 TFLOPS } memory = 80 GB; memory_bandwidth = 1000 TB/s
           launch_overhead = 0 s }
model Convs {
  input x: f32[16, 32, 32]
  x = conv(x, 16, kernel = 3, pad = 1, bias = false, name = "c3")
  x = conv(x, 16, kernel = 1, bias = false, name = "c1")
  x = conv(x, 16, kernel = 3, stride = 2, pad = 1, bias = false, name = "c3s2")
  output x
}
)";
  auto forward = [&](const char* precision, const std::string& layer) {
    dlc::test::SpecRun r = dlc::test::simulate_spec(
        spec + fmt::format("experiment E {{ model = Convs; system = T; batch = 8; phase = inference; precision = {}; "
                           "software {{ winograd = 2 }} }}",
                           precision));
    REQUIRE_MESSAGE(r.ok, r.error);
    for (const compiler::LayerResult& l : r.result.layers)
      if (l.name == layer) return l.forward_s;
    FAIL("no layer " << layer);
    return 0.0;
  };
  // c3: 16 x 16 x 9 MACs per output x 1,024 outputs x 8 samples; fp32 on the GPU's vector units at
  // their conv efficiency of 10 TFLOPS, twice as fast with winograd = 2.
  const double c3 = 2.0 * 16 * 16 * 9 * 1024 * 8, vector = simulator::kAcceleratorVectorEfficiency.conv;
  CHECK(forward("fp32", "c3") == approx(c3 / (10e12 * vector * 2)));
  CHECK(forward("fp32", "c1") == approx(c3 / 9 / (10e12 * vector)));
  CHECK(forward("fp32", "c3s2") == approx(c3 / 4 / (10e12 * vector)));
  // On the tensor cores cuDNN runs implicit GEMMs: no speed-up.
  CHECK(forward("fp16", "c3") == approx(c3 / (80e12 * simulator::kMatrixEfficiency.conv)));
}

TEST_CASE("collectives: a framework's collective efficiency divides the links' bandwidth") {
  // The gradient all-reduce of Units(4) in fp32 (16,777,216 B) over Quad's 10 GB/s ring: 2 * 3/4 of
  // it, 2.5165824 ms; at half the bandwidth twice that.
  std::string e = "experiment E { model = Units; system = Quad; batch = 2 per device; parallel = data; ";
  double without = run(e + "}").totals.iteration_s;
  double half = run(e + "software { collective_efficiency = 0.5 } }").totals.iteration_s;
  CHECK(half - without == approx(2 * 0.75 * 16777216 / 1e10));
}

TEST_CASE("roofline: wave quantisation tiles a GEMM's output over the multiprocessors") {
  compiler::PlanOp op;
  op.op = "fc";
  // 128 tokens x 1,024 in, 1,024 out: at 8 samples an m = 1,024 product of 8 x 8 = 64 tiles of
  // 128 x 128, one wave of 108 multiprocessors: 108 x 128² x 1,024 MACs' time for 1,024³ MACs.
  op.gemms = {{128, 1024, 1024, 1, true}};
  simulator::WaveFactors w = simulator::wave_factors(op, 108, simulator::Cost(8));
  CHECK(w.forward.evaluate({}) == approx(108.0 * 16384 * 1024 / (1024.0 * 1024 * 1024)));
  // Backward the data gradient (1,024 x 1,024 out, reducing 1,024) and the weight gradient (the same
  // shape, reducing the 1,024 rows): one wave each as well.
  CHECK(w.backward.evaluate({}) == approx(108.0 * 16384 * 1024 / (1024.0 * 1024 * 1024)));
  // At 1 sample: 1 x 8 tiles on 80 multiprocessors, so split-K into min(floor(80 / 8), 1,024 / 128)
  // = 8: 64 tiles of 128 x 128 x 128, one wave: 80 x 128³ against 128 x 1,024².
  w = simulator::wave_factors(op, 80, simulator::Cost(1));
  CHECK(w.forward.evaluate({}) == approx(80.0 * 128 * 128 * 128 / (128.0 * 1024 * 1024)));
  // A skinny product, 16 rows (a batch of 16) by 2,048 by 2,048, on 80: tiles of 16 x 128, 16 of them,
  // split-K by floor(80 / 16) = 5: one full wave.
  op.gemms = {{1, 2048, 2048, 1, true}};
  CHECK(simulator::wave_factors(op, 80, simulator::Cost(16)).forward.evaluate({}) == approx(1.0));
  // 216 tiles fill exactly two waves of 108: no loss.
  op.gemms = {{128, 27 * 128, 1024, 1, true}};
  CHECK(simulator::wave_factors(op, 108, simulator::Cost(8)).forward.evaluate({}) == approx(1.0));
  // Without multiprocessors (a CPU, a GPU that does not give them), or an op without GEMMs: 1.
  CHECK(simulator::wave_factors(op, 0, simulator::Cost(8)).forward.evaluate({}) == approx(1.0));
  op.gemms.clear();
  CHECK(simulator::wave_factors(op, 108, simulator::Cost(8)).backward.evaluate({}) == approx(1.0));
}

TEST_CASE("roofline: a GPU's multiprocessors slow products that fill a wave only partly") {
  // 10 TFLOPS, 4 multiprocessors: at 1 sample fc(1024) is a 1 x 1,024 product in tiles of 16 rows
  // (the narrowest), 8 of them, split-K by max(1, floor(4 / 8)) = 1: two waves of 4 tiles of
  // 16 x 128 x 1,024 for 1 x 1,024 x 1,024.
  std::string spec = std::string(R"(
device G { kind = gpu; peak { fp32 = 10 TFLOPS } memory = 80 GB; memory_bandwidth = 1000 TB/s
           efficiency { matmul = 1; memory = 1 } launch_overhead = 0 s; cores = 4 }
block unit(x) { return fc(x, 1024, bias = false) }
model One { input x: f32[1024]; x = unit(x, name = "fc"); output x }
)") + "experiment E { model = One; system = G; batch = 1; phase = inference }";
  dlc::test::SpecRun r = dlc::test::simulate_spec(spec);
  REQUIRE_MESSAGE(r.ok, r.error);
  CHECK(r.result.totals.iteration_s == approx(2.0 * 2 * 4 * 16 * 128 * 1024 / 10e12));
}
