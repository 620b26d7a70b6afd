// Writes the malformed inputs that are too large or too binary to keep in
// git: a 1 MB line, 100,000 nested parentheses, random bytes, NUL bytes and
// invalid UTF-8. Their expected diagnostics are in golden/generated/.
// Usage: dlc_make_inputs OUTPUT_DIR
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace {

void write(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
  std::ofstream out(dir / name, std::ios::binary);
  out << text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: dlc_make_inputs OUTPUT_DIR\n";
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);

  write(dir, "long_line.dlc", "// a name one megabyte long\nmodel M {\n  " + std::string(1 << 20, 'x') + " = 1\n}\n");
  write(dir, "long_expression.dlc",
        "model M {\n  input x: f32[4]\n  y = 1" + [] {
          std::string s;
          for (int i = 0; i < 200000; ++i) s += " + 1";
          return s;
        }() + "\n  output x\n}\n");
  write(dir, "deep_parens.dlc", "model M {\n  input x: f32[4]\n  output " + std::string(100000, '(') + "x" +
                                    std::string(100000, ')') + "\n}\n");
  write(dir, "deep_brackets.dlc", "model M {\n  input x: f32[4]\n  y = " + std::string(100000, '[') +
                                      std::string(100000, ']') + "\n  output x\n}\n");
  // A fixed linear congruential generator: the same bytes on every machine.
  std::string bytes;
  std::uint64_t state = 20261127;
  for (int i = 0; i < 4096; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    bytes += static_cast<char>(state >> 56);
  }
  write(dir, "random_bytes.dlc", bytes);
  write(dir, "nul_bytes.dlc", std::string("model M {\n  input x: f32[4]\0\0\0\n  output x\n}\n", 44));
  write(dir, "invalid_utf8.dlc", "// caf\xc3\xa9 is fine in a comment\nmodel M\xff\xfe {\n}\n");
  return 0;
}
