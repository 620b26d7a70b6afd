// The standard model library against published figures: the Deep Learning
// Cookbook's table (parameters exact, forward GMACs equal when rounded to the
// talk's precision) and the reference implementations' trainable counts.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>

#include "compiler/checker.hpp"
#include "compiler/stats.hpp"
#include "tests/unit/approx.hpp"

using namespace dlc;
using namespace dlc::compiler;
using dlc::test::approx;

namespace {

// The library's catalog, built once for all the tests of this file.
const std::map<std::string, CatalogEntry>& library() {
  static const std::map<std::string, CatalogEntry> entries = [] {
    lang::Diagnostics diags;
    auto program = std::make_unique<Program>();
    load_module(*program, "std.models", diags);
    CheckOptions options;
    options.models = catalog_names(*program);
    auto module = check(std::move(program), diags, options);
    REQUIRE_FALSE(diags.has_errors());
    std::map<std::string, CatalogEntry> out;
    for (const CatalogEntry& e : catalog(*module)) out[e.name] = e;
    return out;
  }();
  return entries;
}

const CatalogEntry& entry(const std::string& name) {
  auto it = library().find(name);
  REQUIRE_MESSAGE(it != library().end(), name);
  return it->second;
}

// x rounded to `decimals` places, as the talk prints it.
double rounded(double x, int decimals) {
  double f = std::pow(10.0, decimals);
  return std::round(x * f) / f;
}

struct SeedRow {
  const char* name;
  const char* type;
  std::int64_t params;  // every Caffe blob: trainable + BatchNorm state
  int size_mb;          // 2^20 bytes, fp32; -1 where the talk gives a decimal
  double gflops;        // the talk's "GFLOPs": forward multiply-accumulates
  int decimals;         // as printed in the talk
};

// deep-learning-cookbook-talk.txt, "Popular models".
constexpr SeedRow kSeed[] = {
    {"AlexNet", "CNN", 60'965'224, 233, 0.7, 1},       {"GoogLeNet", "CNN", 6'998'552, 27, 1.6, 1},
    {"VGG16", "CNN", 138'357'544, 528, 15.5, 1},       {"VGG19", "CNN", 143'667'240, 548, 19.6, 1},
    {"ResNet50", "CNN", 25'610'269, 98, 3.9, 1},       {"ResNet101", "CNN", 44'654'608, 170, 7.6, 1},
    {"ResNet152", "CNN", 60'344'387, 230, 11.3, 1},    {"EngAcousticModel", "RNN", 34'678'784, 132, 0.035, 3},
    {"TextCNN", "CNN", 151'690, -1, 0.009, 3},
};

}  // namespace

TEST_CASE("library: the cookbook's table of popular models") {
  for (const SeedRow& row : kSeed) {
    CAPTURE(row.name);
    const CatalogEntry& e = entry(row.name);
    CHECK(e.type == row.type);
    CHECK(e.params_total() == row.params);
    if (row.size_mb > 0) CHECK(std::lround(e.size_bytes() / 1048576.0) == row.size_mb);
    CHECK(rounded(e.macs_forward / 1e9, row.decimals) == approx(row.gflops));
  }
  CHECK(rounded(entry("TextCNN").size_bytes() / 1048576.0, 1) == approx(0.6));
}

TEST_CASE("library: the cookbook's table comes first and in the talk's order") {
  lang::Diagnostics diags;
  auto program = std::make_unique<Program>();
  load_module(*program, "std.models", diags);
  std::vector<std::string> names = catalog_names(*program);
  REQUIRE(names.size() >= 9);
  for (std::size_t i = 0; i < 9; ++i) CHECK(names[i] == kSeed[i].name);
}

TEST_CASE("library: trainable parameters equal the reference implementations") {
  const std::pair<const char*, std::int64_t> published[] = {
      // torchvision (resnet*, vgg*, inception_v3 less its 3,326,696-parameter auxiliary classifier)
      {"ResNet18", 11'689'512},
      {"ResNet34", 21'797'672},
      {"ResNet101", 44'549'160},
      {"ResNet152", 60'192'808},
      {"VGG16", 138'357'544},
      {"VGG19", 143'667'240},
      {"InceptionV3", 23'834'568},
      // Hugging Face num_parameters(): BertModel (with pooler), GPT2Model
      {"BERTBase", 109'482'240},
      {"BERTLarge", 335'141'888},
      {"GPT2Small", 124'439'808},
      {"GPT2Medium", 354'823'168},
      {"GPT2Large", 774'030'080},
      {"GPT2XL", 1'557'611'200},
      // DLBS DeepMNIST (Ciresan et al. 2010): 784-2500-2000-1500-1000-500-10
      {"DeepMNIST", 11'972'510},
  };
  for (const auto& [name, params] : published) {
    CAPTURE(name);
    CHECK(entry(name).params_trainable == params);
  }
  // ResNet-50: torchvision's 25,557,032 plus the released Caffe model's conv1 bias.
  CHECK(entry("ResNet50").params_trainable == 25'557'032 + 64);
  // ResNet-50 v1.5 is torchvision's resnet50 itself: the same parameters, the stride on the 3x3
  // convolution. torchvision's table gives 4.09 "GFLOPS" (multiply-accumulates of the convolutions and
  // the fc); dlc also counts a multiply-add per element of each batch norm: 4.10 G in all.
  CHECK(entry("ResNet50v15").params_trainable == 25'557'032);
  CHECK(rounded(static_cast<double>(entry("ResNet50v15").macs_forward) / 1e9, 2) == approx(4.10));
}

TEST_CASE("library: large language models have their published parameter counts") {
  const std::pair<const char*, std::int64_t> published[] = {
      // Hugging Face num_parameters() of LlamaForCausalLM / MistralForCausalLM / MixtralForCausalLM
      {"Llama2_7B", 6'738'415'616},
      {"Llama2_13B", 13'015'864'320},
      {"Llama2_70B", 68'976'648'192},
      {"Llama3_8B", 8'030'261'248},
      {"Llama3_70B", 70'553'706'496},
      {"Llama3_405B", 405'853'388'800},
      {"Mistral7B", 7'241'732'096},
      {"Mixtral8x7B", 46'702'792'704},
  };
  for (const auto& [name, params] : published) {
    CAPTURE(name);
    CHECK(entry(name).params_trainable == params);
    CHECK(entry(name).params_state == 0);
  }
  // Mixtral uses 2 of its 8 experts per token: "12.9B active parameters" (Jiang et al. 2024), exactly
  // 32 layers of (41,943,040 attention + 32,768 router + 2 x 176,160,768 experts + 8,192 norms),
  // the embedding and head (2 x 131,072,000) and the final norm (4,096).
  CHECK(entry("Mixtral8x7B").params_active == 32 * (41'943'040 + 32'768 + 2 * 176'160'768LL + 8'192) +
                                                  2 * 131'072'000 + 4'096);
  CHECK(entry("Mixtral8x7B").params_active == 12'879'925'248);
  CHECK(entry("Llama3_8B").params_active == entry("Llama3_8B").params_trainable);
  // GPT-3 (Brown et al. 2020, Table 2.1: "175.0B"): 96 layers of 12·h² + 13·h at h = 12,288, the token
  // (50,257) and position (2,048) embeddings, the final layer norm; the head is tied.
  const std::int64_t h = 12'288;
  CHECK(entry("GPT3_175B").params_trainable == 96 * (12 * h * h + 13 * h) + (50'257 + 2'048) * h + 2 * h);
  CHECK(entry("GPT3_175B").params_trainable == 174'604'259'328);
  // Narayanan et al. 2021, Table 1: their formula 12·l·h² + 13·l·h + (V + s)·h (V = 51,200, s = 2,048)
  // plus the final layer norm's 2·h, rounding to their column of billions.
  struct Row {
    const char* name;
    std::int64_t layers, hidden;
    double billions;
  };
  const Row rows[] = {{"GPT_1_7B", 24, 2304, 1.7},    {"GPT_3_6B", 30, 3072, 3.6},    {"GPT_7_5B", 36, 4096, 7.5},
                      {"GPT_18B", 40, 6144, 18.4},    {"GPT_39B", 48, 8192, 39.1},    {"GPT_76B", 60, 10240, 76.1},
                      {"GPT_145B", 80, 12288, 145.6}, {"GPT_310B", 96, 16384, 310.1}, {"GPT_530B", 105, 20480, 529.6},
                      {"GPT_1T", 128, 25600, 1008.0}};
  for (const Row& r : rows) {
    CAPTURE(r.name);
    std::int64_t formula = 12 * r.layers * r.hidden * r.hidden + 13 * r.layers * r.hidden + (51'200 + 2'048) * r.hidden;
    CHECK(entry(r.name).params_trainable == formula + 2 * r.hidden);
    CHECK(rounded(static_cast<double>(entry(r.name).params_trainable) / 1e9, 1) == approx(r.billions));
  }
  CHECK(entry("GPT_1_7B").params_trainable == 1'652'230'656);
  CHECK(entry("GPT_1T").params_trainable == 1'008'038'758'400);
}

TEST_CASE("library: transformers have no non-trainable state") {
  for (const char* name : {"BERTBase", "BERTLarge", "GPT2Small", "GPT2XL"}) {
    CAPTURE(name);
    CHECK(entry(name).params_state == 0);
    CHECK(entry(name).type == "Transformer");
  }
}
