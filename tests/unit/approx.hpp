// Relative comparison of doubles for the unit tests.
//
// doctest::Approx adds an absolute term (its scale, 1 by default) to the
// tolerance: ε · (scale + max(|a|, |b|)), with ε ≈ 1.2e-5. Against seconds of
// a few microseconds that accepts almost anything (Approx(1e-9) == 1e-6
// holds). approx() drops the absolute term, so the comparison is relative:
// |a − b| < ε · max(|a|, |b|). Compare with 0 exactly, not through approx().
#pragma once

#include <doctest/doctest.h>

namespace dlc::test {

inline doctest::Approx approx(double expected) { return doctest::Approx(expected).scale(0); }

}  // namespace dlc::test
