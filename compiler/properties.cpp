// Property values of devices, links, nodes, clusters, experiments and
// crossbars: evaluated, checked against the kind's schema (names, types,
// dimensions, ranges, references), inherited from a base declaration, and
// normalised to SI units.
#include "compiler/properties.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace dlc::compiler {

using namespace lang::ast;
using lang::SourceRange;

PropertyChecker::PropertyChecker(const Symbols& s, Evaluator& e, lang::Diagnostics& d, CheckedModule& m)
    : symbols_(s), eval_(e), diags_(d), module_(m) {}

const CheckedDecl* PropertyChecker::check(const Decl& d) {
  if (auto it = done_.find(&d); it != done_.end()) return it->second;
  done_[&d] = nullptr;  // guards against cycles (reported by the static pass)
  const Decl* saved = current_;
  current_ = &d;
  CheckedDecl out{d.kind, d.name.name, &d, {}};
  if (d.base) {
    const Decl* base = symbols_.find(d.base->name);
    if (base && base->kind == d.kind)
      if (const CheckedDecl* b = check(*base)) out.properties = b->properties;
  }
  const Schema* schema = schema_for(d.kind);
  std::map<std::string, SourceRange> seen;
  check_group(d, *schema, d.properties, "", out, seen);
  for (const PropSpec& p : schema->props)
    if (p.required && !out.find(p.name) && !seen.count(p.name)) {  // written but invalid: reported already
      auto& e = diags_.error(d.name.range, fmt::format("{} '{}' is missing the required property '{}' ({})",
                                                       decl_kind_name(d.kind), d.name.name, p.name, p.doc));
      e.notes.push_back({{}, fmt::format("expected {}", expected_text(p))});
    }
  if (d.kind == lang::ast::DeclKind::experiment) check_experiment_task(d, out, seen);
  module_.decls.push_back(std::move(out));
  done_[&d] = &module_.decls.back();
  current_ = saved;
  return done_[&d];
}

// An experiment runs a model, or a Hopfield network: one of the two.
void PropertyChecker::check_experiment_task(const Decl& d, const CheckedDecl& out,
                                            const std::map<std::string, SourceRange>& seen) {
  bool model = out.find("model") || seen.count("model");
  bool hopfield = std::any_of(out.properties.begin(), out.properties.end(),
                              [](const Property& p) { return p.key.starts_with("hopfield."); }) ||
                  std::any_of(seen.begin(), seen.end(), [](const auto& s) { return s.first.starts_with("hopfield"); });
  if (!model && !hopfield) {
    auto& e = diags_.error(d.name.range, fmt::format("experiment '{}' is missing the required property 'model' "
                                                     "(the network)", d.name.name));
    e.notes.push_back({{}, "expected a model (or a hopfield { ... } group)"});
  } else if (model && hopfield) {
    diags_.error(d.name.range, fmt::format("experiment '{}' has both a model and a hopfield group: an experiment "
                                           "runs one of them", d.name.name));
  }
}

void PropertyChecker::check_group(const Decl& d, const Schema& schema, const std::vector<lang::ast::Property>& props,
                                  const std::string& prefix, CheckedDecl& out,
                                  std::map<std::string, SourceRange>& seen) {
  for (const lang::ast::Property& p : props) {
    const PropSpec* spec = schema.find(p.name.name);
    std::string key = prefix + p.name.name;
    if (!spec) {
      std::string where = prefix.empty() ? fmt::format("a {}", decl_kind_name(d.kind))
                                         : fmt::format("'{}'", prefix.substr(0, prefix.size() - 1));
      std::string message = fmt::format("unknown property '{}' in {}", p.name.name, where);
      std::string close = lang::closest_match(p.name.name, schema.names());
      if (!close.empty()) message += fmt::format("; did you mean '{}'?", close);
      auto& e = diags_.error(p.name.range, message);
      if (close.empty()) e.notes.push_back({{}, fmt::format("known properties: {}", fmt::join(schema.names(), ", "))});
      continue;
    }
    if (auto it = seen.find(key); it != seen.end()) {
      auto& e = diags_.error(p.name.range, fmt::format("property '{}' is set twice", key));
      e.notes.push_back({it->second, "first set here"});
      continue;
    }
    if (spec->type == PropType::group) {
      if (!p.is_group) {
        diags_.error(p.range, fmt::format("'{}' is a group of properties: write {} {{ ... }}", key, p.name.name));
        continue;
      }
      seen[key] = p.name.range;
      check_group(d, *spec->group, p.group, key + ".", out, seen);
      continue;
    }
    if (p.is_group) {
      diags_.error(p.name.range, fmt::format("'{}' is not a group: write {} = <value> ({})", key, p.name.name,
                                             expected_text(*spec)));
      continue;
    }
    seen[key] = p.name.range;
    Value v = eval_.property_value(*p.value);
    if (v.is_poison()) continue;
    if (!validate(*spec, key, *p.value, v)) continue;
    set(out, key, std::move(v));
  }
}

void PropertyChecker::set(CheckedDecl& out, const std::string& key, Value v) {
  for (compiler::Property& existing : out.properties)
    if (existing.key == key) {
      existing.value = std::move(v);
      return;
    }
  // An override of a group replaces inherited keys one by one, so nothing else to do.
  out.properties.push_back({key, std::move(v)});
}

bool PropertyChecker::mismatch(const std::string& key, const PropSpec& spec, const Value& v) {
  diags_.error(v.where, fmt::format("property '{}' expects {}, got {}", key, expected_text(spec), describe(v)));
  return false;
}

bool PropertyChecker::validate(const PropSpec& spec, const std::string& key, const Expr& expr, Value& v) {
  using K = Value::Kind;
  if (v.kind == K::per) {
    Value inner = v.elements()[0];
    if (spec.per.empty()) {
      diags_.error(v.where, fmt::format("property '{}' cannot be qualified with 'per'", key));
      return false;
    }
    if (std::find(spec.per.begin(), spec.per.end(), v.text) == spec.per.end()) {
      std::string message = fmt::format("'{}' is not something '{}' can be per; expected one of: {}", v.text,
                                        key, fmt::join(spec.per, ", "));
      diags_.error(v.where, message);
      return false;
    }
    if (!validate(spec, key, *expr.operands[0], inner)) return false;
    v.items = std::make_shared<std::vector<Value>>(std::vector<Value>{inner});
    return true;
  }
  switch (spec.type) {
    case PropType::quantity: {
      if (v.kind != K::number) return mismatch(key, spec, v);
      // A plain count is accepted where samples are expected, and the other way round.
      bool counts = (spec.dim == lang::dims::samples() && v.dim.dimensionless()) ||
                    (spec.dim.dimensionless() && v.dim == lang::dims::samples());
      if (v.dim != spec.dim && !counts) {
        diags_.error(v.where, fmt::format("property '{}' expects {}, got {}{}", key, expected_text(spec),
                                          v.dim.dimensionless() ? "a plain number" : lang::with_article(v.dim.describe()),
                                          v.dim.dimensionless() && !spec.dim.dimensionless()
                                              ? fmt::format(" (add a unit, e.g. {})", example_unit(spec.dim))
                                              : ""));
        return false;
      }
      if (counts) v.dim = spec.dim;
      if (spec.whole && v.number != std::floor(v.number)) {
        diags_.error(v.where, fmt::format("property '{}' is a count and must be a whole number, got {}", key, v.number));
        return false;
      }
      return in_range(spec, key, v);
    }
    case PropType::integer:
      if (!v.is_int()) return mismatch(key, spec, v);
      return in_range(spec, key, v);
    case PropType::boolean:
      return v.kind == K::boolean || mismatch(key, spec, v);
    case PropType::string:
      return v.kind == K::string || mismatch(key, spec, v);
    case PropType::enumeration:
      // A choice that is also a declaration's name (an experiment called `ring`) is still the choice.
      if (v.kind == K::decl && std::find(spec.choices.begin(), spec.choices.end(), v.decl->name.name) != spec.choices.end())
        v = Value::symbol(v.decl->name.name, v.where);
      return check_choice(spec, key, v);
    case PropType::variant:
      return check_variant(spec, key, v);
    case PropType::reference:
    case PropType::replicated:
      return check_reference(spec, key, v);
    case PropType::model:
      return check_model(key, expr, v);
    case PropType::group:
      return false;
  }
  return false;
}

std::string PropertyChecker::example_unit(const lang::Dimension& d) {
  namespace dims = lang::dims;
  if (d == dims::bandwidth()) return "16 GB/s";
  if (d == dims::bytes()) return "16 GB";
  if (d == dims::time()) return "5 us";
  if (d == dims::op_rate()) return "15 TFLOPS";
  if (d == dims::power()) return "300 W";
  if (d == dims::frequency()) return "1.2 GHz";
  if (d == dims::samples()) return "1M samples";
  return "1 " + d.unit();
}

bool PropertyChecker::in_range(const PropSpec& spec, const std::string& key, const Value& v) {
  if (spec.positive && v.number <= 0) {
    diags_.error(v.where, fmt::format("property '{}' must be positive, got {}", key,
                                      lang::format_quantity({v.number, v.dim})));
    return false;
  }
  // Integers compare as integers: 1000000000000000001 is above 1e18.
  bool below = v.integral ? static_cast<double>(v.integer) < spec.min : v.number < spec.min;
  bool above = v.integral ? v.integer > static_cast<std::int64_t>(std::min(spec.max, 9.2e18)) : v.number > spec.max;
  if (!below && !above) return true;
  auto text = [&](double x) {
    return spec.dim.dimensionless() ? fmt::format("{}", x) : lang::format_quantity({x, spec.dim});
  };
  std::string got = v.integral ? std::to_string(v.integer) : lang::format_quantity({v.number, v.dim});
  if (spec.max <= 1e6)  // a small closed range reads best whole
    diags_.error(v.where, fmt::format("property '{}' must be between {} and {}, got {}", key, text(spec.min),
                                      text(spec.max), got));
  else if (below)
    diags_.error(v.where, fmt::format("property '{}' must be at least {}, got {}", key, text(spec.min), got));
  else
    diags_.error(v.where, fmt::format("property '{}' must be at most {:.0f}, got {}", key, spec.max, got));
  return false;
}

bool PropertyChecker::check_choice(const PropSpec& spec, const std::string& key, const Value& v) {
  if (v.kind == Value::Kind::symbol &&
      std::find(spec.choices.begin(), spec.choices.end(), v.text) != spec.choices.end())
    return true;
  for (const auto& [word, reason] : spec.refused)
    if (v.kind == Value::Kind::symbol && v.text == word) {
      diags_.error(v.where, fmt::format("{} = {} is not supported: {}", key, word, reason));
      return false;
    }
  std::string got = v.kind == Value::Kind::symbol ? fmt::format("'{}'", v.text) : describe(v);
  std::string message = fmt::format("property '{}' expects {}, got {}", key, expected_text(spec), got);
  if (v.kind == Value::Kind::symbol) {
    std::string close = lang::closest_match(v.text, spec.choices);
    if (!close.empty()) message += fmt::format("; did you mean '{}'?", close);
  }
  diags_.error(v.where, message);
  return false;
}

bool PropertyChecker::check_variant(const PropSpec& spec, const std::string& key, Value& v) {
  if (v.kind == Value::Kind::decl && std::find(spec.choices.begin(), spec.choices.end(), v.decl->name.name) != spec.choices.end())
    v = Value::symbol(v.decl->name.name, v.where);
  if (v.kind == Value::Kind::symbol) return check_choice(spec, key, v);
  if (v.kind != Value::Kind::call) return mismatch(key, spec, v);
  auto it = std::find(spec.choices.begin(), spec.choices.end(), v.text);
  if (it == spec.choices.end()) {
    Value as_symbol = Value::symbol(v.text, v.where);
    return check_choice(spec, key, as_symbol);
  }
  const Schema& args = *spec.args[static_cast<std::size_t>(it - spec.choices.begin())];
  bool ok = true;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < v.items->size(); ++i) {
    Value& a = (*v.items)[i];
    const std::string& name = (*v.names)[i].name;
    lang::SourceRange name_at = (*v.names)[i].range;
    if (name.empty()) {
      diags_.error(a.where, fmt::format("arguments of {}(...) must be named ({} = ...)", v.text,
                                        args.props.empty() ? "name" : args.props[0].name));
      ok = false;
      continue;
    }
    const PropSpec* p = args.find(name);
    if (!p) {
      std::string message = fmt::format("{}(...) has no parameter '{}'", v.text, name);
      std::string close = lang::closest_match(name, args.names());
      if (!close.empty()) message += fmt::format("; did you mean '{}'?", close);
      diags_.error(name_at, message);
      ok = false;
      continue;
    }
    if (!seen.insert(name).second) {
      diags_.error(name_at, fmt::format("argument '{}' given twice", name));
      ok = false;
      continue;
    }
    Expr dummy;
    dummy.kind = ExprKind::name;
    ok = validate(*p, key + "." + name, dummy, a) && ok;
  }
  return ok;
}

bool PropertyChecker::check_reference(const PropSpec& spec, const std::string& key, Value& v) {
  using K = Value::Kind;
  auto kind_ok = [&](const Decl* d) {
    return std::find(spec.kinds.begin(), spec.kinds.end(), d->kind) != spec.kinds.end();
  };
  if (v.kind == K::symbol) {
    std::string kinds;
    for (std::size_t i = 0; i < spec.kinds.size(); ++i)
      kinds += (i == 0 ? "" : i + 1 == spec.kinds.size() ? " or " : ", ") + std::string(decl_kind_name(spec.kinds[i]));
    std::string message = fmt::format("unknown {} '{}'", kinds, v.text);
    std::vector<std::string> candidates;
    for (const auto& [name, d] : symbols_.decls)
      if (kind_ok(d)) candidates.push_back(name);
    std::string close = lang::closest_match(v.text, candidates);
    if (!close.empty()) message += fmt::format("; did you mean '{}'?", close);
    diags_.error(v.where, message);
    return false;
  }
  if (v.kind == K::replicated && spec.type != PropType::replicated)
    return mismatch(key, spec, v);
  if (v.kind != K::decl && v.kind != K::replicated) return mismatch(key, spec, v);
  if (!kind_ok(v.decl)) {
    auto& e = diags_.error(v.where, fmt::format("property '{}' expects {}, but '{}' is a {}", key,
                                                expected_text(spec), v.decl->name.name,
                                                decl_kind_name(v.decl->kind)));
    e.notes.push_back({v.decl->name.range, fmt::format("'{}' declared here", v.decl->name.name)});
    return false;
  }
  if (v.decl->kind != DeclKind::model && v.decl->kind != DeclKind::block) check(*v.decl);
  if (spec.type == PropType::replicated && v.kind == K::decl) {
    v.kind = K::replicated;
    v.count = 1;
  }
  return true;
}

bool PropertyChecker::check_model(const std::string& key, const Expr& expr, Value& v) {
  using K = Value::Kind;
  const Decl* model = nullptr;
  if (v.kind == K::decl) model = v.decl;
  else if (v.kind == K::call) model = symbols_.find(v.text);
  else if (v.kind == K::symbol) {
    std::string message = fmt::format("unknown model '{}'", v.text);
    std::string close = lang::closest_match(v.text, symbols_.names({DeclKind::model}));
    if (!close.empty()) message += fmt::format("; did you mean '{}'?", close);
    diags_.error(v.where, message);
    return false;
  }
  if (!model || model->kind != DeclKind::model) {
    if (v.kind == K::call && !model) {
      std::string message = fmt::format("unknown model '{}'", v.text);
      std::string close = lang::closest_match(v.text, symbols_.names({DeclKind::model}));
      if (!close.empty()) message += fmt::format("; did you mean '{}'?", close);
      diags_.error(v.where, message);
      return false;
    }
    PropSpec spec;
    spec.name = key;
    spec.type = PropType::model;
    return mismatch(key, spec, v);
  }
  if (symbols_.broken.count(model)) return false;
  std::string name = v.kind == K::call ? to_string(expr) : model->name.name;
  if (module_.find_model(name)) {
    v = Value::symbol(name, v.where);
    return true;
  }
  ModelGraph g;
  g.origin = current_;
  bool ok;
  if (v.kind == K::call) {
    ok = eval_.instantiate_call(expr, g);
  } else {
    for (const Param& p : model->params)
      if (!p.default_value) {
        diags_.error(v.where, fmt::format("model '{}' needs arguments (parameter '{}' has no default): "
                                          "write {}(...)", model->name.name, p.name.name, model->name.name));
        return false;
      }
    ok = eval_.instantiate(*model, g);
  }
  if (!ok) return false;
  g.name = name;
  module_.models.push_back(std::move(g));
  v = Value::symbol(name, v.where);
  return true;
}

}  // namespace dlc::compiler
