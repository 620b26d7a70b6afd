// The functional crossbar model against a plain int64 product, the ISAAC ADC
// rule, and the non-idealities' effect on the error.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "compiler/crossbar.hpp"
#include "simulator/crossbar_functional.hpp"
#include "tests/unit/approx.hpp"

using dlc::compiler::adc_bits_required;
using dlc::compiler::Crossbar;
using dlc::test::approx;
using namespace dlc::simulator;

namespace {

std::vector<std::int64_t> reference(std::int64_t k, std::int64_t n, const std::vector<std::int64_t>& w,
                                    const std::vector<std::int64_t>& x) {
  std::vector<std::int64_t> y(n, 0);
  for (std::int64_t i = 0; i < k; ++i)
    for (std::int64_t j = 0; j < n; ++j) y[j] += w[i * n + j] * x[i];
  return y;
}

// Uniform over the signed range, with both extremes planted.
std::vector<std::int64_t> random_signed(std::int64_t count, std::int64_t bits, std::mt19937_64& rng) {
  const std::int64_t top = (std::int64_t{1} << (bits - 1)) - 1;
  std::uniform_int_distribution<std::int64_t> dist(-top - 1, top);
  std::vector<std::int64_t> v(count);
  for (auto& e : v) e = dist(rng);
  v[0] = -top - 1;
  v[count / 2] = top;
  v[count - 1] = -top - 1;
  return v;
}

std::vector<double> random_real(std::int64_t count, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> v(count);
  for (auto& e : v) e = dist(rng);
  return v;
}

// Programs a random K x N matrix and checks several random products exactly.
MvmStats check_exact(const Crossbar& xbar, std::int64_t k, std::int64_t n, int vectors = 4) {
  std::mt19937_64 data(7);
  std::vector<std::int64_t> w = random_signed(k * n, xbar.weight_bits, data);
  std::mt19937_64 rng(xbar.seed);
  CrossbarMatrix m = CrossbarMatrix::program(xbar, k, n, w, rng);
  MvmStats stats;
  for (int t = 0; t < vectors; ++t) {
    std::vector<std::int64_t> x = random_signed(k, xbar.input_bits, data);
    CHECK(m.mvm(x, rng, &stats) == reference(k, n, w, x));
  }
  CHECK(stats.saturations == 0);
  return stats;
}

// RMS error of a random 256 x 64 real matrix over 8 random vectors.
MvmError real_error(const Crossbar& xbar, std::uint64_t seed = 1) {
  const std::int64_t k = 256, n = 64;
  std::mt19937_64 data(11);
  std::vector<double> w = random_real(k * n, data);
  std::mt19937_64 rng(seed);
  RealCrossbarMatrix m = RealCrossbarMatrix::program(xbar, k, n, w, rng);
  std::vector<double> computed, exact;
  MvmStats stats;
  for (int t = 0; t < 8; ++t) {
    std::vector<double> x = random_real(k, data);
    std::vector<double> y = m.mvm(x, rng, &stats);
    std::vector<double> e = exact_mvm(k, n, w, x);
    computed.insert(computed.end(), y.begin(), y.end());
    exact.insert(exact.end(), e.begin(), e.end());
  }
  return compare(computed, exact, stats);
}

}  // namespace

TEST_CASE("crossbar functional: adc_bits_required is ISAAC's rule") {
  CHECK(adc_bits_required(128, 1, 2, true) == 8);
  CHECK(adc_bits_required(128, 1, 2, false) == 9);
  CHECK(adc_bits_required(256, 1, 2, true) == 9);
  CHECK(adc_bits_required(128, 2, 2, false) == 11);
  CHECK(adc_bits_required(100, 1, 2, false) == 9);  // rows round up to 128
  // For R = 2^k it is the width of the largest column sum, R (2^v − 1)(2^w − 1),
  // less the flipped encoding's bit.
  for (std::int64_t r = 2; r <= 1024; r *= 2)
    for (std::int64_t v = 1; v <= 4; ++v)
      for (std::int64_t w = 1; w <= 4; ++w)
        for (bool flip : {false, true}) {
          CAPTURE(r);
          CAPTURE(v);
          CAPTURE(w);
          CAPTURE(flip);
          auto largest = static_cast<std::uint64_t>(r * ((1 << v) - 1) * ((1 << w) - 1));
          CHECK(adc_bits_required(r, v, w, flip) == std::bit_width(largest) - (flip ? 1 : 0));
        }
}

TEST_CASE("crossbar functional: ISAAC-CE is bit-exact and converts arrays x reads x columns") {
  Crossbar xbar;  // 128 x 128, 2-bit cells, 16-bit weights and inputs, 1-bit DACs, flipped, offset, unit column
  REQUIRE(xbar.adc_bits == adc_bits_required(xbar.rows, xbar.dac_bits, xbar.cell_bits, xbar.flip_encoding));
  MvmStats stats = check_exact(xbar, 300, 40);
  // 300 rows: 3 blocks (128, 128, 44); 40 x 8 = 320 columns: 3 arrays
  // (128, 128, 64), each with its unit column; 16 reads.
  CHECK(stats.products == 4);
  CHECK(stats.array_reads == 4 * 9 * 16);
  CHECK(stats.conversions == 4 * 16 * 3 * (129 + 129 + 65));

  // Random levels sum near the flip threshold: some columns flip, not all.
  std::mt19937_64 data(3), rng(1);
  std::vector<std::int64_t> w = random_signed(300 * 40, 16, data);
  CrossbarMatrix m = CrossbarMatrix::program(xbar, 300, 40, w, rng);
  CHECK(m.arrays() == 9);
  CHECK(m.conversions_per_mvm() == 16 * 3 * (129 + 129 + 65));
  CHECK(m.flipped_columns() > 0);
  CHECK(m.flipped_columns() < 3 * 320);

  // A 1152 x 128 layer fills 9 x 8 arrays: one conversion per 16-bit MAC,
  // 129/128 with the unit columns (ISAAC; the cost model's V6).
  std::vector<std::int64_t> layer(1152 * 128, 0);
  CrossbarMatrix full = CrossbarMatrix::program(xbar, 1152, 128, layer, rng);
  CHECK(full.arrays() == 72);
  CHECK(full.array_reads_per_mvm() == 72 * 16);
  CHECK(full.conversions_per_mvm() == 72 * 16 * 129);
  CHECK(static_cast<double>(full.conversions_per_mvm()) / (1152 * 128) == approx(129.0 / 128));
}

TEST_CASE("crossbar functional: differential weights are bit-exact") {
  Crossbar xbar;
  xbar.signed_weights = "differential";
  MvmStats stats = check_exact(xbar, 300, 40);
  // 640 columns over 5 arrays per row block; the unit column stays for the flipped columns.
  CHECK(stats.conversions == 4 * 16 * 3 * (5 * 129));
  xbar.flip_encoding = false;
  xbar.adc_bits = adc_bits_required(xbar.rows, xbar.dac_bits, xbar.cell_bits, false);
  stats = check_exact(xbar, 300, 40);
  CHECK(stats.conversions == 4 * 16 * 3 * (5 * 128));  // no unit column needed
}

TEST_CASE("crossbar functional: other cells and DACs are bit-exact at the required ADC bits") {
  struct Case {
    std::int64_t cell_bits, dac_bits;
    bool flip;
  };
  // dac_bits 2 leaves a 2-bit last slice (driven in offset binary), 3 a 1-bit
  // one (subtracted); cell_bits 3 does not divide 16.
  for (Case c : {Case{1, 2, true}, Case{4, 2, true}, Case{1, 2, false}, Case{4, 2, false}, Case{2, 3, true},
                 Case{3, 1, true}, Case{3, 4, false}}) {
    CAPTURE(c.cell_bits);
    CAPTURE(c.dac_bits);
    CAPTURE(c.flip);
    Crossbar xbar;
    xbar.cell_bits = c.cell_bits;
    xbar.dac_bits = c.dac_bits;
    xbar.flip_encoding = c.flip;
    xbar.adc_bits = adc_bits_required(xbar.rows, xbar.dac_bits, xbar.cell_bits, xbar.flip_encoding);
    check_exact(xbar, 300, 40);
  }
}

TEST_CASE("crossbar functional: without the flipped encoding 9 bits are exact") {
  Crossbar xbar;
  xbar.flip_encoding = false;
  xbar.adc_bits = 9;
  check_exact(xbar, 300, 40);
  // The bias can also be removed digitally, without a unit column.
  xbar.unit_column = false;
  MvmStats stats = check_exact(xbar, 300, 40);
  CHECK(stats.conversions == 4 * 16 * 3 * (128 + 128 + 64));
}

TEST_CASE("crossbar functional: 8 bits without flipping clip all-max columns, with flipping they do not") {
  // Every weight 2^15 − 1 stores 2^16 − 1 (every cell at level 3); every
  // input 2^15 − 1 drives 1 on all 128 rows for 15 reads: 384 > 255.
  const std::int64_t k = 128, n = 4;
  std::vector<std::int64_t> w(k * n, 32767), x(k, 32767);
  Crossbar xbar;
  xbar.flip_encoding = false;
  xbar.adc_bits = 8;
  std::mt19937_64 rng(1);
  MvmStats stats;
  CrossbarMatrix m = CrossbarMatrix::program(xbar, k, n, w, rng);
  CHECK(m.mvm(x, rng, &stats) != reference(k, n, w, x));
  CHECK(stats.saturations > 0);

  xbar.flip_encoding = true;  // the columns are stored at level 0 and recovered from the unit column
  MvmStats flipped;
  CrossbarMatrix f = CrossbarMatrix::program(xbar, k, n, w, rng);
  CHECK(f.flipped_columns() == n * 8);
  CHECK(f.mvm(x, rng, &flipped) == reference(k, n, w, x));
  CHECK(flipped.saturations == 0);
}

TEST_CASE("crossbar functional: the real-valued product errs only by quantisation when ideal") {
  MvmError e = real_error(Crossbar{});
  CHECK(e.outputs == 8 * 64);
  CHECK(e.saturations == 0);
  CHECK_FALSE(e.exact);
  // 16-bit weights and inputs: the error is a few units of the last place
  // of a product whose range is some 20 units.
  CHECK(e.rms < 1e-3);
  CHECK(e.enob > 12);
}

TEST_CASE("crossbar functional: the error grows with read noise") {
  std::vector<double> rms;
  for (double sigma : {0.0, 0.01, 0.02, 0.05, 0.1}) {
    Crossbar xbar;
    xbar.read_noise = sigma;
    rms.push_back(real_error(xbar).rms);
  }
  for (std::size_t i = 1; i < rms.size(); ++i) {
    CAPTURE(i);
    CHECK(rms[i] > rms[i - 1]);
  }
}

TEST_CASE("crossbar functional: a seed reproduces a noisy run, another seed does not") {
  Crossbar xbar;
  xbar.read_noise = 0.05;
  xbar.programming_variation = 0.02;
  std::mt19937_64 data(5);
  std::vector<std::int64_t> w = random_signed(200 * 16, 16, data), x = random_signed(200, 16, data);
  auto run = [&](std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    CrossbarMatrix m = CrossbarMatrix::program(xbar, 200, 16, w, rng);
    return m.mvm(x, rng);
  };
  CHECK(run(xbar.seed) == run(xbar.seed));
  CHECK(run(xbar.seed) != run(xbar.seed + 1));
}

TEST_CASE("crossbar functional: stuck cells and programming variation cause errors") {
  const double ideal = real_error(Crossbar{}).rms;
  Crossbar stuck;
  stuck.stuck_at = 0.01;
  CHECK(real_error(stuck).rms > 100 * ideal);
  Crossbar varied;
  varied.programming_variation = 0.02;
  CHECK(real_error(varied).rms > 100 * ideal);
}

TEST_CASE("crossbar functional: the error grows with wire resistance") {
  std::vector<double> rms;
  // At 0.01 Ω the drop stays under half a level per column; 0.03 Ω is the
  // first of these values it shows at.
  for (double r : {0.0, 0.03, 0.1, 1.0}) {
    Crossbar xbar;
    xbar.wire_resistance = r;
    rms.push_back(real_error(xbar).rms);
  }
  CHECK(rms[1] > 2 * rms[0]);
  CHECK(rms[2] > rms[1]);
  CHECK(rms[3] > rms[2]);
}

TEST_CASE("crossbar functional: ENOB, RMS and range of a known case") {
  // Errors ±0.1 on every output: RMS 0.1; range 3;
  // ENOB = log2(3 / (√12 · 0.1)) = log2(8.660) = 3.114.
  std::vector<double> exact{0, 1, 2, 3}, computed{0.1, 1.1, 1.9, 2.9};
  MvmStats stats;
  stats.saturations = 2;
  MvmError e = compare(computed, exact, stats);
  CHECK(e.outputs == 4);
  CHECK(e.max_abs == approx(0.1));
  CHECK(e.rms == approx(0.1));
  CHECK(e.range == 3);
  CHECK(e.enob == approx(3.114409));
  CHECK_FALSE(e.exact);
  CHECK(e.saturations == 2);

  MvmError same = compare(exact, exact);
  CHECK(same.exact);
  CHECK(same.rms == 0);
  CHECK(std::isinf(same.enob));
}

TEST_CASE("crossbar functional: values the arrays cannot hold are refused") {
  Crossbar xbar;
  std::mt19937_64 rng(1);
  std::vector<std::int64_t> w(4, 0);
  auto program = [&] { return CrossbarMatrix::program(xbar, 2, 2, w, rng); };
  w[1] = 32768;  // one past the 16-bit range
  CHECK_THROWS_AS(program(), std::invalid_argument);
  w[1] = 0;
  CrossbarMatrix m = program();
  std::vector<std::int64_t> x{-32769, 0};
  CHECK_THROWS_AS(m.mvm(x, rng), std::invalid_argument);
  xbar.signed_weights = "sign_magnitude";
  CHECK_THROWS_AS(program(), std::invalid_argument);
}

TEST_CASE("crossbar functional: one output alone is the product's, bit for bit") {
  Crossbar xbar;
  std::mt19937_64 data(5), rng(1);
  std::vector<std::int64_t> w = random_signed(300 * 40, 16, data), x = random_signed(300, 16, data);
  CrossbarMatrix m = CrossbarMatrix::program(xbar, 300, 40, w, rng);
  std::vector<std::int64_t> y = m.mvm(x, rng), exact = reference(300, 40, w, x);
  for (std::int64_t j = 0; j < 40; ++j) {
    CHECK(m.mvm_one(x, j, rng) == y[static_cast<std::size_t>(j)]);
    CHECK(m.mvm_one(x, j, rng) == exact[static_cast<std::size_t>(j)]);
  }
  CHECK_THROWS_AS(m.mvm_one(x, 40, rng), std::invalid_argument);
  // The real-valued one too, against the exact product's quantisation error.
  std::vector<double> rw(64 * 8), rx(64);
  for (double& v : rw) v = static_cast<double>(static_cast<std::int64_t>(data() % 2001) - 1000) / 1000;
  for (double& v : rx) v = static_cast<double>(static_cast<std::int64_t>(data() % 2001) - 1000) / 1000;
  RealCrossbarMatrix r = RealCrossbarMatrix::program(xbar, 64, 8, rw, rng);
  std::vector<double> ry = r.mvm(rx, rng);
  for (std::int64_t j = 0; j < 8; ++j) CHECK(r.mvm_one(rx, j, rng) == ry[static_cast<std::size_t>(j)]);
}
