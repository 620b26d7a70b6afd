// The crossbar cost model against the published figures of ISAAC-CE (Shafiee
// et al., ISCA 2016, Tables I and IV) and PUMA (Ankit et al., ASPLOS 2019),
// and its layer mapping against counts worked out by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "compiler/checker.hpp"
#include "compiler/plan.hpp"
#include "simulator/crossbar.hpp"
#include "simulator/maxcut.hpp"
#include "simulator/simulate.hpp"
#include "tests/unit/approx.hpp"
#include "tests/unit/simulator/simulate_spec.hpp"

using namespace dlc;
using namespace dlc::compiler;
using namespace dlc::simulator;
using dlc::test::approx;

namespace {

using Run = dlc::test::SpecRun;

Run simulate_spec(const std::string& text) { return dlc::test::simulate_spec("import std.hardware\n" + text); }

// One fc layer [1024] -> [1000] on a chip.
Run fc_on(const std::string& chip, const std::string& declarations = "") {
  return simulate_spec(declarations + R"(
model FC {
  input x: f32[1024]
  output fc(x, 1000)
}
experiment E { model = FC; system = )" + chip + "; phase = inference; batch = 1 }\n");
}

const CheckedDecl& experiment(const CheckedModule& m) {
  for (const CheckedDecl& d : m.decls)
    if (d.kind == lang::ast::DeclKind::experiment) return d;
  FAIL("no experiment");
  return m.decls.front();
}

bool within(double value, double expected, double relative) {
  return std::fabs(value - expected) <= relative * std::fabs(expected);
}

}  // namespace

TEST_CASE("crossbar: ISAAC-CE reproduces its published figures") {
  Run run = fc_on("isaac_ce");
  REQUIRE(run.ok);
  REQUIRE(run.result.crossbar);
  const CrossbarChip& c = run.result.crossbar->chip;
  // 168 tiles x 12 IMAs x 8 arrays = 16,128 arrays; each product is 128 rows
  // x 16 weights = 2,048 MACs (4,096 ops) in 16 reads of 100 ns.
  CHECK(c.arrays == 16128);
  CHECK(c.mvm_s == approx(1.6e-6));
  CHECK(within(c.peak_ops_per_s, 41.29e12, 1e-3));
  CHECK(c.peak_ops_per_s == approx(16128.0 * 4096 / 1.6e-6));
  // Table I: 168 x 330 mW + 10.4 W; 168 x 0.372 mm² + 22.88 mm².
  CHECK(within(c.power_w, 65.8, 1e-3));
  CHECK(within(c.area_m2, 85.4e-6, 1e-3));
  CHECK(within(c.tile_power_w, 0.330, 1e-3));
  CHECK(within(c.tile_area_m2, 0.372e-6, 1e-3));
  // Table IV: 627.5 GOPS/W and 478.95 GOPS/s/mm² (the table's own
  // arithmetic gives 483.5; within 1 %).
  CHECK(within(c.peak_ops_per_s / c.power_w, 627.5e9, 5e-3));
  CHECK(within(c.peak_ops_per_s / (c.area_m2 * 1e6), 478.95e9, 1e-2));
  // §VIII-A: the ADCs take 58 % of a tile's power and 31 % of its area.
  CHECK(std::fabs(100 * c.adc_power_share - 58) <= 1);
  CHECK(std::fabs(100 * c.adc_area_share - 31) <= 1);
  CHECK(within(c.adc_power_w, 32.26, 1e-2));
  // One conversion per 16-bit MAC: 16 reads x 128 columns per 2,048 MACs,
  // and the unit column's 129th: 129/128.
  CHECK(c.conversions_per_mac == approx(129.0 / 128.0));
  // Energy per op at the peak: 65.8 W / 41.29 TOPS = 1.594 pJ.
  CHECK(within(c.power_w / c.peak_ops_per_s, 1.594e-12, 5e-3));
  // 8 ADC bits for R = 128, v = 1, w = 2 with the flipped encoding.
  CHECK(c.adc_bits == 8);
  CHECK(c.adc_bits_required == 8);
  CHECK(c.adc_bits_required_unflipped == 9);
}

TEST_CASE("crossbar: a declaration with no properties is ISAAC-CE") {
  Run plain = fc_on("X", "crossbar X {}\n");
  Run isaac = fc_on("isaac_ce");
  REQUIRE(plain.ok);
  REQUIRE(isaac.ok);
  const CrossbarChip &a = plain.result.crossbar->chip, &b = isaac.result.crossbar->chip;
  CHECK(a.peak_ops_per_s == approx(b.peak_ops_per_s));
  CHECK(a.power_w == approx(b.power_w));
  CHECK(a.area_m2 == approx(b.area_m2));
  CHECK(plain.result.crossbar->energy_j == approx(isaac.result.crossbar->energy_j));
}

TEST_CASE("crossbar: one conversion per MAC without the unit column, 9 ADC bits without flipping") {
  Run run = fc_on("X", "crossbar X : isaac_ce { unit_column = false; flip_encoding = false }\n");
  REQUIRE(run.ok);
  CHECK(run.result.crossbar->chip.conversions_per_mac == approx(1.0));
  CHECK(run.result.crossbar->chip.adc_bits_required == 9);
  Run wide = fc_on("X", "crossbar X : isaac_ce { rows = 256 }\n");
  REQUIRE(wide.ok);
  CHECK(wide.result.crossbar->chip.adc_bits_required == 9);
}

TEST_CASE("crossbar: PUMA reproduces its published node") {
  Run run = fc_on("puma");
  REQUIRE(run.ok);
  const CrossbarChip& c = run.result.crossbar->chip;
  CHECK(c.arrays == 138 * 8 * 16);
  CHECK(within(c.peak_ops_per_s, 52.31e12, 5e-3));
  CHECK(within(c.peak_ops_per_s / (c.area_m2 * 1e6), 577e9, 5e-3));
  CHECK(within(c.peak_ops_per_s / c.power_w, 837e9, 5e-3));
  CHECK(within(c.power_w, 62.5, 5e-3));
}

TEST_CASE("crossbar: an fc layer's arrays, conversions and energy by hand") {
  // K = 1024 rows over 128-row arrays: 8; N = 1000 weights x 8 cells = 8,000
  // columns over 128: 63 arrays across. 504 arrays; one product of 16 reads;
  // conversions 8 x (8,000 + 63 unit columns) x 16 = 1,032,064.
  Run run = fc_on("isaac_ce");
  REQUIRE(run.ok);
  const CrossbarRun& x = *run.result.crossbar;
  REQUIRE(x.layers.size() == 1);
  const CrossbarLayer& l = x.layers[0];
  CHECK(l.mapped);
  CHECK(l.arrays == 504);
  CHECK(l.mvms == 1);
  CHECK(l.adc_conversions == 1032064);
  CHECK(l.latency_s == approx(1.6e-6));
  CHECK(l.utilisation == approx(1024.0 * 8000 / (504.0 * 128 * 128)));
  // Energy per event: an ADC conversion 2 mW / 1.28 GSa/s = 1.5625 pJ; a DAC
  // drive 4 mW / 1024 x 100 ns; an array read 0.3 mW x 100 ns plus the
  // IMA's (1.67 mW / 8) and the tile's (40.85 mW / 96) shares of a cycle.
  double reads = 504.0 * 16, drives = 63.0 * 1024 * 16;
  double e_adc = 1032064 * 1.5625e-12, e_sh = 1032064 * (10e-6 / 1024) * 100e-9;
  double e_dac = drives * (4e-3 / 1024) * 100e-9;
  double e_read = reads * (0.3e-3 + 1.67e-3 / 8 + (20.7e-3 + 7e-3 + 10.5e-3 + 2.65e-3) / 96) * 100e-9;
  CHECK(l.energy_j == approx(e_adc + e_sh + e_dac + e_read));
  double parts = 0;
  for (const auto& [name, e] : l.energy_by_part) parts += e;
  CHECK(parts == approx(l.energy_j));
  REQUIRE(l.energy_by_part.at(0).first == "adc");
  CHECK(l.energy_by_part.at(0).second == approx(e_adc));
  // Its arrays' share of the tiles: 504 of 96 per 0.37229 mm² tile.
  CHECK(l.area_m2 == approx(504 * 0.37229e-6 / 96));
  // The chip's HyperTransport draws its 10.4 W over the 1.6 us.
  CHECK(x.energy_j == approx(l.energy_j + 10.4 * 1.6e-6));
  CHECK(x.chips == 1);
}

TEST_CASE("crossbar: a convolution's positions and groups") {
  // 3x3 conv, 64 -> 128 channels on 56 x 56, pad 1: K = 576 (5 arrays down),
  // N = 128 x 8 = 1,024 columns (8 across): 40 arrays, 3,136 products.
  Run run = simulate_spec(R"(
crossbar X : isaac_ce { replicate = false }
model C {
  input x: f32[64, 56, 56]
  output conv(x, 128, kernel = [3, 3], pad = [1, 1])
}
experiment E { model = C; system = X; phase = inference; batch = 1 }
)");
  REQUIRE(run.ok);
  const CrossbarLayer& l = run.result.crossbar->layers.at(0);
  CHECK(l.arrays == 40);
  CHECK(l.mvms == 3136);
  CHECK(l.adc_conversions == 3136.0 * 5 * (1024 + 8) * 16);
  CHECK(l.latency_s == approx(3136 * 1.6e-6));
  // Four groups: K = 16 x 9 = 144 (2 arrays down), N = 32 x 8 = 256 columns
  // (2 across), per group; the groups work side by side.
  Run grouped = simulate_spec(R"(
crossbar X : isaac_ce { replicate = false }
model G {
  input x: f32[64, 56, 56]
  output conv(x, 128, kernel = [3, 3], pad = [1, 1], groups = 4)
}
experiment E { model = G; system = X; phase = inference; batch = 1 }
)");
  REQUIRE(grouped.ok);
  const CrossbarLayer& g = grouped.result.crossbar->layers.at(0);
  CHECK(g.arrays == 16);
  CHECK(g.mvms == 4 * 3136);
  CHECK(g.latency_s == approx(3136 * 1.6e-6));
}

TEST_CASE("crossbar: replication balances the pipeline within the chip") {
  std::string model = R"(
model Two {
  input x: f32[16, 64, 64]
  x = conv(x, 16, kernel = [3, 3], pad = [1, 1])
  output fc(flatten(x), 10)
}
)";
  Run plain = simulate_spec("crossbar X : isaac_ce { replicate = false }\n" + model +
                            "experiment E { model = Two; system = X; phase = inference; batch = 64 }\n");
  Run copied = simulate_spec("crossbar X : isaac_ce { replicate = true }\n" + model +
                             "experiment E { model = Two; system = X; phase = inference; batch = 64 }\n");
  REQUIRE(plain.ok);
  REQUIRE(copied.ok);
  CHECK(copied.result.totals.samples_per_s > 10 * plain.result.totals.samples_per_s);
  CHECK(copied.result.crossbar->arrays_needed <= copied.result.crossbar->chip.arrays);
  CHECK(copied.result.crossbar->layers.at(0).replicas > 1);
  // Copies change where products run, not how many there are.
  CHECK(copied.result.crossbar->layers.at(0).adc_conversions == plain.result.crossbar->layers.at(0).adc_conversions);
}

TEST_CASE("crossbar: differential weights take twice the columns") {
  Run offset = fc_on("X", "crossbar X : isaac_ce { unit_column = false }\n");
  Run diff = fc_on("X", "crossbar X : isaac_ce { signed_weights = differential; flip_encoding = false }\n");
  Run flipped = fc_on("X", "crossbar X : isaac_ce { signed_weights = differential }\n");
  REQUIRE(offset.ok);
  REQUIRE(diff.ok);
  REQUIRE(flipped.ok);
  // 8,000 columns -> 16,000: 125 arrays across instead of 63.
  CHECK(offset.result.crossbar->layers.at(0).arrays == 8 * 63);
  CHECK(diff.result.crossbar->layers.at(0).arrays == 8 * 125);
  CHECK(diff.result.crossbar->layers.at(0).adc_conversions == 8.0 * 16000 * 16);
  // Flipped columns are recovered with the unit column's read: one per array.
  CHECK(flipped.result.crossbar->layers.at(0).adc_conversions == 8.0 * (16000 + 125) * 16);
}

TEST_CASE("crossbar: training is refused") {
  Run run = simulate_spec(R"(
model FC {
  input x: f32[16]
  output fc(x, 4)
}
experiment E { model = FC; system = isaac_ce; phase = training; batch = 1 }
)");
  CHECK_FALSE(run.ok);
  CHECK(run.error.find("inference only") != std::string::npos);
}

TEST_CASE("crossbar: the DPE-2018 preset computes with about 6 bits") {
  // 128 inputs, 32 signed 8-bit outputs: two 4-bit cells per weight, twice
  // (differential), 128 columns over two 128 x 64 arrays.
  lang::Diagnostics diags;
  auto module = compile_text("dpe.dlc", R"(
import std.hardware
model One {
  input x: f32[128]
  output fc(x, 32)
}
experiment E { model = One; system = dpe2018; phase = inference; batch = 1 }
)", diags);
  REQUIRE_FALSE(diags.has_errors());
  Plan plan = lower(*module, experiment(*module));
  Simulation sim;
  Result r;
  std::string error;
  REQUIRE(build(plan, sim, error));
  REQUIRE(evaluate(sim, r, error));
  FunctionalOptions o;
  o.samples = 200;
  REQUIRE(functional_errors(plan, o, r, error));
  REQUIRE(r.functional.size() == 1);
  CHECK(r.functional[0].inputs == 128);
  CHECK(r.functional[0].outputs == 32);
  CHECK(std::fabs(r.functional[0].enob - 6) <= 0.5);
  CHECK(r.crossbar->layers.at(0).arrays == 2);
}

TEST_CASE("crossbar: annealing on a noisy crossbar finds the max cut more often than no annealing") {
  // W = -A on DPE-2018 arrays (1.5 % programming variation): the fields are
  // off by a little, and the annealed trials still do better.
  lang::Diagnostics diags;
  auto module = compile_text("maxcut.dlc", R"(
import std.hardware
experiment E {
  system = dpe2018
  hopfield { graph = random(nodes = 18, density = 0.5, seed = 11); trials = 100; sweeps = 15; noise_start = 1 }
}
)", diags);
  REQUIRE_FALSE(diags.has_errors());
  Plan plan = lower(*module, experiment(*module));
  REQUIRE(plan.hopfield);
  Graph graph;
  std::string error;
  int line = 0;
  REQUIRE(experiment_graph(*plan.hopfield, "", graph, error, line));
  Result r;
  REQUIRE(run_hopfield(plan, graph, r, error));
  REQUIRE(r.hopfield);
  const HopfieldReport& h = *r.hopfield;
  REQUIRE(h.optimum);
  CHECK(h.optimum_source == "brute force");
  CHECK(*h.success_rate > *h.success_rate_noise_free);
  CHECK(h.best_cut == *h.optimum);
  // One update is one product of a ±1 spin vector: 2 one-bit reads of 100 ns.
  CHECK(h.update_s == approx(2 * 100e-9));
  MESSAGE("annealed ", *h.success_rate, ", noise-free ", *h.success_rate_noise_free);
}

TEST_CASE("crossbar: recurrent layers step through their sequence, uncopied") {
  // An LSTM of 100 steps, 64 -> 128: K = 64 + 128 = 192 (2 arrays down),
  // N = 4 x 128 gates x 8 cells = 4,096 columns (32 across); one product per
  // step, one step after the other.
  Run run = simulate_spec(R"(
model R {
  input x: f32[100, 64]
  output lstm(x, 128)
}
experiment E { model = R; system = isaac_ce; phase = inference; batch = 1 }
)");
  REQUIRE(run.ok);
  const CrossbarLayer& l = run.result.crossbar->layers.at(0);
  CHECK(l.replicas == 1);
  CHECK(l.arrays == 64);
  CHECK(l.mvms == 100);
  CHECK(l.latency_s == approx(100 * 1.6e-6));
}

TEST_CASE("crossbar: another ADC resolution scales the ADCs' power and area by 2 per bit") {
  lang::Diagnostics diags;
  auto module = compile_text("adc.dlc", R"(
import std.hardware
model FC {
  input x: f32[1024]
  output fc(x, 1000)
}
experiment E { model = FC; system = isaac_ce; phase = inference; batch = 1 }
)", diags);
  REQUIRE_FALSE(diags.has_errors());
  Plan plan = lower(*module, experiment(*module));
  Simulation sim;
  std::string error;
  REQUIRE(build(plan, sim, error));
  Result at8, at9;
  REQUIRE(evaluate(sim, at8, error));
  sim.params.set(*sim.params.find("crossbar.adc_bits"), 9);
  REQUIRE(evaluate(sim, at9, error));
  const CrossbarChip &a = at8.crossbar->chip, &b = at9.crossbar->chip;
  CHECK(b.adc_bits == 9);
  CHECK(b.adc_power_w == approx(2 * a.adc_power_w));
  CHECK(b.power_w == approx(a.power_w + a.adc_power_w));  // 65.8 W + 32.26 W
  CHECK(b.area_m2 == approx(a.area_m2 + 168 * 12 * 0.0096e-6));
  CHECK(b.peak_ops_per_s == approx(a.peak_ops_per_s));
  // The layer's ADC energy doubles with it.
  CHECK(at9.crossbar->layers.at(0).energy_by_part.at(0).second ==
        approx(2 * at8.crossbar->layers.at(0).energy_by_part.at(0).second));
  // And the functional model sees the chip as set: 7 bits clip the column sums.
  Plan narrow = plan;
  sim.params.set(*sim.params.find("crossbar.adc_bits"), 7);
  narrow.system.crossbar = crossbar_at(sim, sim.params.values());
  CHECK(narrow.system.crossbar->adc_bits == 7);
  Result r;
  FunctionalOptions o;
  o.samples = 1;
  REQUIRE(functional_errors(narrow, o, r, error));
  CHECK(r.functional.at(0).saturations > 0);
  CHECK_FALSE(r.functional.at(0).exact);
}

// A chip must convert every column it reads: an IMA's ADCs take
// arrays_per_ima · cols / adcs_per_ima conversions per read, whatever
// cols_per_adc claims.
TEST_CASE("crossbar: a read lasts as long as the IMA's ADCs take to convert its columns") {
  // 256 columns, "one ADC per 64", one 16-bit read per product: it claimed
  // 16,128 arrays x 2 x 128 rows x 32 weights / 100 ns = 1,321 TOPS. Its 8 ADCs
  // per IMA convert 8 x 256 = 2,048 columns per read, 256 each at 1.28 GSa/s:
  // 200 ns, so 660.6 TOPS.
  Run slow = fc_on("wide", "crossbar wide : isaac_ce { cols = 256; cols_per_adc = 64; dac_bits = 16 }\n");
  REQUIRE(slow.ok);
  const CrossbarChip& s = slow.result.crossbar->chip;
  CHECK(s.mvm_s == approx(200e-9));
  CHECK(s.peak_ops_per_s == approx(16128.0 * 2 * 128 * 32 / 200e-9));
  // With the 32 ADCs per IMA that 64 columns each need, they convert in
  // 50 ns and the array's 100 ns read sets the pace: 1,321 TOPS.
  Run fast = fc_on("wide",
                   "crossbar wide : isaac_ce { cols = 256; cols_per_adc = 64; dac_bits = 16; adcs_per_ima = 32 }\n");
  REQUIRE(fast.ok);
  const CrossbarChip& f = fast.result.crossbar->chip;
  CHECK(f.mvm_s == approx(100e-9));
  CHECK(f.peak_ops_per_s == approx(16128.0 * 2 * 128 * 32 / 100e-9));
}

// A chip parameter set after build (--set crossbar.rows=64, --scale) means
// what the same declaration means: the mapping and the replicas follow it.
// Before, the mapping stayed the declared chip's: 30,720 arrays and 596.1
// samples/s against the declaration's 32,224 and 657.6.
TEST_CASE("crossbar: a value set after build gives the declaration's mapping") {
  lang::Diagnostics diags;
  auto module = compile_text("set.dlc", R"(
import std.models
import std.hardware
crossbar narrow : isaac_ce { rows = 64 }
experiment Set { model = ResNet50; system = isaac_ce; phase = inference; batch = 16 }
experiment Declared : Set { system = narrow }
)", diags);
  REQUIRE_FALSE(diags.has_errors());
  Simulation set, declared;
  std::string error;
  REQUIRE(build(lower(*module, *module->find_decl("Set")), set, error));
  REQUIRE(build(lower(*module, *module->find_decl("Declared")), declared, error));
  set.params.set(*set.params.find("crossbar.rows"), 64);
  Result a, b;
  REQUIRE(evaluate(set, a, error));
  REQUIRE(evaluate(declared, b, error));
  REQUIRE(a.crossbar);
  REQUIRE(b.crossbar);
  CHECK(a.crossbar->arrays_needed == b.crossbar->arrays_needed);
  CHECK(a.crossbar->chips == b.crossbar->chips);
  CHECK(a.crossbar->area_m2 == approx(b.crossbar->area_m2));
  CHECK(a.totals.samples_per_s == approx(b.totals.samples_per_s));
  CHECK(a.crossbar->arrays_needed == 32224);
}
