// A Hopfield network solving max-cut with noise annealing, after Cai et al.,
// "Power-efficient combinatorial optimization using intrinsic noise in
// memristor Hopfield neural networks", Nature Electronics 3:409 (2020).
//
//   E(s) = −½ sᵀWs − θᵀs,  s ∈ {±1}ⁿ
//   sᵢ ← sgn(Σⱼ Wᵢⱼsⱼ − θᵢ + ηᵢ)            one neuron at a time (asynchronous)
//   max-cut: W = −A, θ = 0,  cut(s) = ¼(1ᵀA1 − sᵀAs) = (Σₑ wₑ − E(s)) / 2
//
// A is the graph's weighted adjacency matrix (zero diagonal, so W is symmetric
// with Wᵢᵢ = 0 and a noise-free update never raises E). The local field
// Σⱼ Wᵢⱼsⱼ comes from a pluggable Field, so a crossbar's functional model
// (noisy, quantised) can stand in for the exact sum; the solver adds the
// annealing noise ηᵢ ~ N(0, σ(t)) itself, σ following a schedule that lowers
// it over a trial (Cai's feedback scales the array's own noise the same way).
//
// Units of σ: field_scale, the root mean square over neurons of ‖Aᵢ‖₂ =
// √((1/n) Σᵢⱼ Aᵢⱼ²), which is the standard deviation of a local field over
// uniformly random states (√d̄ for ±1 weights, d̄ the mean degree). σ = 1 is
// noise as large as the fields of a random start. Measured with 15 sweeps and
// a linear fall to 0, the best start noise in this unit stays at 0.4–0.75 for
// G(n, p) with n = 16 and 24, p = 0.15 to 0.5 (0.25–0.4 at p = 0.9); in units
// of d̄ itself it moved from 0.05 to 0.4 over the same graphs. A field is a sum
// of about d̄ terms of random sign: its spread grows as √d̄, not d̄.
//
// Random numbers: every draw comes from std::mt19937_64 (fully specified by the
// standard) through this file's own uniform, normal and shuffle conversions,
// not the <random> distributions (whose algorithms differ between standard
// libraries), so a seeded run gives the same numbers with any toolchain.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::simulator {

struct Edge {
  int u = 0, v = 0;  // 0-based nodes, u != v
  double weight = 1;
};

// An undirected weighted graph. Programmatic graphs may repeat an edge: its
// weights then add up in A, consistently in every function below.
struct Graph {
  int nodes = 0;
  std::vector<Edge> edges;
};

// Parses the Biq Mac / rudy edge list: a first line "n m" (nodes, edges), then
// m lines "u v [w]" with 1-based nodes (w defaults to 1). Text after '#' or '%'
// is a comment; blank lines are skipped. On an error (a bad number, a node out
// of range, a self loop, a duplicate edge, too few or too many edges) returns
// false with a message and its 1-based line (too few edges: the last line).
bool parse_edge_list(std::string_view text, Graph& graph, std::string& error, int& error_line);

// Erdős–Rényi G(n, p): each pair {u, v} is an edge with probability density;
// weights ±1 with equal odds when weighted, else 1.
Graph random_graph(int nodes, double density, std::uint64_t seed, bool weighted);

double total_weight(const Graph& graph);                                    // Σₑ wₑ = ½ 1ᵀA1
double cut_value(const Graph& graph, std::span<const std::int8_t> s);       // Σ of wₑ over edges with s_u ≠ s_v
double hopfield_energy(const Graph& graph, std::span<const std::int8_t> s);  // −½ sᵀWs = Σₑ wₑ s_u s_v
double field_scale(const Graph& graph);                                     // √((1/n) Σᵢⱼ Aᵢⱼ²), σ's unit

// W = −A, dense, row-major n × n: what a crossbar is programmed with.
std::vector<double> hopfield_weights(const Graph& graph);

struct MaxCut {
  double value = 0;
  std::vector<std::int8_t> assignment;  // ±1 per node; node 0 is +1
};

// The exact maximum cut by Gray-code enumeration of the 2ⁿ⁻¹ assignments with
// node 0 fixed (s and −s cut the same edges): one node flips per step, the cut
// changes by the flipped node's incident weights, O(2ⁿ⁻¹ · degree).
// Throws std::invalid_argument for more than 24 nodes.
MaxCut brute_force_max_cut(const Graph& graph);

// Σⱼ Wᵢⱼsⱼ for neuron i in state s, as some hardware model computes it; it may
// draw its own noise from rng (the solver's generator for the trial).
using Field = std::function<double(int i, std::span<const std::int8_t> s, std::mt19937_64& rng)>;

// The exact field of the graph's W = −A (the graph is copied into the Field).
Field exact_field(const Graph& graph);

struct HopfieldOptions {
  enum class Schedule { linear, exponential, constant };
  // permutation: each sweep updates every neuron once, in a fresh random order
  // (so a noise-free sweep without a flip proves a local minimum); random: each
  // update picks a neuron uniformly, with repetition.
  enum class Order { permutation, random };

  int trials = 100;
  int sweeps = 15;  // updates per trial = sweeps · n
  // σ at the first and the last update of a trial, in units of field_scale.
  // linear: start + (end − start)·f; exponential: start·(end/start)^f
  // (both > 0, or both 0); constant: start throughout. f = u / (U − 1) for
  // update u of U.
  double noise_start = 0;
  double noise_end = 0;
  Schedule schedule = Schedule::linear;
  Order order = Order::permutation;
  // Trial k draws from an mt19937_64 seeded by std::seed_seq{low and high 32
  // bits of seed, k}: trials are independent and each reproducible alone.
  std::uint64_t seed = 1;
  // The known maximum cut; when absent and n ≤ 24 the solver computes it by
  // brute force, else success is not judged.
  std::optional<double> optimum;
  int traced_trials = 1;  // energy traces for the first traced_trials trials
};

struct HopfieldTrial {
  double final_cut = 0, final_energy = 0;
  double best_cut = 0;  // the largest cut of any state the trial passed through, the start included
  long long updates_to_best = 0;  // updates until best_cut was first reached (0: the starting state)
  bool final_optimal = false, best_optimal = false;  // false when no optimum is known
};

struct HopfieldRun {
  std::vector<HopfieldTrial> trials;
  std::optional<double> optimum;
  long long updates_per_trial = 0;
  double best_cut = 0;  // over all trials
  // Per traced trial: E of the random start, then E after each sweep (sweeps + 1 values).
  std::vector<std::vector<double>> energy_traces;
  // With a known optimum. success_rate: the share of trials whose final state is
  // optimal, the ground state Cai reports reaching: the hardware reads its state
  // at the end of a trial and cannot tell a better one it passed. best_seen_rate:
  // the share that passed through an optimal state at some update.
  std::optional<double> success_rate, best_seen_rate;
  // Mean updates_to_best over the trials that passed through an optimal state.
  std::optional<double> mean_updates_to_solution;
};

// One asynchronous update, for observers that check the dynamics step by step.
struct HopfieldUpdate {
  int trial = 0;
  long long update = 0;  // 1-based within the trial
  int neuron = 0;
  double field = 0;  // what the Field returned
  double sigma = 0;  // the schedule's σ at this update, times field_scale
  double noise = 0;  // ηᵢ ~ N(0, sigma), added by the solver
  bool flipped = false;  // field + noise of the other sign than sᵢ; exactly 0 keeps sᵢ
  std::span<const std::int8_t> state;  // after the update
};
using UpdateObserver = std::function<void(const HopfieldUpdate&)>;

// Runs options.trials trials from uniformly random starts. Throws
// std::invalid_argument for an invalid graph (node out of range, self loop) or
// options (negative counts or noise, an exponential schedule through 0).
HopfieldRun solve(const Graph& graph, const HopfieldOptions& options, const Field& field,
                  const UpdateObserver& observer = {});

// Repeats of a trial needed to reach the optimum with 99 % confidence:
// ln(0.01) / ln(1 − p), at least 1 (a trial has to run once); infinite for p = 0.
double repeats_to_solution_99(double success_rate);

// Time and energy to solution at 99 % confidence: one trial's time and energy
// (updates_per_trial times the caller's cost of an update) times the repeats.
// Throws std::invalid_argument when the run has no success rate (no optimum).
struct ToSolution {
  double seconds = 0;
  double joules = 0;
};
ToSolution to_solution_99(const HopfieldRun& run, double seconds_per_update, double joules_per_update);

}  // namespace dlc::simulator
