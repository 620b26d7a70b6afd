// Source files and locations. Every file dlc reads (user files and the embedded
// standard library) is registered here once; the rest of the compiler refers
// to text through a SourceRange, a (file, byte offset, length) triple, and asks
// this manager for lines and columns only when a diagnostic is printed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::lang {

using FileId = std::uint32_t;
inline constexpr FileId kNoFile = ~FileId{0};

struct SourceRange {
  FileId file = kNoFile;
  std::uint32_t offset = 0;
  std::uint32_t length = 0;

  bool valid() const { return file != kNoFile; }
  std::uint32_t end() const { return offset + length; }
  // The smallest range covering both (same file assumed).
  SourceRange to(SourceRange last) const {
    if (!valid()) return last;
    if (!last.valid() || last.file != file) return *this;
    std::uint32_t e = std::max(end(), last.end());
    return {file, offset, e - offset};
  }
  friend bool operator==(const SourceRange&, const SourceRange&) = default;
};

struct LineColumn {
  std::uint32_t line = 0;    // 1-based
  std::uint32_t column = 0;  // 1-based, in characters (UTF-8 code points)
};

struct SourceFile {
  std::string name;      // as shown in diagnostics
  std::string path;      // filesystem path, or "" for embedded files
  std::string module;    // "std.models.resnet" for the standard library, else ""
  std::string text;
  std::vector<std::uint32_t> line_starts;  // offsets of each line's first byte
};

class SourceManager {
 public:
  FileId add(std::string name, std::string path, std::string module, std::string text);
  const SourceFile& file(FileId id) const { return *files_.at(id); }
  std::size_t size() const { return files_.size(); }

  LineColumn line_column(FileId id, std::uint32_t offset) const;
  // The text of 1-based line `line`, without its newline.
  std::string_view line_text(FileId id, std::uint32_t line) const;

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

}  // namespace dlc::lang
