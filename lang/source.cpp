#include "lang/source.hpp"

#include <algorithm>

namespace dlc::lang {

FileId SourceManager::add(std::string name, std::string path, std::string module,
                          std::string text) {
  auto f = std::make_unique<SourceFile>();
  f->name = std::move(name);
  f->path = std::move(path);
  f->module = std::move(module);
  f->text = std::move(text);
  f->line_starts.push_back(0);
  for (std::uint32_t i = 0; i < f->text.size(); ++i)
    if (f->text[i] == '\n') f->line_starts.push_back(i + 1);
  files_.push_back(std::move(f));
  return static_cast<FileId>(files_.size() - 1);
}

LineColumn SourceManager::line_column(FileId id, std::uint32_t offset) const {
  const SourceFile& f = file(id);
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(f.text.size()));
  auto it = std::upper_bound(f.line_starts.begin(), f.line_starts.end(), offset);
  auto line = static_cast<std::uint32_t>(it - f.line_starts.begin());
  std::uint32_t start = f.line_starts[line - 1];
  // Count code points, not bytes: continuation bytes (10xxxxxx) do not advance.
  std::uint32_t column = 1;
  for (std::uint32_t i = start; i < offset; ++i)
    if ((static_cast<unsigned char>(f.text[i]) & 0xC0) != 0x80) ++column;
  return {line, column};
}

std::string_view SourceManager::line_text(FileId id, std::uint32_t line) const {
  const SourceFile& f = file(id);
  if (line == 0 || line > f.line_starts.size()) return {};
  std::uint32_t start = f.line_starts[line - 1];
  std::uint32_t end = line < f.line_starts.size() ? f.line_starts[line] - 1
                                                  : static_cast<std::uint32_t>(f.text.size());
  std::string_view text(f.text.data() + start, end - start);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

}  // namespace dlc::lang
