// Diagnostics: the user's mistakes, reported like a compiler reports them.
//
//   file.dlc:3:14: error: unit mismatch: cannot add bandwidth (B/s) and size (B)
//     memory = 16 GB + 900 GB/s
//              ^~~~~~~~~~~~~~~~
//   file.dlc:1:1: note: ...
//
// The engine collects diagnostics while the stages run; the driver sorts them
// (by file, then position), removes repeats (the same error seen in every
// instantiation of a block), and renders them once at the end.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "lang/source.hpp"

namespace dlc::lang {

enum class Severity { error, warning, note };

struct Note {
  SourceRange where;  // may be invalid: then the note has no location
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::error;
  SourceRange where;
  std::string message;
  std::vector<Note> notes;
};

class Diagnostics {
 public:
  static constexpr std::size_t kMaxErrors = 100;

  Diagnostic& error(SourceRange where, std::string message);
  Diagnostic& warning(SourceRange where, std::string message);

  bool has_errors() const { return errors_ > 0; }
  std::size_t error_count() const { return errors_; }
  const std::vector<Diagnostic>& all() const { return diags_; }

  // Sorts by location, drops exact repeats, and keeps at most kMaxErrors errors.
  void finalize();
  // Renders every diagnostic; `color` adds ANSI colours (terminal only).
  std::string render(const SourceManager& sources, bool color = false) const;

 private:
  std::vector<Diagnostic> diags_;
  std::size_t errors_ = 0;
  bool truncated_ = false;
};

// One diagnostic's text, with the source line and a caret under the range.
std::string render_diagnostic(const SourceManager& sources, const Diagnostic& d, bool color);

// "a bandwidth", "an energy": a noun with its indefinite article.
std::string with_article(std::string_view noun);

// "did you mean 'x'?" support: the closest candidate within a small edit
// distance, or "" when none is close enough.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace dlc::lang
