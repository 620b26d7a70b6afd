// The evaluator's internals, shared by its two source files: evaluator.cpp
// (expressions, statements, models) and calls.cpp (ops, blocks, builtins and
// argument binding). Not part of the compiler's interface.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compiler/evaluator.hpp"
#include "compiler/ops.hpp"

namespace dlc::compiler::detail {

using namespace lang::ast;
using lang::Diagnostics;
using lang::Dimension;
using lang::SourceRange;
using lang::Tok;

struct Abort {};  // a budget ran out: stop this instantiation

// A naming scope: the prefix of the layers created in it, and counters that
// number repeated ops and blocks (conv1, conv2, bottleneck1, ...). Scopes
// persist, so re-entering one (a second loop with the same variable) keeps
// counting and names stay unique.
struct ScopeNode {
  std::string prefix;
  std::map<std::string, int> counters;
  std::map<std::string, std::unique_ptr<ScopeNode>> children;
  std::map<std::string, SourceRange> named_blocks;  // name = "..." of block calls made here

  ScopeNode* child(const std::string& name) {
    auto& c = children[name];
    if (!c) {
      c = std::make_unique<ScopeNode>();
      c->prefix = prefix + name + ".";
    }
    return c.get();
  }
};

struct Frame {
  const Decl* decl = nullptr;
  SourceRange call_site;   // the callee's name at the call, for notes
  SourceRange call_range;  // the whole call
  std::map<std::string, Value, std::less<>> vars;
  bool returned = false;
  Value result;
};

struct Args {
  std::vector<Value> positional;
  std::vector<std::pair<const Identifier*, Value>> named;
  const Value* layer_name = nullptr;  // the reserved name = "..." argument
};

}  // namespace dlc::compiler::detail

namespace dlc::compiler {

using namespace detail;

struct Evaluator::Impl {
  const Symbols& symbols;
  Diagnostics& diags;
  bool property_ctx = false;
  ModelGraph* graph = nullptr;
  std::map<std::string, int> layer_names;
  ScopeNode root;
  ScopeNode* scope = &root;
  // Loop iterations name a scope only once something is created in it, so a
  // loop that builds no layers costs no memory per iteration.
  std::vector<std::string> pending_scopes;
  std::vector<Frame> frames;  // the model, then one per block call
  std::size_t steps = 0;      // evaluation budget used
  const Decl* root_model = nullptr;  // the model being instantiated (through any aliases)

  EvaluationLimits limits;

  Impl(const Symbols& s, Diagnostics& d, const EvaluationLimits& l) : symbols(s), diags(d), limits(l) {}

  Frame& frame() { return frames.back(); }
  ScopeNode* current_scope();

  lang::Diagnostic& error(SourceRange at, std::string message);

  Value fail(SourceRange at, std::string message);

  void step(SourceRange at);

  Value eval(const Expr& e);

  Value name(const Expr& e);

  Value unary(const Expr& e);

  static const char* verb(Tok op);

  Value binary(const Expr& e);

  Value apply_binary(const Expr& e, Tok op, const Value& a, const Value& b);

  Value checked_real(const Expr& e, double v, Dimension d);

  Value index(const Expr& e);

  bool eval_args(const Expr& e, Args& args);

  Value call(const Expr& e);

  std::string layer_name_override(const Args& args, bool& given, bool& ok);

  int add_layer(Layer layer);

  Value tensor_value(int layer, SourceRange at);

  // Converts one argument to the op's parameter type; false on a type error.
  bool bind_op_arg(const OpDef& op, std::size_t i, const Value& v, OpArgs& out, std::vector<int>& inputs);

  Value call_op(const OpDef& op, const Expr& e);

  // Binds a call's arguments to a block's or model's parameters in `f`.
  bool bind_params(const Decl& d, const Args& args, Frame& f, SourceRange call_range);

  bool check_param_type(const Decl& d, const Param& p, const Value& v);

  Value call_block(const Decl& block, const Expr& e);

  Value call_builtin(const Expr& e);

  void exec(const std::vector<StmtPtr>& body);

  void exec(const Stmt& s);

  void input(const Stmt& s);

  void repeat(const Stmt& s);

  void for_each(const Stmt& s);

  void iterate(const Stmt& s, const Value& first, const Value* second, const std::string& label);

  bool run_model(const Decl& model, const Args& args, SourceRange call_site, ModelGraph& out, int depth = 0);

  bool instantiate(const Decl& model, const Args& args, SourceRange call_site, ModelGraph& out);
};

}  // namespace dlc::compiler
