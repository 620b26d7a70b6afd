#include "lang/parser.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdlib>
#include <fmt/format.h>

namespace dlc::lang {

namespace {

using namespace ast;

struct SyntaxError {
  SourceRange where;
  std::string message;
  std::vector<Note> notes;
};

// The words that start a declaration. They are contextual keywords: at the
// top level they open a declaration, elsewhere they are ordinary names
// (link = PCIe3, repeat block in 1..n).
constexpr std::pair<std::string_view, DeclKind> kDeclarationWords[] = {
    {"model", DeclKind::model},   {"block", DeclKind::block},     {"device", DeclKind::device},
    {"link", DeclKind::link},     {"node", DeclKind::node},       {"cluster", DeclKind::cluster},
    {"experiment", DeclKind::experiment}, {"crossbar", DeclKind::crossbar},   {"framework", DeclKind::framework},
};

bool declaration_word(const Token& t, DeclKind& kind) {
  if (t.kind != Tok::identifier) return false;
  for (const auto& [word, k] : kDeclarationWords)
    if (t.text == word) {
      kind = k;
      return true;
    }
  return false;
}

class Parser {
 public:
  Parser(FileId file, std::string_view text, Diagnostics& diags)
      : tokens_(lex(file, text)), text_(text), diags_(&diags) {
    file_.id = file;
  }

  // Parses the file; a syntax error is reported and parsing resumes at the
  // next declaration, so a file shows all its syntax errors at once. What
  // lies between the error and that declaration is skipped unread: a guess
  // at what the broken construct meant would report errors the user did not
  // make. The file keeps syntax_error, so no later stage runs on it.
  File run() {
    while (peek().kind != Tok::end) {
      std::size_t start = pos_;
      try {
        top_level_item();
      } catch (SyntaxError& e) {
        diags_->error(e.where, e.message).notes = std::move(e.notes);
        file_.syntax_error = true;
        if (++syntax_errors_ >= kMaxSyntaxErrors || pos_ + 1 >= tokens_.size()) break;
        depth_ = 0;  // a DepthGuard that threw did not count itself down
        resume_after(start);  // bad characters in the skipped text are skipped too
      }
    }
    return std::move(file_);
  }

 private:
  // A file this broken is not worth reading further (Diagnostics keeps at
  // most kMaxErrors errors anyway).
  static constexpr int kMaxSyntaxErrors = 20;

  // Where a new declaration surely begins: at the start of a line, `import`,
  // an annotation (@ and a name), or a declaration word and the declaration's
  // name (`model M`). Inside a body a declaration word is a name (link =
  // PCIe3), never followed by another name, so this cannot stop mid-body.
  bool at_declaration_start() const {
    const Token& t = peek();
    if (!t.newline_before && pos_ != 0) return false;
    if (t.kind == Tok::kw_import) return true;
    if (t.kind == Tok::at) return peek(1).kind == Tok::identifier && !peek(1).space_before;
    DeclKind kind;
    return declaration_word(t, kind) && peek(1).kind == Tok::identifier;
  }

  // After an error in the item that began at `start`: the next declaration
  // after that token. Searching from the item's start (not from the error)
  // finds the declaration that a missing '}' ran into; the item's own first
  // token is skipped, so parsing always moves on.
  void resume_after(std::size_t start) {
    pos_ = start;
    advance();
    while (pos_ + 1 < tokens_.size() && !at_declaration_start()) advance();
  }

  // One import, declaration (with its annotations) or stray ';'.
  void top_level_item() {
    if (peek().kind == Tok::kw_import) {
      file_.imports.push_back(import_decl());
    } else if (DeclKind kind; declaration_word(peek(), kind)) {
      file_.decls.push_back(declaration(kind));
    } else if (peek().kind == Tok::at) {
      std::vector<Annotation> annotations;
      while (peek().kind == Tok::at) annotations.push_back(annotation());
      if (!declaration_word(peek(), kind))
        fail_expected("a declaration after its annotations");
      file_.decls.push_back(declaration(kind));
      file_.decls.back().annotations = std::move(annotations);
    } else if (peek().kind == Tok::semicolon) {
      advance();
    } else {
      std::string what = "a declaration (model, block, device, link, node, cluster, experiment, crossbar) or an import";
      if (peek().kind == Tok::identifier) {
        std::vector<std::string> words{"import"};
        for (const auto& [word, k] : kDeclarationWords) words.emplace_back(word);
        std::string close = closest_match(peek().text, words);
        if (!close.empty())
          fail(peek().range, fmt::format("expected {}, found name '{}'; did you mean '{}'?", what, peek().text, close));
      }
      fail_expected(what);
    }
  }

 private:
  std::vector<Token> tokens_;
  std::string_view text_;
  Diagnostics* diags_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int syntax_errors_ = 0;
  File file_;

  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& advance() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  SourceRange prev_range() const { return tokens_[pos_ > 0 ? pos_ - 1 : 0].range; }
  bool accept(Tok kind) {
    if (peek().kind != kind) return false;
    advance();
    return true;
  }

  [[noreturn]] void fail(SourceRange where, std::string message) {
    throw SyntaxError{where, std::move(message), {}};
  }
  [[noreturn]] void fail_expected(std::string_view what) {
    const Token& t = peek();
    if (t.kind == Tok::invalid) fail(t.range, t.message);
    // `model B` after a body left open: say what it is, not "name 'model'".
    if (t.kind == Tok::identifier && at_declaration_start())
      fail(t.range, fmt::format("expected {}, found the declaration of {} '{}'", what, t.text, peek(1).text));
    fail(t.range, fmt::format("expected {}, found {}", what, describe(t)));
  }
  // Message parts are built only when an error is reported: a string, or a
  // function returning one (the happy path formats nothing).
  static std::string text_of(std::string_view s) { return std::string(s); }
  template <class F>
    requires std::invocable<F>
  static std::string text_of(F&& f) {
    return f();
  }

  template <class C>
  const Token& expect(Tok kind, C&& context) {
    if (peek().kind != kind) fail_expected(fmt::format("{} {}", describe(kind), text_of(context)));
    return advance();
  }
  // Like expect, for the bracket that closes `opened`; the error notes where
  // the unclosed bracket is.
  template <class C>
  void closing(Tok kind, C&& context, SourceRange opened) {
    if (peek().kind == kind) {
      advance();
      return;
    }
    try {
      fail_expected(fmt::format("{} {}", describe(kind), text_of(context)));
    } catch (SyntaxError& e) {
      if (e.where.offset != opened.offset)
        e.notes.push_back({opened, fmt::format("'{}' opened here", text_[opened.offset])});
      throw;
    }
  }

  template <class C>
  Identifier identifier(C&& what_context) {
    if (peek().kind != Tok::identifier) return identifier_error(text_of(what_context));
    const Token& t = advance();
    return {std::string(t.text), t.range};
  }
  [[noreturn]] Identifier identifier_error(const std::string& what) {
    // A keyword where a name belongs deserves its own message.
    const Token& t = peek();
    if (t.kind >= Tok::kw_import && t.kind <= Tok::kw_false)
      fail(t.range, fmt::format("expected {}, found keyword '{}' (keywords cannot be used as names)", what, t.text));
    fail_expected(what);
  }

  // A name where keywords are also accepted (property names, per-qualifiers).
  Identifier word(std::string_view what) {
    if (peek().kind >= Tok::kw_import && peek().kind <= Tok::kw_false) {
      const Token& t = advance();
      return {std::string(t.text), t.range};
    }
    return identifier(what);
  }

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxNesting)
        p.fail(p.peek().range, fmt::format("nesting too deep: more than {} levels of brackets, "
                                           "blocks or operators", kMaxNesting));
    }
    ~DepthGuard() { --p.depth_; }
  };

  // ---- declarations -------------------------------------------------------

  Import import_decl() {
    Import imp;
    SourceRange start = advance().range;
    if (peek().kind == Tok::string) {
      const Token& t = advance();
      imp.path = std::string(t.text.substr(1, t.text.size() - 2));
      imp.target_range = t.range;
    } else {
      Identifier first = identifier("a module name (std.hardware) or a file path in quotes");
      imp.module = first.name;
      imp.target_range = first.range;
      while (peek().kind == Tok::dot) {
        advance();
        Identifier part = identifier("a module name after '.'");
        imp.module += "." + part.name;
        imp.target_range = imp.target_range.to(part.range);
      }
    }
    imp.range = start.to(prev_range());
    accept(Tok::semicolon);
    return imp;
  }

  Decl declaration(DeclKind kind) {
    const Token& kw = advance();
    Decl d;
    d.kind = kind;
    d.name = identifier([&] { return fmt::format("a name for the {}", decl_kind_name(d.kind)); });
    if (d.kind == DeclKind::model || d.kind == DeclKind::block) {
      if (peek().kind == Tok::lparen) parameters(d);
      else if (d.kind == DeclKind::block)
        fail_expected(fmt::format("'(' to start the parameters of block '{}'", d.name.name));
      if (d.kind == DeclKind::model && accept(Tok::assign)) {
        d.alias = expression();
        if (d.alias->kind != ExprKind::call && d.alias->kind != ExprKind::name)
          fail(d.alias->range, "expected a model instantiation such as ResNet([3, 4, 6, 3])");
      } else {
        expect(Tok::lbrace, [&] { return fmt::format("to start the body of {} '{}'", decl_kind_name(d.kind), d.name.name); });
        statements(d.body, prev_range());
      }
    } else {
      if (accept(Tok::colon)) d.base = identifier([&] { return fmt::format("the name of the {} to extend", decl_kind_name(d.kind)); });
      expect(Tok::lbrace, [&] { return fmt::format("to start the properties of {} '{}'", decl_kind_name(d.kind), d.name.name); });
      properties(d.properties, prev_range());
    }
    d.range = kw.range.to(prev_range());
    return d;
  }

  Annotation annotation() {
    Annotation a;
    SourceRange start = advance().range;  // @
    if (!peek().space_before && peek().kind == Tok::identifier) {
      a.name = identifier("an annotation name after '@'");
    } else {
      fail_expected("an annotation name right after '@' (@type(CNN))");
    }
    if (peek().kind == Tok::lparen && !peek().space_before) {
      SourceRange open = advance().range;
      while (peek().kind != Tok::rparen) {
        a.args.push_back(expression());
        if (!accept(Tok::comma)) break;
      }
      closing(Tok::rparen, "or ',' in the annotation's arguments", open);
    }
    a.range = start.to(prev_range());
    return a;
  }

  void parameters(Decl& d) {
    d.has_params = true;
    advance();  // (
    while (peek().kind != Tok::rparen) {
      Param p;
      p.name = identifier("a parameter name");
      if (accept(Tok::colon)) p.type = identifier("a parameter type (int, number, list, tensor, ...)");
      if (accept(Tok::assign)) p.default_value = expression();
      d.params.push_back(std::move(p));
      if (!accept(Tok::comma)) break;
    }
    expect(Tok::rparen, "to close the parameter list");
  }

  // Properties until the closing '}'.
  void properties(std::vector<Property>& out, SourceRange open) {
    DepthGuard guard(*this);
    while (!accept(Tok::rbrace)) {
      if (accept(Tok::semicolon)) continue;
      if (peek().kind == Tok::end || at_declaration_start()) closing(Tok::rbrace, "to close the declaration", open);
      Property p;
      // Declaration keywords double as property names: link = PCIe3, model = VGG16.
      p.name = peek(1).kind == Tok::assign ? word("a property name or '}'")
                                           : identifier("a property name or '}'");
      if (accept(Tok::lbrace)) {
        p.is_group = true;
        properties(p.group, prev_range());
      } else {
        if (peek().kind != Tok::assign)
          fail_expected(fmt::format("'=' or '{{' after property '{}'", p.name.name));
        advance();
        p.value = expression();
        if (peek().kind == Tok::kw_per) {
          advance();
          auto per = std::make_unique<Expr>();
          per->kind = ExprKind::per;
          per->ident = word("what the value is per (device, node, global)");
          per->range = p.value->range.to(per->ident.range);
          per->operands.push_back(std::move(p.value));
          p.value = finish(std::move(per));
        }
        end_of_statement();
      }
      p.range = p.name.range.to(prev_range());
      out.push_back(std::move(p));
    }
  }

  // A statement ends at ';', a line break, or before '}'.
  void end_of_statement() {
    if (accept(Tok::semicolon)) return;
    const Token& t = peek();
    if (t.newline_before || t.kind == Tok::rbrace || t.kind == Tok::end) return;
    fail_expected("';' or a line break after the statement");
  }

  void statements(std::vector<StmtPtr>& out, SourceRange open) {
    DepthGuard guard(*this);
    while (!accept(Tok::rbrace)) {
      if (accept(Tok::semicolon)) continue;
      if (peek().kind == Tok::end || at_declaration_start()) closing(Tok::rbrace, "to close the body", open);
      out.push_back(statement());
    }
  }

  StmtPtr statement() {
    auto s = std::make_unique<Stmt>();
    SourceRange start = peek().range;
    switch (peek().kind) {
      case Tok::kw_input: {
        advance();
        s->kind = StmtKind::input;
        s->target = identifier("the input's name");
        expect(Tok::colon, "and a tensor type after the input name (input x: f32[3, 224, 224])");
        s->type = tensor_type();
        end_of_statement();
        break;
      }
      case Tok::kw_output:
      case Tok::kw_return:
        s->kind = advance().kind == Tok::kw_output ? StmtKind::output : StmtKind::ret;
        s->value = expression();
        end_of_statement();
        break;
      case Tok::kw_repeat:
        advance();
        s->kind = StmtKind::repeat;
        s->target = identifier("a loop variable (repeat i in 0..n)");
        expect(Tok::kw_in, "after the loop variable");
        s->value = binary(0);
        if (peek().kind != Tok::dotdot && peek().kind != Tok::dotdot_eq)
          fail_expected("'..' or '..=' in the repeat range (repeat i in 0..n)");
        s->inclusive = advance().kind == Tok::dotdot_eq;
        s->limit = binary(0);
        expect(Tok::lbrace, "to start the loop body");
        statements(s->body, prev_range());
        break;
      case Tok::kw_for:
        advance();
        s->kind = StmtKind::for_each;
        s->target = identifier("a loop variable (for x in list)");
        if (accept(Tok::comma)) s->second = identifier("a second loop variable");
        expect(Tok::kw_in, "after the loop variable");
        s->value = expression();
        expect(Tok::lbrace, "to start the loop body");
        statements(s->body, prev_range());
        break;
      case Tok::identifier:
        if ((peek().text == "if" || peek().text == "while" || peek().text == "else") && peek(1).kind != Tok::assign)
          fail(peek().range, fmt::format("dlc has no '{}' statement: choose values with a conditional expression "
                                         "(c ? a : b) and repeat work with 'repeat' or 'for'", peek().text));
        s->kind = StmtKind::assign;
        s->target = identifier("a name");
        if (peek().kind != Tok::assign)
          fail_expected(fmt::format("'=' after '{}' (statements are assignments: x = conv(x, 64))",
                                    s->target.name));
        advance();
        s->value = expression();
        end_of_statement();
        break;
      default:
        fail_expected("a statement (an assignment, input, output, return, repeat or for)");
    }
    s->range = start.to(prev_range());
    return s;
  }

  TensorType tensor_type() {
    TensorType t;
    t.dtype = identifier("an element type (f32, f16, bf16, i32, ...)");
    expect(Tok::lbracket, "to start the tensor's shape (f32[3, 224, 224])");
    while (peek().kind != Tok::rbracket) {
      t.dims.push_back(expression());
      if (!accept(Tok::comma)) break;
    }
    expect(Tok::rbracket, "to close the tensor's shape");
    t.range = t.dtype.range.to(prev_range());
    return t;
  }

  // ---- expressions --------------------------------------------------------

  static int precedence(Tok t) {
    switch (t) {
      case Tok::or_or: return 1;
      case Tok::and_and: return 2;
      case Tok::eq: case Tok::ne: return 3;
      case Tok::lt: case Tok::le: case Tok::gt: case Tok::ge: return 4;
      case Tok::shl: case Tok::shr: return 5;
      case Tok::plus: case Tok::minus: return 6;
      case Tok::star: case Tok::slash: case Tok::percent: return 7;
      default: return 0;
    }
  }

  // Nesting is counted once per bracket, operator or conditional (in primary,
  // unary, binary and here), so the limit is what the message says.
  ExprPtr expression() {
    ExprPtr cond = binary(0);
    if (peek().kind != Tok::question) return cond;
    DepthGuard guard(*this);
    advance();
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::ternary;
    e->operands.push_back(std::move(cond));
    e->operands.push_back(expression());
    expect(Tok::colon, "in the conditional expression (c ? a : b)");
    e->operands.push_back(expression());
    e->range = e->operands.front()->range.to(e->operands.back()->range);
    return finish(std::move(e));
  }

  ExprPtr binary(int min_prec) {
    ExprPtr lhs = unary();
    while (true) {
      Tok op = peek().kind;
      int prec = precedence(op);
      if (prec == 0 || prec <= min_prec) return lhs;
      DepthGuard guard(*this);
      advance();
      ExprPtr rhs = binary(prec);
      auto e = std::make_unique<Expr>();
      e->kind = ExprKind::binary;
      e->op = op;
      e->range = lhs->range.to(rhs->range);
      e->operands.push_back(std::move(lhs));
      e->operands.push_back(std::move(rhs));
      lhs = finish(std::move(e));
    }
  }

  ExprPtr unary() {
    if (peek().kind == Tok::minus || peek().kind == Tok::bang || peek().kind == Tok::plus) {
      DepthGuard guard(*this);
      const Token& t = advance();
      auto e = std::make_unique<Expr>();
      e->kind = ExprKind::unary;
      e->op = t.kind;
      e->operands.push_back(unary());
      e->range = t.range.to(e->operands[0]->range);
      return finish(std::move(e));
    }
    return postfix(primary());
  }

  ExprPtr postfix(ExprPtr e) {
    while (true) {
      if (peek().kind == Tok::lbracket && !peek().newline_before) {
        DepthGuard guard(*this);
        advance();
        auto idx = std::make_unique<Expr>();
        idx->kind = ExprKind::index;
        idx->operands.push_back(std::move(e));
        idx->operands.push_back(expression());
        expect(Tok::rbracket, "to close the index");
        idx->range = idx->operands[0]->range.to(prev_range());
        e = finish(std::move(idx));
      } else {
        return e;
      }
    }
  }

  ExprPtr primary() {
    DepthGuard guard(*this);
    const Token& t = peek();
    auto e = std::make_unique<Expr>();
    e->range = t.range;
    switch (t.kind) {
      case Tok::integer:
      case Tok::real:
        return number();
      case Tok::string:
        advance();
        e->kind = ExprKind::string;
        e->spelling = unescape(t.text.substr(1, t.text.size() - 2));
        return e;
      case Tok::kw_true:
      case Tok::kw_false:
        advance();
        e->kind = ExprKind::boolean;
        e->integral = t.kind == Tok::kw_true;
        e->spelling = std::string(t.text);
        return e;
      case Tok::lparen: {
        advance();
        ExprPtr inner = expression();
        closing(Tok::rparen, "to close '('", t.range);
        inner->range = t.range.to(prev_range());
        return inner;
      }
      case Tok::lbracket: {
        advance();
        e->kind = ExprKind::list;
        while (peek().kind != Tok::rbracket) {
          e->operands.push_back(expression());
          if (!accept(Tok::comma)) break;
        }
        closing(Tok::rbracket, "or ',' in the list", t.range);
        e->range = t.range.to(prev_range());
        return finish(std::move(e));
      }
      case Tok::identifier: {
        advance();
        e->ident = {std::string(t.text), t.range};
        if (peek().kind == Tok::lparen && !peek().newline_before) return call(std::move(e));
        e->kind = ExprKind::name;
        e->spelling = e->ident.name;
        return e;
      }
      default:
        fail_expected("an expression");
    }
  }

  ExprPtr call(ExprPtr e) {
    e->kind = ExprKind::call;
    SourceRange open = advance().range;  // (
    while (peek().kind != Tok::rparen) {
      Argument a;
      if (peek().kind == Tok::identifier && peek(1).kind == Tok::assign) {
        const Token& n = advance();
        a.name = Identifier{std::string(n.text), n.range};
        advance();
      }
      a.value = expression();
      e->args.push_back(std::move(a));
      if (!accept(Tok::comma)) break;
    }
    closing(Tok::rparen, [&] { return fmt::format("or ',' in the arguments of '{}'", e->ident.name); }, open);
    e->range = e->ident.range.to(prev_range());
    return finish(std::move(e));
  }

  // Records the height of a new node; a left-deep chain (1+1+1+...) is as
  // deep as nested brackets and gets the same limit.
  ExprPtr finish(ExprPtr e) {
    int h = 0;
    for (const ExprPtr& o : e->operands) h = std::max(h, o->height);
    for (const Argument& a : e->args) h = std::max(h, a.value->height);
    e->height = h + 1;
    if (e->height > kMaxNesting)
      fail(e->range, fmt::format("expression nested too deeply: more than {} levels", kMaxNesting));
    return e;
  }

  static std::string unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      out += s[i];
    }
    return out;
  }

  // A literal and its unit: 7, 2.5, 56 Gb/s, 100M samples, 22.88 mm^2, 80%.
  ExprPtr number() {
    const Token& lit = advance();
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::number;
    e->range = lit.range;
    std::string digits;
    for (char c : lit.text)
      if (c != '_') digits += c;
    if (lit.kind == Tok::integer) {
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec != std::errc() || p != digits.data() + digits.size())
        fail(lit.range, fmt::format("integer '{}' is out of range (the largest is {})",
                                    digits.size() > 40 ? digits.substr(0, 40) + "..." : digits,
                                    INT64_MAX));
      e->integral = true;
      e->integer = v;
      e->number = static_cast<double>(v);
    } else {
      errno = 0;
      double v = std::strtod(digits.c_str(), nullptr);
      if (!std::isfinite(v) || (errno == ERANGE && std::fabs(v) > 1))  // underflow to 0 or a subnormal is fine
        fail(lit.range, fmt::format("number '{}' is out of range",
                                    digits.size() > 40 ? digits.substr(0, 40) + "..." : digits));
      e->number = v;
    }
    std::string unit_text;
    double factor = 1;
    Dimension dim;
    bool first = true;
    while (true) {
      const Token& t = peek();
      // 80% and 80 % (before a line break or a closing token), but not a % b
      if (t.kind == Tok::percent && !t.newline_before &&
          (!t.space_before || peek(1).newline_before || !starts_expression(peek(1).kind))) {
        advance();
        factor *= 0.01;
        unit_text += "%";
        first = false;
        continue;
      }
      if (t.kind != Tok::identifier || t.newline_before) break;
      Tok after = peek(1).kind;
      bool glued = !t.space_before;
      if (!glued && (after == Tok::assign || after == Tok::lparen || after == Tok::lbrace ||
                     after == Tok::colon))
        break;  // the next statement, not a unit
      std::string term = unit_term_text();
      auto q = parse_unit_term(term);
      if (!q) {
        unknown_unit(t.range.to(prev_range()), term);
        e->invalid = true;
        continue;
      }
      factor *= q->value;
      dim = dim * q->dim;
      unit_text += (first ? "" : " ") + term;
      first = false;
      // Glued divisions: GB/s, FLOP/s, samples/s.
      while (peek().kind == Tok::slash && !peek().space_before &&
             peek(1).kind == Tok::identifier && !peek(1).space_before) {
        advance();
        std::string den = unit_term_text();
        auto qd = parse_unit_term(den);
        if (!qd) {
          unknown_unit(prev_range(), den);
          e->invalid = true;
          continue;
        }
        factor /= qd->value;
        dim = dim / qd->dim;
        unit_text += "/" + den;
      }
    }
    e->spelling = std::string(lit.text);
    if (!unit_text.empty()) {
      e->range = lit.range.to(prev_range());
      e->spelling = std::string(text_.substr(e->range.offset, e->range.length));  // as written: 50K samples
      e->number *= factor;
      if (!std::isfinite(e->number)) fail(e->range, "number is out of range after applying its unit");
      e->dim = dim;
      // 100M stays an integer count; 1.5 GB does not.
      double r = std::nearbyint(e->number);
      e->integral = dim.dimensionless() && e->integral && r == e->number && std::fabs(r) < 9.2e18;
      if (e->integral) e->integer = static_cast<std::int64_t>(r);
    }
    return e;
  }

  // An unknown unit is reported but does not stop the file: the number
  // becomes invalid (the checker says nothing more about it), so the other
  // errors of the file still show.
  void unknown_unit(SourceRange where, const std::string& term) {
    std::string message = fmt::format("unknown unit '{}'", term);
    std::string hint = suggest_unit(term);
    if (!hint.empty()) message += fmt::format("; did you mean {}?", hint);
    diags_->error(where, message);
  }

  static bool starts_expression(Tok t) {
    switch (t) {
      case Tok::integer: case Tok::real: case Tok::string: case Tok::identifier: case Tok::lparen:
      case Tok::lbracket: case Tok::minus: case Tok::plus: case Tok::bang: case Tok::kw_true: case Tok::kw_false:
        return true;
      default: return false;
    }
  }

  // One unit term: an identifier, optionally with a glued power (mm^2, m^-1).
  std::string unit_term_text() {
    std::string term(advance().text);
    if (peek().kind == Tok::caret && !peek().space_before) {
      std::size_t save = pos_;
      advance();
      std::string power;
      if (peek().kind == Tok::minus && !peek().space_before) {
        advance();
        power = "-";
      }
      if (peek().kind == Tok::integer && !peek().space_before) {
        term += "^" + power + std::string(advance().text);
      } else {
        pos_ = save;
      }
    }
    return term;
  }
};

}  // namespace

const char* ast::decl_kind_name(DeclKind k) {
  switch (k) {
    case DeclKind::model: return "model";
    case DeclKind::block: return "block";
    case DeclKind::device: return "device";
    case DeclKind::link: return "link";
    case DeclKind::node: return "node";
    case DeclKind::cluster: return "cluster";
    case DeclKind::experiment: return "experiment";
    case DeclKind::crossbar: return "crossbar";
    case DeclKind::framework: return "framework";
  }
  return "declaration";
}

ast::File parse(FileId file, std::string_view text, Diagnostics& diags) {
  return Parser(file, text, diags).run();
}

}  // namespace dlc::lang
