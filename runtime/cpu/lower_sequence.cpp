// The sequence ops of the CPU runtime (see lowering.hpp):
//   - lstm and gru: one oneDNN RNN primitive per layer, both directions in it
//     (bidirectional_concat, the layout the next layer reads); the [N, T, C]
//     activations are seen time-major through oneDNN's ntc format, without a
//     copy. Weights are kept in the plain ldigo layout (what --check reads and
//     SGD updates) and reordered into the primitive's. sequences = false
//     outputs each direction's final hidden state (dst_iter).
//   - attention: Q, K, V projections (inner products), per-head scores
//     softmax(Q·Kᵀ/√d + mask) as a matmul over [N, heads] views, the context
//     P·V written straight into [N·T, D], and the output projection.
//   - position_embedding: a broadcast add of the table's first T rows; its
//     gradient is a reduction over the batch.
//   - select: a reorder from a strided view.
//   - embedding: oneDNN 2.6 has no gather; not lowered.
#include <type_traits>

#include "runtime/cpu/lowering.hpp"

namespace dlc::runtime::cpu::lowering {

namespace {

using dnnl::algorithm;
using dnnl::prop_kind;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;
constexpr float kMasked = -1e30f;  // a causal mask's "minus infinity": exp() of it is 0

// Lowering::step for primitives lowering.hpp's create() does not know.
dnnl::primitive_attr scaled_attr(float scale) {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (scale != 1.f) a.set_output_scales(0, {scale});
  return a;
}

// buf = 0, in place (oneDNN's RNN backward accumulates into its weight
// gradients), over the storage seen as one plain vector: on the 5-D ldigo
// layout oneDNN 2.6 has only its reference eltwise.
Step zero_step(Lowering& L, int buf, int row) {
  memory::desc flat = plain({static_cast<memory::dim>(L.buffers[buf].md.get_size() / sizeof(float))});
  int view = L.alias(buf, flat);
  dnnl::eltwise_forward::desc d(prop_kind::forward_inference, algorithm::eltwise_linear, flat, 0.f, 0.f);
  dnnl::eltwise_forward::primitive_desc pd(d, L.pattr, L.eng);
  return L.step(pd, {{DNNL_ARG_SRC, view}, {DNNL_ARG_DST, view}}, row, Phase::backward);
}

// Where a primitive that accumulates into `want` adds a gradient meant for `dw`:
// dw itself, or a temporary reordered into it afterwards; zeroed first either way.
int accumulated(Lowering& L, int op, int dw, const memory::desc& want, std::vector<Step>& zero,
                std::vector<Step>& after) {
  int into = dw;
  if (!(L.buffers[dw].md == want)) {
    into = L.add_buffer(want, Kind::gradients);
    after.push_back(L.reorder_step(into, dw, L.reorder_row_of(op), Phase::backward));
  }
  zero.push_back(zero_step(L, into, L.layer_row[op]));
  return into;
}

// A plain [N, T, C] buffer seen as oneDNN's time-major [T, N, C].
memory::desc ntc(const dims& ntc_dims) { return memory::desc({ntc_dims[1], ntc_dims[0], ntc_dims[2]}, f32, tag::ntc); }

template <class Fwd, class Bwd>
void lower_rnn_cell(Lowering& L, int op) {
  constexpr bool lstm = std::is_same_v<Fwd, dnnl::lstm_forward>;
  const PlanOp& p = *L.ops[op];
  OpBuffers& b = L.t[op];
  std::int64_t gates = lstm ? 4 : 3, hidden = attr(p, "hidden").ints.at(0), layers = attr(p, "layers").ints.at(0);
  bool bidir = attr(p, "bidirectional").flag, sequences = attr(p, "sequences").flag;
  std::int64_t dirs = bidir ? 2 : 1;
  auto direction = bidir ? dnnl::rnn_direction::bidirectional_concat : dnnl::rnn_direction::unidirectional_left2right;
  const dims in_logical = L.input_logical(op, 0);
  std::int64_t n = in_logical[0], steps = in_logical[1];
  int in = L.reshaped(L.input_buffer(op, 0), in_logical, op, Phase::forward, L.forward);
  in = L.converted(in, plain(in_logical), op, Phase::forward, L.forward);

  b.out = L.add_buffer(plain(b.logical), Kind::activations);
  L.make_output_grad(op);
  bool training = L.opt.training;
  // sequences = false: each direction's final state, a [1, N, H] slice of the last layer's
  // [T, N, dirs·H] output at its last step (T − 1 left to right, 0 right to left), and of
  // the output [N, dirs·H] seen as [1, N, dirs·H].
  auto final_states = [&](int layer_out, int out, int row, Phase phase, std::vector<Step>& into, bool to_out) {
    dims one{1, n, hidden};
    memory::desc out_md = plain({1, n, dirs * hidden});
    for (std::int64_t dir = 0; dir < dirs; ++dir) {
      dims at{dir == 0 ? steps - 1 : 0, 0, dir * hidden};
      int a = L.alias(layer_out, L.buffers[layer_out].md.submemory_desc(one, at));
      int c = L.alias(out, out_md.submemory_desc(one, {0, 0, dir * hidden}));
      into.push_back(to_out ? L.reorder_step(a, c, row, phase) : L.reorder_step(c, a, row, phase));
    }
  };

  struct Layer {
    int src = -1, dst = -1, ws = -1;
    int w[3] = {-1, -1, -1}, dw[3] = {-1, -1, -1}, fw[3] = {-1, -1, -1};  // layer, iter, bias: master, grad, fwd format
    memory::desc src_md, dst_md;
    std::optional<typename Fwd::primitive_desc> pd;
  };
  std::vector<Layer> ls(static_cast<std::size_t>(layers));
  int src = L.alias(in, ntc(in_logical));
  std::int64_t channels = in_logical[2];
  for (std::int64_t l = 0; l < layers; ++l) {
    Layer& ly = ls[l];
    bool last = l + 1 == layers;
    ly.src = src;
    ly.src_md = L.buffers[src].md;
    if (last && sequences) {
      ly.dst = L.alias(b.out, ntc(b.logical));
    } else {
      // Batch-major like the input: oneDNN 2.6's reference RNN gets the weight gradients wrong when
      // src_layer and dst_layer differ in layout (ntc and tnc).
      ly.dst = L.add_buffer(ntc({n, steps, dirs * hidden}), Kind::activations);
    }
    ly.dst_md = L.buffers[ly.dst].md;
    dims wl{1, dirs, channels, gates, hidden}, wi{1, dirs, hidden, gates, hidden}, bias{1, dirs, gates, hidden};
    std::optional<typename Fwd::desc> d;
    if constexpr (lstm) {
      d.emplace(L.fwd_kind(), direction, ly.src_md, memory::desc(), memory::desc(), any(wl), any(wi), any(bias),
                ly.dst_md, memory::desc(), memory::desc());
    } else {
      d.emplace(L.fwd_kind(), direction, ly.src_md, memory::desc(), any(wl), any(wi), any(bias), ly.dst_md,
                memory::desc());
    }
    ly.pd.emplace(*d, L.pattr, L.eng);
    const typename Fwd::primitive_desc& pd = *ly.pd;
    const dims* wdims[3] = {&wl, &wi, &bias};
    const char* names[3] = {"weights_layer", "weights_iter", "bias"};
    memory::desc fmts[3] = {pd.weights_layer_desc(), pd.weights_iter_desc(), pd.bias_desc()};
    float fan_in = static_cast<float>(hidden);  // uniform in ±√(3/H), PyTorch's ±1/√H up to the constant
    for (int k = 0; k < 3; ++k) {
      memory::desc md = plain(*wdims[k]);
      L.make_weights(op, md, md, fan_in, ly.w[k], ly.dw[k]);
      ly.fw[k] = L.converted(ly.w[k], fmts[k], op, Phase::forward, L.forward);
      // Per direction, as --check reads them.
      for (std::int64_t dir = 0; dir < dirs; ++dir) {
        dims one = *wdims[k], offsets(one.size(), 0);
        one[1] = 1;
        offsets[1] = dir;
        std::string name = fmt::format("l{}d{}.{}", l, dir, names[k]);
        b.named.push_back({name, L.alias(ly.w[k], md.submemory_desc(one, offsets))});
        if (training) b.named.push_back({name + " grad", L.alias(ly.dw[k], md.submemory_desc(one, offsets))});
      }
    }
    std::vector<std::pair<int, int>> args{{DNNL_ARG_SRC_LAYER, ly.src},          {DNNL_ARG_DST_LAYER, ly.dst},
                                          {DNNL_ARG_WEIGHTS_LAYER, ly.fw[0]},    {DNNL_ARG_WEIGHTS_ITER, ly.fw[1]},
                                          {DNNL_ARG_BIAS, ly.fw[2]}};
    if (training) {
      ly.ws = L.add_buffer(pd.workspace_desc(), Kind::workspace);
      args.push_back({DNNL_ARG_WORKSPACE, ly.ws});
    }
    L.forward.push_back(L.step(pd, std::move(args), L.layer_row[op], Phase::forward));
    if (last && !sequences) final_states(ly.dst, b.out, L.layer_row[op], Phase::forward, L.forward, true);
    src = ly.dst;
    channels = dirs * hidden;
  }
  if (!training) return;

  // Backward, last layer first; each layer's input gradient is the next one's output gradient.
  std::vector<Step>& bwd = L.backward[op];
  std::vector<Step> zero, steps_out;
  int diff_dst = -1;
  if (sequences) {
    diff_dst = L.alias(b.diff, ntc(b.logical));
  } else {
    // Zeros (never written) but at the final states' slices.
    diff_dst = L.add_buffer(ls.back().dst_md, Kind::gradients);
    final_states(diff_dst, b.diff, L.layer_row[op], Phase::backward, steps_out, false);
  }
  for (std::int64_t l = layers - 1; l >= 0; --l) {
    Layer& ly = ls[l];
    const typename Fwd::primitive_desc& pd = *ly.pd;
    memory::desc none;
    const memory::desc& wl = pd.weights_layer_desc();
    const memory::desc& wi = pd.weights_iter_desc();
    const memory::desc& bias = pd.bias_desc();
    dims wl_dims = wl.dims(), wi_dims = wi.dims(), bias_dims = bias.dims();
    std::optional<typename Bwd::desc> d;
    if constexpr (lstm) {
      d.emplace(prop_kind::backward, direction, ly.src_md, none, none, any(wl_dims), any(wi_dims), any(bias_dims),
                ly.dst_md, none, none, ly.src_md, none, none, any(wl_dims), any(wi_dims), any(bias_dims), ly.dst_md,
                none, none);
    } else {
      d.emplace(prop_kind::backward, direction, ly.src_md, none, any(wl_dims), any(wi_dims), any(bias_dims),
                ly.dst_md, none, ly.src_md, none, any(wl_dims), any(wi_dims), any(bias_dims), ly.dst_md, none);
    }
    typename Bwd::primitive_desc bpd(*d, L.pattr, L.eng, pd);
    std::vector<Step> after;
    // Where this layer's input gradient goes.
    int diff_src;
    if (l > 0) {
      diff_src = L.add_buffer(ly.src_md, Kind::gradients);
    } else {
      int target = L.grad_target(op, 0);
      if (target < 0) {
        diff_src = L.add_buffer(ly.src_md, Kind::gradients);
      } else {
        int dst = L.produce_into(target, plain(in_logical), op, Phase::backward, after);
        diff_src = L.alias(dst, ntc(in_logical));
      }
    }
    int wl_b = L.converted(ly.w[0], bpd.weights_layer_desc(), op, Phase::backward, steps_out);
    int wi_b = L.converted(ly.w[1], bpd.weights_iter_desc(), op, Phase::backward, steps_out);
    int bias_b = L.converted(ly.w[2], bpd.bias_desc(), op, Phase::backward, steps_out);
    int dwl = accumulated(L, op, ly.dw[0], bpd.diff_weights_layer_desc(), zero, after);
    int dwi = accumulated(L, op, ly.dw[1], bpd.diff_weights_iter_desc(), zero, after);
    int dbias = accumulated(L, op, ly.dw[2], bpd.diff_bias_desc(), zero, after);
    std::vector<std::pair<int, int>> args{
        {DNNL_ARG_SRC_LAYER, ly.src},          {DNNL_ARG_DST_LAYER, ly.dst},        {DNNL_ARG_WEIGHTS_LAYER, wl_b},
        {DNNL_ARG_WEIGHTS_ITER, wi_b},         {DNNL_ARG_BIAS, bias_b},             {DNNL_ARG_DIFF_DST_LAYER, diff_dst},
        {DNNL_ARG_DIFF_SRC_LAYER, diff_src},   {DNNL_ARG_DIFF_WEIGHTS_LAYER, dwl},  {DNNL_ARG_DIFF_WEIGHTS_ITER, dwi},
        {DNNL_ARG_DIFF_BIAS, dbias},           {DNNL_ARG_WORKSPACE, ly.ws}};
    steps_out.push_back(L.step(bpd, std::move(args), L.layer_row[op], Phase::backward));
    for (Step& s : after) steps_out.push_back(std::move(s));
    diff_dst = diff_src;
  }
  for (Step& s : zero) bwd.push_back(std::move(s));
  for (Step& s : steps_out) bwd.push_back(std::move(s));
}

}  // namespace

void Lowering::lower_rnn(int op) {
  if (ops[op]->op == "lstm") {
    lower_rnn_cell<dnnl::lstm_forward, dnnl::lstm_backward>(*this, op);
  } else {
    lower_rnn_cell<dnnl::gru_forward, dnnl::gru_backward>(*this, op);
  }
}

namespace {

// One projection of attention: rows [N·T, D] → [N·T, D] through an inner
// product, its weights registered as "<name>.weights", "<name>.bias" (and " grad").
struct Projection {
  std::optional<dnnl::inner_product_forward::primitive_desc> pd;
  std::optional<dnnl::inner_product_backward_weights::primitive_desc> bwd_w;
  int src = -1, w = -1, dw = -1, bias = -1, dbias = -1;
};

Projection project(Lowering& L, int op, const char* name, int src, int dst, bool has_bias) {
  Projection pr;
  const memory::desc rows = L.buffers[src].md;
  dims wdims{rows.dims()[1], rows.dims()[1]};
  memory::desc bias_md = has_bias ? plain({wdims[0]}) : memory::desc();
  dnnl::inner_product_forward::desc d(L.fwd_kind(), rows, any(wdims), bias_md, rows);
  pr.pd.emplace(d, L.pattr, L.eng);
  memory::desc dw_md = pr.pd->weights_desc();
  if (L.opt.training) {
    dnnl::inner_product_backward_weights::desc bd(rows, any(wdims), bias_md, rows);
    pr.bwd_w.emplace(bd, L.pattr, L.eng, *pr.pd);
    dw_md = pr.bwd_w->diff_weights_desc();
  }
  pr.src = src;
  L.make_weights(op, pr.pd->weights_desc(), dw_md, static_cast<float>(wdims[1]), pr.w, pr.dw);
  OpBuffers& b = L.t[op];
  b.named.push_back({fmt::format("{}.weights", name), pr.w});
  if (pr.dw >= 0) b.named.push_back({fmt::format("{}.weights grad", name), pr.dw});
  std::vector<std::pair<int, int>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, pr.w}, {DNNL_ARG_DST, dst}};
  if (has_bias) {
    pr.bias = L.add_buffer(bias_md, Kind::weights, Fill::weights, 0.1f);
    args.push_back({DNNL_ARG_BIAS, pr.bias});
    b.named.push_back({fmt::format("{}.bias", name), pr.bias});
    if (L.opt.training) {
      pr.dbias = L.add_buffer(bias_md, Kind::gradients);
      b.named.push_back({fmt::format("{}.bias grad", name), pr.dbias});
      L.sgd(op, pr.bias, pr.dbias, bias_md);
    }
  }
  L.forward.push_back(L.step(*pr.pd, std::move(args), L.layer_row[op], Phase::forward));
  return pr;
}

// The projection's weight gradients from its output's, and its input's gradient into dsrc (-1: none).
void project_backward(Lowering& L, int op, const Projection& pr, int diff_dst, int dsrc, std::vector<Step>& bwd) {
  std::vector<std::pair<int, int>> a{{DNNL_ARG_SRC, pr.src}, {DNNL_ARG_DIFF_DST, diff_dst},
                                     {DNNL_ARG_DIFF_WEIGHTS, pr.dw}};
  if (pr.dbias >= 0) a.push_back({DNNL_ARG_DIFF_BIAS, pr.dbias});
  bwd.push_back(L.step(*pr.bwd_w, std::move(a), L.layer_row[op], Phase::backward));
  if (dsrc < 0) return;
  const memory::desc& rows = L.buffers[pr.src].md;
  dnnl::inner_product_backward_data::desc dd(rows, any(pr.pd->weights_desc().dims()), rows);
  dnnl::inner_product_backward_data::primitive_desc dpd(dd, L.pattr, L.eng, *pr.pd);
  int weights = L.converted(pr.w, dpd.weights_desc(), op, Phase::backward, bwd);
  bwd.push_back(L.step(dpd, {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, dsrc}},
                       L.layer_row[op], Phase::backward));
}

// The causal mask [1, 1, T, T]: 0 on and below the diagonal, kMasked above.
// No fill draws a triangle, so it is built by primitives: M[i, j] depends on
// (j − i) mod 2T only, so it is a view with row stride 2T − 1 of a 2T-periodic
// vector, the broadcast of one period [0, kMasked × (T − 1), 0 × T].
int causal_mask(Lowering& L, int op, std::int64_t steps) {
  int row = L.layer_row[op];
  int zero1 = L.add_buffer(plain({1}), Kind::workspace);
  int masked = L.add_buffer(plain({steps - 1}), Kind::workspace, Fill::mask, kMasked);  // rate 0: all kMasked
  int zeros = L.add_buffer(plain({steps}), Kind::workspace);
  int period = L.add_buffer(plain({2 * steps}), Kind::workspace);
  std::vector<memory::desc> parts{plain({1}), plain({steps - 1}), plain({steps})};
  dnnl::concat::primitive_desc cpd(plain({2 * steps}), 0, parts, L.eng, L.pattr);
  L.forward.push_back(L.step(cpd, {{DNNL_ARG_DST, period}, {DNNL_ARG_MULTIPLE_SRC, zero1},
                                   {DNNL_ARG_MULTIPLE_SRC + 1, masked}, {DNNL_ARG_MULTIPLE_SRC + 2, zeros}},
                             row, Phase::forward));
  dims tiled{steps, 2 * steps};
  int base = L.add_buffer(plain(tiled), Kind::workspace);
  int periodic = L.add_buffer(plain(tiled), Kind::workspace);
  dnnl::binary::desc bd(algorithm::binary_add, plain(tiled), plain({1, 2 * steps}), plain(tiled));
  dnnl::binary::primitive_desc bpd(bd, L.pattr, L.eng);
  L.forward.push_back(L.step(bpd, {{DNNL_ARG_SRC_0, base}, {DNNL_ARG_SRC_1, L.alias(period, plain({1, 2 * steps}))},
                                   {DNNL_ARG_DST, periodic}}, row, Phase::forward));
  memory::desc view({1, 1, steps, steps}, f32, dims{2 * steps * steps, 2 * steps * steps, 2 * steps - 1, 1});
  int mask = L.add_buffer(plain({1, 1, steps, steps}), Kind::workspace);
  L.forward.push_back(L.reorder_step(L.alias(periodic, view), mask, row, Phase::forward));
  return mask;
}

}  // namespace

// Softmax's backward over rows of length k, dS = P ⊙ (dP − Σ_j dP ⊙ P), by
// primitives that have JIT kernels (two binaries, a gemm against ones, a
// binary): where oneDNN 2.6 has only its reference softmax backward (AVX2).
void Lowering::softmax_backward_by_parts(int prob, int dprob, int ds, std::int64_t rows, std::int64_t k, int row,
                                         std::vector<Step>& bwd) {
  Lowering& L = *this;
  memory::desc full = plain({1, rows, k}), per_row = plain({1, rows, 1});  // per-"channel" broadcast
  int p = L.alias(prob, full), dp = L.alias(dprob, full), out = L.alias(ds, full);
  auto binary = [&](algorithm alg, int a, const memory::desc& b_md, int b) {
    dnnl::binary::primitive_desc pd(dnnl::binary::desc(alg, full, b_md, full), L.pattr, L.eng);
    bwd.push_back(L.step(pd, {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, out}}, row, Phase::backward));
  };
  binary(algorithm::binary_mul, dp, full, p);  // dS ← dP ⊙ P
  int ones = L.add_buffer(plain({k, 1}), Kind::workspace, Fill::ones);
  int sums = L.add_buffer(per_row, Kind::workspace);
  dnnl::matmul::primitive_desc spd(dnnl::matmul::desc(plain({rows, k}), plain({k, 1}), plain({rows, 1})), L.pattr,
                                   L.eng);
  bwd.push_back(L.step(spd, {{DNNL_ARG_SRC, L.alias(ds, plain({rows, k}))}, {DNNL_ARG_WEIGHTS, ones},
                             {DNNL_ARG_DST, L.alias(sums, plain({rows, 1}))}}, row, Phase::backward));
  binary(algorithm::binary_sub, dp, per_row, sums);  // dS ← dP − Σ
  binary(algorithm::binary_mul, out, full, p);       // dS ← dS ⊙ P
}

void Lowering::lower_attention(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  std::int64_t heads = attr(p, "heads").ints.at(0);
  bool causal = attr(p, "causal").flag, has_bias = attr(p, "bias").flag;
  const dims in_logical = input_logical(op, 0);
  std::int64_t n = in_logical[0], steps = in_logical[1], d = in_logical[2], dh = d / heads;
  dims rows_dims{n * steps, d}, scores_dims{n, heads, steps, steps};
  memory::desc rows = plain(rows_dims), scores = plain(scores_dims);
  // A [N·T, D] buffer seen per head, [N, heads, T, dh], and transposed, [N, heads, dh, T].
  memory::desc per_head({n, heads, steps, dh}, f32, dims{steps * d, dh, d, 1});
  memory::desc per_head_t({n, heads, dh, steps}, f32, dims{steps * d, dh, 1, d});
  memory::desc scores_t = scores.permute_axes(transpose_last(4));
  float scale = 1.f / std::sqrt(static_cast<float>(dh));
  int row = layer_row[op];

  int in = reshaped(input_buffer(op, 0), in_logical, op, Phase::forward, forward);
  in = alias(converted(in, plain(in_logical), op, Phase::forward, forward), rows);
  int q = add_buffer(rows, Kind::activations), k = add_buffer(rows, Kind::activations),
      v = add_buffer(rows, Kind::activations), ctx = add_buffer(rows, Kind::activations);
  Projection pq = project(*this, op, "q", in, q, has_bias);
  Projection pk = project(*this, op, "k", in, k, has_bias);
  Projection pv = project(*this, op, "v", in, v, has_bias);

  // scores = Q·Kᵀ/√dh (+ mask), probabilities = softmax over the keys. The
  // mask is added by its own binary primitive, in place: as the matmul's
  // binary post-op (broadcast over [N, heads]) oneDNN 2.6 has only its
  // reference matmul (796 ms against 1.1 ms for both at 8 x 4 x 128², Zen 5).
  int mask = causal && steps > 1 ? causal_mask(*this, op, steps) : -1;
  int s = add_buffer(scores, Kind::activations);
  dnnl::matmul::primitive_desc spd(dnnl::matmul::desc(per_head, per_head_t, scores), scaled_attr(scale), eng);
  forward.push_back(step(spd, {{DNNL_ARG_SRC, alias(q, per_head)}, {DNNL_ARG_WEIGHTS, alias(k, per_head_t)},
                               {DNNL_ARG_DST, s}}, row, Phase::forward));
  if (mask >= 0) {
    dnnl::binary::desc md(algorithm::binary_add, scores, buffers[mask].md, scores);
    dnnl::binary::primitive_desc mpd(md, pattr, eng);
    forward.push_back(step(mpd, {{DNNL_ARG_SRC_0, s}, {DNNL_ARG_SRC_1, mask}, {DNNL_ARG_DST, s}}, row, Phase::forward));
  }
  dnnl::softmax_forward::primitive_desc smpd(dnnl::softmax_forward::desc(fwd_kind(), scores, 3), pattr, eng);
  int prob = add_buffer(smpd.dst_desc(), Kind::activations);
  forward.push_back(step(smpd, {{DNNL_ARG_SRC, s}, {DNNL_ARG_DST, prob}}, row, Phase::forward));
  // context = P·V, written per head into [N·T, D]; then the output projection.
  dnnl::matmul::primitive_desc cpd(dnnl::matmul::desc(scores, per_head, per_head), pattr, eng);
  forward.push_back(step(cpd, {{DNNL_ARG_SRC, prob}, {DNNL_ARG_WEIGHTS, alias(v, per_head)},
                               {DNNL_ARG_DST, alias(ctx, per_head)}}, row, Phase::forward));
  b.out = add_buffer(plain(b.logical), Kind::activations);
  make_output_grad(op);
  Projection po = project(*this, op, "o", ctx, alias(b.out, rows), has_bias);
  if (!opt.training) return;

  std::vector<Step>& bwd = backward[op];
  int dctx = add_buffer(rows, Kind::gradients);
  project_backward(*this, op, po, alias(b.diff, rows), dctx, bwd);
  // dP = dC·Vᵀ, dV = Pᵀ·dC.
  int dprob = add_buffer(scores, Kind::gradients), dv = add_buffer(rows, Kind::gradients);
  dnnl::matmul::primitive_desc dppd(dnnl::matmul::desc(per_head, per_head_t, scores), pattr, eng);
  bwd.push_back(step(dppd, {{DNNL_ARG_SRC, alias(dctx, per_head)}, {DNNL_ARG_WEIGHTS, alias(v, per_head_t)},
                            {DNNL_ARG_DST, dprob}}, row, Phase::backward));
  dnnl::matmul::primitive_desc dvpd(dnnl::matmul::desc(scores_t, per_head, per_head), pattr, eng);
  bwd.push_back(step(dvpd, {{DNNL_ARG_SRC, alias(prob, scores_t)}, {DNNL_ARG_WEIGHTS, alias(dctx, per_head)},
                            {DNNL_ARG_DST, alias(dv, per_head)}}, row, Phase::backward));
  // dS through the softmax (the mask is a constant: nothing flows to it).
  int ds = add_buffer(scores, Kind::gradients);
  dnnl::softmax_backward::primitive_desc dspd(dnnl::softmax_backward::desc(scores, scores, 3), pattr, eng, smpd);
  if (is_reference_impl(dspd.get_kind(), dspd.impl_info_str()))
    softmax_backward_by_parts(prob, dprob, ds, n * heads * steps, steps, row, bwd);
  else
    bwd.push_back(step(dspd, {{DNNL_ARG_DST, prob}, {DNNL_ARG_DIFF_DST, dprob}, {DNNL_ARG_DIFF_SRC, ds}}, row,
                       Phase::backward));
  // dQ = dS·K/√dh, dK = dSᵀ·Q/√dh.
  dnnl::primitive_attr battr = scaled_attr(scale);
  int dq = add_buffer(rows, Kind::gradients), dk = add_buffer(rows, Kind::gradients);
  dnnl::matmul::primitive_desc dqpd(dnnl::matmul::desc(scores, per_head, per_head), battr, eng);
  bwd.push_back(step(dqpd, {{DNNL_ARG_SRC, ds}, {DNNL_ARG_WEIGHTS, alias(k, per_head)},
                            {DNNL_ARG_DST, alias(dq, per_head)}}, row, Phase::backward));
  dnnl::matmul::primitive_desc dkpd(dnnl::matmul::desc(scores_t, per_head, per_head), battr, eng);
  bwd.push_back(step(dkpd, {{DNNL_ARG_SRC, alias(ds, scores_t)}, {DNNL_ARG_WEIGHTS, alias(q, per_head)},
                            {DNNL_ARG_DST, alias(dk, per_head)}}, row, Phase::backward));
  // The input's gradient: the sum of the three projections' data gradients.
  int target = grad_target(op, 0);
  std::vector<int> parts;
  for (int i = 0; i < 3; ++i) parts.push_back(target < 0 ? -1 : add_buffer(rows, Kind::gradients));
  project_backward(*this, op, pq, dq, parts[0], bwd);
  project_backward(*this, op, pk, dk, parts[1], bwd);
  project_backward(*this, op, pv, dv, parts[2], bwd);
  if (target < 0) return;
  std::vector<Step> after;
  int dst = alias(produce_into(target, plain(in_logical), op, Phase::backward, after), rows);
  dnnl::sum::primitive_desc sum(rows, {1.f, 1.f, 1.f}, {rows, rows, rows}, eng, pattr);
  bwd.push_back(step(sum, {{DNNL_ARG_DST, dst}, {DNNL_ARG_MULTIPLE_SRC, parts[0]},
                           {DNNL_ARG_MULTIPLE_SRC + 1, parts[1]}, {DNNL_ARG_MULTIPLE_SRC + 2, parts[2]}},
                     row, Phase::backward));
  for (Step& st : after) bwd.push_back(std::move(st));
}

void Lowering::lower_embedding(int op) {
  if (ops[op]->op == "embedding") {
    lower_gather(op);
    return;
  }
  // position_embedding: out = x + table[0 : T], the table's first T rows broadcast over the batch.
  OpBuffers& b = t[op];
  const dims in_logical = input_logical(op, 0);
  std::int64_t steps = in_logical[1], d = in_logical[2];
  std::int64_t max_length = attr(*ops[op], "max_length").ints.at(0);
  memory::desc md = plain(in_logical), rows = plain({1, steps, d}), table_md = plain({max_length, d});
  int in = converted(reshaped(input_buffer(op, 0), in_logical, op, Phase::forward, forward), md, op, Phase::forward,
                     forward);
  int table = -1, dtable = -1;
  make_weights(op, table_md, table_md, static_cast<float>(d), table, dtable);
  b.named.push_back({"table", table});
  if (dtable >= 0) b.named.push_back({"table grad", dtable});
  b.out = add_buffer(md, Kind::activations);
  make_output_grad(op);
  dnnl::binary::primitive_desc pd(dnnl::binary::desc(dnnl::algorithm::binary_add, md, rows, md), pattr, eng);
  forward.push_back(step(pd, {{DNNL_ARG_SRC_0, in}, {DNNL_ARG_SRC_1, alias(table, rows)}, {DNNL_ARG_DST, b.out}},
                         layer_row[op], Phase::forward));
  if (!opt.training) return;
  std::vector<Step>& bwd = backward[op];
  // The table's gradient: the output's summed over the batch, into its first
  // T rows (the rest stay 0), as ones[1, N] · dY[N, T·D]: oneDNN 2.6's
  // reduction over the batch is its reference kernel on AVX2, its gemm is not.
  std::int64_t n = in_logical[0];
  int ones = add_buffer(plain({1, n}), Kind::workspace, Fill::ones);
  memory::desc per_sample = plain({n, steps * d}), summed = plain({1, steps * d});
  dnnl::matmul::primitive_desc rpd(dnnl::matmul::desc(plain({1, n}), per_sample, summed), pattr, eng);
  bwd.push_back(step(rpd, {{DNNL_ARG_SRC, ones}, {DNNL_ARG_WEIGHTS, alias(b.diff, per_sample)},
                           {DNNL_ARG_DST, alias(dtable, summed)}}, layer_row[op], Phase::backward));
  int target = grad_target(op, 0);
  if (target < 0) return;
  std::vector<Step> after;
  int dsrc = produce_into(target, md, op, Phase::backward, after);
  bwd.push_back(step(dnnl::reorder::primitive_desc(eng, md, eng, md, pattr), {{DNNL_ARG_FROM, b.diff},
                     {DNNL_ARG_TO, dsrc}}, layer_row[op], Phase::backward));
  for (Step& st : after) bwd.push_back(std::move(st));
}

// select: a reorder from the slice's strided view; its gradient is zeros but at the slice.
void Lowering::lower_select(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  const dims in_logical = input_logical(op, 0);
  std::int64_t rank = static_cast<std::int64_t>(in_logical.size()) - 1;
  std::int64_t axis = attr(p, "axis").ints.at(0), index = attr(p, "index").ints.at(0);
  axis = (axis < 0 ? axis + rank : axis) + 1;
  if (index < 0) index += in_logical[axis];
  memory::desc md = plain(in_logical);
  dims one = in_logical, offsets(in_logical.size(), 0);
  one[axis] = 1;
  offsets[axis] = index;
  memory::desc slice = md.submemory_desc(one, offsets).reshape(b.logical);
  int in = converted(reshaped(input_buffer(op, 0), in_logical, op, Phase::forward, forward), md, op, Phase::forward,
                     forward);
  b.out = add_buffer(plain(b.logical), Kind::activations);
  make_output_grad(op);
  forward.push_back(reorder_step(alias(in, slice), b.out, layer_row[op], Phase::forward));
  if (!opt.training) return;
  int target = grad_target(op, 0);
  if (target < 0) return;
  std::vector<Step>& bwd = backward[op];
  std::vector<Step> after;
  int dsrc = produce_into(target, md, op, Phase::backward, after);
  bwd.push_back(zero_step(*this, dsrc, layer_row[op]));
  bwd.push_back(reorder_step(b.diff, alias(dsrc, slice), layer_row[op], Phase::backward));
  for (Step& st : after) bwd.push_back(std::move(st));
}

// embedding: out[n, t] = table[ids[n, t]]. oneDNN 2.6 has no gather, so the
// forward and the backward (the table's gradient: zero, then each output
// row's gradient added into its token's row) are host steps over plain
// buffers, the rows spread over the threads. Ids are whole numbers stored as
// f32; one outside [0, vocab) is clamped.
void Lowering::lower_gather(int op) {
  OpBuffers& b = t[op];
  const PlanOp& p = *ops[op];
  std::int64_t vocab = attr(p, "vocab").ints.at(0), d = attr(p, "dim").ints.at(0);
  const dims ids_logical = input_logical(op, 0);
  std::int64_t rows = volume(ids_logical);
  int ids = converted(input_buffer(op, 0), plain(ids_logical), op, Phase::forward, forward);
  int table = -1, dtable = -1;
  memory::desc table_md = plain({vocab, d});
  make_weights(op, table_md, table_md, 1.f, table, dtable);
  b.weights = table;
  b.dweights = dtable;
  b.out = add_buffer(plain(b.logical), Kind::activations);
  make_output_grad(op);
  auto data = [this](int buf) { return static_cast<float*>(buffers[buf].mem.get_data_handle()); };
  auto row_of = [vocab](float id) {
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(id), 0, vocab - 1);
  };
  Step fwd;
  fwd.row = layer_row[op];
  fwd.phase = Phase::forward;
  fwd.host = [=, out = b.out] {
    const float* id = data(ids);
    const float* tab = data(table);
    float* y = data(out);
#pragma omp parallel for
    for (std::int64_t r = 0; r < rows; ++r) std::memcpy(y + r * d, tab + row_of(id[r]) * d, sizeof(float) * d);
  };
  forward.push_back(std::move(fwd));
  if (!opt.training) return;
  Step bwd;
  bwd.row = layer_row[op];
  bwd.phase = Phase::backward;
  bwd.host = [=, diff = b.diff] {
    const float* id = data(ids);
    const float* dy = data(diff);
    float* dt = data(dtable);
    std::memset(dt, 0, sizeof(float) * vocab * d);
    // Each thread adds its own columns, so no two write the same element.
#pragma omp parallel for
    for (std::int64_t c = 0; c < d; c += 16)
      for (std::int64_t r = 0; r < rows; ++r) {
        float* dst = dt + row_of(id[r]) * d;
        const float* src = dy + r * d;
        for (std::int64_t j = c; j < std::min(c + 16, d); ++j) dst[j] += src[j];
      }
  };
  backward[op].push_back(std::move(bwd));
}

}  // namespace dlc::runtime::cpu::lowering
