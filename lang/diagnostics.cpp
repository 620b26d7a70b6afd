#include "lang/diagnostics.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace dlc::lang {

Diagnostic& Diagnostics::error(SourceRange where, std::string message) {
  ++errors_;
  diags_.push_back({Severity::error, where, std::move(message), {}});
  return diags_.back();
}

Diagnostic& Diagnostics::warning(SourceRange where, std::string message) {
  diags_.push_back({Severity::warning, where, std::move(message), {}});
  return diags_.back();
}

void Diagnostics::finalize() {
  auto key = [](const Diagnostic& d) {
    return std::tuple(d.where.file, d.where.offset, d.where.length, d.message);
  };
  std::stable_sort(diags_.begin(), diags_.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  diags_.erase(std::unique(diags_.begin(), diags_.end(),
                           [&](const Diagnostic& a, const Diagnostic& b) {
                             return key(a) == key(b) && a.severity == b.severity;
                           }),
               diags_.end());
  errors_ = std::count_if(diags_.begin(), diags_.end(),
                          [](const Diagnostic& d) { return d.severity == Severity::error; });
  if (errors_ > kMaxErrors) {
    std::size_t seen = 0;
    auto cut = std::find_if(diags_.begin(), diags_.end(), [&](const Diagnostic& d) {
      return d.severity == Severity::error && ++seen > kMaxErrors;
    });
    diags_.erase(cut, diags_.end());
    truncated_ = true;
  }
}

namespace {

constexpr std::size_t kMaxShownLine = 160;  // longer lines are shown as a window

// A source line as it can be shown on a terminal: control bytes and invalid
// UTF-8 become '?', tabs are kept so the caret line can mirror them. Returns
// the shown text and, for each shown character, the byte offset it came from.
struct ShownLine {
  std::string text;
  std::vector<std::uint32_t> byte_of;  // byte offset in the line for each shown char
};

std::size_t utf8_length(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 0;
}

bool valid_sequence(std::string_view s, std::size_t i, std::size_t n) {
  if (n == 0 || i + n > s.size()) return false;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
  return true;
}

ShownLine show_line(std::string_view line) {
  ShownLine out;
  for (std::size_t i = 0; i < line.size();) {
    auto c = static_cast<unsigned char>(line[i]);
    std::size_t n = utf8_length(c);
    out.byte_of.push_back(static_cast<std::uint32_t>(i));
    if (c == '\t') {
      out.text += '\t';
      i += 1;
    } else if (c < 0x20 || c == 0x7F || !valid_sequence(line, i, n)) {
      out.text += '?';
      i += 1;
    } else {
      out.text.append(line.substr(i, n));
      i += n;
    }
  }
  out.byte_of.push_back(static_cast<std::uint32_t>(line.size()));
  return out;
}

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::note: return "note";
  }
  return "error";
}

void render_located(std::string& out, const SourceManager& sources, SourceRange where,
                    Severity severity, const std::string& message, bool color) {
  const char* sev_color = severity == Severity::error   ? "\033[1;31m"
                          : severity == Severity::note  ? "\033[1;36m"
                                                        : "\033[1;35m";
  auto bold = [&](const std::string& s) { return color ? "\033[1m" + s + "\033[0m" : s; };
  if (!where.valid()) {
    // Not about a place in a file: said by the tool (dlc: error: unknown model 'X').
    out += fmt::format("{}{}{}: {}{}\n", severity == Severity::note ? "" : "dlc: ", color ? sev_color : "",
                       severity_name(severity),
                       color ? "\033[0m" : "", bold(message));
    return;
  }
  const SourceFile& f = sources.file(where.file);
  LineColumn lc = sources.line_column(where.file, where.offset);
  out += fmt::format("{}{}:{}:{}: {}{}:{} {}\n", color ? "\033[1m" : "", f.name, lc.line,
                     lc.column, color ? sev_color : "", severity_name(severity),
                     color ? "\033[0m" : "", bold(message));

  std::string_view line = sources.line_text(where.file, lc.line);
  if (line.empty()) return;  // nothing to point at (an empty file, an empty line)
  std::uint32_t line_start = f.line_starts[lc.line - 1];
  std::uint32_t begin = where.offset - line_start;
  std::uint32_t end = std::min<std::uint32_t>(where.end() - line_start,
                                              static_cast<std::uint32_t>(line.size()));
  end = std::max(end, begin);
  ShownLine shown = show_line(line);
  // Map byte offsets to shown-character indices.
  auto char_index = [&](std::uint32_t byte) {
    auto it = std::lower_bound(shown.byte_of.begin(), shown.byte_of.end(), byte);
    return static_cast<std::size_t>(it - shown.byte_of.begin());
  };
  std::size_t cb = char_index(begin), ce = std::max(char_index(end), cb + 1);
  // Cut long lines to a window around the range.
  std::size_t nchars = shown.byte_of.size() - 1;
  std::size_t from = 0, to = nchars;
  if (nchars > kMaxShownLine) {
    from = cb > 40 ? cb - 40 : 0;
    to = std::min(nchars, from + kMaxShownLine);
    ce = std::min(ce, to + 1);
  }
  // Reassemble the shown window character by character.
  std::string text, caret;
  std::size_t ti = 0;  // position in shown.text
  for (std::size_t ci = 0; ci < nchars; ++ci) {
    std::size_t next = ti;
    unsigned char c = static_cast<unsigned char>(shown.text[ti]);
    next += (c == '\t' || c == '?') ? 1 : std::max<std::size_t>(1, utf8_length(c));
    if (ci >= from && ci < to) {
      text.append(shown.text, ti, next - ti);
      char fill = c == '\t' ? '\t' : ' ';
      if (ci < cb) caret += fill;
      else if (ci == cb) caret += '^';
      else if (ci < ce) caret += '~';
    }
    ti = next;
  }
  if (cb >= nchars) caret += '^';  // range at end of line
  std::string prefix = from > 0 ? "..." : "";
  std::string suffix = to < nchars ? "..." : "";
  out += fmt::format("  {}{}{}\n", prefix, text, suffix);
  out += fmt::format("  {}{}{}{}\n", std::string(prefix.size(), ' '), color ? "\033[1;32m" : "",
                     caret, color ? "\033[0m" : "");
}

// Optimal string alignment distance: insertions, deletions, substitutions and
// transpositions of neighbours (imgae -> image) each cost one; case is ignored.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto same = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  };
  // Three rolling rows (i-2, i-1, i) of the full table.
  std::vector<std::size_t> before(b.size() + 1), prev(b.size() + 1), row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]))
        row[j] = std::min(row[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, row);
  }
  return prev[b.size()];
}

}  // namespace

std::string render_diagnostic(const SourceManager& sources, const Diagnostic& d, bool color) {
  std::string out;
  render_located(out, sources, d.where, d.severity, d.message, color);
  for (const Note& n : d.notes) render_located(out, sources, n.where, Severity::note, n.message, color);
  return out;
}

std::string Diagnostics::render(const SourceManager& sources, bool color) const {
  std::string out;
  for (const Diagnostic& d : diags_) out += render_diagnostic(sources, d, color);
  if (truncated_) out += fmt::format("error: too many errors; stopped after {}\n", kMaxErrors);
  return out;
}

std::string with_article(std::string_view noun) {
  bool vowel = !noun.empty() && std::string_view("aeiouAEIOU").find(noun[0]) != std::string_view::npos;
  return fmt::format("{} {}", vowel ? "an" : "a", noun);
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  if (word.size() > 64) return best;  // nothing sensible is that long
  // Close enough: one edit for short words, one per three characters beyond.
  std::size_t best_distance = std::max<std::size_t>(1, word.size() / 3) + 1;
  if (candidates.size() > 10'000) return best;
  for (const std::string& c : candidates) {
    if (c == word) continue;
    // The distance is at least the difference in length: skip what cannot beat the best.
    std::size_t gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (gap >= best_distance) continue;
    std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace dlc::lang
