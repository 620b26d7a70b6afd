// The checker: AST to checked module. It runs the static pass (resolve), then
// evaluates every declaration: property values against their schema, and
// every model that can be instantiated into a graph with shapes and costs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "compiler/evaluator.hpp"
#include "compiler/module.hpp"

namespace dlc::compiler {

struct CheckOptions {
  // Instantiate the standard library's models even when nothing refers to
  // them (dlc check std). Otherwise they are evaluated on demand: the library
  // is checked by its own tests, and a file that imports it stays fast.
  bool library_models = false;
  // Models to instantiate by name, wherever they are declared (dlc stats
  // ResNet50). An unknown name, or a model that needs arguments, is an error.
  std::vector<std::string> models;
  EvaluationLimits limits;
};

std::unique_ptr<CheckedModule> check(std::unique_ptr<Program> program, lang::Diagnostics& diags,
                                     const CheckOptions& options = {});

// The whole front end for one file: load (with imports), parse, check.
std::unique_ptr<CheckedModule> compile_file(const std::string& path, lang::Diagnostics& diags);
// The same for source text in memory (tests).
std::unique_ptr<CheckedModule> compile_text(const std::string& name, std::string text, lang::Diagnostics& diags);

}  // namespace dlc::compiler
