// Text for people: tables, counts, durations.
#include <doctest/doctest.h>

#include "compiler/table.hpp"

using namespace dlc::compiler;

TEST_CASE("table: counts get thousands separators") {
  CHECK(with_separators(0) == "0");
  CHECK(with_separators(999) == "999");
  CHECK(with_separators(1000) == "1,000");
  CHECK(with_separators(60965224) == "60,965,224");
  CHECK(with_separators(-1234567) == "-1,234,567");
}

TEST_CASE("table: durations pick their unit by magnitude, sign kept") {
  CHECK(human_seconds(0) == "0");
  CHECK(human_seconds(46.18e-6) == "46.2 us");
  CHECK(human_seconds(-46.18e-6) == "-46.2 us");
  CHECK(human_seconds(1.234e-3) == "1.23 ms");
  CHECK(human_seconds(-0.5) == "-500.00 ms");
  CHECK(human_seconds(4.561) == "4.56 s");
  CHECK(human_seconds(9000) == "2.5 h");
}

TEST_CASE("table: columns align, numbers to the right, a rule before totals") {
  TextTable t;
  t.column("layer");
  t.column("MACs", TextTable::Align::right);
  t.row({"conv1", "1,000"});
  t.row({"fc", "10"});
  t.rule();
  t.row({"total", "1,010"});
  CHECK(t.render() ==
        "layer   MACs\n"
        "-----  -----\n"
        "conv1  1,000\n"
        "fc        10\n"
        "-----  -----\n"
        "total  1,010\n");
}

TEST_CASE("human_bytes: decimal SI units, as every command prints sizes") {
  CHECK(dlc::compiler::human_bytes(0) == "0 B");
  CHECK(dlc::compiler::human_bytes(512) == "512 B");
  CHECK(dlc::compiler::human_bytes(618'348) == "618.3 kB");  // AlexNet's input, 3 x 227 x 227 x 4 B (603.9 KiB)
  CHECK(dlc::compiler::human_bytes(12'004'000) == "12.0 MB");
  CHECK(dlc::compiler::human_bytes(21e9) == "21.00 GB");
  CHECK(dlc::compiler::human_bytes(1.2e12) == "1.20 TB");
}
