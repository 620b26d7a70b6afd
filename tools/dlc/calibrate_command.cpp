// dlc calibrate MEASURED.json… -o DEVICE.dlc: fits the roofline's per-class
// efficiencies and launch overhead to measured runs (simulator/calibrate.hpp),
// prints the fit, and writes a device spec that an experiment can import.
#include <cctype>
#include <filesystem>
#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "compiler/result.hpp"
#include "simulator/calibrate.hpp"
#include "tools/dlc/commands.hpp"
#include "tools/dlc/frontend.hpp"

namespace dlc::tools {

namespace {

bool read_measured(const std::string& path, compiler::Result& r) {
  auto fail = [&](const std::string& message) {
    fmt::print(stderr, "dlc: error: {}: {}\n", path, message);
    return false;
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return fail("cannot read: no such file");
  if (std::filesystem::is_directory(path, ec)) return fail("cannot read: is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  std::string error;
  if (!compiler::result_from_json(text.str(), r, error)) return fail(error);
  return true;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || s.size() > 256 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') return false;
  for (const char* keyword : {"import", "input", "output", "return", "repeat", "for", "in", "per", "true", "false"})
    if (s == keyword) return false;
  return true;
}

// "Xeon 8380" -> "Xeon_8380_calibrated".
std::string derived_name(const std::string& device) {
  std::string name;
  for (char ch : device) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "d_" + name;
  return name + "_calibrated";
}

std::string percent(double e) { return fmt::format("{:.1f}%", e * 100); }

// The device spec: the measured device's peak and bandwidth with the fitted
// efficiencies and launch overhead (to 5 significant digits: measured times
// are not more precise), under a comment saying what they came from.
std::string device_spec(const simulator::Calibration& c, const std::string& name,
                        const std::vector<std::string>& files) {
  std::string out = fmt::format("// Device '{}' ({}, {}) calibrated by dlc calibrate from {} measured record(s):\n",
                                c.device.name, c.device.kind, c.precision, files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    const simulator::RecordFit& r = c.records[i];
    out += fmt::format("//   {}: {} ({}), {}, batch {}: {} samples\n", files[i], r.model, r.experiment, r.phase,
                       r.batch, r.samples);
  }
  out += fmt::format("// {} samples (forward and backward times) of {} layers; per class and pass the factor with the\n"
                     "// least mean relative error (docs/simulate.md, Calibration).\n",
                     c.samples, c.layers);
  out += fmt::format("// MAPE per sample {} with the simulator's defaults, {} fitted; per layer {}, {}.\n",
                     percent(c.sample_mape_before), percent(c.sample_mape_after), percent(c.layer_mape_before),
                     percent(c.layer_mape_after));
  for (const std::string& note : c.notes) out += "// note: " + note + "\n";
  for (const std::string& w : c.warnings) out += "// warning: " + w + "\n";
  std::string peak_key = c.precision == "mixed" ? "fp16" : c.precision;
  out += fmt::format("device {} {{\n", name);
  out += fmt::format("  kind = {}\n", c.device.kind);
  out += fmt::format("  peak {{ {} = {} }}\n", peak_key, simulator::quantity_text(c.device.peak, "FLOP/s"));
  out += fmt::format("  memory_bandwidth = {}\n",
                     simulator::quantity_text(c.device.memory_bandwidth * c.after.bandwidth_scale, "B/s", 5));
  // Each group lists the classes with samples of its pass; `efficiency` every
  // class with samples (a training forward fitted, or else its fallback).
  using simulator::Pass;
  auto group = [&](Pass pass, const std::array<double, simulator::kOpClasses>& values, const std::string& extra) {
    std::string body;
    std::vector<compiler::OpClass> done;
    for (const simulator::ClassFit& f : c.classes) {
      if ((pass != Pass::forward && f.pass != pass) ||
          std::find(done.begin(), done.end(), f.op_class) != done.end())
        continue;
      done.push_back(f.op_class);
      body += fmt::format("    {} = {:.5g}\n", compiler::op_class_name(f.op_class),
                          values[static_cast<std::size_t>(f.op_class)]);
    }
    if (body.empty() && extra.empty()) return;
    out += fmt::format("  {} {{\n{}{}  }}\n", simulator::pass_group(pass), body, extra);
  };
  group(Pass::forward, c.after.efficiency, fmt::format("    memory = {:.5g}\n", c.after.memory_efficiency));
  group(Pass::backward, c.after.efficiency_backward, "");
  group(Pass::inference, c.after.efficiency_inference, "");
  out += fmt::format("  launch_overhead = {}\n", simulator::quantity_text(c.after.launch_overhead, "s", 5));
  out += "}\n";
  return out;
}

}  // namespace

int run_calibrate(const CalibrateOptions& o) {
  std::vector<compiler::Result> records(o.measured.size());
  for (std::size_t i = 0; i < o.measured.size(); ++i) {
    if (!read_measured(o.measured[i], records[i])) return 1;
    std::string problem =
        simulator::calibration_problem(records[i], i ? &records[0] : nullptr, fmt::format("{}", o.measured[0]));
    if (!problem.empty()) {
      fmt::print(stderr, "dlc: error: {}: {}\n", o.measured[i], problem);
      return 1;
    }
  }
  const std::string& kind = records[0].device_model->kind;
  if (kind != "cpu" && kind != "gpu" && kind != "tpu" && kind != "accelerator") {
    fmt::print(stderr, "dlc: error: {}: device model kind '{}' is not cpu, gpu, tpu or accelerator\n", o.measured[0],
               kind);
    return 1;
  }
  std::string name = o.device.empty() ? derived_name(records[0].device_model->name) : o.device;
  if (!is_identifier(name)) {
    fmt::print(stderr, "dlc: error: --device: '{}' is not a name (a letter or _, then letters, digits and _)\n", name);
    return 1;
  }
  simulator::Calibration fit;
  std::string error;
  if (!simulator::calibrate(records, fit, error)) {
    fmt::print(stderr, "dlc: error: {}\n", error);
    return 1;
  }
  for (const std::string& w : fit.warnings) fmt::print(stderr, "dlc calibrate: warning: {}\n", w);
  if (int code = write_result(device_spec(fit, name, o.measured), o.output)) return code;
  std::string text = o.format == "json" ? simulator::calibration_json(fit) : simulator::calibration_table(fit);
  return write_result(text, "");
}

}  // namespace dlc::tools
