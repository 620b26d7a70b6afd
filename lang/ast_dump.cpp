// dlc check --emit=ast: a stable, indented text form of the syntax tree, one
// node a line, expressions in fully parenthesised source form.
#include <fmt/format.h>

#include "lang/ast.hpp"

namespace dlc::lang::ast {

namespace {

std::string op_text(Tok op) {
  std::string s = describe(op);
  return s.size() >= 2 && s.front() == '\'' ? s.substr(1, s.size() - 2) : s;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void dump_stmts(std::string& out, const std::vector<StmtPtr>& body, int indent);

void dump_properties(std::string& out, const std::vector<Property>& props, int indent) {
  std::string pad(indent * 2, ' ');
  for (const Property& p : props) {
    if (p.is_group) {
      out += fmt::format("{}{} {{\n", pad, p.name.name);
      dump_properties(out, p.group, indent + 1);
      out += pad + "}\n";
    } else {
      out += fmt::format("{}{} = {}\n", pad, p.name.name, to_string(*p.value));
    }
  }
}

void dump_stmts(std::string& out, const std::vector<StmtPtr>& body, int indent) {
  std::string pad(indent * 2, ' ');
  for (const StmtPtr& s : body) {
    switch (s->kind) {
      case StmtKind::input: {
        std::string dims;
        for (const ExprPtr& d : s->type.dims) dims += (dims.empty() ? "" : ", ") + to_string(*d);
        out += fmt::format("{}input {}: {}[{}]\n", pad, s->target.name, s->type.dtype.name, dims);
        break;
      }
      case StmtKind::assign:
        out += fmt::format("{}{} = {}\n", pad, s->target.name, to_string(*s->value));
        break;
      case StmtKind::output:
        out += fmt::format("{}output {}\n", pad, to_string(*s->value));
        break;
      case StmtKind::ret:
        out += fmt::format("{}return {}\n", pad, to_string(*s->value));
        break;
      case StmtKind::repeat:
        out += fmt::format("{}repeat {} in {}{}{} {{\n", pad, s->target.name, to_string(*s->value),
                           s->inclusive ? "..=" : "..", to_string(*s->limit));
        dump_stmts(out, s->body, indent + 1);
        out += pad + "}\n";
        break;
      case StmtKind::for_each:
        out += fmt::format("{}for {}{} in {} {{\n", pad, s->target.name,
                           s->second ? ", " + s->second->name : "", to_string(*s->value));
        dump_stmts(out, s->body, indent + 1);
        out += pad + "}\n";
        break;
    }
  }
}

}  // namespace

std::string to_string(const Expr& e) {
  switch (e.kind) {
    case ExprKind::number: return e.spelling;
    case ExprKind::string: return quoted(e.spelling);
    case ExprKind::boolean: return e.spelling;
    case ExprKind::name: return e.spelling;
    case ExprKind::list: {
      std::string s = "[";
      for (std::size_t i = 0; i < e.operands.size(); ++i)
        s += (i ? ", " : "") + to_string(*e.operands[i]);
      return s + "]";
    }
    case ExprKind::unary: return fmt::format("({}{})", op_text(e.op), to_string(*e.operands[0]));
    case ExprKind::binary:
      return fmt::format("({} {} {})", to_string(*e.operands[0]), op_text(e.op), to_string(*e.operands[1]));
    case ExprKind::ternary:
      return fmt::format("({} ? {} : {})", to_string(*e.operands[0]), to_string(*e.operands[1]),
                         to_string(*e.operands[2]));
    case ExprKind::call: {
      std::string s = e.ident.name + "(";
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        s += i ? ", " : "";
        if (e.args[i].name) s += e.args[i].name->name + " = ";
        s += to_string(*e.args[i].value);
      }
      return s + ")";
    }
    case ExprKind::index: return fmt::format("{}[{}]", to_string(*e.operands[0]), to_string(*e.operands[1]));
    case ExprKind::per: return fmt::format("({} per {})", to_string(*e.operands[0]), e.ident.name);
  }
  return "?";
}

std::string dump(const File& file) {
  std::string out;
  for (const Import& i : file.imports)
    out += i.path.empty() ? fmt::format("import {}\n", i.module) : fmt::format("import {}\n", quoted(i.path));
  for (const Decl& d : file.decls) {
    for (const Annotation& a : d.annotations) {
      std::string args;
      for (const ExprPtr& e : a.args) args += (args.empty() ? "" : ", ") + to_string(*e);
      out += a.args.empty() ? fmt::format("@{}\n", a.name.name) : fmt::format("@{}({})\n", a.name.name, args);
    }
    std::string head = fmt::format("{} {}", decl_kind_name(d.kind), d.name.name);
    if (d.has_params) {
      head += "(";
      for (std::size_t i = 0; i < d.params.size(); ++i) {
        const Param& p = d.params[i];
        head += (i ? ", " : "") + p.name.name;
        if (p.type) head += ": " + p.type->name;
        if (p.default_value) head += " = " + to_string(*p.default_value);
      }
      head += ")";
    }
    if (d.base) head += " : " + d.base->name;
    if (d.alias) {
      out += fmt::format("{} = {}\n", head, to_string(*d.alias));
    } else if (d.kind == DeclKind::model || d.kind == DeclKind::block) {
      out += head + " {\n";
      dump_stmts(out, d.body, 1);
      out += "}\n";
    } else {
      out += head + " {\n";
      dump_properties(out, d.properties, 1);
      out += "}\n";
    }
  }
  return out;
}

}  // namespace dlc::lang::ast
