// A memristor crossbar accelerator (Dot-Product Engine) as a Plan carries
// it: every figure resolved to SI units, with the defaults of ISAAC's
// published configuration "ISAAC-CE" (Shafiee et al., "ISAAC: A
// Convolutional Neural Network Accelerator with In-Situ Analog Arithmetic in
// Crossbars", ISCA 2016, October 2016 corrected version; Table I) wherever a
// `crossbar` declaration does not say. The cost model (simulator/crossbar.*),
// the functional model of one matrix-vector product
// (simulator/crossbar_functional.*) and the Hopfield solver read only this.
//
// Hierarchy: a chip holds `tiles`; a tile holds `imas_per_tile` in-situ
// multiply-accumulate units (IMAs) and the tile's shared parts (eDRAM, bus,
// router share, digital units); an IMA holds `arrays_per_ima` arrays of
// rows x cols cells and `adcs_per_ima` ADCs. Power and area are per unit;
// the counts come from the hierarchy (one DAC per row and one
// sample-and-hold per column of each array).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlc::compiler {

struct CrossbarPart {
  double power = 0;  // W per unit
  double area = 0;   // m² per unit
};

struct Crossbar {
  std::string name = "crossbar";

  // The array and its converters (ISAAC §III, Table I).
  std::int64_t rows = 128;          // ISAAC: 128 x 128 arrays
  std::int64_t cols = 128;
  std::int64_t cell_bits = 2;       // ISAAC: 2 bits per cell
  std::int64_t weight_bits = 16;    // ISAAC: 16-bit weights over 8 cells
  std::int64_t input_bits = 16;     // ISAAC: 16-bit inputs, bit-serial
  std::int64_t dac_bits = 1;        // ISAAC: 1-bit DACs, 16 reads per MVM
  std::int64_t adc_bits = 8;        // ISAAC: 8-bit ADC (9 needed without the flipped encoding)
  std::int64_t cols_per_adc = 128;  // ISAAC: one ADC per array, shared by its 128 columns
  double read_time = 100e-9;        // ISAAC: one array read is one 100 ns pipeline cycle
  double adc_rate = 1.28e9;         // ISAAC: 1.28 GSa/s (128 columns in 100 ns)
  // How signed weights are stored: `offset` (ISAAC: a 2^(weight_bits-1)
  // bias, removed with a unit column) or `differential` (a positive and a
  // negative array: twice the cells).
  std::string signed_weights = "offset";
  bool unit_column = true;          // ISAAC: the 129th column that removes the bias
  bool flip_encoding = true;        // ISAAC §IV-B: columns whose sum would exceed half the range are stored flipped
  std::int64_t arrays_per_ima = 8;  // ISAAC-CE
  std::int64_t adcs_per_ima = 8;
  std::int64_t imas_per_tile = 12;
  std::int64_t tiles = 168;
  double clock = 1.2e9;             // ISAAC: 1.2 GHz digital clock
  // Digital element operations per cycle per tile, for the layers that do not
  // map onto arrays (pooling, activations, normalisation, ...). ISAAC's tile
  // has one max-pool unit and two sigmoid units: 1 by default.
  double digital_ops_per_cycle = 1;
  // Copy the layers with the most output positions onto spare arrays so that
  // the pipeline's stages take more equal times (ISAAC §V).
  bool replicate = true;

  // Power and area per unit, ISAAC Table I (32 nm). The table gives group
  // totals per IMA or per tile; each is divided by its count here.
  CrossbarPart adc{16e-3 / 8, 0.0096e-6 / 8};              // 8 ADCs: 16 mW, 0.0096 mm²
  CrossbarPart dac{4e-3 / 1024, 0.00017e-6 / 1024};       // 8 x 128 DACs: 4 mW, 0.00017 mm²
  CrossbarPart sample_hold{10e-6 / 1024, 0.00004e-6 / 1024};  // 8 x 128 S+H: 10 uW, 0.00004 mm²
  CrossbarPart array{2.4e-3 / 8, 0.0002e-6 / 8};           // 8 arrays: 2.4 mW, 0.0002 mm²
  CrossbarPart shift_add{0.2e-3, 0.00024e-6};              // per IMA: 4 S+A units
  CrossbarPart input_register{1.24e-3, 0.0021e-6};         // per IMA: 2 KB
  CrossbarPart output_register{0.23e-3, 0.00077e-6};       // per IMA: 256 B
  CrossbarPart edram{20.7e-3, 0.083e-6};                   // per tile: 64 KB eDRAM
  CrossbarPart bus{7e-3, 0.090e-6};                        // per tile: 384 wires
  CrossbarPart router{42e-3 / 4, 0.151e-6 / 4};            // one router shared by 4 tiles
  CrossbarPart digital{(0.52 + 0.05 + 0.4 + 1.68) * 1e-3,  // per tile: 2 sigmoid, S+A, max-pool, 3 KB OR
                       (0.0006 + 0.00006 + 0.00024 + 0.0032) * 1e-6};
  CrossbarPart io{10.4, 22.88e-6};                         // per chip: HyperTransport links

  // The cells: conductance window, and the non-idealities (all off by
  // default, as in ISAAC's ideal model). Relative figures are standard
  // deviations over the programmed conductance.
  double conductance_min = 100e-6;  // Hu et al., Adv. Mater. 2018: weights mapped to 100-700 uS
  double conductance_max = 700e-6;
  double programming_variation = 0;  // relative, fixed when the array is programmed
  double read_noise = 0;             // relative, drawn anew at every read
  double wire_resistance = 0;        // Ohm per cell of wire
  double stuck_at = 0;               // fraction of cells stuck (half at the lowest, half at the highest conductance)
  std::uint64_t seed = 1;

  // The parts, named as in the declaration's power and area groups.
  std::vector<std::pair<std::string, CrossbarPart*>> parts() {
    return {{"adc", &adc},       {"dac", &dac},
            {"sample_hold", &sample_hold}, {"array", &array},
            {"shift_add", &shift_add},     {"input_register", &input_register},
            {"output_register", &output_register}, {"edram", &edram},
            {"bus", &bus},       {"router", &router},
            {"digital", &digital}, {"io", &io}};
  }

  // The whole-number and real figures, named as in the declaration (and, with
  // "crossbar.", as the cost model's parameters).
  std::vector<std::pair<const char*, std::int64_t*>> integers() {
    return {{"rows", &rows},
            {"cols", &cols},
            {"cell_bits", &cell_bits},
            {"weight_bits", &weight_bits},
            {"input_bits", &input_bits},
            {"dac_bits", &dac_bits},
            {"adc_bits", &adc_bits},
            {"cols_per_adc", &cols_per_adc},
            {"arrays_per_ima", &arrays_per_ima},
            {"adcs_per_ima", &adcs_per_ima},
            {"imas_per_tile", &imas_per_tile},
            {"tiles", &tiles}};
  }
  std::vector<std::pair<const char*, double*>> reals() {
    return {{"read_time", &read_time},
            {"adc_rate", &adc_rate},
            {"clock", &clock},
            {"digital_ops_per_cycle", &digital_ops_per_cycle},
            {"conductance_min", &conductance_min},
            {"conductance_max", &conductance_max}};
  }

  std::int64_t cells_per_weight() const { return (weight_bits + cell_bits - 1) / cell_bits; }
  std::int64_t reads_per_mvm() const { return (input_bits + dac_bits - 1) / dac_bits; }
  std::int64_t arrays() const { return arrays_per_ima * imas_per_tile * tiles; }
};

// The ADC resolution a configuration needs so that no column sum is clipped
// (ISAAC §IV-B, eqs. 1-2): with R rows, v-bit inputs per read and w-bit
// cells, A = log2(R) + v + w, less one when v = 1 or w = 1; the flipped
// encoding halves the largest sum and saves one more bit. R is rounded up to
// a power of two.
std::int64_t adc_bits_required(std::int64_t rows, std::int64_t dac_bits, std::int64_t cell_bits, bool flip_encoding);

}  // namespace dlc::compiler
