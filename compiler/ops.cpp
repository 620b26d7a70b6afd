#include "compiler/ops.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <numeric>

namespace dlc::compiler {

// ---- element types ----------------------------------------------------------

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  std::int64_t bytes;
  bool integer;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::f64, "f64", 8, false}, {DType::f32, "f32", 4, false}, {DType::tf32, "tf32", 4, false},
    {DType::f16, "f16", 2, false}, {DType::bf16, "bf16", 2, false}, {DType::fp8, "fp8", 1, false},
    {DType::i64, "i64", 8, true},  {DType::i32, "i32", 4, true},   {DType::i8, "i8", 1, true},
    {DType::boolean, "bool", 1, true},
};
const DTypeInfo& info(DType t) {
  for (const DTypeInfo& d : kDTypes)
    if (d.type == t) return d;
  return kDTypes[1];
}
}  // namespace

std::string_view dtype_name(DType t) { return info(t).name; }
std::int64_t dtype_bytes(DType t) { return info(t).bytes; }
bool is_integer(DType t) { return info(t).integer; }
bool parse_dtype(std::string_view name, DType& out) {
  for (const DTypeInfo& d : kDTypes)
    if (d.name == name) {
      out = d.type;
      return true;
    }
  return false;
}
std::vector<std::string> dtype_names() {
  std::vector<std::string> v;
  for (const DTypeInfo& d : kDTypes) v.emplace_back(d.name);
  return v;
}

std::string shape_string(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

std::int64_t TensorInfo::elements() const {
  // Saturates: shape rules report anything this large as too large.
  std::int64_t n = 1;
  for (std::int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) return INT64_MAX;
  return n;
}

std::string_view op_class_name(OpClass c) {
  switch (c) {
    case OpClass::conv: return "conv";
    case OpClass::matmul: return "matmul";
    case OpClass::elementwise: return "elementwise";
    case OpClass::normalization: return "normalization";
    case OpClass::pooling: return "pooling";
    case OpClass::recurrent: return "recurrent";
    case OpClass::attention: return "attention";
    case OpClass::data_movement: return "data_movement";
    case OpClass::embedding: return "embedding";
    case OpClass::input: return "input";
  }
  return "elementwise";
}

int OpDef::param_index(std::string_view n) const {
  for (std::size_t i = 0; i < params.size(); ++i)
    if (params[i].name == n) return static_cast<int>(i);
  return -1;
}

// ---- shape rules ------------------------------------------------------------

namespace {

// Products of sizes saturate instead of overflowing; anything near the limit
// is reported as too large by the caller.
constexpr std::int64_t kHuge = std::int64_t{1} << 62;
std::int64_t mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || r > kHuge) return kHuge;
  return r;
}
std::int64_t add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r) || r > kHuge) return kHuge;
  return r;
}
std::int64_t product(const Shape& s) {
  std::int64_t n = 1;
  for (std::int64_t d : s) n = mul(n, d);
  return n;
}

bool fail(OpError& err, std::string message, int param = -1) {
  err.message = std::move(message);
  err.param = param;
  return false;
}

bool finish(OpResult& r, OpError& err) {
  if (r.output.elements() >= kHuge || r.params >= kHuge || r.macs_forward >= kHuge ||
      r.macs_backward >= kHuge)
    return fail(err, fmt::format("result is too large to represent: output {}",
                                 shape_string(r.output.shape)));
  // An op without parameters computes nothing backward but its inputs' gradients.
  if (r.macs_input_gradient < 0) r.macs_input_gradient = r.params == 0 ? r.macs_backward : 0;
  if (r.active_params < 0) r.active_params = r.params;
  if (r.macs_model < 0) r.macs_model = r.macs_forward;
  if (r.kept >= kHuge || r.scratch_forward >= kHuge || r.scratch_backward >= kHuge)
    return fail(err, "result is too large to represent: the op's internal tensors");
  return true;
}

const std::vector<std::int64_t>& ints(const OpArgs& a, const OpDef& op, std::string_view name) {
  return a.attrs[op.param_index(name)].ints;
}
bool given(const OpArgs& a, const OpDef& op, std::string_view name) {
  return a.attrs[op.param_index(name)].given;
}
std::int64_t integer(const OpArgs& a, const OpDef& op, std::string_view name) {
  return ints(a, op, name).at(0);
}
bool flag(const OpArgs& a, const OpDef& op, std::string_view name) {
  return a.attrs[op.param_index(name)].flag;
}
double number(const OpArgs& a, const OpDef& op, std::string_view name) {
  return a.attrs[op.param_index(name)].number;
}

// An `integers` attribute expanded to one value per spatial dimension.
bool spatial(const OpArgs& a, const OpDef& op, std::string_view name, std::size_t rank,
             std::int64_t min, std::vector<std::int64_t>& out, OpError& err) {
  const auto& v = ints(a, op, name);
  if (v.size() == 1) out.assign(rank, v[0]);
  else if (v.size() == rank) out = v;
  else
    return fail(err, fmt::format("'{}' has {} values but the input has {} spatial dimension{}", name,
                                 v.size(), rank, rank == 1 ? "" : "s"), op.param_index(name));
  for (std::int64_t x : out)
    if (x < min)
      return fail(err, fmt::format("'{}' must be at least {}, got {}", name, min, x), op.param_index(name));
  return true;
}

bool positive(const OpArgs& a, const OpDef& op, std::string_view name, OpError& err) {
  std::int64_t v = integer(a, op, name);
  if (v <= 0) return fail(err, fmt::format("'{}' must be positive, got {}", name, v), op.param_index(name));
  return true;
}

// Input of conv and pooling: [C, spatial...] with at least one spatial dim.
bool spatial_input(const OpDef& op, const TensorInfo& x, OpError& err) {
  if (x.shape.size() < 2)
    return fail(err, fmt::format("{} expects an input with channels and at least one spatial "
                                 "dimension ([C, H, W] or [C, L]), got {}",
                                 op.name, shape_string(x.shape)), 0);
  return true;
}

// Output size of a sliding window, floor (or ceil, as Caffe pools) rounding.
bool window(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d,
            bool ceil_mode, std::int64_t& out) {
  std::int64_t span = d * (k - 1) + 1;
  std::int64_t room = in + 2 * p - span;
  if (room < 0) return false;
  out = (ceil_mode ? (room + s - 1) / s : room / s) + 1;
  // Caffe: the last window must start inside the input (not in the padding).
  if (ceil_mode && p > 0 && (out - 1) * s >= in + p) --out;
  return true;
}

std::string list_attr(const std::vector<std::int64_t>& v) { return shape_string(v); }

// The spatial part of [C, H, W]: what a window slides over.
Shape spatial_dims(const TensorInfo& x) { return Shape(x.shape.begin() + 1, x.shape.end()); }

bool infer_conv(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (!spatial_input(op, x, err)) return false;
  std::size_t rank = x.shape.size() - 1;
  std::vector<std::int64_t> k, s, p, d;
  if (!positive(a, op, "channels", err) || !positive(a, op, "groups", err) ||
      !spatial(a, op, "kernel", rank, 1, k, err) || !spatial(a, op, "stride", rank, 1, s, err) ||
      !spatial(a, op, "pad", rank, 0, p, err) || !spatial(a, op, "dilation", rank, 1, d, err))
    return false;
  std::int64_t cin = x.shape[0], cout = integer(a, op, "channels"), g = integer(a, op, "groups");
  if (cin % g != 0 || cout % g != 0)
    return fail(err, fmt::format("groups = {} must divide both the input channels ({}) and the "
                                 "output channels ({})", g, cin, cout), op.param_index("groups"));
  Shape out{cout};
  for (std::size_t i = 0; i < rank; ++i) {
    std::int64_t o;
    if (!window(x.shape[i + 1], k[i], s[i], p[i], d[i], false, o))
      return fail(err, fmt::format("kernel {} (dilation {}) is larger than the padded input {} "
                                   "(padding {})", list_attr(k), list_attr(d),
                                   shape_string(spatial_dims(x)), list_attr(p)), op.param_index("kernel"));
    out.push_back(o);
  }
  std::int64_t per_output = mul(cin / g, product(k));  // MACs for one output element
  std::int64_t weights = mul(cout, per_output);
  bool bias = flag(a, op, "bias");
  r.output = {out, x.dtype};
  r.params = add(weights, bias ? cout : 0);
  r.macs_forward = mul(per_output, product(out));
  r.gemms = {{product(Shape(out.begin() + 1, out.end())), cout / g, per_output, g, true}};
  // data gradient (transposed convolution) + weight gradient: each as many
  // MACs as the forward pass.
  r.macs_backward = mul(2, r.macs_forward);
  r.macs_input_gradient = r.macs_forward;
  if (a.describe) r.attributes = fmt::format("kernel={} stride={} pad={} dilation={} groups={} bias={}",
                             list_attr(k), list_attr(s), list_attr(p), list_attr(d), g, bias);
  return finish(r, err);
}

bool infer_pool(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (!spatial_input(op, x, err)) return false;
  std::size_t rank = x.shape.size() - 1;
  std::vector<std::int64_t> k, s, p;
  if (!spatial(a, op, "kernel", rank, 1, k, err)) return false;
  if (given(a, op, "stride")) {
    if (!spatial(a, op, "stride", rank, 1, s, err)) return false;
  } else {
    s = k;  // stride defaults to the kernel (non-overlapping windows)
  }
  if (!spatial(a, op, "pad", rank, 0, p, err)) return false;
  bool ceil_mode = flag(a, op, "ceil");
  Shape out{x.shape[0]};
  for (std::size_t i = 0; i < rank; ++i) {
    if (p[i] >= k[i])
      return fail(err, fmt::format("padding {} must be smaller than the kernel {}", list_attr(p),
                                   list_attr(k)), op.param_index("pad"));
    std::int64_t o;
    if (!window(x.shape[i + 1], k[i], s[i], p[i], 1, ceil_mode, o))
      return fail(err, fmt::format("kernel {} is larger than the padded input {}", list_attr(k),
                                   shape_string(spatial_dims(x))), op.param_index("kernel"));
    out.push_back(o);
  }
  r.output = {out, x.dtype};
  if (a.describe) r.attributes = fmt::format("kernel={} stride={} pad={} ceil={}", list_attr(k), list_attr(s),
                             list_attr(p), ceil_mode);
  return finish(r, err);
}

bool infer_global_pool(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (!spatial_input(op, x, err)) return false;
  r.output = {{x.shape[0]}, x.dtype};
  return finish(r, err);
}

bool infer_fc(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (x.shape.empty() || x.shape.size() > 2)
    return fail(err, fmt::format("fc expects [features] or [tokens, features], got {}; flatten it "
                                 "first: fc(flatten(x), n)", shape_string(x.shape)), 0);
  if (!positive(a, op, "features", err)) return false;
  std::int64_t in = x.shape.back(), n = integer(a, op, "features");
  std::int64_t rows = x.shape.size() == 2 ? x.shape[0] : 1;
  bool bias = flag(a, op, "bias");
  Shape out = x.shape;
  out.back() = n;
  r.output = {out, x.dtype};
  r.params = add(mul(in, n), bias ? n : 0);
  r.macs_forward = mul(rows, mul(in, n));
  r.gemms = {{rows, n, in, 1, true}};
  r.macs_backward = mul(2, r.macs_forward);  // data gradient + weight gradient
  r.macs_input_gradient = r.macs_forward;
  if (a.describe) r.attributes = fmt::format("features={} bias={}", n, bias);
  return finish(r, err);
}

// numpy-style broadcasting of leading dimensions; false when incompatible.
bool broadcast(const Shape& a, const Shape& b, Shape& out) {
  std::size_t n = std::max(a.size(), b.size());
  out.assign(n, 1);
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    out[i] = std::max(da, db);
  }
  return true;
}

bool infer_matmul(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo &x = a.tensors[0], &y = a.tensors[1];
  if (x.shape.size() < 2 || y.shape.size() < 2)
    return fail(err, fmt::format("matmul expects two tensors of rank 2 or more, got {} and {}",
                                 shape_string(x.shape), shape_string(y.shape)));
  bool tb = flag(a, op, "transpose_b");
  std::int64_t m = x.shape[x.shape.size() - 2], k = x.shape.back();
  std::int64_t kb = y.shape[y.shape.size() - (tb ? 1 : 2)], n = y.shape[y.shape.size() - (tb ? 2 : 1)];
  if (k != kb)
    return fail(err, fmt::format("matmul: inner dimensions differ: {} x {}{} ({} vs {})",
                                 shape_string(x.shape), shape_string(y.shape),
                                 tb ? " (transposed)" : "", k, kb));
  Shape batch;
  if (!broadcast(Shape(x.shape.begin(), x.shape.end() - 2), Shape(y.shape.begin(), y.shape.end() - 2), batch))
    return fail(err, fmt::format("matmul: batch dimensions of {} and {} do not broadcast",
                                 shape_string(x.shape), shape_string(y.shape)));
  Shape out = batch;
  out.push_back(m);
  out.push_back(n);
  r.output = {out, x.dtype};
  r.macs_forward = mul(product(batch), mul(m, mul(k, n)));
  r.gemms = {{m, n, k, product(batch), false}};
  r.macs_backward = mul(2, r.macs_forward);  // gradients of both operands
  if (a.describe) r.attributes = fmt::format("transpose_b={}", tb);
  return finish(r, err);
}

bool infer_same(const OpDef&, const OpArgs& a, OpResult& r, OpError& err) {
  r.output = a.tensors[0];
  return finish(r, err);
}

bool infer_dropout(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  double rate = number(a, op, "rate");
  if (rate < 0 || rate >= 1)
    return fail(err, fmt::format("dropout rate must be in [0, 1), got {}", rate), op.param_index("rate"));
  r.output = a.tensors[0];
  if (a.describe) r.attributes = fmt::format("rate={}", rate);
  return finish(r, err);
}

bool infer_batchnorm(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (x.shape.empty()) return fail(err, "batchnorm expects a tensor with a channel dimension", 0);
  std::int64_t c = x.shape[0];
  bool affine = flag(a, op, "affine");
  r.output = x;
  r.params = affine ? mul(2, c) : 0;  // scale (gamma) and shift (beta)
  // Running mean and variance per channel, and one counter (Caffe's moving
  // average factor; PyTorch's num_batches_tracked).
  r.state = add(mul(2, c), 1);
  r.macs_forward = x.elements();  // one multiply-add per element (folded scale/shift)
  r.macs_backward = mul(2, x.elements());
  // The scale and shift gradients are sums of dy·x̂ and dy (the first pass);
  // the data gradient is the second.
  r.macs_input_gradient = affine ? x.elements() : r.macs_backward;
  if (a.describe) r.attributes = fmt::format("affine={}", affine);
  return finish(r, err);
}

bool infer_layernorm(const OpDef&, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (x.shape.empty()) return fail(err, "layernorm expects a tensor with a feature dimension", 0);
  r.output = x;
  r.params = mul(2, x.shape.back());
  r.macs_forward = x.elements();
  r.macs_backward = mul(2, x.elements());
  r.macs_input_gradient = x.elements();  // as batchnorm's
  return finish(r, err);
}

// RMSNorm (Zhang and Sennrich 2019; Llama): x / rms(x) · g, a gain and no
// bias over the last dimension; the work of a layer norm's.
bool infer_rmsnorm(const OpDef&, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (x.shape.empty()) return fail(err, "rmsnorm expects a tensor with a feature dimension", 0);
  r.output = x;
  r.params = x.shape.back();
  r.macs_forward = x.elements();
  r.macs_backward = mul(2, x.elements());
  r.macs_input_gradient = x.elements();
  return finish(r, err);
}

// The gated unit of SwiGLU (Shazeer 2020, "GLU Variants Improve
// Transformer"): the last dimension holds [gate, up], one projection of twice
// the hidden width (Megatron-LM's fused layout), and the result is
// silu(gate) · up, half as wide. Elementwise: no MACs.
bool infer_swiglu(const OpDef&, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (x.shape.empty() || x.shape.back() % 2 != 0)
    return fail(err, fmt::format("swiglu splits the last dimension into a gate and a value of equal width; {} "
                                 "has no even last dimension", shape_string(x.shape)), 0);
  r.output = x;
  r.output.shape.back() /= 2;
  return finish(r, err);
}

bool infer_lrn(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (!positive(a, op, "size", err)) return false;
  std::int64_t size = integer(a, op, "size");
  r.output = x;
  r.macs_forward = mul(size, x.elements());       // sum of squares over the window
  r.macs_backward = mul(2, r.macs_forward);        // window sums for the data gradient
  if (a.describe) r.attributes = fmt::format("size={} alpha={} beta={} k={}", size, number(a, op, "alpha"),
                             number(a, op, "beta"), number(a, op, "k"));
  return finish(r, err);
}

bool infer_softmax(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  std::int64_t axis = integer(a, op, "axis"), rank = static_cast<std::int64_t>(x.shape.size());
  if (axis < -rank || axis >= rank)
    return fail(err, fmt::format("axis {} is out of range for {}", axis, shape_string(x.shape)),
                op.param_index("axis"));
  r.output = x;
  if (a.describe) r.attributes = fmt::format("axis={}", axis);
  return finish(r, err);
}

bool infer_concat(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  if (a.tensors.size() < 2)
    return fail(err, fmt::format("concat needs at least two tensors, got {}", a.tensors.size()));
  const Shape& first = a.tensors[0].shape;
  std::int64_t rank = static_cast<std::int64_t>(first.size());
  std::int64_t axis = integer(a, op, "axis");
  if (axis < -rank || axis >= rank)
    return fail(err, fmt::format("axis {} is out of range for {}", axis, shape_string(first)),
                op.param_index("axis"));
  std::size_t ax = static_cast<std::size_t>(axis < 0 ? axis + rank : axis);
  Shape out = first;
  for (std::size_t i = 1; i < a.tensors.size(); ++i) {
    const Shape& s = a.tensors[i].shape;
    bool ok = s.size() == first.size();
    for (std::size_t d = 0; ok && d < s.size(); ++d)
      if (d != ax && s[d] != first[d]) ok = false;
    if (!ok)
      return fail(err, fmt::format("concat along axis {}: shapes {} and {} differ in another "
                                   "dimension", axis, shape_string(first), shape_string(s)));
    out[ax] = add(out[ax], s[ax]);
  }
  r.output = {out, a.tensors[0].dtype};
  if (a.describe) r.attributes = fmt::format("axis={}", axis);
  return finish(r, err);
}

bool infer_binary(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  Shape out;
  if (!broadcast(a.tensors[0].shape, a.tensors[1].shape, out))
    return fail(err, fmt::format("{}: shapes {} and {} do not match (nor broadcast)", op.name,
                                 shape_string(a.tensors[0].shape), shape_string(a.tensors[1].shape)));
  r.output = {out, a.tensors[0].dtype};
  return finish(r, err);
}

bool infer_flatten(const OpDef&, const OpArgs& a, OpResult& r, OpError& err) {
  r.output = {{product(a.tensors[0].shape)}, a.tensors[0].dtype};
  return finish(r, err);
}

bool infer_reshape(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  Shape out = ints(a, op, "shape");
  int infer_at = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer_at >= 0) return fail(err, "reshape: at most one dimension may be -1", op.param_index("shape"));
      infer_at = static_cast<int>(i);
    } else if (out[i] <= 0) {
      return fail(err, fmt::format("reshape: dimension {} must be positive (or -1)", out[i]),
                  op.param_index("shape"));
    } else {
      known = mul(known, out[i]);
    }
  }
  std::int64_t n = x.elements();
  if (infer_at >= 0) {
    if (n % known != 0)
      return fail(err, fmt::format("reshape: cannot reshape {} ({} elements) to {}",
                                   shape_string(x.shape), n, shape_string(out)), op.param_index("shape"));
    out[infer_at] = n / known;
  } else if (known != n) {
    return fail(err, fmt::format("reshape: cannot reshape {} ({} elements) to {} ({} elements)",
                                 shape_string(x.shape), n, shape_string(out), known),
                op.param_index("shape"));
  }
  r.output = {out, x.dtype};
  return finish(r, err);
}

bool infer_embedding(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (x.dtype != DType::i32 && x.dtype != DType::i64)
    return fail(err, fmt::format("embedding expects integer token ids (i32 or i64), got {}",
                                 dtype_name(x.dtype)), 0);
  if (!positive(a, op, "vocab", err) || !positive(a, op, "dim", err)) return false;
  std::int64_t vocab = integer(a, op, "vocab"), dim = integer(a, op, "dim");
  Shape out = x.shape;
  out.push_back(dim);
  r.output = {out, DType::f32};
  r.params = mul(vocab, dim);
  if (a.describe) r.attributes = fmt::format("vocab={} dim={}", vocab, dim);
  return finish(r, err);
}

// LSTM (gates = 4) and GRU (gates = 3), one bias vector per gate (the
// original formulation; oneDNN's layout).
bool infer_recurrent(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err, std::int64_t gates) {
  const TensorInfo& x = a.tensors[0];
  if (x.shape.size() != 2)
    return fail(err, fmt::format("{} expects a sequence [steps, features], got {}", op.name,
                                 shape_string(x.shape)), 0);
  if (!positive(a, op, "hidden", err) || !positive(a, op, "layers", err)) return false;
  std::int64_t t = x.shape[0], d = x.shape[1], h = integer(a, op, "hidden");
  std::int64_t layers = integer(a, op, "layers");
  std::int64_t dirs = flag(a, op, "bidirectional") ? 2 : 1;
  std::int64_t params = 0, macs = 0;
  // The first layer's input weights are the only ones whose data gradient
  // leaves the op; the rest is needed through time for the weight gradients.
  std::int64_t input_gradient = mul(dirs, mul(t, mul(gates, mul(h, d))));
  for (std::int64_t l = 0; l < layers; ++l) {
    std::int64_t in = l == 0 ? d : mul(h, dirs);
    std::int64_t per_dir = mul(gates, mul(h, add(in, h)));  // input and recurrent weights
    params = add(params, mul(dirs, add(per_dir, mul(gates, h))));
    macs = add(macs, mul(dirs, mul(t, per_dir)));
  }
  bool sequences = flag(a, op, "sequences");
  r.output = {sequences ? Shape{t, mul(h, dirs)} : Shape{mul(h, dirs)}, x.dtype};
  r.params = params;
  r.macs_forward = macs;
  r.macs_backward = mul(2, macs);  // data gradient (through time) + weight gradient
  r.macs_input_gradient = input_gradient;
  if (a.describe) r.attributes = fmt::format("hidden={} layers={} bidirectional={} sequences={}", h, layers,
                             dirs == 2, sequences);
  return finish(r, err);
}
bool infer_lstm(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  return infer_recurrent(op, a, r, err, 4);
}
bool infer_gru(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  return infer_recurrent(op, a, r, err, 3);
}

// Multi-head self-attention over [T, D], with H heads of width d = D / H and
// G key-value heads (G = H: multi-head; 1 < G < H: grouped-query, Ainslie et
// al. 2023; G = 1: multi-query, Shazeer 2019): projections Q and the output
// of D·D weights, K and V of D·G·d each (+ biases), scores Q·Kᵀ and the
// weighted sum of values, P·D MACs each over all heads for P query-key pairs.
// P = T² computed, even under a causal mask, unless `flash` (Dao et al. 2022)
// skips the masked blocks: T(T+1)/2. Backward: twice the forward, and flash
// computes the scores once more (it keeps no probabilities).
// Kept for backward: Q, K, V and the context, and the H·T² probabilities
// (flash: one log-sum-exp per head and query, H·T). Without flash the score
// matrix goes through memory: written, read by the softmax, its result
// written and read again forward (4·H·T²); read, its gradient written and
// read, the scores' gradient written and read twice backward (7·H·T²).
// Rotary position embeddings (Su et al. 2021) rotate Q and K in place: no
// parameters, and elementwise work that fused kernels hide (none counted).
bool infer_attention(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (x.shape.size() != 2)
    return fail(err, fmt::format("attention expects a sequence [tokens, features], got {}",
                                 shape_string(x.shape)), 0);
  if (!positive(a, op, "heads", err)) return false;
  std::int64_t t = x.shape[0], d = x.shape[1], heads = integer(a, op, "heads");
  if (d % heads != 0)
    return fail(err, fmt::format("attention: {} heads do not divide the model dimension {}", heads, d),
                op.param_index("heads"));
  std::int64_t kv = heads;
  if (given(a, op, "kv_heads")) {
    if (!positive(a, op, "kv_heads", err)) return false;
    kv = integer(a, op, "kv_heads");
    if (kv > heads || heads % kv != 0)
      return fail(err, fmt::format("kv_heads = {} must divide heads = {} (each key-value head serves a group of "
                                   "query heads)", kv, heads), op.param_index("kv_heads"));
  }
  std::int64_t kvd = mul(kv, d / heads);  // the width of K and of V
  bool bias = flag(a, op, "bias"), causal = flag(a, op, "causal"), flash = flag(a, op, "flash");
  r.output = x;
  r.params = add(mul(2, mul(d, d)), mul(2, mul(d, kvd)));
  if (bias) r.params = add(r.params, add(mul(2, d), mul(2, kvd)));
  std::int64_t projections = mul(t, add(mul(2, mul(d, d)), mul(2, mul(d, kvd))));
  std::int64_t pairs = flash && causal ? mul(t, t + 1) / 2 : mul(t, t);
  std::int64_t scores = mul(pairs, d);  // Q·Kᵀ, and as much again for P·V
  r.macs_forward = add(projections, mul(2, scores));
  r.macs_model = add(projections, mul(2, mul(mul(t, t), d)));
  // Q, K and V, the scores and P·V per head, the output projection. (Flash
  // attention's causal half is one product of half the keys.)
  std::int64_t keys = flash && causal ? (t + 1) / 2 : t, head = d / heads;
  r.gemms = {{t, add(d, mul(2, kvd)), d, 1, true}, {t, keys, head, heads, false},
             {t, head, keys, heads, false}, {t, d, d, 1, true}};
  r.macs_backward = mul(2, r.macs_forward);
  if (flash) r.macs_backward = add(r.macs_backward, scores);
  // The Q, K and V projections' data gradients reach the input; the output
  // projection's and the scores' are needed for the weights.
  r.macs_input_gradient = mul(t, add(mul(d, d), mul(2, mul(d, kvd))));
  r.kept = add(mul(2, mul(t, d)), mul(2, mul(t, kvd)));
  r.kept = add(r.kept, flash ? mul(heads, t) : mul(heads, mul(t, t)));
  if (!flash) {
    r.scratch_forward = mul(4, mul(heads, mul(t, t)));
    r.scratch_backward = mul(7, mul(heads, mul(t, t)));
  }
  if (a.describe) {
    r.attributes = fmt::format("heads={}", heads);
    if (kv != heads) r.attributes += fmt::format(" kv_heads={}", kv);
    r.attributes += fmt::format(" causal={} bias={}", causal, bias);
    if (flag(a, op, "rotary")) r.attributes += " rotary=true";
    if (flash) r.attributes += " flash=true";
  }
  return finish(r, err);
}

// A language model's output layer: logits over the vocabulary for every
// position, [T, D] -> [T, vocab], without bias; `tied` shares the token
// embedding's weights (GPT-2, GPT-3), so it has no parameters of its own.
// The cross-entropy loss reads the logits once more (softmax and the target's
// log-probability, fused).
bool infer_lm_head(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (x.shape.empty())
    return fail(err, fmt::format("lm_head expects hidden states [tokens, features], got {}", shape_string(x.shape)),
                0);
  if (!positive(a, op, "vocab", err)) return false;
  std::int64_t vocab = integer(a, op, "vocab"), d = x.shape.back();
  std::int64_t rows = x.elements() / std::max<std::int64_t>(d, 1);
  r.output = x;
  r.output.shape.back() = vocab;
  bool tied = flag(a, op, "tied");
  r.params = tied ? 0 : mul(d, vocab);
  r.macs_forward = mul(rows, mul(d, vocab));
  r.gemms = {{rows, vocab, d, 1, true}};
  r.macs_backward = mul(2, r.macs_forward);
  r.macs_input_gradient = r.macs_forward;
  if (tied) r.active_params = 0;
  r.scratch_forward = r.output.elements();
  if (a.describe) r.attributes = fmt::format("vocab={} tied={}", vocab, tied);
  return finish(r, err);
}

// A mixture of experts in place of a feed-forward network (Shazeer et al.
// 2017; Switch, Fedus et al. 2021; Mixtral, Jiang et al. 2024): a router
// (D·E weights) sends each of T tokens to its top k of E experts, each an MLP
// of hidden width F (gated: SwiGLU's three D·F projections; else two). An
// expert takes at most C = ceil(capacity · T · k / E) tokens and is computed
// for C (padding included): E·C routed tokens. Kept for backward: the routed
// tokens, their hidden activations (gated: gate, up and their product) and
// the router's probabilities; the routed tokens and the experts' results go
// through memory once each way (dispatch and combine).
bool infer_moe(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (x.shape.size() != 2)
    return fail(err, fmt::format("moe expects a sequence [tokens, features], got {}", shape_string(x.shape)), 0);
  if (!positive(a, op, "experts", err) || !positive(a, op, "top_k", err) || !positive(a, op, "hidden", err))
    return false;
  std::int64_t t = x.shape[0], d = x.shape[1];
  std::int64_t e = integer(a, op, "experts"), k = integer(a, op, "top_k"), f = integer(a, op, "hidden");
  double capacity = number(a, op, "capacity");
  if (k > e)
    return fail(err, fmt::format("top_k = {} is more than the {} experts", k, e), op.param_index("top_k"));
  if (!(capacity > 0) || capacity > 1e6)
    return fail(err, fmt::format("capacity must be a positive factor, got {}", capacity), op.param_index("capacity"));
  bool gated = flag(a, op, "gated");
  std::int64_t m = gated ? 3 : 2;
  double per_expert = std::ceil(capacity * static_cast<double>(t) * static_cast<double>(k) / static_cast<double>(e));
  if (per_expert > 1e15) return fail(err, "moe: the experts' capacity is too large to represent");
  std::int64_t routed = mul(e, static_cast<std::int64_t>(per_expert));
  std::int64_t expert = mul(m, mul(d, f));  // one expert's weights
  r.output = x;
  r.params = add(mul(d, e), mul(e, expert));
  r.active_params = add(mul(d, e), mul(k, expert));
  r.macs_forward = add(mul(t, mul(d, e)), mul(routed, expert));
  r.macs_model = add(mul(t, mul(d, e)), mul(mul(t, k), expert));
  r.macs_backward = mul(2, r.macs_forward);
  r.macs_input_gradient = add(mul(t, mul(d, e)), mul(routed, mul(m - 1, mul(d, f))));
  r.kept = add(mul(routed, add(d, mul(m, f))), mul(t, e));
  r.scratch_forward = mul(2, mul(2, mul(routed, d)));
  r.scratch_backward = r.scratch_forward;
  if (a.describe)
    r.attributes = fmt::format("experts={} top_k={} hidden={} capacity={} gated={}", e, k, f, capacity, gated);
  return finish(r, err);
}

// Learned absolute positions (BERT, GPT-2): a [max_length, D] table whose
// first T rows are added to the sequence.
bool infer_position_embedding(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  if (x.shape.size() != 2)
    return fail(err, fmt::format("position_embedding expects a sequence [tokens, features], got {}",
                                 shape_string(x.shape)), 0);
  if (!positive(a, op, "max_length", err)) return false;
  std::int64_t max_length = integer(a, op, "max_length");
  if (x.shape[0] > max_length)
    return fail(err, fmt::format("a sequence of {} tokens is longer than max_length = {}", x.shape[0], max_length),
                op.param_index("max_length"));
  r.output = x;
  r.params = mul(max_length, x.shape[1]);
  if (a.describe) r.attributes = fmt::format("max_length={}", max_length);
  return finish(r, err);
}

// One slice along an axis, which disappears: select(x, 0) of [T, D] is the
// first token's [D] (BERT's pooler reads the [CLS] token).
bool infer_select(const OpDef& op, const OpArgs& a, OpResult& r, OpError& err) {
  const TensorInfo& x = a.tensors[0];
  std::int64_t rank = static_cast<std::int64_t>(x.shape.size());
  std::int64_t axis = integer(a, op, "axis"), index = integer(a, op, "index");
  if (rank < 2)
    return fail(err, fmt::format("select needs a tensor of rank 2 or more, got {}", shape_string(x.shape)), 0);
  if (axis < -rank || axis >= rank)
    return fail(err, fmt::format("axis {} is out of range for {}", axis, shape_string(x.shape)), op.param_index("axis"));
  std::size_t ax = static_cast<std::size_t>(axis < 0 ? axis + rank : axis);
  std::int64_t n = x.shape[ax];
  if (index < -n || index >= n)
    return fail(err, fmt::format("index {} is out of range for a dimension of {}", index, n), op.param_index("index"));
  Shape out = x.shape;
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(ax));
  r.output = {out, x.dtype};
  if (a.describe) r.attributes = fmt::format("index={} axis={}", index, axis);
  return finish(r, err);
}

using P = OpParam;
constexpr ArgType T = ArgType::tensor, Ts = ArgType::tensors, I = ArgType::integer,
                  Is = ArgType::integers, B = ArgType::boolean, N = ArgType::number;

const std::vector<OpDef>& table() {
  static const std::vector<OpDef> ops = {
      {"conv", OpClass::conv,
       {P{"x", T, true, ""}, P{"channels", I, true, ""}, P{"kernel", Is, true, ""},
        P{"stride", Is, false, "1"}, P{"pad", Is, false, "0"}, P{"dilation", Is, false, "1"},
        P{"groups", I, false, "1"}, P{"bias", B, false, "true"}},
       infer_conv, "convolution over [C, spatial...] (1-D, 2-D, 3-D)"},
      {"maxpool", OpClass::pooling,
       {P{"x", T, true, ""}, P{"kernel", Is, true, ""}, P{"stride", Is, false, "kernel"},
        P{"pad", Is, false, "0"}, P{"ceil", B, false, "false"}},
       infer_pool, "max pooling"},
      {"avgpool", OpClass::pooling,
       {P{"x", T, true, ""}, P{"kernel", Is, true, ""}, P{"stride", Is, false, "kernel"},
        P{"pad", Is, false, "0"}, P{"ceil", B, false, "false"}},
       infer_pool, "average pooling"},
      {"global_avgpool", OpClass::pooling, {P{"x", T, true, ""}}, infer_global_pool,
       "average over all spatial positions: [C, ...] -> [C]"},
      {"fc", OpClass::matmul,
       {P{"x", T, true, ""}, P{"features", I, true, ""}, P{"bias", B, false, "true"}}, infer_fc,
       "fully connected (linear) layer over the last dimension"},
      {"matmul", OpClass::matmul,
       {P{"a", T, true, ""}, P{"b", T, true, ""}, P{"transpose_b", B, false, "false"}},
       infer_matmul, "batched matrix product of two tensors"},
      {"relu", OpClass::elementwise, {P{"x", T, true, ""}}, infer_same, "max(x, 0)"},
      {"sigmoid", OpClass::elementwise, {P{"x", T, true, ""}}, infer_same, "1 / (1 + e^-x)"},
      {"tanh", OpClass::elementwise, {P{"x", T, true, ""}}, infer_same, "hyperbolic tangent"},
      {"gelu", OpClass::elementwise, {P{"x", T, true, ""}}, infer_same, "Gaussian error linear unit"},
      {"silu", OpClass::elementwise, {P{"x", T, true, ""}}, infer_same, "x · sigmoid(x) (swish)"},
      {"swiglu", OpClass::elementwise, {P{"x", T, true, ""}}, infer_swiglu,
       "silu(gate) · up over the last dimension's two halves [gate, up]"},
      {"dropout", OpClass::elementwise, {P{"x", T, true, ""}, P{"rate", N, false, "0.5"}},
       infer_dropout, "dropout (identity at inference)"},
      {"batchnorm", OpClass::normalization, {P{"x", T, true, ""}, P{"affine", B, false, "true"}},
       infer_batchnorm, "batch normalisation over the channel dimension"},
      {"layernorm", OpClass::normalization, {P{"x", T, true, ""}}, infer_layernorm,
       "layer normalisation over the last dimension"},
      {"rmsnorm", OpClass::normalization, {P{"x", T, true, ""}}, infer_rmsnorm,
       "root-mean-square normalisation over the last dimension (a gain, no bias)"},
      {"lrn", OpClass::normalization,
       {P{"x", T, true, ""}, P{"size", I, false, "5"}, P{"alpha", N, false, "0.0001"},
        P{"beta", N, false, "0.75"}, P{"k", N, false, "1"}},
       infer_lrn, "local response normalisation across channels"},
      {"softmax", OpClass::elementwise, {P{"x", T, true, ""}, P{"axis", I, false, "-1"}},
       infer_softmax, "softmax along an axis"},
      {"concat", OpClass::data_movement, {P{"inputs", Ts, true, ""}, P{"axis", I, false, "0"}},
       infer_concat, "concatenation along an axis"},
      {"add", OpClass::elementwise, {P{"a", T, true, ""}, P{"b", T, true, ""}}, infer_binary,
       "elementwise sum (broadcasting)"},
      {"mul", OpClass::elementwise, {P{"a", T, true, ""}, P{"b", T, true, ""}}, infer_binary,
       "elementwise product (broadcasting)"},
      {"flatten", OpClass::data_movement, {P{"x", T, true, ""}}, infer_flatten,
       "all dimensions into one", true},
      {"reshape", OpClass::data_movement, {P{"x", T, true, ""}, P{"shape", Is, true, ""}},
       infer_reshape, "new shape with the same number of elements (one -1 is inferred)", true},
      {"embedding", OpClass::embedding,
       {P{"x", T, true, ""}, P{"vocab", I, true, ""}, P{"dim", I, true, ""}}, infer_embedding,
       "lookup table: integer ids [T] -> [T, dim]"},
      {"position_embedding", OpClass::embedding, {P{"x", T, true, ""}, P{"max_length", I, true, ""}},
       infer_position_embedding, "learned positions added to a sequence [T, D]"},
      {"select", OpClass::data_movement,
       {P{"x", T, true, ""}, P{"index", I, true, ""}, P{"axis", I, false, "0"}}, infer_select,
       "one slice along an axis, which is removed: [T, D] -> [D]"},
      {"lstm", OpClass::recurrent,
       {P{"x", T, true, ""}, P{"hidden", I, true, ""}, P{"layers", I, false, "1"},
        P{"bidirectional", B, false, "false"}, P{"sequences", B, false, "true"}},
       infer_lstm, "long short-term memory over [T, D]"},
      {"gru", OpClass::recurrent,
       {P{"x", T, true, ""}, P{"hidden", I, true, ""}, P{"layers", I, false, "1"},
        P{"bidirectional", B, false, "false"}, P{"sequences", B, false, "true"}},
       infer_gru, "gated recurrent unit over [T, D]"},
      {"attention", OpClass::attention,
       {P{"x", T, true, ""}, P{"heads", I, true, ""}, P{"causal", B, false, "false"},
        P{"bias", B, false, "true"}, P{"kv_heads", I, false, "heads"}, P{"rotary", B, false, "false"},
        P{"flash", B, false, "false"}},
       infer_attention, "multi-head self-attention over [T, D] (grouped-query with kv_heads)"},
      {"lm_head", OpClass::matmul, {P{"x", T, true, ""}, P{"vocab", I, true, ""}, P{"tied", B, false, "false"}},
       infer_lm_head, "a language model's logits over the vocabulary, with its cross-entropy loss"},
      {"moe", OpClass::matmul,
       {P{"x", T, true, ""}, P{"experts", I, true, ""}, P{"top_k", I, true, ""}, P{"hidden", I, true, ""},
        P{"capacity", N, false, "1"}, P{"gated", B, false, "true"}},
       infer_moe, "a mixture of experts: each token through its top_k of `experts` MLPs"},
  };
  return ops;
}

}  // namespace

const OpDef* find_op(std::string_view name) {
  for (const OpDef& op : table())
    if (op.name == name) return &op;
  return nullptr;
}

std::span<const OpDef> all_ops() { return table(); }

OpArgs default_args(const OpDef& op) {
  OpArgs args;
  args.attrs.resize(op.params.size());
  for (std::size_t i = 0; i < op.params.size(); ++i) {
    const OpParam& p = op.params[i];
    OpArgs::Attr& a = args.attrs[i];
    std::string_view d = p.default_value;
    if (d.empty() || d == "kernel" || d == "heads") continue;  // required, or derived by the shape rule
    if (p.type == ArgType::boolean) {
      a.flag = d == "true";
    } else if (p.type == ArgType::number) {
      a.number = std::strtod(std::string(d).c_str(), nullptr);
    } else if (p.type == ArgType::integer || p.type == ArgType::integers) {
      std::int64_t v = 0;
      std::from_chars(d.data(), d.data() + d.size(), v);
      a.ints = {v};
    }
  }
  return args;
}

bool apply_op(std::string_view name, const std::vector<TensorInfo>& inputs,
              const std::vector<NamedAttr>& attrs, OpResult& out, OpError& err) {
  const OpDef* op = find_op(name);
  if (!op) return fail(err, fmt::format("unknown op '{}'", name));
  OpArgs args = default_args(*op);
  args.tensors = inputs;
  args.describe = true;
  for (const NamedAttr& na : attrs) {
    int i = op->param_index(na.name);
    if (i < 0) return fail(err, fmt::format("op '{}' has no parameter '{}'", name, na.name));
    OpArgs::Attr& a = args.attrs[i];
    a.given = true;
    a.ints = na.ints;
    a.number = na.number;
    a.flag = na.flag;
  }
  return op->infer(*op, args, out, err);
}

}  // namespace dlc::compiler
