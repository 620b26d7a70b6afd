#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "lang/diagnostics.hpp"

using dlc::lang::closest_match;

TEST_CASE("closest_match: one edit for short words, one per three characters beyond") {
  std::vector<std::string> names{"resnet50", "alexnet", "vgg16", "bert_large"};
  CHECK(closest_match("resnet5O", names) == "resnet50");     // substitution
  CHECK(closest_match("alxenet", names) == "alexnet");       // a transposition of neighbours is one edit
  CHECK(closest_match("ALEXNET2", names) == "alexnet");      // case is ignored; an insertion
  CHECK(closest_match("bert", names) == "");                 // six deletions: too far
  CHECK(closest_match("vgg", names) == "");                  // two deletions from a three-letter word: too far
  CHECK(closest_match("vgg1", names) == "vgg16");
  CHECK(closest_match("alexnet", names) == "");              // the word itself is no suggestion
}

TEST_CASE("closest_match: the nearest candidate wins, the first among equals") {
  std::vector<std::string> names{"std.hardware.gpus", "std.hardware.cpus", "std.models.gpt"};
  CHECK(closest_match("std.hardware.gpu", names) == "std.hardware.gpus");
  CHECK(closest_match("std.hardware.xpus", names) == "std.hardware.gpus");
  CHECK(closest_match("std.hardware.cpu", names) == "std.hardware.cpus");
  CHECK(closest_match("std.models.gtp", names) == "std.models.gpt");
}

TEST_CASE("closest_match: a long word far from every candidate gives nothing") {
  std::vector<std::string> names{"a", "ab", std::string(40, 'x')};
  CHECK(closest_match(std::string(29, 'x'), names) == "");  // eleven insertions: 29/3 = 9 allowed
  CHECK(closest_match(std::string(30, 'x'), names) == std::string(40, 'x'));  // ten: 30/3 allowed
  CHECK(closest_match(std::string(38, 'x'), names) == std::string(40, 'x'));
  CHECK(closest_match(std::string(65, 'x'), names) == "");  // over 64 characters: not a name
}
