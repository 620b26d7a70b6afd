// The parser: tokens to AST, by recursive descent with precedence climbing for
// expressions. A syntax error reports what was expected, in words, with a
// note at the bracket left open; parsing then resumes at the next declaration,
// so every broken declaration of a file is reported once. Nesting deeper than
// kMaxNesting is an error of its own, so no input can exhaust the stack.
//
// Why hand-written rather than Spirit X3 (which DESIGN.md first named): the
// language is line-sensitive in one place (a unit belongs to a number on the
// same line: `x = 3` then `s = ...` on the next), declaration words are
// contextual keywords, errors must say what was expected in words and point
// at the opening bracket, and the depth limit must hold for every construct.
// Each of those is a few lines here and a fight with X3's attribute and
// error-handler machinery there; a recursive-descent parser is also what
// clang, rustc and Go use for the same reasons, and compiles in a second.
#pragma once

#include <string_view>

#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"

namespace dlc::lang {

inline constexpr int kMaxNesting = 256;

// Parses one file. Syntax errors go to `diags`; the file then has
// syntax_error set and holds the declarations that parsed (the checker does
// not run on such a file).
ast::File parse(FileId file, std::string_view text, Diagnostics& diags);

}  // namespace dlc::lang
