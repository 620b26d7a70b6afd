// The parts of a Result that only crossbar chips and Hopfield experiments
// have (compiler/result.hpp): their JSON keys and their tables. Used by
// result.cpp; not part of the library's interface.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/result.hpp"
#include "compiler/table.hpp"

namespace dlc::compiler {

// Adds "crossbar", "functional" and "hopfield" to a dlc.result/1 record, where the result has them.
void add_crossbar_json(nlohmann::ordered_json& j, const Result& r);

// A crossbar chip running a model: per layer, its arrays and what a sample
// costs there; the chip at its peak; the model's totals; --functional's errors.
std::string crossbar_table(const Result& r);

// A Hopfield experiment: the graph, the success of annealed and noise-free
// trials, and what a solution costs on the chip.
std::string hopfield_table(const Result& r);

// One row per layer: name, op, mapped, arrays, replicas, mvms, adc_conversions,
// latency_s, energy_j, area_m2, utilisation; then the model's totals.
std::string crossbar_csv(const Result& r);

// The run's figures as key,value rows (the energy trace is in the JSON).
std::string hopfield_csv(const Result& r);

// A crossbar chip's sweep (--scale crossbar.rows=64,128,256) changes what the
// model takes as well as its speed: the columns that show it, in each form.
// A point without a crossbar result (it failed) gets empty cells.
void add_crossbar_scale_columns(TextTable& t);           // arrays, chips, area, chip power, energy/sample
std::vector<std::string> crossbar_scale_cells(const Result* r);
std::string crossbar_scale_csv_header();                  // ",arrays,chips,area_m2,..."
std::string crossbar_scale_csv_fields(const Result* r);   // ",17024,2,..." (empty for nullptr)
void add_crossbar_scale_json(nlohmann::ordered_json& row, const Result& r);

}  // namespace dlc::compiler
