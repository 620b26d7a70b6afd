#include "compiler/evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>

#include "compiler/ops.hpp"

namespace dlc::compiler {

using namespace lang::ast;
using lang::Diagnostics;
using lang::Dimension;
using lang::SourceRange;
using lang::Tok;

// ---- values -----------------------------------------------------------------

Value Value::integer_value(std::int64_t v, SourceRange at) {
  Value r;
  r.kind = Kind::number;
  r.integral = true;
  r.integer = v;
  r.number = static_cast<double>(v);
  r.where = at;
  return r;
}
Value Value::real(double v, Dimension d, SourceRange at) {
  Value r;
  r.kind = Kind::number;
  r.number = v;
  r.dim = d;
  r.where = at;
  return r;
}
Value Value::boolean_value(bool b, SourceRange at) {
  Value r;
  r.kind = Kind::boolean;
  r.boolean = b;
  r.where = at;
  return r;
}
Value Value::string_value(std::string s, SourceRange at) {
  Value r;
  r.kind = Kind::string;
  r.text = std::move(s);
  r.where = at;
  return r;
}
Value Value::list(std::vector<Value> items, SourceRange at) {
  Value r;
  r.kind = Kind::list;
  r.items = std::make_shared<std::vector<Value>>(std::move(items));
  r.where = at;
  return r;
}
Value Value::symbol(std::string name, SourceRange at) {
  Value r;
  r.kind = Kind::symbol;
  r.text = std::move(name);
  r.where = at;
  return r;
}

std::string describe(const Value& v) {
  switch (v.kind) {
    case Value::Kind::poison: return "an invalid value";
    case Value::Kind::number:
      if (v.dim.dimensionless()) return v.integral ? "an integer" : "a number";
      return "a " + v.dim.describe();
    case Value::Kind::boolean: return "a boolean";
    case Value::Kind::string: return "a string";
    case Value::Kind::list: return "a list";
    case Value::Kind::tensor: return "a tensor";
    case Value::Kind::decl: return fmt::format("{} '{}'", decl_kind_name(v.decl->kind), v.decl->name.name);
    case Value::Kind::replicated:
      return fmt::format("{} x {} '{}'", v.count, decl_kind_name(v.decl->kind), v.decl->name.name);
    case Value::Kind::symbol: return fmt::format("the name '{}'", v.text);
    case Value::Kind::call: return fmt::format("'{}(...)'", v.text);
    case Value::Kind::per: return "a value 'per' something";
  }
  return "a value";
}

// ---- the evaluator ----------------------------------------------------------

namespace {

struct Abort {};  // a budget ran out: stop this instantiation

// A naming scope: the prefix of the layers created in it, and counters that
// number repeated ops and blocks (conv1, conv2, bottleneck1, ...). Scopes
// persist, so re-entering one (a second loop with the same variable) keeps
// counting and names stay unique.
struct ScopeNode {
  std::string prefix;
  std::map<std::string, int> counters;
  std::map<std::string, std::unique_ptr<ScopeNode>> children;

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
  SourceRange call_site;
  std::map<std::string, Value, std::less<>> vars;
  bool returned = false;
  Value result;
};

struct Args {
  std::vector<Value> positional;
  std::vector<std::pair<const Identifier*, Value>> named;
  const Value* layer_name = nullptr;  // the reserved name = "..." argument
};

}  // namespace

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

  ScopeNode* current_scope() {
    for (const std::string& label : pending_scopes) scope = scope->child(label);
    pending_scopes.clear();
    return scope;
  }
  std::vector<Frame> frames;
  std::size_t steps = 0;

  Impl(const Symbols& s, Diagnostics& d) : symbols(s), diags(d) {}

  // ---- diagnostics ----------------------------------------------------------

  lang::Diagnostic& error(SourceRange at, std::string message) {
    auto& d = diags.error(at, std::move(message));
    int shown = 0;
    for (auto f = frames.rbegin(); f != frames.rend() && shown < 4; ++f) {
      if (!f->call_site.valid() || !f->decl) continue;
      d.notes.push_back({f->call_site, fmt::format("in {} '{}' used here", decl_kind_name(f->decl->kind),
                                                   f->decl->name.name)});
      ++shown;
    }
    return d;
  }

  Value fail(SourceRange at, std::string message) {
    error(at, std::move(message));
    return Value::poison();
  }

  void step(SourceRange at) {
    if (++steps <= kMaxSteps) return;
    error(at, fmt::format("evaluation takes more than {} steps; is a loop bound too large?", kMaxSteps));
    throw Abort{};
  }

  Frame& frame() { return frames.back(); }

  // ---- expressions ----------------------------------------------------------

  Value eval(const Expr& e) {
    switch (e.kind) {
      case ExprKind::number: {
        Value v = Value::real(e.number, e.dim, e.range);
        v.integral = e.integral;
        v.integer = e.integer;
        return v;
      }
      case ExprKind::string: return Value::string_value(e.spelling, e.range);
      case ExprKind::boolean: return Value::boolean_value(e.integral, e.range);
      case ExprKind::name: return name(e);
      case ExprKind::list: {
        std::vector<Value> items;
        items.reserve(e.operands.size());
        for (const ExprPtr& o : e.operands) {
          items.push_back(eval(*o));
          if (items.back().is_poison()) return Value::poison();
        }
        return Value::list(std::move(items), e.range);
      }
      case ExprKind::unary: return unary(e);
      case ExprKind::binary: return binary(e);
      case ExprKind::ternary: {
        Value c = eval(*e.operands[0]);
        if (c.is_poison()) return c;
        if (c.kind != Value::Kind::boolean)
          return fail(e.operands[0]->range, fmt::format("condition must be a boolean, got {}", describe(c)));
        return eval(*e.operands[c.boolean ? 1 : 2]);
      }
      case ExprKind::index: return index(e);
      case ExprKind::call: return call(e);
      case ExprKind::per: {
        Value inner = eval(*e.operands[0]);
        if (inner.is_poison()) return inner;
        Value v;
        v.kind = Value::Kind::per;
        v.text = e.ident.name;
        v.items = std::make_shared<std::vector<Value>>(std::vector<Value>{inner});
        v.where = e.range;
        return v;
      }
    }
    return Value::poison();
  }

  Value name(const Expr& e) {
    if (!frames.empty()) {
      auto it = frame().vars.find(e.ident.name);
      if (it != frame().vars.end()) {
        Value v = it->second;
        v.where = e.range;
        return v;
      }
    }
    const Decl* d = symbols.find(e.ident.name);
    if (property_ctx) {
      if (!d) return Value::symbol(e.ident.name, e.range);
      Value v;
      v.kind = Value::Kind::decl;
      v.decl = d;
      v.where = e.range;
      return v;
    }
    if (d) {
      auto& err = error(e.range, fmt::format("'{}' is a {} and cannot be used as a value here", e.ident.name,
                                             decl_kind_name(d->kind)));
      err.notes.push_back({d->name.range, fmt::format("'{}' declared here", e.ident.name)});
      return Value::poison();
    }
    std::vector<std::string> known;
    for (const auto& [k, v] : frame().vars) known.push_back(k);
    std::string message = fmt::format("undefined name '{}'", e.ident.name);
    std::string close = lang::closest_match(e.ident.name, known);
    if (!close.empty()) message += fmt::format("; did you mean '{}'?", close);
    return fail(e.range, message);
  }

  Value unary(const Expr& e) {
    Value v = eval(*e.operands[0]);
    if (v.is_poison()) return v;
    if (e.op == Tok::bang) {
      if (v.kind != Value::Kind::boolean)
        return fail(e.range, fmt::format("'!' expects a boolean, got {}", describe(v)));
      return Value::boolean_value(!v.boolean, e.range);
    }
    if (v.kind != Value::Kind::number)
      return fail(e.range, fmt::format("'{}' expects a number, got {}", e.op == Tok::minus ? "-" : "+", describe(v)));
    if (e.op == Tok::minus) {
      if (v.integral) {
        if (v.integer == INT64_MIN) return fail(e.range, "integer overflow");
        v.integer = -v.integer;
      }
      v.number = -v.number;
    }
    v.where = e.range;
    return v;
  }

  static const char* verb(Tok op) {
    switch (op) {
      case Tok::plus: return "add";
      case Tok::minus: return "subtract";
      default: return "compare";
    }
  }

  Value binary(const Expr& e) {
    Tok op = e.op;
    Value a = eval(*e.operands[0]);
    if (a.is_poison()) return a;
    if (op == Tok::and_and || op == Tok::or_or) {
      const char* text = op == Tok::and_and ? "&&" : "||";
      if (a.kind != Value::Kind::boolean)
        return fail(e.operands[0]->range, fmt::format("'{}' expects booleans, got {}", text, describe(a)));
      if (a.boolean == (op == Tok::or_or)) return Value::boolean_value(a.boolean, e.range);
      Value b = eval(*e.operands[1]);
      if (b.is_poison()) return b;
      if (b.kind != Value::Kind::boolean)
        return fail(e.operands[1]->range, fmt::format("'{}' expects booleans, got {}", text, describe(b)));
      return Value::boolean_value(b.boolean, e.range);
    }
    Value b = eval(*e.operands[1]);
    if (b.is_poison()) return b;
    Value r = apply_binary(e, op, a, b);
    if (!r.is_poison()) r.where = e.range;
    return r;
  }

  Value apply_binary(const Expr& e, Tok op, const Value& a, const Value& b) {
    using K = Value::Kind;
    std::string op_text = describe(op);
    if (op == Tok::eq || op == Tok::ne) {
      bool same;
      if (a.kind == K::number && b.kind == K::number) {
        if (a.dim != b.dim)
          return fail(e.range, fmt::format("unit mismatch: cannot compare {} and {}", a.dim.describe(), b.dim.describe()));
        same = a.number == b.number;
      } else if (a.kind != b.kind) {
        return fail(e.range, fmt::format("cannot compare {} with {}", describe(a), describe(b)));
      } else if (a.kind == K::boolean) {
        same = a.boolean == b.boolean;
      } else if (a.kind == K::string || a.kind == K::symbol) {
        same = a.text == b.text;
      } else if (a.kind == K::decl) {
        same = a.decl == b.decl;
      } else {
        return fail(e.range, fmt::format("cannot compare {} with {}", describe(a), describe(b)));
      }
      return Value::boolean_value(op == Tok::eq ? same : !same);
    }
    if (op == Tok::plus && a.kind == K::list && b.kind == K::list) {
      if (a.elements().size() + b.elements().size() > kMaxListLength)
        return fail(e.range, fmt::format("list has more than {} elements", kMaxListLength));
      std::vector<Value> items = a.elements();
      items.insert(items.end(), b.elements().begin(), b.elements().end());
      return Value::list(std::move(items));
    }
    if (op == Tok::plus && a.kind == K::string && b.kind == K::string) return Value::string_value(a.text + b.text);
    if (op == Tok::star && ((a.kind == K::decl && b.is_int()) || (b.kind == K::decl && a.is_int()))) {
      const Value& d = a.kind == K::decl ? a : b;
      const Value& n = a.kind == K::decl ? b : a;
      if (n.integer < 1) return fail(n.where, fmt::format("a count must be positive, got {}", n.integer));
      Value r;
      r.kind = K::replicated;
      r.decl = d.decl;
      r.count = n.integer;
      return r;
    }
    if (a.kind != K::number || b.kind != K::number)
      return fail(e.range, fmt::format("'{}' cannot be applied to {} and {}", op_text.substr(1, op_text.size() - 2),
                                       describe(a), describe(b)));
    bool ints = a.integral && b.integral && a.dim.dimensionless() && b.dim.dimensionless();
    auto overflow = [&] { return fail(e.range, "integer overflow"); };
    switch (op) {
      case Tok::plus:
      case Tok::minus:
      case Tok::lt:
      case Tok::le:
      case Tok::gt:
      case Tok::ge:
        if (a.dim != b.dim)
          return fail(e.range, fmt::format("unit mismatch: cannot {} {} and {}", verb(op), a.dim.describe(),
                                           b.dim.describe()));
        break;
      default: break;
    }
    switch (op) {
      case Tok::plus:
      case Tok::minus: {
        if (ints) {
          std::int64_t r;
          if (op == Tok::plus ? __builtin_add_overflow(a.integer, b.integer, &r)
                              : __builtin_sub_overflow(a.integer, b.integer, &r))
            return overflow();
          return Value::integer_value(r);
        }
        return checked_real(e, op == Tok::plus ? a.number + b.number : a.number - b.number, a.dim);
      }
      case Tok::star: {
        if (ints) {
          std::int64_t r;
          if (__builtin_mul_overflow(a.integer, b.integer, &r)) return overflow();
          return Value::integer_value(r);
        }
        return checked_real(e, a.number * b.number, a.dim * b.dim);
      }
      case Tok::slash: {
        if (b.number == 0) return fail(e.operands[1]->range, "division by zero");
        if (ints && b.integer != -1 && a.integer % b.integer == 0) return Value::integer_value(a.integer / b.integer);
        return checked_real(e, a.number / b.number, a.dim / b.dim);
      }
      case Tok::percent: {
        if (!ints) return fail(e.range, fmt::format("'%' expects integers, got {} and {}", describe(a), describe(b)));
        if (b.integer == 0) return fail(e.operands[1]->range, "division by zero");
        if (b.integer == -1) return Value::integer_value(0);
        return Value::integer_value(a.integer % b.integer);
      }
      case Tok::shl:
      case Tok::shr: {
        if (!ints) return fail(e.range, fmt::format("'{}' expects integers, got {} and {}", op == Tok::shl ? "<<" : ">>",
                                                    describe(a), describe(b)));
        if (b.integer < 0 || b.integer > 62) return fail(e.operands[1]->range, fmt::format("shift by {} is out of range (0 to 62)", b.integer));
        if (op == Tok::shr) return Value::integer_value(a.integer >> b.integer);
        std::int64_t r = a.integer << b.integer;
        if ((r >> b.integer) != a.integer) return overflow();
        return Value::integer_value(r);
      }
      case Tok::lt: return Value::boolean_value(a.number < b.number);
      case Tok::le: return Value::boolean_value(a.number <= b.number);
      case Tok::gt: return Value::boolean_value(a.number > b.number);
      case Tok::ge: return Value::boolean_value(a.number >= b.number);
      default: break;
    }
    return fail(e.range, "unsupported operator");
  }

  Value checked_real(const Expr& e, double v, Dimension d) {
    if (!std::isfinite(v)) return fail(e.range, "arithmetic result is out of range");
    return Value::real(v, d);
  }

  Value index(const Expr& e) {
    Value base = eval(*e.operands[0]);
    Value i = eval(*e.operands[1]);
    if (base.is_poison() || i.is_poison()) return Value::poison();
    if (base.kind != Value::Kind::list)
      return fail(e.operands[0]->range, fmt::format("only lists can be indexed, got {}", describe(base)));
    if (!i.is_int()) return fail(e.operands[1]->range, fmt::format("an index must be an integer, got {}", describe(i)));
    auto n = static_cast<std::int64_t>(base.elements().size());
    std::int64_t k = i.integer < 0 ? i.integer + n : i.integer;
    if (k < 0 || k >= n)
      return fail(e.operands[1]->range, fmt::format("index {} is out of range for a list of {} element{}",
                                                    i.integer, n, n == 1 ? "" : "s"));
    Value v = base.elements()[static_cast<std::size_t>(k)];
    v.where = e.range;
    return v;
  }

  // ---- calls ----------------------------------------------------------------

  bool eval_args(const Expr& e, Args& args) {
    bool ok = true;
    for (const Argument& a : e.args) {
      Value v = eval(*a.value);
      if (v.is_poison()) ok = false;
      if (a.name) args.named.push_back({&*a.name, std::move(v)});
      else args.positional.push_back(std::move(v));
    }
    for (auto& [n, v] : args.named)
      if (n->name == "name") args.layer_name = &v;
    return ok;
  }

  Value call(const Expr& e) {
    const std::string& callee = e.ident.name;
    if (const OpDef* op = find_op(callee)) {
      if (property_ctx || !graph) return fail(e.range, fmt::format("'{}' can only be used in a model or block", callee));
      return call_op(*op, e);
    }
    if (find_builtin(callee)) return call_builtin(e);
    const Decl* d = symbols.find(callee);
    if (d && d->kind == DeclKind::block && graph) return call_block(*d, e);
    if (property_ctx) {
      Args args;
      if (!eval_args(e, args)) return Value::poison();
      Value v;
      v.kind = Value::Kind::call;
      v.text = callee;
      v.items = std::make_shared<std::vector<Value>>();
      v.names = std::make_shared<std::vector<std::string>>();
      for (Value& p : args.positional) {
        v.items->push_back(std::move(p));
        v.names->push_back("");
      }
      for (auto& [n, val] : args.named) {
        v.items->push_back(std::move(val));
        v.names->push_back(n->name);
      }
      v.where = e.range;
      return v;
    }
    return fail(e.ident.range, fmt::format("unknown operation or block '{}'", callee));
  }

  std::string layer_name_override(const Args& args, bool& given, bool& ok) {
    given = args.layer_name != nullptr;
    ok = true;
    if (!given) return {};
    if (args.layer_name->kind != Value::Kind::string) {
      error(args.layer_name->where, fmt::format("'name' must be a string, got {}", describe(*args.layer_name)));
      ok = false;
      return {};
    }
    const std::string& s = args.layer_name->text;
    for (char c : s)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
        error(args.layer_name->where, fmt::format("layer name \"{}\" may only contain letters, digits, '_' and '-'", s));
        ok = false;
        return {};
      }
    return s;
  }

  int add_layer(Layer layer) {
    if (graph->layers.size() >= kMaxLayers) {
      error(layer.where, fmt::format("model has more than {} layers", kMaxLayers));
      throw Abort{};
    }
    auto [it, inserted] = layer_names.emplace(layer.name, static_cast<int>(graph->layers.size()));
    if (!inserted) {
      auto& d = error(layer.where, fmt::format("duplicate layer name '{}'", layer.name));
      d.notes.push_back({graph->layers[it->second].where, "first used here"});
      return -1;
    }
    graph->layers.push_back(std::move(layer));
    return static_cast<int>(graph->layers.size()) - 1;
  }

  Value tensor_value(int layer, SourceRange at) {
    if (layer < 0) return Value::poison();
    Value v;
    v.kind = Value::Kind::tensor;
    v.layer = layer;
    v.where = at;
    return v;
  }

  // Converts one argument to the op's parameter type; false on a type error.
  bool bind_op_arg(const OpDef& op, std::size_t i, const Value& v, OpArgs& out, std::vector<int>& inputs) {
    const OpParam& p = op.params[i];
    auto wrong = [&](const char* expected) {
      error(v.where, fmt::format("argument '{}' of {} expects {}, got {}", p.name, op.name, expected, describe(v)));
      return false;
    };
    OpArgs::Attr& a = out.attrs[i];
    a.given = true;
    auto as_int = [&](const Value& x, std::int64_t& r) {
      if (x.is_int()) {
        r = x.integer;
        return true;
      }
      if (x.is_plain_number() && std::nearbyint(x.number) == x.number && std::fabs(x.number) < 9e18) {
        r = static_cast<std::int64_t>(x.number);
        return true;
      }
      return false;
    };
    switch (p.type) {
      case ArgType::tensor:
      case ArgType::tensors:
        if (v.kind == Value::Kind::list && p.type == ArgType::tensors) {
          for (const Value& x : v.elements())
            if (!bind_op_arg(op, i, x, out, inputs)) return false;
          return true;
        }
        if (v.kind != Value::Kind::tensor) return wrong("a tensor");
        out.tensors.push_back(graph->layers[v.layer].output);
        inputs.push_back(v.layer);
        return true;
      case ArgType::integer: {
        std::int64_t r;
        if (!as_int(v, r)) return wrong("an integer");
        a.ints = {r};
        return true;
      }
      case ArgType::integers: {
        std::int64_t r;
        if (as_int(v, r)) {
          a.ints = {r};
          return true;
        }
        if (v.kind != Value::Kind::list || v.elements().empty()) return wrong("an integer or a list of integers");
        a.ints.clear();
        for (const Value& x : v.elements()) {
          if (!as_int(x, r)) return wrong("an integer or a list of integers");
          a.ints.push_back(r);
        }
        return true;
      }
      case ArgType::boolean:
        if (v.kind != Value::Kind::boolean) return wrong("true or false");
        a.flag = v.boolean;
        return true;
      case ArgType::number:
        if (!v.is_plain_number()) return wrong("a plain number");
        a.number = v.number;
        return true;
    }
    return false;
  }

  Value call_op(const OpDef& op, const Expr& e) {
    Args args;
    if (!eval_args(e, args)) return Value::poison();
    bool named_given, name_ok;
    std::string override_name = layer_name_override(args, named_given, name_ok);
    if (!name_ok) return Value::poison();
    OpArgs oa = default_args(op);
    std::vector<int> inputs;
    std::vector<const Value*> bound(op.params.size(), nullptr);
    std::vector<std::pair<std::size_t, const Value*>> order;
    bool variadic = op.params[0].type == ArgType::tensors;
    for (std::size_t k = 0; k < args.positional.size(); ++k) {
      std::size_t i = variadic ? 0 : k;
      if (i >= op.params.size()) return fail(args.positional[k].where, fmt::format("too many arguments for {}", op.name));
      order.push_back({i, &args.positional[k]});
    }
    for (auto& [n, v] : args.named) {
      if (n->name == "name") continue;
      int i = op.param_index(n->name);
      if (i < 0) return fail(n->range, fmt::format("{} has no parameter '{}'", op.name, n->name));
      order.push_back({static_cast<std::size_t>(i), &v});
    }
    // Tensors are bound in parameter order (add(b = y, a = x) is add(x, y)).
    std::stable_sort(order.begin(), order.end(), [](auto& l, auto& r) { return l.first < r.first; });
    for (auto& [i, v] : order) {
      bound[i] = v;
      if (!bind_op_arg(op, i, *v, oa, inputs)) return Value::poison();
    }
    for (std::size_t i = 0; i < op.params.size(); ++i)
      if (!bound[i] && op.params[i].required)
        return fail(e.range, fmt::format("missing argument '{}' for {}", op.params[i].name, op.name));
    OpResult r;
    OpError err;
    if (!op.infer(op, oa, r, err)) {
      SourceRange at = e.range;
      if (err.param >= 0 && static_cast<std::size_t>(err.param) < bound.size() && bound[err.param] && !variadic)
        at = bound[err.param]->where;
      // Shape rules name their op where the sentence needs it ("fc expects ...");
      // the others get it as a prefix.
      bool named = err.message.starts_with(op.name);
      return fail(at, named ? err.message : fmt::format("{}: {}", op.name, err.message));
    }
    Layer layer;
    ScopeNode* in = current_scope();
    layer.name = in->prefix + (named_given ? override_name : fmt::format("{}{}", op.name, ++in->counters[std::string(op.name)]));
    layer.op = std::string(op.name);
    layer.op_class = op.op_class;
    layer.inputs = std::move(inputs);
    layer.output = r.output;
    layer.params = r.params;
    layer.state = r.state;
    layer.macs_forward = r.macs_forward;
    layer.macs_backward = r.macs_backward;
    layer.def = &op;
    layer.args = std::move(oa);
    layer.where = e.range;
    return tensor_value(add_layer(std::move(layer)), e.range);
  }

  // Binds a call's arguments to a block's or model's parameters in `f`.
  bool bind_params(const Decl& d, const Args& args, Frame& f, SourceRange call_range) {
    std::vector<bool> bound(d.params.size(), false);
    bool ok = true;
    for (std::size_t i = 0; i < args.positional.size(); ++i) {
      if (i >= d.params.size()) {
        error(args.positional[i].where, fmt::format("too many arguments for {} '{}': it takes {}",
                                                    decl_kind_name(d.kind), d.name.name, d.params.size()));
        return false;
      }
      f.vars[d.params[i].name.name] = args.positional[i];
      bound[i] = true;
    }
    for (const auto& [n, v] : args.named) {
      if (n->name == "name" && d.kind == DeclKind::block) continue;
      std::size_t i = 0;
      while (i < d.params.size() && d.params[i].name.name != n->name) ++i;
      if (i == d.params.size()) {
        error(n->range, fmt::format("{} '{}' has no parameter '{}'", decl_kind_name(d.kind), d.name.name, n->name));
        return false;
      }
      f.vars[n->name] = v;
      bound[i] = true;
    }
    // Defaults are evaluated in the callee, in order, so they may use earlier parameters.
    frames.push_back(std::move(f));
    for (std::size_t i = 0; i < d.params.size(); ++i) {
      const Param& p = d.params[i];
      if (!bound[i]) {
        if (!p.default_value) {
          frames.pop_back();
          error(call_range, fmt::format("missing argument '{}' for {} '{}'", p.name.name, decl_kind_name(d.kind), d.name.name));
          return false;
        }
        Value v = eval(*p.default_value);
        if (v.is_poison()) ok = false;
        frame().vars[p.name.name] = v;
      }
      if (p.type && ok && !check_param_type(d, p, frame().vars[p.name.name])) ok = false;
    }
    f = std::move(frames.back());
    frames.pop_back();
    return ok;
  }

  bool check_param_type(const Decl& d, const Param& p, const Value& v) {
    const std::string& t = p.type->name;
    using K = Value::Kind;
    bool match = (t == "int" && v.is_int()) || (t == "number" && v.is_plain_number()) ||
                 (t == "bool" && v.kind == K::boolean) || (t == "string" && v.kind == K::string) ||
                 (t == "list" && v.kind == K::list) || (t == "tensor" && v.kind == K::tensor) ||
                 (t == "quantity" && v.kind == K::number);
    if (match) return true;
    auto& err = error(v.where.valid() ? v.where : p.name.range,
                      fmt::format("parameter '{}' of {} '{}' expects {} {}, got {}", p.name.name,
                                  decl_kind_name(d.kind), d.name.name, t == "int" ? "an" : "a", t, describe(v)));
    err.notes.push_back({p.name.range, "parameter declared here"});
    return false;
  }

  Value call_block(const Decl& block, const Expr& e) {
    if (static_cast<int>(frames.size()) >= kMaxCallDepth)
      return fail(e.range, fmt::format("blocks nested more than {} deep", kMaxCallDepth));
    Args args;
    if (!eval_args(e, args)) return Value::poison();
    bool named_given, name_ok;
    std::string override_name = layer_name_override(args, named_given, name_ok);
    if (!name_ok) return Value::poison();
    Frame f;
    f.decl = &block;
    f.call_site = e.ident.range;
    if (!bind_params(block, args, f, e.range)) return Value::poison();
    ScopeNode* saved = current_scope();
    if (!named_given) {
      scope = scope->child(fmt::format("{}{}", block.name.name, ++scope->counters[block.name.name]));
    } else if (!override_name.empty()) {
      scope = scope->child(override_name);
    }
    frames.push_back(std::move(f));
    exec(block.body);
    Value result = frame().returned ? frame().result : Value::poison();
    frames.pop_back();
    scope = saved;
    result.where = e.range;
    return result;
  }

  Value call_builtin(const Expr& e) {
    const std::string& f = e.ident.name;
    Args args;
    if (!eval_args(e, args)) return Value::poison();
    auto arg = [&](std::size_t i) -> const Value& { return args.positional.at(i); };
    if (args.positional.empty()) return fail(e.range, fmt::format("{} needs an argument", f));
    if (f == "channels" || f == "shape") {
      if (arg(0).kind != Value::Kind::tensor)
        return fail(arg(0).where, fmt::format("{} expects a tensor, got {}", f, describe(arg(0))));
      const Shape& s = graph->layers[arg(0).layer].output.shape;
      if (f == "channels") return Value::integer_value(s.at(0), e.range);
      std::vector<Value> items;
      for (std::int64_t d : s) items.push_back(Value::integer_value(d));
      return Value::list(std::move(items), e.range);
    }
    if (f == "len") {
      if (arg(0).kind != Value::Kind::list) return fail(arg(0).where, fmt::format("len expects a list, got {}", describe(arg(0))));
      return Value::integer_value(static_cast<std::int64_t>(arg(0).elements().size()), e.range);
    }
    if (f == "enumerate") {
      if (arg(0).kind != Value::Kind::list)
        return fail(arg(0).where, fmt::format("enumerate expects a list, got {}", describe(arg(0))));
      std::int64_t start = 0;
      const Value* s = args.positional.size() > 1 ? &arg(1) : nullptr;
      for (auto& [n, v] : args.named)
        if (n->name == "start") s = &v;
      if (s) {
        if (!s->is_int()) return fail(s->where, fmt::format("enumerate's start must be an integer, got {}", describe(*s)));
        start = s->integer;
      }
      std::vector<Value> items;
      for (const Value& v : arg(0).elements()) items.push_back(Value::list({Value::integer_value(start++), v}));
      return Value::list(std::move(items), e.range);
    }
    if (f == "range") {
      for (const Value& v : args.positional)
        if (!v.is_int()) return fail(v.where, fmt::format("range expects integers, got {}", describe(v)));
      std::int64_t a = 0, b = arg(0).integer, step_by = 1;
      if (args.positional.size() >= 2) {
        a = arg(0).integer;
        b = arg(1).integer;
      }
      if (args.positional.size() == 3) step_by = arg(2).integer;
      for (auto& [n, v] : args.named)
        if (n->name == "step") {
          if (!v.is_int()) return fail(v.where, fmt::format("range's step must be an integer, got {}", describe(v)));
          step_by = v.integer;
        }
      if (step_by == 0) return fail(e.range, "range step must not be zero");
      std::vector<Value> items;
      for (std::int64_t i = a; step_by > 0 ? i < b : i > b; i += step_by) {
        step(e.range);
        if (items.size() >= kMaxListLength)
          return fail(e.range, fmt::format("range has more than {} elements", kMaxListLength));
        items.push_back(Value::integer_value(i));
        if (step_by > 0 ? i > INT64_MAX - step_by : i < INT64_MIN - step_by) break;
      }
      return Value::list(std::move(items), e.range);
    }
    if (f == "min" || f == "max") {
      std::vector<Value> vals = args.positional;
      if (vals.size() == 1 && vals[0].kind == Value::Kind::list) vals = vals[0].elements();
      if (vals.empty()) return fail(e.range, fmt::format("{} of an empty list", f));
      const Value* best = nullptr;
      for (const Value& v : vals) {
        if (v.kind != Value::Kind::number) return fail(v.where.valid() ? v.where : e.range, fmt::format("{} expects numbers, got {}", f, describe(v)));
        if (best && v.dim != best->dim)
          return fail(e.range, fmt::format("unit mismatch: cannot compare {} and {}", best->dim.describe(), v.dim.describe()));
        if (!best || (f == "min" ? v.number < best->number : v.number > best->number)) best = &v;
      }
      Value r = *best;
      r.where = e.range;
      return r;
    }
    // ceil, floor, sqrt, log2: plain numbers
    const Value& x = arg(0);
    if (!x.is_plain_number()) return fail(x.where, fmt::format("{} expects a plain number, got {}", f, describe(x)));
    if (f == "ceil" || f == "floor") {
      double r = f == "ceil" ? std::ceil(x.number) : std::floor(x.number);
      if (std::fabs(r) > 9e18) return fail(e.range, "result is out of range");
      return Value::integer_value(static_cast<std::int64_t>(r), e.range);
    }
    if (x.number < 0 || (f == "log2" && x.number == 0))
      return fail(x.where, fmt::format("{} of {} is undefined", f, x.number));
    double r = f == "sqrt" ? std::sqrt(x.number) : std::log2(x.number);
    return Value::real(r, {}, e.range);
  }

  // ---- statements -----------------------------------------------------------

  void exec(const std::vector<StmtPtr>& body) {
    for (const StmtPtr& s : body) {
      if (frame().returned) return;
      step(s->range);
      exec(*s);
    }
  }

  void exec(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::input: return input(s);
      case StmtKind::assign: {
        frame().vars[s.target.name] = eval(*s.value);
        return;
      }
      case StmtKind::output: {
        Value v = eval(*s.value);
        if (v.is_poison()) return;
        if (v.kind != Value::Kind::tensor) {
          error(s.value->range, fmt::format("a model's output must be a tensor, got {}", describe(v)));
          return;
        }
        graph->outputs.push_back(v.layer);
        return;
      }
      case StmtKind::ret: {
        Value v = eval(*s.value);
        frame().returned = true;
        frame().result = v;
        return;
      }
      case StmtKind::repeat: return repeat(s);
      case StmtKind::for_each: return for_each(s);
    }
  }

  void input(const Stmt& s) {
    DType dtype = DType::f32;
    parse_dtype(s.type.dtype.name, dtype);  // the static pass reported unknown types
    Shape shape;
    for (const ExprPtr& d : s.type.dims) {
      Value v = eval(*d);
      if (v.is_poison()) return;
      if (!v.is_int() || v.integer <= 0) {
        error(d->range, fmt::format("a dimension must be a positive integer, got {}",
                                    v.is_int() ? std::to_string(v.integer) : describe(v)));
        return;
      }
      shape.push_back(v.integer);
    }
    TensorInfo t{shape, dtype};
    std::int64_t n = 1;
    for (std::int64_t d : shape)
      if (__builtin_mul_overflow(n, d, &n) || n > (std::int64_t{1} << 50)) {
        error(s.type.range, fmt::format("input {} is too large", shape_string(shape)));
        return;
      }
    Layer layer;
    layer.name = current_scope()->prefix + s.target.name;
    layer.op = "input";
    layer.op_class = OpClass::input;
    layer.output = t;
    layer.where = s.target.range;
    frame().vars[s.target.name] = tensor_value(add_layer(std::move(layer)), s.target.range);
  }

  void repeat(const Stmt& s) {
    Value from = eval(*s.value), to = eval(*s.limit);
    if (from.is_poison() || to.is_poison()) return;
    if (!from.is_int() || !to.is_int()) {
      const Value& bad = from.is_int() ? to : from;
      error(bad.where, fmt::format("repeat bounds must be integers, got {}", describe(bad)));
      return;
    }
    std::int64_t end = to.integer;
    if (s.inclusive) {
      if (end == INT64_MAX) {
        error(to.where, "repeat bound is out of range");
        return;
      }
      ++end;
    }
    for (std::int64_t i = from.integer; i < end; ++i) {
      step(s.range);
      iterate(s, Value::integer_value(i, s.target.range), nullptr, fmt::format("{}{}", s.target.name, i));
      if (frame().returned) return;
    }
  }

  void for_each(const Stmt& s) {
    Value list = eval(*s.value);
    if (list.is_poison()) return;
    if (list.kind != Value::Kind::list) {
      error(s.value->range, fmt::format("for expects a list, got {}", describe(list)));
      return;
    }
    auto items = list.items;  // keep alive while the body reassigns variables
    for (const Value& item : *items) {
      step(s.range);
      const Value* second = nullptr;
      Value first = item;
      if (s.second) {
        if (item.kind != Value::Kind::list || item.elements().size() != 2) {
          error(s.value->range, fmt::format("'for {}, {} in ...' expects a list of pairs, found {}",
                                            s.target.name, s.second->name, describe(item)));
          return;
        }
        first = item.elements()[0];
        second = &item.elements()[1];
      }
      std::string label = s.target.name;
      if (first.is_int()) label += std::to_string(first.integer);
      else if (first.kind == Value::Kind::string) label += first.text;
      else label += std::to_string(&item - items->data());
      iterate(s, first, second, label);
      if (frame().returned) return;
    }
  }

  void iterate(const Stmt& s, const Value& first, const Value* second, const std::string& label) {
    frame().vars[s.target.name] = first;
    if (second && s.second) frame().vars[s.second->name] = *second;
    ScopeNode* saved = scope;
    std::vector<std::string> saved_pending = pending_scopes;
    pending_scopes.push_back(label);
    exec(s.body);
    pending_scopes = std::move(saved_pending);
    scope = saved;
  }

  // ---- models ---------------------------------------------------------------

  bool run_model(const Decl& model, const Args& args, SourceRange call_site, ModelGraph& out, int depth = 0) {
    if (depth > kMaxCallDepth) {
      error(call_site, "model aliases nested too deeply");
      return false;
    }
    Frame f;
    f.decl = &model;
    f.call_site = call_site;
    if (!bind_params(model, args, f, call_site)) return false;
    if (model.alias) {
      frames.push_back(std::move(f));
      const Decl* target = symbols.find(model.alias->ident.name);
      Args inner;
      bool ok = target && target->kind == DeclKind::model &&
                (model.alias->kind != ExprKind::call || eval_args(*model.alias, inner));
      frames.pop_back();
      return ok && run_model(*target, inner, model.alias->range, out, depth + 1);
    }
    out.decl = &model;
    frames.push_back(std::move(f));
    exec(model.body);
    frames.pop_back();
    return true;
  }

  bool instantiate(const Decl& model, const Args& args, SourceRange call_site, ModelGraph& out) {
    ModelGraph* saved_graph = graph;
    bool saved_ctx = property_ctx;
    auto saved_names = std::move(layer_names);
    auto saved_frames = std::move(frames);
    ScopeNode saved_root = std::move(root);
    layer_names.clear();
    frames.clear();
    root = ScopeNode{};
    scope = &root;
    auto saved_pending = std::move(pending_scopes);
    pending_scopes.clear();
    graph = &out;
    property_ctx = false;
    std::size_t errors = diags.error_count();
    bool ok = false;
    try {
      ok = run_model(model, args, call_site, out);
    } catch (const Abort&) {
      ok = false;
    }
    ok = ok && diags.error_count() == errors;
    graph = saved_graph;
    property_ctx = saved_ctx;
    layer_names = std::move(saved_names);
    frames = std::move(saved_frames);
    root = std::move(saved_root);
    scope = &root;
    pending_scopes = std::move(saved_pending);
    return ok;
  }
};

Evaluator::Evaluator(const Symbols& symbols, Diagnostics& diags)
    : impl_(std::make_unique<Impl>(symbols, diags)) {}
Evaluator::~Evaluator() = default;

bool Evaluator::instantiate(const Decl& model, ModelGraph& out) {
  out.name = model.name.name;
  if (model.alias) out.instantiation = to_string(*model.alias);
  return impl_->instantiate(model, {}, {}, out);
}

bool Evaluator::instantiate_call(const Expr& call, ModelGraph& out) {
  const Decl* model = impl_->symbols.find(call.ident.name);
  if (!model || model->kind != DeclKind::model) return false;
  out.name = to_string(call);
  out.instantiation = to_string(call);
  Args args;
  impl_->property_ctx = false;
  impl_->frames.push_back({});
  bool ok = call.kind != ExprKind::call || impl_->eval_args(call, args);
  impl_->frames.pop_back();
  return ok && impl_->instantiate(*model, args, call.range, out);
}

Value Evaluator::property_value(const Expr& e) {
  impl_->property_ctx = true;
  impl_->frames.push_back({});
  Value v;
  try {
    v = impl_->eval(e);
  } catch (const Abort&) {
    v = Value::poison();
  }
  impl_->frames.pop_back();
  impl_->property_ctx = false;
  return v;
}

}  // namespace dlc::compiler
