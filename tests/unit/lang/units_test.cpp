#include <doctest/doctest.h>

#include "lang/units.hpp"
#include "tests/unit/approx.hpp"

using namespace dlc::lang;
using dlc::test::approx;

namespace {
Quantity unit(const char* s) {
  auto q = parse_unit_term(s);
  REQUIRE_MESSAGE(q.has_value(), s);
  return *q;
}
}  // namespace

TEST_CASE("units: bits and bytes differ by eight") {
  // 56 Gb/s == 7 GB/s: the units algebra does the division.
  Quantity gb = unit("Gb"), s = unit("s");
  CHECK(gb.value / s.value * 56 == approx(7e9));
  CHECK(gb.dim / s.dim == dims::bandwidth());
  CHECK(unit("GB").value == 1e9);
  CHECK(unit("b").value == 0.125);
}

TEST_CASE("units: binary and SI prefixes differ") {
  CHECK(unit("GiB").value == 1073741824.0);
  CHECK(unit("GB").value == 1e9);
  CHECK(unit("KiB").value == 1024.0);
  CHECK(unit("kB").value == 1000.0);
  CHECK(unit("KB").value == 1000.0);
  CHECK_FALSE(parse_unit_term("GiFLOPS").has_value());  // binary prefixes only for bytes and bits
  CHECK_FALSE(parse_unit_term("Gis").has_value());
}

TEST_CASE("units: dimensions of named units") {
  CHECK(unit("TFLOPS").dim == dims::op_rate());
  CHECK(unit("TFLOPS").value == 1e12);
  CHECK(unit("FLOP").dim == dims::ops());
  CHECK(unit("MAC").value == 2);  // one multiply-accumulate is two operations
  CHECK(unit("W").dim == dims::power());
  CHECK(unit("J").dim == dims::energy());
  CHECK(unit("GHz").dim == dims::frequency());
  CHECK(unit("GHz").value == 1e9);
  CHECK(unit("samples").dim == dims::samples());
  CHECK(unit("GSa").dim == dims::samples());  // GSa/s, as ADC data sheets write sample rates
  CHECK(unit("uS").dim == dims::conductance());  // siemens
  CHECK(unit("uS").value == approx(1e-6));
  CHECK(unit("kOhm").dim == dims::resistance());
  CHECK(unit("h").value == 3600);
  CHECK(unit("min").value == 60);
  CHECK(unit("%").value == 0.01);
}

TEST_CASE("units: small prefixes") {
  CHECK(unit("us").value == approx(1e-6));
  CHECK(unit("ns").value == approx(1e-9));
  CHECK(unit("ms").value == approx(1e-3));
  CHECK(unit("pJ").value == approx(1e-12));
  CHECK(unit("mW").dim == dims::power());
  CHECK(unit("m").dim == dims::length());  // metre, not milli
  CHECK(unit("mm").value == approx(1e-3));
}

TEST_CASE("units: powers") {
  CHECK(unit("mm2").dim == dims::area());
  CHECK(unit("mm2").value == approx(1e-6));
  CHECK(unit("mm^2").value == approx(1e-6));
  CHECK(unit("m^-1").dim == dims::length().pow(-1));
  CHECK_FALSE(parse_unit_term("M2").has_value());  // a bare prefix has no power
}

TEST_CASE("units: bare prefixes are count multipliers") {
  CHECK(unit("M").value == 1e6);
  CHECK(unit("M").dim.dimensionless());
  CHECK(unit("K").value == 1e3);
  CHECK(unit("G").value == 1e9);
  CHECK_FALSE(parse_unit_term("Gi").has_value());
  CHECK_FALSE(parse_unit_term("xyz").has_value());
  CHECK_FALSE(parse_unit_term("").has_value());
}

TEST_CASE("units: dimension algebra and names") {
  Dimension bw = dims::bytes() / dims::time();
  CHECK(bw == dims::bandwidth());
  CHECK(bw.unit() == "B/s");
  CHECK(bw.describe() == "bandwidth (B/s)");
  CHECK(dims::time().describe() == "time (s)");
  CHECK(dims::op_rate().unit() == "FLOP/s");
  CHECK(dims::power().unit() == "W");
  CHECK(dims::number().describe() == "plain number");
  CHECK((dims::bandwidth() * dims::time()) == dims::bytes());
  CHECK(dims::area().unit() == "m^2");
  CHECK((dims::number() / dims::time()).unit() == "Hz");
  CHECK((dims::ops() / dims::bytes()).unit() == "FLOP/B");
}

TEST_CASE("units: quantities written on a command line") {
  auto q = parse_quantity("56 Gb/s");
  REQUIRE(q);
  CHECK(q->value == approx(7e9));
  CHECK(q->dim == dims::bandwidth());
  CHECK(parse_quantity("100Gb/s")->value == approx(12.5e9));
  CHECK(parse_quantity("16")->dim.dimensionless());
  CHECK(parse_quantity("50K samples")->value == 5e4);
  CHECK(parse_quantity("1.5 TFLOPS")->dim == dims::op_rate());
  CHECK_FALSE(parse_quantity("fast").has_value());
  CHECK_FALSE(parse_quantity("10 furlongs").has_value());
  CHECK_FALSE(parse_quantity("10 GB/").has_value());
}

TEST_CASE("units: formatting for people") {
  CHECK(format_quantity({7e9, dims::bandwidth()}) == "7 GB/s");
  CHECK(format_quantity({16e9, dims::bytes()}) == "16 GB");
  CHECK(format_quantity({7e-7, dims::time()}) == "700 ns");
  CHECK(format_quantity({42, dims::number()}) == "42");
}
