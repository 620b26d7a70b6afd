// The golden-test driver. For one .dlc file it runs `dlc check` and compares:
//
//   - inline expectations in the file (MLIR style):
//       // expect-error@+1: message       (the next line; @-1 the previous one)
//       // expect-error: message          (this line)
//       // expect-warning@+1: message
//       // expect-note@+2: message
//     every error and warning must be expected and every expectation met: a
//     missing or extra one fails. Notes are compared when the file expects any.
//   - sibling files with the exact output, compared byte for byte:
//       NAME.stderr.expect   dlc check NAME.dlc, stderr (exit code 1)
//       NAME.ast.expect      dlc check --emit=ast NAME.dlc, stdout (exit code 0)
//       NAME.checked.expect  dlc check --emit=checked NAME.dlc, stdout (exit code 0)
//       NAME.plan.expect     dlc check --emit=plan NAME.dlc, stdout (exit code 0)
//
// Usage: dlc_golden DLC FILE.dlc [EXPECT_DIR]
// dlc runs in the file's folder, so paths in messages are just the file name.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Run {
  int code = -1;
  std::string out, err;
};

Run run_dlc(const std::string& dlc, const fs::path& file, const std::string& flags) {
  fs::path tmp = fs::temp_directory_path() / ("dlc_golden_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  std::string cmd = "cd " + quote(file.parent_path().string()) + " && " + quote(dlc) + " check --color=never " +
                    flags + " " + quote(file.filename().string()) + " >" + quote((tmp / "out").string()) +
                    " 2>" + quote((tmp / "err").string()) + " </dev/null";
  int status = std::system(cmd.c_str());
  Run r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read(tmp / "out");
  r.err = read(tmp / "err");
  fs::remove_all(tmp);
  return r;
}

struct Expected {
  std::string file;
  int line;
  std::string severity;
  std::string message;
  bool operator<(const Expected& o) const {
    return std::tie(file, line, severity, message) < std::tie(o.file, o.line, o.severity, o.message);
  }
};

void collect_expectations(const fs::path& dir, const std::string& name, std::multiset<Expected>& out) {
  std::ifstream in(dir / name, std::ios::binary);
  std::string line;
  static const std::regex re(R"(// expect-(error|warning|note)(@([+-]\d+))?: (.*)$)");
  for (int n = 1; std::getline(in, line); ++n) {
    std::smatch m;
    if (!std::regex_search(line, m, re)) continue;
    int target = n + (m[3].matched ? std::stoi(m[3].str()) : 0);
    std::string message = m[4].str();
    while (!message.empty() && (message.back() == '\r' || message.back() == ' ')) message.pop_back();
    out.insert({name, target, m[1].str(), message});
  }
}

int compare_exact(const std::string& what, const std::string& expected, const std::string& actual) {
  if (expected == actual) return 0;
  std::cerr << "FAIL: " << what << " differs.\n--- expected\n" << expected << "--- actual\n" << actual << "---\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: dlc_golden DLC FILE.dlc [EXPECT_DIR]\n";
    return 2;
  }
  std::string dlc = fs::absolute(argv[1]).string();
  fs::path file = fs::absolute(argv[2]);
  fs::path expect_dir = argc > 3 ? fs::path(argv[3]) : file.parent_path();
  std::string stem = file.stem().string();
  int failures = 0;
  bool any = false;

  auto exact = [&](const char* suffix, const std::string& flags, bool on_stdout, int code) {
    fs::path expect = expect_dir / (stem + suffix);
    if (!fs::exists(expect)) return;
    any = true;
    Run r = run_dlc(dlc, file, flags);
    if (r.code != code) {
      std::cerr << "FAIL: " << suffix << ": exit code " << r.code << ", expected " << code << "\n" << r.err;
      ++failures;
      return;
    }
    failures += compare_exact(expect.filename().string(), read(expect), on_stdout ? r.out : r.err);
  };
  exact(".stderr.expect", "", false, 1);
  exact(".ast.expect", "--emit=ast", true, 0);
  exact(".checked.expect", "--emit=checked", true, 0);
  exact(".plan.expect", "--emit=plan", true, 0);

  std::multiset<Expected> expected;
  collect_expectations(file.parent_path(), file.filename().string(), expected);
  if (!any || !expected.empty()) {
    Run r = run_dlc(dlc, file, "-q");
    if (r.code == 2 || r.code > 2) {
      std::cerr << "FAIL: dlc exited with " << r.code << " (crash or internal error)\n" << r.err;
      return 1;
    }
    // Parse the diagnostics; expectations may also live in the other files they name.
    static const std::regex diag(R"(^(.+?):(\d+):(\d+): (error|warning|note): (.*)$)");
    std::multiset<Expected> actual;
    std::set<std::string> files{file.filename().string()};
    std::istringstream lines(r.err);
    std::string line;
    while (std::getline(lines, line)) {
      std::smatch m;
      if (!std::regex_match(line, m, diag)) continue;
      actual.insert({m[1].str(), std::stoi(m[2].str()), m[4].str(), m[5].str()});
      if (m[1].str() != file.filename().string() && fs::exists(file.parent_path() / m[1].str()) &&
          files.insert(m[1].str()).second)
        collect_expectations(file.parent_path(), m[1].str(), expected);
    }
    bool check_notes = std::any_of(expected.begin(), expected.end(), [](const Expected& e) { return e.severity == "note"; });
    if (!check_notes)
      for (auto it = actual.begin(); it != actual.end();) it = it->severity == "note" ? actual.erase(it) : std::next(it);
    for (const Expected& e : expected) {
      auto it = actual.find(e);
      if (it == actual.end()) {
        std::cerr << "FAIL: missing " << e.severity << " at " << e.file << ":" << e.line << ": " << e.message << "\n";
        ++failures;
      } else {
        actual.erase(it);
      }
    }
    for (const Expected& a : actual) {
      std::cerr << "FAIL: unexpected " << a.severity << " at " << a.file << ":" << a.line << ": " << a.message << "\n";
      ++failures;
    }
    bool errors_expected = std::any_of(expected.begin(), expected.end(), [](const Expected& e) { return e.severity == "error"; });
    if (r.code != (errors_expected ? 1 : 0)) {
      std::cerr << "FAIL: exit code " << r.code << ", expected " << (errors_expected ? 1 : 0) << "\n";
      ++failures;
    }
    if (failures) std::cerr << "--- dlc's stderr\n" << r.err;
  }
  return failures ? 1 : 0;
}
