// The parser: tokens to AST, by recursive descent with precedence climbing for
// expressions. A syntax error stops the file at the first error and reports
// what was expected, in words. Nesting deeper than kMaxNesting is an error of
// its own, so no input can exhaust the stack.
#pragma once

#include <string_view>

#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"

namespace dlc::lang {

inline constexpr int kMaxNesting = 256;

// Parses one file. On a syntax error, reports it to `diags` and returns the
// declarations parsed before it (the checker does not run on such a file).
ast::File parse(FileId file, std::string_view text, Diagnostics& diags);

}  // namespace dlc::lang
