// What the commands share: loading an input (a file, or standard-library
// modules by name), diagnostics on stderr, and results on stdout or in a file
// written atomically.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "compiler/checker.hpp"
#include "compiler/loader.hpp"
#include "lang/diagnostics.hpp"

namespace dlc::tools {

bool use_color(const std::string& mode);  // auto, always, never

// "std" and "std.models" name standard-library modules; anything else is a path.
bool is_module_name(const std::string& input);

// Loads a file, or one module (std.models) or all of the standard library (std).
std::unique_ptr<compiler::Program> load_input(const std::string& input, lang::Diagnostics& diags);

// Prints diagnostics (sorted, deduplicated); returns true when there were errors.
bool report(lang::Diagnostics& diags, const compiler::Program& program, bool color);

// The experiments of the root file named `wanted` (all of them when it is
// empty), with `all_names` set to every experiment's name. When none matches,
// prints the error ("declares no experiment to <verb>", or "has no
// experiment 'x'; did you mean 'y'?") and returns an empty list.
std::vector<const compiler::CheckedDecl*> select_experiments(const compiler::CheckedModule& module,
                                                             const std::string& file, const std::string& wanted,
                                                             const std::string& verb,
                                                             std::vector<std::string>& all_names);

// What --format defaults to: for -o FILE, the file's extension (.csv, .txt:
// table, else json); on stdout, "table" on a terminal and "json" otherwise.
std::string default_format(const std::string& output = "");

// Writes a result to stdout, or to `path` through a temporary file renamed
// into place, so an existing file is never left half-written; a device or a
// pipe (/dev/null, a FIFO) is written in place. Returns the
// exit code: 0, or 1 with a message when the file cannot be written.
int write_result(const std::string& text, const std::string& path);

}  // namespace dlc::tools
