// The analytic models against numbers computed by hand from their formulas.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "compiler/checker.hpp"
#include "compiler/plan.hpp"
#include "simulator/collectives.hpp"
#include "simulator/roofline.hpp"
#include "simulator/simulate.hpp"
#include "tests/unit/approx.hpp"
#include "tests/unit/simulator/simulate_spec.hpp"

using namespace dlc;
using namespace dlc::compiler;
using namespace dlc::simulator;
using dlc::test::approx;

namespace {

// One fc layer, [1024] -> [1000]: 1,024,000 MACs and 1,025,000 params per
// sample; forward traffic (1024 + 1000) * 4 = 8,096 B per sample, backward
// the same 8,096 B (its input is data: it reads the input and the output's
// gradient and writes no input gradient); weights 4,100,000 B.
constexpr const char* kHardware = R"(
model FC {
  input x: f32[1024]
  output fc(x, 1000)
}
device D {
  kind = gpu; peak { fp32 = 10 TFLOPS } memory = 16 GB; memory_bandwidth = 100 GB/s
  efficiency { matmul = 1; memory = 1 } launch_overhead = 0 s
}
link L { bandwidth = 10 GB/s; latency = 1 us }
link Net { bandwidth = 5 GB/s; latency = 2 us }
node Box { devices = 8 * D; link = L; network = Net }
cluster Pair { nodes = 2 * Box; network = Net }
)";

using Run = dlc::test::SpecRun;
using dlc::test::simulate_spec;

// An experiment on the hardware above.
Run simulate(const std::string& experiment) { return simulate_spec(std::string(kHardware) + experiment); }

const LayerResult& layer(const Result& r, const std::string& name) {
  for (const LayerResult& l : r.layers)
    if (l.name == name) return l;
  FAIL("no layer " << name);
  return r.layers.front();
}

}  // namespace

TEST_CASE("simulate: roofline of one layer, memory-bound forward") {
  Run run = simulate("experiment E { model = FC; system = D; batch = 64; phase = inference }");
  REQUIRE(run.ok);
  const LayerResult& fc = layer(run.result, "fc1");
  // compute 2 * 1,024,000 * 64 / 1e13 = 13.1072 us; memory (8,096 * 64 + 4,100,000) / 1e11 = 46.18144 us
  CHECK(fc.forward_s == approx(46.18144e-6));
  CHECK(fc.bound == "memory");
  CHECK(fc.backward_s == 0);
  CHECK(run.result.totals.iteration_s == approx(46.18144e-6));
  CHECK(run.result.totals.samples_per_s == approx(64 / 46.18144e-6));
  CHECK(run.result.batch == 64);
}

TEST_CASE("simulate: a training step on one device") {
  Run run = simulate("experiment E { model = FC; system = D; batch = 64 }");
  REQUIRE(run.ok);
  const LayerResult& fc = layer(run.result, "fc1");
  // backward: the weight gradient only (the input is data), compute
  // 2 * 1,024,000 * 64 / 1e13 = 13.1072 us; memory (8,096 * 64 + 2 * 4,100,000) / 1e11 = 87.18144 us
  CHECK(fc.backward_s == approx(87.18144e-6));
  // sgd update: 1,025,000 params * 3 * 4 B / 1e11 = 123 us
  CHECK(fc.update_s == approx(123e-6));
  CHECK(run.result.totals.iteration_s == approx((46.18144 + 87.18144 + 123) * 1e-6));
  CHECK(run.result.totals.comm_s == 0.0);
  // memory: weights 4.1 MB + gradients 4.1 MB + activations kept (x 4,096 B + fc1 4,000 B) * 64
  // + workspace, the largest output (x, 4,096 B) * 64
  CHECK(run.result.totals.memory_per_device_bytes == approx(4.1e6 + 4.1e6 + 8096 * 64 + 4096 * 64));
}

TEST_CASE("simulate: ring all-reduce inside a node") {
  Run run = simulate("experiment E { model = FC; system = Box; batch = 64 per device; parallel = data(allreduce = ring) }");
  REQUIRE(run.ok);
  // w = 4.1 MB over p = 8: 2 * 7/8 * 4.1e6 / 1e10 + 2 * 7 * 1 us = 717.5 + 14 us
  double step = (46.18144 + 87.18144 + 123) * 1e-6;
  CHECK(run.result.totals.comm_s == approx(731.5e-6));
  CHECK(run.result.totals.iteration_s == approx(step + 731.5e-6));
  CHECK(run.result.batch == 512);
}

TEST_CASE("simulate: the cookbook's tree all-reduce") {
  Run run = simulate("experiment E { model = FC; system = Box; batch = 64 per device; parallel = data(allreduce = tree) }");
  REQUIRE(run.ok);
  // 2 * 4.1e6 * log2(8) / 1e10 + 2 * 3 * 1 us = 2,460 + 6 us
  CHECK(run.result.totals.comm_s == approx(2466e-6));
}

TEST_CASE("simulate: hierarchical and parameter-server exchanges across nodes") {
  Run h = simulate("experiment E { model = FC; system = Pair; batch = 8 per device; parallel = data(allreduce = hierarchical) }");
  REQUIRE(h.ok);
  // intra: 2 * 7/8 * 4.1e6 / 1e10 + 2 * 7 * 1 us = 731.5 us; inter (2 nodes): 2 * 1/2 * 4.1e6 / 5e9 + 2 * 2 us = 824 us
  CHECK(h.result.totals.comm_s == approx(731.5e-6 + 824e-6));
  Run ps = simulate("experiment E { model = FC; system = Pair; batch = 8 per device; parallel = data(allreduce = parameter_server) }");
  REQUIRE(ps.ok);
  // 2 * 4.1e6 * 16 / (2 shards * 5e9) + 2 * 2 us = 13,120 + 4 us
  CHECK(ps.result.totals.comm_s == approx(13124e-6));
  Run ring = simulate("experiment E { model = FC; system = Pair; batch = 8 per device; parallel = data(allreduce = ring) }");
  REQUIRE(ring.ok);
  // a flat ring over 16 devices at the slower link (5e9) and latency (2 us): 2 * 15/16 * 4.1e6 / 5e9 + 2 * 15 * 2 us
  CHECK(ring.result.totals.comm_s == approx(2.0 * 15 / 16 * 4.1e6 / 5e9 + 60e-6));
}

TEST_CASE("simulate: overlap hides the exchange behind backward") {
  Run no = simulate("experiment E { model = FC; system = Box; batch = 64 per device; parallel = data(allreduce = ring) }");
  Run yes = simulate(
      "experiment E { model = FC; system = Box; batch = 64 per device; parallel = data(allreduce = ring, overlap = true) }");
  REQUIRE(no.ok);
  REQUIRE(yes.ok);
  // One layer, one bucket: the exchange starts when backward ends, so nothing is hidden here.
  CHECK(yes.result.totals.iteration_s == approx(no.result.totals.iteration_s));
}

TEST_CASE("simulate: strong scaling divides the global batch") {
  Run ok = simulate("experiment E { model = FC; system = Box; batch = 512; scaling = strong }");
  REQUIRE(ok.ok);
  CHECK(ok.result.batch == 512);
  Run bad = simulate("experiment E { model = FC; system = Box; batch = 100; scaling = strong }");
  CHECK_FALSE(bad.ok);
  CHECK(bad.error == "a global batch of 100 does not divide across 8 devices");
}

TEST_CASE("simulate: an experiment that does not fit says by how much") {
  Run run = simulate("experiment E { model = FC; system = D; batch = 10000000 }");
  CHECK_FALSE(run.ok);
  // 8.2 MB + 8,096 B * 1e7 + 4,096 B * 1e7 = 121.93 GB. The knobs are tried: one sample at a time
  // (gradient accumulation) fits; fp16 halves it (61 GB), half the batch too: neither fits.
  CHECK(run.error == "experiment 'E' needs 121.93 GB per device but 'D' has 16.00 GB: 105.93 GB too much; "
                     "each of these fits: microbatch = 1 (0.01 GB)");
  // Weights of 5.12 G parameters (20.5 GB in fp32) fit no knob on one device.
  const std::string huge_model = R"(
model Huge {
  input x: f32[1024]
  output fc(x, 5000000, bias = false)
}
)";
  Run huge = simulate_spec(kHardware + huge_model + "experiment H { model = Huge; system = D; batch = 64; optimizer = adam }");
  CHECK(huge.error.ends_with("; none of these fits on its own: recompute = full, microbatch = 1, "
                             "precision = mixed, batch = 32"));
  // On 8 devices: ZeRO 3 shards the 82 GB of state but gathers the one 20.5 GB layer whole (twice, with
  // the prefetch): no; tensor parallelism splits the layer: 8 ways fit (2 and 4 were tried first).
  Run spread =
      simulate_spec(kHardware + huge_model + "experiment H { model = Huge; system = Box; batch = 64; optimizer = adam }");
  CHECK(spread.error.ends_with("66.24 GB too much; each of these fits: tensor = 8 (10.56 GB)"));
}

namespace {

// n = 2000: a [2000] -> [2000] fc on a batch of 2000 (M = K = N = n) with
// SUMMA on `devices` devices, on links of 10 GB/s; `software` adds to the experiment.
Run square_summa(int devices, const std::string& software = "") {
  return simulate_spec(R"(
model Square {
  input x: f32[2000]
  output fc(x, 2000, bias = false)
}
device G { kind = gpu; peak { fp32 = 15 TFLOPS } memory = 80 GB; memory_bandwidth = 1000 TB/s
           efficiency { matmul = 1; memory = 1 } launch_overhead = 0 s }
link L { bandwidth = 10 GB/s; latency = 0 s }
node N { devices = )" + std::to_string(devices) + R"( * G; link = L }
experiment E { model = Square; system = N; batch = 2000; phase = inference; parallel = model(scheme = summa)
)" + software + "\n}\n");
}

}  // namespace

TEST_CASE("simulate: SUMMA splits fc layers across the devices") {
  Run run = square_summa(4);
  REQUIRE(run.ok);
  const LayerResult& fc = layer(run.result, "fc1");
  // compute 2 n^3 / (p^2 γ) = 2 * 8e9 / (4 * 15e12) = 266.7 us;
  // data 2 n^2 * 4 / (p β) = 2 * 4e6 * 4 / (2 * 1e10) = 1.6 ms: communication-bound
  CHECK(fc.forward_s == approx(1.6e-3));
  CHECK(fc.bound == "communication");
  // The panels' movement past the compute is the step's communication.
  CHECK(run.result.totals.compute_s == approx(2 * 8e9 / (4 * 15e12)));
  CHECK(run.result.totals.comm_s == approx(1.6e-3 - 2 * 8e9 / (4 * 15e12)));
}

TEST_CASE("simulate: model parallelism spreads only the split layers' weights") {
  // fc (1,048,576 params) is split; layernorm (2,048 params) is whole on every
  // device. From one device to four, the memory per device drops by the fc's
  // weights times 3/4: 1,048,576 * 4 B * 3/4 = 3,145,728 B (activations are the same).
  auto memory = [](const char* devices) {
    Run run = simulate_spec(fmt::format(R"(
model M {{
  input x: f32[1024]
  output layernorm(fc(x, 1024, bias = false))
}}
device G {{ kind = gpu; peak {{ fp32 = 15 TFLOPS }} memory = 80 GB; memory_bandwidth = 1 TB/s }}
link L {{ bandwidth = 10 GB/s; latency = 0 s }}
node N {{ devices = {} * G; link = L }}
experiment E {{ model = M; system = N; batch = 8; phase = inference; parallel = model(scheme = summa) }}
)", devices));
    REQUIRE(run.ok);
    return run.result.totals.memory_per_device_bytes;
  };
  CHECK(memory("1") - memory("4") == approx(3145728));
}

TEST_CASE("simulate: a SUMMA layer pays the framework's per-layer overhead like any other") {
  // The square fc above, on one device's memory (β = 1000 TB/s, data negligible
  // against compute 2 n^3 / γ = 1.0667 ms), plus a framework overhead of 10 us.
  Run run = square_summa(1, "software { overhead = 10 us }");
  REQUIRE(run.ok);
  const LayerResult& fc = layer(run.result, "fc1");
  // data: (2000 * 2000 + 4e6) * 4 B / 1e15 B/s = 32 ns
  CHECK(fc.forward_s == approx(2 * 8e9 / 15e12 + 10e-6));
}

TEST_CASE("simulate: gradient buckets overlap the exchange with backward") {
  Run run = simulate(R"(
model Two {
  input x: f32[1024]
  output fc(relu(fc(x, 1024)), 1000)
}
experiment E { model = Two; system = Box; batch = 64 per device; parallel = data(allreduce = ring, overlap = true, bucket = 1 B) }
)");
  REQUIRE(run.ok);
  const Result& r = run.result;
  const LayerResult& fc1 = layer(r, "fc1");
  const LayerResult& relu = layer(r, "relu1");
  const LayerResult& fc2 = layer(r, "fc2");
  auto ring = [](double w) { return 2.0 * 7 / 8 * w / 1e10 + 14e-6; };  // 8 devices on L
  double w1 = (1024.0 * 1024 + 1024) * 4, w2 = (1024.0 * 1000 + 1000) * 4;
  // Buckets of one layer each, last layer first: fc2's exchange starts when its
  // backward is done; fc1's when relu's and its own are done and fc2's is over.
  double ready2 = fc2.backward_s;
  double done2 = ready2 + ring(w2);
  double ready1 = fc2.backward_s + relu.backward_s + fc1.backward_s;
  double done1 = std::max(done2, ready1) + ring(w1);
  double forward = fc1.forward_s + relu.forward_s + fc2.forward_s;
  double backward = ready1;
  double update = fc1.update_s + fc2.update_s;
  CHECK(r.totals.iteration_s == approx(forward + std::max(backward, done1) + update));
  // Without overlap the whole exchange follows backward.
  CHECK(r.totals.iteration_s < forward + backward + ring(w1 + w2) + update);
}

TEST_CASE("simulate: tensor parallelism splits fc layers and all-reduces the row-parallel outputs") {
  Run run = simulate(R"(
model Two {
  input x: f32[1024]
  output fc(relu(fc(x, 1024)), 1000)
}
experiment E { model = Two; system = Box; batch = 64; phase = inference; parallel = model(scheme = tensor) }
)");
  REQUIRE(run.ok);
  // fc1 (column-parallel): its forward roofline over 8 devices, no exchange.
  // compute 2 * 1,048,576 * 64 / 1e13 / 8 = 1.68 us; memory ((1024 + 1024) * 4 * 64
  // + 4,198,400) / 1e11 / 8 = 4,722,688 / 8e11 = 5.90336 us
  CHECK(layer(run.result, "fc1").forward_s == approx(5.90336e-6));
  // fc2 (row-parallel): memory ((1024 + 1000) * 4 * 64 + 4,100,000) / 1e11 / 8 = 5.77268 us, plus a
  // ring all-reduce of its output, 64 * 1000 * 4 = 256,000 B: 2 * 7/8 * 256,000 / 1e10 + 14 * 1 us
  CHECK(layer(run.result, "fc2").forward_s == approx(5.77268e-6 + 44.8e-6 + 14e-6));
  CHECK(layer(run.result, "fc2").bound == "communication");
}

// Korthikanti et al. 2022, section 4: a transformer layer keeps
// s·b·h·(34 + 5·a·s/h) bytes of activations in fp16, and with t-way tensor
// parallelism s·b·h·(10 + 24/t + 5·a·s/(h·t)): Q, K, V, the context, the
// softmax scores, the first fc's output and the GELU's are split; the layer
// norms and the residual stream are whole. dlc's layer has no dropout (no
// masks, no dropped scores: 2 + 3·a·s/(h·t) less) and keeps the attention's
// and the second fc's outputs (4 more), so it keeps s·b·h·(12 + 24/t +
// 2·a·s/(h·t)) bytes, plus the model's input (2·s·b·h).
TEST_CASE("simulate: tensor parallelism splits the split layers' activations (Korthikanti et al. 2022)") {
  // s = 8 tokens, h = 16, a = 2 heads (a·s/h = 1), batch b = 4, fp16, sgd.
  std::string layer = R"(
model Layer {
  input x: f32[8, 16]
  x = add(x, attention(layernorm(x), 2, causal = true))
  output add(x, fc(gelu(fc(layernorm(x), 64)), 16))
}
node Quad { devices = 4 * D; link = L }
)";
  Run one = simulate(layer + "experiment E { model = Layer; system = D; batch = 4; precision = fp16 }");
  Run tp = simulate(layer + "experiment E { model = Layer; system = Quad; batch = 4; precision = fp16; "
                            "parallel = model(scheme = tensor) }");
  REQUIRE(one.ok);
  REQUIRE(tp.ok);
  // Parameters: layernorms 2 * 32, attention 4 * 16² + 4 * 16 = 1,088, fc1 16 * 64 + 64 = 1,088,
  // fc2 64 * 16 + 16 = 1,040: 3,280; the largest output (fc1's, 8 * 64 * 2 B) makes the workspace,
  // 1,024 B * 4 = 4,096 B.
  // One device: weights and gradients 3,280 * 2 B each; activations s·b·h·(12 + 24 + 2) + 2·s·b·h
  // = 512 * 38 + 1,024 = 20,480 B.
  CHECK(one.result.totals.memory_per_device_bytes == approx(6560 + 6560 + 20480 + 4096));
  // t = 4: attention and both fcs split, (1,088 + 1,088 + 1,040) / 4 + 64 = 868 parameters, 1,736 B
  // each for weights and gradients; activations s·b·h·(12 + 24/4 + 2/4) + 2·s·b·h = 512 * 18.5 + 1,024
  // = 10,496 B (without the split: 20,480 B).
  CHECK(tp.result.totals.memory_per_device_bytes == approx(1736 + 1736 + 10496 + 4096));
}

TEST_CASE("simulate: normalisations run on the vector units, fc layers on the tensor engine") {
  // A100-like: 312 TFLOPS bf16 on tensor cores, 39 on the vector units (its data sheet's figures);
  // bandwidth high enough that both layers are compute-bound.
  Run run = simulate_spec(R"(
model NormFc {
  input x: f32[1024]
  output fc(layernorm(x), 1024, bias = false)
}
device T {
  kind = gpu; peak { bf16 = 312 TFLOPS } vector { bf16 = 39 TFLOPS } memory = 80 GB
  memory_bandwidth = 1000 TB/s; efficiency { matmul = 1; normalization = 1; memory = 1 } launch_overhead = 0 s
}
experiment E { model = NormFc; system = T; batch = 1000; precision = bf16; phase = inference }
)");
  REQUIRE_MESSAGE(run.ok, run.error);
  // layernorm: 1,024 MACs per sample, 2 * 1,024 * 1,000 / 39e12
  CHECK(layer(run.result, "layernorm1").forward_s == approx(2 * 1024 * 1000 / 39e12));
  CHECK(layer(run.result, "layernorm1").bound == "compute");
  // fc: 1,048,576 MACs per sample on the tensor cores
  CHECK(layer(run.result, "fc1").forward_s == approx(2 * 1048576.0 * 1000 / 312e12));
}

TEST_CASE("simulate: fp16 and bf16 run at their own rate where a device gives both") {
  // The A100's vector units (its data sheet): fp16 78 TFLOPS, bf16 39; its tensor cores 312 for both.
  compiler::PlanDevice a100;
  a100.peak = {{"fp32", 19.5e12}, {"fp16", 312e12}, {"bf16", 312e12}};
  a100.vector_peak = {{"fp32", 19.5e12}, {"fp16", 78e12}, {"bf16", 39e12}};
  CHECK(vector_peak_at(a100, "bf16") == 39e12);
  CHECK(vector_peak_at(a100, "fp16") == 78e12);
  CHECK(vector_peak_at(a100, "mixed") == 78e12);  // mixed precision: the faster half type
  CHECK(peak_at(a100, "bf16") == 312e12);
  // A device with one half type runs the other at it (the V100 has no bf16).
  compiler::PlanDevice v100;
  v100.peak = {{"fp32", 15.7e12}, {"fp16", 125e12}};
  CHECK(peak_at(v100, "bf16") == 125e12);
  CHECK(vector_peak_at(v100, "bf16") == 0);  // no vector group: the caller falls back to peak
}

TEST_CASE("simulate: a ReLU after a convolution runs in place: its input is not kept twice") {
  // conv output [4, 8, 8] in fp32: 1,024 B per sample. A sigmoid in its place needs both tensors.
  auto memory = [](const std::string& activation, const std::string& parallel) {
    Run run = simulate_spec(std::string(kHardware) + R"(
model C {
  input x: f32[3, 8, 8]
  y = )" + activation + R"((conv(x, 4, kernel = 3, pad = 1))
  output fc(flatten(y), 2)
}
experiment E { model = C; system = D; batch = 16; )" + parallel + " }\n");
    REQUIRE_MESSAGE(run.ok, run.error);
    return run.result.totals.memory_per_device_bytes;
  };
  CHECK(memory("sigmoid", "") - memory("relu", "") == approx(1024 * 16));
  CHECK(memory("sigmoid", "parallel = data(zero = 0)") - memory("relu", "parallel = data(zero = 0)") ==
        approx(1024 * 16));
}

TEST_CASE("simulate: dropout costs nothing at inference, its mask and pass in training") {
  auto dropout_time = [](const std::string& phase) {
    Run run = simulate_spec(std::string(kHardware) + R"(
model Drop {
  input x: f32[1024]
  output dropout(fc(x, 1000), rate = 0.1)
}
experiment E { model = Drop; system = D; batch = 64; phase = )" + phase + " }\n");
    REQUIRE_MESSAGE(run.ok, run.error);
    return layer(run.result, "dropout1").forward_s;
  };
  CHECK(dropout_time("inference") == 0);
  // Training: it reads the fc's output and writes its own, 2 * 1000 * 4 B * 64 at 100 GB/s.
  CHECK(dropout_time("training") == approx(2 * 1000 * 4 * 64 / 1e11));
}
