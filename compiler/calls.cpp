// Calls in the evaluator: ops (argument binding, shape rules, layers and
// their names), blocks (parameters, scopes) and built-in functions.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "compiler/evaluator_impl.hpp"

namespace dlc::compiler {

bool Evaluator::Impl::eval_args(const Expr& e, Args& args) {
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

Value Evaluator::Impl::call(const Expr& e) {
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
    v.names = std::make_shared<std::vector<Identifier>>();
    for (Value& p : args.positional) {
      v.items->push_back(std::move(p));
      v.names->push_back({});
    }
    for (auto& [n, val] : args.named) {
      v.items->push_back(std::move(val));
      v.names->push_back(*n);
    }
    v.where = e.range;
    return v;
  }
  return fail(e.ident.range, fmt::format("unknown operation or block '{}'", callee));
}

std::string Evaluator::Impl::layer_name_override(const Args& args, bool& given, bool& ok) {
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

int Evaluator::Impl::add_layer(Layer layer) {
  if (graph->layers.size() >= limits.layers) {
    error(layer.where, fmt::format("model has more than {} layers", limits.layers));
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

Value Evaluator::Impl::tensor_value(int layer, SourceRange at) {
  if (layer < 0) return Value::poison();
  Value v;
  v.kind = Value::Kind::tensor;
  v.layer = layer;
  v.where = at;
  return v;
}

// Converts one argument to the op's parameter type; false on a type error.
bool Evaluator::Impl::bind_op_arg(const OpDef& op, std::size_t i, const Value& v, OpArgs& out, std::vector<int>& inputs) {
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

Value Evaluator::Impl::call_op(const OpDef& op, const Expr& e) {
  Args args;
  if (!eval_args(e, args)) return Value::poison();
  bool named_given, name_ok;
  std::string override_name = layer_name_override(args, named_given, name_ok);
  if (!name_ok) return Value::poison();
  if (named_given && override_name.empty())
    return fail(args.layer_name->where, "a layer needs a name: name = \"\" only inlines a block's layers");
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
  layer.active_params = r.active_params;
  layer.macs_model = r.macs_model;
  layer.kept = r.kept;
  layer.scratch_forward = r.scratch_forward;
  layer.scratch_backward = r.scratch_backward;
  layer.gemms = r.gemms;
  // A layer fed only by data (the model's input, or ops of it alone) needs no
  // gradient of its inputs: backward computes its weights' gradients only, as
  // a framework does for the first layer.
  for (int i : layer.inputs) layer.data_gradient = layer.data_gradient || (i >= 0 && graph->layers[i].needs_gradient);
  layer.needs_gradient = layer.data_gradient || r.params > 0;
  layer.macs_backward = layer.data_gradient ? r.macs_backward : r.macs_backward - r.macs_input_gradient;
  layer.def = &op;
  layer.args = std::move(oa);
  layer.where = e.range;
  return tensor_value(add_layer(std::move(layer)), e.range);
}

// Binds a call's arguments to a block's or model's parameters in `f`.
bool Evaluator::Impl::bind_params(const Decl& d, const Args& args, Frame& f, SourceRange call_range) {
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
      std::vector<std::string> names;
      for (const Param& p : d.params) names.push_back(p.name.name);
      std::string message = fmt::format("{} '{}' has no parameter '{}'", decl_kind_name(d.kind), d.name.name, n->name);
      std::string close = lang::closest_match(n->name, names);
      if (!close.empty()) message += fmt::format("; did you mean '{}'?", close);
      auto& diag = error(n->range, message);
      diag.notes.push_back({d.name.range, fmt::format("'{}' declared here", d.name.name)});
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
    const Value& bound_value = frame().vars[p.name.name];
    if (p.type && !bound_value.is_poison() && !check_param_type(d, p, bound_value)) ok = false;
  }
  f = std::move(frames.back());
  frames.pop_back();
  return ok;
}

bool Evaluator::Impl::check_param_type(const Decl& d, const Param& p, const Value& v) {
  const std::string& t = p.type->name;
  using K = Value::Kind;
  bool match = (t == "int" && v.is_int()) || (t == "number" && v.is_plain_number()) ||
               (t == "bool" && v.kind == K::boolean) || (t == "string" && v.kind == K::string) ||
               (t == "list" && v.kind == K::list) || (t == "tensor" && v.kind == K::tensor) ||
               (t == "quantity" && v.kind == K::number);
  if (match) return true;
  auto& err = error(v.where.valid() ? v.where : p.name.range,
                    fmt::format("parameter '{}' of {} '{}' expects {}, got {}", p.name.name,
                                decl_kind_name(d.kind), d.name.name, lang::with_article(t), describe(v)));
  err.notes.push_back({p.name.range, "parameter declared here"});
  return false;
}

Value Evaluator::Impl::call_block(const Decl& block, const Expr& e) {
  if (static_cast<int>(frames.size()) > limits.call_depth)  // the model's frame, then one per block
    return fail(e.range, fmt::format("blocks nested more than {} deep", limits.call_depth));
  Args args;
  if (!eval_args(e, args)) return Value::poison();
  bool named_given, name_ok;
  std::string override_name = layer_name_override(args, named_given, name_ok);
  if (!name_ok) return Value::poison();
  Frame f;
  f.decl = &block;
  f.call_site = e.ident.range;
  f.call_range = e.range;
  if (!bind_params(block, args, f, e.range)) return Value::poison();
  ScopeNode* saved = current_scope();
  if (!named_given) {
    scope = scope->child(fmt::format("{}{}", block.name.name, ++scope->counters[block.name.name]));
  } else if (!override_name.empty()) {
    auto [it, fresh] = scope->named_blocks.emplace(override_name, args.layer_name->where);
    if (!fresh) {
      auto& d = error(args.layer_name->where, fmt::format("a block named '{}' already exists here", override_name));
      d.notes.push_back({it->second, "first named here"});
      return Value::poison();
    }
    scope = scope->child(override_name);
  }
  frames.push_back(std::move(f));
  exec(block.body);
  bool returned = frame().returned;
  Value result = returned ? frame().result : Value::poison();
  frames.pop_back();
  if (!returned) {
    auto& d = error(e.range, fmt::format("block '{}' ended without returning a value", block.name.name));
    d.notes.push_back({block.name.range, "a 'return' in a loop that did not run is not reached"});
  }
  scope = saved;
  result.where = e.range;
  return result;
}

Value Evaluator::Impl::call_builtin(const Expr& e) {
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
    std::int64_t last;
    if (__builtin_add_overflow(start, static_cast<std::int64_t>(arg(0).elements().size()), &last))
      return fail(e.range, "enumerate: the counter overflows");
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
      if (items.size() >= limits.list_length)
        return fail(e.range, fmt::format("range has more than {} elements", limits.list_length));
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

}  // namespace dlc::compiler
