// dlc run --check for the sequence ops (see check.hpp): lstm, gru, attention,
// position_embedding and select against the plain references, reading the
// weights and weight gradients the lowering registered by name
// (lower_sequence.cpp).
#include <cmath>
#include <fmt/format.h>

#include "runtime/cpu/check.hpp"
#include "runtime/cpu/executor.hpp"
#include "runtime/cpu/reference.hpp"

namespace dlc::runtime::cpu {

double check_error(const std::vector<float>& got, const reference::Tensor& want);

namespace {

namespace ref = dlc::runtime::reference;
using compiler::PlanOp;

const compiler::OpArgs::Attr& attr(const PlanOp& p, const char* name) {
  return p.args.attrs.at(p.def->param_index(name));
}

ref::Tensor named(const Executor& exec, int op, const std::string& name, std::vector<std::int64_t> dims) {
  ref::Tensor t{std::move(dims), exec.read(op, name)};
  if (static_cast<std::int64_t>(t.data.size()) != t.size())
    throw std::logic_error(fmt::format("internal error: tensor '{}' has {} elements, not {}", name, t.data.size(),
                                       t.size()));
  return t;
}

// [A, B, C] -> [B, A, C].
ref::Tensor swap01(const ref::Tensor& x) {
  std::int64_t a = x.dims[0], b = x.dims[1], c = x.dims[2];
  ref::Tensor y = ref::make({b, a, c});
  for (std::int64_t i = 0; i < a; ++i)
    for (std::int64_t j = 0; j < b; ++j)
      for (std::int64_t k = 0; k < c; ++k) y.data[(j * a + i) * c + k] = x.data[(i * b + j) * c + k];
  return y;
}

void check_rnn(const PlanOp& p, const Executor& exec, int me, bool training, const std::vector<ref::Tensor>& x,
               ref::Tensor& y, const ref::Tensor& dy, std::vector<ref::Tensor>& dx, std::vector<TensorCheck>& tensors) {
  ref::RnnStack stack;
  stack.cell = p.op == "lstm" ? ref::RnnCell::lstm : ref::RnnCell::gru;
  stack.bidirectional = attr(p, "bidirectional").flag;
  std::int64_t layers = attr(p, "layers").ints.at(0), hidden = attr(p, "hidden").ints.at(0);
  std::int64_t gates = ref::rnn_gates(stack.cell), dirs = stack.bidirectional ? 2 : 1;
  bool sequences = attr(p, "sequences").flag;
  std::int64_t n = x[0].dims[0], steps = x[0].dims[1], channels = x[0].dims[2];
  auto name = [](std::int64_t l, std::int64_t d, const char* what) { return fmt::format("l{}d{}.{}", l, d, what); };
  for (std::int64_t l = 0; l < layers; ++l) {
    std::int64_t in = l == 0 ? channels : dirs * hidden;
    for (std::int64_t d = 0; d < dirs; ++d)
      stack.weights.push_back({named(exec, me, name(l, d, "weights_layer"), {in, gates * hidden}),
                               named(exec, me, name(l, d, "weights_iter"), {hidden, gates * hidden}),
                               named(exec, me, name(l, d, "bias"), {gates * hidden})});
  }
  ref::Tensor src = swap01(x[0]), dst = ref::make({steps, n, dirs * hidden});
  ref::rnn_stack_forward(stack, src, dst);
  // Every step's state, or each direction's final one (left to right at the last step, right to left at the first).
  auto final_index = [&](std::int64_t i, std::int64_t c) {
    std::int64_t t = c < hidden ? steps - 1 : 0;
    return (t * n + i) * dirs * hidden + c;
  };
  if (sequences) {
    y.data = swap01(dst).data;
  } else {
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t c = 0; c < dirs * hidden; ++c) y.data[i * dirs * hidden + c] = dst.data[final_index(i, c)];
  }
  if (!training) return;
  ref::Tensor diff_dst = ref::make(dst.dims);
  if (sequences) {
    diff_dst = swap01(dy);
  } else {
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t c = 0; c < dirs * hidden; ++c)
        diff_dst.data[final_index(i, c)] = dy.data[i * dirs * hidden + c];
  }
  ref::Tensor diff_src = ref::make(src.dims);
  std::vector<ref::RnnWeights> diff_w;
  ref::rnn_stack_backward(stack, src, diff_dst, diff_src, diff_w);
  dx[0].data = swap01(diff_src).data;
  for (std::int64_t l = 0; l < layers; ++l)
    for (std::int64_t d = 0; d < dirs; ++d) {
      const ref::RnnWeights& w = diff_w.at(static_cast<std::size_t>(l * dirs + d));
      for (auto [what, want] : {std::pair{"weights_layer", &w.weights_layer},
                                std::pair{"weights_iter", &w.weights_iter}, std::pair{"bias", &w.bias}}) {
        std::string grad = name(l, d, what) + " grad";
        tensors.push_back({grad, check_error(exec.read(me, grad), *want)});
      }
    }
}

// [N·T, D] rows <-> per-head [N, heads, T, dh].
ref::Tensor to_heads(const ref::Tensor& rows, std::int64_t n, std::int64_t steps, std::int64_t heads) {
  std::int64_t d = rows.dims[1], dh = d / heads;
  ref::Tensor out = ref::make({n, heads, steps, dh});
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t t = 0; t < steps; ++t)
        for (std::int64_t c = 0; c < dh; ++c)
          out.data[((i * heads + h) * steps + t) * dh + c] = rows.data[(i * steps + t) * d + h * dh + c];
  return out;
}
ref::Tensor from_heads(const ref::Tensor& x) {
  std::int64_t n = x.dims[0], heads = x.dims[1], steps = x.dims[2], dh = x.dims[3], d = heads * dh;
  ref::Tensor rows = ref::make({n * steps, d});
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t t = 0; t < steps; ++t)
        for (std::int64_t c = 0; c < dh; ++c)
          rows.data[(i * steps + t) * d + h * dh + c] = x.data[((i * heads + h) * steps + t) * dh + c];
  return rows;
}

// softmax(Q·Kᵀ/√dh, masked above the diagonal when causal)·V per head, between
// the four projections; backward through each step with the references.
void check_attention(const PlanOp& p, const Executor& exec, int me, bool training, const std::vector<ref::Tensor>& x,
                     ref::Tensor& y, const ref::Tensor& dy, std::vector<ref::Tensor>& dx,
                     std::vector<TensorCheck>& tensors) {
  std::int64_t heads = attr(p, "heads").ints.at(0);
  bool causal = attr(p, "causal").flag, has_bias = attr(p, "bias").flag;
  std::int64_t n = x[0].dims[0], steps = x[0].dims[1], d = x[0].dims[2];
  double scale = 1 / std::sqrt(static_cast<double>(d / heads));
  const char* names[4] = {"q", "k", "v", "o"};
  ref::Tensor w[4], b[4];
  for (int i = 0; i < 4; ++i) {
    w[i] = named(exec, me, fmt::format("{}.weights", names[i]), {d, d});
    if (has_bias) b[i] = named(exec, me, fmt::format("{}.bias", names[i]), {d});
  }
  ref::Tensor rows{{n * steps, d}, x[0].data}, proj[3];
  for (int i = 0; i < 3; ++i) {
    proj[i] = ref::make({n * steps, d});
    ref::inner_product_forward(rows, w[i], has_bias ? &b[i] : nullptr, proj[i]);
  }
  ref::Tensor q = to_heads(proj[0], n, steps, heads), k = to_heads(proj[1], n, steps, heads),
              v = to_heads(proj[2], n, steps, heads);
  ref::Tensor scores, prob, ctx;
  ref::matmul_forward(q, k, true, scores);
  for (std::int64_t i = 0; i < scores.size(); ++i) {
    std::int64_t col = i % steps, row = i / steps % steps;
    scores.data[i] = causal && col > row ? -INFINITY : static_cast<float>(scores.data[i] * scale);
  }
  ref::softmax_forward(scores, 3, prob);
  ref::matmul_forward(prob, v, false, ctx);
  ref::Tensor ctx_rows = from_heads(ctx), out = ref::make({n * steps, d});
  ref::inner_product_forward(ctx_rows, w[3], has_bias ? &b[3] : nullptr, out);
  y.data = out.data;
  if (!training) return;
  ref::Tensor dw[4], db[4];
  for (int i = 0; i < 4; ++i) {
    dw[i] = ref::make({d, d});
    db[i] = ref::make({d});
  }
  ref::Tensor dout{{n * steps, d}, dy.data}, dctx_rows = ref::make({n * steps, d});
  ref::inner_product_backward_data(dout, w[3], dctx_rows);
  ref::inner_product_backward_weights(ctx_rows, dout, dw[3], has_bias ? &db[3] : nullptr);
  ref::Tensor dprob, dv, dscores, dq, dk;
  ref::matmul_backward(prob, v, false, to_heads(dctx_rows, n, steps, heads), dprob, dv);
  ref::softmax_backward(prob, dprob, 3, dscores);
  for (float& e : dscores.data) e = static_cast<float>(e * scale);
  ref::matmul_backward(q, k, true, dscores, dq, dk);
  ref::Tensor dproj[3] = {from_heads(dq), from_heads(dk), from_heads(dv)};
  dx[0].data.assign(static_cast<std::size_t>(x[0].size()), 0.f);
  for (int i = 0; i < 3; ++i) {
    ref::Tensor part = ref::make({n * steps, d});
    ref::inner_product_backward_data(dproj[i], w[i], part);
    ref::inner_product_backward_weights(rows, dproj[i], dw[i], has_bias ? &db[i] : nullptr);
    for (std::size_t j = 0; j < part.data.size(); ++j) dx[0].data[j] += part.data[j];
  }
  for (int i = 0; i < 4; ++i) {
    std::string grad = fmt::format("{}.weights grad", names[i]);
    tensors.push_back({grad, check_error(exec.read(me, grad), dw[i])});
    if (!has_bias) continue;
    grad = fmt::format("{}.bias grad", names[i]);
    tensors.push_back({grad, check_error(exec.read(me, grad), db[i])});
  }
}

}  // namespace

bool check_sequence(const PlanOp& p, const Executor& exec, int me, bool training, const std::vector<ref::Tensor>& x,
                    ref::Tensor& y, const ref::Tensor& dy, std::vector<ref::Tensor>& dx,
                    std::vector<TensorCheck>& tensors, std::string& error) {
  if (p.op == "lstm" || p.op == "gru") {
    check_rnn(p, exec, me, training, x, y, dy, dx, tensors);
    return true;
  }
  if (p.op == "embedding") {
    ref::Tensor table = ref::Tensor{exec.dims(me, Executor::Tensor::weights), exec.read(me, Executor::Tensor::weights)};
    ref::embedding_forward(x[0], table, y);
    if (!training) return true;
    ref::Tensor dtable = ref::make(table.dims);
    ref::embedding_backward(x[0], dy, dtable);
    tensors.push_back({"table grad", check_error(exec.read(me, Executor::Tensor::weights_grad), dtable)});
    return true;
  }
  if (p.op == "position_embedding") {
    std::int64_t n = x[0].dims[0], steps = x[0].dims[1], d = x[0].dims[2];
    std::int64_t max_length = attr(p, "max_length").ints.at(0);
    ref::Tensor table = named(exec, me, "table", {max_length, d}), dtable = ref::make({max_length, d});
    for (std::int64_t i = 0; i < x[0].size(); ++i) y.data[i] = x[0].data[i] + table.data[i % (steps * d)];
    if (!training) return true;
    dx[0].data = dy.data;
    std::vector<double> sum(static_cast<std::size_t>(steps * d), 0.0);
    for (std::int64_t i = 0; i < n * steps * d; ++i) sum[i % (steps * d)] += dy.data[i];
    for (std::size_t i = 0; i < sum.size(); ++i) dtable.data[i] = static_cast<float>(sum[i]);
    tensors.push_back({"table grad", check_error(exec.read(me, "table grad"), dtable)});
    return true;
  }
  if (p.op == "select") {
    // x [N, A..., K, B...] → y [N, A..., B...] at index along K.
    std::int64_t rank = static_cast<std::int64_t>(x[0].dims.size()) - 1;
    std::int64_t axis = attr(p, "axis").ints.at(0), index = attr(p, "index").ints.at(0);
    axis = (axis < 0 ? axis + rank : axis) + 1;
    std::int64_t k = x[0].dims[axis], inner = 1, outer = 1;
    if (index < 0) index += k;
    for (std::size_t i = axis + 1; i < x[0].dims.size(); ++i) inner *= x[0].dims[i];
    for (std::int64_t i = 0; i < axis; ++i) outer *= x[0].dims[i];
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t i = 0; i < inner; ++i) {
        y.data[o * inner + i] = x[0].data[(o * k + index) * inner + i];
        if (training) dx[0].data[(o * k + index) * inner + i] = dy.data[o * inner + i];
      }
    return true;
  }
  if (p.op == "attention") {
    check_attention(p, exec, me, training, x, y, dy, dx, tensors);
    return true;
  }
  error = fmt::format("layer '{}': no reference check for op '{}' yet", p.name, p.op);
  return false;
}

}  // namespace dlc::runtime::cpu
