// Name resolution, imports, evaluation and property checking, through the
// front end's public entry points (compile_text, compile_file).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "compiler/checker.hpp"
#include "tests/unit/approx.hpp"

using namespace dlc;
using namespace dlc::compiler;
using dlc::test::approx;

namespace {

struct Result {
  std::unique_ptr<CheckedModule> module;
  lang::Diagnostics diags;
  std::vector<std::string> errors;  // "line:col: message"
};

void collect(Result& r) {
  r.diags.finalize();
  for (const lang::Diagnostic& d : r.diags.all()) {
    if (d.severity != lang::Severity::error) continue;
    lang::LineColumn lc = r.module->program->sources.line_column(d.where.file, d.where.offset);
    r.errors.push_back(std::to_string(lc.line) + ":" + std::to_string(lc.column) + ": " + d.message);
  }
}

Result compile(const std::string& text) {
  Result r;
  r.module = compile_text("test.dlc", text, r.diags);
  collect(r);
  return r;
}

std::vector<std::string> layer_names(const ModelGraph& g) {
  std::vector<std::string> v;
  for (const Layer& l : g.layers) v.push_back(l.name);
  return v;
}

// A scratch folder with files, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("dlc_unit_" + std::to_string(::getpid()) + "_" +
                                                     std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) {
    std::filesystem::path p = path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  static inline int counter = 0;
};

Result compile_path(const std::string& path) {
  Result r;
  r.module = compile_file(path, r.diags);
  collect(r);
  return r;
}

}  // namespace

TEST_CASE("checker: duplicate declarations are errors at the second one") {
  Result r = compile("link A { bandwidth = 1 GB/s }\nlink A { bandwidth = 2 GB/s }\n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == "2:6: duplicate declaration of 'A'");
  CHECK(r.diags.all()[0].notes.size() == 1);
}

TEST_CASE("checker: undefined names suggest the closest defined name") {
  Result r = compile("model M {\n  input image: f32[4]\n  output relu(imgae)\n}\n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == "3:15: undefined name 'imgae'; did you mean 'image'?");
}

TEST_CASE("checker: all semantic errors of a file are reported in order") {
  Result r = compile(
      "model M {\n  input x: f32[8]\n  a = fc(x, 4)\n  b = fc(x, 5)\n  c = add(a, b)\n  d = relu(nope)\n  output c\n}\n"
      "link L { bandwidth = 3 s }\n");
  REQUIRE(r.errors.size() == 2);  // the static error stops M's evaluation; L is checked on its own
  CHECK(r.errors[0] == "6:12: undefined name 'nope'");
  CHECK(r.errors[1] == "9:22: property 'bandwidth' expects a bandwidth (B/s), got a time (s)");
}

TEST_CASE("checker: recursion between blocks is diagnosed with the chain") {
  Result r = compile(
      "block a(x) { return b(x) }\nblock b(x) { return a(x) }\n"
      "model M {\n  input x: f32[4]\n  output a(x)\n}\n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] == "2:21: recursive block: a -> b -> a (a block cannot use itself)");
}

TEST_CASE("checker: block arguments bind by position and name") {
  Result r = compile(
      "block unit(x, width, stride = 1) { return conv(x, width, kernel = 3, stride = stride, pad = 1) }\n"
      "model M {\n  input x: f32[3, 32, 32]\n  y = unit(x, 16)\n  output unit(y, stride = 2, width = 8)\n}\n");
  REQUIRE(r.errors.empty());
  const ModelGraph* g = r.module->find_model("M");
  REQUIRE(g);
  CHECK(g->layers.back().output.shape == Shape{8, 16, 16});
}

TEST_CASE("checker: layer names follow scopes of blocks and loops") {
  Result r = compile(
      "block pair(x) {\n  return relu(conv(x, 4, kernel = 1))\n}\n"
      "model M {\n  input x: f32[4, 8, 8]\n  x = conv(x, 4, kernel = 1)\n"
      "  repeat stage in 1..=2 {\n    x = pair(x)\n  }\n"
      "  x = pair(x, name = \"head\")\n  x = pair(x, name = \"\")\n  output conv(x, 4, kernel = 1, name = \"last\")\n}\n");
  REQUIRE(r.errors.empty());
  const ModelGraph* g = r.module->find_model("M");
  REQUIRE(g);
  CHECK(layer_names(*g) == std::vector<std::string>{
                               "x", "conv1", "stage1.pair1.conv1", "stage1.pair1.relu1", "stage2.pair1.conv1",
                               "stage2.pair1.relu1", "head.conv1", "head.relu1", "conv2", "relu1", "last"});
}

TEST_CASE("checker: a second loop over the same variable keeps names unique") {
  Result r = compile(
      "model M {\n  input x: f32[4]\n  repeat i in 0..2 { x = relu(x) }\n  repeat i in 0..2 { x = relu(x) }\n"
      "  output x\n}\n");
  REQUIRE(r.errors.empty());
  CHECK(layer_names(*r.module->find_model("M")) ==
        std::vector<std::string>{"x", "i0.relu1", "i1.relu1", "i0.relu2", "i1.relu2"});
}

TEST_CASE("checker: properties are normalised to SI base units") {
  Result r = compile(
      "link IB { bandwidth = 56 Gb/s; latency = 0.7 us }\n"
      "device D { kind = gpu; memory = 16 GiB; peak { fp32 = 10.6 TFLOPS } }\n");
  REQUIRE(r.errors.empty());
  const CheckedDecl* ib = r.module->find_decl("IB");
  REQUIRE(ib);
  CHECK(ib->find("bandwidth")->value.number == approx(7e9));
  CHECK(ib->find("latency")->value.number == approx(7e-7));
  const CheckedDecl* d = r.module->find_decl("D");
  CHECK(d->find("memory")->value.number == 17179869184.0);
  CHECK(d->find("peak.fp32")->value.number == approx(1.06e13));
}

TEST_CASE("checker: inheritance overrides properties of the base") {
  Result r = compile(
      "device A { kind = gpu; memory = 40 GB; power = 400 W }\ndevice B : A { memory = 80 GB }\n");
  REQUIRE(r.errors.empty());
  const CheckedDecl* b = r.module->find_decl("B");
  CHECK(b->find("memory")->value.number == 80e9);
  CHECK(b->find("power")->value.number == 400);
  CHECK(b->find("kind")->value.text == "gpu");
}

TEST_CASE("checker: experiments resolve references and per-qualifiers") {
  Result r = compile(
      "model M {\n  input x: f32[4]\n  output fc(x, 2)\n}\n"
      "device G { kind = gpu }\nlink L { bandwidth = 10 GB/s }\nnode N { devices = 4 * G; link = L }\n"
      "experiment E { model = M; system = N; batch = 16 per device; dataset = 1M samples; "
      "parallel = data(allreduce = ring) }\n");
  REQUIRE(r.errors.empty());
  const CheckedDecl* e = r.module->find_decl("E");
  REQUIRE(e);
  CHECK(e->find("batch")->value.kind == Value::Kind::per);
  CHECK(e->find("batch")->value.text == "device");
  CHECK(e->find("dataset")->value.number == 1e6);
  const Value& devices = r.module->find_decl("N")->find("devices")->value;
  CHECK(devices.kind == Value::Kind::replicated);
  CHECK(devices.count == 4);
  CHECK(devices.decl->name.name == "G");
}

TEST_CASE("imports: relative files and dotted modules") {
  TempDir dir;
  dir.write("lib/blocks.dlc", "block unit(x) { return relu(x) }\n");
  dir.write("hw.dlc", "link L { bandwidth = 1 GB/s }\n");
  std::string main = dir.write("main.dlc",
                               "import \"hw.dlc\"\nimport lib.blocks\n"
                               "model M {\n  input x: f32[4]\n  output unit(x)\n}\n");
  Result r = compile_path(main);
  CHECK(r.errors.empty());
  CHECK(r.module->program->files.size() == 3);
  CHECK(r.module->find_decl("L"));
}

TEST_CASE("imports: a file imported twice is loaded once") {
  TempDir dir;
  dir.write("a.dlc", "import \"c.dlc\"\n");
  dir.write("b.dlc", "import \"c.dlc\"\n");
  dir.write("c.dlc", "link L { bandwidth = 1 GB/s }\n");
  std::string main = dir.write("main.dlc", "import \"a.dlc\"\nimport \"b.dlc\"\n");
  Result r = compile_path(main);
  CHECK(r.errors.empty());
  CHECK(r.module->program->files.size() == 4);
}

TEST_CASE("imports: cycles are diagnosed at the import that closes them") {
  TempDir dir;
  dir.write("a.dlc", "import \"b.dlc\"\nlink A { bandwidth = 1 GB/s }\n");
  dir.write("b.dlc", "import \"a.dlc\"\nlink B { bandwidth = 1 GB/s }\n");
  Result r = compile_path((dir.path / "a.dlc").string());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].find("import cycle: ") != std::string::npos);
  CHECK(r.errors[0].find("a.dlc -> ") != std::string::npos);
}

TEST_CASE("imports: missing files and standard modules") {
  TempDir dir;
  std::string main = dir.write("main.dlc", "import \"nothere.dlc\"\nimport std.modles\n");
  Result r = compile_path(main);
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].find("1:8: cannot import '") == 0);
  CHECK(r.errors[0].find("nothere.dlc': no such file") != std::string::npos);
  CHECK(r.errors[1] == "2:8: no module named 'std.modles' in the standard library");
  REQUIRE(r.diags.all().size() == 2);
  CHECK(r.diags.all()[1].notes.at(0).message == "did you mean 'std.models'?");
}

TEST_CASE("imports: the standard library resolves from the embedded copy") {
  Result r = compile("import std.models\nexperiment E { model = ResNet50; system = X }\ndevice X { kind = cpu }\n");
  REQUIRE(r.errors.empty());
  const ModelGraph* g = r.module->find_model("ResNet50");
  REQUIRE(g);
  GraphTotals t = totals(*g);
  CHECK(t.params + t.state == 25'610'269);  // the cookbook's figure for Caffe's ResNet-50
}
