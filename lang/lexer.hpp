// The lexer: .dlc text to tokens. It is total: any byte sequence yields a
// token stream ending in `end`; bad bytes become `invalid` tokens carrying a
// message, which the parser reports as the file's syntax error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lang/source.hpp"

namespace dlc::lang {

enum class Tok {
  end, invalid,
  identifier, integer, real, string,
  // keywords (the declaration words model, block, device, ... are contextual:
  // keywords only at the start of a declaration, names everywhere else)
  kw_import, kw_input, kw_output, kw_return, kw_repeat, kw_for, kw_in, kw_per,
  kw_true, kw_false,
  // punctuation
  lparen, rparen, lbracket, rbracket, lbrace, rbrace, comma, semicolon, colon,
  dot, dotdot, dotdot_eq, assign, eq, ne, lt, le, gt, ge, shl, shr, plus,
  minus, star, slash, percent, caret, and_and, or_or, bang, question, at,
};

struct Token {
  Tok kind = Tok::end;
  SourceRange range;
  std::string_view text;    // the token's spelling (a view into the source)
  bool newline_before = false;  // a line break separates it from the previous token
  bool space_before = false;    // any whitespace or comment separates it
  std::string message;          // for Tok::invalid: what is wrong
};

// Splits the whole file into tokens (the last one is Tok::end).
std::vector<Token> lex(FileId file, std::string_view text);

// "identifier", "'('", "'model'": how a token kind is named in messages.
std::string describe(Tok kind);
// How a token is named in messages: "'foo'", "number '12'", "end of file".
std::string describe(const Token& token);

}  // namespace dlc::lang
