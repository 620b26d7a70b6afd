// The lowering of each CNN and transformer op kind to oneDNN primitives
// (the declarations and the shared machinery are in lowering.hpp; the
// sequence ops are in lower_sequence.cpp).
#include <algorithm>
#include <cmath>

#include "runtime/cpu/lowering.hpp"

namespace dlc::runtime::cpu::lowering {

void Lowering::lower_input(int op) {
  OpBuffers& b = t[op];
  b.out = add_buffer(plain(b.logical), Kind::activations, Fill::random);
  // Token ids for an embedding: whole numbers below its vocabulary.
  for (auto [c, slot] : consumers[op])
    if (ops[c]->op == "embedding" && slot == 0) {
      buffers[b.out].fill = Fill::indices;
      buffers[b.out].scale = static_cast<float>(attr(*ops[c], "vocab").ints.at(0));
    }
  make_output_grad(op);
}

// flatten, reshape, and dropout in inference: a new view of the input.
void Lowering::lower_view(int op) {
  OpBuffers& b = t[op];
  int in = input_buffer(op, 0);
  const memory::desc& md = buffers[in].md;
  // A view over a blocked layout keeps its dims for consumers that take any
  // layout (fc, eltwise, dropout); anything else gets a plain copy.
  bool loose = std::all_of(consumers[op].begin(), consumers[op].end(), [&](const auto& c) {
    const std::string& o = ops[c.first]->op;
    return o == "fc" || o == "relu" || o == "sigmoid" || o == "tanh" || o == "gelu" || o == "silu" || o == "dropout";
  });
  if (md.dims() == b.logical || (!is_plain(md) && loose && volume(md.dims()) == volume(b.logical))) {
    b.out = alias(in, md);
  } else {
    b.out = reshaped(in, b.logical, op, Phase::forward, forward);
  }
  if (!opt.training || !b.needs_grad) return;
  // Its gradient is its input's gradient target, seen through the same view.
  int target = grad_target(op, 0);
  if (target < 0) {
    b.needs_grad = false;
    return;
  }
  const memory::desc& out_md = buffers[b.out].md;
  const memory::desc& target_md = buffers[target].md;
  if (out_md.dims() == target_md.dims() && out_md == target_md) {
    b.diff = alias(target, out_md);
  } else if (is_plain(target_md) && is_plain(out_md)) {
    b.diff = alias(target, out_md);
  } else {
    // The gradient arrives in the view's format and goes back through a reorder.
    b.diff = add_buffer(out_md, Kind::gradients);
    std::vector<Step> after;
    int dst = produce_into(target, plain(b.logical), op, Phase::backward, after);
    backward[op].push_back(reorder_step(b.diff, alias(dst, plain(out_md.dims())), reorder_row_of(op),
                                        Phase::backward));
    for (Step& s : after) backward[op].push_back(std::move(s));
  }
  edge_target[op].assign(consumers[op].size(), b.diff);
  if (consumers[op].size() > 1) add_grad_sum(op, out_md);  // several consumers of a view
}

void Lowering::lower_conv(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  const dims& in_dims = input_logical(op, 0);
  Window w = layer_window(p, compiler::Shape(in_dims.begin() + 1, in_dims.end()), p.output);
  std::int64_t groups = attr(p, "groups").ints.at(0);
  bool has_bias = attr(p, "bias").flag;
  std::int64_t cin = in_dims[1], cout = b.logical[1];
  dims wdims = groups > 1 ? dims{groups, cout / groups, cin / groups} : dims{cout, cin / groups};
  wdims.insert(wdims.end(), w.kernel.begin(), w.kernel.end());
  dims strides = w.stride, pl = w.pad_l, pr = w.pad_r, dilates;
  for (std::int64_t d : w.dilation) dilates.push_back(d - 1);  // oneDNN counts the gaps
  memory::desc bias_md = has_bias ? plain({cout}) : memory::desc();
  auto algo = dnnl::algorithm::convolution_direct;
  dnnl::convolution_forward::desc d(fwd_kind(), algo, any(in_dims), any(wdims), bias_md, any(b.logical), strides,
                                    dilates, pl, pr);
  dnnl::convolution_forward::primitive_desc pd(d, pattr, eng);
  int src = converted(input_buffer(op, 0), pd.src_desc(), op, Phase::forward, forward);
  b.out = add_buffer(pd.dst_desc(), Kind::activations);
  make_output_grad(op);
  float fan_in = static_cast<float>(volume(wdims) / cout);
  memory::desc dw_md = pd.weights_desc();
  std::optional<dnnl::convolution_backward_weights::primitive_desc> bwd_w;
  if (opt.training) {
    dnnl::convolution_backward_weights::desc bd(algo, any(in_dims), any(wdims), bias_md, any(b.logical), strides,
                                                dilates, pl, pr);
    bwd_w.emplace(bd, pattr, eng, pd);
    dw_md = bwd_w->diff_weights_desc();
  }
  make_weights(op, pd.weights_desc(), dw_md, fan_in, b.weights, b.dweights);
  std::vector<std::pair<int, int>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, b.weights}, {DNNL_ARG_DST, b.out}};
  if (has_bias) make_bias(op, bias_md, args);
  forward.push_back(step(pd, std::move(args), layer_row[op], Phase::forward));
  if (!opt.training) return;

  int diff_dst = b.diff;
  backward_weights(op, *bwd_w, src, diff_dst, has_bias);
  int target = grad_target(op, 0);
  if (target < 0) return;
  dnnl::convolution_backward_data::desc dd(algo, any(in_dims), any(wdims), any(b.logical), strides, dilates, pl, pr);
  dnnl::convolution_backward_data::primitive_desc dpd(dd, pattr, eng, pd);
  backward_data(op, dpd, diff_dst, target);
}

void Lowering::lower_fc(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  bool has_bias = attr(p, "bias").flag;
  std::int64_t n = b.logical.back();
  int in = input_buffer(op, 0);
  // Tokens ([N, T, D]) fold into the batch; anything else is taken in the
  // layout it comes in (a blocked 4-D tensor after flatten included).
  dims src_dims = buffers[in].md.dims();
  const dims& in_logical = input_logical(op, 0);
  bool tokens = in_logical.size() == 3 && b.logical.size() == 3;
  dims dst_dims{b.logical[0], n};
  if (tokens) {
    src_dims = {in_logical[0] * in_logical[1], in_logical[2]};
    dst_dims = {src_dims[0], n};
    in = reshaped(in, in_logical, op, Phase::forward, forward);
    in = alias(in, plain(src_dims));
  }
  dims wdims = src_dims;
  wdims[0] = n;
  memory::desc bias_md = has_bias ? plain({n}) : memory::desc();
  dnnl::inner_product_forward::desc d(fwd_kind(), any(src_dims), any(wdims), bias_md, plain(dst_dims));
  dnnl::inner_product_forward::primitive_desc pd(d, pattr, eng);
  int src = converted(in, pd.src_desc(), op, Phase::forward, forward);
  int dst = add_buffer(pd.dst_desc(), Kind::activations);
  b.out = tokens ? alias(dst, plain(b.logical)) : dst;
  make_output_grad(op);
  float fan_in = static_cast<float>(volume(wdims) / n);
  memory::desc dw_md = pd.weights_desc();
  std::optional<dnnl::inner_product_backward_weights::primitive_desc> bwd_w;
  if (opt.training) {
    dnnl::inner_product_backward_weights::desc bd(any(src_dims), any(wdims), bias_md, plain(dst_dims));
    bwd_w.emplace(bd, pattr, eng, pd);
    dw_md = bwd_w->diff_weights_desc();
  }
  make_weights(op, pd.weights_desc(), dw_md, fan_in, b.weights, b.dweights);
  std::vector<std::pair<int, int>> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, b.weights}, {DNNL_ARG_DST, dst}};
  if (has_bias) make_bias(op, bias_md, args);
  forward.push_back(step(pd, std::move(args), layer_row[op], Phase::forward));
  if (!opt.training) return;

  int diff_dst = tokens ? alias(b.diff, plain(dst_dims)) : b.diff;
  backward_weights(op, *bwd_w, src, diff_dst, has_bias);
  int target = grad_target(op, 0);
  if (target < 0) return;
  dnnl::inner_product_backward_data::desc dd(any(src_dims), any(wdims), plain(dst_dims));
  dnnl::inner_product_backward_data::primitive_desc dpd(dd, pattr, eng, pd);
  avoid_brgemm_bwd_d_defect(dpd, src_dims[0], src_dims[1], n, omp_get_max_threads());
  backward_data(op, dpd, diff_dst, tokens ? alias(target, plain(src_dims)) : target);  // [N, T, D] are plain
}

void Lowering::lower_pool(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  const dims& in_dims = input_logical(op, 0);
  std::size_t rank = in_dims.size() - 2;
  Window w = layer_window(p, compiler::Shape(in_dims.begin() + 1, in_dims.end()), p.output);
  dnnl::algorithm algo = p.op == "maxpool" ? dnnl::algorithm::pooling_max
                                           : dnnl::algorithm::pooling_avg_exclude_padding;
  dims out_dims{b.logical[0], b.logical[1]};
  for (std::size_t i = 0; i < rank; ++i) out_dims.push_back(p.op == "global_avgpool" ? 1 : b.logical[2 + i]);
  dims k = w.kernel, s = w.stride, pl = w.pad_l, pr = w.pad_r;
  int in = reshaped(input_buffer(op, 0), in_dims, op, Phase::forward, forward);
  const memory::desc& src_md = buffers[in].md;
  // Global pooling writes [N, C, 1, 1] in the format it likes; fc takes that
  // as it is, other consumers see it as [N, C] through a reorder.
  memory::desc dst_md = any(out_dims);
  dnnl::pooling_forward::desc d(fwd_kind(), algo, src_md, dst_md, s, k, pl, pr);
  dnnl::pooling_forward::primitive_desc pd(d, pattr, eng);
  int dst = add_buffer(pd.dst_desc(), Kind::activations);
  b.out = dst;
  make_output_grad(op);
  std::vector<std::pair<int, int>> args{{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, dst}};
  int ws = -1;
  if (opt.training && algo == dnnl::algorithm::pooling_max) {
    ws = add_buffer(pd.workspace_desc(), Kind::workspace);
    args.push_back({DNNL_ARG_WORKSPACE, ws});
  }
  forward.push_back(step(pd, std::move(args), layer_row[op], Phase::forward));
  if (!opt.training) return;
  int target = grad_target(op, 0);
  if (target < 0) return;
  // The input's gradient in the input's format: left to `any`, oneDNN 2.6
  // picks a channels-last blocked one for global pooling that only its
  // reference kernel takes (1.58 ms against 5 us forward on a small CNN).
  dnnl::pooling_backward::desc bd(algo, src_md, buffers[dst].md, s, k, pl, pr);
  dnnl::pooling_backward::primitive_desc bpd(bd, pattr, eng, pd);
  std::vector<Step>& bwd = backward[op];
  std::vector<Step> after;
  int diff = converted(b.diff, bpd.diff_dst_desc(), op, Phase::backward, bwd);
  int dsrc = produce_into(target, bpd.diff_src_desc(), op, Phase::backward, after);
  std::vector<std::pair<int, int>> a{{DNNL_ARG_DIFF_DST, diff}, {DNNL_ARG_DIFF_SRC, dsrc}};
  if (ws >= 0) a.push_back({DNNL_ARG_WORKSPACE, ws});
  bwd.push_back(step(bpd, std::move(a), layer_row[op], Phase::backward));
  for (Step& st : after) bwd.push_back(std::move(st));
}

void Lowering::lower_eltwise(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  dnnl::algorithm algo = p.op == "relu"      ? dnnl::algorithm::eltwise_relu
                         : p.op == "sigmoid" ? dnnl::algorithm::eltwise_logistic
                         : p.op == "tanh"    ? dnnl::algorithm::eltwise_tanh
                         : p.op == "silu"    ? dnnl::algorithm::eltwise_swish
                                             : dnnl::algorithm::eltwise_gelu_erf;
  float alpha = p.op == "silu" ? 1.f : 0.f;  // swish is x·σ(alpha·x)
  int in = input_buffer(op, 0);
  const memory::desc& md = buffers[in].md;
  dnnl::eltwise_forward::desc d(fwd_kind(), algo, md, alpha, 0.f);
  dnnl::eltwise_forward::primitive_desc pd(d, pattr, eng);
  b.out = add_buffer(pd.dst_desc(), Kind::activations);
  make_output_grad(op);
  forward.push_back(step(pd, {{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, b.out}}, layer_row[op], Phase::forward));
  if (!opt.training) return;
  int target = grad_target(op, 0);
  if (target < 0) return;
  dnnl::eltwise_backward::desc bd(algo, md, md, alpha, 0.f);
  dnnl::eltwise_backward::primitive_desc bpd(bd, pattr, eng, pd);
  std::vector<Step> after;
  int dsrc = produce_into(target, bpd.diff_src_desc(), op, Phase::backward, after);
  backward[op].push_back(step(bpd, {{DNNL_ARG_SRC, in}, {DNNL_ARG_DIFF_DST, b.diff}, {DNNL_ARG_DIFF_SRC, dsrc}},
                              layer_row[op], Phase::backward));
  for (Step& st : after) backward[op].push_back(std::move(st));
}

// Elementwise binary ops; dropout in training is a product with a mask.
void Lowering::lower_binary(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  bool dropout = p.op == "dropout";
  int a = dropout ? input_buffer(op, 0) : reshaped(input_buffer(op, 0), b.logical, op, Phase::forward, forward);
  const memory::desc md = buffers[a].md;
  int c;
  if (dropout) {
    float rate = static_cast<float>(attr(p, "rate").number);
    c = add_buffer(md, Kind::workspace, Fill::mask, 1.f / (1.f - rate));
    buffers[c].rate = rate;
    b.mask = c;
  } else {
    c = converted(input_buffer(op, 1), md, op, Phase::forward, forward);
  }
  auto algo = p.op == "add" ? dnnl::algorithm::binary_add : dnnl::algorithm::binary_mul;
  dnnl::binary::desc d(algo, md, md, md);
  dnnl::binary::primitive_desc pd(d, pattr, eng);
  b.out = add_buffer(md, Kind::activations);
  make_output_grad(op);
  forward.push_back(step(pd, {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, c}, {DNNL_ARG_DST, b.out}}, layer_row[op],
                         Phase::forward));
  if (!opt.training) return;
  std::vector<Step>& bwd = backward[op];
  int slots = dropout ? 1 : 2;
  for (int slot = 0; slot < slots; ++slot) {
    int target = grad_target(op, slot);
    if (target < 0) continue;
    std::vector<Step> after;
    int dsrc = produce_into(target, md, op, Phase::backward, after);
    if (algo == dnnl::algorithm::binary_add) {
      // d(a + b) = the output's gradient, to both inputs.
      dnnl::reorder::primitive_desc copy(eng, md, eng, md, pattr);
      bwd.push_back(step(copy, {{DNNL_ARG_FROM, b.diff}, {DNNL_ARG_TO, dsrc}}, layer_row[op], Phase::backward));
    } else {
      // d(a · b)/da = gradient · b, and the other way round.
      int other = dropout ? c : slot == 0 ? c : a;
      bwd.push_back(step(pd, {{DNNL_ARG_SRC_0, b.diff}, {DNNL_ARG_SRC_1, other}, {DNNL_ARG_DST, dsrc}},
                         layer_row[op], Phase::backward));
    }
    for (Step& st : after) bwd.push_back(std::move(st));
  }
}

void Lowering::lower_batchnorm(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  bool affine = attr(p, "affine").flag;
  int in = reshaped(input_buffer(op, 0), b.logical, op, Phase::forward, forward);
  const memory::desc md = buffers[in].md;
  auto flags = affine ? dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift
                      : dnnl::normalization_flags::none;
  if (!opt.training) flags |= dnnl::normalization_flags::use_global_stats;
  dnnl::batch_normalization_forward::desc d(fwd_kind(), md, kEpsilon, flags);
  dnnl::batch_normalization_forward::primitive_desc pd(d, pattr, eng);
  b.out = add_buffer(pd.dst_desc(), Kind::activations);
  make_output_grad(op);
  std::int64_t channels = b.logical[1];
  memory::desc c_md = plain({channels});
  b.mean = add_buffer(pd.mean_desc(), opt.training ? Kind::workspace : Kind::weights,
                      opt.training ? Fill::zero : Fill::random, 0.1f);
  b.var = add_buffer(pd.variance_desc(), opt.training ? Kind::workspace : Kind::weights,
                     opt.training ? Fill::zero : Fill::ones);
  std::vector<std::pair<int, int>> args{{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, b.out}, {DNNL_ARG_MEAN, b.mean},
                                        {DNNL_ARG_VARIANCE, b.var}};
  if (affine) {
    b.weights = add_buffer(c_md, Kind::weights, Fill::ones);  // scale
    b.bias = add_buffer(c_md, Kind::weights, Fill::weights, 0.1f);  // shift
    args.push_back({DNNL_ARG_SCALE, b.weights});
    args.push_back({DNNL_ARG_SHIFT, b.bias});
  }
  forward.push_back(step(pd, std::move(args), layer_row[op], Phase::forward));
  if (!opt.training) return;
  int target = grad_target(op, 0);
  std::vector<Step>& bwd = backward[op];
  auto bprop = target < 0 ? dnnl::prop_kind::backward : dnnl::prop_kind::backward;
  dnnl::batch_normalization_backward::desc bd(bprop, md, md, kEpsilon, flags);
  dnnl::batch_normalization_backward::primitive_desc bpd(bd, pattr, eng, pd);
  std::vector<Step> after;
  int dsrc = target >= 0 ? produce_into(target, bpd.diff_src_desc(), op, Phase::backward, after)
                         : add_buffer(bpd.diff_src_desc(), Kind::gradients);
  std::vector<std::pair<int, int>> a{{DNNL_ARG_SRC, in},       {DNNL_ARG_DIFF_DST, b.diff},
                                     {DNNL_ARG_MEAN, b.mean},  {DNNL_ARG_VARIANCE, b.var},
                                     {DNNL_ARG_DIFF_SRC, dsrc}};
  if (affine) {
    b.dweights = add_buffer(c_md, Kind::gradients);
    b.dbias = add_buffer(c_md, Kind::gradients);
    a.push_back({DNNL_ARG_SCALE, b.weights});
    a.push_back({DNNL_ARG_SHIFT, b.bias});
    a.push_back({DNNL_ARG_DIFF_SCALE, b.dweights});
    a.push_back({DNNL_ARG_DIFF_SHIFT, b.dbias});
    sgd(op, b.weights, b.dweights, c_md);
    sgd(op, b.bias, b.dbias, c_md);
  }
  bwd.push_back(step(bpd, std::move(a), layer_row[op], Phase::backward));
  for (Step& st : after) bwd.push_back(std::move(st));
}

void Lowering::lower_layernorm(int op) {
  OpBuffers& b = t[op];
  int in = reshaped(input_buffer(op, 0), b.logical, op, Phase::forward, forward);
  const memory::desc md = buffers[in].md;
  auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  dnnl::layer_normalization_forward::desc d(fwd_kind(), md, kEpsilon, flags);
  dnnl::layer_normalization_forward::primitive_desc pd(d, pattr, eng);
  b.out = add_buffer(pd.dst_desc(), Kind::activations);
  make_output_grad(op);
  memory::desc c_md = plain({b.logical.back()});
  b.weights = add_buffer(c_md, Kind::weights, Fill::ones);
  b.bias = add_buffer(c_md, Kind::weights, Fill::weights, 0.1f);
  std::vector<std::pair<int, int>> args{{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, b.out}, {DNNL_ARG_SCALE, b.weights},
                                        {DNNL_ARG_SHIFT, b.bias}};
  if (opt.training) {
    b.mean = add_buffer(pd.mean_desc(), Kind::workspace);
    b.var = add_buffer(pd.variance_desc(), Kind::workspace);
    args.push_back({DNNL_ARG_MEAN, b.mean});
    args.push_back({DNNL_ARG_VARIANCE, b.var});
  }
  forward.push_back(step(pd, std::move(args), layer_row[op], Phase::forward));
  if (!opt.training) return;
  int target = grad_target(op, 0);
  dnnl::layer_normalization_backward::desc bd(dnnl::prop_kind::backward, md, md, kEpsilon, flags);
  dnnl::layer_normalization_backward::primitive_desc bpd(bd, pattr, eng, pd);
  std::vector<Step> after;
  int dsrc = target >= 0 ? produce_into(target, bpd.diff_src_desc(), op, Phase::backward, after)
                         : add_buffer(bpd.diff_src_desc(), Kind::gradients);
  b.dweights = add_buffer(c_md, Kind::gradients);
  b.dbias = add_buffer(c_md, Kind::gradients);
  backward[op].push_back(step(bpd, {{DNNL_ARG_SRC, in}, {DNNL_ARG_DIFF_DST, b.diff}, {DNNL_ARG_MEAN, b.mean},
                                    {DNNL_ARG_VARIANCE, b.var}, {DNNL_ARG_SCALE, b.weights},
                                    {DNNL_ARG_SHIFT, b.bias}, {DNNL_ARG_DIFF_SRC, dsrc},
                                    {DNNL_ARG_DIFF_SCALE, b.dweights}, {DNNL_ARG_DIFF_SHIFT, b.dbias}},
                              layer_row[op], Phase::backward));
  for (Step& st : after) backward[op].push_back(std::move(st));
  sgd(op, b.weights, b.dweights, c_md);
  sgd(op, b.bias, b.dbias, c_md);
}

void Lowering::lower_lrn(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  auto size = attr(p, "size").ints.at(0);
  float alpha = static_cast<float>(attr(p, "alpha").number), beta = static_cast<float>(attr(p, "beta").number),
        kk = static_cast<float>(attr(p, "k").number);
  int in = reshaped(input_buffer(op, 0), b.logical, op, Phase::forward, forward);
  const memory::desc md = buffers[in].md;
  auto algo = dnnl::algorithm::lrn_across_channels;
  dnnl::lrn_forward::desc d(fwd_kind(), algo, md, size, alpha, beta, kk);
  dnnl::lrn_forward::primitive_desc pd(d, pattr, eng);
  b.out = add_buffer(pd.dst_desc(), Kind::activations);
  make_output_grad(op);
  std::vector<std::pair<int, int>> args{{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, b.out}};
  int ws = -1;
  if (opt.training && pd.workspace_desc().get_size() > 0) {
    ws = add_buffer(pd.workspace_desc(), Kind::workspace);
    args.push_back({DNNL_ARG_WORKSPACE, ws});
  }
  forward.push_back(step(pd, std::move(args), layer_row[op], Phase::forward));
  if (!opt.training) return;
  int target = grad_target(op, 0);
  if (target < 0) return;
  dnnl::lrn_backward::desc bd(algo, md, md, size, alpha, beta, kk);
  dnnl::lrn_backward::primitive_desc bpd(bd, pattr, eng, pd);
  std::vector<Step> after;
  int dsrc = produce_into(target, bpd.diff_src_desc(), op, Phase::backward, after);
  std::vector<std::pair<int, int>> a{{DNNL_ARG_SRC, in}, {DNNL_ARG_DIFF_DST, b.diff}, {DNNL_ARG_DIFF_SRC, dsrc}};
  if (ws >= 0) a.push_back({DNNL_ARG_WORKSPACE, ws});
  backward[op].push_back(step(bpd, std::move(a), layer_row[op], Phase::backward));
  for (Step& st : after) backward[op].push_back(std::move(st));
}

void Lowering::lower_softmax(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  int rank = static_cast<int>(b.logical.size()) - 1;
  int axis = static_cast<int>(attr(p, "axis").ints.at(0));
  axis = (axis < 0 ? axis + rank : axis) + 1;
  int in = reshaped(input_buffer(op, 0), b.logical, op, Phase::forward, forward);
  const memory::desc md = buffers[in].md;
  dnnl::softmax_forward::desc d(fwd_kind(), md, axis);
  dnnl::softmax_forward::primitive_desc pd(d, pattr, eng);
  b.out = add_buffer(pd.dst_desc(), Kind::activations);
  make_output_grad(op);
  forward.push_back(step(pd, {{DNNL_ARG_SRC, in}, {DNNL_ARG_DST, b.out}}, layer_row[op], Phase::forward));
  if (!opt.training) return;
  int target = grad_target(op, 0);
  if (target < 0) return;
  dnnl::softmax_backward::desc bd(md, md, axis);
  dnnl::softmax_backward::primitive_desc bpd(bd, pattr, eng, pd);
  std::vector<Step> after;
  int dsrc = produce_into(target, bpd.diff_src_desc(), op, Phase::backward, after);
  std::int64_t k = md.dims()[axis], rows = volume(md.dims()) / k;
  if (is_reference_impl(bpd.get_kind(), bpd.impl_info_str()) && axis == rank && is_plain(md))
    softmax_backward_by_parts(b.out, b.diff, dsrc, rows, k, layer_row[op], backward[op]);
  else
    backward[op].push_back(step(bpd, {{DNNL_ARG_DST, b.out}, {DNNL_ARG_DIFF_DST, b.diff}, {DNNL_ARG_DIFF_SRC, dsrc}},
                                layer_row[op], Phase::backward));
  for (Step& st : after) backward[op].push_back(std::move(st));
}

void Lowering::lower_concat(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  int rank = static_cast<int>(b.logical.size()) - 1;
  int axis = static_cast<int>(attr(p, "axis").ints.at(0));
  axis = (axis < 0 ? axis + rank : axis) + 1;
  std::vector<int> ins;
  std::vector<memory::desc> mds;
  for (std::size_t i = 0; i < p.inputs.size(); ++i) {
    int in = reshaped(input_buffer(op, static_cast<int>(i)), input_logical(op, static_cast<int>(i)), op,
                      Phase::forward, forward);
    ins.push_back(in);
    mds.push_back(buffers[in].md);
  }
  dnnl::concat::primitive_desc pd(axis, mds, eng, pattr);
  b.out = add_buffer(pd.dst_desc(), Kind::activations);
  make_output_grad(op);
  std::vector<std::pair<int, int>> args{{DNNL_ARG_DST, b.out}};
  for (std::size_t i = 0; i < ins.size(); ++i) args.push_back({DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), ins[i]});
  forward.push_back(step(pd, std::move(args), layer_row[op], Phase::forward));
  if (!opt.training) return;
  // Backward: each input's gradient is its slice of the output's gradient.
  const memory::desc& diff_md = buffers[b.diff].md;
  int diff = b.diff;
  std::vector<Step>& bwd = backward[op];
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < ins.size(); ++i) {
    const dims& in_dims = buffers[ins[i]].md.dims();
    dims offsets(in_dims.size(), 0);
    offsets[axis] = offset;
    offset += in_dims[axis];
    int target = grad_target(op, static_cast<int>(i));
    if (target < 0) continue;
    memory::desc slice;
    try {
      slice = diff_md.submemory_desc(in_dims, offsets);
    } catch (const dnnl::error&) {
      // A slice that cuts through a block: go through a plain copy of the gradient.
      if (diff == b.diff) {
        diff = add_buffer(plain(diff_md.dims()), Kind::gradients);
        bwd.insert(bwd.begin(), reorder_step(b.diff, diff, reorder_row_of(op), Phase::backward));
      }
      slice = buffers[diff].md.submemory_desc(in_dims, offsets);
    }
    int view = alias(diff, slice);
    std::vector<Step> after;
    int dsrc = produce_into(target, buffers[target].md, op, Phase::backward, after);
    dnnl::reorder::primitive_desc rpd(eng, slice, eng, buffers[dsrc].md, pattr);
    bwd.push_back(step(rpd, {{DNNL_ARG_FROM, view}, {DNNL_ARG_TO, dsrc}}, layer_row[op], Phase::backward));
    for (Step& st : after) bwd.push_back(std::move(st));
  }
}

// a [N, ..., M, K] x b [N, ..., K, P] (b stored transposed with transpose_b).
void Lowering::lower_matmul(int op) {
  const PlanOp& p = *ops[op];
  OpBuffers& b = t[op];
  bool tb = attr(p, "transpose_b").flag;
  int a = reshaped(input_buffer(op, 0), input_logical(op, 0), op, Phase::forward, forward);
  int c = reshaped(input_buffer(op, 1), input_logical(op, 1), op, Phase::forward, forward);
  a = converted(a, plain(buffers[a].md.dims()), op, Phase::forward, forward);
  c = converted(c, plain(buffers[c].md.dims()), op, Phase::forward, forward);
  memory::desc a_md = buffers[a].md, b_md = buffers[c].md;
  if (tb) b_md = b_md.permute_axes(transpose_last(static_cast<int>(b_md.dims().size())));
  b.out = add_buffer(plain(b.logical), Kind::activations);
  memory::desc c_md = buffers[b.out].md;
  dnnl::matmul::desc d(a_md, b_md, c_md);
  dnnl::matmul::primitive_desc pd(d, pattr, eng);
  make_output_grad(op);
  int bview = alias(c, b_md);
  forward.push_back(step(pd, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, bview}, {DNNL_ARG_DST, b.out}}, layer_row[op],
                         Phase::forward));
  if (!opt.training) return;
  int rank = static_cast<int>(c_md.dims().size());
  auto tr = transpose_last(rank);
  std::vector<Step>& bwd = backward[op];
  // dA = dC · Bᵀ, dB = Aᵀ · dC (with B as the forward saw it). Operands whose
  // batch dimensions broadcast would need a reduction of their gradient:
  // oneDNN refuses those shapes, and the layer reports that it cannot be built.
  for (int slot = 0; slot < 2; ++slot) {
    int target = grad_target(op, slot);
    if (target < 0) continue;
    std::vector<Step> after;
    int tgt = reshaped(target, input_logical(op, slot), op, Phase::backward, bwd);
    int dst = produce_into(tgt, slot == 0 ? plain(a_md.dims()) : plain(buffers[c].md.dims()), op,
                           Phase::backward, after);
    int dst_view = slot == 1 && tb ? alias(dst, buffers[dst].md.permute_axes(tr)) : dst;
    memory::desc lhs = slot == 0 ? c_md : a_md.permute_axes(tr);
    memory::desc rhs = slot == 0 ? b_md.permute_axes(tr) : c_md;
    dnnl::matmul::desc bd(lhs, rhs, buffers[dst_view].md);
    dnnl::matmul::primitive_desc bpd(bd, pattr, eng);
    int l = slot == 0 ? b.diff : alias(a, lhs);
    int r = slot == 0 ? alias(c, rhs) : b.diff;
    bwd.push_back(step(bpd, {{DNNL_ARG_SRC, l}, {DNNL_ARG_WEIGHTS, r}, {DNNL_ARG_DST, dst_view}}, layer_row[op],
                       Phase::backward));
    for (Step& st : after) bwd.push_back(std::move(st));
  }
}

}  // namespace dlc::runtime::cpu::lowering
