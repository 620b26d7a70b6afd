// Fuzz target: the command line's quantity parser (the values of --set and
// --max-memory: "56Gb/s", "512MiB", "1.5e3 samples") on arbitrary bytes, and
// the descriptions dlc prints of what it parsed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lang/diagnostics.hpp"
#include "lang/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 256) return -1;  // a command-line value
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string described;
  if (auto q = dlc::lang::parse_quantity(text)) described = dlc::lang::with_article(q->dim.describe());
  if (auto u = dlc::lang::parse_unit_term(text)) described += u->dim.describe();
  described += dlc::lang::suggest_unit(text);
  return 0;
}
