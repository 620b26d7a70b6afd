// Hopfield max-cut: graphs, the exact optimum, and the annealed asynchronous
// dynamics (hopfield.hpp has the formulas).
#include "simulator/hopfield.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <unordered_map>

namespace dlc::simulator {

namespace {

constexpr int kBruteForceNodes = 24;
// A guard against garbage headers: far beyond any Hopfield network one would
// simulate neuron by neuron, small enough that n² fits the index arithmetic.
constexpr long long kMaxNodes = 1'000'000;

// Uniform in [0, 1) from the top 53 bits of one draw.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Uniform in [0, n): draws above the largest multiple of n are rejected, so no
// value is favoured.
std::uint64_t below(std::mt19937_64& rng, std::uint64_t n) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t limit = kMax - kMax % n;
  for (;;) {
    std::uint64_t x = rng();
    if (x < limit) return x % n;
  }
}

// Box–Muller, one value per call; 1 − u keeps the logarithm's argument in (0, 1].
double standard_normal(std::mt19937_64& rng) {
  double radius = std::sqrt(-2 * std::log(1 - uniform01(rng)));
  return radius * std::cos(2 * std::numbers::pi * uniform01(rng));
}

// A in compressed rows, both directions of every edge. Validates the graph,
// since everything downstream assumes a zero diagonal and nodes in range.
struct Adjacency {
  std::vector<int> offsets, neighbors;
  std::vector<double> weights;

  explicit Adjacency(const Graph& g) : offsets(static_cast<std::size_t>(std::max(g.nodes, 0)) + 1, 0) {
    if (g.nodes < 0) throw std::invalid_argument("hopfield: negative node count");
    for (const Edge& e : g.edges) {
      if (e.u < 0 || e.u >= g.nodes || e.v < 0 || e.v >= g.nodes)
        throw std::invalid_argument(fmt::format("hopfield: edge {}-{} outside nodes 0..{}", e.u, e.v, g.nodes - 1));
      if (e.u == e.v) throw std::invalid_argument(fmt::format("hopfield: self loop on node {}", e.u));
      ++offsets[e.u + 1];
      ++offsets[e.v + 1];
    }
    for (int i = 0; i < g.nodes; ++i) offsets[i + 1] += offsets[i];
    neighbors.resize(offsets.back());
    weights.resize(offsets.back());
    std::vector<int> next(offsets.begin(), offsets.end() - 1);
    for (const Edge& e : g.edges) {
      neighbors[next[e.u]] = e.v;
      weights[next[e.u]++] = e.weight;
      neighbors[next[e.v]] = e.u;
      weights[next[e.v]++] = e.weight;
    }
  }

  // Σⱼ Wᵢⱼsⱼ = −Σⱼ Aᵢⱼsⱼ.
  double field(int i, std::span<const std::int8_t> s) const {
    double sum = 0;
    for (int k = offsets[i]; k < offsets[i + 1]; ++k) sum += weights[k] * s[neighbors[k]];
    return -sum;
  }
};

std::vector<std::string_view> tokens(std::string_view line) {
  if (auto comment = line.find_first_of("#%"); comment != std::string_view::npos) line = line.substr(0, comment);
  std::vector<std::string_view> out;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && space(line[i])) ++i;
    std::size_t j = i;
    while (j < line.size() && !space(line[j])) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// A token in quotes for a message; bytes that are not printable ASCII as \xNN,
// so a binary file's garbage cannot upset the terminal showing the error.
std::string quoted(std::string_view token) {
  std::string out = "'";
  for (unsigned char c : token) out += c >= 0x20 && c < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", c);
  return out + "'";
}

// from_chars over the whole token; a leading '+' is accepted, as strtod would.
template <typename T>
bool parse_number(std::string_view token, T& value) {
  if (token.size() > 1 && token[0] == '+' && token[1] != '-') token.remove_prefix(1);
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  return ec == std::errc() && end == token.data() + token.size();
}

}  // namespace

bool parse_edge_list(std::string_view text, Graph& graph, std::string& error, int& error_line) {
  auto fail = [&](int line, std::string message) {
    error = std::move(message);
    error_line = line;
    return false;
  };
  Graph g;
  long long declared = -1;
  int header_line = 0, line_no = 0;
  std::unordered_map<long long, int> first_seen;  // u·n + v (u < v) -> line
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = std::min(text.find('\n', pos), text.size());
    auto t = tokens(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (t.empty()) continue;
    if (declared < 0) {
      long long n = 0, m = 0;
      if (t.size() != 2)
        return fail(line_no, fmt::format("expected a header 'nodes edges', found {} fields", t.size()));
      if (!parse_number(t[0], n) || n < 1 || n > kMaxNodes)
        return fail(line_no,
                    fmt::format("bad node count {}: expected an integer from 1 to {}", quoted(t[0]), kMaxNodes));
      if (!parse_number(t[1], m) || m < 0 || m > n * (n - 1) / 2)
        return fail(line_no, fmt::format("bad edge count {}: expected an integer from 0 to n(n-1)/2 = {}", quoted(t[1]),
                                         n * (n - 1) / 2));
      g.nodes = static_cast<int>(n);
      declared = m;
      header_line = line_no;
      continue;
    }
    if (static_cast<long long>(g.edges.size()) == declared)
      return fail(line_no, fmt::format("more edges than the {} that line {} declares", declared, header_line));
    if (t.size() < 2 || t.size() > 3)
      return fail(line_no, fmt::format("expected an edge 'u v [weight]', found {} fields", t.size()));
    long long ends[2];
    for (int k = 0; k < 2; ++k) {
      if (!parse_number(t[k], ends[k])) return fail(line_no, fmt::format("bad node number {}", quoted(t[k])));
      if (ends[k] < 1 || ends[k] > g.nodes)
        return fail(line_no, fmt::format("node {} out of range: nodes are numbered 1 to {}", ends[k], g.nodes));
    }
    if (ends[0] == ends[1])
      return fail(line_no, fmt::format("self loop on node {}: a Hopfield network has no self-coupling", ends[0]));
    double weight = 1;
    if (t.size() == 3 && (!parse_number(t[2], weight) || !std::isfinite(weight)))
      return fail(line_no, fmt::format("bad weight {}: expected a finite number", quoted(t[2])));
    long long key = std::min(ends[0], ends[1]) * g.nodes + std::max(ends[0], ends[1]);
    if (auto [it, fresh] = first_seen.emplace(key, line_no); !fresh)
      return fail(line_no, fmt::format("duplicate edge {}-{} (first on line {})", ends[0], ends[1], it->second));
    g.edges.push_back({static_cast<int>(ends[0] - 1), static_cast<int>(ends[1] - 1), weight});
  }
  if (declared < 0) return fail(std::max(line_no, 1), "no header: expected a first line 'nodes edges'");
  if (static_cast<long long>(g.edges.size()) < declared)
    return fail(line_no, fmt::format("line {} declares {} edges, found {}", header_line, declared, g.edges.size()));
  graph = std::move(g);
  return true;
}

Graph random_graph(int nodes, double density, std::uint64_t seed, bool weighted) {
  if (nodes < 0 || !(density >= 0 && density <= 1))
    throw std::invalid_argument("random_graph: needs nodes >= 0 and a density in [0, 1]");
  std::mt19937_64 rng(seed);
  Graph g{nodes, {}};
  for (int u = 0; u < nodes; ++u)
    for (int v = u + 1; v < nodes; ++v)
      if (uniform01(rng) < density) g.edges.push_back({u, v, weighted && (rng() >> 63) ? -1.0 : 1.0});
  return g;
}

double total_weight(const Graph& graph) {
  double sum = 0;
  for (const Edge& e : graph.edges) sum += e.weight;
  return sum;
}

double cut_value(const Graph& graph, std::span<const std::int8_t> s) {
  double cut = 0;
  for (const Edge& e : graph.edges)
    if (s[e.u] != s[e.v]) cut += e.weight;
  return cut;
}

double hopfield_energy(const Graph& graph, std::span<const std::int8_t> s) {
  double energy = 0;
  for (const Edge& e : graph.edges) energy += e.weight * s[e.u] * s[e.v];
  return energy;
}

double field_scale(const Graph& graph) {
  if (graph.nodes <= 0) return 0;
  std::map<std::pair<int, int>, double> a;  // a repeated edge adds up in A before squaring
  for (const Edge& e : graph.edges) a[{std::min(e.u, e.v), std::max(e.u, e.v)}] += e.weight;
  double sum = 0;
  for (const auto& [edge, w] : a) sum += 2 * w * w;  // Aᵤᵥ and Aᵥᵤ
  return std::sqrt(sum / graph.nodes);
}

std::vector<double> hopfield_weights(const Graph& graph) {
  const auto n = static_cast<std::size_t>(graph.nodes);
  std::vector<double> w(n * n, 0.0);
  for (const Edge& e : graph.edges) {
    w[e.u * n + e.v] -= e.weight;
    w[e.v * n + e.u] -= e.weight;
  }
  return w;
}

MaxCut brute_force_max_cut(const Graph& graph) {
  if (graph.nodes > kBruteForceNodes)
    throw std::invalid_argument(
        fmt::format("brute_force_max_cut: {} nodes, at most {}", graph.nodes, kBruteForceNodes));
  const Adjacency adj(graph);
  const int n = graph.nodes;
  MaxCut best{0, std::vector<std::int8_t>(n, 1)};  // everything on one side cuts nothing
  if (n <= 1) return best;
  std::vector<std::int8_t> s(n, 1);
  double cut = 0;
  std::uint32_t best_step = 0;
  const std::uint32_t steps = std::uint32_t{1} << (n - 1);
  for (std::uint32_t k = 1; k < steps; ++k) {
    // Step k of the reflected Gray code flips bit ctz(k); bit b is node b + 1.
    const int i = std::countr_zero(k) + 1;
    // Flipping i cuts its uncut edges and joins its cut ones: Δcut = sᵢ Σⱼ Aᵢⱼsⱼ = −sᵢ fieldᵢ.
    cut -= s[i] * adj.field(i, s);
    s[i] = static_cast<std::int8_t>(-s[i]);
    if (cut > best.value) {
      best.value = cut;
      best_step = k;
    }
  }
  const std::uint32_t code = best_step ^ (best_step >> 1);
  for (int b = 0; b + 1 < n; ++b) best.assignment[b + 1] = (code >> b) & 1 ? -1 : 1;
  best.value = cut_value(graph, best.assignment);  // free of the running sum's rounding
  return best;
}

Field exact_field(const Graph& graph) {
  auto adj = std::make_shared<const Adjacency>(graph);
  return [adj](int i, std::span<const std::int8_t> s, std::mt19937_64&) { return adj->field(i, s); };
}

namespace {

void validate(const HopfieldOptions& o) {
  if (o.trials < 0 || o.sweeps < 0 || o.traced_trials < 0)
    throw std::invalid_argument("hopfield: trials, sweeps and traced_trials must be >= 0");
  if (!(o.noise_start >= 0 && o.noise_end >= 0) || !std::isfinite(o.noise_start) || !std::isfinite(o.noise_end))
    throw std::invalid_argument("hopfield: noise_start and noise_end must be finite and >= 0");
  if (o.schedule == HopfieldOptions::Schedule::exponential && (o.noise_start > 0) != (o.noise_end > 0))
    throw std::invalid_argument("hopfield: an exponential schedule cannot reach or leave 0; use linear");
}

// σ at update u (0-based) of U, in units of field_scale.
double noise_at(const HopfieldOptions& o, long long u, long long updates) {
  const double f = updates > 1 ? static_cast<double>(u) / static_cast<double>(updates - 1) : 0;
  switch (o.schedule) {
    case HopfieldOptions::Schedule::linear: return o.noise_start + (o.noise_end - o.noise_start) * f;
    case HopfieldOptions::Schedule::exponential:
      return o.noise_start > 0 ? o.noise_start * std::pow(o.noise_end / o.noise_start, f) : 0;
    case HopfieldOptions::Schedule::constant: return o.noise_start;
  }
  return o.noise_start;
}

}  // namespace

HopfieldRun solve(const Graph& graph, const HopfieldOptions& options, const Field& field,
                  const UpdateObserver& observer) {
  validate(options);
  if (!field) throw std::invalid_argument("hopfield: no Field");
  const Adjacency adj(graph);
  const int n = graph.nodes;
  HopfieldRun run;
  run.updates_per_trial = static_cast<long long>(options.sweeps) * n;
  run.optimum = options.optimum;
  if (!run.optimum && n <= kBruteForceNodes) run.optimum = brute_force_max_cut(graph).value;
  const double total = total_weight(graph);
  const double unit = field_scale(graph);
  // Cuts are tracked through a running energy; with weights that are not
  // exact binary fractions it rounds, so "better" and "optimal" allow for that.
  double magnitude = 0;
  for (const Edge& e : graph.edges) magnitude += std::abs(e.weight);
  const double slack = 1e-9 * std::max(1.0, magnitude);
  auto optimal = [&](double cut) { return run.optimum && cut >= *run.optimum - slack; };

  std::vector<std::int8_t> s(n);
  std::vector<int> order(n);
  run.best_cut = -std::numeric_limits<double>::infinity();
  for (int trial = 0; trial < options.trials; ++trial) {
    std::seed_seq seq{static_cast<std::uint32_t>(options.seed), static_cast<std::uint32_t>(options.seed >> 32),
                      static_cast<std::uint32_t>(trial)};
    std::mt19937_64 rng(seq);
    for (auto& si : s) si = (rng() >> 63) ? 1 : -1;
    double energy = hopfield_energy(graph, s);
    HopfieldTrial result;
    result.best_cut = (total - energy) / 2;
    std::vector<double>* trace = nullptr;
    if (trial < options.traced_trials) {
      trace = &run.energy_traces.emplace_back();
      trace->push_back(energy);
    }
    long long u = 0;
    for (int sweep = 0; sweep < options.sweeps; ++sweep) {
      if (options.order == HopfieldOptions::Order::permutation) {
        for (int k = 0; k < n; ++k) order[k] = k;
        for (int k = n - 1; k > 0; --k) std::swap(order[k], order[below(rng, k + 1)]);  // Fisher–Yates
      }
      for (int k = 0; k < n; ++k) {
        const int i = options.order == HopfieldOptions::Order::permutation ? order[k] : static_cast<int>(below(rng, n));
        const double h = field(i, s, rng);
        const double sigma = unit * noise_at(options, u, run.updates_per_trial);
        const double eta = sigma > 0 ? sigma * standard_normal(rng) : 0;
        const double x = h + eta;
        // sgn with sgn(0) = keep: a neuron with no net drive stays, as a
        // comparator with hysteresis would, and the dynamics stay deterministic.
        const bool flip = (x > 0 && s[i] < 0) || (x < 0 && s[i] > 0);
        ++u;
        if (flip) {
          // ΔE = 2 sᵢ Σⱼ Wᵢⱼsⱼ with the exact W, whatever the Field computed.
          energy += 2 * s[i] * adj.field(i, s);
          s[i] = static_cast<std::int8_t>(-s[i]);
          const double cut = (total - energy) / 2;
          if (cut > result.best_cut + slack) {
            result.best_cut = cut;
            result.updates_to_best = u;
          }
        }
        if (observer) observer({trial, u, i, h, sigma, eta, flip, s});
      }
      if (trace) trace->push_back(energy);
    }
    result.final_energy = hopfield_energy(graph, s);
    result.final_cut = cut_value(graph, s);
    result.final_optimal = optimal(result.final_cut);
    result.best_optimal = optimal(result.best_cut);
    run.best_cut = std::max(run.best_cut, result.best_cut);
    run.trials.push_back(result);
  }
  if (run.trials.empty()) run.best_cut = 0;

  if (run.optimum && !run.trials.empty()) {
    int finals = 0, bests = 0;
    double updates = 0;
    for (const HopfieldTrial& t : run.trials) {
      finals += t.final_optimal;
      if (t.best_optimal) {
        ++bests;
        updates += static_cast<double>(t.updates_to_best);
      }
    }
    const double trials = static_cast<double>(run.trials.size());
    run.success_rate = finals / trials;
    run.best_seen_rate = bests / trials;
    if (bests > 0) run.mean_updates_to_solution = updates / bests;
  }
  return run;
}

double repeats_to_solution_99(double success_rate) {
  if (!(success_rate > 0)) return std::numeric_limits<double>::infinity();
  if (success_rate >= 1) return 1;
  return std::max(1.0, std::log(0.01) / std::log1p(-success_rate));
}

ToSolution to_solution_99(const HopfieldRun& run, double seconds_per_update, double joules_per_update) {
  if (!run.success_rate) throw std::invalid_argument("to_solution_99: the run knows no optimum to succeed at");
  const double repeats = repeats_to_solution_99(*run.success_rate);
  const auto updates = static_cast<double>(run.updates_per_trial);
  return {updates * seconds_per_update * repeats, updates * joules_per_update * repeats};
}

}  // namespace dlc::simulator
