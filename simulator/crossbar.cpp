#include "simulator/crossbar.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "simulator/simulate.hpp"

namespace dlc::simulator {

using compiler::Crossbar;
using compiler::Plan;
using compiler::PlanOp;
namespace dims = lang::dims;

namespace {

using Matrix = LayerMatrix;

std::int64_t attr_int(const PlanOp& op, const char* name, std::int64_t fallback) {
  int i = op.def->param_index(name);
  if (i < 0 || static_cast<std::size_t>(i) >= op.args.attrs.size()) return fallback;
  const auto& a = op.args.attrs[static_cast<std::size_t>(i)];
  return a.ints.empty() ? fallback : a.ints[0];
}

bool attr_flag(const PlanOp& op, const char* name) {
  int i = op.def->param_index(name);
  return i >= 0 && static_cast<std::size_t>(i) < op.args.attrs.size() &&
         op.args.attrs[static_cast<std::size_t>(i)].flag;
}

// The matrices of a layer with weights (none for the others: they run on the
// digital units). The model's shapes are per sample.
std::vector<Matrix> matrices(const PlanOp& op) {
  if (!op.def || op.params == 0 || op.args.tensors.empty()) return {};
  const compiler::Shape& in = op.args.tensors[0].shape;
  double out_elements = 1;
  for (std::int64_t d : op.output) out_elements *= static_cast<double>(d);
  if (op.op == "conv" && !in.empty() && !op.output.empty()) {
    double groups = static_cast<double>(attr_int(op, "groups", 1));
    double positions = out_elements / static_cast<double>(op.output[0]);
    double window = 1;
    int k = op.def->param_index("kernel");
    const auto& kernel = op.args.attrs.at(static_cast<std::size_t>(k)).ints;
    for (std::size_t i = 0; i + 1 < in.size(); ++i)
      window *= static_cast<double>(kernel.size() == 1 ? kernel[0] : kernel.at(i));
    return {{static_cast<double>(in[0]) / groups * window, static_cast<double>(op.output[0]) / groups, groups,
             positions}};
  }
  if (op.op == "fc" && !in.empty() && !op.output.empty()) {
    double n = static_cast<double>(op.output.back());
    return {{static_cast<double>(in.back()), n, 1, out_elements / n}};
  }
  if ((op.op == "lstm" || op.op == "gru") && in.size() == 2) {
    double gates = op.op == "lstm" ? 4 : 3, steps = static_cast<double>(in[0]);
    double h = static_cast<double>(attr_int(op, "hidden", 1));
    double dirs = attr_flag(op, "bidirectional") ? 2 : 1;
    std::vector<Matrix> m;
    for (std::int64_t l = 0; l < attr_int(op, "layers", 1); ++l)
      m.push_back({(l == 0 ? static_cast<double>(in[1]) : h * dirs) + h, gates * h, dirs, steps});
    return m;
  }
  if (op.op == "attention" && in.size() == 2) {
    double d = static_cast<double>(in[1]);
    return {{d, d, 4, static_cast<double>(in[0])}};
  }
  return {};
}

struct Chip {
  Cost rows, cols, cells_per_weight, sign_columns, unit_columns, reads, cycle, mvm;
  Cost arrays_per_ima, imas_per_tile, tiles, arrays, clock, digital_ops;
  Cost e_adc, e_dac, e_sample_hold, e_array, e_ima, e_tile, e_digital_op;
  Cost ima_power, tile_power, chip_power, ima_area, tile_area, chip_area, adc_power;
  Cost io_power, peak, conversions_per_mac, weights_per_row, adc_power_share, adc_area_share;
};

Chip chip_costs(const Crossbar& c, Params& params) {
  auto whole = [&](const char* name, std::int64_t value) {
    Cost x = params.add(fmt::format("crossbar.{}", name), static_cast<double>(value));
    params.constrain(*params.find(fmt::format("crossbar.{}", name)), {1, 1e12, false, true});
    return x;
  };
  auto positive = [&](const char* name, double value, lang::Dimension dim) {
    Cost x = params.add(fmt::format("crossbar.{}", name), value, dim);
    params.constrain(*params.find(fmt::format("crossbar.{}", name)), {0, 1e300, true, false});
    return x;
  };
  Crossbar copy = c;
  Cost power[12], area[12];
  std::size_t i = 0;
  for (auto& [name, part] : copy.parts()) {
    power[i] = params.add(fmt::format("crossbar.power.{}", name), part->power, dims::power());
    params.constrain(*params.find(fmt::format("crossbar.power.{}", name)), {0, 1e300, false, false});
    area[i] = params.add(fmt::format("crossbar.area.{}", name), part->area, dims::area());
    params.constrain(*params.find(fmt::format("crossbar.area.{}", name)), {0, 1e300, false, false});
    ++i;
  }
  enum { adc, dac, sample_hold, array, shift_add, input_register, output_register, edram, bus, router, digital, io };

  Chip k;
  k.rows = whole("rows", c.rows);
  k.cols = whole("cols", c.cols);
  Cost cell_bits = whole("cell_bits", c.cell_bits), weight_bits = whole("weight_bits", c.weight_bits);
  Cost input_bits = whole("input_bits", c.input_bits), dac_bits = whole("dac_bits", c.dac_bits);
  Cost cols_per_adc = whole("cols_per_adc", c.cols_per_adc);
  // The declared ADC power and area are at the declared resolution; another
  // resolution (--set crossbar.adc_bits=9) scales both by 2 per bit, the
  // first-order rule for converters (ISAAC: ADC power grows exponentially
  // with resolution, the reason for its encodings; Walden's figure of merit:
  // energy per conversion ∝ 2^bits).
  Cost adc_bits = whole("adc_bits", c.adc_bits);
  params.constrain(*params.find("crossbar.adc_bits"), {1, 24, false, true});
  Cost adc_scale = exp2(adc_bits - static_cast<double>(c.adc_bits));
  power[adc] = power[adc] * adc_scale;
  area[adc] = area[adc] * adc_scale;
  k.arrays_per_ima = whole("arrays_per_ima", c.arrays_per_ima);
  Cost adcs_per_ima = whole("adcs_per_ima", c.adcs_per_ima);
  k.imas_per_tile = whole("imas_per_tile", c.imas_per_tile);
  k.tiles = whole("tiles", c.tiles);
  Cost read_time = positive("read_time", c.read_time, dims::time());
  Cost adc_rate = positive("adc_rate", c.adc_rate, dims::sample_rate());
  k.clock = positive("clock", c.clock, dims::frequency());
  k.digital_ops = positive("digital_ops_per_cycle", c.digital_ops_per_cycle, dims::number());

  k.cells_per_weight = ceil(weight_bits / cell_bits);
  k.sign_columns = c.signed_weights == "differential" ? 2 : 1;
  // A unit column reads Σ inputs: for the offset's bias, and to recover
  // flipped columns (so differential arrays have one only when flipping).
  k.unit_columns = c.unit_column && (c.signed_weights == "offset" || c.flip_encoding) ? 1 : 0;
  k.reads = ceil(input_bits / dac_bits);
  // A read lasts the array's read time, or as long as an ADC takes to
  // convert the columns it serves: its share, cols_per_adc, and at least the
  // IMA's columns over its ADCs (arrays_per_ima · cols / adcs_per_ima), so a
  // chip declaring fewer ADCs than its columns need is as slow as they are.
  Cost columns_per_adc = max(cols_per_adc, k.arrays_per_ima * k.cols / adcs_per_ima);
  k.cycle = max(read_time, columns_per_adc / adc_rate);
  k.mvm = k.reads * k.cycle;
  k.arrays = k.arrays_per_ima * k.imas_per_tile * k.tiles;

  // Energy per event: a part's power over the rate of its events.
  Cost arrays_per_tile = k.arrays_per_ima * k.imas_per_tile;
  k.e_adc = power[adc] / adc_rate;
  k.e_dac = power[dac] * k.cycle;
  k.e_sample_hold = power[sample_hold] * k.cycle;
  k.e_array = power[array] * k.cycle;
  k.e_ima = (power[shift_add] + power[input_register] + power[output_register]) * k.cycle / k.arrays_per_ima;
  k.e_tile = (power[edram] + power[bus] + power[router] + power[digital]) * k.cycle / arrays_per_tile;
  k.e_digital_op = power[digital] / (k.digital_ops * k.clock);

  // The chip at its peak: every array of every IMA busy.
  k.ima_power = k.arrays_per_ima * (power[array] + k.rows * power[dac] + k.cols * power[sample_hold]) +
                adcs_per_ima * power[adc] + power[shift_add] + power[input_register] + power[output_register];
  k.ima_area = k.arrays_per_ima * (area[array] + k.rows * area[dac] + k.cols * area[sample_hold]) +
               adcs_per_ima * area[adc] + area[shift_add] + area[input_register] + area[output_register];
  k.tile_power = k.imas_per_tile * k.ima_power + power[edram] + power[bus] + power[router] + power[digital];
  k.tile_area = k.imas_per_tile * k.ima_area + area[edram] + area[bus] + area[router] + area[digital];
  k.io_power = power[io];
  k.chip_power = k.tiles * k.tile_power + power[io];
  k.chip_area = k.tiles * k.tile_area + area[io];
  k.adc_power = k.tiles * k.imas_per_tile * adcs_per_ima * power[adc];
  // Weights per row of an array, at full use (the mapping lets a weight's
  // cells continue on the next array when they do not divide the columns).
  k.weights_per_row = k.cols / (k.cells_per_weight * k.sign_columns);
  k.peak = k.arrays * 2 * k.rows * k.weights_per_row / k.mvm;
  k.conversions_per_mac = k.reads * (k.weights_per_row * k.cells_per_weight * k.sign_columns + k.unit_columns) /
                          (k.rows * k.weights_per_row);
  // The ADC shares of a tile's power and area.
  k.adc_power_share = k.imas_per_tile * adcs_per_ima * power[adc] / k.tile_power;
  k.adc_area_share = k.imas_per_tile * adcs_per_ima * area[adc] / k.tile_area;
  return k;
}

// A layer on the arrays.
CrossbarLayerCost mapped_layer(const PlanOp& op, const std::vector<Matrix>& ms, const Chip& k, double replicas) {
  CrossbarLayerCost l;
  l.name = op.name;
  l.op = op.op;
  l.mapped = true;
  l.replicas = replicas;
  for (const Matrix& m : ms) {
    Cost row_tiles = ceil(Cost(m.k) / k.rows);
    Cost columns = m.n * k.cells_per_weight * k.sign_columns;
    Cost col_tiles = ceil(columns / k.cols);
    Cost uses = m.copies * m.positions;  // products per sample
    Cost reads = uses * row_tiles * col_tiles * k.reads;
    Cost conversions = uses * row_tiles * (columns + k.unit_columns * col_tiles) * k.reads;
    Cost drives = uses * col_tiles * m.k * k.reads;
    l.arrays = l.arrays + m.copies * row_tiles * col_tiles * replicas;
    l.cells_used = l.cells_used + m.copies * m.k * columns * replicas;
    l.mvms = l.mvms + uses;
    l.conversions = l.conversions + conversions;
    l.latency = l.latency + std::ceil(m.positions / replicas) * k.mvm;
    l.energy_adc = l.energy_adc + conversions * k.e_adc;
    l.energy_sample_hold = l.energy_sample_hold + conversions * k.e_sample_hold;
    l.energy_dac = l.energy_dac + drives * k.e_dac;
    l.energy_array = l.energy_array + reads * k.e_array;
    l.energy_ima = l.energy_ima + reads * k.e_ima;
    l.energy_tile = l.energy_tile + reads * k.e_tile;
  }
  // What the arrays do not compute (attention's products of activations)
  // runs on the digital units.
  double mapped_macs = 0;
  for (const Matrix& m : ms) mapped_macs += m.k * m.n * m.copies * m.positions;
  if (double rest = static_cast<double>(op.macs_forward) - mapped_macs; rest > 0) {
    l.latency = l.latency + rest / (k.tiles * k.digital_ops * k.clock);
    l.energy_digital = rest * k.e_digital_op;
  }
  l.energy = l.energy_adc + l.energy_sample_hold + l.energy_dac + l.energy_array + l.energy_ima + l.energy_tile +
             l.energy_digital;
  return l;
}

// A layer on the digital units: an operation per element it reads or
// writes (its windows included) and per multiply-accumulate.
CrossbarLayerCost digital_layer(const PlanOp& op, const Chip& k, double element_bytes) {
  CrossbarLayerCost l;
  l.name = op.name;
  l.op = op.op;
  double ops = static_cast<double>(op.bytes_forward) / element_bytes + static_cast<double>(op.macs_forward);
  if (ops > 0) {
    l.latency = ops / (k.tiles * k.digital_ops * k.clock);
    l.energy_digital = ops * k.e_digital_op;
    l.energy = l.energy_digital;
  }
  return l;
}

// Spare arrays hold copies of the slowest layers (ISAAC §V): the slowest
// mapped layer doubles its copies while the chips the model needs anyway have
// room, and while it has more positions than copies.
std::vector<double> balance(const Plan& plan, const Chip& k, const Params& params) {
  std::vector<double> replicas(plan.ops.size(), 1);
  std::vector<double> base_arrays(plan.ops.size(), 0), positions(plan.ops.size(), 0);
  double used = 0;
  for (std::size_t i = 0; i < plan.ops.size(); ++i) {
    auto ms = matrices(plan.ops[i]);
    // A recurrent layer's steps wait for each other: copies would not help.
    if (ms.empty() || plan.ops[i].op_class == compiler::OpClass::recurrent) continue;
    base_arrays[i] = mapped_layer(plan.ops[i], ms, k, 1).arrays.evaluate(params.values());
    for (const Matrix& m : ms) positions[i] = std::max(positions[i], m.positions);
    used += base_arrays[i];
  }
  double chip = k.arrays.evaluate(params.values());
  double capacity = std::max(1.0, std::ceil(used / chip)) * chip;
  while (true) {
    std::size_t slowest = plan.ops.size();
    for (std::size_t i = 0; i < plan.ops.size(); ++i)
      if (base_arrays[i] > 0 &&
          (slowest == plan.ops.size() ||
           std::ceil(positions[i] / replicas[i]) > std::ceil(positions[slowest] / replicas[slowest])))
        slowest = i;
    if (slowest == plan.ops.size() || replicas[slowest] * 2 > positions[slowest] ||
        used + base_arrays[slowest] * replicas[slowest] > capacity)
      break;
    used += base_arrays[slowest] * replicas[slowest];
    replicas[slowest] *= 2;
  }
  return replicas;
}

}  // namespace

std::vector<LayerMatrix> layer_matrices(const PlanOp& op) { return matrices(op); }

compiler::Crossbar crossbar_at(const Simulation& s, std::span<const double> values) {
  compiler::Crossbar c = *s.plan.system.crossbar;
  auto value = [&](const char* name) -> std::optional<double> {
    auto id = s.params.find(fmt::format("crossbar.{}", name));
    return id ? std::optional<double>(values[*id]) : std::nullopt;
  };
  for (auto& [name, field] : c.integers())
    if (auto v = value(name)) *field = static_cast<std::int64_t>(*v);
  for (auto& [name, field] : c.reals())
    if (auto v = value(name)) *field = *v;
  return c;
}

bool build_crossbar(const Plan& plan, Simulation& s, std::string& error) {
  s = Simulation{};
  s.plan = plan;
  if (plan.phase != "inference") {
    error = fmt::format("'{}' is a crossbar chip: it runs inference only, its weights programmed once "
                        "(write phase = inference)",
                        plan.system.name);
    return false;
  }
  const Crossbar& c = *plan.system.crossbar;
  Params& params = s.params;
  Cost batch = params.add("batch", static_cast<double>(plan.batch));
  params.constrain(*params.find("batch"), {1, 1e12, false, true});
  Chip k = chip_costs(c, params);
  s.devices = 1;
  s.batch_per_device = batch;
  s.global_batch = batch;

  auto model = std::make_shared<CrossbarModel>();
  std::vector<double> replicas = c.replicate ? balance(plan, k, params) : std::vector<double>(plan.ops.size(), 1);
  Cost arrays = 0, latency = 0, interval = 0, energy = 0, ops = 0;
  Cost parts[7];
  for (std::size_t i = 0; i < plan.ops.size(); ++i) {
    const PlanOp& op = plan.ops[i];
    auto ms = matrices(op);
    CrossbarLayerCost l = ms.empty() ? digital_layer(op, k, static_cast<double>(plan.element_bytes))
                                     : mapped_layer(op, ms, k, replicas[i]);
    l.area = l.arrays * k.tile_area / (k.arrays_per_ima * k.imas_per_tile);
    arrays = arrays + l.arrays;
    latency = latency + l.latency;
    interval = max(interval, l.latency);
    energy = energy + l.energy;
    ops = ops + 2.0 * static_cast<double>(op.macs_forward);
    const Cost* by_part[] = {&l.energy_adc, &l.energy_dac, &l.energy_sample_hold, &l.energy_array,
                             &l.energy_ima, &l.energy_tile, &l.energy_digital};
    for (std::size_t p = 0; p < 7; ++p) parts[p] = parts[p] + *by_part[p];
    model->layers.push_back(std::move(l));
  }
  Cost chips = max(1, ceil(arrays / k.arrays));
  Cost step = latency + (batch - 1) * interval;
  Cost static_energy = k.io_power * chips * step / batch;
  s.step = step;
  s.forward = latency;
  s.memory = 0;

  // The order evaluate_crossbar reads (kTotals, then kPerLayer per layer).
  std::vector<Cost> roots = {step,         latency,   interval,    arrays,      chips,       energy + static_energy,
                  ops,          k.peak,    k.chip_power, k.chip_area, k.tile_power, k.tile_area,
                  k.adc_power,  k.mvm,     k.arrays,    k.conversions_per_mac, k.adc_power_share, k.adc_area_share,
                  static_energy};
  for (const Cost& p : parts) roots.push_back(p);
  for (const CrossbarLayerCost& l : model->layers)
    for (const Cost* v : {&l.arrays, &l.mvms, &l.conversions, &l.latency, &l.energy, &l.cells_used, &l.area,
                          &l.energy_adc, &l.energy_dac, &l.energy_sample_hold, &l.energy_array, &l.energy_ima,
                          &l.energy_tile, &l.energy_digital})
      roots.push_back(*v);
  model->program = CostProgram::compile(roots);
  s.crossbar = model;
  return true;
}

namespace {
constexpr std::size_t kTotals = 19 + 7, kPerLayer = 14;
}  // namespace

bool evaluate_crossbar(const Simulation& s, std::span<const double> values, compiler::Result& r, std::string& error) {
  // The mapping (arrays per layer, replicas, chips) was decided at build from
  // the declared chip. A value (--set crossbar.rows=64) that changes the chip
  // changes that too: rebuild from the chip as the values leave it, so a
  // swept parameter means what the same declaration means.
  compiler::Crossbar at = crossbar_at(s, values);
  compiler::Crossbar declared = *s.plan.system.crossbar;
  // The ADCs' power and area are the declaration's at its resolution, scaled
  // from it in the cost model: the rebuilt chip keeps that reference.
  at.adc_bits = declared.adc_bits;
  bool same = true;
  auto ai = at.integers(), di = declared.integers();
  for (std::size_t i = 0; i < ai.size(); ++i) same = same && *ai[i].second == *di[i].second;
  auto ar = at.reals(), dr = declared.reals();
  for (std::size_t i = 0; i < ar.size(); ++i) same = same && *ar[i].second == *dr[i].second;
  if (!same) {
    compiler::Plan plan = s.plan;
    plan.system.crossbar = at;
    Simulation rebuilt;
    if (!build_crossbar(plan, rebuilt, error)) return false;
    std::vector<double> x(rebuilt.params.values().begin(), rebuilt.params.values().end());
    for (std::size_t i = 0; i < x.size(); ++i)
      if (auto id = s.params.find(rebuilt.params.names()[i])) x[i] = values[*id];
    return evaluate_crossbar(rebuilt, x, r, error);
  }
  const CrossbarModel& m = *s.crossbar;
  std::vector<double> x;
  m.program.run(values, x);
  const Plan& p = s.plan;
  double batch = values[*s.params.find("batch")];
  double step = x[0];
  if (!std::isfinite(step) || step <= 0) {
    error = "the crossbar's figures give no finite, positive time (a zero rate?)";
    return false;
  }
  r = compiler::Result{};
  r.experiment = p.experiment;
  r.model = p.model;
  r.system = p.system.name;
  r.device = p.system.name;
  r.phase = p.phase;
  r.precision = p.precision;
  r.batch = static_cast<std::int64_t>(std::llround(batch));
  compiler::CrossbarRun run;
  compiler::CrossbarChip& chip = run.chip;
  chip.name = p.system.name;
  chip.peak_ops_per_s = x[7];
  chip.power_w = x[8];
  chip.area_m2 = x[9];
  chip.tile_power_w = x[10];
  chip.tile_area_m2 = x[11];
  chip.adc_power_w = x[12];
  chip.mvm_s = x[13];
  chip.arrays = x[14];
  chip.conversions_per_mac = x[15];
  chip.adc_power_share = x[16];
  chip.adc_area_share = x[17];
  // The chip at this point's figures (--set and --scale change them).
  const compiler::Crossbar xb = crossbar_at(s, values);
  chip.adc_bits = xb.adc_bits;
  chip.adc_bits_required = compiler::adc_bits_required(xb.rows, xb.dac_bits, xb.cell_bits, xb.flip_encoding);
  chip.adc_bits_required_unflipped = compiler::adc_bits_required(xb.rows, xb.dac_bits, xb.cell_bits, false);
  chip.flip_encoding = xb.flip_encoding;
  run.latency_s = x[1];
  run.interval_s = x[2];
  run.arrays_needed = x[3];
  run.chips = x[4];
  run.utilisation = x[3] / (x[4] * x[14]);
  run.energy_j = x[5];
  run.ops_per_sample = x[6];
  run.area_m2 = x[4] * x[9];
  run.power_w = run.energy_j * batch / step;
  const char* parts[] = {"adc", "dac", "sample_hold", "array", "ima", "tile", "digital"};
  for (std::size_t i = 0; i < 7; ++i) run.energy_by_part.emplace_back(parts[i], x[19 + i]);
  run.energy_by_part.emplace_back("io", x[18]);
  const compiler::Crossbar& c = *p.system.crossbar;
  double cells_per_array = static_cast<double>(c.rows * c.cols);
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    const double* l = &x[kTotals + i * kPerLayer];
    const CrossbarLayerCost& lc = m.layers[i];
    compiler::LayerResult lr;
    lr.name = lc.name;
    lr.op = lc.op;
    lr.forward_s = l[3];
    if (lr.forward_s > 0) lr.bound = lc.mapped ? "crossbar" : "digital";
    r.layers.push_back(lr);
    if (l[3] <= 0) continue;
    compiler::CrossbarLayer cl;
    cl.name = lc.name;
    cl.op = lc.op;
    cl.mapped = lc.mapped;
    cl.replicas = lc.replicas;
    cl.arrays = l[0];
    cl.mvms = l[1];
    cl.adc_conversions = l[2];
    cl.latency_s = l[3];
    cl.energy_j = l[4];
    cl.utilisation = l[0] > 0 ? l[5] / (l[0] * cells_per_array) : 0;
    cl.area_m2 = l[6];
    for (std::size_t p = 0; p < 7; ++p)
      if (l[7 + p] > 0) cl.energy_by_part.emplace_back(parts[p], l[7 + p]);
    run.layers.push_back(cl);
  }
  r.totals.iteration_s = step;
  r.totals.compute_s = step;
  r.totals.samples_per_s = batch / step;
  r.energy_per_sample_j = run.energy_j;
  r.crossbar = std::move(run);
  return true;
}

}  // namespace dlc::simulator
