#include "lang/lexer.hpp"

#include <array>
#include <fmt/format.h>
#include <utility>

namespace dlc::lang {

namespace {

constexpr std::pair<std::string_view, Tok> kKeywords[] = {
    {"import", Tok::kw_import},   {"input", Tok::kw_input},     {"output", Tok::kw_output},
    {"return", Tok::kw_return},   {"repeat", Tok::kw_repeat},   {"for", Tok::kw_for},
    {"in", Tok::kw_in},           {"per", Tok::kw_per},         {"true", Tok::kw_true},
    {"false", Tok::kw_false},
};

constexpr std::size_t kMaxNameLength = 256;

bool ident_start(unsigned char c) { return std::isalpha(c) || c == '_'; }
bool ident_char(unsigned char c) { return std::isalnum(c) || c == '_'; }
bool digit(unsigned char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  Lexer(FileId file, std::string_view text) : file_(file), text_(text) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    // A UTF-8 byte order mark is allowed at the very start.
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
    bool newline = true;
    while (true) {
      bool space = false;
      if (!skip_space_and_comments(newline, space, out)) break;
      Token t = next();
      t.newline_before = newline;
      t.space_before = space || newline;
      newline = false;
      // A bad character is a token of its own and lexing goes on: the parser
      // reports it and resumes at the next declaration, as after any error.
      bool stop = t.kind == Tok::end;
      out.push_back(std::move(t));
      if (stop) return out;
    }
    return out;
  }

 private:
  FileId file_;
  std::string_view text_;
  std::size_t pos_ = 0;

  unsigned char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? static_cast<unsigned char>(text_[pos_ + ahead]) : 0;
  }
  bool at_end() const { return pos_ >= text_.size(); }

  Token make(Tok kind, std::size_t start) const {
    Token t;
    t.kind = kind;
    t.range = {file_, static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(pos_ - start)};
    t.text = text_.substr(start, pos_ - start);
    return t;
  }
  Token invalid(std::size_t start, std::string message) {
    if (pos_ == start) ++pos_;
    Token t = make(Tok::invalid, start);
    t.message = std::move(message);
    return t;
  }

  // Returns false after pushing an invalid token (unterminated comment).
  bool skip_space_and_comments(bool& newline, bool& space, std::vector<Token>& out) {
    while (!at_end()) {
      unsigned char c = peek();
      if (c == '\n') {
        newline = true;
        ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        space = true;
        ++pos_;
      } else if (c == '/' && peek(1) == '/') {
        while (!at_end() && peek() != '\n') ++pos_;
        space = true;
      } else if (c == '/' && peek(1) == '*') {
        std::size_t start = pos_;
        pos_ += 2;
        while (!at_end() && !(peek() == '*' && peek(1) == '/')) {
          if (peek() == '\n') newline = true;
          ++pos_;
        }
        if (at_end()) {
          Token t;
          t.kind = Tok::invalid;
          t.range = {file_, static_cast<std::uint32_t>(start), 2};
          t.text = text_.substr(start, 2);
          t.message = "unterminated comment: '/*' has no matching '*/'";
          out.push_back(std::move(t));
          return false;
        }
        pos_ += 2;
        space = true;
      } else {
        break;
      }
    }
    return true;
  }

  // Length of a valid UTF-8 sequence at pos_, or 0.
  std::size_t utf8_sequence() const {
    unsigned char c = peek();
    std::size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                               : (c & 0xF8) == 0xF0   ? 4 : 0;
    if (n == 0 || (n == 2 && c < 0xC2)) return 0;
    for (std::size_t k = 1; k < n; ++k)
      if ((peek(k) & 0xC0) != 0x80) return 0;
    return n;
  }

  Token next() {
    std::size_t start = pos_;
    if (at_end()) return make(Tok::end, start);
    unsigned char c = peek();
    if (ident_start(c)) {
      while (ident_char(peek())) ++pos_;
      if (pos_ - start > kMaxNameLength) {
        Token t = make(Tok::invalid, start);
        t.message = fmt::format("name is too long ({} characters; the limit is {})", pos_ - start, kMaxNameLength);
        return t;
      }
      Token t = make(Tok::identifier, start);
      for (const auto& [word, kind] : kKeywords)
        if (t.text == word) t.kind = kind;
      return t;
    }
    if (digit(c)) return number(start);
    if (c == '"') return string(start);
    auto op = [&](Tok kind, std::size_t len) {
      pos_ += len;
      return make(kind, start);
    };
    unsigned char d = peek(1);
    switch (c) {
      case '(': return op(Tok::lparen, 1);
      case ')': return op(Tok::rparen, 1);
      case '[': return op(Tok::lbracket, 1);
      case ']': return op(Tok::rbracket, 1);
      case '{': return op(Tok::lbrace, 1);
      case '}': return op(Tok::rbrace, 1);
      case ',': return op(Tok::comma, 1);
      case ';': return op(Tok::semicolon, 1);
      case ':': return op(Tok::colon, 1);
      case '.':
        if (d == '.') return peek(2) == '=' ? op(Tok::dotdot_eq, 3) : op(Tok::dotdot, 2);
        return op(Tok::dot, 1);
      case '=': return d == '=' ? op(Tok::eq, 2) : op(Tok::assign, 1);
      case '!': return d == '=' ? op(Tok::ne, 2) : op(Tok::bang, 1);
      case '<': return d == '=' ? op(Tok::le, 2) : d == '<' ? op(Tok::shl, 2) : op(Tok::lt, 1);
      case '>': return d == '=' ? op(Tok::ge, 2) : d == '>' ? op(Tok::shr, 2) : op(Tok::gt, 1);
      case '+': return op(Tok::plus, 1);
      case '-': return op(Tok::minus, 1);
      case '*': return op(Tok::star, 1);
      case '/': return op(Tok::slash, 1);
      case '%': return op(Tok::percent, 1);
      case '^': return op(Tok::caret, 1);
      case '?': return op(Tok::question, 1);
      case '@': return op(Tok::at, 1);
      case '&':
        if (d == '&') return op(Tok::and_and, 2);
        return invalid(start, "unexpected character '&' (did you mean '&&'?)");
      case '|':
        if (d == '|') return op(Tok::or_or, 2);
        return invalid(start, "unexpected character '|' (did you mean '||'?)");
      default: break;
    }
    if (c == 0) return invalid(start, "unexpected NUL byte in source");
    if (c < 0x20 || c == 0x7F) return invalid(start, fmt::format("unexpected control character 0x{:02X}", c));
    if (c >= 0x80) {
      std::size_t n = utf8_sequence();
      if (n == 0) return invalid(start, fmt::format("invalid UTF-8 byte 0x{:02X}", c));
      pos_ += n;
      return invalid(start, fmt::format("unexpected character '{}' (non-ASCII characters are only "
                                        "allowed in strings and comments)",
                                        text_.substr(start, n)));
    }
    return invalid(start, fmt::format("unexpected character '{}'", static_cast<char>(c)));
  }

  Token number(std::size_t start) {
    bool real = false;
    while (digit(peek()) || (peek() == '_' && digit(peek(1)))) ++pos_;
    if (peek() == '.' && digit(peek(1))) {
      real = true;
      ++pos_;
      while (digit(peek()) || (peek() == '_' && digit(peek(1)))) ++pos_;
    }
    if ((peek() == 'e' || peek() == 'E') &&
        (digit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && digit(peek(2))))) {
      real = true;
      pos_ += 2;
      while (digit(peek())) ++pos_;
    }
    if (pos_ - start > kMaxNameLength) {
      Token t = make(Tok::invalid, start);
      t.message = fmt::format("number is too long ({} characters)", pos_ - start);
      return t;
    }
    return make(real ? Tok::real : Tok::integer, start);
  }

  Token string(std::size_t start) {
    ++pos_;
    while (!at_end() && peek() != '"' && peek() != '\n') {
      if (peek() == '\\' && (peek(1) == '"' || peek(1) == '\\')) {
        pos_ += 2;
        continue;
      }
      unsigned char c = peek();
      if (c == 0 || (c < 0x20 && c != '\t')) {
        std::size_t bad = pos_;
        pos_ = bad + 1;
        Token t = invalid(bad, c == 0 ? "unexpected NUL byte in string"
                                      : fmt::format("unexpected control character 0x{:02X} in string", c));
        return t;
      }
      std::size_t n = utf8_sequence();
      if (n == 0) {
        std::size_t bad = pos_;
        pos_ = bad + 1;
        return invalid(bad, fmt::format("invalid UTF-8 byte 0x{:02X} in string", c));
      }
      pos_ += n;
    }
    if (at_end() || peek() == '\n') {
      Token t;
      t.kind = Tok::invalid;
      t.range = {file_, static_cast<std::uint32_t>(start), 1};
      t.text = text_.substr(start, 1);
      t.message = "unterminated string: missing closing '\"' on this line";
      return t;
    }
    ++pos_;
    return make(Tok::string, start);
  }
};

}  // namespace

std::vector<Token> lex(FileId file, std::string_view text) { return Lexer(file, text).run(); }

std::string describe(Tok kind) {
  switch (kind) {
    case Tok::end: return "end of file";
    case Tok::invalid: return "invalid character";
    case Tok::identifier: return "a name";
    case Tok::integer: return "an integer";
    case Tok::real: return "a number";
    case Tok::string: return "a string";
    default: break;
  }
  static constexpr std::pair<Tok, const char*> punct[] = {
      {Tok::lparen, "("}, {Tok::rparen, ")"}, {Tok::lbracket, "["}, {Tok::rbracket, "]"},
      {Tok::lbrace, "{"}, {Tok::rbrace, "}"}, {Tok::comma, ","}, {Tok::semicolon, ";"},
      {Tok::colon, ":"}, {Tok::dot, "."}, {Tok::dotdot, ".."}, {Tok::dotdot_eq, "..="},
      {Tok::assign, "="}, {Tok::eq, "=="}, {Tok::ne, "!="}, {Tok::lt, "<"}, {Tok::le, "<="},
      {Tok::gt, ">"}, {Tok::ge, ">="}, {Tok::shl, "<<"}, {Tok::shr, ">>"}, {Tok::plus, "+"},
      {Tok::minus, "-"}, {Tok::star, "*"}, {Tok::slash, "/"}, {Tok::percent, "%"},
      {Tok::caret, "^"}, {Tok::and_and, "&&"}, {Tok::or_or, "||"}, {Tok::bang, "!"},
      {Tok::question, "?"}, {Tok::at, "@"}};
  for (const auto& [k, s] : punct)
    if (k == kind) return fmt::format("'{}'", s);
  for (const auto& [word, k] : kKeywords)
    if (k == kind) return fmt::format("'{}'", word);
  return "token";
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::end: return "end of file";
    case Tok::identifier: return fmt::format("name '{}'", t.text.size() > 40 ? std::string(t.text.substr(0, 40)) + "..." : std::string(t.text));
    case Tok::integer:
    case Tok::real: return fmt::format("number '{}'", t.text.size() > 40 ? std::string(t.text.substr(0, 40)) + "..." : std::string(t.text));
    case Tok::string: return "a string";
    default: return describe(t.kind);
  }
}

}  // namespace dlc::lang
