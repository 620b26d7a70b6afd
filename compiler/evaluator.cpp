// The evaluator: expressions, statements and model instantiation. Calls (ops,
// blocks, builtins) are in calls.cpp.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "compiler/evaluator_impl.hpp"

namespace dlc::compiler {

ScopeNode* Evaluator::Impl::current_scope() {
  for (const std::string& label : pending_scopes) scope = scope->child(label);
  pending_scopes.clear();
  return scope;
}

lang::Diagnostic& Evaluator::Impl::error(SourceRange at, std::string message) {
  auto& d = diags.error(at, std::move(message));
  int shown = 0;
  for (auto f = frames.rbegin(); f != frames.rend() && shown < 4; ++f) {
    if (!f->call_site.valid() || !f->decl) continue;
    const SourceRange& call = f->call_range;
    if (call.file == at.file && at.offset >= call.offset && at.end() <= call.end())
      continue;  // the error is in this very call (an argument): the note would repeat it
    d.notes.push_back({f->call_site, fmt::format("in {} '{}' used here", decl_kind_name(f->decl->kind),
                                                 f->decl->name.name)});
    ++shown;
  }
  return d;
}

Value Evaluator::Impl::fail(SourceRange at, std::string message) {
  error(at, std::move(message));
  return Value::poison();
}

void Evaluator::Impl::step(SourceRange at) {
  if (++steps <= limits.steps) return;
  error(at, fmt::format("evaluation takes more than {} steps; is a loop bound too large?", limits.steps));
  throw Abort{};
}

Value Evaluator::Impl::eval(const Expr& e) {
  switch (e.kind) {
    case ExprKind::number: {
      if (e.invalid) return Value::poison();  // its unknown unit was reported by the parser
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

Value Evaluator::Impl::name(const Expr& e) {
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

Value Evaluator::Impl::unary(const Expr& e) {
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

const char* Evaluator::Impl::verb(Tok op) {
  switch (op) {
    case Tok::plus: return "add";
    case Tok::minus: return "subtract";
    default: return "compare";
  }
}

Value Evaluator::Impl::binary(const Expr& e) {
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

Value Evaluator::Impl::apply_binary(const Expr& e, Tok op, const Value& a, const Value& b) {
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
    if (a.elements().size() + b.elements().size() > limits.list_length)
      return fail(e.range, fmt::format("list has more than {} elements", limits.list_length));
    std::vector<Value> items = a.elements();
    items.insert(items.end(), b.elements().begin(), b.elements().end());
    return Value::list(std::move(items));
  }
  if (op == Tok::plus && a.kind == K::string && b.kind == K::string) {
    if (a.text.size() + b.text.size() > limits.string_length)
      return fail(e.range, fmt::format("string longer than {} characters", limits.string_length));
    return Value::string_value(a.text + b.text);
  }
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
  if (a.kind == K::symbol || b.kind == K::symbol) {
    // In a property value an unknown name is kept as a symbol (gpu, ring);
    // in arithmetic it can only be a misspelt declaration.
    const Value& s = a.kind == K::symbol ? a : b;
    if (lang::parse_unit_term(s.text))
      return fail(s.where, fmt::format("'{}' is read as a name here: write a unit right after its number, with no "
                                       "spaces around '/' (600 GB/s)", s.text));
    std::string message = fmt::format("unknown name '{}'", s.text);
    std::string close = lang::closest_match(s.text, symbols.names());
    if (!close.empty()) message += fmt::format("; did you mean '{}'?", close);
    return fail(s.where, message);
  }
  if (a.kind == K::tensor && b.kind == K::tensor && (op == Tok::plus || op == Tok::star)) {
    const char* fn = op == Tok::plus ? "add" : "mul";
    return fail(e.range, fmt::format("'{}' works on numbers; for tensors write {}(a, b)", op == Tok::plus ? "+" : "*", fn));
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

Value Evaluator::Impl::checked_real(const Expr& e, double v, Dimension d) {
  if (!std::isfinite(v)) return fail(e.range, "arithmetic result is out of range");
  return Value::real(v, d);
}

Value Evaluator::Impl::index(const Expr& e) {
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

void Evaluator::Impl::exec(const std::vector<StmtPtr>& body) {
  for (const StmtPtr& s : body) {
    if (frame().returned) return;
    step(s->range);
    exec(*s);
  }
}

void Evaluator::Impl::exec(const Stmt& s) {
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

void Evaluator::Impl::input(const Stmt& s) {
  frame().vars[s.target.name] = Value::poison();  // defined even if its type is wrong: no follow-up errors
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

void Evaluator::Impl::repeat(const Stmt& s) {
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

void Evaluator::Impl::for_each(const Stmt& s) {
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
    // The scope is named by the value when it makes a name (stage2, layer_a),
    // by the position otherwise.
    std::string label = s.target.name;
    bool word = first.kind == Value::Kind::string && !first.text.empty() && first.text.size() <= 64 &&
                std::all_of(first.text.begin(), first.text.end(),
                            [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
    if (first.is_int()) label += std::to_string(first.integer);
    else if (word) label += first.text;
    else label += std::to_string(&item - items->data());
    iterate(s, first, second, label);
    if (frame().returned) return;
  }
}

void Evaluator::Impl::iterate(const Stmt& s, const Value& first, const Value* second, const std::string& label) {
  frame().vars[s.target.name] = first;
  if (second && s.second) frame().vars[s.second->name] = *second;
  ScopeNode* saved = scope;
  std::vector<std::string> saved_pending = pending_scopes;
  if (s.target.name != "_") pending_scopes.push_back(label);  // `repeat _ in ...` names no scope
  exec(s.body);
  pending_scopes = std::move(saved_pending);
  scope = saved;
}

bool Evaluator::Impl::run_model(const Decl& model, const Args& args, SourceRange call_site, ModelGraph& out, int depth) {
  if (depth > limits.call_depth) {
    (void)call_site;
    const Decl* root = root_model ? root_model : &model;
    error(root->name.range, fmt::format("model '{}' is defined through more than {} aliases", root->name.name,
                                        limits.call_depth));
    return false;
  }
  Frame f;
  f.decl = &model;
  f.call_site = call_site;
  f.call_range = call_site;
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

bool Evaluator::Impl::instantiate(const Decl& model, const Args& args, SourceRange call_site, ModelGraph& out) {
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
  std::size_t saved_steps = steps;
  steps = 0;  // each model has its own budget
  std::size_t errors = diags.error_count();
  bool ok = false;
  const Decl* saved_root_model = root_model;
  root_model = &model;
  try {
    ok = run_model(model, args, call_site, out);
  } catch (const Abort&) {
    ok = false;
  }
  ok = ok && diags.error_count() == errors;
  steps = saved_steps;
  root_model = saved_root_model;
  graph = saved_graph;
  property_ctx = saved_ctx;
  layer_names = std::move(saved_names);
  frames = std::move(saved_frames);
  root = std::move(saved_root);
  scope = &root;
  pending_scopes = std::move(saved_pending);
  return ok;
}

Evaluator::Evaluator(const Symbols& symbols, Diagnostics& diags, const EvaluationLimits& limits)
    : impl_(std::make_unique<Impl>(symbols, diags, limits)) {}
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
  impl_->steps = 0;  // each property value has its own budget
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
