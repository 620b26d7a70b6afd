#include "compiler/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>

#include "compiler/embedded_specs.hpp"
#include "lang/parser.hpp"

namespace dlc::compiler {

namespace fs = std::filesystem;
using lang::Diagnostics;
using lang::FileId;
using lang::SourceRange;

namespace {

constexpr std::uintmax_t kMaxFileSize = 64u << 20;  // offsets are 32-bit; be generous but finite
constexpr const char* kStdPrefix = "<std>/";

std::string module_to_path(const std::string& module) {
  std::string p = module;
  std::replace(p.begin(), p.end(), '.', '/');
  return p + ".dlc";
}

const EmbeddedFile* find_embedded(const std::string& relative) {
  for (const EmbeddedFile& f : embedded_specs())
    if (f.path == relative) return &f;
  return nullptr;
}

// Reads a whole file, or returns false with a reason.
bool read_file(const std::string& path, std::string& text, std::string& why) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    why = "no such file";
    return false;
  }
  if (fs::is_directory(st)) {
    why = "is a directory, not a file";
    return false;
  }
  if (!fs::is_regular_file(st)) {
    why = "not a regular file";
    return false;
  }
  std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxFileSize) {
    why = fmt::format("file is too large ({} bytes; the limit is {} bytes)", size, kMaxFileSize);
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    why = "read error";
    return false;
  }
  text = std::move(ss).str();
  if (text.size() > kMaxFileSize) {
    why = "file is too large";
    return false;
  }
  return true;
}

class Loader {
 public:
  Loader(Program& p, Diagnostics& d) : program_(p), diags_(d) {}

  // Adds a file, parses it and follows its imports. `key` identifies the file
  // (canonical path, or "std:" and the path inside specs/).
  void add(const std::string& key, const std::string& name, const std::string& path,
           const std::string& module, std::string text) {
    FileId id = program_.sources.add(name, path, module, std::move(text));
    program_.loaded[key] = id;
    lang::ast::File file = lang::parse(id, program_.sources.file(id).text, diags_);
    if (file.syntax_error) program_.syntax_ok = false;
    std::size_t index = program_.files.size();
    program_.files.push_back(std::move(file));
    stack_.push_back(id);
    // Imports are followed in order; the vector may grow, so index by position.
    for (std::size_t i = 0; i < program_.files[index].imports.size(); ++i) {
      lang::ast::Import imp = copy_import(program_.files[index].imports[i]);
      follow(id, imp);
    }
    stack_.pop_back();
  }

  Program& program_;
  Diagnostics& diags_;

 private:
  std::vector<FileId> stack_;  // files being loaded: an import of one of them is a cycle

  static lang::ast::Import copy_import(const lang::ast::Import& i) { return i; }

  // Notes "imported from here" up the chain of imports that led to `file`.
  void add_chain(lang::Diagnostic& d, FileId file) {
    for (FileId f = file; program_.imported_at.count(f);) {
      SourceRange at = program_.imported_at[f];
      d.notes.push_back({at, fmt::format("'{}' imported from here", program_.sources.file(f).name)});
      f = at.file;
    }
  }

  void follow(FileId from, const lang::ast::Import& imp) {
    const lang::SourceFile& src = program_.sources.file(from);
    std::string key, name, path, module, text, why;
    bool found = false;
    if (!imp.module.empty() && imp.module.starts_with("std.")) {
      module = imp.module;
      key = "std:" + module_to_path(module);  // the same key as a relative import of the file
      name = kStdPrefix + module_to_path(module).substr(4);
      if (program_.loaded.count(key)) return cycle_or_done(imp, program_.loaded[key]);
      if (const EmbeddedFile* f = find_embedded(module_to_path(module))) {
        text = std::string(f->text);
        found = true;
      } else {
        auto& d = diags_.error(imp.target_range,
                               fmt::format("no module named '{}' in the standard library", module));
        std::string close = lang::closest_match(module, standard_modules());
        if (!close.empty()) d.notes.push_back({{}, fmt::format("did you mean '{}'?", close)});
        add_chain(d, from);
        return;
      }
    } else {
      std::string relative = imp.path.empty() ? module_to_path(imp.module) : imp.path;
      if (!src.module.empty() || src.path.empty()) {
        // Inside the standard library (or in-memory text): relative to its folder.
        std::string dir = src.module.empty() ? "" : module_to_path(src.module);
        dir = dir.substr(0, dir.rfind('/') == std::string::npos ? 0 : dir.rfind('/') + 1);
        std::string rel = fs::path(dir + relative).lexically_normal().generic_string();
        key = "std:" + rel;
        name = kStdPrefix + rel.substr(rel.starts_with("std/") ? 4 : 0);
        if (program_.loaded.count(key)) return cycle_or_done(imp, program_.loaded[key]);
        if (const EmbeddedFile* f = src.module.empty() ? nullptr : find_embedded(rel)) {
          text = std::string(f->text);
          module = rel.substr(0, rel.size() - 4);
          std::replace(module.begin(), module.end(), '/', '.');
          found = true;
        } else {
          why = "no such file";
        }
        path = rel;
      } else {
        fs::path p = fs::path(src.path).parent_path() / relative;
        path = p.lexically_normal().generic_string();
        std::error_code ec;
        key = fs::weakly_canonical(p, ec).generic_string();
        if (ec) key = path;
        name = path;
        if (program_.loaded.count(key)) return cycle_or_done(imp, program_.loaded[key]);
        found = read_file(path, text, why);
      }
      if (!found) {
        auto& d = diags_.error(imp.target_range,
                               imp.path.empty()
                                   ? fmt::format("cannot find module '{}': '{}': {}", imp.module, path, why)
                                   : fmt::format("cannot import '{}': {}", path, why));
        add_chain(d, from);
        return;
      }
    }
    FileId next = static_cast<FileId>(program_.sources.size());
    program_.imported_at[next] = imp.target_range;
    add(key, name, path, module, std::move(text));
  }

  void cycle_or_done(const lang::ast::Import& imp, FileId target) {
    if (std::find(stack_.begin(), stack_.end(), target) == stack_.end()) return;  // loaded before
    // The chain from `target` to the importing file, then back to `target`.
    std::string chain;
    auto it = std::find(stack_.begin(), stack_.end(), target);
    for (; it != stack_.end(); ++it) chain += program_.sources.file(*it).name + " -> ";
    chain += program_.sources.file(target).name;
    auto& d = diags_.error(imp.target_range, fmt::format("import cycle: {}", chain));
    for (auto s = std::find(stack_.begin(), stack_.end(), target) + 1; s != stack_.end(); ++s)
      if (program_.imported_at.count(*s))
        d.notes.push_back({program_.imported_at[*s], fmt::format("'{}' imported here", program_.sources.file(*s).name)});
  }
};

}  // namespace

bool Program::is_root(FileId id) const { return std::find(roots.begin(), roots.end(), id) != roots.end(); }

void load_file(Program& program, const std::string& path, Diagnostics& diags) {
  std::string text, why;
  if (!read_file(path, text, why)) {
    // Still a located diagnostic: tools that parse file:line:col keep working.
    FileId id = program.sources.add(path, path, "", "");
    diags.error({id, 0, 0}, fmt::format("cannot read '{}': {}", path, why));
    program.syntax_ok = false;
    return;
  }
  std::error_code ec;
  std::string key = fs::weakly_canonical(path, ec).generic_string();
  program.roots.push_back(static_cast<FileId>(program.sources.size()));
  Loader(program, diags).add(ec ? path : key, path, path, "", std::move(text));
}

void load_text(Program& program, const std::string& name, std::string text, Diagnostics& diags) {
  program.roots.push_back(static_cast<FileId>(program.sources.size()));
  Loader(program, diags).add("mem:" + name, name, "", "", std::move(text));
}

void load_module(Program& program, const std::string& module, Diagnostics& diags) {
  std::string text = "import " + module + "\n";
  Loader(program, diags).add("mem:<command line>", "<command line>", "", "", std::move(text));
  auto it = program.loaded.find("std:" + module_to_path(module));
  if (it != program.loaded.end()) program.roots.push_back(it->second);
}

std::vector<std::string> standard_modules() {
  std::vector<std::string> out;
  for (const EmbeddedFile& f : embedded_specs()) {
    std::string m(f.path.substr(0, f.path.size() - 4));
    std::replace(m.begin(), m.end(), '/', '.');
    out.push_back(m);
  }
  return out;
}

}  // namespace dlc::compiler
