// The abstract syntax tree: plain data, produced by the parser and read by the
// checker. Every node records the source range it came from, so the checker
// reports at the positions the parser saw. No semantics here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lang/lexer.hpp"
#include "lang/source.hpp"
#include "lang/units.hpp"

namespace dlc::lang::ast {

struct Identifier {
  std::string name;
  SourceRange range;
};

enum class ExprKind {
  number,   // 56 Gb/s: value in base units, dimension from the unit
  string,   // "path"
  boolean,  // true / false
  name,     // x, P100, ring
  list,     // [a, b, c]
  unary,    // -x, !x
  binary,   // a + b
  ternary,  // c ? a : b
  call,     // f(a, b, key = c)
  index,    // a[i]
  per,      // 16 per device
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Argument {
  std::optional<Identifier> name;  // set for named arguments (key = value)
  ExprPtr value;
};

struct Expr {
  ExprKind kind;
  SourceRange range;
  // number
  double number = 0;          // value in base units (unit factor applied)
  bool integral = false;      // written as an integer with no unit factor
  std::int64_t integer = 0;   // the value when integral
  Dimension dim;              // from the unit
  std::string spelling;       // number/unit as written; string contents; name; operator
  // unary / binary: operator token
  Tok op = Tok::end;
  // name: spelling; call: callee; per: the qualifier
  Identifier ident;
  // list elements, unary/binary/ternary/index operands
  std::vector<ExprPtr> operands;
  // call arguments
  std::vector<Argument> args;
  int height = 1;  // depth of the tree below this node (bounded by the parser)
  bool invalid = false;  // a number whose unit is unknown (reported by the parser)
};

struct TensorType {
  Identifier dtype;              // f32, f16, bf16, i32, ...
  std::vector<ExprPtr> dims;
  SourceRange range;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

enum class StmtKind { input, assign, output, ret, repeat, for_each };

struct Stmt {
  StmtKind kind;
  SourceRange range;
  Identifier target;                 // input/assign name; loop variable
  std::optional<Identifier> second;  // for a, b in ...: the second variable
  TensorType type;                   // input
  ExprPtr value;                     // assign/output/return value; for: iterable; repeat: from
  ExprPtr limit;                     // repeat: to
  bool inclusive = false;            // repeat: ..= instead of ..
  std::vector<StmtPtr> body;         // loops
};

struct Param {
  Identifier name;
  std::optional<Identifier> type;  // list, int, number, tensor, ...
  ExprPtr default_value;
};

struct Property;
struct Property {
  Identifier name;
  SourceRange range;
  ExprPtr value;                        // name = value
  std::vector<Property> group;          // name { ... }
  bool is_group = false;
};

enum class DeclKind { model, block, device, link, node, cluster, experiment, crossbar, framework };

const char* decl_kind_name(DeclKind k);

// @name or @name(arguments) before a declaration: facts about it that are not
// part of its definition (@type(CNN), @title("Eng Acoustic Model")).
struct Annotation {
  Identifier name;
  std::vector<ExprPtr> args;
  SourceRange range;
};

struct Decl {
  DeclKind kind;
  SourceRange range;      // the whole declaration
  Identifier name;
  std::vector<Annotation> annotations;
  std::vector<Param> params;
  bool has_params = false;               // written with (...), even if empty
  std::vector<StmtPtr> body;             // model / block
  ExprPtr alias;                         // model X = Y(args)
  std::optional<Identifier> base;        // device X : Y { ... }
  std::vector<Property> properties;      // hardware and experiment declarations
};

struct Import {
  SourceRange range;
  std::string module;          // std.hardware  (dotted), or
  std::string path;            // "file.dlc"    (relative to the importing file)
  SourceRange target_range;
};

struct File {
  FileId id = kNoFile;
  bool syntax_error = false;  // it has syntax errors: what they broke is missing
  std::vector<Import> imports;
  std::vector<Decl> decls;
};

// Stable, indented text form of a file's AST (dlc check --emit=ast).
std::string dump(const File& file);
// Source-like text of one expression, fully parenthesised.
std::string to_string(const Expr& e);

}  // namespace dlc::lang::ast
