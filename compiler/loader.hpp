// Loading a program: the root file and everything it imports, transitively.
// `import std.x.y` resolves in the embedded standard library
// (specs/std/x/y.dlc); `import "path.dlc"` and `import a.b` resolve relative to
// the importing file. Missing modules and import cycles are diagnosed at the
// import, with the chain of imports that led there.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lang/ast.hpp"
#include "lang/diagnostics.hpp"
#include "lang/source.hpp"

namespace dlc::compiler {

struct Program {
  lang::SourceManager sources;
  std::vector<lang::ast::File> files;  // in load order; files[0] is the root
  bool syntax_ok = true;               // no file had a syntax error
  // Each file is loaded once, however often it is imported: by identity
  // (canonical path, or "std:<path>"), and the import that first loaded it.
  std::map<std::string, lang::FileId> loaded;
  std::map<lang::FileId, lang::SourceRange> imported_at;
  // The files asked for (the file given, or the modules named): what
  // summaries and dumps describe; the rest was imported.
  std::vector<lang::FileId> roots;

  bool is_root(lang::FileId id) const;
};

// Loads a file from disk. A file that cannot be read is reported as an error
// located at its first line.
void load_file(Program& program, const std::string& path, lang::Diagnostics& diags);

// Loads source given in memory (tests, stdin), named `name` in diagnostics.
void load_text(Program& program, const std::string& name, std::string text, lang::Diagnostics& diags);

// Loads a module of the embedded standard library by name (std.models).
void load_module(Program& program, const std::string& module, lang::Diagnostics& diags);

// The names of all modules in the embedded standard library.
std::vector<std::string> standard_modules();

}  // namespace dlc::compiler
