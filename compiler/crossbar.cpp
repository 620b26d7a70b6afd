// The ISAAC rule for the ADC resolution of a crossbar (ISAAC §IV-B, eqs. 1-2).
#include "compiler/crossbar.hpp"

#include <algorithm>

namespace dlc::compiler {

std::int64_t adc_bits_required(std::int64_t rows, std::int64_t dac_bits, std::int64_t cell_bits, bool flip_encoding) {
  // The rule is written for R = 2^k rows; any other R needs what the next
  // power of two needs.
  std::int64_t log2_rows = 0;
  while ((std::int64_t{1} << log2_rows) < rows) ++log2_rows;
  // The largest column sum is R (2^v - 1)(2^w - 1). It needs log2 R + v + w
  // bits, one fewer when either factor is 1 (then the product stays below
  // R 2^(v+w-1)).
  std::int64_t bits = log2_rows + dac_bits + cell_bits;
  if (dac_bits == 1 || cell_bits == 1) --bits;
  // Flipped columns never sum to more than half the largest sum.
  if (flip_encoding) --bits;
  // One row of one-bit cells read one bit at a time would leave nothing to
  // convert; an ADC still has a bit.
  return std::max<std::int64_t>(bits, 1);
}

}  // namespace dlc::compiler
