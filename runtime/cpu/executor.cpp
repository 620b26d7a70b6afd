#include "runtime/cpu/executor.hpp"
#include "runtime/cpu/machine.hpp"

#include <array>
#include <chrono>
#include <fstream>
#include <omp.h>

#include "runtime/cpu/lowering.hpp"

namespace dlc::runtime::cpu {

using namespace lowering;

struct Executor::Impl : Lowering {};

Executor::Executor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Executor::~Executor() = default;

std::unique_ptr<Executor> Executor::build(const compiler::Plan& plan, const BuildOptions& options, std::string& error) {
  auto impl = std::make_unique<Impl>();
  impl->opt = options;
  if (!impl->lower(plan, error)) return nullptr;
  return std::unique_ptr<Executor>(new Executor(std::move(impl)));
}

const MemoryNeed& Executor::memory() const { return impl_->need; }
int Executor::primitive_count() const { return static_cast<int>(impl_->steps.size()); }
void Executor::allocate(std::uint64_t seed) { impl_->allocate(seed); }

void Executor::run_once() {
  for (Step& s : impl_->steps) {
    if (s.phase == Phase::update) continue;
    impl_->execute(s);
  }
  impl_->strm.wait();
}

void Executor::run_update() {
  for (Step& s : impl_->steps)
    if (s.phase == Phase::update) impl_->execute(s);
  impl_->strm.wait();
}

Measurement Executor::measure(int warmup, int iters, const std::function<void(int, int)>& progress) {
  using clock = std::chrono::steady_clock;
  Impl& m = *impl_;
  std::size_t nrows = m.rows.size();
  // samples[row][phase][iteration]
  std::vector<std::array<std::vector<double>, 3>> samples(nrows);
  std::vector<std::vector<double>> row_iter(nrows);
  std::vector<double> iteration, inside;
  std::vector<int> step_count(nrows, 0);
  for (const Step& s : m.steps) ++step_count[s.row];
  std::vector<std::array<double, 3>> acc(nrows);
  for (int it = 0; it < warmup + iters; ++it) {
    for (auto& a : acc) a = {0, 0, 0};
    double in_primitives = 0;
    auto start = clock::now();
    for (Step& s : m.steps) {
      auto t0 = clock::now();
      m.execute(s);
      m.strm.wait();
      double dt = std::chrono::duration<double>(clock::now() - t0).count();
      acc[s.row][static_cast<int>(s.phase)] += dt;
      in_primitives += dt;
    }
    double total = std::chrono::duration<double>(clock::now() - start).count();
    if (it >= warmup) {
      iteration.push_back(total);
      inside.push_back(in_primitives);
      for (std::size_t r = 0; r < nrows; ++r) {
        for (int ph = 0; ph < 3; ++ph) samples[r][ph].push_back(acc[r][ph]);
        row_iter[r].push_back(acc[r][0] + acc[r][1] + acc[r][2]);
      }
    }
    if (progress) progress(it + 1, warmup + iters);
  }
  Measurement out;
  out.iterations = iters;
  out.iteration_s = percentile(iteration, 0.5);
  out.iteration_spread = out.iteration_s > 0
                             ? (percentile(iteration, 0.9) - percentile(iteration, 0.1)) / out.iteration_s
                             : 0;
  out.primitives_s = percentile(inside, 0.5);
  std::vector<double> overhead;
  for (std::size_t i = 0; i < iteration.size(); ++i) overhead.push_back(iteration[i] - inside[i]);
  out.overhead_s = percentile(overhead, 0.5);
  for (std::size_t r = 0; r < nrows; ++r) {
    RowTiming rt;
    rt.name = m.rows[r].name;
    rt.op = m.rows[r].op;
    rt.op_class = m.rows[r].plan_op >= 0 ? m.rows[r].op_class : "";
    rt.plan_op = m.rows[r].plan_op;
    rt.forward_s = percentile(samples[r][0], 0.5);
    rt.backward_s = percentile(samples[r][1], 0.5);
    rt.update_s = percentile(samples[r][2], 0.5);
    double med = percentile(row_iter[r], 0.5);
    rt.spread = med > 0 ? (percentile(row_iter[r], 0.9) - percentile(row_iter[r], 0.1)) / med : 0;
    rt.steps = step_count[r];
    rt.reference_kernels = m.rows[r].reference_kernels;
    out.rows.push_back(std::move(rt));
  }
  // Extra rows go right after their layer, so the table reads in order.
  std::stable_sort(out.rows.begin(), out.rows.end(), [&](const RowTiming& a, const RowTiming& b) {
    auto key = [&](const RowTiming& r) {
      if (r.plan_op >= 0) return std::pair{r.plan_op, 0};
      for (std::size_t i = 0; i < m.ops.size(); ++i)
        if (r.name.rfind(m.ops[i]->name + "/", 0) == 0 &&
            r.name.find('/', m.ops[i]->name.size() + 1) == std::string::npos)
          return std::pair{static_cast<int>(i), r.op == "reorder" ? -1 : 1};
      return std::pair{static_cast<int>(m.ops.size()), 0};
    };
    return key(a) < key(b);
  });
  // Rows that ran nothing (inputs, views) stay: they line up with dlc simulate's.
  return out;
}

std::vector<std::int64_t> Executor::dims(int op, Tensor which) const {
  const OpBuffers& b = impl_->t.at(op);
  int buf = -1;
  switch (which) {
    case Tensor::output: buf = b.out; break;
    case Tensor::output_grad: buf = b.diff; break;
    case Tensor::weights: buf = b.weights; break;
    case Tensor::bias: buf = b.bias; break;
    case Tensor::weights_grad: buf = b.dweights; break;
    case Tensor::bias_grad: buf = b.dbias; break;
    case Tensor::mean: buf = b.mean; break;
    case Tensor::variance: buf = b.var; break;
    case Tensor::mask: buf = b.mask; break;
  }
  if (buf < 0) return {};
  if (which == Tensor::output || which == Tensor::output_grad) return b.logical;
  return impl_->buffers[buf].md.dims();
}

namespace {
int buffer_of(const OpBuffers& b, Executor::Tensor which) {
  switch (which) {
    case Executor::Tensor::output: return b.out;
    case Executor::Tensor::output_grad: return b.diff;
    case Executor::Tensor::weights: return b.weights;
    case Executor::Tensor::bias: return b.bias;
    case Executor::Tensor::weights_grad: return b.dweights;
    case Executor::Tensor::bias_grad: return b.dbias;
    case Executor::Tensor::mean: return b.mean;
    case Executor::Tensor::variance: return b.var;
    case Executor::Tensor::mask: return b.mask;
  }
  return -1;
}
}  // namespace

std::vector<float> Executor::read(int op, Tensor which) const {
  int buf = buffer_of(impl_->t.at(op), which);
  if (buf < 0) return {};
  dnnl::memory copy = impl_->plain_copy(buf);
  const float* p = static_cast<const float*>(copy.get_data_handle());
  return std::vector<float>(p, p + volume(impl_->buffers[buf].md.dims()));
}

std::vector<std::string> Executor::named(int op) const {
  std::vector<std::string> out;
  for (const auto& [name, buf] : impl_->t.at(op).named) out.push_back(name);
  return out;
}

namespace {
int named_buffer(const OpBuffers& b, const std::string& name) {
  for (const auto& [n, buf] : b.named)
    if (n == name) return buf;
  return -1;
}
}  // namespace

std::vector<std::int64_t> Executor::dims(int op, const std::string& name) const {
  int buf = named_buffer(impl_->t.at(op), name);
  return buf < 0 ? std::vector<std::int64_t>{} : impl_->buffers[buf].md.dims();
}

std::vector<float> Executor::read(int op, const std::string& name) const {
  int buf = named_buffer(impl_->t.at(op), name);
  if (buf < 0) return {};
  dnnl::memory copy = impl_->plain_copy(buf);
  const float* p = static_cast<const float*>(copy.get_data_handle());
  return std::vector<float>(p, p + volume(impl_->buffers[buf].md.dims()));
}

void Executor::write(int op, Tensor which, const std::vector<float>& values) {
  int buf = buffer_of(impl_->t.at(op), which);
  if (buf < 0) return;
  Impl& m = *impl_;
  Buffer& b = m.buffers[buf];
  dnnl::memory src(plain(b.md.dims()), m.eng, const_cast<float*>(values.data()));
  dnnl::reorder(src, b.mem).execute(m.strm, src, b.mem);
  m.strm.wait();
}

compiler::Result measured_result(const compiler::Plan& plan, const BuildOptions& options, const Measurement& m,
                                 const MemoryNeed& memory) {
  compiler::Result r;
  r.source = "measured";
  r.experiment = plan.experiment;
  r.model = plan.model;
  r.system = "this machine (oneDNN CPU)";
  r.device = machine_name();  // what really ran; device_model keeps the spec's device the prediction used
  r.phase = options.training ? "training" : "inference";
  r.precision = "fp32";
  r.batch = options.batch;
  for (const RowTiming& row : m.rows) {
    compiler::LayerResult l;
    l.name = row.name;
    l.op = row.op;
    l.forward_s = row.forward_s;
    l.backward_s = row.backward_s;
    l.update_s = row.update_s;
    l.op_class = row.op_class;
    l.reference_kernels = row.reference_kernels;
    bool timed = row.forward_s + row.backward_s + row.update_s > 0;
    l.bound = timed ? "measured" : "";
    if (timed) l.spread = row.spread;
    if (row.plan_op >= 0) {
      const compiler::PlanOp& p = plan.ops[row.plan_op];
      l.work = compiler::LayerResult::Work{static_cast<double>(p.macs_forward), static_cast<double>(p.macs_backward),
                                           static_cast<double>(p.bytes_forward), static_cast<double>(p.bytes_backward),
                                           static_cast<double>(p.weight_bytes)};
    }
    r.layers.push_back(std::move(l));
  }
  r.totals.iteration_s = m.iteration_s;
  r.totals.compute_s = m.primitives_s;
  r.totals.comm_s = 0;
  r.totals.samples_per_s = m.iteration_s > 0 ? static_cast<double>(options.batch) / m.iteration_s : 0;
  r.totals.memory_per_device_bytes = memory.total();
  compiler::DeviceModel d;
  d.name = plan.system.device.name;
  d.kind = plan.system.device.kind;
  auto peak = plan.system.device.peak.find("fp32");
  d.peak = peak == plan.system.device.peak.end() ? 0 : peak->second;
  d.memory_bandwidth = plan.system.device.memory_bandwidth;
  r.device_model = d;
  return r;
}

void set_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}
int max_threads() { return omp_get_max_threads(); }

double available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double value;
  std::string unit;
  while (in >> key >> value >> unit)
    if (key == "MemAvailable:") return value * 1024;
  return 0;
}

}  // namespace dlc::runtime::cpu
