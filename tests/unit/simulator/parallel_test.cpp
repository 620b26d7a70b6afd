// The hybrid-parallel engine (simulator/parallel.hpp) against numbers
// computed by hand: pipeline bubbles and in-flight memory, ZeRO's memory and
// traffic, recomputation (Korthikanti et al. 2022), tensor and data groups
// placed on the links they cross, and the layout's errors.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <string>

#include "tests/unit/approx.hpp"
#include "tests/unit/simulator/simulate_spec.hpp"

using namespace dlc;
using dlc::test::approx;

namespace {

constexpr const char* kSpec = dlc::test::kUnitsSpec;

using Run = dlc::test::SpecRun;
Run simulate(const std::string& experiment) { return dlc::test::simulate_spec(std::string(kSpec) + experiment); }

const compiler::LayerResult& layer(const compiler::Result& r, const std::string& name) {
  for (const compiler::LayerResult& l : r.layers)
    if (l.name == name) return l;
  FAIL("no layer " << name);
  return r.layers.front();
}

// One fc at 2 samples: 2 * 1,048,576 * 2 / 1e13 s forward; backward twice
// that (the first layer, fed by data, computes no input gradient: once).
constexpr double kForward = 0.4194304e-6, kBackward = 0.8388608e-6;
// Its output at 2 samples, 8,192 B, over a 10 GB/s link.
constexpr double kSend = 0.8192e-6;
// sgd in fp32 reads and writes 12 B per parameter at 1 PB/s.
constexpr double kUpdate = 1048576 * 12 / 1e15;

// Two pre-norm transformer layers over 8 tokens of 16 features, 2 heads.
constexpr const char* kTwoLayers = R"(
block tlayer(x) {
  x = add(x, attention(layernorm(x), 2, causal = true))
  return add(x, fc(gelu(fc(layernorm(x), 64)), 16))
}
model TL {
  input x: f32[8, 16]
  repeat layer in 1..=2 { x = tlayer(x, name = "") }
  output x
}
)";

}  // namespace

TEST_CASE("parallel: a 1F1B pipeline's step is m stages of the slowest plus the bubble") {
  Run run = simulate("experiment E { model = Units; system = Quad; batch = 16; microbatch = 2; "
                     "parallel = hybrid(pipeline = 4) }");
  REQUIRE_MESSAGE(run.ok, run.error);
  // Stage s holds layer s+1. Forward: its fc and sending its output on (not the last);
  // backward: its fc and sending the gradient back (not the first).
  double s0 = kForward + kSend + kForward;                 // layer1: no input gradient
  double s1 = kForward + kSend + kBackward + kSend;        // and s2
  double s3 = kForward + kBackward + kSend;
  double mean = (s0 + 2 * s1 + s3) / 4;
  // m = 16 / (1 x 2) = 8 microbatches: m * max S + (p - 1) * mean S, then one update per stage.
  CHECK(run.result.totals.iteration_s == approx(8 * s1 + 3 * mean + kUpdate));
  CHECK(run.result.totals.iteration_s == approx(30.3202304e-6 + kUpdate));
  // Per layer and step: 8 microbatches of its forward (with its send).
  CHECK(layer(run.result, "layer2.fc1").forward_s == approx(8 * (kForward)));
  CHECK(layer(run.result, "layer2.fc1").backward_s == approx(8 * kBackward));
  // Memory: one fc's weights and gradients (8 MiB), the first stage's 4 microbatches in flight of its
  // kept outputs (x and layer1's, 8,192 B per sample, at 2 samples) and a workspace of one output.
  CHECK(run.result.totals.memory_per_device_bytes == approx(8388608 + 4 * 2 * 8192 + 2 * 4096));
}

TEST_CASE("parallel: GPipe keeps every microbatch in flight, 1F1B the stages ahead") {
  Run gpipe = simulate("experiment E { model = Units; system = Quad; batch = 16; microbatch = 2; "
                       "parallel = hybrid(pipeline = 4, schedule = gpipe) }");
  Run f1b1 = simulate("experiment E { model = Units; system = Quad; batch = 16; microbatch = 2; "
                      "parallel = hybrid(pipeline = 4, schedule = one_f_one_b) }");
  REQUIRE(gpipe.ok);
  REQUIRE(f1b1.ok);
  CHECK(gpipe.result.totals.iteration_s == approx(f1b1.result.totals.iteration_s));  // the same bubble
  CHECK(gpipe.result.totals.memory_per_device_bytes == approx(8388608 + 8 * 2 * 8192 + 2 * 4096));
}

TEST_CASE("parallel: the interleaved schedule divides the bubble by the chunks per device") {
  Run run = simulate("experiment E { model = Units; system = Duo; batch = 16; microbatch = 2; "
                     "parallel = hybrid(pipeline = 2, schedule = interleaved, virtual = 2) }");
  REQUIRE_MESSAGE(run.ok, run.error);
  // Chunks [x, layer1] [layer2] [layer3] [layer4] on stages 0 1 0 1: every cut crosses between the two.
  double s0 = 2 * kForward + 2 * kSend + kForward + kBackward + kSend;  // layer1 and layer3
  double s1 = 2 * kForward + kSend + 2 * kBackward + 2 * kSend;         // layer2 and layer4
  // m = 8: m * max S + (p - 1)/v * mean S
  CHECK(run.result.totals.iteration_s == approx(8 * s1 + 0.5 * (s0 + s1) / 2 + 2 * kUpdate));
  CHECK(run.result.totals.iteration_s == approx(42.1756928e-6 + 2 * kUpdate));
  // The first stage holds p + (p - 1)/v = 2.5 microbatches of its chunks' outputs (x, layer1, layer3).
  CHECK(run.result.totals.memory_per_device_bytes == approx(2 * 8388608 + 2.5 * 2 * 3 * 4096 + 2 * 4096));
}

namespace {
// Units(4) on the 4 devices of Quad, 8 samples each, mixed precision with Adam, ZeRO at `stage`.
compiler::Result zero_run(int stage) {
  Run run = simulate(fmt::format("experiment E {{ model = Units; system = Quad; batch = 8 per device; "
                                 "precision = mixed; optimizer = adam; parallel = data(zero = {}) }}",
                                 stage));
  REQUIRE_MESSAGE(run.ok, run.error);
  return run.result;
}
}  // namespace

TEST_CASE("parallel: ZeRO shards the optimizer state, the gradients, then the weights") {
  // Ψ = 4,194,304 parameters in mixed precision with Adam: 2 B weights, 2 B gradients, 4 B master
  // copy and 8 B moments (16 B each), over 4 replicas. Activations: x and four outputs of 2 KiB
  // per sample, 8 samples per device (81,920 B); workspace one output (16,384 B).
  auto memory = [](int zero) { return zero_run(zero).totals.memory_per_device_bytes - 81920 - 16384; };
  const double psi = 4194304;
  CHECK(memory(0) == approx(16 * psi));
  CHECK(memory(1) == approx(4 * psi + 12 * psi / 4));
  CHECK(memory(2) == approx(2 * psi + 14 * psi / 4));
  // Stage 3: everything sharded, plus two layers' gathered weights (the one running and the next).
  CHECK(memory(3) == approx(16 * psi / 4 + 2 * 1048576 * 2));
}

TEST_CASE("parallel: ZeRO's traffic: an all-reduce's worth per step, 1.5x per microbatch at stage 3") {
  auto step = [](int zero) { return zero_run(zero).totals.iteration_s; };
  // Gradients (and weights) of 4,194,304 parameters in 2 B: 8,388,608 B; a ring over 4 devices at
  // 10 GB/s moves 2 * 3/4 of it: 1.2582912 ms.
  const double ring = 2 * 0.75 * 8388608 / 1e10;
  // Compute at 8 samples: 4 fcs forward (2 * 1,048,576 * 8 / 1e13 each), backward 3 x 2 + 1.
  const double compute = 4 * 1.6777216e-6 + 7 * 1.6777216e-6;
  // mixed-precision Adam's update reads and writes 4 + 4 + 2 + 2 + 16 B per parameter
  const double update = 4194304.0 * 28 / 1e15;
  CHECK(step(0) == approx(compute + ring + update));
  // Reduce-scatter of the gradients and all-gather of the weights: the same bytes; the update 1/4.
  CHECK(step(1) == approx(compute + ring + update / 4));
  // Stage 3: weights gathered forward and backward, gradients reduce-scattered, per microbatch,
  // overlapped with its compute.
  CHECK(step(3) == approx(1.5 * ring + update / 4));
}

TEST_CASE("parallel: overlapped, ZeRO 1's gradients hide behind the last backward, its gathers behind the first forward") {
  // zero_run's step (compute + ring + update / 4) less what overlaps: half the ring's bytes
  // reduce-scattered beside the backward (7 fcs at 8 samples), half gathered beside the forward (4).
  Run run = simulate("experiment E { model = Units; system = Quad; batch = 8 per device; precision = mixed; "
                     "optimizer = adam; parallel = data(zero = 1, overlap = true) }");
  REQUIRE_MESSAGE(run.ok, run.error);
  const double ring = 2 * 0.75 * 8388608 / 1e10, fc = 1.6777216e-6, update = 4194304.0 * 28 / 1e15;
  CHECK(run.result.totals.iteration_s == approx(11 * fc + (ring / 2 - 7 * fc) + (ring / 2 - 4 * fc) + update / 4));
}

TEST_CASE("parallel: tensor_overlap pipelines a tensor collective with its op's GEMMs in t chunks") {
  // As "tensor groups stay in a node" below: fc2 of each layer pair all-reduces its output, 5.7344 us
  // against 0.2097152 us of GEMM: overlapped in 8 chunks it adds comm + fc / 8 - fc to the fc.
  Run run = simulate("experiment E { model = Units; system = Pair; batch = 16; "
                     "parallel = hybrid(tensor = 8, tensor_overlap = true) }");
  REQUIRE_MESSAGE(run.ok, run.error);
  double fc = 2 * 1048576 * 8 / 1e13 / 8, comm = 2 * 0.875 * 32768 / 1e10;
  CHECK(layer(run.result, "layer2.fc1").forward_s == approx(comm + fc / 8));
  CHECK(layer(run.result, "layer1.fc1").forward_s == approx(fc));
  // On a device 1,000 times slower the GEMM is the longer: only the last chunk's exchange shows.
  Run slow = simulate("device Slow : D { peak { fp32 = 10 GFLOPS } }\n"
                      "node Box2 { devices = 8 * Slow; link = L; network = Net }\n"
                      "cluster Pair2 { nodes = 2 * Box2; network = Net }\n"
                      "experiment E { model = Units; system = Pair2; batch = 16; "
                      "parallel = hybrid(tensor = 8, tensor_overlap = true) }");
  REQUIRE_MESSAGE(slow.ok, slow.error);
  CHECK(layer(slow.result, "layer2.fc1").forward_s == approx(1000 * fc + comm / 8));
}

TEST_CASE("parallel: gradient accumulation runs m microbatches before one exchange") {
  Run run = simulate("experiment E { model = Units; system = Quad; batch = 32 per device; microbatch = 2; "
                     "parallel = data(zero = 0) }");
  REQUIRE_MESSAGE(run.ok, run.error);
  // 16 microbatches of the four layers (forward 4 x, backward 7 x kForward), one fp32 all-reduce of
  // 16 MiB of gradients over 4 devices (2 * 3/4 * 16,777,216 / 1e10), one update.
  double compute = 16 * 11 * kForward;
  CHECK(run.result.totals.iteration_s == approx(compute + 2 * 0.75 * 16777216 / 1e10 + 4 * kUpdate));
  CHECK(run.result.totals.memory_per_device_bytes == approx(4 * 8388608 + 2 * 5 * 4096 + 2 * 4096));
}

TEST_CASE("parallel: tensor groups stay in a node, data groups cross the network") {
  // 2 nodes of 8: tensor 8 inside each node over L, data 2 across the nodes over Net.
  Run run = simulate("experiment E { model = Units; system = Pair; batch = 16; parallel = hybrid(tensor = 8) }");
  REQUIRE_MESSAGE(run.ok, run.error);
  // 8 samples per replica. fc1 column-parallel, fc2 row-parallel (its input is split): fc2
  // all-reduces its 8 x 4,096 B output over the 8 devices of its node: 2 * 7/8 * 32,768 / 1e10.
  double fc = 2 * 1048576 * 8 / 1e13 / 8;
  CHECK(layer(run.result, "layer2.fc1").forward_s == approx(fc + 2 * 0.875 * 32768 / 1e10));
  CHECK(layer(run.result, "layer1.fc1").forward_s == approx(fc));
  // The gradient all-reduce: each device's 1/8 of 4 fcs in fp32 (2,097,152 B) with its counterpart in
  // the other node, at its share of the node's port (5 GB/s / 8), plus 2 x 2 us of latency.
  double exchange = 2 * 0.5 * 2097152 / (5e9 / 8) + 2 * 2e-6;
  // Backward: layer1 (fed by data) computes no input gradient, so neither needs nor all-reduces one;
  // layer3 (column-parallel) all-reduces its input's gradient.
  double backward = fc + 3 * (2 * fc) + 2 * 0.875 * 32768 / 1e10;
  double forward = 4 * fc + 2 * (2 * 0.875 * 32768 / 1e10);
  CHECK(run.result.totals.iteration_s == approx(forward + backward + exchange + 4 * kUpdate / 8));
}

TEST_CASE("parallel: sequence parallelism and recomputation keep Korthikanti et al.'s activations") {
  // s = 8 tokens, h = 16, a = 2 heads (a·s/h = 1), b = 4 sequences, fp16. Without parallelism a
  // layer keeps s·b·h·(12 + 24 + 2·a·s/h) = 512 * 38 B (simulate_test.cpp), plus its input.
  const std::string layers = kTwoLayers;
  auto activations = [&](const std::string& system, const std::string& parallel, const std::string& recompute) {
    Run run = simulate(layers + fmt::format("experiment E {{ model = TL; system = {}; batch = 4; precision = fp16; "
                                            "parallel = {}; recompute = {} }}",
                                            system, parallel, recompute));
    REQUIRE_MESSAGE(run.ok, run.error);
    return run.result.totals.memory_per_device_bytes;
  };
  double one = activations("D", "hybrid(tensor = 1)", "none");
  // Full recomputation keeps each layer's input (the model's input and layer1's output, 8 * 16 * 2 B
  // per sequence) and one layer's activations while it is recomputed: of 2 * 19,456 + 1,024 B, 1,024
  // + 1,024 + 19,456 remain.
  double full = activations("D", "hybrid(tensor = 1)", "full");
  CHECK(one - full == approx(2 * 19456 + 1024 - (1024 + 1024 + 19456)));
  // Selective recomputation drops the probabilities, a·s²·2 B per sequence: 2 * 64 * 2 * 4 per layer.
  double selective = activations("D", "hybrid(tensor = 1)", "selective");
  CHECK(one - selective == approx(2 * 1024));
  // Tensor parallelism over 2 with sequence parallelism divides every activation by 2 (Korthikanti's
  // sbh·(34/t + 5as/(ht))): the probabilities too. Full recomputation then keeps half of each input.
  double tp_sp = activations("Duo", "hybrid(tensor = 2, sequence = true)", "none");
  double tp_sp_selective = activations("Duo", "hybrid(tensor = 2, sequence = true)", "selective");
  double tp_sp_full = activations("Duo", "hybrid(tensor = 2, sequence = true)", "full");
  CHECK(tp_sp - tp_sp_selective == approx(2 * 1024 / 2.0));
  CHECK(tp_sp - tp_sp_full == approx((2 * 19456 + 1024 - (1024 + 1024 + 19456)) / 2.0));
  // Without sequence parallelism the layer norms', the residual adds', the attention's and the second
  // fc's outputs and the input stay whole: of a layer's 19,456 B, s·b·h·12 = 6,144 B (and the
  // input's 1,024), as simulate_test.cpp's s·b·h·(12 + 24/t + 2·a·s/(h·t)).
  double tp = activations("Duo", "hybrid(tensor = 2)", "none");
  CHECK(tp - tp_sp == approx((2 * 6144 + 1024) / 2.0));
  // Op-level recomputation (torchtitan's policy) keeps, per layer and sequence, attention's Q and V
  // (products 1 and 3: 128 elements each), its context and probabilities (128 + 2 * 64) and fc1's
  // output (product 5: 512); K (2), the output projection (4) and fc2 (6) run again, as do the norms,
  // gelu and the adds: 1,024 elements, 2,048 B, 8,192 B for 4 sequences. Each layer's input is kept
  // as under full recomputation, and what one layer recomputes (19,456 - 8,192 B) while it runs.
  double ops = activations("D", "hybrid(tensor = 1)", "ops");
  CHECK(one - ops == approx(2 * 19456 + 1024 - (1024 + 1024 + 2 * 8192 + (19456 - 8192))));
}

TEST_CASE("parallel: op-level recomputation keeps a mixture of experts' output as one product's") {
  // Two layers of add(x, moe(layernorm(x))) over [8, 16] in fp16, one sequence: the moe is each
  // layer's first product, kept; the norm's and the add's outputs (128 elements each) are recomputed.
  // Without recomputation each layer keeps 2 x 128 elements more; with it the second layer's input
  // (128) is kept and one layer's recomputed 256 live while it runs: 2 * 256 - 128 - 256 = 128
  // elements, 256 B, fewer.
  std::string spec = R"(
block mlayer(x) { return add(x, moe(layernorm(x), 4, 2, 32)) }
model M {
  input x: f32[8, 16]
  repeat layer in 1..=2 { x = mlayer(x, name = "") }
  output x
}
)";
  auto memory = [&](const char* recompute) {
    Run run = simulate(spec + fmt::format("experiment E {{ model = M; system = D; batch = 1; precision = fp16; "
                                          "parallel = hybrid(tensor = 1); recompute = {} }}",
                                          recompute));
    REQUIRE_MESSAGE(run.ok, run.error);
    return run.result.totals.memory_per_device_bytes;
  };
  CHECK(memory("none") - memory("ops") == approx(256));
}

TEST_CASE("parallel: op-level recomputation runs every other product and the ops between them again") {
  const std::string spec = kTwoLayers;
  auto flops = [&](const char* recompute) {
    Run run = simulate(spec + fmt::format("experiment E {{ model = TL; system = D; batch = 4; precision = fp16; "
                                          "parallel = hybrid(tensor = 1); recompute = {} }}",
                                          recompute));
    REQUIRE_MESSAGE(run.ok, run.error);
    return run.result.utilisation->hardware_flops_per_step;
  };
  // Per layer and sequence: attention's K and output projections (8 tokens x 16 x 16 MACs each), fc2
  // (8 x 64 x 16) and the two layer norms (N = 128 MACs each, docs/language.md), over 2 layers and 4
  // sequences, 2 FLOPs per MAC.
  CHECK(flops("ops") - flops("none") == approx(2.0 * 4 * 2 * (2048 + 2048 + 8192 + 2 * 128)));
}

TEST_CASE("parallel: the layout's errors say which product is wrong") {
  Run run = simulate("experiment E { model = Units; system = Pair; batch = 16; "
                     "parallel = hybrid(tensor = 8, pipeline = 2, data = 2) }");
  CHECK_FALSE(run.ok);
  CHECK(run.error == "tensor 8 x pipeline 2 x data 2 = 32 devices, but 'Pair' has 16 (2 nodes of 8)");
  run = simulate("experiment E { model = Units; system = Pair; batch = 16; parallel = hybrid(tensor = 3) }");
  CHECK(run.error == "tensor 3 x pipeline 1 = 3 devices do not divide the 16 devices of 'Pair'");
  run = simulate("experiment E { model = Units; system = Pair; batch = 16; parallel = hybrid(tensor = 16) }");
  CHECK(run.ok);  // two whole nodes
  run = simulate("experiment E { model = Units; system = Quad; batch = 2 per device; parallel = hybrid(tensor = 2) }");
  CHECK(run.error == "batch 2 per device is ambiguous when a model replica spans 2 devices (tensor 2 x pipeline 1): "
                     "write the global batch (batch = 4)");
  run = simulate("experiment E { model = Units; system = Quad; batch = 10; microbatch = 4; "
                 "parallel = hybrid(pipeline = 2) }");
  CHECK(run.error == "a global batch of 10 does not split into microbatches of 4 over 2 data-parallel replicas "
                     "(10 / (2 x 4) = 1.25); make the batch a multiple of 8");
  run = simulate("experiment E { model = Units; system = Quad; batch = 16; parallel = hybrid(pipeline = 4, "
                 "schedule = interleaved) }");
  CHECK(run.error == "the interleaved schedule needs virtual >= 2 model chunks per device (virtual = 1 is "
                     "one_f_one_b)");
  run = simulate("experiment E { model = Units; system = Quad; batch = 16; parallel = hybrid(pipeline = 4, "
                 "schedule = interleaved, virtual = 2) }");
  CHECK(run.error == "4 pipeline stages x 2 chunks need at least 8 layers to cut between; 'Units' has 5");
}

TEST_CASE("parallel: tokens/s, model and hardware FLOPs, MFU, and a run's time, energy and cost") {
  Run run = simulate(R"(
device P : D { power = 500 W }
model Seq {
  input tokens: i32[8]
  x = embedding(tokens, 100, 16)
  output fc(x, 16, bias = false)
}
experiment E { model = Seq; system = P; batch = 4; tokens = 3200; price = 3.6 USD/h per device }
)");
  REQUIRE_MESSAGE(run.ok, run.error);
  const compiler::Result& r = run.result;
  REQUIRE(r.utilisation);
  double step = r.totals.iteration_s;
  // The fc: 8 * 16 * 16 = 2,048 MACs per sequence forward, its input (the embedding, which trains)
  // needs a gradient: 4,096 backward. Model FLOPs 2 x 3 x 2,048 x 4 sequences; executed the same.
  CHECK(r.utilisation->model_flops_per_step == approx(2 * 3 * 2048 * 4));
  CHECK(r.utilisation->hardware_flops_per_step == approx(2 * (2048 + 4096) * 4));
  CHECK(r.utilisation->mfu == approx(49152 / (step * 1e13)));
  CHECK(r.utilisation->peak_flops_per_device == approx(1e13));
  REQUIRE(r.utilisation->tokens_per_s);
  CHECK(*r.utilisation->tokens_per_s == approx(32 / step));
  // 3,200 tokens in steps of 4 x 8: 100 steps; energy at 500 W; cost at 3.6 USD per device-hour.
  REQUIRE(r.steps);
  CHECK(*r.steps == 100);
  CHECK(*r.totals.total_s == approx(100 * step));
  CHECK(*r.energy_j == approx(500 * 100 * step));
  CHECK(*r.cost_usd == approx(3.6 / 3600 * 100 * step));
  // A per-node price counts nodes: 2 devices of a node at 7.2 USD/h cost what one device at 3.6 does twice.
  Run node = simulate(R"(
model Seq {
  input tokens: i32[8]
  x = embedding(tokens, 100, 16)
  output fc(x, 16, bias = false)
}
experiment E { model = Seq; system = Duo; batch = 8; tokens = 3200; price = 7.2 USD/h per node }
)");
  REQUIRE_MESSAGE(node.ok, node.error);
  CHECK(*node.result.cost_usd == approx(7.2 / 3600 * *node.result.totals.total_s));
}

TEST_CASE("parallel: recomputation is executed work, not model work (HFU above MFU)") {
  Run run = simulate("experiment E { model = Units; system = D; batch = 2; recompute = full }");
  REQUIRE_MESSAGE(run.ok, run.error);
  // Forward 4 fcs, backward 1 + 3 x 2 (the first has no input gradient), the 4 forwards again.
  CHECK(run.result.utilisation->hardware_flops_per_step == approx(2 * (4 + 7 + 4) * 1048576.0 * 2));
  CHECK(run.result.utilisation->model_flops_per_step == approx(2 * 3 * 4 * 1048576.0 * 2));
  CHECK(run.result.utilisation->hfu > run.result.utilisation->mfu);
}

TEST_CASE("parallel: tokens need a sequence model and exclude a dataset") {
  Run run = simulate("experiment E { model = Units; system = D; batch = 2; tokens = 1000 }");
  CHECK(run.error == "tokens = 1000 needs a sequence model (token ids as its input); 'Units' reads no token ids; "
                     "give dataset and epochs instead");
}

TEST_CASE("parallel: expert parallelism sends a mixture of experts' routed tokens all-to-all") {
  Run run = simulate(R"(
model Experts {
  input x: f32[8, 16]
  output moe(x, 4, 2, 32)
}
experiment E { model = Experts; system = Duo; batch = 4; parallel = hybrid(expert = 2); phase = inference }
)");
  REQUIRE_MESSAGE(run.ok, run.error);
  // 2 replicas of 2 samples. Routed: 4 experts x ceil(8 tokens x 2 / 4) = 16 tokens of 16 features, 1,024 B
  // per sample: 2,048 B; all-to-all over the 2 devices of the expert group, half of it leaves each
  // device (1,024 B at 10 GB/s), once to dispatch and once to combine.
  double alltoall = 2 * (0.5 * 2048 / 1e10);
  // Compute: router 8 x 16 x 4 and 16 routed tokens through 3 projections of 16 x 32: 25,088 MACs per sample.
  double compute = 2 * 25088.0 * 2 / 1e13;
  CHECK(layer(run.result, "moe1").forward_s == approx(compute + alltoall));
  // Without expert parallelism, no exchange.
  Run alone = simulate(R"(
model Experts {
  input x: f32[8, 16]
  output moe(x, 4, 2, 32)
}
experiment E { model = Experts; system = Duo; batch = 4; parallel = hybrid(tensor = 1); phase = inference }
)");
  REQUIRE(alone.ok);
  CHECK(layer(alone.result, "moe1").forward_s == approx(compute));
  Run odd = simulate(R"(
model Experts {
  input x: f32[8, 16]
  output moe(x, 3, 2, 32)
}
experiment E { model = Experts; system = Duo; batch = 4; parallel = hybrid(expert = 2); phase = inference }
)");
  CHECK(odd.error == "expert parallelism over 2 replicas: layer 'moe1' has 3 experts, not a multiple");
}

TEST_CASE("parallel: experts' weights are exchanged and sharded over the replicas that hold them") {
  // moe(x, 4, 2, 32) on [8, 16]: 6,208 parameters (router 64, experts 4 x 3 x 16 x 32). Mixed precision
  // with Adam and ZeRO 1 over 4 replicas: 2 + 2 B whole, 12 B sharded. Expert parallelism over 2 halves
  // each device's experts (3,104) and shards their state over the 2 replicas holding the same ones.
  auto memory = [](int expert) {
    Run run = simulate(fmt::format(R"(
model Experts {{
  input x: f32[8, 16]
  output moe(x, 4, 2, 32)
}}
experiment E {{ model = Experts; system = Quad; batch = 8; precision = mixed; optimizer = adam;
               parallel = hybrid(expert = {}, zero = 1) }}
)", expert));
    REQUIRE_MESSAGE(run.ok, run.error);
    return run.result.totals.memory_per_device_bytes;
  };
  CHECK(memory(1) - memory(2) == approx((4 * 6208 + 12 * 6208 / 4.0) - (4 * 3104 + 12 * 3104 / 2.0)));
}

TEST_CASE("parallel: stages get equal counts of layers, or equal costs with balance = cost") {
  // Four units and a head four times a unit's work (1024 -> 4096) on 2 stages, one microbatch of 2.
  std::string spec = R"(
model Headed {
  input x: f32[1024]
  repeat layer in 1..=4 { x = unit(x, name = "") }
  output fc(x, 4096, bias = false)
}
experiment E { model = Headed; system = Duo; batch = 2; microbatch = 2; parallel = hybrid(pipeline = 2, balance = )";
  Run layers = simulate(spec + "layers) }");
  Run cost = simulate(spec + "cost) }");
  REQUIRE_MESSAGE(layers.ok, layers.error);
  REQUIRE_MESSAGE(cost.ok, cost.error);
  // Layers: [x, layer1, layer2] and [layer3, layer4, head]: S0 = 5 fc + a send, S1 = 18 fc + a send (the head
  // 4 forward, 8 backward); step = max S + (p - 1) mean S with m = 1; updates of 1 and 6 fc's weights.
  CHECK(layers.result.totals.iteration_s == approx(29.5 * kForward + 2 * kSend + 6 * kUpdate));
  // Cost: [x, layer1 .. layer4] (11 fc + a send) and [head] (12 fc + a send).
  CHECK(cost.result.totals.iteration_s == approx(23.5 * kForward + 2 * kSend + 4 * kUpdate));
}
