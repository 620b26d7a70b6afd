#include "runtime/cpu/reference.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace dlc::runtime::reference {

namespace {

using Dims = std::vector<std::int64_t>;

void require(bool ok, const char* what) {
  if (!ok) throw std::logic_error(std::string("reference: ") + what);
}

std::int64_t product(const Dims& dims, std::size_t from, std::size_t to) {
  std::int64_t n = 1;
  for (std::size_t i = from; i < to; ++i) n *= dims[i];
  return n;
}

// Writes an output from its double accumulators, with the given dims.
void store(Tensor& out, Dims dims, const std::vector<double>& values) {
  out.dims = std::move(dims);
  require(out.size() == static_cast<std::int64_t>(values.size()), "output size");
  out.data.assign(values.begin(), values.end());
}

void require_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  require(a.dims == b.dims && a.data.size() == b.data.size(), what);
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// ---- conv and pooling geometry ----
// Up to 3 spatial dims; the missing ones have size 1, kernel 1, stride 1, no
// padding and no dilation, so one set of loops serves 1D to 3D.
struct Geometry {
  std::int64_t n = 0, src_c = 0, dst_c = 0;
  std::int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, kernel[3] = {1, 1, 1}, stride[3] = {1, 1, 1},
               pad[3] = {0, 0, 0}, dilation[3] = {1, 1, 1};
};

Geometry geometry(const Tensor& src, const Tensor& dst, const Dims& kernel, const Dims& stride, const Dims& pad_l,
                  const Dims& pad_r, const Dims* dilation) {
  std::size_t rank = src.dims.size();
  require(rank >= 3 && rank <= 5 && dst.dims.size() == rank, "conv/pooling tensors are [N, C, 1 to 3 spatial dims]");
  std::size_t spatial = rank - 2;
  require(kernel.size() == spatial && stride.size() == spatial && pad_l.size() == spatial &&
              pad_r.size() == spatial && (!dilation || dilation->size() == spatial),
          "conv/pooling parameters need one value per spatial dim");
  require(src.dims[0] == dst.dims[0], "batch sizes differ");
  Geometry g;
  g.n = src.dims[0];
  g.src_c = src.dims[1];
  g.dst_c = dst.dims[1];
  std::size_t first = 3 - spatial;  // right-align: a 1D case uses the last slot
  for (std::size_t i = 0; i < spatial; ++i) {
    std::size_t s = first + i;
    g.in[s] = src.dims[2 + i];
    g.out[s] = dst.dims[2 + i];
    g.kernel[s] = kernel[i];
    g.stride[s] = stride[i];
    g.pad[s] = pad_l[i];
    g.dilation[s] = dilation ? (*dilation)[i] : 1;
    require(g.kernel[s] > 0 && g.stride[s] > 0 && g.dilation[s] > 0 && pad_l[i] >= 0 && pad_r[i] >= 0,
            "kernel, stride and dilation must be positive and padding non-negative");
    // The last window must end inside the padded input.
    std::int64_t last = (g.out[s] - 1) * g.stride[s] - g.pad[s] + (g.kernel[s] - 1) * g.dilation[s];
    require(last <= g.in[s] - 1 + pad_r[i], "output size does not fit input, kernel, stride and padding");
  }
  return g;
}

// Calls f(dst_index, src_index, weight_index) for every multiply of a convolution
// whose input position is inside the input (padding contributes nothing).
template <class F>
void for_each_conv_tap(const Geometry& g, std::int64_t groups, F f) {
  std::int64_t cin_g = g.src_c / groups, cout_g = g.dst_c / groups;
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t oc = 0; oc < g.dst_c; ++oc)
      for (std::int64_t o0 = 0; o0 < g.out[0]; ++o0)
        for (std::int64_t o1 = 0; o1 < g.out[1]; ++o1)
          for (std::int64_t o2 = 0; o2 < g.out[2]; ++o2) {
            std::int64_t dst_i = (((n * g.dst_c + oc) * g.out[0] + o0) * g.out[1] + o1) * g.out[2] + o2;
            std::int64_t group = oc / cout_g;
            for (std::int64_t ic = 0; ic < cin_g; ++ic)
              for (std::int64_t k0 = 0; k0 < g.kernel[0]; ++k0)
                for (std::int64_t k1 = 0; k1 < g.kernel[1]; ++k1)
                  for (std::int64_t k2 = 0; k2 < g.kernel[2]; ++k2) {
                    std::int64_t i0 = o0 * g.stride[0] - g.pad[0] + k0 * g.dilation[0];
                    std::int64_t i1 = o1 * g.stride[1] - g.pad[1] + k1 * g.dilation[1];
                    std::int64_t i2 = o2 * g.stride[2] - g.pad[2] + k2 * g.dilation[2];
                    if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
                    std::int64_t c = group * cin_g + ic;
                    std::int64_t src_i = (((n * g.src_c + c) * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2;
                    std::int64_t w_i = (((oc * cin_g + ic) * g.kernel[0] + k0) * g.kernel[1] + k1) * g.kernel[2] + k2;
                    f(dst_i, src_i, w_i);
                  }
          }
}

Geometry conv_geometry(const Tensor& src, const Tensor& weights, const Tensor& dst, const ConvParams& p) {
  Geometry g = geometry(src, dst, p.kernel, p.stride, p.pad_l, p.pad_r, &p.dilation);
  require(p.groups > 0 && g.src_c % p.groups == 0 && g.dst_c % p.groups == 0, "groups must divide the channels");
  Dims w = {g.dst_c, g.src_c / p.groups};
  w.insert(w.end(), p.kernel.begin(), p.kernel.end());
  require(weights.dims == w, "conv weights must be [Cout, Cin/groups, kernel...]");
  return g;
}

// Calls f(dst_index, src_indices) for every pooling window, with the indices of
// the inputs inside it in window order (row-major over the kernel).
template <class F>
void for_each_pool_window(const Geometry& g, F f) {
  require(g.src_c == g.dst_c, "pooling keeps the channels");
  std::vector<std::int64_t> inside;
  for (std::int64_t n = 0; n < g.n; ++n)
    for (std::int64_t c = 0; c < g.src_c; ++c)
      for (std::int64_t o0 = 0; o0 < g.out[0]; ++o0)
        for (std::int64_t o1 = 0; o1 < g.out[1]; ++o1)
          for (std::int64_t o2 = 0; o2 < g.out[2]; ++o2) {
            inside.clear();
            for (std::int64_t k0 = 0; k0 < g.kernel[0]; ++k0)
              for (std::int64_t k1 = 0; k1 < g.kernel[1]; ++k1)
                for (std::int64_t k2 = 0; k2 < g.kernel[2]; ++k2) {
                  std::int64_t i0 = o0 * g.stride[0] - g.pad[0] + k0;
                  std::int64_t i1 = o1 * g.stride[1] - g.pad[1] + k1;
                  std::int64_t i2 = o2 * g.stride[2] - g.pad[2] + k2;
                  if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1] || i2 < 0 || i2 >= g.in[2]) continue;
                  inside.push_back((((n * g.src_c + c) * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2);
                }
            f((((n * g.dst_c + c) * g.out[0] + o0) * g.out[1] + o1) * g.out[2] + o2, inside);
          }
}

Geometry pool_geometry(const Tensor& src, const Tensor& dst, const PoolParams& p) {
  return geometry(src, dst, p.kernel, p.stride, p.pad_l, p.pad_r, nullptr);
}

// Splits dims around an axis: outer · dims[axis] · inner.
struct AxisSplit {
  std::int64_t outer, size, inner;
};
AxisSplit split_at(const Dims& dims, int axis) {
  int rank = static_cast<int>(dims.size());
  if (axis < 0) axis += rank;
  require(axis >= 0 && axis < rank, "axis out of range");
  return {product(dims, 0, axis), dims[axis], product(dims, axis + 1, dims.size())};
}

}  // namespace

std::int64_t Tensor::size() const { return product(dims, 0, dims.size()); }

Tensor make(std::vector<std::int64_t> dims) {
  Tensor t;
  t.dims = std::move(dims);
  t.data.assign(t.size(), 0.0f);
  return t;
}

// ---- convolution ----

void conv_forward(const Tensor& src, const Tensor& weights, const Tensor* bias, const ConvParams& p, Tensor& dst) {
  Geometry g = conv_geometry(src, weights, dst, p);
  std::vector<double> acc(dst.size(), 0.0);
  if (bias) {
    require(bias->dims == Dims{g.dst_c}, "conv bias must be [Cout]");
    std::int64_t spatial = g.out[0] * g.out[1] * g.out[2];
    for (std::int64_t i = 0; i < dst.size(); ++i) acc[i] = bias->data[(i / spatial) % g.dst_c];
  }
  for_each_conv_tap(g, p.groups, [&](std::int64_t d, std::int64_t s, std::int64_t w) {
    acc[d] += double(src.data[s]) * weights.data[w];
  });
  store(dst, dst.dims, acc);
}

void conv_backward_data(const Tensor& diff_dst, const Tensor& weights, const ConvParams& p, Tensor& diff_src) {
  Geometry g = conv_geometry(diff_src, weights, diff_dst, p);
  std::vector<double> acc(diff_src.size(), 0.0);
  for_each_conv_tap(g, p.groups, [&](std::int64_t d, std::int64_t s, std::int64_t w) {
    acc[s] += double(diff_dst.data[d]) * weights.data[w];
  });
  store(diff_src, diff_src.dims, acc);
}

void conv_backward_weights(const Tensor& src, const Tensor& diff_dst, const ConvParams& p, Tensor& diff_weights,
                           Tensor* diff_bias) {
  require(src.dims.size() >= 3 && diff_dst.dims.size() >= 3 && p.groups > 0, "conv tensors are [N, C, spatial...]");
  Dims w = {diff_dst.dims[1], src.dims[1] / p.groups};
  w.insert(w.end(), p.kernel.begin(), p.kernel.end());
  Tensor shape = make(w);
  Geometry g = conv_geometry(src, shape, diff_dst, p);
  std::vector<double> acc(shape.size(), 0.0);
  for_each_conv_tap(g, p.groups, [&](std::int64_t d, std::int64_t s, std::int64_t wi) {
    acc[wi] += double(src.data[s]) * diff_dst.data[d];
  });
  store(diff_weights, w, acc);
  if (diff_bias) {
    std::vector<double> b(g.dst_c, 0.0);
    std::int64_t spatial = g.out[0] * g.out[1] * g.out[2];
    for (std::int64_t i = 0; i < diff_dst.size(); ++i) b[(i / spatial) % g.dst_c] += diff_dst.data[i];
    store(*diff_bias, {g.dst_c}, b);
  }
}

// ---- pooling ----

void max_pool_forward(const Tensor& src, const PoolParams& p, Tensor& dst) {
  Geometry g = pool_geometry(src, dst, p);
  std::vector<double> out(dst.size(), 0.0);
  for_each_pool_window(g, [&](std::int64_t d, const std::vector<std::int64_t>& inside) {
    if (inside.empty()) return;
    double best = src.data[inside[0]];
    for (std::int64_t s : inside) best = std::max(best, double(src.data[s]));
    out[d] = best;
  });
  store(dst, dst.dims, out);
}

void max_pool_backward(const Tensor& src, const Tensor& diff_dst, const PoolParams& p, Tensor& diff_src) {
  require_same_shape(src, diff_src, "max pooling: diff_src must have src's dims");
  Geometry g = pool_geometry(src, diff_dst, p);
  std::vector<double> acc(src.size(), 0.0);
  for_each_pool_window(g, [&](std::int64_t d, const std::vector<std::int64_t>& inside) {
    if (inside.empty()) return;
    std::int64_t first_max = inside[0];
    for (std::int64_t s : inside)
      if (src.data[s] > src.data[first_max]) first_max = s;  // strict: ties keep the first
    acc[first_max] += diff_dst.data[d];
  });
  store(diff_src, diff_src.dims, acc);
}

void avg_pool_forward(const Tensor& src, const PoolParams& p, Tensor& dst) {
  Geometry g = pool_geometry(src, dst, p);
  std::vector<double> out(dst.size(), 0.0);
  for_each_pool_window(g, [&](std::int64_t d, const std::vector<std::int64_t>& inside) {
    if (inside.empty()) return;
    double sum = 0;
    for (std::int64_t s : inside) sum += src.data[s];
    out[d] = sum / static_cast<double>(inside.size());
  });
  store(dst, dst.dims, out);
}

void avg_pool_backward(const Tensor& diff_dst, const PoolParams& p, Tensor& diff_src) {
  Geometry g = pool_geometry(diff_src, diff_dst, p);
  std::vector<double> acc(diff_src.size(), 0.0);
  for_each_pool_window(g, [&](std::int64_t d, const std::vector<std::int64_t>& inside) {
    for (std::int64_t s : inside) acc[s] += diff_dst.data[d] / static_cast<double>(inside.size());
  });
  store(diff_src, diff_src.dims, acc);
}

// ---- inner product ----

void inner_product_forward(const Tensor& src, const Tensor& weights, const Tensor* bias, Tensor& dst) {
  require(src.dims.size() >= 2 && weights.dims.size() == src.dims.size() &&
              std::equal(src.dims.begin() + 1, src.dims.end(), weights.dims.begin() + 1),
          "inner product: weights [O, K...] must have src's trailing dims");
  std::int64_t n = src.dims[0], o = weights.dims[0], k = product(src.dims, 1, src.dims.size());
  require(!bias || bias->dims == Dims{o}, "inner product bias must be [O]");
  std::vector<double> out(n * o, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < o; ++j) {
      double sum = bias ? bias->data[j] : 0.0;
      for (std::int64_t x = 0; x < k; ++x) sum += double(src.data[i * k + x]) * weights.data[j * k + x];
      out[i * o + j] = sum;
    }
  store(dst, {n, o}, out);
}

void inner_product_backward_data(const Tensor& diff_dst, const Tensor& weights, Tensor& diff_src) {
  require(diff_dst.dims.size() == 2 && weights.dims.size() >= 2 && diff_dst.dims[1] == weights.dims[0],
          "inner product: diff_dst [N, O], weights [O, K...]");
  std::int64_t n = diff_dst.dims[0], o = weights.dims[0], k = product(weights.dims, 1, weights.dims.size());
  std::vector<double> acc(n * k, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t x = 0; x < k; ++x)
      for (std::int64_t j = 0; j < o; ++j) acc[i * k + x] += double(diff_dst.data[i * o + j]) * weights.data[j * k + x];
  Dims dims = weights.dims;
  dims[0] = n;
  store(diff_src, dims, acc);
}

void inner_product_backward_weights(const Tensor& src, const Tensor& diff_dst, Tensor& diff_weights,
                                    Tensor* diff_bias) {
  require(src.dims.size() >= 2 && diff_dst.dims.size() == 2 && diff_dst.dims[0] == src.dims[0],
          "inner product: src [N, K...], diff_dst [N, O]");
  std::int64_t n = src.dims[0], o = diff_dst.dims[1], k = product(src.dims, 1, src.dims.size());
  std::vector<double> acc(o * k, 0.0), bias(o, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < o; ++j) {
      bias[j] += diff_dst.data[i * o + j];
      for (std::int64_t x = 0; x < k; ++x) acc[j * k + x] += double(diff_dst.data[i * o + j]) * src.data[i * k + x];
    }
  Dims dims = src.dims;
  dims[0] = o;
  store(diff_weights, dims, acc);
  if (diff_bias) store(*diff_bias, {o}, bias);
}

// ---- matmul ----

namespace {
// The broadcast batch: for each batch index of dst, the batch index of a and of b.
struct Batches {
  Dims dims;  // dst's batch dims
  std::vector<std::int64_t> a, b;
};
Batches broadcast(const Dims& a, const Dims& b) {
  std::size_t ra = a.size() - 2, rb = b.size() - 2, r = std::max(ra, rb);
  Batches out;
  out.dims.assign(r, 1);
  auto dim = [r](const Dims& d, std::size_t rank, std::size_t i) { return i + rank < r ? 1 : d[i + rank - r]; };
  for (std::size_t i = 0; i < r; ++i) {
    std::int64_t x = dim(a, ra, i), y = dim(b, rb, i);
    require(x == y || x == 1 || y == 1, "matmul batch dims do not broadcast");
    out.dims[i] = std::max(x, y);
  }
  std::int64_t count = product(out.dims, 0, r);
  for (std::int64_t flat = 0; flat < count; ++flat) {
    // Digits of flat in dst's batch dims, re-read in a's and b's (a dim of 1 repeats).
    std::int64_t rest = flat, ia = 0, ib = 0, stride_a = 1, stride_b = 1;
    for (std::size_t i = r; i-- > 0;) {
      std::int64_t digit = rest % out.dims[i];
      rest /= out.dims[i];
      std::int64_t x = dim(a, ra, i), y = dim(b, rb, i);
      ia += (x == 1 ? 0 : digit) * stride_a;
      ib += (y == 1 ? 0 : digit) * stride_b;
      stride_a *= x;
      stride_b *= y;
    }
    out.a.push_back(ia);
    out.b.push_back(ib);
  }
  return out;
}

struct MatmulShape {
  std::int64_t m, k, n;
  Batches batches;
  // b[k][n] of batch ib, in either layout.
  std::int64_t b_index(std::int64_t ib, std::int64_t kk, std::int64_t nn, bool transpose_b) const {
    return ib * k * n + (transpose_b ? nn * k + kk : kk * n + nn);
  }
};
MatmulShape matmul_shape(const Tensor& a, const Tensor& b, bool transpose_b) {
  require(a.dims.size() >= 2 && b.dims.size() >= 2, "matmul operands need at least 2 dims");
  std::int64_t m = a.dims[a.dims.size() - 2], k = a.dims.back();
  std::int64_t bk = b.dims[b.dims.size() - (transpose_b ? 1 : 2)], n = b.dims[b.dims.size() - (transpose_b ? 2 : 1)];
  require(k == bk, "matmul inner dims differ");
  return {m, k, n, broadcast(a.dims, b.dims)};
}
}  // namespace

void matmul_forward(const Tensor& a, const Tensor& b, bool transpose_b, Tensor& dst) {
  MatmulShape s = matmul_shape(a, b, transpose_b);
  std::int64_t count = static_cast<std::int64_t>(s.batches.a.size());
  std::vector<double> out(count * s.m * s.n, 0.0);
  for (std::int64_t batch = 0; batch < count; ++batch)
    for (std::int64_t i = 0; i < s.m; ++i)
      for (std::int64_t j = 0; j < s.n; ++j) {
        double sum = 0;
        for (std::int64_t x = 0; x < s.k; ++x)
          sum += double(a.data[(s.batches.a[batch] * s.m + i) * s.k + x]) *
                 b.data[s.b_index(s.batches.b[batch], x, j, transpose_b)];
        out[(batch * s.m + i) * s.n + j] = sum;
      }
  Dims dims = s.batches.dims;
  dims.push_back(s.m);
  dims.push_back(s.n);
  store(dst, dims, out);
}

void matmul_backward(const Tensor& a, const Tensor& b, bool transpose_b, const Tensor& diff_dst, Tensor& diff_a,
                     Tensor& diff_b) {
  MatmulShape s = matmul_shape(a, b, transpose_b);
  std::int64_t count = static_cast<std::int64_t>(s.batches.a.size());
  require(diff_dst.size() == count * s.m * s.n, "matmul diff_dst size");
  std::vector<double> da(a.size(), 0.0), db(b.size(), 0.0);
  for (std::int64_t batch = 0; batch < count; ++batch)
    for (std::int64_t i = 0; i < s.m; ++i)
      for (std::int64_t j = 0; j < s.n; ++j) {
        double dy = diff_dst.data[(batch * s.m + i) * s.n + j];
        for (std::int64_t x = 0; x < s.k; ++x) {
          std::int64_t ai = (s.batches.a[batch] * s.m + i) * s.k + x;
          std::int64_t bi = s.b_index(s.batches.b[batch], x, j, transpose_b);
          da[ai] += dy * b.data[bi];
          db[bi] += dy * a.data[ai];
        }
      }
  store(diff_a, a.dims, da);
  store(diff_b, b.dims, db);
}

// ---- elementwise ----

namespace {
double eltwise(Eltwise kind, double x) {
  switch (kind) {
    case Eltwise::relu: return x > 0 ? x : 0;
    case Eltwise::sigmoid: return sigmoid(x);
    case Eltwise::tanh: return std::tanh(x);
    case Eltwise::gelu_erf: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case Eltwise::silu: return x * sigmoid(x);
  }
  return 0;
}
double eltwise_derivative(Eltwise kind, double x) {
  const double pi = 3.14159265358979323846;
  switch (kind) {
    case Eltwise::relu: return x > 0 ? 1 : 0;
    case Eltwise::sigmoid: return sigmoid(x) * (1 - sigmoid(x));
    case Eltwise::tanh: return 1 - std::tanh(x) * std::tanh(x);
    case Eltwise::gelu_erf:
      return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2 * pi);
    case Eltwise::silu: return sigmoid(x) * (1 + x * (1 - sigmoid(x)));
  }
  return 0;
}
}  // namespace

void eltwise_forward(Eltwise kind, const Tensor& src, Tensor& dst) {
  std::vector<double> out(src.size());
  for (std::int64_t i = 0; i < src.size(); ++i) out[i] = eltwise(kind, src.data[i]);
  store(dst, src.dims, out);
}

void eltwise_backward(Eltwise kind, const Tensor& src, const Tensor& diff_dst, Tensor& diff_src) {
  require_same_shape(src, diff_dst, "eltwise: src and diff_dst differ");
  std::vector<double> out(src.size());
  for (std::int64_t i = 0; i < src.size(); ++i) out[i] = diff_dst.data[i] * eltwise_derivative(kind, src.data[i]);
  store(diff_src, src.dims, out);
}

void binary_forward(Binary kind, const Tensor& a, const Tensor& b, Tensor& dst) {
  require_same_shape(a, b, "binary: operands differ in shape");
  std::vector<double> out(a.size());
  for (std::int64_t i = 0; i < a.size(); ++i)
    out[i] = kind == Binary::add ? double(a.data[i]) + b.data[i] : double(a.data[i]) * b.data[i];
  store(dst, a.dims, out);
}

void binary_backward(Binary kind, const Tensor& a, const Tensor& b, const Tensor& diff_dst, Tensor& diff_a,
                     Tensor& diff_b) {
  require_same_shape(a, b, "binary: operands differ in shape");
  require_same_shape(a, diff_dst, "binary: diff_dst differs in shape");
  std::vector<double> da(a.size()), db(a.size());
  for (std::int64_t i = 0; i < a.size(); ++i) {
    da[i] = kind == Binary::add ? diff_dst.data[i] : double(diff_dst.data[i]) * b.data[i];
    db[i] = kind == Binary::add ? diff_dst.data[i] : double(diff_dst.data[i]) * a.data[i];
  }
  store(diff_a, a.dims, da);
  store(diff_b, b.dims, db);
}

void dropout_forward(const Tensor& src, const Tensor& mask, Tensor& dst) {
  binary_forward(Binary::mul, src, mask, dst);
}

void dropout_backward(const Tensor& diff_dst, const Tensor& mask, Tensor& diff_src) {
  binary_forward(Binary::mul, diff_dst, mask, diff_src);
}

// ---- normalization ----

namespace {
// Batch norm's view of [N, C, spatial...]: element (n, c, s) at (n·C + c)·S + s.
struct ChannelView {
  std::int64_t n, c, s;
  std::int64_t index(std::int64_t i, std::int64_t ch, std::int64_t j) const { return (i * c + ch) * s + j; }
};
ChannelView channel_view(const Tensor& src) {
  require(src.dims.size() >= 2, "batch norm needs [N, C, ...]");
  return {src.dims[0], src.dims[1], product(src.dims, 2, src.dims.size())};
}
double value_or(const Tensor* t, std::int64_t i, double fallback) { return t ? t->data[i] : fallback; }
void require_vector(const Tensor* t, std::int64_t n, const char* what) { require(!t || t->dims == Dims{n}, what); }
}  // namespace

void batch_norm_forward_training(const Tensor& src, const Tensor* scale, const Tensor* shift, double eps,
                                 Tensor& dst, Tensor& mean, Tensor& variance) {
  ChannelView v = channel_view(src);
  std::vector<double> m(v.c, 0.0), var(v.c, 0.0);
  double count = static_cast<double>(v.n * v.s);
  for (std::int64_t c = 0; c < v.c; ++c) {
    for (std::int64_t i = 0; i < v.n; ++i)
      for (std::int64_t j = 0; j < v.s; ++j) m[c] += src.data[v.index(i, c, j)];
    m[c] /= count;
    for (std::int64_t i = 0; i < v.n; ++i)
      for (std::int64_t j = 0; j < v.s; ++j) var[c] += std::pow(src.data[v.index(i, c, j)] - m[c], 2);
    var[c] /= count;
  }
  store(mean, {v.c}, m);
  store(variance, {v.c}, var);
  batch_norm_forward_inference(src, mean, variance, scale, shift, eps, dst);
}

void batch_norm_forward_inference(const Tensor& src, const Tensor& mean, const Tensor& variance,
                                  const Tensor* scale, const Tensor* shift, double eps, Tensor& dst) {
  ChannelView v = channel_view(src);
  require_vector(&mean, v.c, "batch norm mean must be [C]");
  require_vector(&variance, v.c, "batch norm variance must be [C]");
  require_vector(scale, v.c, "batch norm scale must be [C]");
  require_vector(shift, v.c, "batch norm shift must be [C]");
  std::vector<double> out(src.size());
  for (std::int64_t i = 0; i < v.n; ++i)
    for (std::int64_t c = 0; c < v.c; ++c)
      for (std::int64_t j = 0; j < v.s; ++j) {
        double x_hat = (src.data[v.index(i, c, j)] - double(mean.data[c])) / std::sqrt(variance.data[c] + eps);
        out[v.index(i, c, j)] = value_or(scale, c, 1) * x_hat + value_or(shift, c, 0);
      }
  store(dst, src.dims, out);
}

void batch_norm_backward(const Tensor& src, const Tensor& diff_dst, const Tensor& mean, const Tensor& variance,
                         const Tensor* scale, double eps, Tensor& diff_src, Tensor* diff_scale, Tensor* diff_shift) {
  ChannelView v = channel_view(src);
  require_same_shape(src, diff_dst, "batch norm: src and diff_dst differ");
  require_vector(&mean, v.c, "batch norm mean must be [C]");
  require_vector(&variance, v.c, "batch norm variance must be [C]");
  require_vector(scale, v.c, "batch norm scale must be [C]");
  double count = static_cast<double>(v.n * v.s);
  std::vector<double> dx(src.size()), dgamma(v.c, 0.0), dbeta(v.c, 0.0);
  for (std::int64_t c = 0; c < v.c; ++c) {
    double sigma = std::sqrt(variance.data[c] + eps);
    auto x_hat = [&](std::int64_t i) { return (src.data[i] - double(mean.data[c])) / sigma; };
    for (std::int64_t i = 0; i < v.n; ++i)
      for (std::int64_t j = 0; j < v.s; ++j) {
        std::int64_t at = v.index(i, c, j);
        dbeta[c] += diff_dst.data[at];
        dgamma[c] += diff_dst.data[at] * x_hat(at);
      }
    for (std::int64_t i = 0; i < v.n; ++i)
      for (std::int64_t j = 0; j < v.s; ++j) {
        std::int64_t at = v.index(i, c, j);
        dx[at] = value_or(scale, c, 1) / sigma * (diff_dst.data[at] - dbeta[c] / count - x_hat(at) * dgamma[c] / count);
      }
  }
  store(diff_src, src.dims, dx);
  if (diff_scale) store(*diff_scale, {v.c}, dgamma);
  if (diff_shift) store(*diff_shift, {v.c}, dbeta);
}

void layer_norm_forward(const Tensor& src, const Tensor* scale, const Tensor* shift, double eps, Tensor& dst,
                        Tensor& mean, Tensor& variance) {
  require(!src.dims.empty() && src.dims.back() > 0, "layer norm needs a last dim");
  std::int64_t d = src.dims.back(), rows = src.size() / d;
  require_vector(scale, d, "layer norm scale must be [D]");
  require_vector(shift, d, "layer norm shift must be [D]");
  std::vector<double> out(src.size()), m(rows, 0.0), var(rows, 0.0);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t j = 0; j < d; ++j) m[r] += src.data[r * d + j];
    m[r] /= static_cast<double>(d);
    for (std::int64_t j = 0; j < d; ++j) var[r] += std::pow(src.data[r * d + j] - m[r], 2);
    var[r] /= static_cast<double>(d);
    for (std::int64_t j = 0; j < d; ++j)
      out[r * d + j] = value_or(scale, j, 1) * (src.data[r * d + j] - m[r]) / std::sqrt(var[r] + eps) +
                       value_or(shift, j, 0);
  }
  Dims stat_dims(src.dims.begin(), src.dims.end() - 1);
  store(dst, src.dims, out);
  store(mean, stat_dims, m);
  store(variance, stat_dims, var);
}

void layer_norm_backward(const Tensor& src, const Tensor& diff_dst, const Tensor& mean, const Tensor& variance,
                         const Tensor* scale, double eps, Tensor& diff_src, Tensor* diff_scale,
                         Tensor* diff_shift) {
  require(!src.dims.empty() && src.dims.back() > 0, "layer norm needs a last dim");
  require_same_shape(src, diff_dst, "layer norm: src and diff_dst differ");
  std::int64_t d = src.dims.back(), rows = src.size() / d;
  require(mean.size() == rows && variance.size() == rows, "layer norm statistics must have one value per row");
  require_vector(scale, d, "layer norm scale must be [D]");
  std::vector<double> dx(src.size()), dgamma(d, 0.0), dbeta(d, 0.0);
  for (std::int64_t r = 0; r < rows; ++r) {
    double sigma = std::sqrt(variance.data[r] + eps);
    auto x_hat = [&](std::int64_t j) { return (src.data[r * d + j] - double(mean.data[r])) / sigma; };
    double sum_g = 0, sum_g_xhat = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      double dy = diff_dst.data[r * d + j], g = dy * value_or(scale, j, 1);
      sum_g += g;
      sum_g_xhat += g * x_hat(j);
      dgamma[j] += dy * x_hat(j);
      dbeta[j] += dy;
    }
    for (std::int64_t j = 0; j < d; ++j) {
      double g = diff_dst.data[r * d + j] * value_or(scale, j, 1);
      dx[r * d + j] = (g - sum_g / d - x_hat(j) * sum_g_xhat / d) / sigma;
    }
  }
  store(diff_src, src.dims, dx);
  if (diff_scale) store(*diff_scale, {d}, dgamma);
  if (diff_shift) store(*diff_shift, {d}, dbeta);
}

// ---- LRN ----

namespace {
// The channels c' that normalize channel c, oneDNN's window.
std::int64_t lrn_first(std::int64_t c, const LrnParams& p) { return std::max<std::int64_t>(0, c - (p.size - 1) / 2); }
std::int64_t lrn_last(std::int64_t c, std::int64_t channels, const LrnParams& p) {
  return std::min(channels - 1, c + p.size / 2);
}
// d(n, c, s) for every element.
std::vector<double> lrn_denominators(const Tensor& src, const LrnParams& p) {
  ChannelView v = channel_view(src);
  require(p.size > 0, "LRN size must be positive");
  std::vector<double> d(src.size());
  for (std::int64_t i = 0; i < v.n; ++i)
    for (std::int64_t c = 0; c < v.c; ++c)
      for (std::int64_t j = 0; j < v.s; ++j) {
        double sum = 0;
        for (std::int64_t cc = lrn_first(c, p); cc <= lrn_last(c, v.c, p); ++cc)
          sum += double(src.data[v.index(i, cc, j)]) * src.data[v.index(i, cc, j)];
        d[v.index(i, c, j)] = p.k + p.alpha / p.size * sum;
      }
  return d;
}
}  // namespace

void lrn_forward(const Tensor& src, const LrnParams& p, Tensor& dst) {
  std::vector<double> d = lrn_denominators(src, p), out(src.size());
  for (std::int64_t i = 0; i < src.size(); ++i) out[i] = src.data[i] * std::pow(d[i], -p.beta);
  store(dst, src.dims, out);
}

void lrn_backward(const Tensor& src, const Tensor& diff_dst, const LrnParams& p, Tensor& diff_src) {
  require_same_shape(src, diff_dst, "LRN: src and diff_dst differ");
  ChannelView v = channel_view(src);
  std::vector<double> d = lrn_denominators(src, p), dx(src.size());
  for (std::int64_t i = 0; i < src.size(); ++i) dx[i] = diff_dst.data[i] * std::pow(d[i], -p.beta);
  // Each output c depends on every j of its window through d(c).
  double coefficient = 2 * p.alpha * p.beta / p.size;
  for (std::int64_t i = 0; i < v.n; ++i)
    for (std::int64_t c = 0; c < v.c; ++c)
      for (std::int64_t s = 0; s < v.s; ++s) {
        std::int64_t at = v.index(i, c, s);
        double through_d = double(diff_dst.data[at]) * src.data[at] * std::pow(d[at], -p.beta - 1);
        for (std::int64_t j = lrn_first(c, p); j <= lrn_last(c, v.c, p); ++j)
          dx[v.index(i, j, s)] -= coefficient * src.data[v.index(i, j, s)] * through_d;
      }
  store(diff_src, src.dims, dx);
}

// ---- softmax, concat, update ----

void softmax_forward(const Tensor& src, int axis, Tensor& dst) {
  AxisSplit a = split_at(src.dims, axis);
  require(a.size > 0, "softmax over an empty axis");
  std::vector<double> out(src.size());
  for (std::int64_t o = 0; o < a.outer; ++o)
    for (std::int64_t in = 0; in < a.inner; ++in) {
      auto at = [&](std::int64_t k) { return (o * a.size + k) * a.inner + in; };
      double top = src.data[at(0)], sum = 0;
      for (std::int64_t k = 0; k < a.size; ++k) top = std::max(top, double(src.data[at(k)]));
      for (std::int64_t k = 0; k < a.size; ++k) sum += std::exp(src.data[at(k)] - top);
      for (std::int64_t k = 0; k < a.size; ++k) out[at(k)] = std::exp(src.data[at(k)] - top) / sum;
    }
  store(dst, src.dims, out);
}

void softmax_backward(const Tensor& dst, const Tensor& diff_dst, int axis, Tensor& diff_src) {
  require_same_shape(dst, diff_dst, "softmax: dst and diff_dst differ");
  AxisSplit a = split_at(dst.dims, axis);
  require(a.size > 0, "softmax over an empty axis");
  std::vector<double> out(dst.size());
  for (std::int64_t o = 0; o < a.outer; ++o)
    for (std::int64_t in = 0; in < a.inner; ++in) {
      auto at = [&](std::int64_t k) { return (o * a.size + k) * a.inner + in; };
      double dot = 0;
      for (std::int64_t k = 0; k < a.size; ++k) dot += double(diff_dst.data[at(k)]) * dst.data[at(k)];
      for (std::int64_t k = 0; k < a.size; ++k) out[at(k)] = dst.data[at(k)] * (diff_dst.data[at(k)] - dot);
    }
  store(diff_src, dst.dims, out);
}

void concat_forward(const std::vector<Tensor>& srcs, int axis, Tensor& dst) {
  require(!srcs.empty(), "concat needs at least one tensor");
  Dims dims = srcs[0].dims;
  AxisSplit first = split_at(dims, axis);
  std::int64_t ax = axis < 0 ? axis + static_cast<int>(dims.size()) : axis, total = 0;
  for (const Tensor& s : srcs) {
    Dims other = s.dims;
    require(other.size() == dims.size(), "concat: ranks differ");
    total += other[ax];
    other[ax] = dims[ax];
    require(other == dims, "concat: dims other than the axis differ");
  }
  dims[ax] = total;
  std::vector<double> out(product(dims, 0, dims.size()));
  std::int64_t offset = 0;  // along the axis
  for (const Tensor& s : srcs) {
    std::int64_t size = s.dims[ax];
    for (std::int64_t o = 0; o < first.outer; ++o)
      for (std::int64_t k = 0; k < size; ++k)
        for (std::int64_t in = 0; in < first.inner; ++in)
          out[(o * total + offset + k) * first.inner + in] = s.data[(o * size + k) * first.inner + in];
    offset += size;
  }
  store(dst, dims, out);
}

void concat_backward(const Tensor& diff_dst, int axis, std::vector<Tensor>& diff_srcs) {
  AxisSplit whole = split_at(diff_dst.dims, axis);
  std::int64_t ax = axis < 0 ? axis + static_cast<int>(diff_dst.dims.size()) : axis, offset = 0;
  for (Tensor& part : diff_srcs) {
    require(part.dims.size() == diff_dst.dims.size(), "concat: ranks differ");
    std::int64_t size = part.dims[ax];
    require(split_at(part.dims, axis).inner == whole.inner && split_at(part.dims, axis).outer == whole.outer,
            "concat: dims other than the axis differ");
    std::vector<double> out(part.size());
    for (std::int64_t o = 0; o < whole.outer; ++o)
      for (std::int64_t k = 0; k < size; ++k)
        for (std::int64_t in = 0; in < whole.inner; ++in)
          out[(o * size + k) * whole.inner + in] = diff_dst.data[(o * whole.size + offset + k) * whole.inner + in];
    store(part, part.dims, out);
    offset += size;
  }
  require(offset == whole.size, "concat: the parts do not add up to diff_dst");
}

void sgd_update(Tensor& weights, const Tensor& diff_weights, double lr) {
  require_same_shape(weights, diff_weights, "sgd: weights and gradient differ");
  for (std::int64_t i = 0; i < weights.size(); ++i)
    weights.data[i] = static_cast<float>(weights.data[i] - lr * diff_weights.data[i]);
}

// ---- recurrent ----

std::int64_t rnn_gates(RnnCell cell) { return cell == RnnCell::lstm ? 4 : 3; }

namespace {
struct RnnShape {
  std::int64_t t, n, c, h, g;
};
RnnShape rnn_shape(RnnCell cell, const Tensor& src, const RnnWeights& w) {
  require(src.dims.size() == 3, "RNN src must be [T, N, C]");
  require(w.weights_iter.dims.size() == 2, "RNN weights_iter must be [H, G·H]");
  RnnShape s{src.dims[0], src.dims[1], src.dims[2], w.weights_iter.dims[0], rnn_gates(cell)};
  require(w.weights_layer.dims == Dims{s.c, s.g * s.h}, "RNN weights_layer must be [C, G·H]");
  require(w.weights_iter.dims == Dims{s.h, s.g * s.h}, "RNN weights_iter must be [H, G·H]");
  require(w.bias.dims == Dims{s.g * s.h}, "RNN bias must be [G·H]");
  return s;
}

// What the backward needs of the forward, per step t and sample n: the gates
// after their activation [T, N, G·H], and the states c_t (LSTM) and h_t [T, N, H].
struct RnnTrace {
  std::vector<double> gates, c, h;
};

RnnTrace rnn_run(RnnCell cell, const RnnShape& s, const Tensor& src, const RnnWeights& w) {
  std::int64_t gh = s.g * s.h;
  RnnTrace r{std::vector<double>(s.t * s.n * gh), std::vector<double>(s.t * s.n * s.h, 0.0),
             std::vector<double>(s.t * s.n * s.h)};
  const std::vector<double> zeros(s.h, 0.0);
  std::vector<double> a(gh), reset_h(s.h);
  for (std::int64_t t = 0; t < s.t; ++t)
    for (std::int64_t n = 0; n < s.n; ++n) {
      const double* h_prev = t > 0 ? &r.h[((t - 1) * s.n + n) * s.h] : zeros.data();
      const double* c_prev = t > 0 ? &r.c[((t - 1) * s.n + n) * s.h] : zeros.data();
      double* gates = &r.gates[(t * s.n + n) * gh];
      // a = x·W + B, plus h_{t−1}·U except for GRU's o gate, which takes (r · h_{t−1})·U.
      for (std::int64_t col = 0; col < gh; ++col) {
        a[col] = w.bias.data[col];
        for (std::int64_t k = 0; k < s.c; ++k)
          a[col] += double(src.data[(t * s.n + n) * s.c + k]) * w.weights_layer.data[k * gh + col];
        std::int64_t recurrent_cols = cell == RnnCell::lstm ? gh : 2 * s.h;
        if (col < recurrent_cols)
          for (std::int64_t k = 0; k < s.h; ++k) a[col] += h_prev[k] * w.weights_iter.data[k * gh + col];
      }
      double* h = &r.h[(t * s.n + n) * s.h];
      double* c = &r.c[(t * s.n + n) * s.h];
      if (cell == RnnCell::lstm) {
        for (std::int64_t j = 0; j < s.h; ++j) {
          double i = sigmoid(a[j]), f = sigmoid(a[s.h + j]), c_tilde = std::tanh(a[2 * s.h + j]);
          double o = sigmoid(a[3 * s.h + j]);
          gates[j] = i, gates[s.h + j] = f, gates[2 * s.h + j] = c_tilde, gates[3 * s.h + j] = o;
          c[j] = f * c_prev[j] + i * c_tilde;
          h[j] = o * std::tanh(c[j]);
        }
      } else {
        for (std::int64_t j = 0; j < s.h; ++j) {
          gates[j] = sigmoid(a[j]);              // u
          gates[s.h + j] = sigmoid(a[s.h + j]);  // r
          reset_h[j] = gates[s.h + j] * h_prev[j];
        }
        for (std::int64_t j = 0; j < s.h; ++j) {
          std::int64_t col = 2 * s.h + j;
          for (std::int64_t k = 0; k < s.h; ++k) a[col] += reset_h[k] * w.weights_iter.data[k * gh + col];
          gates[col] = std::tanh(a[col]);  // o
          h[j] = gates[j] * h_prev[j] + (1 - gates[j]) * gates[col];
        }
      }
    }
  return r;
}

Tensor reverse_time(const Tensor& x) {
  Tensor out = x;
  if (x.size() == 0) return out;
  std::int64_t step = x.size() / x.dims[0];
  for (std::int64_t t = 0; t < x.dims[0]; ++t)
    std::copy_n(x.data.begin() + t * step, step, out.data.begin() + (x.dims[0] - 1 - t) * step);
  return out;
}
}  // namespace

void rnn_forward(RnnCell cell, const Tensor& src, const RnnWeights& w, Tensor& dst) {
  RnnShape s = rnn_shape(cell, src, w);
  store(dst, {s.t, s.n, s.h}, rnn_run(cell, s, src, w).h);
}

void rnn_backward(RnnCell cell, const Tensor& src, const RnnWeights& w, const Tensor& diff_dst, Tensor& diff_src,
                  RnnWeights& diff_w) {
  RnnShape s = rnn_shape(cell, src, w);
  require(diff_dst.dims == Dims{s.t, s.n, s.h}, "RNN diff_dst must be [T, N, H]");
  std::int64_t gh = s.g * s.h;
  RnnTrace r = rnn_run(cell, s, src, w);
  std::vector<double> dx(src.size(), 0.0), dw(s.c * gh, 0.0), du(s.h * gh, 0.0), db(gh, 0.0);
  // Gradients flowing back from step t + 1 into h_t and c_t, per sample.
  std::vector<double> dh_next(s.n * s.h, 0.0), dc_next(s.n * s.h, 0.0);
  const std::vector<double> zeros(s.h, 0.0);
  std::vector<double> da(gh), dh(s.h), reset_h(s.h);
  for (std::int64_t t = s.t - 1; t >= 0; --t)
    for (std::int64_t n = 0; n < s.n; ++n) {
      const double* h_prev = t > 0 ? &r.h[((t - 1) * s.n + n) * s.h] : zeros.data();
      const double* c_prev = t > 0 ? &r.c[((t - 1) * s.n + n) * s.h] : zeros.data();
      const double* gates = &r.gates[(t * s.n + n) * gh];
      const double* c = &r.c[(t * s.n + n) * s.h];
      double* dh_prev = &dh_next[n * s.h];  // consumed as dh_t, then refilled as the gradient of h_{t−1}
      for (std::int64_t j = 0; j < s.h; ++j) dh[j] = diff_dst.data[(t * s.n + n) * s.h + j] + dh_prev[j];
      std::fill_n(dh_prev, s.h, 0.0);
      if (cell == RnnCell::lstm) {
        double* dc_prev = &dc_next[n * s.h];
        for (std::int64_t j = 0; j < s.h; ++j) {
          double i = gates[j], f = gates[s.h + j], c_tilde = gates[2 * s.h + j], o = gates[3 * s.h + j];
          double tanh_c = std::tanh(c[j]);
          double dc = dc_prev[j] + dh[j] * o * (1 - tanh_c * tanh_c);
          da[j] = dc * c_tilde * i * (1 - i);
          da[s.h + j] = dc * c_prev[j] * f * (1 - f);
          da[2 * s.h + j] = dc * i * (1 - c_tilde * c_tilde);
          da[3 * s.h + j] = dh[j] * tanh_c * o * (1 - o);
          dc_prev[j] = dc * f;
        }
        for (std::int64_t k = 0; k < s.h; ++k)
          for (std::int64_t col = 0; col < gh; ++col) {
            du[k * gh + col] += h_prev[k] * da[col];
            dh_prev[k] += da[col] * w.weights_iter.data[k * gh + col];
          }
      } else {
        for (std::int64_t j = 0; j < s.h; ++j) {
          double u = gates[j], o = gates[2 * s.h + j];
          da[j] = dh[j] * (h_prev[j] - o) * u * (1 - u);
          da[2 * s.h + j] = dh[j] * (1 - u) * (1 - o * o);
          dh_prev[j] += dh[j] * u;
          reset_h[j] = gates[s.h + j] * h_prev[j];
        }
        // o's pre-activation takes (r · h_{t−1})·U_o: its gradient reaches r and h_{t−1}.
        for (std::int64_t k = 0; k < s.h; ++k) {
          double d_reset_h = 0;
          for (std::int64_t j = 0; j < s.h; ++j) {
            std::int64_t col = 2 * s.h + j;
            d_reset_h += da[col] * w.weights_iter.data[k * gh + col];
            du[k * gh + col] += reset_h[k] * da[col];
          }
          double r_k = gates[s.h + k];
          da[s.h + k] = d_reset_h * h_prev[k] * r_k * (1 - r_k);
          dh_prev[k] += d_reset_h * r_k;
        }
        for (std::int64_t k = 0; k < s.h; ++k)
          for (std::int64_t col = 0; col < 2 * s.h; ++col) {
            du[k * gh + col] += h_prev[k] * da[col];
            dh_prev[k] += da[col] * w.weights_iter.data[k * gh + col];
          }
      }
      for (std::int64_t col = 0; col < gh; ++col) {
        db[col] += da[col];
        for (std::int64_t k = 0; k < s.c; ++k) {
          std::int64_t x = (t * s.n + n) * s.c + k;
          dw[k * gh + col] += src.data[x] * da[col];
          dx[x] += da[col] * w.weights_layer.data[k * gh + col];
        }
      }
    }
  store(diff_src, src.dims, dx);
  store(diff_w.weights_layer, w.weights_layer.dims, dw);
  store(diff_w.weights_iter, w.weights_iter.dims, du);
  store(diff_w.bias, w.bias.dims, db);
}

namespace {
std::int64_t stack_dirs(const RnnStack& stack) { return stack.bidirectional ? 2 : 1; }

// One layer of the stack, both directions, concatenated.
Tensor stack_layer_forward(const RnnStack& stack, std::size_t layer, const Tensor& src) {
  std::int64_t dirs = stack_dirs(stack);
  std::vector<Tensor> outs(dirs);
  for (std::int64_t d = 0; d < dirs; ++d) {
    const RnnWeights& w = stack.weights[layer * dirs + d];
    if (d == 0) {
      rnn_forward(stack.cell, src, w, outs[d]);
    } else {
      Tensor reversed;
      rnn_forward(stack.cell, reverse_time(src), w, reversed);
      outs[d] = reverse_time(reversed);
    }
  }
  Tensor dst;
  concat_forward(outs, 2, dst);
  return dst;
}

std::size_t stack_layers(const RnnStack& stack) {
  require(!stack.weights.empty() && stack.weights.size() % stack_dirs(stack) == 0,
          "RNN stack needs weights for every layer and direction");
  return stack.weights.size() / stack_dirs(stack);
}
}  // namespace

void rnn_stack_forward(const RnnStack& stack, const Tensor& src, Tensor& dst) {
  Tensor x = src;
  for (std::size_t l = 0; l < stack_layers(stack); ++l) x = stack_layer_forward(stack, l, x);
  dst = x;
}

void rnn_stack_backward(const RnnStack& stack, const Tensor& src, const Tensor& diff_dst, Tensor& diff_src,
                        std::vector<RnnWeights>& diff_weights) {
  std::size_t layers = stack_layers(stack);
  std::int64_t dirs = stack_dirs(stack);
  std::vector<Tensor> inputs = {src};  // inputs[l] is layer l's src
  for (std::size_t l = 0; l + 1 < layers; ++l) inputs.push_back(stack_layer_forward(stack, l, inputs[l]));
  diff_weights.assign(stack.weights.size(), RnnWeights{});
  Tensor diff = diff_dst;
  for (std::size_t l = layers; l-- > 0;) {
    const Tensor& x = inputs[l];
    std::vector<Tensor> parts(dirs);
    for (std::int64_t d = 0; d < dirs; ++d)
      parts[d] = make({x.dims[0], x.dims[1], stack.weights[l * dirs + d].weights_iter.dims[0]});
    concat_backward(diff, 2, parts);
    std::vector<double> diff_x(x.size(), 0.0);
    for (std::int64_t d = 0; d < dirs; ++d) {
      const RnnWeights& w = stack.weights[l * dirs + d];
      RnnWeights& dw = diff_weights[l * dirs + d];
      Tensor dx;
      if (d == 0) {
        rnn_backward(stack.cell, x, w, parts[d], dx, dw);
      } else {
        rnn_backward(stack.cell, reverse_time(x), w, reverse_time(parts[d]), dx, dw);
        dx = reverse_time(dx);
      }
      for (std::int64_t i = 0; i < x.size(); ++i) diff_x[i] += dx.data[i];
    }
    store(diff, x.dims, diff_x);
  }
  diff_src = diff;
}

// ---- embedding ----

namespace {
std::int64_t row_of(float index, std::int64_t rows) {
  require(index >= 0 && index < static_cast<float>(rows) && std::floor(index) == index,
          "embedding index is not a row of the table");
  return static_cast<std::int64_t>(index);
}
}  // namespace

void embedding_forward(const Tensor& indices, const Tensor& table, Tensor& dst) {
  require(indices.dims.size() == 2 && table.dims.size() == 2, "embedding: indices [N, T], table [V, D]");
  std::int64_t d = table.dims[1];
  std::vector<double> out(indices.size() * d);
  for (std::int64_t i = 0; i < indices.size(); ++i) {
    std::int64_t row = row_of(indices.data[i], table.dims[0]);
    for (std::int64_t j = 0; j < d; ++j) out[i * d + j] = table.data[row * d + j];
  }
  store(dst, {indices.dims[0], indices.dims[1], d}, out);
}

void embedding_backward(const Tensor& indices, const Tensor& diff_dst, Tensor& diff_table) {
  require(indices.dims.size() == 2 && diff_table.dims.size() == 2 &&
              diff_dst.dims == Dims{indices.dims[0], indices.dims[1], diff_table.dims[1]},
          "embedding: indices [N, T], diff_dst [N, T, D], diff_table [V, D]");
  std::int64_t d = diff_table.dims[1];
  std::vector<double> acc(diff_table.size(), 0.0);
  for (std::int64_t i = 0; i < indices.size(); ++i) {
    std::int64_t row = row_of(indices.data[i], diff_table.dims[0]);
    for (std::int64_t j = 0; j < d; ++j) acc[row * d + j] += diff_dst.data[i * d + j];
  }
  store(diff_table, diff_table.dims, acc);
}

}  // namespace dlc::runtime::reference
