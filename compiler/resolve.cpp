// The static pass of the checker: everything that can be known without
// evaluating — names, callees, argument names, element types, recursion.
#include <algorithm>
#include <fmt/format.h>
#include <functional>

#include "compiler/ops.hpp"
#include "compiler/schema.hpp"
#include "compiler/symbols.hpp"

namespace dlc::compiler {

using namespace lang::ast;
using lang::Diagnostics;
using lang::SourceRange;

std::vector<std::string> Symbols::names(std::initializer_list<DeclKind> kinds) const {
  std::vector<std::string> v;
  for (const auto& [name, d] : decls)
    if (kinds.size() == 0 || std::find(kinds.begin(), kinds.end(), d->kind) != kinds.end()) v.push_back(name);
  return v;
}

namespace {
constexpr Builtin kBuiltins[] = {
    {"channels", 1, 1, "channels(x): the first dimension of a tensor"},
    {"shape", 1, 1, "shape(x): a tensor's per-sample shape, as a list"},
    {"len", 1, 1, "len(l): the length of a list"},
    {"enumerate", 1, 2, "enumerate(l, start = 0): [[start, l[0]], [start + 1, l[1]], ...]"},
    {"range", 1, 3, "range(n) or range(a, b, step = 1): the integers a, a + step, ... below b"},
    {"min", 1, -1, "min(a, b, ...) or min(list)"},
    {"max", 1, -1, "max(a, b, ...) or max(list)"},
    {"ceil", 1, 1, "ceil(x)"},
    {"floor", 1, 1, "floor(x)"},
    {"sqrt", 1, 1, "sqrt(x)"},
    {"log2", 1, 1, "log2(x)"},
};
}  // namespace

const Builtin* find_builtin(std::string_view name) {
  for (const Builtin& b : kBuiltins)
    if (b.name == name) return &b;
  return nullptr;
}

std::vector<std::string> builtin_names() {
  std::vector<std::string> v;
  for (const Builtin& b : kBuiltins) v.emplace_back(b.name);
  return v;
}

std::string annotation(const Decl& decl, std::string_view name) {
  for (const Annotation& a : decl.annotations)
    if (a.name.name == name && a.args.size() == 1) return a.args[0]->spelling;
  return {};
}

bool valid_param_type(std::string_view type) {
  return std::find(std::begin(kParamTypes), std::end(kParamTypes), type) != std::end(kParamTypes);
}

namespace {

class Resolver {
 public:
  Resolver(const Program& p, Symbols& s, Diagnostics& d) : program_(p), symbols_(s), diags_(d) {}

  void run() {
    collect();
    for (const File& f : program_.files)
      for (const Decl& d : f.decls) check_decl(d);
    check_recursion();
  }

 private:
  const Program& program_;
  Symbols& symbols_;
  Diagnostics& diags_;
  const Decl* current_ = nullptr;
  std::map<const Decl*, std::vector<std::pair<const Decl*, SourceRange>>> calls_;  // block/model call graph

  lang::Diagnostic& error(SourceRange at, std::string message) {
    if (current_) symbols_.broken.insert(current_);
    return diags_.error(at, std::move(message));
  }

  // The standard library first: a user declaration that clashes with it is
  // reported in the user's file, which the user can change.
  void collect() {
    std::vector<const File*> order;
    for (const File& f : program_.files)
      if (!program_.sources.file(f.id).module.empty()) order.push_back(&f);
    for (const File& f : program_.files)
      if (program_.sources.file(f.id).module.empty()) order.push_back(&f);
    for (const File* file : order) {
      const File& f = *file;
      if (f.decls.empty() && f.imports.empty() && program_.syntax_ok)
        diags_.error({f.id, 0, 0}, "file declares nothing: expected a model, block, device, link, "
                                   "node, cluster, experiment, crossbar or an import");
      for (const Decl& d : f.decls) {
        auto [it, inserted] = symbols_.decls.emplace(d.name.name, &d);
        if (!inserted) {
          auto& e = diags_.error(d.name.range, fmt::format("duplicate declaration of '{}'", d.name.name));
          e.notes.push_back({it->second->name.range,
                             fmt::format("'{}' is already declared here, as a {}", d.name.name,
                                         decl_kind_name(it->second->kind))});
        } else if (find_op(d.name.name) || find_builtin(d.name.name)) {
          diags_.error(d.name.range, fmt::format("'{}' is a built-in operation and cannot be redeclared",
                                                 d.name.name));
        }
      }
    }
  }

  void check_annotations(const Decl& d) {
    std::set<std::string> seen;
    for (const Annotation& a : d.annotations) {
      const std::string& n = a.name.name;
      if (n != "type" && n != "title") {
        auto& e = error(a.name.range, fmt::format("unknown annotation '@{}'", n));
        suggest(e, n, {"type", "title"});
        continue;
      }
      if (d.kind != DeclKind::model) {
        error(a.range, fmt::format("'@{}' annotates models, not a {}", n, decl_kind_name(d.kind)));
        continue;
      }
      if (!seen.insert(n).second) {
        error(a.range, fmt::format("'@{}' is given twice", n));
        continue;
      }
      if (a.args.size() != 1) {
        error(a.range, fmt::format("'@{}' takes one argument", n));
        continue;
      }
      const Expr& arg = *a.args[0];
      if (n == "title" && arg.kind != ExprKind::string) {
        error(arg.range, "'@title' takes a string: @title(\"Eng Acoustic Model\")");
      } else if (n == "type" && (arg.kind != ExprKind::name ||
                                 std::find(std::begin(kModelTypes), std::end(kModelTypes), arg.spelling) ==
                                     std::end(kModelTypes))) {
        auto& e = error(arg.range, "'@type' takes one of: CNN, RNN, MLP, Transformer");
        if (arg.kind == ExprKind::name) suggest(e, arg.spelling, {std::begin(kModelTypes), std::end(kModelTypes)});
      }
    }
  }

  void check_decl(const Decl& d) {
    current_ = &d;
    check_annotations(d);
    switch (d.kind) {
      case DeclKind::model:
      case DeclKind::block: check_body_decl(d); break;
      default: check_properties_decl(d); break;
    }
    current_ = nullptr;
  }

  void check_properties_decl(const Decl& d) {
    if (d.base) {
      const Decl* base = symbols_.find(d.base->name);
      if (!base) {
        auto& e = error(d.base->range, fmt::format("unknown {} '{}'", decl_kind_name(d.kind), d.base->name));
        suggest(e, d.base->name, symbols_.names({d.kind}));
      } else if (base->kind != d.kind) {
        auto& e = error(d.base->range, fmt::format("{} '{}' cannot extend '{}', which is a {}",
                                                   decl_kind_name(d.kind), d.name.name, d.base->name,
                                                   decl_kind_name(base->kind)));
        e.notes.push_back({base->name.range, fmt::format("'{}' declared here", base->name.name)});
      } else {
        calls_[&d].push_back({base, d.base->range});
      }
    }
  }

  void suggest(lang::Diagnostic& e, const std::string& word, const std::vector<std::string>& candidates) {
    std::string close = lang::closest_match(word, candidates);
    if (!close.empty()) e.message += fmt::format("; did you mean '{}'?", close);
  }

  // ---- models and blocks ----------------------------------------------------

  using Scope = std::set<std::string, std::less<>>;

  void check_body_decl(const Decl& d) {
    Scope scope;
    std::set<std::string> seen;
    for (const Param& p : d.params) {
      if (!seen.insert(p.name.name).second)
        error(p.name.range, fmt::format("duplicate parameter '{}'", p.name.name));
      if (p.type && !valid_param_type(p.type->name)) {
        auto& e = error(p.type->range, fmt::format("unknown parameter type '{}'", p.type->name));
        suggest(e, p.type->name, {std::begin(kParamTypes), std::end(kParamTypes)});
      }
      if (p.default_value) check_expr(*p.default_value, scope);
      scope.insert(p.name.name);
    }
    bool seen_default = false;
    for (const Param& p : d.params) {
      if (p.default_value) seen_default = true;
      else if (seen_default)
        error(p.name.range, fmt::format("parameter '{}' has no default but follows one that has",
                                        p.name.name));
    }
    if (d.alias) {
      check_instantiation(*d.alias, scope);
      return;
    }
    bool has_input = false, has_output = false, has_return = false;
    check_stmts(d, d.body, scope, has_input, has_output, has_return);
    if (d.kind == DeclKind::model) {
      if (!has_output)
        error(d.name.range, fmt::format("model '{}' has no output: add 'output <expression>'", d.name.name));
      if (!has_input)
        error(d.name.range, fmt::format("model '{}' has no input: add 'input x: f32[...]'", d.name.name));
    } else if (!has_return) {
      error(d.name.range, fmt::format("block '{}' never returns a value: add 'return <expression>'",
                                      d.name.name));
    }
  }

  void check_instantiation(const Expr& e, Scope& scope) {
    const std::string& callee = e.ident.name;
    const Decl* target = symbols_.find(callee);
    if (!target) {
      auto& err = error(e.ident.range, fmt::format("unknown model '{}'", callee));
      suggest(err, callee, symbols_.names({DeclKind::model}));
      return;
    }
    if (target->kind != DeclKind::model) {
      auto& err = error(e.ident.range, fmt::format("'{}' is a {}, not a model", callee, decl_kind_name(target->kind)));
      err.notes.push_back({target->name.range, fmt::format("'{}' declared here", callee)});
      return;
    }
    calls_[current_].push_back({target, e.ident.range});
    if (e.kind == ExprKind::call) check_call_args(e, *target, scope);
  }

  void check_stmts(const Decl& d, const std::vector<StmtPtr>& body, Scope& scope, bool& has_input,
                   bool& has_output, bool& has_return) {
    for (const StmtPtr& s : body) {
      switch (s->kind) {
        case StmtKind::input: {
          has_input = true;
          if (d.kind == DeclKind::block)
            error(s->range, "'input' is only allowed in a model; blocks take tensors as parameters");
          DType t;
          if (!parse_dtype(s->type.dtype.name, t)) {
            auto& e = error(s->type.dtype.range, fmt::format("unknown element type '{}'", s->type.dtype.name));
            suggest(e, s->type.dtype.name, dtype_names());
          }
          if (s->type.dims.empty()) error(s->type.range, "an input needs at least one dimension");
          for (const ExprPtr& dim : s->type.dims) check_expr(*dim, scope);
          scope.insert(s->target.name);
          break;
        }
        case StmtKind::assign:
          check_expr(*s->value, scope);
          scope.insert(s->target.name);
          break;
        case StmtKind::output:
          has_output = true;
          if (d.kind == DeclKind::block)
            error(s->range, "'output' is only allowed in a model; a block uses 'return'");
          check_expr(*s->value, scope);
          break;
        case StmtKind::ret:
          has_return = true;
          if (d.kind == DeclKind::model)
            error(s->range, "'return' is only allowed in a block; a model uses 'output'");
          check_expr(*s->value, scope);
          break;
        case StmtKind::repeat:
          check_expr(*s->value, scope);
          check_expr(*s->limit, scope);
          scope.insert(s->target.name);
          check_stmts(d, s->body, scope, has_input, has_output, has_return);
          break;
        case StmtKind::for_each:
          check_expr(*s->value, scope);
          scope.insert(s->target.name);
          if (s->second) scope.insert(s->second->name);
          check_stmts(d, s->body, scope, has_input, has_output, has_return);
          break;
      }
    }
  }

  void check_expr(const Expr& e, Scope& scope) {
    switch (e.kind) {
      case ExprKind::name:
        if (!scope.count(e.ident.name)) undefined_name(e.ident, scope);
        break;
      case ExprKind::call:
        check_call(e, scope);
        break;
      case ExprKind::per:
        error(e.range, "'per' qualifies property values of an experiment (batch = 16 per device); "
                       "it is not an expression");
        break;
      default:
        for (const ExprPtr& o : e.operands) check_expr(*o, scope);
        break;
    }
  }

  void undefined_name(const Identifier& id, const Scope& scope) {
    const Decl* d = symbols_.find(id.name);
    if (d) {
      auto& e = error(id.range, fmt::format("'{}' is a {} and cannot be used as a value here",
                                            id.name, decl_kind_name(d->kind)));
      e.notes.push_back({d->name.range, fmt::format("'{}' declared here", id.name)});
      return;
    }
    auto& e = error(id.range, fmt::format("undefined name '{}'", id.name));
    suggest(e, id.name, std::vector<std::string>(scope.begin(), scope.end()));
  }

  void check_call(const Expr& e, Scope& scope) {
    const std::string& callee = e.ident.name;
    for (const Argument& a : e.args) check_expr(*a.value, scope);
    if (const OpDef* op = find_op(callee)) return check_op_args(e, *op);
    if (const Builtin* b = find_builtin(callee)) {
      int n = 0;  // arguments that count: positional ones, and enumerate's start, range's step
      bool misnamed = false;
      for (const Argument& a : e.args) {
        bool allowed = !a.name || (callee == "enumerate" && a.name->name == "start") ||
                       (callee == "range" && a.name->name == "step");
        if (allowed) {
          ++n;
        } else {
          error(a.name->range, fmt::format("{} takes no argument named '{}'", callee, a.name->name));
          misnamed = true;
        }
      }
      if (!misnamed && (n < b->min_args || (b->max_args >= 0 && n > b->max_args))) {
        bool one = b->min_args == b->max_args;
        std::string count = one                ? fmt::format("{}", b->min_args)
                            : b->max_args < 0  ? fmt::format("at least {}", b->min_args)
                                               : fmt::format("{} to {}", b->min_args, b->max_args);
        bool singular = (one || b->max_args < 0) && b->min_args == 1;
        error(e.range, fmt::format("{} takes {} argument{}, got {}", callee, count, singular ? "" : "s", n));
      }
      return;
    }
    const Decl* d = symbols_.find(callee);
    if (!d) {
      auto& err = error(e.ident.range, fmt::format("unknown operation or block '{}'", callee));
      std::vector<std::string> candidates = symbols_.names({DeclKind::block});
      for (const OpDef& op : all_ops()) candidates.emplace_back(op.name);
      for (const std::string& b : builtin_names()) candidates.push_back(b);
      suggest(err, callee, candidates);
      return;
    }
    if (d->kind != DeclKind::block) {
      auto& err = error(e.ident.range,
                        d->kind == DeclKind::model
                            ? fmt::format("model '{}' cannot be called inside a body; declare the shared "
                                          "part as a block", callee)
                            : fmt::format("'{}' is a {}, not an operation or block", callee,
                                          decl_kind_name(d->kind)));
      err.notes.push_back({d->name.range, fmt::format("'{}' declared here", callee)});
      return;
    }
    calls_[current_].push_back({d, e.ident.range});
    check_call_args(e, *d, scope);
  }

  // A call's arguments against a block's or model's parameters.
  void check_call_args(const Expr& e, const Decl& target, Scope& scope) {
    for (const Argument& a : e.args) check_expr(*a.value, scope);
    std::vector<bool> bound(target.params.size(), false);
    bool misnamed = false;
    std::size_t positional = 0;
    bool named_seen = false;
    for (const Argument& a : e.args) {
      if (!a.name) {
        if (named_seen) {
          error(a.value->range, "positional argument after a named argument");
          continue;
        }
        if (positional >= target.params.size()) {
          auto& err = error(a.value->range, fmt::format("too many arguments for {} '{}': it takes {}",
                                                        decl_kind_name(target.kind), target.name.name,
                                                        target.params.size()));
          err.notes.push_back({target.name.range, fmt::format("'{}' declared here", target.name.name)});
          continue;
        }
        bound[positional++] = true;
        continue;
      }
      named_seen = true;
      if (a.name->name == "name" && target.kind == DeclKind::block) continue;
      auto it = std::find_if(target.params.begin(), target.params.end(),
                             [&](const Param& p) { return p.name.name == a.name->name; });
      if (it == target.params.end()) {
        std::vector<std::string> names;
        for (const Param& p : target.params) names.push_back(p.name.name);
        auto& err = error(a.name->range, fmt::format("{} '{}' has no parameter '{}'", decl_kind_name(target.kind),
                                                     target.name.name, a.name->name));
        suggest(err, a.name->name, names);
        err.notes.push_back({target.name.range, fmt::format("'{}' declared here", target.name.name)});
        misnamed = true;
        continue;
      }
      std::size_t i = static_cast<std::size_t>(it - target.params.begin());
      if (bound[i]) error(a.name->range, fmt::format("argument '{}' given twice", a.name->name));
      bound[i] = true;
    }
    if (misnamed) return;  // a misspelt argument name explains what looks missing
    for (std::size_t i = 0; i < target.params.size(); ++i)
      if (!bound[i] && !target.params[i].default_value) {
        auto& err = error(e.range, fmt::format("missing argument '{}' for {} '{}'", target.params[i].name.name,
                                               decl_kind_name(target.kind), target.name.name));
        err.notes.push_back({target.params[i].name.range, "parameter declared here"});
      }
  }

  void check_op_args(const Expr& e, const OpDef& op) {
    std::vector<bool> bound(op.params.size(), false);
    bool misnamed = false;
    std::size_t positional = 0;
    bool variadic = !op.params.empty() && op.params[0].type == ArgType::tensors;
    bool named_seen = false;
    for (const Argument& a : e.args) {
      if (!a.name) {
        if (named_seen) {
          error(a.value->range, "positional argument after a named argument");
          continue;
        }
        if (variadic) {
          bound[0] = true;
          continue;
        }
        if (positional >= op.params.size()) {
          error(a.value->range, fmt::format("too many arguments for {}: it takes at most {}", op.name,
                                            op.params.size()));
          continue;
        }
        bound[positional++] = true;
        continue;
      }
      named_seen = true;
      if (a.name->name == "name") continue;
      int i = op.param_index(a.name->name);
      if (i < 0) {
        std::vector<std::string> names;
        for (const OpParam& p : op.params) names.emplace_back(p.name);
        auto& err = error(a.name->range, fmt::format("{} has no parameter '{}'", op.name, a.name->name));
        suggest(err, a.name->name, names);
        misnamed = true;
        continue;
      }
      if (bound[i]) error(a.name->range, fmt::format("argument '{}' given twice", a.name->name));
      bound[i] = true;
    }
    if (misnamed) return;  // a misspelt argument name explains what looks missing
    for (std::size_t i = 0; i < op.params.size(); ++i)
      if (!bound[i] && op.params[i].required)
        error(e.range, fmt::format("missing argument '{}' for {}", op.params[i].name, op.name));
  }

  // Blocks calling themselves (directly or through others), models aliasing
  // themselves, and declarations extending themselves never terminate.
  void check_recursion() {
    std::map<const Decl*, int> state;  // 0 new, 1 on the stack, 2 done
    std::vector<const Decl*> stack;
    std::function<void(const Decl*)> visit = [&](const Decl* d) {
      state[d] = 1;
      stack.push_back(d);
      for (const auto& [callee, at] : calls_[d]) {
        if (state[callee] == 0) {
          visit(callee);
        } else if (state[callee] == 1) {
          auto first = std::find(stack.begin(), stack.end(), callee);
          std::string chain;
          for (auto s = first; s != stack.end(); ++s) chain += (*s)->name.name + " -> ";
          chain += callee->name.name;
          auto& e = diags_.error(at, fmt::format("recursive {}: {} (a {} cannot use itself)",
                                                 decl_kind_name(callee->kind), chain,
                                                 decl_kind_name(callee->kind)));
          e.notes.push_back({callee->name.range, fmt::format("'{}' declared here", callee->name.name)});
          for (auto s = first; s != stack.end(); ++s) symbols_.broken.insert(*s);
        }
      }
      stack.pop_back();
      state[d] = 2;
    };
    for (const File& f : program_.files)
      for (const Decl& d : f.decls)
        if (state[&d] == 0) visit(&d);
    // A declaration that uses a broken one is not evaluated either (its
    // errors were reported where they are).
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [caller, callees] : calls_)
        for (const auto& [callee, at] : callees)
          if (symbols_.broken.count(callee) && symbols_.broken.insert(caller).second) changed = true;
    }
  }
};

}  // namespace

void resolve(const Program& program, Symbols& symbols, Diagnostics& diags) {
  Resolver(program, symbols, diags).run();
}

}  // namespace dlc::compiler
