// Lowering experiments to Plans: work and traffic per op at the experiment's
// precision, the system's shape, the experiment's settings.
#include <doctest/doctest.h>

#include "compiler/checker.hpp"
#include "compiler/plan.hpp"

using namespace dlc;
using namespace dlc::compiler;

namespace {

Plan plan_of(const std::string& text, const std::string& experiment) {
  lang::Diagnostics diags;
  auto module = compile_text("plan.dlc", text, diags);
  REQUIRE_FALSE(diags.has_errors());
  const CheckedDecl* e = module->find_decl(experiment);
  REQUIRE(e);
  return lower(*module, *e);
}

constexpr const char* kSpec = R"(
model Net {
  input x: f32[3, 8, 8]
  y = conv(x, 4, kernel = 3, pad = 1)
  output fc(flatten(y), 10)
}
device G { kind = gpu; peak { fp32 = 10 TFLOPS; fp16 = 20 TFLOPS } memory = 16 GB; memory_bandwidth = 500 GB/s
           efficiency { conv = 0.5 } }
link PCIe { bandwidth = 16 GB/s; latency = 1 us }
link IB { bandwidth = 56 Gb/s; latency = 0.7 us; efficiency = 0.9 }
node Box { devices = 8 * G; link = PCIe; devices_per_switch = 4; switch_uplink = PCIe; network = IB; nics = 2 }
cluster Farm { nodes = 4 * Box; network = IB }
experiment Train {
  model = Net; system = Farm; batch = 16 per device; scaling = weak; precision = fp16
  dataset = 1M samples; epochs = 3; optimizer = adam
  parallel = data(allreduce = hierarchical, overlap = true)
  software { name = "Caffe"; efficiency { conv = 0.8 } }
}
experiment Infer { model = Net; system = G; phase = inference; batch = 64 }
)";

}  // namespace

TEST_CASE("plan: ops carry per-sample work and traffic at the experiment's precision") {
  Plan p = plan_of(kSpec, "Train");
  REQUIRE(p.ops.size() == 4);  // x, conv1, flatten1, fc1
  CHECK(p.element_bytes == 2);  // fp16
  const PlanOp& x = p.ops[0];
  CHECK(x.bytes_forward == 0);  // inputs are the data loader's
  const PlanOp& conv = p.ops[1];
  CHECK(conv.name == "conv1");
  CHECK(conv.op_class == OpClass::conv);
  CHECK(conv.params == 112);                 // 4*3*9 + 4
  CHECK(conv.macs_forward == 6912);          // 4*27*64
  CHECK(conv.macs_backward == 6912);         // its input is data: the weight gradient only
  CHECK(conv.bytes_forward == (192 + 256) * 2);       // input 3*8*8 + output 4*8*8, fp16
  CHECK(conv.bytes_backward == (192 + 256) * 2);      // reads input and output gradient, writes no input gradient
  CHECK(conv.weight_bytes == 112 * 2);
  CHECK(conv.activation_bytes == 256 * 2);
  CHECK(p.ops[3].inputs == std::vector<int>{2});
}

TEST_CASE("plan: the system is resolved to its shape, device and links") {
  Plan p = plan_of(kSpec, "Train");
  const PlanSystem& s = p.system;
  CHECK(s.name == "Farm");
  CHECK(s.kind == "cluster");
  CHECK(s.nodes == 4);
  CHECK(s.devices_per_node == 8);
  CHECK(s.devices() == 32);
  CHECK(s.device.name == "G");
  CHECK(s.device.peak.at("fp16") == 20e12);
  CHECK(s.device.memory_bandwidth == 500e9);
  CHECK(s.device.efficiency.at("conv") == 0.5);
  REQUIRE(s.intra_node);
  CHECK(s.intra_node->bandwidth == 16e9);
  REQUIRE(s.network);
  CHECK(s.network->bandwidth == 7e9);  // 56 Gb/s
  CHECK(s.network->efficiency == 0.9);
  CHECK(s.nics == 2);
  CHECK(s.devices_per_switch == 4);
  CHECK(s.switch_uplink->name == "PCIe");
}

TEST_CASE("plan: the experiment's settings as plain values") {
  Plan p = plan_of(kSpec, "Train");
  CHECK(p.phase == "training");
  CHECK(p.batch == 16);
  CHECK(p.batch_per == "device");
  CHECK(p.scaling == "weak");
  CHECK(*p.dataset == 1e6);
  CHECK(*p.epochs == 3);
  CHECK(p.optimizer == "adam");
  CHECK(p.parallel == "data");
  CHECK(p.parallel_args.at("allreduce") == "hierarchical");
  CHECK(p.parallel_args.at("overlap") == "true");
  CHECK(p.software_name == "Caffe");
  CHECK(p.software_efficiency.at("conv") == 0.8);

  Plan q = plan_of(kSpec, "Infer");
  CHECK(q.phase == "inference");
  CHECK(q.batch == 64);
  CHECK(q.batch_per == "global");
  CHECK(q.system.kind == "device");
  CHECK(q.system.devices() == 1);
  CHECK(q.element_bytes == 4);
}

// The first layer's backward: a layer fed only by data computes its weights'
// gradients but no input gradient (frameworks, and `dlc run`, skip it), and a
// weightless op on the data has no backward at all.
TEST_CASE("plan: a layer fed by data computes no input gradient") {
  Plan p = plan_of(R"(
model Net {
  input x: f32[4, 6, 6]
  r = relu(x)
  y = conv(r, 2, kernel = 3, bias = false)
  output fc(flatten(y), 5, bias = false)
}
device G { kind = gpu; peak { fp32 = 10 TFLOPS } memory = 16 GB; memory_bandwidth = 500 GB/s }
experiment Train { model = Net; system = G; batch = 1 }
)", "Train");
  REQUIRE(p.ops.size() == 5);  // x, relu1, conv1, flatten1, fc1
  const PlanOp &relu = p.ops[1], &conv = p.ops[2], &fc = p.ops[4];
  // relu of the data: nothing needs its gradient, nothing to compute or move.
  CHECK(relu.macs_backward == 0);
  CHECK(relu.bytes_backward == 0);
  // conv 4 -> 2 channels, 3x3 on 6x6: output [2, 4, 4] = 32 elements, 4*9 = 36
  // MACs each: forward 1,152; backward the weight gradient only, 1,152 (not
  // 2,304); reads its input (144) and output gradient (32), fp32: 704 B.
  CHECK(conv.macs_forward == 1152);
  CHECK(conv.macs_backward == 1152);
  CHECK(conv.bytes_backward == (144 + 32) * 4);
  // fc 32 -> 5 after the conv, whose weights need the fc's input gradient:
  // data + weight gradient, 2 * 160 MACs; (2 * 32 + 5) * 4 B.
  CHECK(fc.macs_forward == 160);
  CHECK(fc.macs_backward == 320);
  CHECK(fc.bytes_backward == (2 * 32 + 5) * 4);
}

TEST_CASE("plan: an eager framework's attention moves its scores through every kernel of the chain") {
  // Mixed precision (b = 2) under autocast (softmax writes fp32, f = 4), training: forward
  // 2 + 4 + 4 + 6 + (8 + 1) + 6 + 2 = 33 B per score, backward 2 + 2 + 5 + 6 + 12 + 6 + 4 + 4 = 41;
  // without autocast at fp32 (b = f = 4, no casts) 41 and 45; inference leaves dropout out.
  CHECK(eager_attention_bytes(2, true, true).forward == 33);
  CHECK(eager_attention_bytes(2, true, true).backward == 41);
  CHECK(eager_attention_bytes(4, false, true).forward == 41);
  CHECK(eager_attention_bytes(4, false, true).backward == 45);
  CHECK(eager_attention_bytes(2, true, false).forward == 24);
  // In a Plan: 2 heads x 8² scores per sample; fused, 4 and 7 passes of 2 B.
  std::string spec = R"(
model A { input x: f32[8, 16]; output attention(x, heads = 2) }
device G { kind = gpu; peak { fp32 = 10 TFLOPS; fp16 = 20 TFLOPS } memory = 16 GB; memory_bandwidth = 500 GB/s }
framework Eager { autocast = true; eager_attention = true }
experiment Fused { model = A; system = G; batch = 4; precision = mixed }
experiment Unfused { model = A; system = G; batch = 4; precision = mixed; framework = Eager }
)";
  Plan fused_plan = plan_of(spec, "Fused"), eager_plan = plan_of(spec, "Unfused");
  const PlanOp& fused = fused_plan.ops[1];
  CHECK(fused.scratch_bytes_forward == 128 * 4 * 2);
  CHECK(fused.scratch_bytes_backward == 128 * 7 * 2);
  const PlanOp& eager = eager_plan.ops[1];
  CHECK(eager.scratch_bytes_forward == 128 * 33);
  CHECK(eager.scratch_bytes_backward == 128 * 41);
  CHECK(eager.bytes_forward - eager.scratch_bytes_forward == fused.bytes_forward - fused.scratch_bytes_forward);
}

TEST_CASE("plan: an eager framework's RMSNorm moves its tensor through every kernel of the chain") {
  // b = 2: forward (2 + 4) + 8 + 4 + 8 + (4 + 2) + 4 = 36 B per element, backward 4 + 8 + 6 + 24 + 4 + 12
  // + 12 + 6 = 76; at fp32 44 and 92; fused, 2b and 3b.
  CHECK(eager_rmsnorm_bytes(2).forward == 36);
  CHECK(eager_rmsnorm_bytes(2).backward == 76);
  CHECK(eager_rmsnorm_bytes(4).forward == 44);
  CHECK(eager_rmsnorm_bytes(4).backward == 92);
  std::string spec = R"(
model R { input x: f32[8, 16]; y = fc(x, 16); output rmsnorm(y) }
device G { kind = gpu; peak { fp32 = 10 TFLOPS; fp16 = 20 TFLOPS } memory = 16 GB; memory_bandwidth = 500 GB/s }
framework Eager { eager_rmsnorm = true }
experiment Fused { model = R; system = G; batch = 4; precision = mixed }
experiment Unfused { model = R; system = G; batch = 4; precision = mixed; framework = Eager }
)";
  Plan fused_plan = plan_of(spec, "Fused"), eager_plan = plan_of(spec, "Unfused");
  REQUIRE(fused_plan.ops.size() == 3);
  // 128 elements per sample; fused, read and write (and the gradient's three passes) of 2 B.
  CHECK(fused_plan.ops[2].bytes_forward == 128 * 2 * 2);
  CHECK(fused_plan.ops[2].bytes_backward == 128 * 3 * 2);
  CHECK(eager_plan.ops[2].bytes_forward == 128 * 36);
  CHECK(eager_plan.ops[2].bytes_backward == 128 * 76);
}

TEST_CASE("plan: GEMM ops carry their products' shapes for wave quantisation") {
  std::string spec = R"(
model M {
  input x: f32[3, 8, 8]
  y = conv(x, 6, kernel = 3, pad = 1, groups = 3)
  output fc(flatten(y), 10)
}
model T { input t: f32[8, 16]; output attention(t, heads = 2, kv_heads = 1) }
device G { kind = gpu; peak { fp32 = 10 TFLOPS } memory = 16 GB; memory_bandwidth = 500 GB/s }
experiment C { model = M; system = G; batch = 4 }
experiment A { model = T; system = G; batch = 4 }
)";
  auto same = [](const Gemm& g, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t count, bool rows) {
    return g.m == m && g.n == n && g.k == k && g.count == count && g.m_per_sample == rows;
  };
  Plan c = plan_of(spec, "C");
  // The convolution as implicit GEMM: 8 x 8 output positions, 6 / 3 channels per group, 1 x 9 inputs
  // each, 3 groups; the fc: one row of 384 in, 10 out.
  REQUIRE(c.ops[1].gemms.size() == 1);
  CHECK(same(c.ops[1].gemms[0], 64, 2, 9, 3, true));
  REQUIRE(c.ops[3].gemms.size() == 1);
  CHECK(same(c.ops[3].gemms[0], 1, 10, 384, 1, true));
  CHECK(c.ops[2].gemms.empty());  // flatten
  // Attention: Q, K and V (16 + 2 x 8 wide: one key-value head of 8), the scores and P·V per head
  // (8 x 8 by 8, 8 x 8 by 8), the output projection.
  Plan pa = plan_of(spec, "A");
  const PlanOp& a = pa.ops[1];
  REQUIRE(a.gemms.size() == 4);
  CHECK(same(a.gemms[0], 8, 32, 16, 1, true));
  CHECK(same(a.gemms[1], 8, 8, 8, 2, false));
  CHECK(same(a.gemms[2], 8, 8, 8, 2, false));
  CHECK(same(a.gemms[3], 8, 16, 16, 1, true));
}
