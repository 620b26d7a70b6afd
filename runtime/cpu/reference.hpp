// Plain C++ reference implementations of the neural-network primitives that
// `dlc run --check` compares oneDNN against, one layer at a time, on small
// inputs. They are written to be obviously correct, not fast: simple loops over
// dense row-major float arrays, sums accumulated in double, nothing but the
// standard library. Each declaration states its formula.
//
// Conventions:
//   - activations are [N, C, spatial...] (1 to 3 spatial dims), [N, F] or [N, T, D];
//   - every output is written whole (its data overwritten). Where the inputs do
//     not determine its shape (conv and pooling dst and diff_src, the parts of
//     a concat's backward, an embedding's table gradient) the caller presets its
//     dims; everywhere else the function sets them;
//   - a backward function returns the gradients of the loss with respect to
//     its inputs given diff_dst, the gradient with respect to its output;
//   - a shape that does not fit is our bug, not the user's: std::logic_error.
#pragma once

#include <cstdint>
#include <vector>

namespace dlc::runtime::reference {

struct Tensor {
  std::vector<std::int64_t> dims;
  std::vector<float> data;  // row-major, size() elements
  std::int64_t size() const;  // product of dims (1 for no dims)
};
Tensor make(std::vector<std::int64_t> dims);  // zero-filled

// ---- convolution -------------------------------------------------------------
// src [N, Cin, i...], weights [Cout, Cin/groups, k...], bias [Cout], dst [N, Cout, o...]:
//   dst[n, oc, o] = bias[oc] + Σ_{ic < Cin/groups} Σ_k src[n, g·Cin/groups + ic, o·stride − pad_l + k·dilation]
//                                                     · weights[oc, ic, k]
// per spatial dim, with g = oc / (Cout/groups) and input positions outside
// [0, i) reading zero (padding). dilation 1 is a dense kernel (PyTorch's
// meaning, not oneDNN's, which counts the gaps). The output size is dst's, not
// recomputed: pad_r only has to make it possible (ceil-mode shapes).
struct ConvParams {
  std::vector<std::int64_t> kernel, stride, pad_l, pad_r, dilation;  // one per spatial dim
  std::int64_t groups = 1;
};
void conv_forward(const Tensor& src, const Tensor& weights, const Tensor* bias, const ConvParams& p, Tensor& dst);
void conv_backward_data(const Tensor& diff_dst, const Tensor& weights, const ConvParams& p, Tensor& diff_src);
// diff_bias[oc] = Σ_{n, o} diff_dst[n, oc, o]; diff_bias may be null.
void conv_backward_weights(const Tensor& src, const Tensor& diff_dst, const ConvParams& p, Tensor& diff_weights,
                           Tensor* diff_bias);

// ---- pooling ---------------------------------------------------------------------
// The window of output o along a spatial dim covers inputs o·stride − pad_l + k, k < kernel.
// Max: the largest input inside the window (padding never wins); its backward gives
// each output's gradient to the first maximum in window order (row-major over k).
// Average: the mean of the inputs inside the window (padding excluded from the divisor).
// A window with no input inside gives 0 and passes no gradient.
struct PoolParams {
  std::vector<std::int64_t> kernel, stride, pad_l, pad_r;  // one per spatial dim
};
void max_pool_forward(const Tensor& src, const PoolParams& p, Tensor& dst);
void max_pool_backward(const Tensor& src, const Tensor& diff_dst, const PoolParams& p, Tensor& diff_src);
void avg_pool_forward(const Tensor& src, const PoolParams& p, Tensor& dst);
void avg_pool_backward(const Tensor& diff_dst, const PoolParams& p, Tensor& diff_src);

// ---- inner product ------------------------------------------------------------
// src [N, K...] read as [N, K] (K the product of the rest), weights [O, K...] with
// the same trailing dims, bias [O]: dst[n, o] = bias[o] + Σ_k src[n, k] · weights[o, k].
void inner_product_forward(const Tensor& src, const Tensor& weights, const Tensor* bias, Tensor& dst);
// diff_src is [N, weights' trailing dims], diff_weights [O, src's trailing dims].
void inner_product_backward_data(const Tensor& diff_dst, const Tensor& weights, Tensor& diff_src);
void inner_product_backward_weights(const Tensor& src, const Tensor& diff_dst, Tensor& diff_weights,
                                    Tensor* diff_bias);

// ---- matmul -------------------------------------------------------------------------
// a [B..., M, K] × b [B..., K, N] (or b [B..., N, K] with transpose_b) → dst [B..., M, N]:
//   dst[β, m, n] = Σ_k a[β_a, m, k] · b[β_b, k, n]
// The batch dims broadcast as in numpy: aligned from the right, a missing dim or
// a dim of 1 repeats. The gradients sum over the repeats, so diff_a has a's dims
// and diff_b has b's.
void matmul_forward(const Tensor& a, const Tensor& b, bool transpose_b, Tensor& dst);
void matmul_backward(const Tensor& a, const Tensor& b, bool transpose_b, const Tensor& diff_dst, Tensor& diff_a,
                     Tensor& diff_b);

// ---- elementwise ------------------------------------------------------------------
// relu x > 0 ? x : 0 (derivative 0 at 0, as oneDNN); sigmoid 1/(1+e^−x); tanh;
// gelu_erf 0.5·x·(1 + erf(x/√2)), derivative 0.5·(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π);
// silu x·σ(x), derivative σ(x)·(1 + x·(1 − σ(x))).
enum class Eltwise { relu, sigmoid, tanh, gelu_erf, silu };
void eltwise_forward(Eltwise kind, const Tensor& src, Tensor& dst);
void eltwise_backward(Eltwise kind, const Tensor& src, const Tensor& diff_dst, Tensor& diff_src);

// add: dst = a + b; mul: dst = a · b; equal shapes.
enum class Binary { add, mul };
void binary_forward(Binary kind, const Tensor& a, const Tensor& b, Tensor& dst);
void binary_backward(Binary kind, const Tensor& a, const Tensor& b, const Tensor& diff_dst, Tensor& diff_a,
                     Tensor& diff_b);

// Dropout with its mask given (already scaled by 1/(1 − rate)): dst = src · mask.
void dropout_forward(const Tensor& src, const Tensor& mask, Tensor& dst);
void dropout_backward(const Tensor& diff_dst, const Tensor& mask, Tensor& diff_src);

// ---- normalization -----------------------------------------------------------------
// Batch normalization per channel c (dim 1) over N and the spatial dims, M values each:
//   mean = Σ x / M, variance = Σ (x − mean)² / M (biased),
//   dst = scale · (x − mean) / √(variance + eps) + shift.
// scale and shift [C] may be null (affine false: scale 1, shift 0).
// Backward with the training statistics, x̂ = (x − mean) / √(variance + eps):
//   diff_shift = Σ dy, diff_scale = Σ dy · x̂,
//   diff_src = scale / √(variance + eps) · (dy − diff_shift / M − x̂ · diff_scale / M).
void batch_norm_forward_training(const Tensor& src, const Tensor* scale, const Tensor* shift, double eps,
                                 Tensor& dst, Tensor& mean, Tensor& variance);
void batch_norm_forward_inference(const Tensor& src, const Tensor& mean, const Tensor& variance,
                                  const Tensor* scale, const Tensor* shift, double eps, Tensor& dst);
void batch_norm_backward(const Tensor& src, const Tensor& diff_dst, const Tensor& mean, const Tensor& variance,
                         const Tensor* scale, double eps, Tensor& diff_src, Tensor* diff_scale, Tensor* diff_shift);

// Layer normalization over the last dim D, the same formulas with the statistics
// per row (mean and variance have src's dims less the last) and scale, shift [D]
// per column (null: 1 and 0). Backward, per row with g = dy · scale:
//   diff_src = (g − Σ g / D − x̂ · Σ g·x̂ / D) / √(variance + eps),
//   diff_scale = Σ_rows dy · x̂, diff_shift = Σ_rows dy.
void layer_norm_forward(const Tensor& src, const Tensor* scale, const Tensor* shift, double eps, Tensor& dst,
                        Tensor& mean, Tensor& variance);
void layer_norm_backward(const Tensor& src, const Tensor& diff_dst, const Tensor& mean, const Tensor& variance,
                         const Tensor* scale, double eps, Tensor& diff_src, Tensor* diff_scale,
                         Tensor* diff_shift);

// Local response normalization across channels, oneDNN's definition:
//   d(n, c, s) = k + alpha / size · Σ_{c' = max(0, c − (size−1)/2)}^{min(C−1, c + size/2)} src(n, c', s)²
//   dst(n, c, s) = src(n, c, s) · d(n, c, s)^−beta
// (integer division). Its exact backward, with W(c) that window:
//   diff_src(j) = dy(j) · d(j)^−beta
//                 − 2·alpha·beta/size · src(j) · Σ_{c : j ∈ W(c)} dy(c) · src(c) · d(c)^(−beta−1).
struct LrnParams {
  std::int64_t size = 5;
  double alpha = 1e-4, beta = 0.75, k = 1;
};
void lrn_forward(const Tensor& src, const LrnParams& p, Tensor& dst);
void lrn_backward(const Tensor& src, const Tensor& diff_dst, const LrnParams& p, Tensor& diff_src);

// ---- softmax, concat, update -------------------------------------------------------
// Softmax along axis: dst = e^(x − max) / Σ e^(x − max);
// backward from dst: diff_src = dst · (diff_dst − Σ_axis diff_dst · dst).
void softmax_forward(const Tensor& src, int axis, Tensor& dst);
void softmax_backward(const Tensor& dst, const Tensor& diff_dst, int axis, Tensor& diff_src);

// Concatenation along axis (the other dims equal); the backward splits diff_dst
// into the parts, whose dims the caller presets (the srcs' dims).
void concat_forward(const std::vector<Tensor>& srcs, int axis, Tensor& dst);
void concat_backward(const Tensor& diff_dst, int axis, std::vector<Tensor>& diff_srcs);

// Plain SGD: weights ← weights − lr · diff_weights.
void sgd_update(Tensor& weights, const Tensor& diff_weights, double lr);

// ---- recurrent ------------------------------------------------------------------------
// One layer, left to right, oneDNN's conventions: src [T, N, C] (time-major), zero
// initial states, dst [T, N, H] every step's h_t. G gates, each a block of H columns:
// weights_layer W [C, G·H], weights_iter U [H, G·H], bias B [G·H].
// LSTM, gates (i, f, c̃, o):
//   i = σ(x·W_i + h_{t−1}·U_i + B_i), f = σ(… f …), c̃ = tanh(… c̃ …), o = σ(… o …),
//   c_t = f · c_{t−1} + i · c̃, h_t = o · tanh(c_t).
// GRU, gates (u, r, o), oneDNN's vanilla GRU (reset applied before U_o):
//   u = σ(x·W_u + h_{t−1}·U_u + B_u), r = σ(x·W_r + h_{t−1}·U_r + B_r),
//   o = tanh(x·W_o + (r · h_{t−1})·U_o + B_o), h_t = u · h_{t−1} + (1 − u) · o.
// The backward is backpropagation through time; diff_weights gets all three
// gradients (overwritten, not accumulated as oneDNN may).
enum class RnnCell { lstm, gru };
struct RnnWeights {
  Tensor weights_layer, weights_iter, bias;
};
std::int64_t rnn_gates(RnnCell cell);  // 4 or 3
void rnn_forward(RnnCell cell, const Tensor& src, const RnnWeights& w, Tensor& dst);
void rnn_backward(RnnCell cell, const Tensor& src, const RnnWeights& w, const Tensor& diff_dst, Tensor& diff_src,
                  RnnWeights& diff_w);

// Several layers, optionally bidirectional, as dlc's lstm and gru ops count them
// (docs/language.md): weights[l · dirs + d], d = 0 left to right, 1 right to left
// (the same cell on the time-reversed sequence, its output reversed back). Each
// layer's output is [T, N, dirs·H], the directions concatenated along the feature
// dim (left-to-right first), and is the next layer's input (so its C = dirs·H).
struct RnnStack {
  RnnCell cell = RnnCell::lstm;
  bool bidirectional = false;
  std::vector<RnnWeights> weights;  // layers · dirs
};
void rnn_stack_forward(const RnnStack& stack, const Tensor& src, Tensor& dst);
void rnn_stack_backward(const RnnStack& stack, const Tensor& src, const Tensor& diff_dst, Tensor& diff_src,
                        std::vector<RnnWeights>& diff_weights);

// ---- embedding ----------------------------------------------------------------------
// indices [N, T] (floats holding integers in [0, V)), table [V, D]: dst[n, t] = table[indices[n, t]].
// The backward sums diff_dst rows into diff_table (dims preset to the table's), so
// an index used twice gets both rows; unused rows get 0.
void embedding_forward(const Tensor& indices, const Tensor& table, Tensor& dst);
void embedding_backward(const Tensor& indices, const Tensor& diff_dst, Tensor& diff_table);

}  // namespace dlc::runtime::reference
