// The standard library (specs/), compiled into the binary at build time.
#pragma once

#include <span>
#include <string_view>

namespace dlc::compiler {

struct EmbeddedFile {
  std::string_view path;  // relative to specs/: "std/models/resnet.dlc"
  std::string_view text;
};

std::span<const EmbeddedFile> embedded_specs();

}  // namespace dlc::compiler
