// The lowering of a Plan to oneDNN primitives (the inside of Executor, see
// executor.hpp): buffers recorded as memory descriptors, steps as primitives
// with their arguments, and one lower_<op> member per op kind. Internal to
// runtime/cpu: lower_layers.cpp lowers the CNN and transformer ops,
// lower_sequence.cpp the recurrent, attention and embedding ones, and
// executor.cpp runs what they built.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <functional>
#include <numeric>
#include <oneapi/dnnl/dnnl.hpp>
#include <oneapi/dnnl/dnnl_debug.h>
#include <omp.h>
#include <optional>
#include <unordered_map>

#include "runtime/cpu/executor.hpp"
#include "runtime/cpu/window.hpp"

namespace dlc::runtime::cpu::lowering {

using compiler::PlanOp;
using dnnl::memory;
using dims = memory::dims;

constexpr float kEpsilon = 1e-5f;  // batch and layer normalisation

enum class Phase { forward, backward, update };
enum class Kind { activations, gradients, weights, workspace };
enum class Fill { zero, random, weights, ones, mask, indices };

struct Buffer {
  memory::desc md;
  Kind kind = Kind::activations;
  int alias = -1;       // seen through md over another buffer's storage
  Fill fill = Fill::zero;
  float scale = 1;      // random fills: uniform in [-scale, scale]; masks: the keep scale
  float rate = 0;       // masks: the share of zeros
  void* data = nullptr;  // owned, for buffers that are not aliases
  memory mem;
};

// A primitive with its arguments, or a host step: a C++ function for what
// oneDNN 2.6 has no primitive for (an embedding's gather and scatter-add).
struct Step {
  dnnl::primitive prim;
  std::function<void()> host;
  std::vector<std::pair<int, int>> args;  // DNNL_ARG_* -> buffer
  memory::desc scratchpad;
  int row = -1;
  Phase phase = Phase::forward;
  std::unordered_map<int, memory> bound;
};

struct Row {
  std::string name, op, op_class;
  int plan_op = -1;
  std::vector<std::string> reference_kernels;  // "softmax backward (ref:any)"
};

// Whether oneDNN chose one of its reference implementations ("ref:any",
// "ref_fused:any"): plain loops, correct but often 100x slower than its
// JIT kernels, so a time measured on one says nothing about the machine.
// Its RNN implementation named "ref" is not one: it runs the cells' matrix
// products through its JIT gemm, and is what oneDNN 2.6 has for f32 training.
inline bool is_reference_impl(dnnl::primitive::kind kind, std::string_view impl) {
  return impl.rfind("ref", 0) == 0 && !(kind == dnnl::primitive::kind::rnn && impl == "ref");
}

// The buffers of one op of the plan (-1: none).
struct OpBuffers {
  int out = -1, diff = -1, weights = -1, bias = -1, dweights = -1, dbias = -1, mean = -1, var = -1, mask = -1;
  dims logical;          // {N, per-sample shape...}
  bool needs_grad = false;  // its output's gradient is computed
  // Further tensors by name, for ops with more than one weight ("l0.weights_iter", ...): what --check reads.
  std::vector<std::pair<std::string, int>> named;
};

inline dims to_dims(std::int64_t batch, const compiler::Shape& shape) {
  dims d{batch};
  d.insert(d.end(), shape.begin(), shape.end());
  return d;
}

// Dense row-major strides.
inline memory::desc plain(const dims& d) {
  dims strides(d.size(), 1);
  for (int i = static_cast<int>(d.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * d[i + 1];
  return memory::desc(d, memory::data_type::f32, strides);
}

inline memory::desc any(const dims& d) { return memory::desc(d, memory::data_type::f32, memory::format_tag::any); }

inline bool is_plain(const memory::desc& md) { return md == plain(md.dims()); }

inline std::int64_t volume(const dims& d) {
  return std::accumulate(d.begin(), d.end(), std::int64_t{1}, std::multiplies<>());
}

inline const compiler::OpArgs::Attr& attr(const PlanOp& op, std::string_view name) {
  return op.args.attrs.at(op.def->param_index(name));
}

inline std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The primitive of each kind of primitive descriptor.
#define DLC_PRIMITIVE(X) \
  inline dnnl::primitive create(const dnnl::X::primitive_desc& pd) { return dnnl::X(pd); }
DLC_PRIMITIVE(convolution_forward) DLC_PRIMITIVE(convolution_backward_data)
DLC_PRIMITIVE(convolution_backward_weights) DLC_PRIMITIVE(inner_product_forward)
DLC_PRIMITIVE(inner_product_backward_data) DLC_PRIMITIVE(inner_product_backward_weights)
DLC_PRIMITIVE(pooling_forward) DLC_PRIMITIVE(pooling_backward) DLC_PRIMITIVE(eltwise_forward)
DLC_PRIMITIVE(eltwise_backward) DLC_PRIMITIVE(binary) DLC_PRIMITIVE(batch_normalization_forward)
DLC_PRIMITIVE(batch_normalization_backward) DLC_PRIMITIVE(layer_normalization_forward)
DLC_PRIMITIVE(layer_normalization_backward) DLC_PRIMITIVE(lrn_forward) DLC_PRIMITIVE(lrn_backward)
DLC_PRIMITIVE(softmax_forward) DLC_PRIMITIVE(softmax_backward) DLC_PRIMITIVE(concat) DLC_PRIMITIVE(lstm_forward)
DLC_PRIMITIVE(lstm_backward) DLC_PRIMITIVE(gru_forward) DLC_PRIMITIVE(gru_backward) DLC_PRIMITIVE(reduction)
DLC_PRIMITIVE(sum) DLC_PRIMITIVE(reorder) DLC_PRIMITIVE(matmul)
#undef DLC_PRIMITIVE

// A defect of oneDNN 2.6.3 (Debian 12's): its AVX-512 brgemm inner product
// backward data ("brgemm_bwd_d:avx512_core", "…_bf16") runs its kernel on a
// NULL accumulation buffer and crashes when oneDNN splits the outputs over
// threads but then runs one chunk on one thread
// (src/cpu/x64/jit_brgemm_inner_product.cpp: num_threads forced to 1 at line
// 535, c_buffer chosen from the planned count at 615, accumulated at 690).
// That happens with 2+ threads, one block of inputs (ic ≤ 16 or 32; 64 for
// bf16), one chunk of rows (mb ≤ 128) and more than 16 blocks of 64 outputs
// (oc > 1024): an 8 → 3072 layer of BERT checked on 8 features, a
// 16 → 2048 layer. Fixed upstream in v3.1 (commit 2d0aac7, "x64: make sure
// k-parallelization is used"); remove this when oneDNN ≥ 3.1 is the floor.
// For a superset of those shapes, take the next implementation (gemm:jit);
// PD's op descriptor must outlive it, which next_impl() reads.
template <class PD>
void avoid_brgemm_bwd_d_defect(PD& pd, memory::dim rows, memory::dim inputs, memory::dim outputs, int threads) {
  bool exposed = threads >= 2 && inputs <= 64 && rows <= 128 && outputs > 1024;
  while (exposed && std::string_view(pd.impl_info_str()).rfind("brgemm_bwd_d", 0) == 0 && pd.next_impl()) {
  }
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double pos = p * static_cast<double>(v.size() - 1);
  std::size_t i = static_cast<std::size_t>(pos);
  double frac = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - frac) + v[i + 1] * frac : v[i];
}

struct Lowering {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  BuildOptions opt;
  dnnl::primitive_attr pattr;
  std::deque<Buffer> buffers;  // a deque: references to a buffer stay valid while others are added
  std::vector<Row> rows;
  std::vector<Step> forward;                 // in order
  std::vector<std::vector<Step>> backward;   // per op, run in reverse op order
  std::vector<Step> update;
  std::vector<Step> steps;                   // the three, assembled
  std::vector<OpBuffers> t;
  std::vector<int> layer_row, reorder_row, sum_row;
  std::vector<std::vector<std::pair<int, int>>> consumers;  // per op: (consumer, input slot)
  std::vector<std::vector<int>> edge_target;                // per op, per consumer edge: gradient buffer
  std::vector<const PlanOp*> ops;
  MemoryNeed need;
  std::size_t scratch_bytes = 0;
  void* scratch = nullptr;

  Lowering() { pattr.set_scratchpad_mode(dnnl::scratchpad_mode::user); }
  ~Lowering() {
    for (Buffer& b : buffers) std::free(b.data);
    std::free(scratch);
  }

  // ---- buffers, rows, steps ------------------------------------------------

  int add_buffer(const memory::desc& md, Kind kind, Fill fill = Fill::zero, float scale = 1) {
    Buffer b;
    b.md = md;
    b.kind = kind;
    b.fill = fill;
    b.scale = scale;
    buffers.push_back(std::move(b));
    return static_cast<int>(buffers.size()) - 1;
  }
  int alias(int of, const memory::desc& md) {
    while (buffers[of].alias >= 0) of = buffers[of].alias;
    Buffer b;
    b.md = md;
    b.kind = buffers[of].kind;
    b.alias = of;
    buffers.push_back(std::move(b));
    return static_cast<int>(buffers.size()) - 1;
  }

  int row_of(std::vector<int>& table, int op, std::string_view suffix, std::string_view kind) {
    if (table[op] < 0) {
      table[op] = static_cast<int>(rows.size());
      rows.push_back({fmt::format("{}/{}", ops[op]->name, suffix), std::string(kind), "", -1, {}});
    }
    return table[op];
  }
  int reorder_row_of(int op) { return row_of(reorder_row, op, "reorder", "reorder"); }

  template <class PD>
  Step step(const PD& pd, std::vector<std::pair<int, int>> args, int row, Phase phase) {
    Step s;
    s.prim = create(pd);
    s.args = std::move(args);
    s.scratchpad = pd.scratchpad_desc();
    s.row = row;
    s.phase = phase;
    scratch_bytes = std::max(scratch_bytes, s.scratchpad.get_size());
    if (std::string impl = pd.impl_info_str(); is_reference_impl(pd.get_kind(), impl) && row >= 0) {
      static constexpr const char* kPhase[] = {"forward", "backward", "update"};
      std::string what = fmt::format("{} {} ({})", dnnl_prim_kind2str(dnnl::convert_to_c(pd.get_kind())),
                                     kPhase[static_cast<int>(phase)], impl);
      std::vector<std::string>& seen = rows[row].reference_kernels;
      if (std::find(seen.begin(), seen.end(), what) == seen.end()) seen.push_back(std::move(what));
    }
    return s;
  }

  Step reorder_step(int from, int to, int row, Phase phase) {
    dnnl::reorder::primitive_desc pd(eng, buffers[from].md, eng, buffers[to].md, pattr);
    return step(pd, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, row, phase);
  }

  // `buf` seen with `want` dims in plain layout (a view when it is plain,
  // else a reorder into a plain copy first).
  int reshaped(int buf, const dims& want, int op, Phase phase, std::vector<Step>& out) {
    const memory::desc& md = buffers[buf].md;
    if (md.dims() == want) return buf;
    if (is_plain(md)) return alias(buf, plain(want));
    int copy = add_buffer(plain(md.dims()), buffers[buf].kind);
    out.push_back(reorder_step(buf, copy, reorder_row_of(op), phase));
    return alias(copy, plain(want));
  }

  // `buf` in format `want` (same element order), reordered into a copy if needed.
  int converted(int buf, const memory::desc& want, int op, Phase phase, std::vector<Step>& out) {
    buf = reshaped(buf, want.dims(), op, phase, out);
    if (buffers[buf].md == want) return buf;
    int copy = add_buffer(want, buffers[buf].kind);
    out.push_back(reorder_step(buf, copy, reorder_row_of(op), phase));
    return copy;
  }

  // Where a primitive producing `produced` should write so that the result
  // lands in `target`: the target itself, or a temporary reordered into it
  // afterwards (the reorder is appended to `after`).
  int produce_into(int target, const memory::desc& produced, int op, Phase phase, std::vector<Step>& after) {
    const memory::desc& md = buffers[target].md;
    if (md == produced) return target;
    if (md.dims() != produced.dims() && is_plain(md) && is_plain(produced)) return alias(target, produced);
    int tmp = add_buffer(produced, buffers[target].kind);
    int dst = target;
    if (md.dims() != produced.dims()) {
      // Through a plain copy with the target's dims, viewed with the produced dims.
      if (!is_plain(md)) {
        int plain_tmp = add_buffer(plain(md.dims()), buffers[target].kind);
        after.push_back(reorder_step(tmp, alias(plain_tmp, plain(produced.dims())), reorder_row_of(op), phase));
        after.push_back(reorder_step(plain_tmp, target, reorder_row_of(op), phase));
        return tmp;
      }
      dst = alias(target, plain(produced.dims()));
    }
    after.push_back(reorder_step(tmp, dst, reorder_row_of(op), phase));
    return tmp;
  }

  // ---- lowering ----------------------------------------------------------

  dnnl::prop_kind fwd_kind() const {
    return opt.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  }

  int input_buffer(int op, int slot) { return t[ops[op]->inputs.at(slot)].out; }
  const dims& input_logical(int op, int slot) { return t[ops[op]->inputs.at(slot)].logical; }
  // The gradient buffer a consumer writes for its input `slot`, or -1 when that input needs none.
  int grad_target(int op, int slot) {
    int p = ops[op]->inputs.at(slot);
    if (!t[p].needs_grad) return -1;
    const auto& edges = consumers[p];
    for (std::size_t e = 0; e < edges.size(); ++e)
      if (edges[e].first == op && edges[e].second == slot) return edge_target[p][e];
    return -1;
  }

  // Called once the op's output buffer is known: its gradient buffer, the
  // temporaries of its extra consumers, and the gradient sum that adds them.
  void make_output_grad(int op) {
    OpBuffers& b = t[op];
    if (!opt.training || !b.needs_grad) return;
    const memory::desc& md = buffers[b.out].md;
    bool is_output = consumers[op].empty();
    b.diff = add_buffer(md, Kind::gradients, is_output ? Fill::random : Fill::zero);
    edge_target[op].assign(consumers[op].size(), b.diff);
    if (consumers[op].size() > 1) add_grad_sum(op, md);
  }

  // An output read by several layers: the first writes its gradient, each
  // other one a temporary, and a sum adds them up before the op's backward.
  void add_grad_sum(int op, const memory::desc& md) {
    int diff = t[op].diff;
    std::vector<int> srcs{diff};
    for (std::size_t e = 1; e < consumers[op].size(); ++e) {
      edge_target[op][e] = add_buffer(md, Kind::gradients);
      srcs.push_back(edge_target[op][e]);
    }
    std::vector<memory::desc> mds(srcs.size(), md);
    dnnl::sum::primitive_desc pd(md, std::vector<float>(srcs.size(), 1.f), mds, eng, pattr);
    std::vector<std::pair<int, int>> args{{DNNL_ARG_DST, diff}};
    for (std::size_t i = 0; i < srcs.size(); ++i)
      args.push_back({DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i), srcs[i]});
    int row = row_of(sum_row, op, "grad_sum", "sum");
    backward[op].insert(backward[op].begin(), step(pd, std::move(args), row, Phase::backward));
  }

  // The SGD step of one weight: w = w - lr * dw (a sum with scales 1 and -lr),
  // over the whole storage seen as one plain vector: a padded blocked format
  // (1,000 outputs in blocks of 16) has only oneDNN's reference sum; the
  // padding is zero in both, so it stays zero.
  void sgd(int op, int w, int dw, const memory::desc& md) {
    memory::desc flat = plain({static_cast<memory::dim>(md.get_size() / sizeof(float))});
    dnnl::sum::primitive_desc pd(flat, {1.f, -opt.learning_rate}, {flat, flat}, eng, pattr);
    int wf = alias(w, flat), dwf = alias(dw, flat);
    update.push_back(step(pd, {{DNNL_ARG_DST, wf}, {DNNL_ARG_MULTIPLE_SRC, wf}, {DNNL_ARG_MULTIPLE_SRC + 1, dwf}},
                          layer_row[op], Phase::update));
  }

  // A bias: its buffer (the forward's argument), gradient and SGD step.
  void make_bias(int op, const memory::desc& md, std::vector<std::pair<int, int>>& args) {
    OpBuffers& b = t[op];
    b.bias = add_buffer(md, Kind::weights, Fill::weights, 0.1f);
    args.push_back({DNNL_ARG_BIAS, b.bias});
    if (!opt.training) return;
    b.dbias = add_buffer(md, Kind::gradients);
    sgd(op, b.bias, b.dbias, md);
  }

  // Weights: a buffer in the primitive's format, its gradient, and the SGD step.
  void make_weights(int op, const memory::desc& md, const memory::desc& grad_md, float fan_in, int& w, int& dw) {
    w = add_buffer(md, Kind::weights, Fill::weights, std::sqrt(3.f / std::max(fan_in, 1.f)));
    if (!opt.training) return;
    dw = add_buffer(grad_md, Kind::gradients);
    int grad = dw;
    if (!(grad_md == md)) grad = converted(dw, md, op, Phase::update, update);
    sgd(op, w, grad, md);
  }

  void lower_input(int op);

  // flatten, reshape, and dropout in inference: a new view of the input.
  void lower_view(int op);

  // Backward weights (conv, fc): the source as the forward saw it and the
  // output's gradient, each in the primitive's format.
  template <class PD>
  void backward_weights(int op, const PD& pd, int src, int diff_dst, bool has_bias) {
    OpBuffers& b = t[op];
    std::vector<Step>& bwd = backward[op];
    int bsrc = converted(src, pd.src_desc(), op, Phase::backward, bwd);
    int bdiff = converted(diff_dst, pd.diff_dst_desc(), op, Phase::backward, bwd);
    std::vector<std::pair<int, int>> a{{DNNL_ARG_SRC, bsrc}, {DNNL_ARG_DIFF_DST, bdiff},
                                       {DNNL_ARG_DIFF_WEIGHTS, b.dweights}};
    if (has_bias) a.push_back({DNNL_ARG_DIFF_BIAS, b.dbias});
    bwd.push_back(step(pd, std::move(a), layer_row[op], Phase::backward));
  }

  // Backward data (conv, fc): the gradient of the input into `target`, from
  // the output's gradient and the weights, each in the primitive's format.
  template <class PD>
  void backward_data(int op, const PD& pd, int diff_dst, int target) {
    std::vector<Step>& bwd = backward[op];
    std::vector<Step> after;
    int bdiff = converted(diff_dst, pd.diff_dst_desc(), op, Phase::backward, bwd);
    int weights = converted(t[op].weights, pd.weights_desc(), op, Phase::backward, bwd);
    int dsrc = produce_into(target, pd.diff_src_desc(), op, Phase::backward, after);
    bwd.push_back(step(pd, {{DNNL_ARG_DIFF_DST, bdiff}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, dsrc}},
                       layer_row[op], Phase::backward));
    for (Step& st : after) bwd.push_back(std::move(st));
  }

  void lower_conv(int op);

  void lower_fc(int op);

  void lower_pool(int op);

  void lower_eltwise(int op);

  // Elementwise binary ops; dropout in training is a product with a mask.
  void lower_binary(int op);

  void lower_batchnorm(int op);

  void lower_layernorm(int op);

  void lower_lrn(int op);

  void lower_softmax(int op);

  // Softmax's backward over plain rows of length k by primitives with JIT
  // kernels, for where oneDNN 2.6 has only its reference one (AVX2).
  void softmax_backward_by_parts(int prob, int dprob, int ds, std::int64_t rows, std::int64_t k, int row,
                                 std::vector<Step>& bwd);

  void lower_concat(int op);

  // a [N, ..., M, K] x b [N, ..., K, P] (b stored transposed with transpose_b).
  void lower_matmul(int op);

  // lower_sequence.cpp: lstm and gru (oneDNN RNN primitives, one per layer),
  // attention (projections, matmul and softmax), embedding (host steps),
  // position_embedding and select.
  void lower_rnn(int op);
  void lower_attention(int op);
  void lower_embedding(int op);
  void lower_gather(int op);
  void lower_select(int op);

  // What of an attention layer the CPU lowering does not compute ("" when
  // nothing): grouped-query heads and rotary embeddings change the
  // arithmetic, and flash attention's blocked kernel is a different program.
  static std::string attention_refusal(const PlanOp& p) {
    auto attr = [&](const char* name) -> const compiler::OpArgs::Attr& {
      return p.args.attrs.at(static_cast<std::size_t>(p.def->param_index(name)));
    };
    std::vector<std::string> what;
    if (attr("kv_heads").given && attr("kv_heads").ints.at(0) != attr("heads").ints.at(0))
      what.push_back(fmt::format("kv_heads = {}", attr("kv_heads").ints.at(0)));
    if (attr("rotary").flag) what.emplace_back("rotary = true");
    if (attr("flash").flag) what.emplace_back("flash = true");
    std::string out;
    for (std::size_t i = 0; i < what.size(); ++i) out += (i == 0 ? "" : ", ") + what[i];
    return out;
  }

  static std::vector<int> transpose_last(int rank) {
    std::vector<int> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    std::swap(perm[rank - 1], perm[rank - 2]);
    return perm;
  }

  bool lower(const compiler::Plan& plan, std::string& error) {
    std::size_t n = plan.ops.size();
    for (const PlanOp& p : plan.ops) ops.push_back(&p);
    t.resize(n);
    layer_row.assign(n, -1);
    reorder_row.assign(n, -1);
    sum_row.assign(n, -1);
    consumers.resize(n);
    edge_target.resize(n);
    backward.resize(n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t s = 0; s < plan.ops[i].inputs.size(); ++s)
        consumers[plan.ops[i].inputs[s]].push_back({static_cast<int>(i), static_cast<int>(s)});
    for (std::size_t i = 0; i < n; ++i) {
      const PlanOp& p = plan.ops[i];
      t[i].logical = to_dims(opt.batch, p.output);
      t[i].needs_grad = opt.training && (p.op != "input" || opt.input_gradients);
      // A layer needs its output's gradient only when something before it learns or wants one.
      if (t[i].needs_grad && p.op != "input") {
        bool upstream = p.params > 0;
        for (int in : p.inputs) upstream = upstream || t[in].needs_grad;
        t[i].needs_grad = upstream;
      }
      layer_row[i] = static_cast<int>(rows.size());
      rows.push_back({p.name, p.op, std::string(compiler::op_class_name(p.op_class)), static_cast<int>(i), {}});
    }
    for (std::size_t i = 0; i < n; ++i) {
      const PlanOp& p = plan.ops[i];
      const std::string& o = p.op;
      int op = static_cast<int>(i);
      try {
        if (o == "input") lower_input(op);
        else if (p.def && p.def->view) lower_view(op);
        else if (o == "dropout" && !opt.training) lower_view(op);
        else if (o == "conv") lower_conv(op);
        else if (o == "fc") lower_fc(op);
        else if (o == "maxpool" || o == "avgpool" || o == "global_avgpool") lower_pool(op);
        else if (o == "relu" || o == "sigmoid" || o == "tanh" || o == "gelu" || o == "silu") lower_eltwise(op);
        else if (o == "add" || o == "mul" || o == "dropout") lower_binary(op);
        else if (o == "batchnorm") lower_batchnorm(op);
        else if (o == "layernorm") lower_layernorm(op);
        else if (o == "lrn") lower_lrn(op);
        else if (o == "softmax") lower_softmax(op);
        else if (o == "concat") lower_concat(op);
        else if (o == "matmul") lower_matmul(op);
        else if (o == "lstm" || o == "gru") lower_rnn(op);
        else if (o == "attention") {
          if (std::string why = attention_refusal(p); !why.empty()) {
            error = fmt::format("layer '{}': the CPU runtime lowers multi-head attention only, and this one has {}",
                                p.name, why);
            return false;
          }
          lower_attention(op);
        }
        else if (o == "embedding" || o == "position_embedding") lower_embedding(op);
        else if (o == "select") lower_select(op);
        else {
          error = fmt::format("layer '{}': the CPU runtime has no lowering for op '{}'", p.name, o);
          return false;
        }
      } catch (const dnnl::error& e) {
        error = fmt::format("layer '{}' ({}): oneDNN cannot build it: {}", p.name, o, e.what());
        return false;
      }
    }
    // Execution order: forward, backward in reverse, update.
    for (Step& s : forward) steps.push_back(std::move(s));
    for (std::size_t i = n; i-- > 0;)
      for (Step& s : backward[i]) steps.push_back(std::move(s));
    for (Step& s : update) steps.push_back(std::move(s));
    forward.clear();
    backward.clear();
    update.clear();
    for (const Buffer& b : buffers) {
      if (b.alias >= 0) continue;
      double bytes = static_cast<double>(b.md.get_size());
      switch (b.kind) {
        case Kind::activations: need.activations += bytes; break;
        case Kind::gradients: need.gradients += bytes; break;
        case Kind::weights: need.weights += bytes; break;
        case Kind::workspace: need.workspace += bytes; break;
      }
    }
    need.scratchpad = static_cast<double>(scratch_bytes);
    return true;
  }

  // ---- allocation and execution -------------------------------------------

  void fill(Buffer& b, std::uint64_t& seed) {
    std::size_t bytes = b.md.get_size();
    std::memset(b.data, 0, bytes);
    if (b.fill == Fill::zero) return;
    // Random values are generated in plain layout and reordered in, so that
    // the padding of blocked formats stays zero.
    dims d = b.md.dims();
    std::vector<float> v(static_cast<std::size_t>(volume(d)));
    for (float& x : v) {
      double u = static_cast<double>(splitmix(seed) >> 11) * 0x1.0p-53;  // [0, 1)
      switch (b.fill) {
        case Fill::ones: x = 1; break;
        case Fill::mask: x = u < b.rate ? 0.f : b.scale; break;
        case Fill::indices: x = std::floor(static_cast<float>(u) * b.scale); break;  // in [0, vocab)
        default: x = static_cast<float>((2 * u - 1) * b.scale); break;
      }
    }
    memory src(plain(d), eng, v.data());
    dnnl::reorder(src, b.mem).execute(strm, src, b.mem);
    strm.wait();
  }

  void allocate(std::uint64_t seed) {
    for (Buffer& b : buffers) {
      if (b.alias >= 0) continue;
      std::size_t bytes = std::max<std::size_t>(b.md.get_size(), 64);
      b.data = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
      if (!b.data) throw std::bad_alloc();
      b.mem = memory(b.md, eng, b.data);
      fill(b, seed);
    }
    for (Buffer& b : buffers)
      if (b.alias >= 0) b.mem = memory(b.md, eng, buffers[b.alias].data);
    std::size_t sbytes = std::max<std::size_t>(scratch_bytes, 64);
    scratch = std::aligned_alloc(64, (sbytes + 63) / 64 * 64);
    if (!scratch) throw std::bad_alloc();
    std::memset(scratch, 0, sbytes);
    for (Step& s : steps) {
      for (auto [arg, buf] : s.args) s.bound[arg] = buffers[buf].mem;
      if (s.scratchpad.get_size() > 0) s.bound[DNNL_ARG_SCRATCHPAD] = memory(s.scratchpad, eng, scratch);
    }
  }

  void execute(Step& s) {
    if (s.host) {
      s.host();
      return;
    }
    try {
      s.prim.execute(strm, s.bound);
    } catch (const dnnl::error& e) {
      throw std::runtime_error(fmt::format("oneDNN failed to run a {} step of '{}': {}", phase_name(s.phase),
                                           rows[s.row].name, e.what()));
    }
  }

  static const char* phase_name(Phase p) {
    return p == Phase::forward ? "forward" : p == Phase::backward ? "backward" : "update";
  }

  memory plain_copy(int buf) const {
    const Buffer& b = buffers[buf];
    memory out(plain(b.md.dims()), eng);
    dnnl::reorder(b.mem, out).execute(const_cast<dnnl::stream&>(strm), const_cast<memory&>(b.mem), out);
    const_cast<dnnl::stream&>(strm).wait();
    return out;
  }
};

}  // namespace dlc::runtime::cpu::lowering
