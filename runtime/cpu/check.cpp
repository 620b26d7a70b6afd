#include "runtime/cpu/check.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>

#include "compiler/table.hpp"
#include "runtime/cpu/executor.hpp"
#include "runtime/cpu/reference.hpp"
#include "runtime/cpu/window.hpp"

namespace dlc::runtime::cpu {

namespace ref = dlc::runtime::reference;
using compiler::PlanOp;
using compiler::Shape;
using T = Executor::Tensor;

bool CheckReport::passed() const { return failures() == 0; }
int CheckReport::failures() const {
  return static_cast<int>(std::count_if(layers.begin(), layers.end(), [](const LayerCheck& l) { return !l.passed; }));
}

namespace {

constexpr std::int64_t kBatch = 2;

// Every dimension capped: channels and features at 8, the rest at 12; a
// rank-1 or rank-2 shape ([F], [T, D]) at 8 throughout, so that the inner
// dimensions of a matmul stay equal. A layer whose attributes need more
// (a depthwise conv's groups, a kernel larger than 12, attention heads that
// must divide the features) is tried again with its channels or features
// kept (level 1), then at its own shape (level 2).
Shape shrink(const Shape& s, int level) {
  Shape out = s;
  if (level == 2) return out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool kept = level == 1 && (s.size() <= 2 ? i + 1 == s.size() : i == 0);  // features of [T, D], channels
    std::int64_t cap = kept ? s[i] : s.size() <= 2 || i == 0 ? 8 : 12;
    out[i] = std::min(s[i], cap);
  }
  return out;
}

// The layer alone, on shrunk inputs: a plan of its inputs and itself.
bool small_plan(const compiler::Plan& plan, const PlanOp& op, compiler::Plan& out, std::string& error) {
  for (int level : {0, 1, 2}) {
    out = compiler::Plan{};
    out.model = plan.model;
    out.phase = plan.phase;
    PlanOp layer = op;
    layer.inputs.clear();
    for (std::size_t i = 0; i < op.args.tensors.size(); ++i) {
      PlanOp in;
      in.name = fmt::format("input{}", i);
      in.op = "input";
      in.output = shrink(op.args.tensors[i].shape, level);
      layer.args.tensors[i].shape = in.output;
      layer.inputs.push_back(static_cast<int>(i));
      out.ops.push_back(std::move(in));
    }
    compiler::OpResult r;
    compiler::OpError err;
    layer.args.describe = false;
    if (!op.def->infer(*op.def, layer.args, r, err)) {
      error = fmt::format("layer '{}' cannot be rebuilt for the check: {}", op.name, err.message);
      continue;
    }
    layer.output = r.output.shape;
    layer.params = r.params;
    layer.macs_forward = r.macs_forward;
    out.ops.push_back(std::move(layer));
    return true;
  }
  return false;
}

ref::Tensor tensor(const Executor& e, int op, T which) {
  return ref::Tensor{e.dims(op, which), e.read(op, which)};
}

}  // namespace

double check_error(const std::vector<float>& got, const ref::Tensor& want) {
  double diff = 0, scale = 1;
  for (std::size_t i = 0; i < want.data.size(); ++i) {
    scale = std::max(scale, std::fabs(static_cast<double>(want.data[i])));
    diff = std::max(diff, i < got.size() ? std::fabs(static_cast<double>(got[i]) - want.data[i]) : INFINITY);
  }
  if (got.size() != want.data.size()) return INFINITY;
  return diff / scale;
}

namespace {

}  // namespace

// check_sequence.cpp: the sequence ops (lstm, gru, attention, embedding,
// position_embedding, select) against their references. Fills y and the
// inputs' gradients dx like the other ops here; the checks of its weights'
// gradients (several tensors each) it appends to `tensors` itself.
bool check_sequence(const compiler::PlanOp& p, const Executor& exec, int me, bool training,
                    const std::vector<reference::Tensor>& x, reference::Tensor& y, const reference::Tensor& dy,
                    std::vector<reference::Tensor>& dx, std::vector<TensorCheck>& tensors, std::string& error);
double check_error(const std::vector<float>& got, const reference::Tensor& want);

namespace {

ref::Eltwise eltwise_kind(const std::string& op) {
  return op == "relu" ? ref::Eltwise::relu : op == "sigmoid" ? ref::Eltwise::sigmoid
         : op == "tanh" ? ref::Eltwise::tanh : op == "silu" ? ref::Eltwise::silu : ref::Eltwise::gelu_erf;
}

int axis_of(const PlanOp& op, std::size_t rank) {
  int axis = static_cast<int>(op.args.attrs.at(op.def->param_index("axis")).ints.at(0));
  return (axis < 0 ? axis + static_cast<int>(rank) : axis) + 1;
}

// Runs the small plan once through oneDNN, computes the same layer with the
// references, and records each tensor's error.
bool check_layer(const compiler::Plan& small, bool training, LayerCheck& lc, std::string& error) {
  BuildOptions o;
  o.batch = kBatch;
  o.training = training;
  o.input_gradients = true;
  auto exec = Executor::build(small, o, error);
  if (!exec) return false;
  exec->allocate(7);
  exec->run_once();
  int me = static_cast<int>(small.ops.size()) - 1;
  const PlanOp& p = small.ops[me];
  const std::string& k = p.op;
  std::vector<ref::Tensor> x;
  for (int i = 0; i < me; ++i) x.push_back(tensor(*exec, i, T::output));
  ref::Tensor y = ref::make(exec->dims(me, T::output));
  ref::Tensor dy = training ? tensor(*exec, me, T::output_grad) : ref::Tensor{};
  std::vector<ref::Tensor> dx;
  for (const ref::Tensor& t : x) dx.push_back(ref::make(t.dims));
  ref::Tensor w, bias, dw, dbias;
  bool has_w = !exec->dims(me, T::weights).empty(), has_b = !exec->dims(me, T::bias).empty();
  if (has_w) {
    w = tensor(*exec, me, T::weights);
    dw = ref::make(w.dims);
  }
  if (has_b) {
    bias = tensor(*exec, me, T::bias);
    dbias = ref::make(bias.dims);
  }
  bool sequence = k == "lstm" || k == "gru" || k == "attention" || k == "embedding" || k == "position_embedding" ||
                  k == "select";
  bool weight_grads = training && has_w && !sequence;  // check_sequence checks the sequence ops' weights itself
  Shape in_shape = small.ops[0].output;

  if (k == "conv" || k == "maxpool" || k == "avgpool" || k == "global_avgpool") {
    Window win = layer_window(p, in_shape, p.output);
    if (k == "conv") {
      ref::ConvParams cp{win.kernel, win.stride, win.pad_l, win.pad_r, win.dilation,
                         p.args.attrs.at(p.def->param_index("groups")).ints.at(0)};
      // oneDNN's grouped weights are [G, O/G, I/G, k...]; the reference's [O, I/G, k...]: the same order.
      ref::Tensor wr{ref::make({y.dims[1], x[0].dims[1] / cp.groups}).dims, w.data};
      wr.dims.insert(wr.dims.end(), win.kernel.begin(), win.kernel.end());
      ref::conv_forward(x[0], wr, has_b ? &bias : nullptr, cp, y);
      if (training) {
        ref::conv_backward_data(dy, wr, cp, dx[0]);
        ref::Tensor dwr = ref::make(wr.dims);
        ref::conv_backward_weights(x[0], dy, cp, dwr, has_b ? &dbias : nullptr);
        dw.data = dwr.data;
      }
    } else {
      ref::PoolParams pp{win.kernel, win.stride, win.pad_l, win.pad_r};
      ref::Tensor y4 = ref::make(y.dims);
      if (k == "global_avgpool") {
        y4.dims = x[0].dims;
        for (std::size_t i = 2; i < y4.dims.size(); ++i) y4.dims[i] = 1;
      }
      ref::Tensor dy4{y4.dims, dy.data};
      if (k == "maxpool") {
        ref::max_pool_forward(x[0], pp, y4);
        if (training) ref::max_pool_backward(x[0], dy4, pp, dx[0]);
      } else {
        ref::avg_pool_forward(x[0], pp, y4);
        if (training) ref::avg_pool_backward(dy4, pp, dx[0]);
      }
      y.data = y4.data;
    }
  } else if (k == "fc") {
    bool tokens = x[0].dims.size() == 3;
    ref::Tensor src = x[0], d = dy, out = y;
    if (tokens) {
      src.dims = {x[0].dims[0] * x[0].dims[1], x[0].dims[2]};
      out.dims = {src.dims[0], y.dims.back()};
      d.dims = out.dims;
    }
    ref::Tensor wr{{out.dims[1]}, w.data};
    wr.dims.insert(wr.dims.end(), src.dims.begin() + 1, src.dims.end());
    ref::inner_product_forward(src, wr, has_b ? &bias : nullptr, out);
    y.data = out.data;
    if (training) {
      ref::Tensor dsrc = ref::make(src.dims), dwr = ref::make(wr.dims);
      ref::inner_product_backward_data(d, wr, dsrc);
      ref::inner_product_backward_weights(src, d, dwr, has_b ? &dbias : nullptr);
      dx[0].data = dsrc.data;
      dw.data = dwr.data;
    }
  } else if (k == "matmul") {
    bool tb = p.args.attrs.at(p.def->param_index("transpose_b")).flag;
    ref::matmul_forward(x[0], x[1], tb, y);
    if (training) ref::matmul_backward(x[0], x[1], tb, dy, dx[0], dx[1]);
  } else if (k == "relu" || k == "sigmoid" || k == "tanh" || k == "gelu" || k == "silu") {
    ref::eltwise_forward(eltwise_kind(k), x[0], y);
    if (training) ref::eltwise_backward(eltwise_kind(k), x[0], dy, dx[0]);
  } else if (k == "add" || k == "mul") {
    auto kind = k == "add" ? ref::Binary::add : ref::Binary::mul;
    ref::binary_forward(kind, x[0], x[1], y);
    if (training) ref::binary_backward(kind, x[0], x[1], dy, dx[0], dx[1]);
  } else if (k == "dropout" || k == "flatten" || k == "reshape") {
    if (training && k == "dropout") {
      ref::Tensor mask = tensor(*exec, me, T::mask);
      ref::dropout_forward(x[0], mask, y);
      ref::dropout_backward(dy, mask, dx[0]);
    } else {
      y.data = x[0].data;  // a view: the same elements in the same order
      if (training) dx[0].data = dy.data;
    }
  } else if (k == "batchnorm") {
    bool affine = has_w;
    if (training) {
      ref::Tensor mean = ref::make({x[0].dims[1]}), var = ref::make({x[0].dims[1]});
      ref::batch_norm_forward_training(x[0], affine ? &w : nullptr, affine ? &bias : nullptr, 1e-5, y, mean, var);
      ref::batch_norm_backward(x[0], dy, mean, var, affine ? &w : nullptr, 1e-5, dx[0], affine ? &dw : nullptr,
                               affine ? &dbias : nullptr);
    } else {
      ref::Tensor mean = tensor(*exec, me, T::mean), var = tensor(*exec, me, T::variance);
      ref::batch_norm_forward_inference(x[0], mean, var, affine ? &w : nullptr, affine ? &bias : nullptr, 1e-5, y);
    }
  } else if (k == "layernorm") {
    ref::Tensor mean = ref::make(Shape(x[0].dims.begin(), x[0].dims.end() - 1)), var = mean;
    ref::layer_norm_forward(x[0], &w, &bias, 1e-5, y, mean, var);
    if (training) ref::layer_norm_backward(x[0], dy, mean, var, &w, 1e-5, dx[0], &dw, &dbias);
  } else if (k == "lrn") {
    auto num = [&](const char* n) { return p.args.attrs.at(p.def->param_index(n)).number; };
    ref::LrnParams lp{p.args.attrs.at(p.def->param_index("size")).ints.at(0), num("alpha"), num("beta"), num("k")};
    ref::lrn_forward(x[0], lp, y);
    if (training) ref::lrn_backward(x[0], dy, lp, dx[0]);
  } else if (k == "softmax") {
    int axis = axis_of(p, p.output.size());
    ref::softmax_forward(x[0], axis, y);
    if (training) ref::softmax_backward(y, dy, axis, dx[0]);
  } else if (k == "concat") {
    int axis = axis_of(p, p.output.size());
    ref::concat_forward(x, axis, y);
    if (training) ref::concat_backward(dy, axis, dx);
  } else if (sequence) {
    if (!check_sequence(p, *exec, me, training, x, y, dy, dx, lc.tensors, error)) return false;
  } else {
    error = fmt::format("layer '{}': no reference implementation for op '{}'", lc.name, k);
    return false;
  }

  lc.tensors.push_back({"output", check_error(exec->read(me, T::output), y)});
  if (training) {
    for (int i = 0; i < me; ++i)
      lc.tensors.push_back({me == 1 ? "input grad" : fmt::format("input {} grad", i),
                            check_error(exec->read(i, T::output_grad), dx[i])});
    if (weight_grads) lc.tensors.push_back({"weights grad", check_error(exec->read(me, T::weights_grad), dw)});
    if (weight_grads && has_b && !exec->dims(me, T::bias_grad).empty())
      lc.tensors.push_back({"bias grad", check_error(exec->read(me, T::bias_grad), dbias)});
    // The SGD step, from the weights and the gradients dlc computed.
    if (has_w && !exec->dims(me, T::weights_grad).empty()) {
      ref::Tensor grad{w.dims, exec->read(me, T::weights_grad)};
      ref::Tensor updated = w;
      ref::sgd_update(updated, grad, o.learning_rate);
      exec->run_update();
      lc.tensors.push_back({"weights after SGD", check_error(exec->read(me, T::weights), updated)});
    }
  }
  return true;
}

}  // namespace

bool check_plan(const compiler::Plan& plan, bool training, CheckReport& report, std::string& error) {
  report = CheckReport{};
  report.training = training;
  for (const PlanOp& op : plan.ops) {
    if (op.op == "input") continue;
    LayerCheck lc;
    lc.name = op.name;
    lc.op = op.op;
    compiler::Plan small;
    if (!small_plan(plan, op, small, error)) return false;
    std::vector<std::string> shapes;
    for (std::size_t i = 0; i + 1 < small.ops.size(); ++i)
      shapes.push_back(compiler::shape_string(small.ops[i].output));
    lc.shape = fmt::format("{}", fmt::join(shapes, " "));
    if (!check_layer(small, training, lc, error)) return false;
    for (const TensorCheck& t : lc.tensors) lc.max_error = std::max(lc.max_error, t.error);
    lc.passed = lc.max_error <= report.tolerance;
    report.layers.push_back(std::move(lc));
  }
  return true;
}

std::string check_table(const CheckReport& report) {
  compiler::TextTable t;
  t.column("layer");
  t.column("op");
  t.column("checked on");
  t.column("max error", compiler::TextTable::Align::right);
  t.column("worst tensor");
  t.column("result");
  std::map<std::string, int> kinds;
  double worst = 0;
  for (const LayerCheck& l : report.layers) {
    const TensorCheck* w = &l.tensors.front();
    for (const TensorCheck& tc : l.tensors)
      if (tc.error > w->error) w = &tc;
    t.row({l.name, l.op, l.shape, fmt::format("{:.2e}", l.max_error), w->tensor, l.passed ? "ok" : "FAILED"});
    ++kinds[l.op];
    worst = std::max(worst, l.max_error);
  }
  std::string out = fmt::format("dlc run --check: each layer once at batch {} against the C++ reference ({}), "
                                "error = max |dlc - reference| / max(1, max |reference|)\n\n",
                                kBatch, report.training ? "forward, backward data and weights" : "forward");
  out += t.render();
  out += fmt::format("\n{} layer(s) of {} op kind(s): {} passed, {} failed; largest error {:.2e} (tolerance {:.0e})\n",
                     report.layers.size(), kinds.size(), report.layers.size() - report.failures(), report.failures(),
                     worst, report.tolerance);
  return out;
}

}  // namespace dlc::runtime::cpu
