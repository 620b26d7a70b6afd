// The functional crossbar model: programming, one product, the real-valued
// wrapper and the error statistics. The formulas are in the header.
#include "simulator/crossbar_functional.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>

namespace dlc::simulator {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument("crossbar functional model: " + what);
}

void check_range(const char* what, std::int64_t value, std::int64_t lo, std::int64_t hi) {
  if (value < lo || value > hi)
    fail(std::string(what) + " is " + std::to_string(value) + ", outside [" + std::to_string(lo) + ", " +
         std::to_string(hi) + "]");
}

std::int64_t ceil_log2(std::int64_t n) {
  std::int64_t bits = 0;
  while ((std::int64_t{1} << bits) < n) ++bits;
  return bits;
}

void validate(const compiler::Crossbar& x, std::int64_t inputs, std::int64_t outputs) {
  check_range("rows", x.rows, 1, 1 << 20);
  check_range("cols", x.cols, 1, 1 << 20);
  check_range("cell_bits", x.cell_bits, 1, 16);
  check_range("weight_bits", x.weight_bits, 2, 32);
  check_range("input_bits", x.input_bits, 2, 32);
  check_range("dac_bits", x.dac_bits, 1, x.input_bits);
  check_range("adc_bits", x.adc_bits, 1, 40);
  check_range("inputs", inputs, 1, std::int64_t{1} << 30);
  check_range("outputs", outputs, 1, std::int64_t{1} << 30);
  if (x.signed_weights != "offset" && x.signed_weights != "differential")
    fail("signed_weights is '" + x.signed_weights + "', not 'offset' or 'differential'");
  if (!(x.conductance_min >= 0 && x.conductance_max > x.conductance_min))
    fail("the conductance window needs 0 <= conductance_min < conductance_max");
  if (!(x.programming_variation >= 0 && x.read_noise >= 0 && x.wire_resistance >= 0 && x.stuck_at >= 0 &&
        x.stuck_at <= 1))
    fail("non-idealities must be non-negative (stuck_at at most 1)");
  // A column's current is a sum of integer levels on an ideal array: exact
  // in a double below 2^53.
  const std::int64_t column_sum_bits = ceil_log2(x.rows) + x.dac_bits + x.cell_bits;
  if (column_sum_bits > 52) fail("log2(rows) + dac_bits + cell_bits exceeds 52: column sums would round");
  // The digital side in int64: a column's value per read (or its offset
  // correction) stays below 2^(max(adc, column sum bits) + cell_bits + 1),
  // shift-and-add scales it by less than 2^(input_bits + weight_bits), and
  // an output adds 2 · cells_per_weight · (row blocks) of them.
  const std::int64_t value_bits = std::max(x.adc_bits, column_sum_bits) + x.cell_bits + 1;
  const std::int64_t terms = 2 * x.cells_per_weight() * ((inputs + x.rows - 1) / x.rows);
  if (value_bits + x.input_bits + x.weight_bits + ceil_log2(terms) > 62)
    fail("the shift-and-add sums of this configuration could overflow int64");
}

// A row that one read drives: its first cell and its DAC level.
struct Drive {
  std::int64_t offset;
  double level;
};

// out[j] += Σ level · cells[offset + j] over the driven rows, four rows per
// pass so that `out` is stored a quarter as often (the loop is bound by
// stores, not arithmetic).
void accumulate(const double* cells, std::int64_t width, const std::vector<Drive>& rows, double* out) {
  std::size_t k = 0;
  for (; k + 4 <= rows.size(); k += 4) {
    const double *c0 = cells + rows[k].offset, *c1 = cells + rows[k + 1].offset;
    const double *c2 = cells + rows[k + 2].offset, *c3 = cells + rows[k + 3].offset;
    const double d0 = rows[k].level, d1 = rows[k + 1].level, d2 = rows[k + 2].level, d3 = rows[k + 3].level;
    for (std::int64_t j = 0; j < width; ++j) out[j] += d0 * c0[j] + d1 * c1[j] + d2 * c2[j] + d3 * c3[j];
  }
  for (; k < rows.size(); ++k) {
    const double* c = cells + rows[k].offset;
    const double d = rows[k].level;
    for (std::int64_t j = 0; j < width; ++j) out[j] += d * c[j];
  }
}

std::int64_t convert(double level, std::int64_t max_code, std::int64_t& saturations) {
  double code = std::floor(level + 0.5);
  if (code < 0) {
    ++saturations;
    return 0;
  }
  if (code > static_cast<double>(max_code)) {
    ++saturations;
    return max_code;
  }
  return static_cast<std::int64_t>(code);
}

}  // namespace

CrossbarMatrix CrossbarMatrix::program(const compiler::Crossbar& xbar, std::int64_t inputs, std::int64_t outputs,
                                       std::span<const std::int64_t> weights, std::mt19937_64& rng) {
  validate(xbar, inputs, outputs);
  if (static_cast<std::int64_t>(weights.size()) != inputs * outputs)
    fail("a " + std::to_string(inputs) + " x " + std::to_string(outputs) + " matrix needs " +
         std::to_string(inputs * outputs) + " weights, not " + std::to_string(weights.size()));
  const std::int64_t wmax = (std::int64_t{1} << (xbar.weight_bits - 1)) - 1;
  for (std::int64_t w : weights) check_range("a weight", w, -wmax - 1, wmax);

  CrossbarMatrix m;
  m.xbar_ = xbar;
  m.inputs_ = inputs;
  m.outputs_ = outputs;

  const std::int64_t w = xbar.cell_bits, top_level = (std::int64_t{1} << w) - 1;
  const std::int64_t cells = xbar.cells_per_weight();
  const bool differential = xbar.signed_weights == "differential";
  const std::int64_t per_set = outputs * cells;  // columns of one sign
  const std::int64_t logical = (differential ? 2 : 1) * per_set;
  const bool unit = xbar.unit_column && (!differential || xbar.flip_encoding);
  // The 2^(B−1) bias is bit B−1 of the stored value: in the top slice.
  const std::int64_t bias_level = differential ? 0 : std::int64_t{1} << (xbar.weight_bits - 1 - w * (cells - 1));
  const std::int64_t weight_offset = differential ? 0 : wmax + 1;

  const double delta_g = (xbar.conductance_max - xbar.conductance_min) / static_cast<double>(top_level);
  const double g0 = xbar.conductance_min / delta_g;  // g_min in levels
  boost::random::uniform_01<double> uniform;
  boost::random::normal_distribution<double> normal;

  for (std::int64_t row0 = 0; row0 < inputs; row0 += xbar.rows) {
    for (std::int64_t col0 = 0; col0 < logical; col0 += xbar.cols) {
      Array a;
      a.row0 = row0;
      a.rows = std::min(xbar.rows, inputs - row0);
      const std::int64_t n = std::min(xbar.cols, logical - col0);
      a.unit = unit;
      a.width = n + (unit ? 1 : 0);
      a.levels.assign(a.rows * a.width, 0.0);
      for (std::int64_t j = 0; j < n; ++j) {
        const std::int64_t c = col0 + j, set = c / per_set, slice = c % per_set % cells;
        Column col;
        col.output = c % per_set / cells;
        col.shift = w * slice;
        col.sign = set == 0 ? 1 : -1;
        col.bias = slice == cells - 1 ? bias_level : 0;
        for (std::int64_t i = 0; i < a.rows; ++i) {
          std::int64_t wv = weights[(row0 + i) * outputs + col.output];
          std::int64_t u = differential ? std::max<std::int64_t>(set == 0 ? wv : -wv, 0) : wv + weight_offset;
          std::int64_t level = (u >> col.shift) & top_level;
          a.levels[i * a.width + j] = static_cast<double>(level);
          col.level_sum += level;
        }
        // The criterion is the array's, not this block's: a column of a
        // short last block reads less anyway.
        col.flipped = xbar.flip_encoding && 2 * col.level_sum > xbar.rows * top_level;
        if (col.flipped)
          for (std::int64_t i = 0; i < a.rows; ++i)
            a.levels[i * a.width + j] = static_cast<double>(top_level) - a.levels[i * a.width + j];
        a.columns.push_back(col);
      }
      if (unit)
        for (std::int64_t i = 0; i < a.rows; ++i) a.levels[i * a.width + n] = 1;

      // The cells as programmed, in levels: e = g / Δg − g0. Each effect
      // draws only when it is on, so an ideal array keeps its exact levels.
      const bool any = xbar.stuck_at > 0 || xbar.programming_variation > 0 || xbar.wire_resistance > 0;
      for (std::int64_t i = 0; any && i < a.rows; ++i) {
        for (std::int64_t j = 0; j < a.width; ++j) {
          double& e = a.levels[i * a.width + j];
          bool stuck = false;
          if (xbar.stuck_at > 0) {
            double u = uniform(rng);
            if (u < xbar.stuck_at) {
              stuck = true;
              e = u < xbar.stuck_at / 2 ? 0.0 : static_cast<double>(top_level);
            }
          }
          if (!stuck && xbar.programming_variation > 0)
            e = std::max(0.0, (e + g0) * (1 + xbar.programming_variation * normal(rng))) - g0;
          if (xbar.wire_resistance > 0) {
            const std::int64_t column = unit && j == n ? xbar.cols : j;  // the unit column is the last one
            double g = (e + g0) * delta_g;
            g /= 1 + g * xbar.wire_resistance * static_cast<double>(i + column + 2);
            e = g / delta_g - g0;
          }
        }
      }
      // Read noise needs Σᵢ (vᵢ g_eff,ij / Δg)² at every read.
      if (xbar.read_noise > 0) {
        a.squares.resize(a.levels.size());
        for (std::size_t c = 0; c < a.levels.size(); ++c) a.squares[c] = (a.levels[c] + g0) * (a.levels[c] + g0);
      }
      m.arrays_.push_back(std::move(a));
    }
  }
  return m;
}

std::int64_t CrossbarMatrix::conversions_per_mvm() const {
  std::int64_t columns = 0;
  for (const Array& a : arrays_) columns += a.width;
  return columns * xbar_.reads_per_mvm();
}

std::int64_t CrossbarMatrix::flipped_columns() const {
  std::int64_t n = 0;
  for (const Array& a : arrays_)
    for (const Column& c : a.columns) n += c.flipped ? 1 : 0;
  return n;
}

std::vector<std::int64_t> CrossbarMatrix::mvm(std::span<const std::int64_t> x, std::mt19937_64& rng,
                                              MvmStats* stats) const {
  return run(x, rng, stats, -1);
}

std::int64_t CrossbarMatrix::mvm_one(std::span<const std::int64_t> x, std::int64_t output, std::mt19937_64& rng) const {
  if (output < 0 || output >= outputs_)
    fail("output " + std::to_string(output) + " of a matrix with " + std::to_string(outputs_) + " outputs");
  return run(x, rng, nullptr, output)[static_cast<std::size_t>(output)];
}

std::vector<std::int64_t> CrossbarMatrix::run(std::span<const std::int64_t> x, std::mt19937_64& rng, MvmStats* stats,
                                              std::int64_t only) const {
  const compiler::Crossbar& xb = xbar_;
  if (static_cast<std::int64_t>(x.size()) != inputs_)
    fail("the matrix has " + std::to_string(inputs_) + " inputs, the vector " + std::to_string(x.size()));
  const std::int64_t xmax = (std::int64_t{1} << (xb.input_bits - 1)) - 1;
  for (std::int64_t v : x) check_range("an input", v, -xmax - 1, xmax);

  const std::int64_t reads = xb.reads_per_mvm(), v = xb.dac_bits;
  const std::int64_t top_bits = xb.input_bits - v * (reads - 1);  // bits in the last slice
  const bool offset_top = top_bits > 1;
  const std::int64_t top_level = (std::int64_t{1} << xb.cell_bits) - 1;
  const std::int64_t max_code = (std::int64_t{1} << xb.adc_bits) - 1;
  const bool differential = xb.signed_weights == "differential";
  const bool needs_input_sum = xb.flip_encoding || !differential;
  const bool noisy = xb.read_noise > 0;
  boost::random::normal_distribution<double> normal;

  // The DAC levels of every read, input-major: drive[i · reads + r].
  std::vector<double> drive(inputs_ * reads);
  const std::uint64_t input_mask = (std::uint64_t{1} << xb.input_bits) - 1;
  const std::uint64_t slice_mask = (std::uint64_t{1} << v) - 1;
  for (std::int64_t i = 0; i < inputs_; ++i) {
    const std::uint64_t bits = static_cast<std::uint64_t>(x[i]) & input_mask;
    for (std::int64_t r = 0; r < reads; ++r) {
      std::uint64_t d = (bits >> (v * r)) & slice_mask;
      if (r == reads - 1 && offset_top) d ^= std::uint64_t{1} << (top_bits - 1);
      drive[i * reads + r] = static_cast<double>(d);
    }
  }

  std::vector<std::int64_t> y(outputs_, 0);
  std::int64_t saturations = 0;
  std::vector<double> current, power;  // reads x width: every read of one array
  std::vector<std::int64_t> input_sum, acc;
  std::vector<Drive> active, active_squared;
  for (const Array& a : arrays_) {
    // One output: only the arrays that hold its columns are read.
    auto holds = [&](const Column& c) { return c.output == only; };
    if (only >= 0 && std::none_of(a.columns.begin(), a.columns.end(), holds)) continue;
    const std::int64_t n = static_cast<std::int64_t>(a.columns.size()), width = a.width;
    // The column currents of all reads, in levels above g_min · Σ vᵢ.
    current.assign(reads * width, 0.0);
    if (noisy) power.assign(reads * width, 0.0);
    input_sum.assign(reads, 0);
    for (std::int64_t r = 0; r < reads; ++r) {
      active.clear();
      active_squared.clear();
      for (std::int64_t i = 0; i < a.rows; ++i) {
        const double dv = drive[(a.row0 + i) * reads + r];
        if (dv == 0) continue;
        input_sum[r] += static_cast<std::int64_t>(dv);
        active.push_back({i * width, dv});
        if (noisy) active_squared.push_back({i * width, dv * dv});
      }
      accumulate(a.levels.data(), width, active, &current[r * width]);
      if (noisy) accumulate(a.squares.data(), width, active_squared, &power[r * width]);
    }

    acc.assign(n, 0);
    for (std::int64_t r = 0; r < reads; ++r) {
      double* cur = &current[r * width];
      if (noisy)
        for (std::int64_t j = 0; j < width; ++j)
          cur[j] += xb.read_noise * std::sqrt(power[r * width + j]) * normal(rng);

      // Σ vᵢ, from the unit column's conversion or counted digitally.
      std::int64_t unit_read = needs_input_sum ? input_sum[r] : 0;
      if (a.unit) unit_read = convert(cur[n], max_code, saturations);

      const std::int64_t weight = (r == reads - 1 && !offset_top ? -1 : 1) * (std::int64_t{1} << (v * r));
      for (std::int64_t j = 0; j < n; ++j) {
        const Column& col = a.columns[j];
        const std::int64_t code = convert(cur[j], max_code, saturations);
        std::int64_t value = col.flipped ? top_level * unit_read - code : code;
        value -= col.bias * unit_read;
        acc[j] += weight * value;
      }
    }
    for (std::int64_t j = 0; j < n; ++j) {
      const Column& col = a.columns[j];
      // The offset-binary last slice added 2^(I−1) to every input.
      if (offset_top) acc[j] -= (std::int64_t{1} << (xb.input_bits - 1)) * (col.level_sum - col.bias * a.rows);
      y[col.output] += col.sign * acc[j] * (std::int64_t{1} << col.shift);
    }
  }
  if (stats) {
    stats->products += 1;
    stats->array_reads += array_reads_per_mvm();
    stats->conversions += conversions_per_mvm();
    stats->saturations += saturations;
  }
  return y;
}

Quantized quantize(std::span<const double> v, std::int64_t bits) {
  if (bits < 2 || bits > 62) fail("cannot quantise to " + std::to_string(bits) + " bits");
  double max_abs = 0;
  for (double e : v) {
    if (!std::isfinite(e)) fail("cannot quantise a value that is not finite");
    max_abs = std::max(max_abs, std::abs(e));
  }
  const double top = static_cast<double>((std::int64_t{1} << (bits - 1)) - 1);
  Quantized q;
  q.scale = max_abs > 0 ? max_abs / top : 1.0;
  q.values.reserve(v.size());
  for (double e : v) q.values.push_back(static_cast<std::int64_t>(std::clamp(std::round(e / q.scale), -top, top)));
  return q;
}

RealCrossbarMatrix RealCrossbarMatrix::program(const compiler::Crossbar& xbar, std::int64_t inputs,
                                               std::int64_t outputs, std::span<const double> weights,
                                               std::mt19937_64& rng) {
  Quantized q = quantize(weights, xbar.weight_bits);
  RealCrossbarMatrix m;
  m.matrix_ = CrossbarMatrix::program(xbar, inputs, outputs, q.values, rng);
  m.weight_scale_ = q.scale;
  return m;
}

std::vector<double> RealCrossbarMatrix::mvm(std::span<const double> x, std::mt19937_64& rng,
                                            MvmStats* stats) const {
  Quantized q = quantize(x, matrix_.crossbar().input_bits);
  std::vector<std::int64_t> y = matrix_.mvm(q.values, rng, stats);
  std::vector<double> out(y.size());
  for (std::size_t j = 0; j < y.size(); ++j) out[j] = static_cast<double>(y[j]) * weight_scale_ * q.scale;
  return out;
}

double RealCrossbarMatrix::mvm_one(std::span<const double> x, std::int64_t output, std::mt19937_64& rng) const {
  Quantized q = quantize(x, matrix_.crossbar().input_bits);
  return static_cast<double>(matrix_.mvm_one(q.values, output, rng)) * weight_scale_ * q.scale;
}

std::vector<double> exact_mvm(std::int64_t inputs, std::int64_t outputs, std::span<const double> weights,
                              std::span<const double> x) {
  if (static_cast<std::int64_t>(weights.size()) != inputs * outputs || static_cast<std::int64_t>(x.size()) != inputs)
    fail("exact_mvm: the shapes of the matrix and the vector do not agree");
  std::vector<double> y(outputs, 0.0);
  for (std::int64_t i = 0; i < inputs; ++i)
    for (std::int64_t j = 0; j < outputs; ++j) y[j] += weights[i * outputs + j] * x[i];
  return y;
}

MvmError compare(std::span<const double> computed, std::span<const double> exact, const MvmStats& stats) {
  if (computed.size() != exact.size())
    fail("compare: " + std::to_string(computed.size()) + " computed outputs against " +
         std::to_string(exact.size()) + " exact ones");
  MvmError e;
  e.outputs = static_cast<std::int64_t>(exact.size());
  e.saturations = stats.saturations;
  double squares = 0;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t i = 0; i < exact.size(); ++i) {
    const double err = std::abs(computed[i] - exact[i]);
    e.max_abs = std::max(e.max_abs, err);
    squares += err * err;
    lo = std::min(lo, exact[i]);
    hi = std::max(hi, exact[i]);
  }
  if (e.outputs > 0) {
    e.rms = std::sqrt(squares / static_cast<double>(e.outputs));
    e.range = hi - lo;
  }
  e.exact = e.rms == 0;
  // A constant exact output with errors has no range to resolve: −∞ bits.
  e.enob = e.exact ? std::numeric_limits<double>::infinity() : std::log2(e.range / (std::sqrt(12.0) * e.rms));
  return e;
}

}  // namespace dlc::simulator
