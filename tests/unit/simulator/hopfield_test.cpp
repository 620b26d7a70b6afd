// Hopfield max-cut: the cut identity, the exact optimum on graphs solved by
// hand, energy descent at every noise-free update, annealing beating plain
// descent, the edge-list parser's diagnostics, and seeded reproducibility.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "simulator/hopfield.hpp"
#include "tests/unit/approx.hpp"

using namespace dlc::simulator;
using dlc::test::approx;

namespace {

std::vector<std::int8_t> random_state(int n, std::mt19937_64& rng) {
  std::vector<std::int8_t> s(n);
  for (auto& si : s) si = (rng() & 1) ? 1 : -1;
  return s;
}

Graph graph(int nodes, std::vector<Edge> edges) { return Graph{nodes, std::move(edges)}; }

// The maximum over all 2ⁿ assignments, nothing fixed, nothing incremental.
double exhaustive_max_cut(const Graph& g) {
  double best = 0;
  std::vector<std::int8_t> s(g.nodes);
  for (std::uint32_t bits = 0; bits < (1u << g.nodes); ++bits) {
    for (int i = 0; i < g.nodes; ++i) s[i] = (bits >> i) & 1 ? -1 : 1;
    double cut = 0;
    for (const Edge& e : g.edges)
      if (s[e.u] != s[e.v]) cut += e.weight;
    best = std::max(best, cut);
  }
  return best;
}

}  // namespace

TEST_CASE("hopfield: cut(s) = 1/4 (1'A1 - s'As) and E = -1/2 s'Ws against a direct edge count") {
  std::mt19937_64 rng(7);
  for (int k = 0; k < 20; ++k) {
    Graph g = random_graph(5 + k, 0.4, 1000 + k, k % 2 == 1);
    const int n = g.nodes;
    std::vector<double> w = hopfield_weights(g);  // W = −A
    for (int i = 0; i < n; ++i) CHECK(w[i * n + i] == 0);
    for (int t = 0; t < 10; ++t) {
      auto s = random_state(n, rng);
      double ones = 0, quadratic = 0;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          ones -= w[i * n + j];
          quadratic -= s[i] * w[i * n + j] * s[j];
        }
      double direct = 0;
      for (const Edge& e : g.edges) direct += s[e.u] != s[e.v] ? e.weight : 0;
      CHECK(cut_value(g, s) == direct);
      CHECK(direct == (ones - quadratic) / 4);  // integer weights: exact
      CHECK(hopfield_energy(g, s) == 0.5 * quadratic);  // −½ sᵀWs with W = −A
      CHECK(direct == (total_weight(g) - hopfield_energy(g, s)) / 2);
    }
  }
}

TEST_CASE("hopfield: brute force on graphs solved by hand") {
  CHECK(brute_force_max_cut(graph(3, {{0, 1}, {1, 2}, {0, 2}})).value == 2);                        // triangle
  CHECK(brute_force_max_cut(graph(4, {{0, 1}, {1, 2}, {2, 3}, {3, 0}})).value == 4);                // 4-cycle
  CHECK(brute_force_max_cut(graph(4, {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}})).value == 4);  // K4
  CHECK(brute_force_max_cut(graph(5, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 0}})).value == 4);        // 5-cycle
  CHECK(brute_force_max_cut(graph(1, {})).value == 0);
  CHECK(brute_force_max_cut(graph(0, {})).value == 0);

  // With node 0 on the + side, the 8 cuts of this graph are: {0} 1.5, {0,1} 0.5,
  // {0,2} 3+2+4+0.5 = 9.5, {0,3} 3+4−2 = 5, {0,1,2} 4+0.5 = 4.5, {0,1,3} 2+4−2 = 4,
  // {0,2,3} 3+2 = 5, all 0. The negative edge 0-2 wants its ends together.
  Graph weighted = graph(4, {{0, 1, 3}, {1, 2, 2}, {2, 3, 4}, {0, 3, 0.5}, {0, 2, -2}});
  MaxCut best = brute_force_max_cut(weighted);
  CHECK(best.value == 9.5);
  CHECK(best.assignment == std::vector<std::int8_t>{1, -1, 1, -1});

  // All edges negative: the best cut is none.
  CHECK(brute_force_max_cut(graph(3, {{0, 1, -1}, {1, 2, -1}})).value == 0);
}

TEST_CASE("hopfield: brute force matches exhaustive search and runs 24 nodes") {
  for (int k = 0; k < 12; ++k) {
    Graph g = random_graph(3 + k, 0.5, 200 + k, k % 3 == 0);
    MaxCut best = brute_force_max_cut(g);
    CHECK(best.value == exhaustive_max_cut(g));
    CHECK(cut_value(g, best.assignment) == best.value);
  }
  Graph big = random_graph(24, 0.5, 7, false);  // 2²³ Gray-code steps
  MaxCut best = brute_force_max_cut(big);
  CHECK(best.value == cut_value(big, best.assignment));
  CHECK(best.value >= total_weight(big) / 2);  // a random cut already reaches half on average
  CHECK_THROWS_AS(brute_force_max_cut(random_graph(25, 0.1, 1, false)), std::invalid_argument);
}

TEST_CASE("hopfield: without noise no update raises the energy, on 50 random graphs") {
  long long total_ties = 0;
  for (int k = 0; k < 50; ++k) {
    Graph g = random_graph(8 + k % 23, 0.2 + 0.015 * k, 300 + k, k % 2 == 0);
    HopfieldOptions o;
    o.trials = 3;
    o.sweeps = 6;
    o.seed = 400 + k;
    o.order = k % 4 == 3 ? HopfieldOptions::Order::random : HopfieldOptions::Order::permutation;
    long long updates = 0, flips = 0, ties = 0, bad = 0;
    auto check = [&](const HopfieldUpdate& u) {
      ++updates;
      flips += u.flipped;
      std::vector<std::int8_t> before(u.state.begin(), u.state.end());
      if (u.flipped) before[u.neuron] = static_cast<std::int8_t>(-before[u.neuron]);
      const double drop = hopfield_energy(g, before) - hopfield_energy(g, u.state);
      // A flip lowers E by exactly 2|field|; no flip leaves it.
      if (drop < 0 || drop != (u.flipped ? 2 * std::abs(u.field) : 0.0) || u.noise != 0) ++bad;
      // The field's sign decided: sgn(field) when it flipped, else field·sᵢ ≥ 0.
      if (u.field * u.state[u.neuron] < 0) ++bad;
      if (u.field == 0 && u.flipped) ++bad;  // a tie keeps the state
      ties += u.field == 0;
    };
    HopfieldRun run = solve(g, o, exact_field(g), check);
    CHECK(bad == 0);
    CHECK(updates == 3LL * 6 * g.nodes);
    CHECK(flips > 0);
    total_ties += ties;
    for (const auto& trace : run.energy_traces)
      for (std::size_t i = 1; i < trace.size(); ++i) CHECK(trace[i] <= trace[i - 1]);
  }
  CHECK(total_ties > 0);  // the unweighted graphs' even-degree nodes meet fields of exactly 0
}

TEST_CASE("hopfield: the noise follows its schedule from start to end") {
  Graph g = random_graph(10, 0.5, 21, false);
  const double unit = field_scale(g);
  const long long updates = 4 * 10;
  HopfieldOptions o;
  o.trials = 2;
  o.sweeps = 4;
  o.noise_start = 2;
  o.noise_end = 0.5;
  auto expect = [&](auto sigma_at) {
    long long bad = 0;
    double last = -1;
    solve(g, o, exact_field(g), [&](const HopfieldUpdate& u) {
      const double f = static_cast<double>(u.update - 1) / static_cast<double>(updates - 1);
      if (!(u.sigma == approx(unit * sigma_at(f)))) ++bad;
      last = u.sigma;
    });
    CHECK(bad == 0);
    return last;
  };
  o.schedule = HopfieldOptions::Schedule::linear;
  CHECK(expect([](double f) { return 2 - 1.5 * f; }) == approx(0.5 * unit));
  o.schedule = HopfieldOptions::Schedule::exponential;
  CHECK(expect([](double f) { return 2 * std::pow(0.25, f); }) == approx(0.5 * unit));
  o.schedule = HopfieldOptions::Schedule::constant;
  CHECK(expect([](double) { return 2.0; }) == approx(2 * unit));
}

TEST_CASE("hopfield: annealed noise reaches the optimum more often than plain descent") {
  // 5 graphs G(n, 0.5), n = 16..20, 100 trials of 15 sweeps each; the noise
  // falls linearly from 1 field_scale to 0. Measured shares of final states at
  // the optimum, annealed vs noise-free: 0.50/0.19, 0.73/0.44, 0.30/0.04,
  // 0.51/0.24, 0.69/0.20 (2.73 vs 1.11 summed).
  double annealed_sum = 0, plain_sum = 0;
  for (int k = 0; k < 5; ++k) {
    Graph g = random_graph(16 + k, 0.5, 100 + k, false);
    HopfieldOptions o;
    o.trials = 100;
    o.sweeps = 15;
    o.seed = 42;
    o.optimum = brute_force_max_cut(g).value;
    HopfieldRun plain = solve(g, o, exact_field(g));
    o.noise_start = 1;
    o.noise_end = 0;
    o.schedule = HopfieldOptions::Schedule::linear;
    HopfieldRun annealed = solve(g, o, exact_field(g));
    INFO("graph " << k << ": annealed " << *annealed.success_rate << ", noise-free " << *plain.success_rate);
    CHECK(*annealed.success_rate > *plain.success_rate);
    CHECK(*annealed.best_seen_rate >= *annealed.success_rate);
    // Without noise the final state is the best one seen: E only falls.
    CHECK(*plain.best_seen_rate == *plain.success_rate);
    annealed_sum += *annealed.success_rate;
    plain_sum += *plain.success_rate;
  }
  CHECK(annealed_sum > 2 * plain_sum);
}

TEST_CASE("hopfield: a run's bookkeeping") {
  Graph g = random_graph(12, 0.5, 9, true);
  HopfieldOptions o;
  o.trials = 20;
  o.sweeps = 10;
  o.noise_start = 0.8;
  o.noise_end = 0.05;
  o.schedule = HopfieldOptions::Schedule::exponential;
  o.traced_trials = 3;
  HopfieldRun run = solve(g, o, exact_field(g));
  const double optimum = brute_force_max_cut(g).value;
  REQUIRE(run.optimum);
  CHECK(*run.optimum == optimum);
  CHECK(run.updates_per_trial == 120);
  REQUIRE(run.energy_traces.size() == 3);
  int finals = 0;
  for (std::size_t t = 0; t < run.trials.size(); ++t) {
    const HopfieldTrial& r = run.trials[t];
    CHECK(r.final_cut == (total_weight(g) - r.final_energy) / 2);
    CHECK(r.best_cut >= r.final_cut);
    CHECK(r.best_cut <= optimum);
    CHECK(r.updates_to_best <= run.updates_per_trial);
    CHECK(r.final_optimal == (r.final_cut == optimum));
    CHECK(r.best_optimal == (r.best_cut == optimum));
    finals += r.final_optimal;
    if (t < 3) {
      CHECK(run.energy_traces[t].size() == 11);
      CHECK(run.energy_traces[t].back() == r.final_energy);
    }
  }
  CHECK(*run.success_rate == approx(finals / 20.0));
  CHECK(*run.best_seen_rate >= *run.success_rate);

  // Beyond 24 nodes and with no optimum given, success is not judged.
  Graph big = random_graph(30, 0.2, 3, false);
  o.trials = 2;
  HopfieldRun unjudged = solve(big, o, exact_field(big));
  CHECK_FALSE(unjudged.optimum);
  CHECK_FALSE(unjudged.success_rate);
  CHECK(unjudged.best_cut > 0);
  CHECK_THROWS_AS(to_solution_99(unjudged, 1e-9, 1e-12), std::invalid_argument);
}

TEST_CASE("hopfield: a noisy Field plugs in and draws from the trial's generator") {
  Graph g = random_graph(10, 0.5, 11, false);
  Field exact = exact_field(g);
  long long calls = 0;
  Field noisy = [&](int i, std::span<const std::int8_t> s, std::mt19937_64& rng) {
    ++calls;
    return exact(i, s, rng) + ((rng() & 1) ? 0.25 : -0.25);  // a read error below the integer fields' spacing
  };
  HopfieldOptions o;
  o.trials = 5;
  HopfieldRun run = solve(g, o, noisy);
  CHECK(calls == 5LL * 15 * 10);
  HopfieldRun again = solve(g, o, noisy);
  for (std::size_t t = 0; t < run.trials.size(); ++t) CHECK(again.trials[t].final_cut == run.trials[t].final_cut);
}

TEST_CASE("hopfield: seeded runs reproduce exactly, other seeds differ") {
  Graph g = random_graph(20, 0.5, 5, true);
  HopfieldOptions o;
  o.trials = 30;
  o.noise_start = 1;
  o.traced_trials = 30;
  HopfieldRun a = solve(g, o, exact_field(g));
  HopfieldRun b = solve(g, o, exact_field(g));
  o.seed = 2;
  HopfieldRun c = solve(g, o, exact_field(g));
  CHECK(a.energy_traces == b.energy_traces);
  CHECK(a.energy_traces != c.energy_traces);
  int differ = 0;
  for (std::size_t t = 0; t < a.trials.size(); ++t) {
    CHECK(a.trials[t].final_cut == b.trials[t].final_cut);
    CHECK(a.trials[t].updates_to_best == b.trials[t].updates_to_best);
    differ += a.trials[t].updates_to_best != c.trials[t].updates_to_best;
  }
  CHECK(differ > 0);

  Graph x = random_graph(15, 0.5, 3, true), y = random_graph(15, 0.5, 3, true), z = random_graph(15, 0.5, 4, true);
  auto same = [](const Graph& p, const Graph& q) {
    if (p.edges.size() != q.edges.size()) return false;
    for (std::size_t i = 0; i < p.edges.size(); ++i)
      if (p.edges[i].u != q.edges[i].u || p.edges[i].v != q.edges[i].v || p.edges[i].weight != q.edges[i].weight)
        return false;
    return true;
  };
  CHECK(same(x, y));
  CHECK_FALSE(same(x, z));
}

TEST_CASE("hopfield: repeats and time and energy to solution at 99 %") {
  CHECK(repeats_to_solution_99(0) == std::numeric_limits<double>::infinity());
  CHECK(repeats_to_solution_99(1) == 1);
  CHECK(repeats_to_solution_99(0.5) == approx(std::log(0.01) / std::log(0.5)));  // 6.6439
  CHECK(repeats_to_solution_99(0.999) == 1);  // one trial is the least one can run
  HopfieldRun run;
  run.updates_per_trial = 900;  // Cai: 60 neurons, 15 sweeps
  run.success_rate = 0.1;
  // 900 · 10 ns = 9 µs per trial; ln(0.01) / ln(0.9) = 43.709 trials.
  ToSolution tts = to_solution_99(run, 10e-9, 2e-12);
  CHECK(tts.seconds == approx(9e-6 * std::log(0.01) / std::log(0.9)));
  CHECK(tts.joules == approx(1.8e-9 * std::log(0.01) / std::log(0.9)));
}

TEST_CASE("hopfield: parse_edge_list reads Biq Mac / rudy files") {
  Graph g;
  std::string error;
  int line = 0;
  const char* text =
      "% a Biq Mac instance\n"
      "4 4\n"
      "1 2 3   # weighted\n"
      "\n"
      "2 3\r\n"
      "3 4 -1.5\n"
      "4 1 +2\n";
  REQUIRE(parse_edge_list(text, g, error, line));
  CHECK(g.nodes == 4);
  REQUIRE(g.edges.size() == 4);
  CHECK(g.edges[0].u == 0);
  CHECK(g.edges[0].v == 1);
  CHECK(g.edges[0].weight == 3);
  CHECK(g.edges[1].weight == 1);
  CHECK(g.edges[2].weight == -1.5);
  CHECK(g.edges[3].u == 3);
  CHECK(g.edges[3].weight == 2);
  // A 4-cycle whose edge 3-4 is negative: {1} against {2, 3, 4} cuts 3 + 2, and
  // beats the alternating cut 3 + 1 − 1.5 + 2 = 4.5.
  CHECK(brute_force_max_cut(g).value == 5);
}

TEST_CASE("hopfield: parse_edge_list reports each error at its line") {
  struct Case {
    const char* text;
    int line;
    const char* message;
  };
  const Case cases[] = {
      {"", 1, "no header: expected a first line 'nodes edges'"},
      {"# only a comment\n", 1, "no header: expected a first line 'nodes edges'"},
      {"3\n", 1, "expected a header 'nodes edges', found 1 fields"},
      {"x 2\n", 1, "bad node count 'x': expected an integer from 1 to 1000000"},
      {"3 4\n", 1, "bad edge count '4': expected an integer from 0 to n(n-1)/2 = 3"},
      {"% c\n3 2\n1 2\n1 q\n", 4, "bad node number 'q'"},
      {"3 2\n1 2\n1 2.5\n", 3, "bad node number '2.5'"},
      {"3 1\n\n0 2\n", 3, "node 0 out of range: nodes are numbered 1 to 3"},
      {"3 1\n1 4\n", 2, "node 4 out of range: nodes are numbered 1 to 3"},
      {"3 1\n99999999999999999999 1\n", 2, "bad node number '99999999999999999999'"},
      {"3 1\n2 2\n", 2, "self loop on node 2: a Hopfield network has no self-coupling"},
      {"3 2\n1 2\n2 1 5\n", 3, "duplicate edge 2-1 (first on line 2)"},
      {"3 1\n1 2 w\n", 2, "bad weight 'w': expected a finite number"},
      {"3 1\n1 2 nan\n", 2, "bad weight 'nan': expected a finite number"},
      {"3 1\n1 2 1 4\n", 2, "expected an edge 'u v [weight]', found 4 fields"},
      {"3 1\n1 2\n2 3\n", 3, "more edges than the 1 that line 1 declares"},
      {"3 3\n1 2\n2 3\n\n", 4, "line 1 declares 3 edges, found 2"},
      {"\x01\xff \x7f garbage\n", 1, "expected a header 'nodes edges', found 3 fields"},
      {"\xff\x01 2\n", 1, "bad node count '\\xff\\x01': expected an integer from 1 to 1000000"},
      {"2 1\n1 2 1e999\n", 2, "bad weight '1e999': expected a finite number"},
  };
  for (const Case& c : cases) {
    Graph g;
    std::string error;
    int line = 0;
    INFO(c.text);
    CHECK_FALSE(parse_edge_list(c.text, g, error, line));
    CHECK(error == c.message);
    CHECK(line == c.line);
    CHECK(g.nodes == 0);  // untouched on failure
  }
  Graph g;
  std::string error;
  int line = 0;
  CHECK_FALSE(parse_edge_list(std::string_view("2 1\n1\0 2\n", 9), g, error, line));
  CHECK(error == "bad node number '1\\x00'");  // the NUL is part of the token, not its end
  CHECK(line == 2);
}

TEST_CASE("hopfield: invalid graphs and options are refused") {
  Graph g = random_graph(6, 0.5, 1, false);
  HopfieldOptions o;
  o.noise_start = 1;
  o.noise_end = 0;
  o.schedule = HopfieldOptions::Schedule::exponential;
  CHECK_THROWS_AS(solve(g, o, exact_field(g)), std::invalid_argument);
  o.schedule = HopfieldOptions::Schedule::linear;
  o.noise_end = -1;
  CHECK_THROWS_AS(solve(g, o, exact_field(g)), std::invalid_argument);
  CHECK_THROWS_AS(solve(graph(2, {{0, 0}}), HopfieldOptions{}, exact_field(g)), std::invalid_argument);
  CHECK_THROWS_AS(exact_field(graph(2, {{0, 2}})), std::invalid_argument);
  CHECK_THROWS_AS(solve(g, HopfieldOptions{}, Field{}), std::invalid_argument);
  CHECK(field_scale(graph(3, {{0, 1, 2}, {1, 2, 1}})) == approx(std::sqrt((4 + 4 + 1 + 1) / 3.0)));
  CHECK(field_scale(graph(2, {{0, 1, 1}, {1, 0, 1}})) == approx(2));  // a repeated edge adds up in A: A₀₁ = 2
}
