// A Hopfield experiment: max-cut on a graph by a Hopfield network whose
// weights, W = −A, are programmed onto a crossbar chip (after Cai et al.,
// "Power-efficient combinatorial optimization using intrinsic noise in
// memristor Hopfield neural networks", Nature Electronics 3:409, 2020).
//
// Each asynchronous update reads one neuron's local field Σⱼ Wᵢⱼ sⱼ from the
// arrays through the functional model (simulator/crossbar_functional.hpp),
// so the chip's own non-idealities (programming variation, read noise,
// stuck cells, ADC resolution) act on it; the annealing noise, Gaussian at
// the column's output, falls on the schedule the experiment gives
// (simulator/hopfield.hpp). The same trials run once more without the
// annealing noise, for comparison.
//
// The spins enter the arrays as 2-bit signed inputs (±1), so a product takes
// ⌈2 / dac_bits⌉ reads, not the chip's full input width.
//
// What an update costs comes from the crossbar cost model
// (simulator/crossbar.hpp) applied to W as one n x n layer: one product on
// its arrays, every column converted (a design that converts only the
// neuron's column would spend less), and the chip's static power for that
// time. Time and energy to solution are at 99 % confidence: a trial's cost x
// ln(0.01) / ln(1 − success rate).
#pragma once

#include <string>

#include "compiler/plan.hpp"
#include "compiler/result.hpp"
#include "simulator/hopfield.hpp"

namespace dlc::simulator {

// The graph an experiment names: generated, or parsed from `text` (the file's
// contents, read by the caller). False with a message (and, for a file, its
// line) when the graph is unusable.
bool experiment_graph(const compiler::PlanHopfield& h, const std::string& text, Graph& out, std::string& error,
                      int& error_line);

// Runs the experiment's trials on its crossbar chip.
bool run_hopfield(const compiler::Plan& plan, const Graph& graph, compiler::Result& out, std::string& error);

}  // namespace dlc::simulator
