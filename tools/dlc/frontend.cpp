#include "tools/dlc/frontend.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>

namespace dlc::tools {

bool use_color(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  return isatty(fileno(stderr)) && !(no_color && *no_color);
}

bool is_module_name(const std::string& input) {
  if (input != "std" && !input.starts_with("std.")) return false;
  return !std::filesystem::is_regular_file(input);  // a folder named std does not hide the library
}

std::unique_ptr<compiler::Program> load_input(const std::string& input, lang::Diagnostics& diags) {
  auto program = std::make_unique<compiler::Program>();
  if (input == "std" && is_module_name(input)) {
    for (const std::string& m : compiler::standard_modules()) compiler::load_module(*program, m, diags);
  } else if (is_module_name(input)) {
    compiler::load_module(*program, input, diags);
  } else {
    compiler::load_file(*program, input, diags);
  }
  return program;
}

bool report(lang::Diagnostics& diags, const compiler::Program& program, bool color) {
  diags.finalize();
  std::fputs(diags.render(program.sources, color).c_str(), stderr);
  return diags.has_errors();
}

std::string default_format(const std::string& output) {
  if (!output.empty() && output != "-") {
    if (output.ends_with(".csv")) return "csv";
    if (output.ends_with(".txt")) return "table";
    return "json";
  }
  return isatty(fileno(stdout)) ? "table" : "json";
}

std::vector<const compiler::CheckedDecl*> select_experiments(const compiler::CheckedModule& module,
                                                             const std::string& file, const std::string& wanted,
                                                             const std::string& verb,
                                                             std::vector<std::string>& all_names) {
  std::vector<const compiler::CheckedDecl*> chosen;
  all_names.clear();
  for (const compiler::CheckedDecl& d : module.decls)
    if (d.kind == lang::ast::DeclKind::experiment && module.program->is_root(d.decl->name.range.file)) {
      all_names.push_back(d.name);
      if (wanted.empty() || d.name == wanted) chosen.push_back(&d);
    }
  if (!chosen.empty()) return chosen;
  if (wanted.empty()) {
    fmt::print(stderr, "dlc: error: {} declares no experiment to {}\n", file, verb);
  } else {
    std::string close = lang::closest_match(wanted, all_names);
    fmt::print(stderr, "dlc: error: {} has no experiment '{}'{}\n", file, wanted,
               close.empty() ? "" : fmt::format("; did you mean '{}'?", close));
  }
  return chosen;
}

int write_result(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  namespace fs = std::filesystem;
  fs::path target(path);
  std::error_code status_error;
  fs::file_status status = fs::status(target, status_error);
  if (fs::is_directory(status)) {
    fmt::print(stderr, "dlc: error: cannot write '{}': is a directory\n", path);
    return 1;
  }
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    // A device or a pipe (/dev/null, /dev/stdout, a FIFO): written in place;
    // renaming a file over it would replace it.
    std::ofstream out(target, std::ios::binary);
    out << text;
    out.close();
    if (!out) {
      fmt::print(stderr, "dlc: error: cannot write '{}': {}\n", path, std::strerror(errno));
      return 1;
    }
    return 0;
  }
  fs::path tmp = target;
  tmp += fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      fmt::print(stderr, "dlc: error: cannot write '{}': {}\n", path, std::strerror(errno));
      std::error_code ec;
      fs::remove(tmp, ec);
      return 1;
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fmt::print(stderr, "dlc: error: cannot write '{}': {}\n", path, ec.message());
    fs::remove(tmp, ec);
    return 1;
  }
  return 0;
}

}  // namespace dlc::tools
