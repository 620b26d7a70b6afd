// The plain reference primitives: each op on a tiny case worked by hand, and
// each backward against central finite differences of its forward.
//
// Gradient checks: the loss is L = Σ w·y with fixed random weights w (so
// diff_dst = w); each input element x moves to the floats x ± h, h = 1e-2, and
// the numeric derivative (L⁺ − L⁻) / (x⁺ − x⁻) is formed in double. The error
// is the largest |analytic − numeric| over a tensor divided by the tensor's
// largest |numeric|, and must stay under 1e-2. Why these numbers: truncation
// is about h²·f'''/6 ≈ 2e-5 relative, and the float rounding of the outputs
// (6e-8 relative each, summed over at most a few hundred) divided by 2h is
// about 1e-4, both two orders under the bound, while a wrong formula (a missing
// term, a swapped index) is off by O(1). Scaling by the largest gradient rather
// than each element's own keeps the bound meaningful where a gradient is near 0
// by cancellation. Inputs are kept away from kinks: relu's 0, max-pool ties.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "runtime/cpu/reference.hpp"
#include "tests/unit/approx.hpp"

using namespace dlc::runtime::reference;
using dlc::test::approx;

namespace {

Tensor tensor(std::vector<std::int64_t> dims, std::initializer_list<float> values) {
  Tensor t = make(std::move(dims));
  REQUIRE(t.data.size() == values.size());
  std::copy(values.begin(), values.end(), t.data.begin());
  return t;
}

void check_values(const Tensor& t, std::initializer_list<double> expected) {
  REQUIRE(t.data.size() == expected.size());
  std::size_t i = 0;
  for (double e : expected) {
    CAPTURE(i);
    if (e == 0)
      CHECK(t.data[i] == 0);
    else
      CHECK(t.data[i] == approx(e));
    ++i;
  }
}

// A fixed-seed generator (64-bit LCG), the same numbers on every platform.
struct Random {
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  double uniform() {  // [-1, 1)
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0 * 2 - 1;
  }
  Tensor tensor(std::vector<std::int64_t> dims, double scale = 1) {
    Tensor t = make(std::move(dims));
    for (float& x : t.data) x = static_cast<float>(scale * uniform());
    return t;
  }
};

double dot(const Tensor& w, const Tensor& y) {
  REQUIRE(w.dims == y.dims);
  double sum = 0;
  for (std::size_t i = 0; i < w.data.size(); ++i) sum += double(w.data[i]) * y.data[i];
  return sum;
}

// See the file comment: the worst error of analytic against the central
// difference of loss() in each element of input, relative to the largest one.
double gradient_error(Tensor& input, const Tensor& analytic, const std::function<double()>& loss) {
  REQUIRE(analytic.dims == input.dims);
  const float h = 1e-2f;
  double worst = 0, largest = 0;
  for (std::size_t i = 0; i < input.data.size(); ++i) {
    float x = input.data[i], up = x + h, down = x - h;
    input.data[i] = up;
    double loss_up = loss();
    input.data[i] = down;
    double loss_down = loss();
    input.data[i] = x;
    double numeric = (loss_up - loss_down) / (double(up) - double(down));
    worst = std::max(worst, std::abs(numeric - analytic.data[i]));
    largest = std::max(largest, std::abs(numeric));
  }
  REQUIRE(largest > 0);  // a vanishing gradient would make the check vacuous
  return worst / largest;
}

const double kTolerance = 1e-2;

}  // namespace

// ---- convolution ----

TEST_CASE("reference: conv by hand") {
  // 2D: src 1..9 in 3×3, weights [[1, 0], [0, 1]] add x[i, j] + x[i+1, j+1], bias 0.5:
  // 1+5, 2+6, 4+8, 5+9 plus 0.5.
  Tensor src = tensor({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor w = tensor({1, 1, 2, 2}, {1, 0, 0, 1});
  Tensor bias = tensor({1}, {0.5f});
  ConvParams p{{2, 2}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, 1};
  Tensor dst = make({1, 1, 2, 2});
  conv_forward(src, w, &bias, p, dst);
  check_values(dst, {6.5, 8.5, 12.5, 14.5});
  // diff_dst all ones: each input gets the number of windows whose tap 1 covers it;
  // each weight gets the sum of the inputs it saw (1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9).
  Tensor ones = tensor({1, 1, 2, 2}, {1, 1, 1, 1});
  Tensor diff_src = make({1, 1, 3, 3}), diff_w, diff_bias;
  conv_backward_data(ones, w, p, diff_src);
  check_values(diff_src, {1, 1, 0, 1, 2, 1, 0, 1, 1});
  conv_backward_weights(src, ones, p, diff_w, &diff_bias);
  check_values(diff_w, {12, 16, 24, 28});
  check_values(diff_bias, {4});

  // 1D, 2 groups, dilation 2 (taps at o − 1 and o + 1), padding 1 each side:
  // channel 0 [1, 2, 3, 4] with weights [1, 1]: 0+2, 1+3, 2+4, 3+0;
  // channel 1 [10, 20, 30, 40] with weights [1, −1]: 0−20, 10−30, 20−40, 30−0.
  Tensor src1 = tensor({1, 2, 4}, {1, 2, 3, 4, 10, 20, 30, 40});
  Tensor w1 = tensor({2, 1, 2}, {1, 1, 1, -1});
  ConvParams p1{{2}, {1}, {1}, {1}, {2}, 2};
  Tensor dst1 = make({1, 2, 4});
  conv_forward(src1, w1, nullptr, p1, dst1);
  check_values(dst1, {2, 4, 6, 3, -20, -20, -20, 30});
}

TEST_CASE("reference: conv gradients match finite differences") {
  Random rng;
  struct Case {
    std::vector<std::int64_t> src, dst;
    ConvParams p;
    std::int64_t cout;
  };
  // 2D strided, dilated, grouped, padded unevenly (ceil-mode shape); 1D; 3D.
  Case cases[] = {
      {{2, 4, 5, 5}, {2, 4, 3, 3}, {{2, 2}, {2, 2}, {1, 1}, {2, 1}, {2, 2}, 2}, 4},
      {{2, 3, 6}, {2, 2, 6}, {{3}, {1}, {1}, {1}, {1}, 1}, 2},
      {{1, 2, 3, 3, 3}, {1, 2, 3, 2, 1}, {{2, 2, 2}, {1, 2, 1}, {1, 0, 0}, {0, 1, 0}, {1, 1, 2}, 1}, 2},
  };
  for (Case& c : cases) {
    Tensor src = rng.tensor(c.src);
    std::vector<std::int64_t> wdims = {c.cout, c.src[1] / c.p.groups};
    wdims.insert(wdims.end(), c.p.kernel.begin(), c.p.kernel.end());
    Tensor w = rng.tensor(wdims), bias = rng.tensor({c.cout}), diff_dst = rng.tensor(c.dst);
    auto loss = [&] {
      Tensor dst = make(c.dst);
      conv_forward(src, w, &bias, c.p, dst);
      return dot(diff_dst, dst);
    };
    Tensor diff_src = make(c.src), diff_w, diff_bias;
    conv_backward_data(diff_dst, w, c.p, diff_src);
    conv_backward_weights(src, diff_dst, c.p, diff_w, &diff_bias);
    CHECK(gradient_error(src, diff_src, loss) < kTolerance);
    CHECK(gradient_error(w, diff_w, loss) < kTolerance);
    CHECK(gradient_error(bias, diff_bias, loss) < kTolerance);
  }
}

// ---- pooling ----

TEST_CASE("reference: pooling by hand") {
  // 3×3 of 1..9, kernel 2, stride 2, pad_r 1 (ceil mode): windows {1,2,4,5}, {3,6}, {7,8}, {9}.
  Tensor src = tensor({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  PoolParams p{{2, 2}, {2, 2}, {0, 0}, {1, 1}};
  Tensor dst = make({1, 1, 2, 2});
  max_pool_forward(src, p, dst);
  check_values(dst, {5, 6, 8, 9});
  // Average over the inputs inside only: 12/4, 9/2, 15/2, 9/1.
  avg_pool_forward(src, p, dst);
  check_values(dst, {3, 4.5, 7.5, 9});
  Tensor diff_src = make({1, 1, 3, 3});
  avg_pool_backward(tensor({1, 1, 2, 2}, {4, 2, 2, 1}), p, diff_src);
  check_values(diff_src, {1, 1, 1, 1, 1, 1, 1, 1, 1});

  // Padding never wins: [−3, −2], kernel 2, padding 1 each side → [−3, −2, −2];
  // the gradients of the last two outputs both go to −2.
  Tensor neg = tensor({1, 1, 2}, {-3, -2});
  PoolParams p1{{2}, {1}, {1}, {1}};
  Tensor dst1 = make({1, 1, 3}), diff1 = make({1, 1, 2});
  max_pool_forward(neg, p1, dst1);
  check_values(dst1, {-3, -2, -2});
  max_pool_backward(neg, tensor({1, 1, 3}, {1, 1, 1}), p1, diff1);
  check_values(diff1, {1, 2});

  // Ties go to the first maximum in window order: [3, 5, 5] → index 1.
  Tensor tie = tensor({1, 1, 3}, {3, 5, 5});
  PoolParams p2{{3}, {1}, {0}, {0}};
  Tensor diff2 = make({1, 1, 3});
  max_pool_backward(tie, tensor({1, 1, 1}, {7}), p2, diff2);
  check_values(diff2, {0, 7, 0});
}

TEST_CASE("reference: pooling gradients match finite differences") {
  Random rng;
  struct Case {
    std::vector<std::int64_t> src, dst;
    PoolParams p;
  };
  Case cases[] = {
      {{2, 2, 5, 5}, {2, 2, 3, 3}, {{3, 3}, {2, 2}, {1, 1}, {1, 1}}},
      {{1, 2, 7}, {1, 2, 4}, {{2}, {2}, {0}, {1}}},
      {{1, 1, 3, 4, 4}, {1, 1, 2, 2, 3}, {{2, 3, 2}, {1, 2, 2}, {0, 1, 1}, {0, 0, 1}}},
  };
  for (Case& c : cases) {
    // Distinct values 0.1 apart, shuffled: no ties, and a step of h never reorders them.
    Tensor src = make(c.src);
    std::vector<std::int64_t> order(src.data.size());
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[static_cast<std::size_t>((rng.uniform() + 1) / 2 * i)]);
    for (std::size_t i = 0; i < order.size(); ++i) src.data[i] = 0.1f * static_cast<float>(order[i]) - 2;
    Tensor diff_dst = rng.tensor(c.dst);
    auto max_loss = [&] {
      Tensor dst = make(c.dst);
      max_pool_forward(src, c.p, dst);
      return dot(diff_dst, dst);
    };
    auto avg_loss = [&] {
      Tensor dst = make(c.dst);
      avg_pool_forward(src, c.p, dst);
      return dot(diff_dst, dst);
    };
    Tensor diff_max = make(c.src), diff_avg = make(c.src);
    max_pool_backward(src, diff_dst, c.p, diff_max);
    avg_pool_backward(diff_dst, c.p, diff_avg);
    CHECK(gradient_error(src, diff_max, max_loss) < kTolerance);
    CHECK(gradient_error(src, diff_avg, avg_loss) < kTolerance);
  }
}

// ---- inner product, matmul ----

TEST_CASE("reference: inner product by hand and by finite differences") {
  // src [1, 2, 2] read as [1, 4] = [1, 2, 3, 4]; rows of weights [1, 1, 1, 1] and
  // [1, −1, 1, −1]; bias [0.5, 1]: 10 + 0.5, −2 + 1.
  Tensor src = tensor({1, 2, 2}, {1, 2, 3, 4});
  Tensor w = tensor({2, 2, 2}, {1, 1, 1, 1, 1, -1, 1, -1});
  Tensor bias = tensor({2}, {0.5f, 1});
  Tensor dst;
  inner_product_forward(src, w, &bias, dst);
  CHECK(dst.dims == std::vector<std::int64_t>{1, 2});
  check_values(dst, {10.5, -1});

  Random rng;
  Tensor x = rng.tensor({3, 2, 2, 2}), wr = rng.tensor({4, 2, 2, 2}), b = rng.tensor({4}), dd = rng.tensor({3, 4});
  auto loss = [&] {
    Tensor y;
    inner_product_forward(x, wr, &b, y);
    return dot(dd, y);
  };
  Tensor diff_x, diff_w, diff_b;
  inner_product_backward_data(dd, wr, diff_x);
  inner_product_backward_weights(x, dd, diff_w, &diff_b);
  CHECK(gradient_error(x, diff_x, loss) < kTolerance);
  CHECK(gradient_error(wr, diff_w, loss) < kTolerance);
  CHECK(gradient_error(b, diff_b, loss) < kTolerance);
}

TEST_CASE("reference: matmul by hand with a broadcast batch") {
  // a [2, 2, 2] = (I, [[1, 2], [3, 4]]) times one b [2, 2] = [[5, 6], [7, 8]]:
  // b itself, then [[5+14, 6+16], [15+28, 18+32]].
  Tensor a = tensor({2, 2, 2}, {1, 0, 0, 1, 1, 2, 3, 4});
  Tensor b = tensor({2, 2}, {5, 6, 7, 8});
  Tensor dst;
  matmul_forward(a, b, false, dst);
  CHECK(dst.dims == std::vector<std::int64_t>{2, 2, 2});
  check_values(dst, {5, 6, 7, 8, 19, 22, 43, 50});
  Tensor bt = tensor({2, 2}, {5, 7, 6, 8});  // bᵀ, read transposed
  matmul_forward(a, bt, true, dst);
  check_values(dst, {5, 6, 7, 8, 19, 22, 43, 50});
  // diff_dst all ones: diff_a rows are b's row sums (11, 15); diff_b sums over the
  // batch: Iᵀ·1 + [[1, 3], [2, 4]]·1 = [[1+4, 1+4], [1+6, 1+6]].
  Tensor ones = tensor({2, 2, 2}, {1, 1, 1, 1, 1, 1, 1, 1});
  Tensor diff_a, diff_b;
  matmul_backward(a, b, false, ones, diff_a, diff_b);
  check_values(diff_a, {11, 15, 11, 15, 11, 15, 11, 15});
  check_values(diff_b, {5, 5, 7, 7});
}

TEST_CASE("reference: matmul gradients match finite differences") {
  Random rng;
  // Both operands broadcast: a [2, 1, 2, 3] × b [3, 3, 2] → [2, 3, 2, 2].
  for (bool transpose_b : {false, true}) {
    Tensor a = rng.tensor({2, 1, 2, 3});
    Tensor b = rng.tensor(transpose_b ? std::vector<std::int64_t>{3, 2, 3} : std::vector<std::int64_t>{3, 3, 2});
    Tensor dd = rng.tensor({2, 3, 2, 2});
    auto loss = [&] {
      Tensor y;
      matmul_forward(a, b, transpose_b, y);
      return dot(dd, y);
    };
    Tensor diff_a, diff_b;
    matmul_backward(a, b, transpose_b, dd, diff_a, diff_b);
    CHECK(gradient_error(a, diff_a, loss) < kTolerance);
    CHECK(gradient_error(b, diff_b, loss) < kTolerance);
  }
}

// ---- elementwise ----

TEST_CASE("reference: eltwise binary and dropout by hand") {
  Tensor x = tensor({4}, {-1, 0, 1, 2});
  Tensor y, d;
  eltwise_forward(Eltwise::relu, x, y);
  check_values(y, {0, 0, 1, 2});
  eltwise_backward(Eltwise::relu, x, tensor({4}, {5, 5, 5, 5}), d);
  check_values(d, {0, 0, 5, 5});  // 0 at 0, as oneDNN
  eltwise_forward(Eltwise::sigmoid, x, y);
  check_values(y, {1 / (1 + std::exp(1.0)), 0.5, 1 / (1 + std::exp(-1.0)), 1 / (1 + std::exp(-2.0))});
  eltwise_forward(Eltwise::tanh, x, y);
  check_values(y, {std::tanh(-1.0), 0, std::tanh(1.0), std::tanh(2.0)});
  // gelu(1) = 0.5·(1 + erf(1/√2)) = Φ(1) = 0.8413447…; gelu(−1) = −(1 − Φ(1)).
  eltwise_forward(Eltwise::gelu_erf, x, y);
  check_values(y, {-0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416});
  // gelu'(0) = 0.5.
  eltwise_backward(Eltwise::gelu_erf, tensor({1}, {0}), tensor({1}, {1}), d);
  check_values(d, {0.5});
  // silu(x) = x·σ(x): σ(1) = 0.7310585786…, σ(2) = 0.8807970779…; silu'(0) = σ(0) = 0.5.
  eltwise_forward(Eltwise::silu, x, y);
  check_values(y, {-0.2689414213699951, 0, 0.7310585786300049, 1.7615941559557646});
  eltwise_backward(Eltwise::silu, tensor({1}, {0}), tensor({1}, {1}), d);
  check_values(d, {0.5});

  Tensor a = tensor({2}, {3, 4}), b = tensor({2}, {-1, 0.5f}), da, db;
  binary_forward(Binary::add, a, b, y);
  check_values(y, {2, 4.5});
  binary_forward(Binary::mul, a, b, y);
  check_values(y, {-3, 2});
  binary_backward(Binary::mul, a, b, tensor({2}, {1, 2}), da, db);
  check_values(da, {-1, 1});
  check_values(db, {3, 8});
  binary_backward(Binary::add, a, b, tensor({2}, {1, 2}), da, db);
  check_values(da, {1, 2});
  check_values(db, {1, 2});

  Tensor mask = tensor({2}, {0, 2});  // rate 0.5: dropped, kept and scaled by 2
  dropout_forward(a, mask, y);
  check_values(y, {0, 8});
  dropout_backward(tensor({2}, {1, 1}), mask, d);
  check_values(d, {0, 2});
}

TEST_CASE("reference: eltwise and binary gradients match finite differences") {
  Random rng;
  for (Eltwise kind : {Eltwise::relu, Eltwise::sigmoid, Eltwise::tanh, Eltwise::gelu_erf, Eltwise::silu}) {
    CAPTURE(static_cast<int>(kind));
    Tensor x = rng.tensor({3, 5}, 2);
    for (float& v : x.data) v = v < 0 ? v - 0.1f : v + 0.1f;  // away from relu's kink
    Tensor dd = rng.tensor({3, 5});
    auto loss = [&] {
      Tensor y;
      eltwise_forward(kind, x, y);
      return dot(dd, y);
    };
    Tensor dx;
    eltwise_backward(kind, x, dd, dx);
    CHECK(gradient_error(x, dx, loss) < kTolerance);
  }
  for (Binary kind : {Binary::add, Binary::mul}) {
    Tensor a = rng.tensor({2, 3}), b = rng.tensor({2, 3}), dd = rng.tensor({2, 3});
    auto loss = [&] {
      Tensor y;
      binary_forward(kind, a, b, y);
      return dot(dd, y);
    };
    Tensor da, db;
    binary_backward(kind, a, b, dd, da, db);
    CHECK(gradient_error(a, da, loss) < kTolerance);
    CHECK(gradient_error(b, db, loss) < kTolerance);
  }
}

// ---- normalization ----

TEST_CASE("reference: batch normalization by hand") {
  // src [2, 2, 2]. Channel 0 holds 0, 2 (n = 0) and 4, 6 (n = 1): mean 3, biased
  // variance (9+1+1+9)/4 = 5; with eps 4, √9 = 3 and x̂ = −1, −1/3, 1/3, 1; scale 2,
  // shift 1: −1, 1/3, 5/3, 3. Channel 1 is all 1: variance 0, x̂ = 0, dst = shift = −1.
  Tensor src = tensor({2, 2, 2}, {0, 2, 1, 1, 4, 6, 1, 1});
  Tensor scale = tensor({2}, {2, 5}), shift = tensor({2}, {1, -1});
  Tensor dst, mean, variance;
  batch_norm_forward_training(src, &scale, &shift, 4, dst, mean, variance);
  check_values(mean, {3, 1});
  check_values(variance, {5, 0});
  check_values(dst, {-1, 1.0 / 3, -1, -1, 5.0 / 3, 3, -1, -1});
  // Inference with given statistics, no affine: (x − 1) / √(3 + 1).
  Tensor given_mean = tensor({2}, {1, 1}), given_var = tensor({2}, {3, 3});
  batch_norm_forward_inference(src, given_mean, given_var, nullptr, nullptr, 1, dst);
  check_values(dst, {-0.5, 0.5, 0, 0, 1.5, 2.5, 0, 0});
  // Backward, channel 0, diff_dst = x̂: diff_shift = 0, diff_scale = Σ x̂² = 20/9, and
  // diff_src = 2/3 · (x̂ − 0 − x̂ · (20/9)/4) = 2/3 · x̂ · (4/9) = 8/27 · x̂.
  Tensor dd = tensor({2, 2, 2}, {-1, -1.0f / 3, 0, 0, 1.0f / 3, 1, 0, 0});
  Tensor diff_src, diff_scale, diff_shift;
  batch_norm_backward(src, dd, mean, variance, &scale, 4, diff_src, &diff_scale, &diff_shift);
  check_values(diff_shift, {0, 0});
  check_values(diff_scale, {20.0 / 9, 0});
  check_values(diff_src, {-8.0 / 27, -8.0 / 81, 0, 0, 8.0 / 81, 8.0 / 27, 0, 0});
}

TEST_CASE("reference: layer normalization by hand") {
  // Rows [1, 3] (mean 2, variance 1; eps 3: √4 = 2, x̂ = ∓0.5) and [5, 5] (x̂ = 0);
  // scale [2, 4], shift [0, 1]: [−1, 3] and [0, 1].
  Tensor src = tensor({2, 2}, {1, 3, 5, 5});
  Tensor scale = tensor({2}, {2, 4}), shift = tensor({2}, {0, 1});
  Tensor dst, mean, variance;
  layer_norm_forward(src, &scale, &shift, 3, dst, mean, variance);
  check_values(dst, {-1, 3, 0, 1});
  check_values(mean, {2, 5});
  check_values(variance, {1, 0});
  // diff_dst [1, 0] on row 0: g = [2, 0], Σg = 2, Σg·x̂ = −1:
  // diff_src = ([2, 0] − 1 − [−0.5, 0.5]·(−0.5)) / 2 = [0.375, −0.375].
  Tensor diff_src, diff_scale, diff_shift;
  layer_norm_backward(src, tensor({2, 2}, {1, 0, 0, 0}), mean, variance, &scale, 3, diff_src, &diff_scale,
                      &diff_shift);
  check_values(diff_src, {0.375, -0.375, 0, 0});
  check_values(diff_scale, {-0.5, 0});
  check_values(diff_shift, {1, 0});
}

TEST_CASE("reference: normalization gradients match finite differences") {
  Random rng;
  const double eps = 1e-5;
  for (bool affine : {true, false}) {
    Tensor src = rng.tensor({3, 2, 2, 2}), scale = rng.tensor({2}), shift = rng.tensor({2});
    Tensor dd = rng.tensor({3, 2, 2, 2});
    Tensor* s = affine ? &scale : nullptr;
    Tensor* b = affine ? &shift : nullptr;
    auto loss = [&] {
      Tensor y, m, v;
      batch_norm_forward_training(src, s, b, eps, y, m, v);
      return dot(dd, y);
    };
    Tensor y, mean, variance, diff_src, diff_scale, diff_shift;
    batch_norm_forward_training(src, s, b, eps, y, mean, variance);
    batch_norm_backward(src, dd, mean, variance, s, eps, diff_src, &diff_scale, &diff_shift);
    CHECK(gradient_error(src, diff_src, loss) < kTolerance);
    if (affine) {
      CHECK(gradient_error(scale, diff_scale, loss) < kTolerance);
      CHECK(gradient_error(shift, diff_shift, loss) < kTolerance);
    }
  }
  Tensor src = rng.tensor({2, 3, 4}), scale = rng.tensor({4}), shift = rng.tensor({4}), dd = rng.tensor({2, 3, 4});
  auto loss = [&] {
    Tensor y, m, v;
    layer_norm_forward(src, &scale, &shift, eps, y, m, v);
    return dot(dd, y);
  };
  Tensor y, mean, variance, diff_src, diff_scale, diff_shift;
  layer_norm_forward(src, &scale, &shift, eps, y, mean, variance);
  layer_norm_backward(src, dd, mean, variance, &scale, eps, diff_src, &diff_scale, &diff_shift);
  CHECK(gradient_error(src, diff_src, loss) < kTolerance);
  CHECK(gradient_error(scale, diff_scale, loss) < kTolerance);
  CHECK(gradient_error(shift, diff_shift, loss) < kTolerance);
}

TEST_CASE("reference: LRN by hand and by finite differences") {
  // Channels [1, 2, 3], k 1, beta 1. Size 3, alpha 3 (alpha/size = 1): windows
  // {0, 1}, {0, 1, 2}, {1, 2}: d = 1+1+4, 1+1+4+9, 1+4+9 → 1/6, 2/15, 3/14.
  Tensor src = tensor({1, 3, 1, 1}, {1, 2, 3});
  Tensor dst;
  lrn_forward(src, {3, 3, 1, 1}, dst);
  check_values(dst, {1.0 / 6, 2.0 / 15, 3.0 / 14});
  // Size 4, alpha 4: from c − 1 to c + 2, so {0, 1, 2}, {0, 1, 2}, {1, 2}.
  lrn_forward(src, {4, 4, 1, 1}, dst);
  check_values(dst, {1.0 / 15, 2.0 / 15, 3.0 / 14});

  Random rng;
  for (LrnParams p : {LrnParams{3, 1, 0.75, 1}, LrnParams{4, 2, 0.75, 2}, LrnParams{5, 1e-4, 0.75, 1}}) {
    Tensor x = rng.tensor({2, 5, 2, 2}), dd = rng.tensor({2, 5, 2, 2});
    auto loss = [&] {
      Tensor y;
      lrn_forward(x, p, y);
      return dot(dd, y);
    };
    Tensor dx;
    lrn_backward(x, dd, p, dx);
    CHECK(gradient_error(x, dx, loss) < kTolerance);
  }
}

// ---- softmax, concat, update ----

TEST_CASE("reference: softmax by hand and by finite differences") {
  // src [1, 3, 2], axis 1: column 0 is [0, ln 2, ln 3] → [1, 2, 3]/6; column 1 is
  // constant → 1/3 each.
  Tensor src = tensor({1, 3, 2}, {0, 5, std::log(2.0f), 5, std::log(3.0f), 5});
  Tensor dst, diff_src;
  softmax_forward(src, 1, dst);
  check_values(dst, {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 2, 1.0 / 3});
  // Column 0 with diff_dst [1, 0, 0]: Σ dd·y = 1/6, diff_src = y·(dd − 1/6)
  // = [5/36, −1/18, −1/12]; column 1 has diff_dst 0.
  softmax_backward(dst, tensor({1, 3, 2}, {1, 0, 0, 0, 0, 0}), 1, diff_src);
  check_values(diff_src, {5.0 / 36, 0, -1.0 / 18, 0, -1.0 / 12, 0});

  Random rng;
  for (int axis : {0, 1, -1}) {
    Tensor x = rng.tensor({3, 4, 2}, 2), dd = rng.tensor({3, 4, 2});
    auto loss = [&] {
      Tensor y;
      softmax_forward(x, axis, y);
      return dot(dd, y);
    };
    Tensor y, dx;
    softmax_forward(x, axis, y);
    softmax_backward(y, dd, axis, dx);
    CHECK(gradient_error(x, dx, loss) < kTolerance);
  }
}

TEST_CASE("reference: concat and its split by hand") {
  // Along axis 1: [[1, 2], [3, 4]] and [[5], [6]] → [[1, 2, 5], [3, 4, 6]].
  Tensor a = tensor({2, 2}, {1, 2, 3, 4}), b = tensor({2, 1}, {5, 6});
  Tensor dst;
  concat_forward({a, b}, 1, dst);
  CHECK(dst.dims == std::vector<std::int64_t>{2, 3});
  check_values(dst, {1, 2, 5, 3, 4, 6});
  std::vector<Tensor> parts = {make({2, 2}), make({2, 1})};
  concat_backward(dst, -1, parts);
  check_values(parts[0], {1, 2, 3, 4});
  check_values(parts[1], {5, 6});
  // Along axis 0: the blocks one after the other.
  concat_forward({a, tensor({1, 2}, {7, 8})}, 0, dst);
  check_values(dst, {1, 2, 3, 4, 7, 8});
}

TEST_CASE("reference: SGD update by hand") {
  // [1, 2] − 0.1 · [10, −10] = [0, 3].
  Tensor w = tensor({2}, {1, 2});
  sgd_update(w, tensor({2}, {10, -10}), 0.1);
  check_values(w, {0, 3});
}

// ---- recurrent ----

TEST_CASE("reference: LSTM by hand") {
  // C = H = 1, T = 2, N = 1, x = [1, 1]. Gate columns (i, f, c̃, o): W = [0, 0, 1, 0],
  // U = [0, 0, 1, 0], B = [0, ln 3, 0, −ln 3], so i = 1/2, f = 3/4, o = 1/4 always and
  // c̃_t = tanh(x + h_{t−1}):
  //   c_1 = i·tanh(1) = 0.5·tanh(1),  h_1 = 0.25·tanh(c_1),
  //   c_2 = 0.75·c_1 + 0.5·tanh(1 + h_1),  h_2 = 0.25·tanh(c_2).
  RnnWeights w{tensor({1, 4}, {0, 0, 1, 0}), tensor({1, 4}, {0, 0, 1, 0}),
               tensor({4}, {0, std::log(3.0f), 0, -std::log(3.0f)})};
  Tensor src = tensor({2, 1, 1}, {1, 1}), dst;
  rnn_forward(RnnCell::lstm, src, w, dst);
  double c1 = 0.5 * std::tanh(1.0), h1 = 0.25 * std::tanh(c1);
  double c2 = 0.75 * c1 + 0.5 * std::tanh(1 + h1), h2 = 0.25 * std::tanh(c2);
  CHECK(dst.dims == std::vector<std::int64_t>{2, 1, 1});
  check_values(dst, {h1, h2});
}

TEST_CASE("reference: GRU by hand is oneDNN's vanilla GRU") {
  // C = 1, H = 2, T = 2, N = 1, x = [1, 1]. Gates (u, r, o): W_u = U_u = B_u = 0 so
  // u = 1/2; W_r = U_r = 0, B_r = [0, ln 3] so r = [1/2, 3/4]; W_o = [1, 1], B_o = 0,
  // U_o swaps the units ([[0, 1], [1, 0]]).
  //   step 1: h_0 = 0, o = tanh(1) each, h_1 = [a, a] with a = 0.5·tanh(1);
  //   step 2: r·h_1 = [a/2, 3a/4], times U_o = [3a/4, a/2];
  //           o = [tanh(1 + 3a/4), tanh(1 + a/2)], h_2 = 0.5·h_1 + 0.5·o.
  // (Linear-before-reset, r·(h·U_o), would swap the two: [tanh(1 + a/2), tanh(1 + 3a/4)].)
  RnnWeights w{tensor({1, 6}, {0, 0, 0, 0, 1, 1}),
               tensor({2, 6}, {0, 0, 0, 0, 0, 1,  //
                               0, 0, 0, 0, 1, 0}),
               tensor({6}, {0, 0, 0, std::log(3.0f), 0, 0})};
  Tensor src = tensor({2, 1, 1}, {1, 1}), dst;
  rnn_forward(RnnCell::gru, src, w, dst);
  double a = 0.5 * std::tanh(1.0);
  CHECK(dst.dims == std::vector<std::int64_t>{2, 1, 2});
  check_values(dst, {a, a, 0.5 * a + 0.5 * std::tanh(1 + 0.75 * a), 0.5 * a + 0.5 * std::tanh(1 + 0.5 * a)});
}

TEST_CASE("reference: LSTM and GRU gradients match finite differences") {
  Random rng;
  for (RnnCell cell : {RnnCell::lstm, RnnCell::gru}) {
    CAPTURE(static_cast<int>(cell));
    std::int64_t t = 4, n = 2, c = 3, h = 3, g = rnn_gates(cell);
    Tensor src = rng.tensor({t, n, c}), dd = rng.tensor({t, n, h});
    RnnWeights w{rng.tensor({c, g * h}), rng.tensor({h, g * h}), rng.tensor({g * h})};
    auto loss = [&] {
      Tensor y;
      rnn_forward(cell, src, w, y);
      return dot(dd, y);
    };
    Tensor diff_src;
    RnnWeights diff_w;
    rnn_backward(cell, src, w, dd, diff_src, diff_w);
    CHECK(gradient_error(src, diff_src, loss) < kTolerance);
    CHECK(gradient_error(w.weights_layer, diff_w.weights_layer, loss) < kTolerance);
    CHECK(gradient_error(w.weights_iter, diff_w.weights_iter, loss) < kTolerance);
    CHECK(gradient_error(w.bias, diff_w.bias, loss) < kTolerance);
  }
}

TEST_CASE("reference: bidirectional RNN stacks") {
  Random rng;
  // One bidirectional layer: the right-to-left half is the cell run on the reversed sequence.
  std::int64_t t = 3, n = 2, c = 2, h = 2;
  for (RnnCell cell : {RnnCell::lstm, RnnCell::gru}) {
    CAPTURE(static_cast<int>(cell));
    std::int64_t g = rnn_gates(cell);
    RnnStack one{cell, true, {}};
    for (int d = 0; d < 2; ++d)
      one.weights.push_back({rng.tensor({c, g * h}), rng.tensor({h, g * h}), rng.tensor({g * h})});
    Tensor src = rng.tensor({t, n, c}), dst, forward, backward;
    rnn_stack_forward(one, src, dst);
    rnn_forward(cell, src, one.weights[0], forward);
    Tensor reversed = src;
    for (std::int64_t s = 0; s < t; ++s)
      std::copy_n(src.data.begin() + s * n * c, n * c, reversed.data.begin() + (t - 1 - s) * n * c);
    rnn_forward(cell, reversed, one.weights[1], backward);
    REQUIRE(dst.dims == std::vector<std::int64_t>{t, n, 2 * h});
    for (std::int64_t s = 0; s < t; ++s)
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t j = 0; j < h; ++j) {
          CHECK(dst.data[(s * n + b) * 2 * h + j] == forward.data[(s * n + b) * h + j]);
          CHECK(dst.data[(s * n + b) * 2 * h + h + j] == backward.data[((t - 1 - s) * n + b) * h + j]);
        }

    // Two bidirectional layers (the second reads 2·H features): every gradient.
    RnnStack two{cell, true, {}};
    for (std::int64_t l = 0; l < 2; ++l)
      for (int d = 0; d < 2; ++d) {
        std::int64_t in = l == 0 ? c : 2 * h;
        two.weights.push_back({rng.tensor({in, g * h}), rng.tensor({h, g * h}), rng.tensor({g * h})});
      }
    Tensor dd = rng.tensor({t, n, 2 * h});
    auto loss = [&] {
      Tensor y;
      rnn_stack_forward(two, src, y);
      return dot(dd, y);
    };
    Tensor diff_src;
    std::vector<RnnWeights> diff_w;
    rnn_stack_backward(two, src, dd, diff_src, diff_w);
    REQUIRE(diff_w.size() == 4);
    CHECK(gradient_error(src, diff_src, loss) < kTolerance);
    for (std::size_t i = 0; i < 4; ++i) {
      CAPTURE(i);
      CHECK(gradient_error(two.weights[i].weights_layer, diff_w[i].weights_layer, loss) < kTolerance);
      CHECK(gradient_error(two.weights[i].weights_iter, diff_w[i].weights_iter, loss) < kTolerance);
      CHECK(gradient_error(two.weights[i].bias, diff_w[i].bias, loss) < kTolerance);
    }
  }
}

// ---- embedding ----

TEST_CASE("reference: embedding by hand and by finite differences") {
  // Table rows [0, 1], [10, 11], [20, 21]; indices [2, 0, 2] pick rows 2, 0, 2.
  Tensor table = tensor({3, 2}, {0, 1, 10, 11, 20, 21});
  Tensor indices = tensor({1, 3}, {2, 0, 2});
  Tensor dst;
  embedding_forward(indices, table, dst);
  CHECK(dst.dims == std::vector<std::int64_t>{1, 3, 2});
  check_values(dst, {20, 21, 0, 1, 20, 21});
  // diff_dst all ones: row 2 used twice, row 1 never.
  Tensor diff_table = make({3, 2});
  embedding_backward(indices, tensor({1, 3, 2}, {1, 1, 1, 1, 1, 1}), diff_table);
  check_values(diff_table, {1, 1, 0, 0, 2, 2});

  Random rng;
  Tensor big = rng.tensor({5, 3}), dd = rng.tensor({2, 3, 3});
  Tensor idx = tensor({2, 3}, {4, 1, 4, 0, 2, 1});
  auto loss = [&] {
    Tensor y;
    embedding_forward(idx, big, y);
    return dot(dd, y);
  };
  Tensor diff = make({5, 3});
  embedding_backward(idx, dd, diff);
  // Row 3 is unused: its gradient is exactly 0, which gradient_error measures against the largest.
  CHECK(gradient_error(big, diff, loss) < kTolerance);
}

TEST_CASE("reference: shapes that do not fit are internal errors") {
  Tensor src = make({1, 1, 3, 3}), w = make({1, 2, 2, 2}), dst = make({1, 1, 2, 2});
  ConvParams p{{2, 2}, {1, 1}, {0, 0}, {0, 0}, {1, 1}, 1};
  CHECK_THROWS_AS(conv_forward(src, w, nullptr, p, dst), std::logic_error);
  Tensor too_big = make({1, 1, 3, 3});  // a 2×2 kernel gives 2×2 without padding
  CHECK_THROWS_AS(conv_forward(src, make({1, 1, 2, 2}), nullptr, p, too_big), std::logic_error);
  Tensor y;
  CHECK_THROWS_AS(matmul_forward(make({2, 3}), make({2, 3}), false, y), std::logic_error);
  CHECK_THROWS_AS(embedding_forward(tensor({1, 1}, {3}), make({3, 2}), y), std::logic_error);
}
