// dlc run FILE: an experiment as a real benchmark on this machine's CPU
// (oneDNN), measured layer by layer; --check compares every layer against
// the reference implementations instead; --describe-device writes a device
// spec for this machine.
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include "compiler/checker.hpp"
#include "compiler/plan.hpp"
#include "compiler/result.hpp"
#include "compiler/table.hpp"
#include "runtime/cpu/check.hpp"
#include "runtime/cpu/executor.hpp"
#include "runtime/cpu/machine.hpp"
#include "tools/dlc/commands.hpp"
#include "tools/dlc/frontend.hpp"

namespace dlc::tools {

namespace {

using compiler::human_bytes;

// The samples one device of the experiment's system runs per step: this
// machine runs one device's share.
std::int64_t device_batch(const compiler::Plan& plan) {
  std::int64_t devices = plan.batch_per == "global" ? plan.system.devices()
                         : plan.batch_per == "node" ? plan.system.devices_per_node
                                                    : 1;
  return std::max<std::int64_t>(1, plan.batch / std::max<std::int64_t>(1, devices));
}

int describe_device(const RunOptions& o) {
  runtime::cpu::MachineInfo m = runtime::cpu::describe_machine(o.threads);
  fmt::print(stderr, "{}", m.log);
  return write_result(runtime::cpu::device_spec(m, "LocalCPU"), o.output);
}

}  // namespace

int run_run(const RunOptions& o) {
  runtime::cpu::set_threads(o.threads);
  if (o.describe_device) return describe_device(o);
  if (o.file.empty()) {
    fmt::print(stderr, "dlc: error: run needs a .dlc file with an experiment (or --describe-device)\n");
    return 1;
  }
  bool color = use_color(o.color);
  lang::Diagnostics diags;
  auto module = compiler::check(load_input(o.file, diags), diags);
  if (report(diags, *module->program, color)) return 1;

  std::vector<std::string> names;
  auto chosen = select_experiments(*module, o.file, o.experiment, "run", names);
  if (chosen.empty()) return 1;
  if (chosen.size() > 1) {
    fmt::print(stderr, "dlc: error: {} declares {} experiments ({}); choose one with --experiment NAME\n", o.file,
               chosen.size(), fmt::join(names, ", "));
    return 1;
  }
  const compiler::CheckedDecl& experiment = *chosen.front();
  compiler::Plan plan = compiler::lower(*module, experiment);
  lang::Diagnostics problems;
  auto fail = [&](std::string message) {
    problems.error(experiment.decl->name.range, std::move(message));
    report(problems, *module->program, color);
    return 1;
  };
  if (plan.hopfield)
    return fail(fmt::format("experiment '{}' is a Hopfield network on a crossbar chip, which dlc run cannot measure "
                            "here: dlc simulate runs it on the chip's model",
                            experiment.name));
  if (plan.system.crossbar)
    return fail(fmt::format("experiment '{}' runs on the crossbar chip '{}': dlc run measures on this machine's CPU "
                            "(name a device as its system), dlc simulate predicts the chip",
                            experiment.name, plan.system.name));
  if (plan.precision != "fp32")
    return fail(fmt::format("dlc run on the CPU runs fp32; experiment '{}' asks for {} (set precision = fp32)",
                            experiment.name, plan.precision));

  // This machine is one CPU: an experiment on another kind of device, or on
  // several, is not what runs here unless one device's share is asked for.
  // (--check measures nothing: it checks the layers' arithmetic anywhere.)
  const compiler::PlanDevice& device = plan.system.device;
  if (!o.check && device.kind != "cpu")
    return fail(fmt::format("experiment '{}' runs on '{}', a {}, but dlc run measures this machine's CPU: give the "
                            "experiment a cpu device as its system (dlc run --describe-device writes one for this "
                            "machine), or predict it with dlc simulate",
                            experiment.name, device.name, device.kind));
  runtime::cpu::BuildOptions build;
  build.batch = device_batch(plan);
  build.training = plan.phase == "training";
  if (!o.check && plan.system.devices() > 1 && !o.one_device)
    return fail(fmt::format("experiment '{}' runs on the {} devices of '{}' ({} node(s) of {}); this machine is one: "
                            "add --one-device to run one device's share (batch {}) here, without the exchange "
                            "between them",
                            experiment.name, plan.system.devices(), plan.system.name, plan.system.nodes,
                            plan.system.devices_per_node, build.batch));
  if (!o.check && plan.system.devices() > 1)
    fmt::print(stderr, "dlc run: {}: this machine runs one device's share (batch {}) of the {} devices of '{}'; "
                       "the exchange between them is not run\n",
               experiment.name, build.batch, plan.system.devices(), plan.system.name);
  if (o.check) {
    runtime::cpu::CheckReport rep;
    std::string error;
    if (!runtime::cpu::check_plan(plan, build.training, rep, error)) return fail(error);
    std::string text = runtime::cpu::check_table(rep);
    int written = write_result(text, o.output);
    if (written != 0) return written;
    if (!rep.passed()) {
      fmt::print(stderr, "dlc: error: {} of {} layer(s) differ from the reference beyond the tolerance\n",
                 rep.failures(), rep.layers.size());
      return 1;
    }
    return 0;
  }

  std::string error;
  auto exec = runtime::cpu::Executor::build(plan, build, error);
  if (!exec) return fail(error);
  // The memory check comes before any tensor is allocated.
  const runtime::cpu::MemoryNeed& need = exec->memory();
  double limit = runtime::cpu::available_memory();
  std::string limit_name = "the memory available now";
  if (!o.max_memory.empty()) {
    auto q = lang::parse_quantity(o.max_memory);
    if (!q || q->dim != lang::dims::bytes() || q->value <= 0) {
      fmt::print(stderr, "dlc: error: --max-memory {}: expected a size with a unit (8GB, 512MiB)\n", o.max_memory);
      return 1;
    }
    limit = q->value;
    limit_name = fmt::format("--max-memory {}", o.max_memory);
  }
  if (limit > 0 && need.total() > limit)
    return fail(fmt::format("the run needs {} (activations {}, gradients {}, weights {}, workspace {}, scratchpad {}), "
                            "more than {} ({}); nothing was allocated. Lower the batch (now {}) or raise "
                            "--max-memory",
                            human_bytes(need.total()), human_bytes(need.activations), human_bytes(need.gradients),
                            human_bytes(need.weights), human_bytes(need.workspace), human_bytes(need.scratchpad),
                            limit_name, human_bytes(limit), build.batch));

  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  bool tty = isatty(2);
  exec->allocate(1);
  bool shown = false;
  int last_tenth = -1;
  auto progress = [&](int done, int total) {
    double elapsed = std::chrono::duration<double>(clock::now() - t0).count();
    if (elapsed < 1 && done < total) return;
    if (tty) {
      fmt::print(stderr, "\rdlc run: {}: iteration {}/{} ({:.1f} s)", experiment.name, done, total, elapsed);
      shown = true;
    } else if (int tenth = done * 10 / total; tenth != last_tenth && elapsed >= 1) {
      fmt::print(stderr, "dlc run: {}: iteration {}/{} ({:.1f} s)\n", experiment.name, done, total, elapsed);
      last_tenth = tenth;
    }
  };
  runtime::cpu::Measurement m = exec->measure(o.warmup, o.iters, progress);
  if (shown) fmt::print(stderr, "\n");

  compiler::Result r = runtime::cpu::measured_result(plan, build, m, need);
  for (const compiler::LayerResult& l : r.layers)
    if (!l.reference_kernels.empty())
      fmt::print(stderr, "dlc run: warning: {} ran on oneDNN's reference kernels ({}); its time is far from what "
                 "this machine can do: do not calibrate on it\n", l.name, fmt::join(l.reference_kernels, ", "));
  std::string format = o.format.empty() ? default_format(o.output) : o.format;
  std::string text;
  if (format == "json") {
    text = compiler::result_json(r);
  } else if (format == "csv") {
    text = compiler::result_csv(r);
  } else {
    text = compiler::result_table(r);
    text += fmt::format("measured: {} timed iteration(s) after {} warm-up, {} thread(s), {} primitives; iteration "
                        "spread ±{:.1f}%\n",
                        m.iterations, o.warmup, runtime::cpu::max_threads(), exec->primitive_count(),
                        50 * m.iteration_spread);
    text += fmt::format("dlc's own time between primitives: {} per iteration ({:.2f}% of it)\n",
                        compiler::human_seconds(m.overhead_s),
                        m.iteration_s > 0 ? 100 * m.overhead_s / m.iteration_s : 0.0);
  }
  return write_result(text, o.output);
}

}  // namespace dlc::tools
