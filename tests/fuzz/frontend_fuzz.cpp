// Fuzz target: the whole front end on arbitrary bytes. The input is a .dlc
// file: parsed, checked (its imports, the standard library's included), its
// diagnostics rendered with source lines and carets; a file that checks clean
// is dumped (--emit=checked) and every experiment lowered to a Plan
// (--emit=plan). Any crash, sanitizer report or hang is a defect: bad input
// gets diagnostics, never anything else.
//
// Built with libFuzzer by scripts/fuzz.sh (clang, ASan+UBSan); the normal
// build links the same function into a replay driver that ctest runs over
// the saved corpus (tests/fuzz/corpus/frontend).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "compiler/checker.hpp"
#include "compiler/loader.hpp"
#include "compiler/module.hpp"
#include "compiler/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16 * 1024) return -1;  // larger inputs add nothing the small ones do not reach, only time
  std::string text(reinterpret_cast<const char*>(data), size);
  dlc::lang::Diagnostics diags;
  auto program = std::make_unique<dlc::compiler::Program>();
  dlc::compiler::load_text(*program, "fuzz.dlc", std::move(text), diags);
  // The evaluation limits a hundredth of dlc's: reaching one is an error like
  // any other, and at dlc's own a loop takes a second (ten under ASan) to
  // reach it, which would read as a hang. The std library's models stay
  // within these.
  dlc::compiler::CheckOptions options;
  options.limits.layers = 2'000;
  options.limits.steps = 100'000;
  options.limits.list_length = 10'000;
  options.limits.string_length = 10'000;
  auto module = dlc::compiler::check(std::move(program), diags, options);
  std::string rendered = diags.render(module->program->sources);
  if (!diags.has_errors()) {
    rendered += dlc::compiler::dump(*module);
    rendered += dlc::compiler::dump_plans(*module);
  }
  return 0;
}
