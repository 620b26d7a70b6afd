// The standard hardware library against its sources: a handful of figures of
// each device, link, node and cluster, exactly as specs/std/hardware/ declares
// them from the data sheets named there, so that a typo in a figure (or a
// base it inherits from) fails here.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "compiler/checker.hpp"
#include "tests/unit/approx.hpp"

using namespace dlc;
using namespace dlc::compiler;
using dlc::test::approx;

namespace {

constexpr double kTera = 1e12, kPeta = 1e15, kGiga = 1e9, kGiB = 1024.0 * 1024 * 1024;

// std.hardware, checked once for all the tests of this file.
const CheckedModule& hardware() {
  static const std::unique_ptr<CheckedModule> module = [] {
    lang::Diagnostics diags;
    auto program = std::make_unique<Program>();
    load_module(*program, "std.hardware", diags);
    auto m = check(std::move(program), diags);
    diags.finalize();
    INFO(diags.render(m->program->sources));
    REQUIRE(diags.all().empty());  // no error and no warning either
    return m;
  }();
  return *module;
}

const CheckedDecl& decl(const char* name) {
  const CheckedDecl* d = hardware().find_decl(name);
  REQUIRE_MESSAGE(d != nullptr, name);
  return *d;
}

// A number-valued property in SI units.
double number(const char* name, const char* key) {
  CAPTURE(name);
  CAPTURE(key);
  const Property* p = decl(name).find(key);
  REQUIRE(p != nullptr);
  REQUIRE(p->value.kind == Value::Kind::number);
  return p->value.number;
}

bool has(const char* name, const char* key) { return decl(name).find(key) != nullptr; }

// "8 * A100": the count and the name of what is replicated.
std::string replicated(const char* name, const char* key) {
  CAPTURE(name);
  const Property* p = decl(name).find(key);
  REQUIRE(p != nullptr);
  REQUIRE(p->value.kind == Value::Kind::replicated);
  return std::to_string(p->value.count) + " * " + p->value.decl->name.name;
}

std::string reference(const char* name, const char* key) {
  CAPTURE(name);
  const Property* p = decl(name).find(key);
  REQUIRE(p != nullptr);
  REQUIRE(p->value.kind == Value::Kind::decl);
  return p->value.decl->name.name;
}

}  // namespace

TEST_CASE("hardware: NVIDIA devices, tensor cores and vector units apart") {
  CHECK(number("A100", "peak.bf16") == approx(312 * kTera));
  CHECK(number("A100", "vector.bf16") == approx(39 * kTera));
  CHECK(number("A100", "vector.fp16") == approx(78 * kTera));
  CHECK(number("A100", "vector.fp64") == approx(9.7 * kTera));

  CHECK(number("H100", "peak.bf16") == approx(989.4 * kTera));
  CHECK(number("H100", "vector.bf16") == approx(133.8 * kTera));
  CHECK(number("H100", "vector.fp32") == approx(67 * kTera));
  CHECK(number("H100", "vector.fp64") == approx(33.5 * kTera));
  // The H200 is the H100's compute, vector units included, with more memory.
  CHECK(number("H200", "vector.bf16") == approx(133.8 * kTera));
  CHECK(number("H200", "memory") == approx(141 * kGiga));

  CHECK(number("H100_PCIe", "peak.bf16") == approx(756 * kTera));
  CHECK(number("H100_PCIe", "memory_bandwidth") == approx(2000 * kGiga));
  CHECK(number("H100_PCIe", "power") == approx(350));

  // V100 32 GB: the V100's rates, twice its memory.
  CHECK(number("V100_32GB", "memory") == approx(32 * kGiga));
  CHECK(number("V100_32GB", "peak.fp16") == approx(125 * kTera));
  CHECK(number("V100", "memory") == approx(16 * kGiga));

  // Blackwell: the current per-GPU figures, dense (half the "with sparsity" ones).
  CHECK(number("B200", "memory") == approx(180 * kGiga));
  CHECK(number("B200", "memory_bandwidth") == approx(7.7 * 1000 * kGiga));
  CHECK(number("B200", "peak.bf16") == approx(2.25 * kPeta));
  CHECK(number("B200", "peak.fp8") == approx(4.5 * kPeta));
  CHECK(number("B200", "peak.fp64") == approx(37 * kTera));
  CHECK(number("B200", "vector.fp32") == approx(75 * kTera));
  CHECK_FALSE(has("B200", "vector.bf16"));  // not published
  CHECK(number("GB200", "peak.bf16") == approx(2.5 * kPeta));
  CHECK(number("GB200", "memory") == approx(186 * kGiga));
  CHECK(number("GB200", "memory_bandwidth") == approx(8 * 1000 * kGiga));
}

TEST_CASE("hardware: AMD devices, and the MI250X's graphics compute die as half a module") {
  CHECK(number("MI300X", "vector.fp64") == approx(81.7 * kTera));
  CHECK(number("MI300X", "vector.fp32") == approx(163.4 * kTera));
  CHECK(number("MI325X", "memory") == approx(256 * kGiga));
  CHECK(number("MI325X", "memory_bandwidth") == approx(6000 * kGiga));
  CHECK(number("MI325X", "peak.bf16") == approx(1307.4 * kTera));  // inherited from the MI300X
  CHECK(number("MI325X", "power") == approx(1000));

  CHECK(number("MI250X", "peak.fp16") == approx(383 * kTera));
  CHECK(number("MI250X", "vector.fp64") == approx(47.9 * kTera));
  CHECK(number("MI250X", "memory") == approx(128 * kGiga));
  CHECK(number("MI250X_GCD", "peak.fp16") == approx(191.5 * kTera));
  CHECK(number("MI250X_GCD", "peak.fp64") == approx(47.85 * kTera));
  CHECK(number("MI250X_GCD", "memory") == approx(64 * kGiga));
  CHECK(number("MI250X_GCD", "memory_bandwidth") == approx(1638.4 * kGiga));
}

TEST_CASE("hardware: TPUs and Gaudi 3") {
  CHECK(number("TPUv4", "peak.bf16") == approx(275 * kTera));
  CHECK(number("TPUv4", "memory") == approx(32 * kGiB));
  CHECK(number("TPUv4", "memory_bandwidth") == approx(1200 * kGiga));
  CHECK(number("TPUv5p", "peak.bf16") == approx(459 * kTera));
  CHECK(number("TPUv5p", "memory") == approx(95 * kGiB));
  CHECK(number("TPUv5p", "memory_bandwidth") == approx(2765 * kGiga));
  CHECK(number("Gaudi3", "peak.bf16") == approx(1835 * kTera));
  CHECK(number("Gaudi3", "vector.bf16") == approx(28.7 * kTera));
  CHECK(number("Gaudi3", "memory") == approx(128 * kGiga));
}

TEST_CASE("hardware: links, per direction") {
  CHECK(number("NVLink5", "bandwidth") == approx(900 * kGiga));
  CHECK(number("NVLink3", "bandwidth") == approx(300 * kGiga));
  CHECK(number("xGMI_MI250X", "bandwidth") == approx(50 * kGiga));
  CHECK(number("xGMI_MI300", "bandwidth") == approx(7 * 64 * kGiga));
  CHECK(number("ICI_TPUv4", "bandwidth") == approx(6 * 50 * kGiga));
  CHECK(number("ICI_TPUv5p", "bandwidth") == approx(600 * kGiga));  // 4,800 Gb/s
  CHECK(number("Gaudi3_ScaleUp", "bandwidth") == approx(21 * 25 * kGiga));
  CHECK(number("Gaudi3_ScaleOut", "bandwidth") == approx(25 * kGiga));
  CHECK(number("Slingshot11", "bandwidth") == approx(25 * kGiga));
  CHECK(decl("xGMI_MI300").find("kind")->value.text == "xgmi");
  CHECK(decl("ICI_TPUv5p").find("kind")->value.text == "other");
  CHECK(decl("Gaudi3_ScaleUp").find("kind")->value.text == "ethernet");
}

TEST_CASE("hardware: nodes and clusters") {
  CHECK(replicated("DGXA100", "devices") == "8 * A100");
  CHECK(reference("DGXA100", "link") == "NVLink3");
  CHECK(reference("DGXA100", "network") == "IB_HDR");
  CHECK(number("DGXA100", "nics") == 8);
  CHECK(number("DGXA100", "power") == approx(6500));

  CHECK(replicated("DGX2", "devices") == "16 * V100_32GB");
  CHECK(reference("DGX2", "link") == "NVLink2");
  CHECK(reference("DGX2", "network") == "IB_EDR");
  CHECK(number("DGX2", "nics") == 8);
  CHECK(number("DGX2", "power") == approx(10000));

  CHECK(replicated("DGXB200", "devices") == "8 * B200");
  CHECK(reference("DGXB200", "link") == "NVLink5");
  CHECK(number("DGXB200", "nics") == 8);
  CHECK(number("DGXB200", "power") == approx(14300));

  CHECK(replicated("GB200NVL72", "devices") == "72 * GB200");
  CHECK(reference("GB200NVL72", "link") == "NVLink5");
  CHECK(number("GB200NVL72", "nics") == 72);

  CHECK(replicated("FrontierNode", "devices") == "8 * MI250X_GCD");
  CHECK(reference("FrontierNode", "network") == "Slingshot11");
  CHECK(number("FrontierNode", "nics") == 4);
  CHECK(replicated("MI325XPlatform", "devices") == "8 * MI325X");
  CHECK(replicated("TPUv4Cube", "devices") == "64 * TPUv4");
  CHECK(replicated("TPUv5pCube", "devices") == "64 * TPUv5p");
  CHECK(replicated("Gaudi3Server", "devices") == "8 * Gaudi3");
  CHECK(number("Gaudi3Server", "nics") == 24);

  // Selene: 560 DGX A100 (4,480 GPUs), HDR InfiniBand, fat tree (Narayanan et al. 2021, section 5).
  CHECK(replicated("Selene", "nodes") == "560 * DGXA100");
  CHECK(reference("Selene", "network") == "IB_HDR");
  CHECK(decl("Selene").find("topology")->value.text == "fat_tree");
}
