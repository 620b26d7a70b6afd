// The description of this machine (dlc run --describe-device): the spec it
// writes goes through the front end unchanged, and the measurements are sane.
// No timing is asserted beyond ranges any working CPU meets.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "compiler/checker.hpp"
#include "runtime/cpu/machine.hpp"
#include "tests/unit/approx.hpp"

using namespace dlc;
using dlc::runtime::cpu::MachineInfo;
using dlc::test::approx;

namespace {

struct Checked {
  std::unique_ptr<compiler::CheckedModule> module;
  lang::Diagnostics diags;
  std::string messages;  // rendered diagnostics, for failure output
};

Checked check_spec(const std::string& text) {
  Checked c;
  c.module = compiler::compile_text("machine.dlc", text, c.diags);
  c.diags.finalize();
  c.messages = c.diags.render(c.module->program->sources);
  return c;
}

double property(const compiler::CheckedDecl& d, const char* key) {
  const compiler::Property* p = d.find(key);
  REQUIRE_MESSAGE(p != nullptr, key);
  REQUIRE(p->value.kind == compiler::Value::Kind::number);
  return p->value.number;
}

// A Zen 5 with two cores, as TOOLCHAIN.md describes it.
MachineInfo zen5() {
  MachineInfo m;
  m.cpu_model = "AMD EPYC 9B45 \"Turin\"";  // a quote, to exercise escaping (it only reaches a comment)
  m.vendor = "AMD";
  m.cores = 2;
  m.isa = "avx512 fma avx512_vnni avx512_bf16";
  m.vector_lanes_fp32 = 16;
  m.clock_hz = 3.5e9;
  m.flops_per_cycle_core = 64;
  m.peak_fp32 = 2 * 64 * 3.5e9;  // 448 GFLOP/s
  m.measured_fp32 = 449e9;
  m.memory_bandwidth = 69e9;
  m.memory_bytes = 24.0 * (1 << 30);
  m.log = "clock: 3.500 GHz, by hand\nfp32: by hand\n";
  return m;
}

}  // namespace

TEST_CASE("machine: device_spec of a hand-made MachineInfo checks and keeps its figures") {
  const MachineInfo m = zen5();
  const std::string text = runtime::cpu::device_spec(m, "LocalCPU");
  INFO(text);
  Checked c = check_spec(text);
  INFO(c.messages);
  REQUIRE_FALSE(c.diags.has_errors());
  CHECK(c.messages.empty());  // no warnings either

  const compiler::CheckedDecl* d = c.module->find_decl("LocalCPU");
  REQUIRE(d != nullptr);
  CHECK(d->kind == lang::ast::DeclKind::device);
  CHECK(property(*d, "peak.fp32") == approx(m.peak_fp32));
  CHECK(property(*d, "peak.fp64") == approx(m.peak_fp32 / 2));
  CHECK(property(*d, "memory_bandwidth") == approx(69e9));
  CHECK(property(*d, "memory") == approx(24.0 * (1 << 30)));
  CHECK(property(*d, "clock") == approx(3.5e9));
  CHECK(property(*d, "launch_overhead") == approx(1e-6));
  const compiler::Property* cores = d->find("cores");
  REQUIRE(cores != nullptr);
  CHECK(cores->value.is_int());
  CHECK(cores->value.integer == 2);
  const compiler::Property* vendor = d->find("vendor");
  REQUIRE(vendor != nullptr);
  CHECK(vendor->value.text == "AMD");
}

TEST_CASE("machine: device_spec writes the peak as cores x FLOP per cycle x clock, with its provenance") {
  const std::string text = runtime::cpu::device_spec(zen5(), "LocalCPU");
  CHECK(text.find("fp32 = 2 * 64 FLOP * 3.50 GHz") != std::string::npos);
  CHECK(text.find("fp64 = 2 * 32 FLOP * 3.50 GHz") != std::string::npos);
  CHECK(text.find("memory_bandwidth = 69.0 GB/s") != std::string::npos);
  CHECK(text.find("//   clock: 3.500 GHz, by hand\n") != std::string::npos);  // the log, one comment line each
  CHECK(text.find("dlc calibrate") != std::string::npos);
  CHECK(text.find("AMD EPYC 9B45") != std::string::npos);
}

TEST_CASE("machine: device_spec turns a name that is not a dlc name into one") {
  Checked c = check_spec(runtime::cpu::device_spec(zen5(), "my-cpu 2"));
  INFO(c.messages);
  REQUIRE_FALSE(c.diags.has_errors());
  CHECK(c.module->find_decl("my_cpu_2") != nullptr);
}

TEST_CASE("machine: describe_machine(1) measures positive, consistent figures whose spec checks") {
  const MachineInfo m = runtime::cpu::describe_machine(1);
  INFO(m.log);
  CHECK(m.cores == 1);
  CHECK_FALSE(m.isa.empty());
  CHECK((m.vector_lanes_fp32 == 4 || m.vector_lanes_fp32 == 8 || m.vector_lanes_fp32 == 16));
  CHECK(m.clock_hz > 0.5e9);
  CHECK(m.clock_hz < 7e9);
  CHECK(m.flops_per_cycle_core >= 2);
  CHECK(m.measured_fp32 > 0);
  CHECK(m.peak_fp32 == approx(m.cores * m.flops_per_cycle_core * m.clock_hz));
  CHECK(m.peak_fp32 >= 0.9 * m.measured_fp32);
  CHECK(m.memory_bandwidth > 0);
  CHECK(m.memory_bytes > 0);

  Checked c = check_spec(runtime::cpu::device_spec(m, "LocalCPU"));
  INFO(c.messages);
  REQUIRE_FALSE(c.diags.has_errors());
  const compiler::CheckedDecl* d = c.module->find_decl("LocalCPU");
  REQUIRE(d != nullptr);
  // The spec rounds the clock to 10 MHz and the bandwidth to 0.1 GB/s.
  CHECK(property(*d, "peak.fp32") == doctest::Approx(m.peak_fp32).epsilon(0.01));
  CHECK(property(*d, "memory_bandwidth") == doctest::Approx(m.memory_bandwidth).epsilon(0.01));
}

TEST_CASE("machine: the peak per cycle is the smallest power of two the measurement stays within 10 % of") {
  CHECK(runtime::cpu::peak_flops_per_cycle(60.8) == 64);
  CHECK(runtime::cpu::peak_flops_per_cycle(64) == 64);
  CHECK(runtime::cpu::peak_flops_per_cycle(35) == 32);   // a clock measured 9 % low
  CHECK(runtime::cpu::peak_flops_per_cycle(45) == 64);   // no 32-FLOP core reaches 45
  CHECK(runtime::cpu::peak_flops_per_cycle(2.36) == 4);  // an instrumented, loaded run: never below it
  CHECK(runtime::cpu::peak_flops_per_cycle(0) == 0);
}
