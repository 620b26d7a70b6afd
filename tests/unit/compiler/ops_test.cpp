// Unit tests for the operator table (compiler/ops.hpp): for every op, the
// output shape, trainable parameters, non-trainable state, forward and
// backward MACs, checked against values computed by hand from the standard
// formulas (mostly on published layers), and the error of each shape rule.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ops.hpp"

using namespace dlc::compiler;

namespace {

TensorInfo tensor(Shape shape, DType dtype = DType::f32) { return TensorInfo{std::move(shape), dtype}; }

// Attribute helpers: integer (list) attributes, flags and plain numbers.
NamedAttr ints(std::string_view name, std::vector<std::int64_t> values) {
  NamedAttr a;
  a.name = name;
  a.ints = std::move(values);
  return a;
}
NamedAttr flag(std::string_view name, bool value) {
  NamedAttr a;
  a.name = name;
  a.flag = value;
  return a;
}
NamedAttr number(std::string_view name, double value) {
  NamedAttr a;
  a.name = name;
  a.number = value;
  return a;
}

// Applies an op that must succeed.
OpResult apply(std::string_view op, const std::vector<TensorInfo>& inputs,
               const std::vector<NamedAttr>& attrs = {}) {
  OpResult r;
  OpError err;
  bool ok = apply_op(op, inputs, attrs, r, err);
  REQUIRE_MESSAGE(ok, (std::string(op) + ": " + err.message));
  return r;
}

// Applies an op that must fail, and returns its error.
OpError failure(std::string_view op, const std::vector<TensorInfo>& inputs,
                const std::vector<NamedAttr>& attrs = {}) {
  OpResult r;
  OpError err;
  bool ok = apply_op(op, inputs, attrs, r, err);
  REQUIRE_FALSE_MESSAGE(ok, (std::string(op) + " was expected to fail"));
  return err;
}

int param_of(std::string_view op, std::string_view name) {
  const OpDef* def = find_op(op);
  REQUIRE(def != nullptr);
  return def->param_index(name);
}

// An op without trainable parameters, state or MACs that keeps its input.
void check_passthrough(std::string_view op, const TensorInfo& x, const std::vector<NamedAttr>& attrs = {}) {
  CAPTURE(op);
  OpResult r = apply(op, {x}, attrs);
  CHECK(r.output.shape == x.shape);
  CHECK(r.output.dtype == x.dtype);
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);
  CHECK(r.macs_backward == 0);
}

}  // namespace

// ---- the table itself -------------------------------------------------------

TEST_CASE("ops: table lists every op of the language") {
  const std::vector<std::string_view> names = {
      "conv",    "maxpool", "avgpool",  "global_avgpool", "fc",        "matmul",
      "relu",    "sigmoid", "tanh",     "gelu",           "dropout",   "batchnorm",
      "layernorm", "lrn",   "softmax",  "concat",         "add",       "mul",
      "flatten", "reshape", "embedding", "lstm",          "gru",       "attention",
      "position_embedding", "select", "silu", "swiglu", "rmsnorm", "lm_head", "moe"};
  CHECK(all_ops().size() == names.size());  // 31 ops
  for (std::string_view n : names) {
    CAPTURE(n);
    const OpDef* def = find_op(n);
    REQUIRE(def != nullptr);
    CHECK(def->name == n);
    CHECK(static_cast<bool>(def->infer));
  }
  CHECK(find_op("conv2d") == nullptr);
  CHECK(find_op("conv")->op_class == OpClass::conv);
  CHECK(find_op("fc")->op_class == OpClass::matmul);
  CHECK(find_op("lstm")->op_class == OpClass::recurrent);
  CHECK(find_op("attention")->op_class == OpClass::attention);
  CHECK(find_op("concat")->op_class == OpClass::data_movement);
  CHECK(find_op("embedding")->op_class == OpClass::embedding);
  CHECK(find_op("maxpool")->op_class == OpClass::pooling);
  CHECK(find_op("batchnorm")->op_class == OpClass::normalization);
}

TEST_CASE("ops: apply_op rejects unknown ops and parameters") {
  OpError err = failure("conv2d", {tensor({3, 224, 224})});
  CHECK(err.message == "unknown op 'conv2d'");
  CHECK(err.param == -1);
  err = failure("conv", {tensor({3, 224, 224})}, {ints("channels", {64}), ints("kernel", {3}), ints("padding", {1})});
  CHECK(err.message == "op 'conv' has no parameter 'padding'");
  CHECK(err.param == -1);
}

// ---- conv -------------------------------------------------------------------

TEST_CASE("ops: conv ResNet-50 conv1") {
  // 3x224x224 -> 64x112x112, 7x7 stride 2 pad 3, no bias (followed by batchnorm).
  OpResult r = apply("conv", {tensor({3, 224, 224})},
                     {ints("channels", {64}), ints("kernel", {7}), ints("stride", {2}), ints("pad", {3}),
                      flag("bias", false)});
  CHECK(r.output.shape == Shape{64, 112, 112});  // (224 + 2*3 - 7) / 2 + 1 = 112
  CHECK(r.output.dtype == DType::f32);
  CHECK(r.params == 9408);                  // 64*3*7*7 = 9408
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 118013952);       // (3*7*7) * (64*112*112) = 147 * 802816 = 118,013,952
  CHECK(r.macs_backward == 236027904);      // data grad + weight grad = 2 * 118,013,952
  CHECK(r.attributes == "kernel=[7, 7] stride=[2, 2] pad=[3, 3] dilation=[1, 1] groups=1 bias=false");
}

TEST_CASE("ops: conv ResNet-50 3x3 with the default bias") {
  // layer1 3x3 conv 64x56x56 -> 64x56x56, pad 1; bias defaults to true.
  OpResult r = apply("conv", {tensor({64, 56, 56}, DType::bf16)},
                     {ints("channels", {64}), ints("kernel", {3}), ints("pad", {1})});
  CHECK(r.output.shape == Shape{64, 56, 56});  // (56 + 2 - 3) / 1 + 1 = 56
  CHECK(r.output.dtype == DType::bf16);        // the input's element type is kept
  CHECK(r.params == 36928);                    // 64*64*3*3 + 64 = 36,864 + 64 = 36,928
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 115605504);          // (64*3*3) * (64*56*56) = 576 * 200704 = 115,605,504
  CHECK(r.macs_backward == 231211008);         // 2 * 115,605,504
}

TEST_CASE("ops: conv AlexNet conv2 with two groups") {
  // 96x27x27 -> 256x27x27, 5x5 pad 2, groups 2 (the two-GPU split), with bias.
  OpResult r = apply("conv", {tensor({96, 27, 27})},
                     {ints("channels", {256}), ints("kernel", {5}), ints("pad", {2}), ints("groups", {2})});
  CHECK(r.output.shape == Shape{256, 27, 27});  // (27 + 4 - 5) / 1 + 1 = 27
  CHECK(r.params == 307456);                    // 256 * (96/2) * 5*5 + 256 = 307,200 + 256 = 307,456
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 223948800);           // (48*5*5) * (256*27*27) = 1200 * 186624 = 223,948,800
  CHECK(r.macs_backward == 447897600);          // 2 * 223,948,800
}

TEST_CASE("ops: conv MobileNet depthwise") {
  // MobileNet v1 conv dw: 32x112x112, 3x3 pad 1, groups = channels = 32, no bias.
  OpResult r = apply("conv", {tensor({32, 112, 112})},
                     {ints("channels", {32}), ints("kernel", {3}), ints("pad", {1}), ints("groups", {32}),
                      flag("bias", false)});
  CHECK(r.output.shape == Shape{32, 112, 112});
  CHECK(r.params == 288);            // 32 * (32/32) * 3*3 = 288
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 3612672);  // (1*3*3) * (32*112*112) = 9 * 401408 = 3,612,672
  CHECK(r.macs_backward == 7225344); // 2 * 3,612,672
}

TEST_CASE("ops: conv with dilation") {
  // DeepLab-v3 ASPP branch: 2048x33x33 -> 256x33x33, 3x3 dilation 6 pad 6, no bias.
  OpResult r = apply("conv", {tensor({2048, 33, 33})},
                     {ints("channels", {256}), ints("kernel", {3}), ints("pad", {6}), ints("dilation", {6}),
                      flag("bias", false)});
  CHECK(r.output.shape == Shape{256, 33, 33});  // span 6*(3-1)+1 = 13; (33 + 12 - 13) / 1 + 1 = 33
  CHECK(r.params == 4718592);                   // 256*2048*3*3 = 4,718,592 (dilation adds no weights)
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 5138546688);          // (2048*3*3) * (256*33*33) = 18432 * 278784 = 5,138,546,688
  CHECK(r.macs_backward == 10277093376);        // 2 * 5,138,546,688

  // Without padding the dilated window shrinks the output: span 2*(3-1)+1 = 5; 64 - 5 + 1 = 60.
  OpResult u = apply("conv", {tensor({512, 64, 64})},
                     {ints("channels", {512}), ints("kernel", {3}), ints("dilation", {2})});
  CHECK(u.output.shape == Shape{512, 60, 60});
  CHECK(u.params == 2359808);       // 512*512*3*3 + 512 = 2,359,296 + 512 = 2,359,808
  CHECK(u.macs_forward == 8493465600);  // (512*9) * (512*60*60) = 4608 * 1843200 = 8,493,465,600
}

TEST_CASE("ops: conv 1-D on a sequence") {
  // wav2vec 2.0 feature encoder, first layer: raw audio [1, 16000], 512 channels,
  // kernel 10 stride 5, no bias.
  OpResult r = apply("conv", {tensor({1, 16000})},
                     {ints("channels", {512}), ints("kernel", {10}), ints("stride", {5}), flag("bias", false)});
  CHECK(r.output.shape == Shape{512, 3199});  // (16000 - 10) / 5 + 1 = 3199
  CHECK(r.params == 5120);                    // 512*1*10 = 5120
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 16378880);          // (1*10) * (512*3199) = 10 * 1,637,888 = 16,378,880
  CHECK(r.macs_backward == 32757760);         // 2 * 16,378,880
  CHECK(r.attributes == "kernel=[10] stride=[5] pad=[0] dilation=[1] groups=1 bias=false");
}

TEST_CASE("ops: conv 3-D C3D conv1a") {
  // C3D conv1a: 3x16x112x112 clip, 64 channels, 3x3x3 pad 1, with bias.
  OpResult r = apply("conv", {tensor({3, 16, 112, 112})},
                     {ints("channels", {64}), ints("kernel", {3}), ints("pad", {1})});
  CHECK(r.output.shape == Shape{64, 16, 112, 112});
  CHECK(r.params == 5248);             // 64*3*3*3*3 + 64 = 5184 + 64 = 5248
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 1040449536); // (3*27) * (64*16*112*112) = 81 * 12,845,056 = 1,040,449,536
  CHECK(r.macs_backward == 2080899072);  // 2 * 1,040,449,536
}

TEST_CASE("ops: conv per-dimension kernel and pad") {
  // Inception-v3 factorised 1x7 conv: 128x17x17 -> 128x17x17, kernel [1, 7], pad [0, 3], no bias.
  OpResult r = apply("conv", {tensor({128, 17, 17})},
                     {ints("channels", {128}), ints("kernel", {1, 7}), ints("pad", {0, 3}), flag("bias", false)});
  CHECK(r.output.shape == Shape{128, 17, 17});  // H: 17 - 1 + 1 = 17; W: 17 + 6 - 7 + 1 = 17
  CHECK(r.params == 114688);                    // 128*128*1*7 = 114,688
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 33144832);            // (128*7) * (128*17*17) = 896 * 36992 = 33,144,832
  CHECK(r.macs_backward == 66289664);           // 2 * 33,144,832

  // Different strides per dimension: 3x224x224, kernel 3, stride [1, 2]:
  // H: 224 - 3 + 1 = 222; W: (224 - 3) / 2 + 1 = 111.
  OpResult s = apply("conv", {tensor({3, 224, 224})},
                     {ints("channels", {8}), ints("kernel", {3}), ints("stride", {1, 2})});
  CHECK(s.output.shape == Shape{8, 222, 111});
  CHECK(s.params == 224);           // 8*3*3*3 + 8 = 216 + 8 = 224
  CHECK(s.macs_forward == 5322672); // (3*9) * (8*222*111) = 27 * 197,136 = 5,322,672
}

TEST_CASE("ops: conv errors") {
  // groups must divide the input channels
  OpError err = failure("conv", {tensor({96, 27, 27})},
                        {ints("channels", {256}), ints("kernel", {5}), ints("groups", {5})});
  CHECK(err.message == "groups = 5 must divide both the input channels (96) and the output channels (256)");
  CHECK(err.param == param_of("conv", "groups"));
  CHECK(err.param == 6);
  // ... and the output channels
  err = failure("conv", {tensor({96, 27, 27})}, {ints("channels", {258}), ints("kernel", {5}), ints("groups", {4})});
  CHECK(err.message == "groups = 4 must divide both the input channels (96) and the output channels (258)");
  CHECK(err.param == 6);
  // kernel larger than the input
  err = failure("conv", {tensor({3, 5, 5})}, {ints("channels", {64}), ints("kernel", {7})});
  CHECK(err.message == "kernel [7, 7] (dilation [1, 1]) is larger than the padded input [5, 5] (padding [0, 0])");
  CHECK(err.param == param_of("conv", "kernel"));
  CHECK(err.param == 2);
  // dilation makes the window larger than the input: span 4*(3-1)+1 = 9 > 8
  err = failure("conv", {tensor({16, 8, 8})}, {ints("channels", {16}), ints("kernel", {3}), ints("dilation", {4})});
  CHECK(err.message == "kernel [3, 3] (dilation [4, 4]) is larger than the padded input [8, 8] (padding [0, 0])");
  CHECK(err.param == 2);
  // no spatial dimension
  err = failure("conv", {tensor({64})}, {ints("channels", {64}), ints("kernel", {3})});
  CHECK(err.message == "conv expects an input with channels and at least one spatial dimension ([C, H, W] or [C, L]), got [64]");
  CHECK(err.param == 0);
  // a kernel with the wrong number of values
  err = failure("conv", {tensor({3, 224, 224})}, {ints("channels", {64}), ints("kernel", {3, 3, 3})});
  CHECK(err.message == "'kernel' has 3 values but the input has 2 spatial dimensions");
  CHECK(err.param == 2);
  // stride must be at least 1, pad at least 0
  err = failure("conv", {tensor({3, 224, 224})}, {ints("channels", {64}), ints("kernel", {3}), ints("stride", {0})});
  CHECK(err.message == "'stride' must be at least 1, got 0");
  CHECK(err.param == 3);
  err = failure("conv", {tensor({3, 224, 224})}, {ints("channels", {64}), ints("kernel", {3}), ints("pad", {-1})});
  CHECK(err.message == "'pad' must be at least 0, got -1");
  CHECK(err.param == 4);
  // channels and groups must be positive
  err = failure("conv", {tensor({3, 224, 224})}, {ints("channels", {0}), ints("kernel", {3})});
  CHECK(err.message == "'channels' must be positive, got 0");
  CHECK(err.param == 1);
  err = failure("conv", {tensor({3, 224, 224})}, {ints("channels", {64}), ints("kernel", {3}), ints("groups", {0})});
  CHECK(err.message == "'groups' must be positive, got 0");
  CHECK(err.param == 6);
}

// ---- pooling ----------------------------------------------------------------

TEST_CASE("ops: maxpool ResNet-50 stem") {
  // 64x112x112, 3x3 stride 2 pad 1 (floor) -> 64x56x56.
  OpResult r = apply("maxpool", {tensor({64, 112, 112})}, {ints("kernel", {3}), ints("stride", {2}), ints("pad", {1})});
  CHECK(r.output.shape == Shape{64, 56, 56});  // floor((112 + 2 - 3) / 2) + 1 = 55 + 1 = 56
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);   // comparisons, no multiply-accumulates
  CHECK(r.macs_backward == 0);
  CHECK(r.attributes == "kernel=[3, 3] stride=[2, 2] pad=[1, 1] ceil=false");
}

TEST_CASE("ops: maxpool Caffe GoogLeNet with ceil") {
  // pool1/3x3_s2: 64x112x112, 3x3 stride 2, ceil -> 64x56x56.
  OpResult r = apply("maxpool", {tensor({64, 112, 112})}, {ints("kernel", {3}), ints("stride", {2}), flag("ceil", true)});
  CHECK(r.output.shape == Shape{64, 56, 56});  // ceil((112 - 3) / 2) + 1 = ceil(54.5) + 1 = 56
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);
  CHECK(r.macs_backward == 0);
  // The same pool with floor rounding loses the last row and column.
  OpResult f = apply("maxpool", {tensor({64, 112, 112})}, {ints("kernel", {3}), ints("stride", {2})});
  CHECK(f.output.shape == Shape{64, 55, 55});  // floor(109 / 2) + 1 = 55
  // pool4/3x3_s2: 480x28x28 -> 480x14x14 with ceil (13 with floor).
  OpResult p4 = apply("maxpool", {tensor({480, 28, 28})}, {ints("kernel", {3}), ints("stride", {2}), flag("ceil", true)});
  CHECK(p4.output.shape == Shape{480, 14, 14});  // ceil(25 / 2) + 1 = 13 + 1 = 14
  OpResult p4f = apply("maxpool", {tensor({480, 28, 28})}, {ints("kernel", {3}), ints("stride", {2})});
  CHECK(p4f.output.shape == Shape{480, 13, 13});  // floor(25 / 2) + 1 = 12 + 1 = 13
}

TEST_CASE("ops: maxpool ceil keeps the last window inside the input") {
  // L = 5, kernel 2 stride 2 pad 1, ceil: ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th
  // window would start at 3*2 = 6 >= 5 + 1 (in the right padding), so it is dropped: 3
  // (Caffe and PyTorch agree).
  OpResult r = apply("maxpool", {tensor({8, 5, 5})}, {ints("kernel", {2}), ints("stride", {2}), ints("pad", {1}), flag("ceil", true)});
  CHECK(r.output.shape == Shape{8, 3, 3});
  // Floor rounding gives the same: floor(5 / 2) + 1 = 3.
  OpResult f = apply("maxpool", {tensor({8, 5, 5})}, {ints("kernel", {2}), ints("stride", {2}), ints("pad", {1})});
  CHECK(f.output.shape == Shape{8, 3, 3});
}

TEST_CASE("ops: maxpool stride defaults to the kernel") {
  // VGG-16 pool5: 512x14x14, 2x2 (stride 2 by default) -> 512x7x7.
  OpResult r = apply("maxpool", {tensor({512, 14, 14})}, {ints("kernel", {2})});
  CHECK(r.output.shape == Shape{512, 7, 7});  // (14 - 2) / 2 + 1 = 7
  CHECK(r.params == 0);
  CHECK(r.macs_forward == 0);
  CHECK(r.attributes == "kernel=[2, 2] stride=[2, 2] pad=[0, 0] ceil=false");
  // 1-D pooling over [C, L]: (100 - 4) / 4 + 1 = 25.
  OpResult s = apply("maxpool", {tensor({16, 100})}, {ints("kernel", {4})});
  CHECK(s.output.shape == Shape{16, 25});
}

TEST_CASE("ops: avgpool") {
  // GoogLeNet pool5/7x7_s1: 1024x7x7, 7x7 stride 1 -> 1024x1x1.
  OpResult r = apply("avgpool", {tensor({1024, 7, 7})}, {ints("kernel", {7}), ints("stride", {1})});
  CHECK(r.output.shape == Shape{1024, 1, 1});  // (7 - 7) / 1 + 1 = 1
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);
  CHECK(r.macs_backward == 0);
  // Inception pool branch: 192x28x28, 3x3 stride 1 pad 1 keeps the size.
  OpResult b = apply("avgpool", {tensor({192, 28, 28})}, {ints("kernel", {3}), ints("stride", {1}), ints("pad", {1})});
  CHECK(b.output.shape == Shape{192, 28, 28});  // (28 + 2 - 3) / 1 + 1 = 28
  // DenseNet transition: 128x56x56, 2x2 stride 2 -> 128x28x28.
  OpResult t = apply("avgpool", {tensor({128, 56, 56})}, {ints("kernel", {2})});
  CHECK(t.output.shape == Shape{128, 28, 28});
}

TEST_CASE("ops: pooling errors") {
  OpError err = failure("maxpool", {tensor({64, 2, 2})}, {ints("kernel", {3})});
  CHECK(err.message == "kernel [3, 3] is larger than the padded input [2, 2]");
  CHECK(err.param == param_of("maxpool", "kernel"));
  CHECK(err.param == 1);
  err = failure("avgpool", {tensor({64, 56, 56})}, {ints("kernel", {3}), ints("pad", {3})});
  CHECK(err.message == "padding [3, 3] must be smaller than the kernel [3, 3]");
  CHECK(err.param == param_of("avgpool", "pad"));
  CHECK(err.param == 3);
  err = failure("maxpool", {tensor({64})}, {ints("kernel", {2})});
  CHECK(err.message == "maxpool expects an input with channels and at least one spatial dimension ([C, H, W] or [C, L]), got [64]");
  CHECK(err.param == 0);
  err = failure("maxpool", {tensor({64, 56, 56})}, {ints("kernel", {0})});
  CHECK(err.message == "'kernel' must be at least 1, got 0");
  CHECK(err.param == 1);
  err = failure("avgpool", {tensor({64, 56, 56})}, {ints("kernel", {2}), ints("stride", {1, 1, 1})});
  CHECK(err.message == "'stride' has 3 values but the input has 2 spatial dimensions");
  CHECK(err.param == 2);
}

TEST_CASE("ops: global_avgpool") {
  // ResNet-50 head: 2048x7x7 -> 2048.
  OpResult r = apply("global_avgpool", {tensor({2048, 7, 7})});
  CHECK(r.output.shape == Shape{2048});
  CHECK(r.output.dtype == DType::f32);
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);
  CHECK(r.macs_backward == 0);
  // over a 1-D feature map [C, L]
  CHECK(apply("global_avgpool", {tensor({512, 3199})}).output.shape == Shape{512});
  OpError err = failure("global_avgpool", {tensor({2048})});
  CHECK(err.message == "global_avgpool expects an input with channels and at least one spatial dimension ([C, H, W] or [C, L]), got [2048]");
  CHECK(err.param == 0);
}

// ---- fc and matmul ----------------------------------------------------------

TEST_CASE("ops: fc VGG-16 fc6") {
  // 25088 (= 512*7*7) -> 4096, with bias.
  OpResult r = apply("fc", {tensor({25088})}, {ints("features", {4096})});
  CHECK(r.output.shape == Shape{4096});
  CHECK(r.params == 102764544);      // 25088*4096 + 4096 = 102,760,448 + 4096 = 102,764,544
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 102760448);  // 25088*4096 = 102,760,448
  CHECK(r.macs_backward == 205520896); // data grad + weight grad = 2 * 102,760,448
  CHECK(r.attributes == "features=4096 bias=true");
}

TEST_CASE("ops: fc ResNet-50 classifier with and without bias") {
  OpResult r = apply("fc", {tensor({2048})}, {ints("features", {1000})});
  CHECK(r.output.shape == Shape{1000});
  CHECK(r.params == 2049000);        // 2048*1000 + 1000 = 2,049,000
  CHECK(r.macs_forward == 2048000);  // 2048*1000
  CHECK(r.macs_backward == 4096000); // 2 * 2,048,000
  OpResult nb = apply("fc", {tensor({2048})}, {ints("features", {1000}), flag("bias", false)});
  CHECK(nb.params == 2048000);       // 2048*1000
  CHECK(nb.state == 0);
  CHECK(nb.macs_forward == 2048000);
  CHECK(nb.macs_backward == 4096000);
}

TEST_CASE("ops: fc over tokens") {
  // BERT-base FFN intermediate: [128, 768] -> [128, 3072], with bias.
  OpResult r = apply("fc", {tensor({128, 768})}, {ints("features", {3072})});
  CHECK(r.output.shape == Shape{128, 3072});
  CHECK(r.params == 2362368);          // 768*3072 + 3072 = 2,359,296 + 3072 = 2,362,368
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 301989888);  // 128 * 768*3072 = 128 * 2,359,296 = 301,989,888
  CHECK(r.macs_backward == 603979776); // 2 * 301,989,888
}

TEST_CASE("ops: fc errors") {
  OpError err = failure("fc", {tensor({512, 7, 7})}, {ints("features", {4096})});
  CHECK(err.message == "fc expects [features] or [tokens, features], got [512, 7, 7]; flatten it first: fc(flatten(x), n)");
  CHECK(err.param == 0);
  err = failure("fc", {tensor({})}, {ints("features", {10})});
  CHECK(err.message == "fc expects [features] or [tokens, features], got []; flatten it first: fc(flatten(x), n)");
  CHECK(err.param == 0);
  err = failure("fc", {tensor({2048})}, {ints("features", {0})});
  CHECK(err.message == "'features' must be positive, got 0");
  CHECK(err.param == 1);
}

TEST_CASE("ops: matmul") {
  // [128, 64] x [64, 128] -> [128, 128]
  OpResult r = apply("matmul", {tensor({128, 64}), tensor({64, 128})});
  CHECK(r.output.shape == Shape{128, 128});
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 1048576);   // 128*64*128 = 1,048,576
  CHECK(r.macs_backward == 2097152);  // gradients of both operands: 2 * 1,048,576
  CHECK(r.attributes == "transpose_b=false");

  // BERT-base attention scores, per head: Q [12, 128, 64] x K^T with K [12, 128, 64].
  OpResult s = apply("matmul", {tensor({12, 128, 64}), tensor({12, 128, 64})}, {flag("transpose_b", true)});
  CHECK(s.output.shape == Shape{12, 128, 128});
  CHECK(s.macs_forward == 12582912);   // 12 * 128*64*128 = 12,582,912
  CHECK(s.macs_backward == 25165824);  // 2 * 12,582,912

  // Weighted sum of values: P [12, 128, 128] x V [12, 128, 64] -> [12, 128, 64].
  OpResult v = apply("matmul", {tensor({12, 128, 128}), tensor({12, 128, 64})});
  CHECK(v.output.shape == Shape{12, 128, 64});
  CHECK(v.macs_forward == 12582912);   // 12 * 128*128*64 = 12,582,912

  // Batch dimensions broadcast: [12, 128, 64] x [64, 32] -> [12, 128, 32];
  // [4, 1, 16, 8] x [3, 8, 2] -> [4, 3, 16, 2].
  OpResult b = apply("matmul", {tensor({12, 128, 64}), tensor({64, 32})});
  CHECK(b.output.shape == Shape{12, 128, 32});
  CHECK(b.macs_forward == 3145728);    // 12 * 128*64*32 = 3,145,728
  OpResult c = apply("matmul", {tensor({4, 1, 16, 8}), tensor({3, 8, 2})});
  CHECK(c.output.shape == Shape{4, 3, 16, 2});
  CHECK(c.macs_forward == 3072);       // (4*3) * 16*8*2 = 12 * 256 = 3072
}

TEST_CASE("ops: matmul errors") {
  OpError err = failure("matmul", {tensor({128, 64}), tensor({32, 128})});
  CHECK(err.message == "matmul: inner dimensions differ: [128, 64] x [32, 128] (64 vs 32)");
  CHECK(err.param == -1);
  err = failure("matmul", {tensor({128, 64}), tensor({128, 32})}, {flag("transpose_b", true)});
  CHECK(err.message == "matmul: inner dimensions differ: [128, 64] x [128, 32] (transposed) (64 vs 32)");
  CHECK(err.param == -1);
  err = failure("matmul", {tensor({64}), tensor({64, 32})});
  CHECK(err.message == "matmul expects two tensors of rank 2 or more, got [64] and [64, 32]");
  CHECK(err.param == -1);
  err = failure("matmul", {tensor({12, 4, 8}), tensor({6, 8, 4})});
  CHECK(err.message == "matmul: batch dimensions of [12, 4, 8] and [6, 8, 4] do not broadcast");
  CHECK(err.param == -1);
}

// ---- elementwise ------------------------------------------------------------

TEST_CASE("ops: activations keep the shape") {
  for (std::string_view op : {"relu", "sigmoid", "tanh", "gelu"}) {
    check_passthrough(op, tensor({64, 112, 112}));
    check_passthrough(op, tensor({128, 3072}, DType::f16));
    check_passthrough(op, tensor({1000}));
  }
}

TEST_CASE("ops: dropout") {
  // VGG-16 dropout after fc6, default rate 0.5
  check_passthrough("dropout", tensor({4096}));
  OpResult r = apply("dropout", {tensor({4096})});
  CHECK(r.attributes == "rate=0.5");
  // BERT hidden dropout 0.1
  check_passthrough("dropout", tensor({128, 768}), {number("rate", 0.1)});
  CHECK(apply("dropout", {tensor({128, 768})}, {number("rate", 0.1)}).attributes == "rate=0.1");
  check_passthrough("dropout", tensor({128, 768}), {number("rate", 0)});  // 0 is allowed
}

TEST_CASE("ops: dropout rate out of range") {
  OpError err = failure("dropout", {tensor({4096})}, {number("rate", 1.0)});
  CHECK(err.message == "dropout rate must be in [0, 1), got 1");
  CHECK(err.param == param_of("dropout", "rate"));
  CHECK(err.param == 1);
  err = failure("dropout", {tensor({4096})}, {number("rate", -0.1)});
  CHECK(err.message == "dropout rate must be in [0, 1), got -0.1");
  CHECK(err.param == 1);
  err = failure("dropout", {tensor({4096})}, {number("rate", 1.5)});
  CHECK(err.message == "dropout rate must be in [0, 1), got 1.5");
  CHECK(err.param == 1);
}

TEST_CASE("ops: softmax") {
  // ImageNet classifier output, default axis -1
  check_passthrough("softmax", tensor({1000}));
  CHECK(apply("softmax", {tensor({1000})}).attributes == "axis=-1");
  // attention probabilities [12, 128, 128] over the last axis, and over the first
  check_passthrough("softmax", tensor({12, 128, 128}), {ints("axis", {-1})});
  check_passthrough("softmax", tensor({12, 128, 128}), {ints("axis", {0})});
  check_passthrough("softmax", tensor({12, 128, 128}), {ints("axis", {2})});
  check_passthrough("softmax", tensor({12, 128, 128}), {ints("axis", {-3})});
}

TEST_CASE("ops: softmax axis out of range") {
  OpError err = failure("softmax", {tensor({1000})}, {ints("axis", {1})});
  CHECK(err.message == "axis 1 is out of range for [1000]");
  CHECK(err.param == param_of("softmax", "axis"));
  CHECK(err.param == 1);
  err = failure("softmax", {tensor({12, 128, 128})}, {ints("axis", {3})});
  CHECK(err.message == "axis 3 is out of range for [12, 128, 128]");
  CHECK(err.param == 1);
  err = failure("softmax", {tensor({12, 128, 128})}, {ints("axis", {-4})});
  CHECK(err.message == "axis -4 is out of range for [12, 128, 128]");
  CHECK(err.param == 1);
}

TEST_CASE("ops: add and mul") {
  // ResNet residual: [256, 56, 56] + [256, 56, 56]
  OpResult r = apply("add", {tensor({256, 56, 56}), tensor({256, 56, 56})});
  CHECK(r.output.shape == Shape{256, 56, 56});
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);
  CHECK(r.macs_backward == 0);
  // Squeeze-and-excitation scale: [256, 56, 56] * [256, 1, 1] broadcasts.
  OpResult m = apply("mul", {tensor({256, 56, 56}), tensor({256, 1, 1})});
  CHECK(m.output.shape == Shape{256, 56, 56});
  CHECK(m.params == 0);
  CHECK(m.state == 0);
  CHECK(m.macs_forward == 0);
  CHECK(m.macs_backward == 0);
  // Leading dimensions broadcast: [128, 768] + [768] (a bias row) -> [128, 768];
  // [768] + [128, 1] -> [128, 768].
  CHECK(apply("add", {tensor({128, 768}), tensor({768})}).output.shape == Shape{128, 768});
  CHECK(apply("add", {tensor({768}), tensor({128, 1})}).output.shape == Shape{128, 768});
}

TEST_CASE("ops: add and mul shape mismatch") {
  OpError err = failure("add", {tensor({256, 56, 56}), tensor({512, 56, 56})});
  CHECK(err.message == "add: shapes [256, 56, 56] and [512, 56, 56] do not match (nor broadcast)");
  CHECK(err.param == -1);
  err = failure("mul", {tensor({256, 56, 56}), tensor({256, 28, 28})});
  CHECK(err.message == "mul: shapes [256, 56, 56] and [256, 28, 28] do not match (nor broadcast)");
  CHECK(err.param == -1);
}

// ---- normalisation ----------------------------------------------------------

TEST_CASE("ops: batchnorm") {
  // ResNet-50 bn1 over 64x112x112.
  OpResult r = apply("batchnorm", {tensor({64, 112, 112})});
  CHECK(r.output.shape == Shape{64, 112, 112});
  CHECK(r.params == 128);              // gamma and beta: 2*64 = 128
  CHECK(r.state == 129);               // running mean and variance 2*64, plus one counter = 129
  CHECK(r.macs_forward == 802816);     // one multiply-add per element: 64*112*112 = 802,816
  CHECK(r.macs_backward == 1605632);   // 2 * 802,816
  CHECK(r.attributes == "affine=true");
  // Without the affine transform: no trainable parameters, same running statistics.
  OpResult n = apply("batchnorm", {tensor({2048, 7, 7})}, {flag("affine", false)});
  CHECK(n.output.shape == Shape{2048, 7, 7});
  CHECK(n.params == 0);
  CHECK(n.state == 4097);              // 2*2048 + 1 = 4097
  CHECK(n.macs_forward == 100352);     // 2048*7*7 = 100,352
  CHECK(n.macs_backward == 200704);    // 2 * 100,352

  OpError err = failure("batchnorm", {tensor({})});
  CHECK(err.message == "batchnorm expects a tensor with a channel dimension");
  CHECK(err.param == 0);
}

TEST_CASE("ops: layernorm") {
  // BERT-base layer norm over [128, 768].
  OpResult r = apply("layernorm", {tensor({128, 768})});
  CHECK(r.output.shape == Shape{128, 768});
  CHECK(r.params == 1536);             // gamma and beta over the last dimension: 2*768 = 1536
  CHECK(r.state == 0);                 // no running statistics
  CHECK(r.macs_forward == 98304);      // 128*768 = 98,304
  CHECK(r.macs_backward == 196608);    // 2 * 98,304

  OpError err = failure("layernorm", {tensor({})});
  CHECK(err.message == "layernorm expects a tensor with a feature dimension");
  CHECK(err.param == 0);
}

TEST_CASE("ops: lrn") {
  // AlexNet norm1 over 96x55x55, size 5 (the default).
  OpResult r = apply("lrn", {tensor({96, 55, 55})});
  CHECK(r.output.shape == Shape{96, 55, 55});
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 1452000);    // sum of squares over 5 channels: 5 * 96*55*55 = 5 * 290,400 = 1,452,000
  CHECK(r.macs_backward == 2904000);   // 2 * 1,452,000
  CHECK(r.attributes == "size=5 alpha=0.0001 beta=0.75 k=1");
  // GoogLeNet norm with size 3 (illustrative): 3 * 64*56*56 = 3 * 200,704 = 602,112
  OpResult s = apply("lrn", {tensor({64, 56, 56})}, {ints("size", {3})});
  CHECK(s.macs_forward == 602112);
  CHECK(s.macs_backward == 1204224);   // 2 * 602,112

  OpError err = failure("lrn", {tensor({96, 55, 55})}, {ints("size", {0})});
  CHECK(err.message == "'size' must be positive, got 0");
  CHECK(err.param == 1);
}

// ---- data movement ----------------------------------------------------------

TEST_CASE("ops: concat") {
  // GoogLeNet inception (3a) output: 64 + 128 + 32 + 32 = 256 channels of 28x28.
  OpResult r = apply("concat", {tensor({64, 28, 28}), tensor({128, 28, 28}), tensor({32, 28, 28}), tensor({32, 28, 28})});
  CHECK(r.output.shape == Shape{256, 28, 28});
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);
  CHECK(r.macs_backward == 0);
  CHECK(r.attributes == "axis=0");
  // Along the last axis (features of a sequence): 768 + 768 = 1536.
  OpResult f = apply("concat", {tensor({128, 768}), tensor({128, 768})}, {ints("axis", {-1})});
  CHECK(f.output.shape == Shape{128, 1536});
  // Along axis 0 (tokens): 10 + 118 = 128.
  OpResult t = apply("concat", {tensor({10, 768}), tensor({118, 768})}, {ints("axis", {0})});
  CHECK(t.output.shape == Shape{128, 768});
}

TEST_CASE("ops: concat errors") {
  OpError err = failure("concat", {tensor({256, 28, 28}), tensor({128, 14, 14})});
  CHECK(err.message == "concat along axis 0: shapes [256, 28, 28] and [128, 14, 14] differ in another dimension");
  err = failure("concat", {tensor({256, 28, 28}), tensor({128, 28})});
  CHECK(err.message == "concat along axis 0: shapes [256, 28, 28] and [128, 28] differ in another dimension");
  err = failure("concat", {tensor({64, 28, 28})});
  CHECK(err.message == "concat needs at least two tensors, got 1");
  CHECK(err.param == -1);
  err = failure("concat", {tensor({64, 28, 28}), tensor({64, 28, 28})}, {ints("axis", {3})});
  CHECK(err.message == "axis 3 is out of range for [64, 28, 28]");
  CHECK(err.param == param_of("concat", "axis"));
  CHECK(err.param == 1);
}

TEST_CASE("ops: flatten") {
  // VGG-16 before fc6: 512x7x7 -> 25088.
  OpResult r = apply("flatten", {tensor({512, 7, 7}, DType::f16)});
  CHECK(r.output.shape == Shape{25088});  // 512*7*7 = 25,088
  CHECK(r.output.dtype == DType::f16);
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);
  CHECK(r.macs_backward == 0);
  CHECK(apply("flatten", {tensor({2048})}).output.shape == Shape{2048});
}

TEST_CASE("ops: reshape") {
  OpResult r = apply("reshape", {tensor({25088})}, {ints("shape", {512, 7, 7})});
  CHECK(r.output.shape == Shape{512, 7, 7});
  CHECK(r.params == 0);
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);
  CHECK(r.macs_backward == 0);
  // Split heads: [128, 768] -> [128, 12, -1] = [128, 12, 64] (98,304 / (128*12) = 64).
  CHECK(apply("reshape", {tensor({128, 768})}, {ints("shape", {128, 12, -1})}).output.shape == Shape{128, 12, 64});
  CHECK(apply("reshape", {tensor({3, 224, 224})}, {ints("shape", {-1})}).output.shape == Shape{150528});
}

TEST_CASE("ops: reshape errors") {
  // 2048*7*7 = 100,352 elements into 1000
  OpError err = failure("reshape", {tensor({2048, 7, 7})}, {ints("shape", {1000})});
  CHECK(err.message == "reshape: cannot reshape [2048, 7, 7] (100352 elements) to [1000] (1000 elements)");
  CHECK(err.param == param_of("reshape", "shape"));
  CHECK(err.param == 1);
  // 3*224*224 = 150,528 is not a multiple of 1000
  err = failure("reshape", {tensor({3, 224, 224})}, {ints("shape", {-1, 1000})});
  CHECK(err.message == "reshape: cannot reshape [3, 224, 224] (150528 elements) to [-1, 1000]");
  CHECK(err.param == 1);
  err = failure("reshape", {tensor({128, 768})}, {ints("shape", {-1, -1})});
  CHECK(err.message == "reshape: at most one dimension may be -1");
  CHECK(err.param == 1);
  err = failure("reshape", {tensor({128, 768})}, {ints("shape", {128, 0})});
  CHECK(err.message == "reshape: dimension 0 must be positive (or -1)");
  CHECK(err.param == 1);
}

// ---- embedding --------------------------------------------------------------

TEST_CASE("ops: embedding") {
  // BERT-base word embeddings: 30522 x 768 over 128 token ids.
  OpResult r = apply("embedding", {tensor({128}, DType::i64)}, {ints("vocab", {30522}), ints("dim", {768})});
  CHECK(r.output.shape == Shape{128, 768});
  CHECK(r.output.dtype == DType::f32);  // vectors, not ids
  CHECK(r.params == 23440896);          // 30522*768 = 23,440,896
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);           // a lookup, no multiply-accumulates
  CHECK(r.macs_backward == 0);
  CHECK(r.attributes == "vocab=30522 dim=768");
  // i32 ids, a [batch-of-sentences, tokens] shape gains a trailing dim.
  OpResult s = apply("embedding", {tensor({4, 16}, DType::i32)}, {ints("vocab", {1000}), ints("dim", {64})});
  CHECK(s.output.shape == Shape{4, 16, 64});
  CHECK(s.params == 64000);             // 1000*64
}

TEST_CASE("ops: embedding errors") {
  OpError err = failure("embedding", {tensor({128}, DType::f32)}, {ints("vocab", {30522}), ints("dim", {768})});
  CHECK(err.message == "embedding expects integer token ids (i32 or i64), got f32");
  CHECK(err.param == 0);
  err = failure("embedding", {tensor({128}, DType::bf16)}, {ints("vocab", {30522}), ints("dim", {768})});
  CHECK(err.message == "embedding expects integer token ids (i32 or i64), got bf16");
  CHECK(err.param == 0);
  err = failure("embedding", {tensor({128}, DType::i64)}, {ints("vocab", {0}), ints("dim", {768})});
  CHECK(err.message == "'vocab' must be positive, got 0");
  CHECK(err.param == 1);
  err = failure("embedding", {tensor({128}, DType::i64)}, {ints("vocab", {30522}), ints("dim", {-768})});
  CHECK(err.message == "'dim' must be positive, got -768");
  CHECK(err.param == 2);
}

TEST_CASE("ops: position_embedding") {
  // BERT-base: 512 learned positions of 768 features, added to 128 tokens.
  OpResult r = apply("position_embedding", {tensor({128, 768})}, {ints("max_length", {512})});
  CHECK(r.output.shape == Shape{128, 768});
  CHECK(r.params == 393216);  // 512*768 = 393,216
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 0);  // an addition: no multiply-accumulates
  CHECK(r.macs_backward == 0);
  CHECK(r.attributes == "max_length=512");
  OpError err = failure("position_embedding", {tensor({1024, 768})}, {ints("max_length", {512})});
  CHECK(err.message == "a sequence of 1024 tokens is longer than max_length = 512");
  CHECK(err.param == 1);
  err = failure("position_embedding", {tensor({3, 32, 32})}, {ints("max_length", {512})});
  CHECK(err.message == "position_embedding expects a sequence [tokens, features], got [3, 32, 32]");
}

TEST_CASE("ops: select") {
  // BERT's pooler reads the first ([CLS]) token of [128, 768].
  OpResult r = apply("select", {tensor({128, 768})}, {ints("index", {0})});
  CHECK(r.output.shape == Shape{768});
  CHECK(r.params == 0);
  CHECK(r.macs_forward == 0);
  CHECK(r.attributes == "index=0 axis=0");
  OpResult last = apply("select", {tensor({4, 8, 16})}, {ints("index", {-1}), ints("axis", {1})});
  CHECK(last.output.shape == Shape{4, 16});
  OpError err = failure("select", {tensor({128, 768})}, {ints("index", {128})});
  CHECK(err.message == "index 128 is out of range for a dimension of 128");
  CHECK(err.param == 1);
  err = failure("select", {tensor({128, 768})}, {ints("index", {0}), ints("axis", {2})});
  CHECK(err.message == "axis 2 is out of range for [128, 768]");
  err = failure("select", {tensor({768})}, {ints("index", {0})});
  CHECK(err.message == "select needs a tensor of rank 2 or more, got [768]");
}

// ---- recurrent --------------------------------------------------------------

TEST_CASE("ops: lstm two layers bidirectional") {
  // [100, 300] (e.g. GloVe-300 tokens), hidden 256, 2 layers, bidirectional.
  // One bias vector per gate: per direction 4*(h*(in + h) + h).
  OpResult r = apply("lstm", {tensor({100, 300})},
                     {ints("hidden", {256}), ints("layers", {2}), flag("bidirectional", true)});
  CHECK(r.output.shape == Shape{100, 512});  // sequences by default; 2 directions * 256
  // layer 0: 2 * (4*256*(300 + 256) + 4*256) = 2 * (569,344 + 1024) = 1,140,736
  // layer 1 (input 2*256 = 512): 2 * (4*256*(512 + 256) + 4*256) = 2 * (786,432 + 1024) = 1,574,912
  CHECK(r.params == 2715648);                // 1,140,736 + 1,574,912 = 2,715,648
  CHECK(r.state == 0);
  // layer 0: 2 * 100 * 569,344 = 113,868,800; layer 1: 2 * 100 * 786,432 = 157,286,400
  CHECK(r.macs_forward == 271155200);        // 113,868,800 + 157,286,400 = 271,155,200
  CHECK(r.macs_backward == 542310400);       // 2 * 271,155,200
  CHECK(r.attributes == "hidden=256 layers=2 bidirectional=true sequences=true");
}

TEST_CASE("ops: lstm single layer last state") {
  // [50, 128], hidden 64, returning only the last state.
  OpResult r = apply("lstm", {tensor({50, 128})}, {ints("hidden", {64}), flag("sequences", false)});
  CHECK(r.output.shape == Shape{64});
  CHECK(r.params == 49408);           // 4 * (64*(128 + 64) + 64) = 4 * (12,288 + 64) = 49,408
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 2457600);   // 50 * 4*64*(128 + 64) = 50 * 49,152 = 2,457,600
  CHECK(r.macs_backward == 4915200);  // 2 * 2,457,600
  // bidirectional, last state of both directions: [2*64]
  CHECK(apply("lstm", {tensor({50, 128})}, {ints("hidden", {64}), flag("bidirectional", true), flag("sequences", false)})
            .output.shape == Shape{128});
}

TEST_CASE("ops: gru") {
  // [20, 32], hidden 64, one layer: 3 gates, one bias vector per gate.
  OpResult r = apply("gru", {tensor({20, 32})}, {ints("hidden", {64})});
  CHECK(r.output.shape == Shape{20, 64});
  CHECK(r.params == 18624);          // 3 * (64*(32 + 64) + 64) = 3 * (6144 + 64) = 18,624
  CHECK(r.state == 0);
  CHECK(r.macs_forward == 368640);   // 20 * 3*64*(32 + 64) = 20 * 18,432 = 368,640
  CHECK(r.macs_backward == 737280);  // 2 * 368,640

  // [50, 128], hidden 256, 2 layers, bidirectional.
  OpResult b = apply("gru", {tensor({50, 128})}, {ints("hidden", {256}), ints("layers", {2}), flag("bidirectional", true)});
  CHECK(b.output.shape == Shape{50, 512});
  // layer 0: 2 * (3*256*(128 + 256) + 3*256) = 2 * (294,912 + 768) = 591,360
  // layer 1: 2 * (3*256*(512 + 256) + 3*256) = 2 * (589,824 + 768) = 1,181,184
  CHECK(b.params == 1772544);        // 591,360 + 1,181,184 = 1,772,544
  CHECK(b.state == 0);
  // layer 0: 2*50*294,912 = 29,491,200; layer 1: 2*50*589,824 = 58,982,400
  CHECK(b.macs_forward == 88473600); // 29,491,200 + 58,982,400 = 88,473,600
  CHECK(b.macs_backward == 176947200);  // 2 * 88,473,600
}

TEST_CASE("ops: recurrent errors") {
  OpError err = failure("lstm", {tensor({10, 3, 4})}, {ints("hidden", {64})});
  CHECK(err.message == "lstm expects a sequence [steps, features], got [10, 3, 4]");
  CHECK(err.param == 0);
  err = failure("gru", {tensor({300})}, {ints("hidden", {64})});
  CHECK(err.message == "gru expects a sequence [steps, features], got [300]");
  CHECK(err.param == 0);
  err = failure("lstm", {tensor({10, 300})}, {ints("hidden", {0})});
  CHECK(err.message == "'hidden' must be positive, got 0");
  CHECK(err.param == 1);
  err = failure("gru", {tensor({10, 300})}, {ints("hidden", {64}), ints("layers", {0})});
  CHECK(err.message == "'layers' must be positive, got 0");
  CHECK(err.param == 2);
}

// ---- attention --------------------------------------------------------------

TEST_CASE("ops: attention BERT-base") {
  // T = 128, D = 768, 12 heads, with biases.
  OpResult r = apply("attention", {tensor({128, 768})}, {ints("heads", {12})});
  CHECK(r.output.shape == Shape{128, 768});
  CHECK(r.params == 2362368);          // Q, K, V, O: 4*768*768 + 4*768 = 2,359,296 + 3072 = 2,362,368
  CHECK(r.state == 0);
  // projections 4*T*D^2 = 4*128*589,824 = 301,989,888;
  // scores Q.K^T and weighted sum of V: 2*T^2*D = 2*16,384*768 = 25,165,824
  CHECK(r.macs_forward == 327155712);  // 301,989,888 + 25,165,824 = 327,155,712
  CHECK(r.macs_backward == 654311424); // 2 * 327,155,712
  CHECK(r.attributes == "heads=12 causal=false bias=true");
}

TEST_CASE("ops: attention without bias") {
  // GPT-2 small sized, T = 1024, D = 768, 12 heads, projections without bias.
  OpResult r = apply("attention", {tensor({1024, 768})}, {ints("heads", {12}), flag("bias", false)});
  CHECK(r.output.shape == Shape{1024, 768});
  CHECK(r.params == 2359296);           // 4*768*768 = 2,359,296
  CHECK(r.state == 0);
  // 4*1024*768^2 = 2,415,919,104; 2*1024^2*768 = 1,610,612,736
  CHECK(r.macs_forward == 4026531840);  // 2,415,919,104 + 1,610,612,736 = 4,026,531,840
  CHECK(r.macs_backward == 8053063680); // 2 * 4,026,531,840
}

TEST_CASE("ops: attention errors") {
  OpError err = failure("attention", {tensor({128, 768})}, {ints("heads", {10})});
  CHECK(err.message == "attention: 10 heads do not divide the model dimension 768");
  CHECK(err.param == param_of("attention", "heads"));
  CHECK(err.param == 1);
  err = failure("attention", {tensor({768})}, {ints("heads", {12})});
  CHECK(err.message == "attention expects a sequence [tokens, features], got [768]");
  CHECK(err.param == 0);
  err = failure("attention", {tensor({128, 768})}, {ints("heads", {0})});
  CHECK(err.message == "'heads' must be positive, got 0");
  CHECK(err.param == 1);
}

TEST_CASE("ops: grouped-query attention, Llama 3 8B's layer") {
  // D = 4096, 32 heads of 128, 8 key-value heads (K and V 1,024 wide), no
  // biases (Meta's params.json for Llama 3 8B); T = 2,048.
  std::vector<NamedAttr> llama{ints("heads", {32}), ints("kv_heads", {8}), flag("bias", false), flag("causal", true),
                               flag("rotary", true)};
  OpResult r = apply("attention", {tensor({2048, 4096})}, llama);
  // q_proj and o_proj 4096 x 4096 (16,777,216 each), k_proj and v_proj 1024 x 4096 (4,194,304 each)
  CHECK(r.params == 41943040);
  // projections 2048 * 41,943,040 = 85,899,345,920; scores and values 2 * 2048^2 * 4096 = 34,359,738,368:
  // without flash the masked half is computed too
  CHECK(r.macs_forward == 120259084288);
  CHECK(r.macs_backward == 240518168576);
  // the input's gradient through Q, K and V: 2048 * (4096^2 + 2 * 4096 * 1024) = 51,539,607,552
  CHECK(r.macs_input_gradient == 51539607552);
  // kept: Q and context 2 * 2048 * 4096, K and V 2 * 2048 * 1024, probabilities 32 * 2048^2
  CHECK(r.kept == 16777216 + 4194304 + 134217728);
  CHECK(r.scratch_forward == 4 * 134217728);   // scores written and read, probabilities written and read
  CHECK(r.scratch_backward == 7 * 134217728);
  CHECK(r.attributes == "heads=32 kv_heads=8 causal=true bias=false rotary=true");

  // Flash attention skips the masked blocks: 2048 * 2049 / 2 = 2,098,176 pairs, 4096 MACs each, twice;
  // backward computes the scores again; the probabilities never reach memory (one log-sum-exp per head and query).
  llama.push_back(flag("flash", true));
  OpResult f = apply("attention", {tensor({2048, 4096})}, llama);
  CHECK(f.params == 41943040);
  CHECK(f.macs_forward == 85899345920 + 2 * 8594128896LL);          // 103,087,603,712
  CHECK(f.macs_backward == 2 * f.macs_forward + 8594128896LL);       // 214,769,336,320
  CHECK(f.kept == 16777216 + 4194304 + 32 * 2048);
  CHECK(f.scratch_forward == 0);
  CHECK(f.scratch_backward == 0);
  // Model FLOPs count every query-key pair either way (Megatron-LM's and PaLM's convention).
  CHECK(f.macs_model == r.macs_forward);
  CHECK(r.macs_model == r.macs_forward);
  // Flash without a causal mask computes every pair.
  OpResult full = apply("attention", {tensor({2048, 4096})},
                        {ints("heads", {32}), ints("kv_heads", {8}), flag("bias", false), flag("flash", true)});
  CHECK(full.macs_forward == r.macs_forward);
}

TEST_CASE("ops: multi-query attention and kv_heads errors") {
  // One key-value head of 128: K and V are 4096 x 128 each.
  OpResult r = apply("attention", {tensor({16, 4096})}, {ints("heads", {32}), ints("kv_heads", {1}), flag("bias", false)});
  CHECK(r.params == 2 * 16777216 + 2 * 524288);
  // With biases: 2 * 4096 (Q, O) + 2 * 128 (K, V)
  r = apply("attention", {tensor({16, 4096})}, {ints("heads", {32}), ints("kv_heads", {1})});
  CHECK(r.params == 2 * 16777216 + 2 * 524288 + 2 * 4096 + 2 * 128);
  OpError err = failure("attention", {tensor({16, 4096})}, {ints("heads", {32}), ints("kv_heads", {3})});
  CHECK(err.message == "kv_heads = 3 must divide heads = 32 (each key-value head serves a group of query heads)");
  CHECK(err.param == param_of("attention", "kv_heads"));
  err = failure("attention", {tensor({16, 4096})}, {ints("heads", {32}), ints("kv_heads", {64})});
  CHECK(err.message == "kv_heads = 64 must divide heads = 32 (each key-value head serves a group of query heads)");
  err = failure("attention", {tensor({16, 4096})}, {ints("heads", {32}), ints("kv_heads", {0})});
  CHECK(err.message == "'kv_heads' must be positive, got 0");
}

TEST_CASE("ops: rmsnorm, silu and swiglu") {
  // RMSNorm has a gain and no bias: D parameters (Llama's input_layernorm.weight).
  OpResult r = apply("rmsnorm", {tensor({4096, 4096})});
  CHECK(r.output.shape == Shape{4096, 4096});
  CHECK(r.params == 4096);
  CHECK(r.macs_forward == 16777216);
  CHECK(r.macs_backward == 33554432);
  check_passthrough("silu", tensor({2048, 11008}));
  // Llama 2 7B's MLP: one projection to [gate, up] of 2 * 11,008, then silu(gate) * up.
  OpResult g = apply("swiglu", {tensor({2048, 22016})});
  CHECK(g.output.shape == Shape{2048, 11008});
  CHECK(g.params == 0);
  CHECK(g.macs_forward == 0);
  OpError err = failure("swiglu", {tensor({3, 5})});
  CHECK(err.message ==
        "swiglu splits the last dimension into a gate and a value of equal width; [3, 5] has no even last dimension");
  CHECK(err.param == 0);
  CHECK(failure("rmsnorm", {tensor({})}).message == "rmsnorm expects a tensor with a feature dimension");
}

TEST_CASE("ops: lm_head, untied and tied") {
  // Llama 2 7B: 4096 positions, D = 4096, a 32,000-token vocabulary, lm_head.weight 32000 x 4096.
  OpResult r = apply("lm_head", {tensor({4096, 4096})}, {ints("vocab", {32000})});
  CHECK(r.output.shape == Shape{4096, 32000});
  CHECK(r.params == 131072000);
  CHECK(r.macs_forward == 536870912000);   // 4096 * 4096 * 32000
  CHECK(r.macs_backward == 1073741824000);
  CHECK(r.macs_input_gradient == 536870912000);
  CHECK(r.scratch_forward == 131072000);   // the loss reads the logits once more
  // GPT-2 ties it to the token embedding: no parameters of its own, the same work.
  OpResult t = apply("lm_head", {tensor({1024, 768})}, {ints("vocab", {50257}), flag("tied", true)});
  CHECK(t.params == 0);
  CHECK(t.active_params == 0);
  CHECK(t.macs_forward == 1024LL * 768 * 50257);
  CHECK(t.attributes == "vocab=50257 tied=true");
  CHECK(failure("lm_head", {tensor({8, 16})}, {ints("vocab", {0})}).message == "'vocab' must be positive, got 0");
}

TEST_CASE("ops: moe, Mixtral 8x7B's layer") {
  // D = 4096, 8 experts of SwiGLU width 14,336, top 2 (Mixtral's config.json); T = 4,096 tokens.
  std::vector<NamedAttr> mixtral{ints("experts", {8}), ints("top_k", {2}), ints("hidden", {14336})};
  OpResult r = apply("moe", {tensor({4096, 4096})}, mixtral);
  CHECK(r.output.shape == Shape{4096, 4096});
  // router 4096 * 8 = 32,768; each expert w1, w3, w2: 3 * 4096 * 14336 = 176,160,768
  CHECK(r.params == 32768 + 8 * 176160768LL);         // 1,409,318,912
  CHECK(r.active_params == 32768 + 2 * 176160768LL);  // 352,354,304
  // capacity 1: ceil(4096 * 2 / 8) = 1,024 tokens per expert, 8,192 routed
  CHECK(r.macs_forward == 4096LL * 4096 * 8 + 8192LL * 176160768);  // 1,443,243,229,184
  CHECK(r.macs_backward == 2 * r.macs_forward);
  CHECK(r.macs_input_gradient == 4096LL * 4096 * 8 + 8192LL * 2 * 4096 * 14336);
  CHECK(r.kept == 8192LL * (4096 + 3 * 14336) + 4096 * 8);  // 385,908,736
  CHECK(r.scratch_forward == 4 * 8192LL * 4096);
  // A capacity factor of 1.25 computes 1,280 slots per expert, padding included.
  mixtral.push_back(number("capacity", 1.25));
  OpResult c = apply("moe", {tensor({4096, 4096})}, mixtral);
  CHECK(c.macs_forward == 4096LL * 4096 * 8 + 10240LL * 176160768);
  // Model FLOPs count each token's top-k experts, not the padding.
  CHECK(c.macs_model == 4096LL * 4096 * 8 + 4096LL * 2 * 176160768);
  CHECK(r.macs_model == r.macs_forward);
  CHECK(c.params == r.params);
  // Without gating, two projections per expert.
  OpResult plain = apply("moe", {tensor({64, 512})}, {ints("experts", {4}), ints("top_k", {1}), ints("hidden", {2048}),
                                                      flag("gated", false)});
  CHECK(plain.params == 512 * 4 + 4 * 2 * 512 * 2048);
  CHECK(plain.macs_forward == 64 * 512 * 4 + 64LL * 2 * 512 * 2048);
  OpError err = failure("moe", {tensor({64, 512})}, {ints("experts", {2}), ints("top_k", {3}), ints("hidden", {8})});
  CHECK(err.message == "top_k = 3 is more than the 2 experts");
  CHECK(err.param == param_of("moe", "top_k"));
  err = failure("moe", {tensor({64, 512})},
                {ints("experts", {2}), ints("top_k", {1}), ints("hidden", {8}), number("capacity", 0)});
  CHECK(err.message == "capacity must be a positive factor, got 0");
  CHECK(failure("moe", {tensor({512})}, {ints("experts", {2}), ints("top_k", {1}), ints("hidden", {8})}).message ==
        "moe expects a sequence [tokens, features], got [512]");
}

// ---- sizes beyond int64 -----------------------------------------------------

TEST_CASE("ops: results too large to represent are errors") {
  // 2^31 x 2^31 by 2^31 -> 2^93 MACs saturate.
  const std::int64_t big = std::int64_t{1} << 31;
  OpError err = failure("matmul", {tensor({big, big}), tensor({big, big})});
  CHECK(err.message == "result is too large to represent: output [2147483648, 2147483648]");
  CHECK(err.param == -1);
}
