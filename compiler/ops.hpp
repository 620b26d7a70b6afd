// The operator table: for every op of the language, in one place, its
// signature, shape rule, trainable parameters, non-trainable state, forward
// and backward multiply-accumulates. The evaluator binds a call's arguments
// against the signature and asks the op for its result; stats, the simulator
// and the runtime read the numbers from the layers it produced.
//
// Conventions (see docs/language.md for each formula):
//   - shapes are per sample: [C, H, W] for images, [T, D] for sequences;
//   - MACs are multiply-accumulates (FLOPs = 2 x MACs);
//   - backward MACs = data gradient + weight gradient, derived per op;
//     macs_input_gradient is the part that computes the gradients of the
//     op's tensor inputs, which a layer fed only by data (the model's input)
//     does not need: the evaluator subtracts it there.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::compiler {

enum class DType { f64, f32, tf32, f16, bf16, fp8, i64, i32, i8, boolean };

std::string_view dtype_name(DType t);
bool parse_dtype(std::string_view name, DType& out);
std::int64_t dtype_bytes(DType t);
bool is_integer(DType t);
std::vector<std::string> dtype_names();

using Shape = std::vector<std::int64_t>;
std::string shape_string(const Shape& s);  // "[3, 224, 224]"

struct TensorInfo {
  Shape shape;
  DType dtype = DType::f32;
  std::int64_t elements() const;
};

// The class an op belongs to, for per-class efficiencies in the device models.
enum class OpClass { conv, matmul, elementwise, normalization, pooling, recurrent, attention,
                     data_movement, embedding, input };
std::string_view op_class_name(OpClass c);

enum class ArgType {
  tensor,    // one tensor
  tensors,   // any number of tensors (concat); must be the first parameter
  integer,   // an integer
  integers,  // an integer or a list of integers (kernel = 3 or kernel = [3, 5])
  boolean,
  number,    // a plain number (integer or real)
};

struct OpParam {
  std::string_view name;
  ArgType type;
  bool required;
  std::string_view default_value;  // as documented; parsed by the binder
};

// One call's arguments, bound to the op's parameters by position.
struct OpArgs {
  std::vector<TensorInfo> tensors;  // tensor arguments in order
  struct Attr {
    bool given = false;
    std::vector<std::int64_t> ints;
    double number = 0;
    bool flag = false;
  };
  std::vector<Attr> attrs;  // one per parameter (tensor parameters left empty)
  bool describe = false;    // fill OpResult::attributes (only dumps need the text)
};

// One matrix product of an op's forward pass, as a GEMM library runs it:
// an m x k by k x n product, `count` of them per sample. With `m_per_sample`
// the batch stacks the samples' rows into one product of m · batch rows (a
// fully connected layer, a convolution as implicit GEMM); without, each
// sample has its own `count` products (a batched GEMM: attention's heads).
// The simulator tiles them onto the device's multiprocessors
// (simulator/roofline.hpp, wave quantisation).
struct Gemm {
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t count = 1;
  bool m_per_sample = true;
};

struct OpResult {
  TensorInfo output;
  std::int64_t params = 0;         // trainable
  std::int64_t state = 0;          // non-trainable (running statistics)
  std::int64_t macs_forward = 0;
  std::int64_t macs_backward = 0;
  // The part of macs_backward that computes the inputs' gradients (all of it
  // for an op without parameters; finish() sets that default).
  std::int64_t macs_input_gradient = -1;
  // Parameters one token uses: a mixture of experts' router and top-k
  // experts (-1: all of them; finish() sets that default).
  std::int64_t active_params = -1;
  // Forward MACs the model's arithmetic needs, however it is computed (-1:
  // macs_forward): attention's scores over every query-key pair (as Megatron-LM
  // and PaLM count them for model FLOPs, flash or not), a mixture of experts'
  // top-k tokens without capacity padding. Model FLOPs (MFU) are 2 x these.
  std::int64_t macs_model = -1;
  // Elements the op keeps inside itself for its backward pass, beyond its
  // output, per sample: attention's Q, K, V, context and softmax probabilities.
  std::int64_t kept = 0;
  // Elements moved through device memory inside the op, beyond reading its
  // inputs and writing its output, per sample: attention's score matrix
  // (written and read again, unless flash attention keeps it on chip).
  std::int64_t scratch_forward = 0;
  std::int64_t scratch_backward = 0;
  std::vector<Gemm> gemms;         // the forward pass's matrix products (none: not a GEMM op)
  std::string attributes;          // "kernel=[3, 3] stride=[1, 1]", when OpArgs::describe
};

struct OpError {
  std::string message;
  int param = -1;  // parameter the error is about (-1: the call as a whole)
};

struct OpDef;
using InferFn = bool (*)(const OpDef&, const OpArgs&, OpResult&, OpError&);

struct OpDef {
  std::string_view name;
  OpClass op_class;
  std::vector<OpParam> params;
  InferFn infer;
  std::string_view summary;
  bool view = false;  // a new shape over its input's memory (flatten, reshape): no device work

  int param_index(std::string_view name) const;
};

const OpDef* find_op(std::string_view name);
// Arguments with every parameter at its default (the binder overrides them).
OpArgs default_args(const OpDef& op);
std::span<const OpDef> all_ops();

// Convenience for tests and tools: bind by name and infer. Values of
// attributes are given as integer lists, numbers and flags.
struct NamedAttr {
  std::string_view name;
  std::vector<std::int64_t> ints = {};
  double number = 0;
  bool flag = false;
};
bool apply_op(std::string_view op, const std::vector<TensorInfo>& inputs,
              const std::vector<NamedAttr>& attrs, OpResult& out, OpError& err);

}  // namespace dlc::compiler
