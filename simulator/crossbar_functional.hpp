// The functional model of one matrix-vector product y = Wᵀx (W is K x N: K
// inputs on the rows, N outputs on the columns) on memristor crossbars,
// computed the way the hardware computes it (ISAAC, ISCA 2016, §III-IV; DPE,
// Adv. Mater. 2018, for the conductance window and the non-idealities):
//
//   weights   w ∈ [−2^(B−1), 2^(B−1)−1], B = weight_bits. `offset` stores
//             u = w + 2^(B−1); `differential` stores max(w, 0) in one set of
//             columns and max(−w, 0) in another, subtracted after conversion.
//             Each unsigned value is cut into cells_per_weight() slices of
//             c = cell_bits bits: one column per slice, levels 0 .. L = 2^c − 1.
//   cells     level l has conductance g = g_min + l · Δg, Δg = (g_max − g_min) / L.
//   inputs    x ∈ [−2^(I−1), 2^(I−1)−1], I = input_bits, streamed as
//             reads_per_mvm() slices of dac_bits bits, lowest first. With
//             dac_bits = 1 (ISAAC) the last read drives the sign bit and
//             shift-and-add subtracts it. When the last slice holds v' > 1
//             bits, an unsigned DAC cannot drive its negative values, so that
//             slice is driven in offset binary (its sign bit inverted, i.e.
//             x + 2^(I−1) overall) and the digital side subtracts
//             2^(I−1) · Σᵢ wᵢⱼ, a per-column constant known when the matrix is
//             programmed (like a layer's bias). Both are exact.
//   tiling    rows over ceil(K / rows) arrays, columns (N · cells_per_weight,
//             twice that when differential) over ceil(· / cols) arrays; every
//             array converts its own columns and the digital side adds.
//   one read  column current I_j = Σᵢ vᵢ gᵢⱼ with vᵢ the DAC level. The sense
//             stage subtracts g_min · Σᵢ vᵢ, as an ideal reference (dummy)
//             column at g_min would, and the ADC reads (I_j − g_min Σ vᵢ) / Δg:
//             rounded to the nearest integer, clipped to [0, 2^adc_bits − 1]
//             (each clip counts as a saturation).
//   unit col  with `unit_column` (ISAAC's 129th column), each array has a real
//             column of cells at level 1 beside its `cols` columns: its read is
//             Σᵢ vᵢ, converted by the same ADC with the same noise. It removes
//             the offset bias (2^(B−1) sits in the top slice's column at level
//             2^(B−1−c·(cells−1)), so that column subtracts that many unit
//             reads) and recovers flipped columns. Without `unit_column` the
//             digital side counts Σᵢ vᵢ exactly from the input register.
//             Differential arrays without flipping need no Σᵢ vᵢ and have no
//             unit column. With one-bit cells and flipped encoding the unit
//             column's read (up to rows · (2^v − 1), v = dac_bits) is one bit
//             wider than adc_bits_required gives the data columns, so it can
//             clip on adversarial inputs.
//   flipping  (ISAAC §IV-B) a column whose levels sum to more than
//             rows · L / 2 is stored as L − level; its true read is
//             L · Σᵢ vᵢ − converted. No read then exceeds half the range,
//             which is the bit adc_bits_required saves.
//   digital   reads and slices are shifted and added into int64 per output.
//
// Non-idealities (Crossbar's relative standard deviations, all off by
// default), applied to every cell the arrays hold, unit columns included:
//   stuck_at               each cell is stuck with that probability, half of
//                          them at g_min, half at g_max (no variation then);
//   programming_variation  g ← g · (1 + σ_p · N(0,1)), once, at programming
//                          (clipped at 0: a conductance is not negative);
//   wire_resistance r      first-order IR drop: the cell at row i, column j
//                          (0-based, in its array) sees (i + 1) segments of
//                          column wire to the sense amplifier and (j + 1) of
//                          row wire from its driver, so
//                          g_eff = g / (1 + g · r · (i + j + 2)); the unit
//                          column is the array's physical column `cols`;
//   read_noise σ_r         every read multiplies every cell by
//                          (1 + σ_r · N(0,1)); the model draws one normal
//                          per column and read with the same variance,
//                          σ_r² · Σᵢ (vᵢ g_eff,ij)².
// The digital side knows only the ideal conductances. Random numbers come
// from the std::mt19937_64 the caller passes (seed it from Crossbar::seed)
// through Boost.Random's distributions, whose algorithms (unlike the
// standard library's) are the same on every platform; they are drawn in a
// fixed order, so a seed reproduces a run. An ideal array draws none.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "compiler/crossbar.hpp"

namespace dlc::simulator {

// What products cost and clipped, accumulated over calls, so a caller can
// check the cost model: conversions = arrays · reads_per_mvm · (used columns
// + unit column) per product.
struct MvmStats {
  std::int64_t products = 0;
  std::int64_t array_reads = 0;  // one input slice applied to one array
  std::int64_t conversions = 0;  // ADC conversions, unit columns included
  std::int64_t saturations = 0;  // conversions clipped at 0 or 2^adc_bits − 1
};

// An integer matrix programmed onto arrays, ready for many products.
class CrossbarMatrix {
 public:
  // Programs the K x N matrix `weights` (row-major, each in the signed
  // weight_bits range). Programming variation and stuck cells are drawn
  // from `rng` here. Throws std::invalid_argument on a configuration the
  // model cannot represent or on weights out of range.
  static CrossbarMatrix program(const compiler::Crossbar& xbar, std::int64_t inputs, std::int64_t outputs,
                                std::span<const std::int64_t> weights, std::mt19937_64& rng);

  // y = Wᵀx for K signed input_bits integers, as the arrays compute it. Read
  // noise is drawn from `rng`; `stats`, when given, is added to.
  std::vector<std::int64_t> mvm(std::span<const std::int64_t> x, std::mt19937_64& rng,
                                MvmStats* stats = nullptr) const;
  // Output `output` alone (a Hopfield neuron's field): only the arrays that
  // hold its columns are read, so their noise is drawn and nothing else.
  std::int64_t mvm_one(std::span<const std::int64_t> x, std::int64_t output, std::mt19937_64& rng) const;

  std::int64_t inputs() const { return inputs_; }
  std::int64_t outputs() const { return outputs_; }
  std::int64_t arrays() const { return static_cast<std::int64_t>(arrays_.size()); }
  std::int64_t array_reads_per_mvm() const { return arrays() * xbar_.reads_per_mvm(); }
  std::int64_t conversions_per_mvm() const;
  std::int64_t flipped_columns() const;
  const compiler::Crossbar& crossbar() const { return xbar_; }

 private:
  // What the digital side knows about one column.
  struct Column {
    std::int64_t output = 0;
    std::int64_t shift = 0;      // cell_bits · slice
    std::int64_t sign = 1;       // −1 for the negative set of a differential pair
    std::int64_t bias = 0;       // unit reads to subtract (offset encoding, top slice)
    std::int64_t level_sum = 0;  // Σ of its true (unflipped) levels
    bool flipped = false;
  };
  struct Array {
    std::int64_t row0 = 0, rows = 0;  // the inputs it holds
    std::int64_t width = 0;           // columns stored, unit column included
    bool unit = false;                // its last stored column is the unit column
    std::vector<Column> columns;      // the data columns
    // Effective conductances in levels, (g_eff − g_min) / Δg, row-major
    // rows x width; exactly the integer levels on an ideal array.
    std::vector<double> levels;
    std::vector<double> squares;  // (g_eff / Δg)², kept only when there is read noise
  };

  std::vector<std::int64_t> run(std::span<const std::int64_t> x, std::mt19937_64& rng, MvmStats* stats,
                                std::int64_t only) const;

  compiler::Crossbar xbar_;
  std::int64_t inputs_ = 0, outputs_ = 0;
  std::vector<Array> arrays_;
};

// Symmetric fixed point: values = round(v / scale) with
// scale = max|v| / (2^(bits−1) − 1) (1 when every v is 0).
struct Quantized {
  std::vector<std::int64_t> values;
  double scale = 1;
};
Quantized quantize(std::span<const double> v, std::int64_t bits);

// A real-valued matrix quantised to weight_bits and programmed; inputs are
// quantised to input_bits and the integer result scaled back.
class RealCrossbarMatrix {
 public:
  static RealCrossbarMatrix program(const compiler::Crossbar& xbar, std::int64_t inputs, std::int64_t outputs,
                                    std::span<const double> weights, std::mt19937_64& rng);
  std::vector<double> mvm(std::span<const double> x, std::mt19937_64& rng, MvmStats* stats = nullptr) const;
  double mvm_one(std::span<const double> x, std::int64_t output, std::mt19937_64& rng) const;
  const CrossbarMatrix& integer() const { return matrix_; }
  double weight_scale() const { return weight_scale_; }

 private:
  CrossbarMatrix matrix_;
  double weight_scale_ = 1;
};

// The exact product in doubles, W row-major K x N.
std::vector<double> exact_mvm(std::int64_t inputs, std::int64_t outputs, std::span<const double> weights,
                              std::span<const double> x);

// Errors of computed outputs against exact ones (one product, or several
// concatenated). ENOB = log2(range / (√12 · RMS)), the equivalent bits of
// the DPE papers; when every output is exact (RMS 0) `exact` is set and
// ENOB is +∞.
struct MvmError {
  std::int64_t outputs = 0;
  double max_abs = 0;
  double rms = 0;
  double range = 0;  // max − min of the exact outputs
  double enob = 0;
  bool exact = false;
  std::int64_t saturations = 0;  // copied from the stats passed in
};
MvmError compare(std::span<const double> computed, std::span<const double> exact, const MvmStats& stats = {});

}  // namespace dlc::simulator
