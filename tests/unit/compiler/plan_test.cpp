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
  CHECK(conv.macs_backward == 13824);
  CHECK(conv.bytes_forward == (192 + 256) * 2);       // input 3*8*8 + output 4*8*8, fp16
  CHECK(conv.bytes_backward == (2 * 192 + 256) * 2);
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
