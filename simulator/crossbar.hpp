// The cost model of a memristor crossbar accelerator (DESIGN.md, "Crossbar"),
// after ISAAC (Shafiee et al., ISCA 2016) and PUMA (Ankit et al., ASPLOS
// 2019), written as cost expressions over the chip's figures (crossbar.rows,
// crossbar.adc_bits, crossbar.power.adc, ...) like the rest of the simulator,
// so `--set` and `--scale` sweep them.
//
// Mapping. A layer with weights is one or more matrices of K inputs by N
// outputs, G independent copies (conv groups, LSTM directions), applied at P
// positions per sample (a conv's output pixels, a sequence's steps):
//   conv  K = C/G · kernel, N = C_out/G, P = output positions
//   fc    K = in features, N = out features, P = the other output elements / N
//   lstm/gru  per layer K = input + hidden, N = gates · hidden, G = directions, P = steps
//   attention  its four projections, K = N = D, G = 4, P = steps (the
//             products of activations, Q·Kᵀ and the weighted sum of values,
//             run on the digital side)
// A weight takes c = ⌈weight_bits / cell_bits⌉ cells (2c with differential
// encoding); a matrix takes ⌈K/R⌉ × ⌈N·c/C⌉ arrays of R × C cells, per copy.
// Every position is one matrix-vector product (MVM): ⌈input_bits/dac_bits⌉
// reads of one cycle each, max(read_time, cols_per_adc / adc_rate) (the
// array, or the ADC converting the columns it serves, whichever is slower).
// Counts per sample, for one matrix:
//   array reads      G·P · ⌈K/R⌉·⌈N·c/C⌉ · reads
//   ADC conversions  G·P · ⌈K/R⌉ · (N·c + unit columns) · reads
//                    (= 1 per 16-bit MAC for ISAAC, cells_per_weight included)
//   DAC drives       G·P · ⌈N·c/C⌉ · K · reads
// Energy per event is a part's power over its event rate: an ADC conversion
// P_adc / adc_rate, a DAC drive, a sample-and-hold, an array read P × cycle;
// each array read also carries its share of its IMA's registers and
// shift-and-add and of its tile's eDRAM, bus and router. So at full use the
// chip draws exactly its peak power.
//
// Layers without weights run on the tiles' digital units: one element
// operation per input element read (pooling windows included) and per
// multiply-accumulate, `digital_ops_per_cycle` per tile per clock.
//
// Latency of one sample: Σ over layers of ⌈P / replicas⌉ MVMs (a layer's
// arrays work in parallel; recurrent layers step through their sequence).
// Pipelined, as ISAAC pipelines its layers, a new sample enters every
// `interval` = the slowest layer's time, so a batch of B takes latency +
// (B - 1) · interval. With `replicate`, spare arrays hold copies of the
// slowest layers (ISAAC §V), chosen once at the chip's declared figures;
// not recurrent layers, whose steps wait for each other.
//
// A model that needs more arrays than a chip has spans several chips (the
// weights stay programmed: no reloading); the chip's off-chip links (`io`)
// draw their power for the whole time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "compiler/plan.hpp"
#include "compiler/result.hpp"
#include "simulator/cost.hpp"

namespace dlc::simulator {

// One layer's mapping onto the arrays, as cost expressions.
struct CrossbarLayerCost {
  std::string name, op;
  bool mapped = false;       // on arrays; otherwise on the digital units
  double replicas = 1;
  Cost arrays, mvms, conversions, latency, energy;
  Cost energy_adc, energy_dac, energy_sample_hold, energy_array, energy_ima, energy_tile, energy_digital;
  Cost cells_used;           // weight cells, for the utilisation of the arrays
  Cost area;                 // its arrays' share of their tiles
};

struct CrossbarModel {
  std::vector<CrossbarLayerCost> layers;
  CostProgram program;
};

struct Simulation;

// A layer's weight matrices as the mapping sees them (none for layers that
// run on the digital units).
struct LayerMatrix {
  double k = 0, n = 0, copies = 1, positions = 1;
};
std::vector<LayerMatrix> layer_matrices(const compiler::PlanOp& op);

// `dlc simulate --functional`: each mapped layer's first matrix, with seeded
// random weights and inputs uniform in [-1, 1] (up to `max_outputs` of its
// outputs, `samples` input vectors), through the functional model of the
// chip, against the exact product.
struct FunctionalOptions {
  int samples = 4;
  std::int64_t max_outputs = 256;
  std::uint64_t seed = 1;
};
bool functional_errors(const compiler::Plan& plan, const FunctionalOptions& options, compiler::Result& r,
                       std::string& error);

// The crossbar model of an inference experiment on a crossbar chip. Fails
// with a message on training (a crossbar's weights are programmed once).
bool build_crossbar(const compiler::Plan& plan, Simulation& s, std::string& error);
// The plan's chip with the figures the parameter values give (what --set
// and --scale change), for the functional model and the reports.
compiler::Crossbar crossbar_at(const Simulation& s, std::span<const double> values);
bool evaluate_crossbar(const Simulation& s, std::span<const double> values, compiler::Result& r, std::string& error);

}  // namespace dlc::simulator
