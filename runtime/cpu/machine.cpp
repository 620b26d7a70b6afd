#include "runtime/cpu/machine.hpp"

#include <sched.h>
#include <sys/mman.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <latch>
#include <oneapi/dnnl/dnnl.hpp>
#include <sstream>
#include <thread>
#include <vector>

namespace dlc::runtime::cpu {

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// --- What the OS says ---------------------------------------------------------

// The value of the first "key : value" line of /proc/cpuinfo or /proc/meminfo.
std::string proc_field(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string k = line.substr(0, colon);
    while (!k.empty() && (k.back() == ' ' || k.back() == '\t')) k.pop_back();
    if (k != key) continue;
    std::size_t v = line.find_first_not_of(" \t", colon + 1);
    return v == std::string::npos ? "" : line.substr(v);
  }
  return "";
}

std::vector<int> usable_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  return cpus;
}

bool has_flag(const std::string& flags, const std::string& flag) {
  std::istringstream in(flags);
  std::string f;
  while (in >> f)
    if (f == flag) return true;
  return false;
}

// --- Threads: one per core, pinned, started together ---------------------------

// Runs body(t) on `n` threads, thread t pinned to cpus[t % size] when there are
// cpus, and returns when all have finished.
void on_threads(int n, const std::vector<int>& cpus, const std::function<void(int)>& body) {
  std::latch ready(n);
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      if (!cpus.empty()) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpus[t % cpus.size()], &set);
        sched_setaffinity(0, sizeof set, &set);  // this thread only; failure just leaves it unpinned
      }
      ready.arrive_and_wait();
      body(t);
    });
  }
  for (std::thread& th : threads) th.join();
}

// Time stamps taken by a barrier's completion step: the moment every thread
// has arrived, once per phase.
struct Stamps {
  std::vector<Clock::time_point> at;
  void operator()() noexcept { at.push_back(Clock::now()); }
};

// --- Clock: a chain of dependent 1-cycle adds -----------------------------------

constexpr int kAddsPerBlock = 200;

// The asm is volatile, so the chain runs even though its result is not used.
std::uint64_t add_chain(std::uint64_t blocks) {
  std::uint64_t x = 0;
  for (std::uint64_t i = 0; i < blocks; ++i) {
#if defined(__x86_64__)
    asm volatile(".rept 200\n\taddq $1, %0\n\t.endr" : "+r"(x));
#else
    for (int k = 0; k < kAddsPerBlock; ++k) {
      x += 1;
      asm volatile("" : "+r"(x));  // one add at a time, in order
    }
#endif
  }
  return x;
}

// Rates are taken over short windows (a fraction of a millisecond) and the
// best window counts: another process that shares the cores (a build) takes
// whole time slices of several milliseconds, so some windows run undisturbed,
// while no window can run faster than the hardware.
struct Rate {
  double best = 0;  // per second, the best window
  double mean = 0;  // per second, over the whole run
};

// Adds per second on one core, after a short warm-up that lets the clock ramp.
Rate chain_rate(double warmup_s, double measure_s) {
  constexpr std::uint64_t kChunk = 5000;  // 1M adds: a window of about 0.3 ms
  Clock::time_point start = Clock::now();
  while (seconds(start, Clock::now()) < warmup_s) add_chain(kChunk);
  Rate r;
  double adds = 0;
  start = Clock::now();
  Clock::time_point now = start;
  while (seconds(start, now) < measure_s) {
    Clock::time_point before = now;
    add_chain(kChunk);
    now = Clock::now();
    adds += kChunk * kAddsPerBlock;
    r.best = std::max(r.best, kChunk * kAddsPerBlock / seconds(before, now));
  }
  r.mean = adds / seconds(start, now);
  return r;
}

// --- FMA throughput: independent accumulator chains -----------------------------

// Each kernel runs `iters` iterations of `kAcc` independent FMAs acc = acc * m + c
// (the accumulators converge to c / (1 - m) = 1, so they stay finite) and
// returns their sum, which the caller keeps, so nothing can be deleted.
struct FmaKernel {
  const char* name;
  int lanes;
  int accumulators;
  float (*run)(std::int64_t iters);
  double flops_per_iter() const { return 2.0 * lanes * accumulators; }
};

#define DLC_REP4(X) X(0) X(1) X(2) X(3)
#define DLC_REP8(X) DLC_REP4(X) X(4) X(5) X(6) X(7)
#define DLC_REP12(X) DLC_REP8(X) X(8) X(9) X(10) X(11)
#define DLC_REP16(X) DLC_REP12(X) X(12) X(13) X(14) X(15)

#if defined(__x86_64__)

// 16 zmm accumulators: covers 4-cycle latency x 2 FMA units twice over.
__attribute__((target("avx512f"))) float fma_avx512(std::int64_t iters) {
  const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
#define DLC_DECL(i) __m512 a##i = _mm512_set1_ps(1.0f + 0.01f * i);
#define DLC_STEP(i) a##i = _mm512_fmadd_ps(a##i, m, c);
#define DLC_SUM(i) s = _mm512_add_ps(s, a##i);
  DLC_REP16(DLC_DECL)
  for (std::int64_t k = 0; k < iters; ++k) {
    DLC_REP16(DLC_STEP)
  }
  __m512 s = _mm512_setzero_ps();
  DLC_REP16(DLC_SUM)
#undef DLC_DECL
#undef DLC_STEP
#undef DLC_SUM
  alignas(64) float out[16];  // not _mm512_reduce_add_ps: GCC 12 warns inside it
  _mm512_store_ps(out, s);
  float r = 0;
  for (float v : out) r += v;
  return r;
}

// 12 ymm accumulators (of 16 registers): covers 4-5 cycle latency x 2 units.
__attribute__((target("avx2,fma"))) float fma_avx2(std::int64_t iters) {
  const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
#define DLC_DECL(i) __m256 a##i = _mm256_set1_ps(1.0f + 0.01f * i);
#define DLC_STEP(i) a##i = _mm256_fmadd_ps(a##i, m, c);
#define DLC_SUM(i) s = _mm256_add_ps(s, a##i);
  DLC_REP12(DLC_DECL)
  for (std::int64_t k = 0; k < iters; ++k) {
    DLC_REP12(DLC_STEP)
  }
  __m256 s = _mm256_setzero_ps();
  DLC_REP12(DLC_SUM)
#undef DLC_DECL
#undef DLC_STEP
#undef DLC_SUM
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  float r = 0;
  for (float v : out) r += v;
  return r;
}

#endif

// 12 accumulators of 4 lanes, multiply then add (2 FLOP): SSE, or whatever
// the compiler makes of GCC vector types on another architecture.
float fma_sse(std::int64_t iters) {
  typedef float v4 __attribute__((vector_size(16)));
  const v4 m = {0.999f, 0.999f, 0.999f, 0.999f}, c = {0.001f, 0.001f, 0.001f, 0.001f};
#define DLC_DECL(i) v4 a##i = {1.0f, 1.0f, 1.0f, 1.0f + 0.01f * i};
#define DLC_STEP(i) a##i = a##i * m + c;
#define DLC_SUM(i) s += a##i;
  DLC_REP12(DLC_DECL)
  for (std::int64_t k = 0; k < iters; ++k) {
    DLC_REP12(DLC_STEP)
  }
  v4 s = {0, 0, 0, 0};
  DLC_REP12(DLC_SUM)
#undef DLC_DECL
#undef DLC_STEP
#undef DLC_SUM
  return s[0] + s[1] + s[2] + s[3];
}

FmaKernel best_fma_kernel() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512f", 16, 16, fma_avx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {"avx2 fma", 8, 12, fma_avx2};
#endif
  return {"sse", 4, 12, fma_sse};
}

struct FmaResult {
  double best = 0;  // FLOP/s: the sum over threads of each one's best window
  double mean = 0;  // FLOP/s: all FLOPs over the time from the common start to the last thread's end
  double seconds = 0;
};

// Every thread runs the kernel in windows of about 0.2 ms until the deadline.
FmaResult fma_rate(const FmaKernel& k, int threads, const std::vector<int>& cpus, double warmup_s, double measure_s) {
  constexpr std::int64_t kIters = 100'000;
  const double window_flops = kIters * k.flops_per_iter();
  std::vector<double> flops(threads, 0.0), best(threads, 0.0);
  std::vector<float> sinks(threads, 0.0f);
  Stamps stamps;
  std::barrier sync(threads, std::ref(stamps));
  Clock::time_point deadline;
  on_threads(threads, cpus, [&](int t) {
    float sink = 0;
    Clock::time_point warm_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                    std::chrono::duration<double>(warmup_s));
    while (Clock::now() < warm_end) sink += k.run(kIters);
    sync.arrive_and_wait();  // stamp 0: the start
    if (t == 0) {
      deadline = stamps.at[0] + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(measure_s));
    }
    sync.arrive_and_wait();  // deadline is set
    double done = 0, top = 0;
    for (Clock::time_point now = Clock::now(); now < deadline;) {
      Clock::time_point before = now;
      sink += k.run(kIters);
      now = Clock::now();
      done += window_flops;
      top = std::max(top, window_flops / seconds(before, now));
    }
    sync.arrive_and_wait();  // stamp 2: the last thread's end
    flops[t] = done;
    best[t] = top;
    sinks[t] = sink;
  });
  FmaResult r;
  r.seconds = seconds(stamps.at[0], stamps.at[2]);
  for (int t = 0; t < threads; ++t) {
    r.mean += flops[t] / r.seconds;
    r.best += best[t];
  }
  float total = 0;
  for (float s : sinks) total += s;
  if (!std::isfinite(total)) r.best = r.mean = 0;  // the sums are used, so the loops stay
  return r;
}

// --- STREAM triad ----------------------------------------------------------------

#if defined(__x86_64__)
__attribute__((target("avx512f"))) void triad_avx512(double* a, const double* b, const double* c, double s,
                                                     std::size_t n) {
  const __m512d sv = _mm512_set1_pd(s);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm512_store_pd(a + i, _mm512_add_pd(_mm512_load_pd(b + i), _mm512_mul_pd(sv, _mm512_load_pd(c + i))));
  for (; i < n; ++i) a[i] = b[i] + s * c[i];
}

__attribute__((target("avx2"))) void triad_avx2(double* a, const double* b, const double* c, double s,
                                                std::size_t n) {
  const __m256d sv = _mm256_set1_pd(s);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm256_store_pd(a + i, _mm256_add_pd(_mm256_load_pd(b + i), _mm256_mul_pd(sv, _mm256_load_pd(c + i))));
  for (; i < n; ++i) a[i] = b[i] + s * c[i];
}
#endif

void triad_plain(double* __restrict a, const double* __restrict b, const double* __restrict c, double s,
                 std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

using TriadFn = void (*)(double*, const double*, const double*, double, std::size_t);

TriadFn best_triad() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return triad_avx512;
  if (__builtin_cpu_supports("avx2")) return triad_avx2;
#endif
  return triad_plain;
}

// Three arrays mapped (not malloc'd, so they are not recycled half-touched),
// with huge pages where the kernel allows: first touch is slow on these VMs.
struct Arrays {
  static constexpr std::size_t kBytes = std::size_t{64} << 20;  // each
  double* p[3] = {nullptr, nullptr, nullptr};
  bool ok = true;
  Arrays() {
    for (double*& q : p) {
      void* m = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) {
        ok = false;
        continue;
      }
      madvise(m, kBytes, MADV_HUGEPAGE);  // a hint; failure is fine
      q = static_cast<double*>(m);
    }
  }
  ~Arrays() {
    for (double* q : p)
      if (q) munmap(q, kBytes);
  }
  Arrays(const Arrays&) = delete;
  Arrays& operator=(const Arrays&) = delete;
};

struct TriadResult {
  double best = 0;  // B/s, counting 3 x 8 B per element (STREAM's convention)
  double touch_s = 0;
  int reps = 0;
};

TriadResult triad_rate(int threads, const std::vector<int>& cpus, int reps) {
  TriadResult r;
  Arrays arrays;
  if (!arrays.ok) return r;
  const std::size_t n = Arrays::kBytes / sizeof(double);
  // Each thread's share is a multiple of 8 elements (64 B), so every slice is aligned.
  const std::size_t share = (n / threads) / 8 * 8;
  const TriadFn triad = best_triad();
  Stamps stamps;
  std::barrier sync(threads, std::ref(stamps));
  on_threads(threads, cpus, [&](int t) {
    const std::size_t lo = t * share, hi = t + 1 == threads ? n : lo + share;
    double *a = arrays.p[0] + lo, *b = arrays.p[1] + lo, *c = arrays.p[2] + lo;
    sync.arrive_and_wait();  // stamp 0
    for (std::size_t i = 0; i < hi - lo; ++i) {  // first touch, by the thread that uses the pages
      a[i] = 0.0;
      b[i] = 1.0;
      c[i] = 2.0;
    }
    for (int k = 0; k < reps; ++k) {
      sync.arrive_and_wait();  // stamps 1 .. reps: each repetition's start
      triad(a, b, c, 3.0, hi - lo);
    }
    sync.arrive_and_wait();  // the last repetition's end
  });
  r.touch_s = seconds(stamps.at[0], stamps.at[1]);
  const double bytes = 3.0 * sizeof(double) * static_cast<double>(n);
  for (int k = 1; k <= reps; ++k) r.best = std::max(r.best, bytes / seconds(stamps.at[k], stamps.at[k + 1]));
  r.reps = reps;
  // a = b + 3c = 7 everywhere: a wrong answer means the figure is wrong.
  if (arrays.p[0][0] != 7.0 || arrays.p[0][n - 1] != 7.0) r.best = 0;
  return r;
}

// --- ISA ------------------------------------------------------------------------

std::string isa_string(const std::string& flags, int* lanes) {
  std::string isa = "scalar";
  *lanes = 4;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    isa = "avx512", *lanes = 16;
  } else if (__builtin_cpu_supports("avx2")) {
    isa = "avx2", *lanes = 8;
  } else if (__builtin_cpu_supports("sse4.2")) {
    isa = "sse4.2", *lanes = 4;
  }
  if (__builtin_cpu_supports("fma")) isa += " fma";
#endif
  for (const char* f : {"avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8"}) {
    if (has_flag(flags, f)) isa += std::string(" ") + f;
  }
  return isa;
}

std::string vendor_name(const std::string& vendor_id) {
  if (vendor_id == "AuthenticAMD") return "AMD";
  if (vendor_id == "GenuineIntel") return "Intel";
  return vendor_id;
}


// "3.49 GHz"-style text without trailing noise.
std::string fixed(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

// A number as the language reads it: integers without a point.
std::string number(double v) {
  if (v == std::round(v) && std::abs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

// A dlc string literal: only '"' and '\' need a backslash.
std::string quoted(const std::string& s) {
  std::string r = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') r += '\\';
    r += ch;
  }
  return r + "\"";
}

// A dlc name: letters, digits and '_', not starting with a digit.
std::string dlc_name(const std::string& s) {
  std::string r;
  for (char ch : s) r += std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' ? ch : '_';
  if (r.empty() || std::isdigit(static_cast<unsigned char>(r[0]))) r = "_" + r;
  return r;
}

}  // namespace

std::string machine_name() {
  std::string model = proc_field("/proc/cpuinfo", "model name");
  const char* isa = "unknown ISA";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: isa = "sse41"; break;
    case dnnl::cpu_isa::avx: isa = "avx"; break;
    case dnnl::cpu_isa::avx2: isa = "avx2"; break;
    case dnnl::cpu_isa::avx2_vnni: isa = "avx2_vnni"; break;
    case dnnl::cpu_isa::avx512_mic: isa = "avx512_mic"; break;
    case dnnl::cpu_isa::avx512_mic_4ops: isa = "avx512_mic_4ops"; break;
    case dnnl::cpu_isa::avx512_core: isa = "avx512_core"; break;
    case dnnl::cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
    case dnnl::cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
    case dnnl::cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
    default: break;
  }
  return fmt::format("{}, oneDNN {}", model.empty() ? "unknown cpu" : model, isa);
}

double peak_flops_per_cycle(double measured) {
  return measured > 0 ? std::exp2(std::ceil(std::log2(measured / 1.1))) : 0;
}

MachineInfo describe_machine(int threads) {
  MachineInfo m;
  const std::string flags = proc_field("/proc/cpuinfo", "flags");
  m.cpu_model = proc_field("/proc/cpuinfo", "model name");
  m.vendor = vendor_name(proc_field("/proc/cpuinfo", "vendor_id"));
  std::vector<int> cpus = usable_cpus();
  const int usable = cpus.empty() ? std::max(1u, std::thread::hardware_concurrency()) : static_cast<int>(cpus.size());
  m.cores = threads > 0 ? threads : usable;
  m.isa = isa_string(flags, &m.vector_lanes_fp32);
  m.log += fmt::format("cpu: {} ({}), /proc/cpuinfo model name and vendor_id\n", m.cpu_model, m.vendor);
  m.log += fmt::format("cores: {}, {}\n", m.cores,
                       threads > 0 ? fmt::format("as asked ({} usable by sched_getaffinity)", usable)
                                   : std::string("usable by this process (sched_getaffinity)"));
  m.log += fmt::format("isa: {}, {} fp32 lanes (__builtin_cpu_supports, /proc/cpuinfo flags)\n", m.isa,
                       m.vector_lanes_fp32);

  // Clock: every core runs the add chain at once, so the figure is the
  // all-core clock under load; the mean over cores.
  constexpr double kClockWarmup = 0.01, kClockTime = 0.05;
  std::vector<Rate> rates(m.cores);
  on_threads(m.cores, cpus, [&](int t) { rates[t] = chain_rate(kClockWarmup, kClockTime); });
  double clock_mean = 0;
  for (const Rate& r : rates) {
    m.clock_hz += r.best / m.cores;
    clock_mean += r.mean / m.cores;
  }
  m.log += fmt::format(
      "clock: {} GHz, {} thread(s) x {:.0f} ms of dependent 1-cycle integer adds, best 0.3 ms window per core, "
      "mean of cores (over the whole run: {} GHz)\n",
      fixed(m.clock_hz / 1e9, 3), m.cores, kClockTime * 1e3, fixed(clock_mean / 1e9, 3));

  // FMA throughput on all cores.
  const FmaKernel kernel = best_fma_kernel();
  FmaResult fma = fma_rate(kernel, m.cores, cpus, 0.01, 0.1);
  m.measured_fp32 = fma.best;
  const double per_cycle = m.clock_hz > 0 ? fma.best / m.cores / m.clock_hz : 0;
  m.flops_per_cycle_core = peak_flops_per_cycle(per_cycle);
  m.peak_fp32 = m.cores * m.flops_per_cycle_core * m.clock_hz;
  m.log += fmt::format(
      "fp32: {:.1f} GFLOP/s measured, {} thread(s) x {:.0f} ms of {} independent {}-lane FMA chains ({}), "
      "sum of each thread's best 0.2 ms window (over the whole run: {:.1f}); {:.2f} FLOP/cycle/core, rounded to {}\n",
      fma.best / 1e9, m.cores, fma.seconds * 1e3, kernel.accumulators, kernel.lanes, kernel.name, fma.mean / 1e9,
      per_cycle, number(m.flops_per_cycle_core));
  m.log += fmt::format("peak fp32: {:.1f} GFLOP/s = {} core{} x {} FLOP/cycle x {} GHz\n", m.peak_fp32 / 1e9, m.cores,
                       m.cores == 1 ? "" : "s", number(m.flops_per_cycle_core), fixed(m.clock_hz / 1e9, 3));

  // Memory bandwidth.
  TriadResult triad = triad_rate(m.cores, cpus, 5);
  m.memory_bandwidth = triad.best;
  m.log += fmt::format(
      "memory_bandwidth: {:.1f} GB/s, STREAM triad a = b + s*c (fp64, 3 x {} MiB, 24 B per element), {} thread(s), "
      "best of {} after first touch by the same threads ({:.0f} ms)\n",
      triad.best / 1e9, Arrays::kBytes >> 20, m.cores, triad.reps, triad.touch_s * 1e3);

  const std::string mem = proc_field("/proc/meminfo", "MemTotal");  // "24683656 kB"
  m.memory_bytes = std::atof(mem.c_str()) * 1024.0;
  m.log += fmt::format("memory: {:.1f} GiB, /proc/meminfo MemTotal\n", m.memory_bytes / (1u << 30));
  return m;
}

std::string device_spec(const MachineInfo& m, const std::string& name) {
  char date[32] = "";
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (gmtime_r(&now, &tm)) std::strftime(date, sizeof date, "%Y-%m-%d", &tm);

  const std::string ghz = fixed(m.clock_hz / 1e9, 2);
  const std::string fp32 = number(m.flops_per_cycle_core);
  const std::string fp64 = number(m.flops_per_cycle_core / 2);  // half the lanes
  std::string s;
  s += fmt::format("// {}: {}, {} cores, {}.\n", name, m.cpu_model.empty() ? "unknown cpu" : m.cpu_model, m.cores,
                   m.isa);
  s += fmt::format("// Measured on {} (peak fp32 {:.1f} GFLOP/s, the FMA loop reached {:.1f}):\n", date,
                   m.peak_fp32 / 1e9, m.measured_fp32 / 1e9);
  std::istringstream log(m.log);
  for (std::string line; std::getline(log, line);) s += "//   " + line + "\n";
  s += "// fp64 peak: half the fp32 lanes at the same FMA rate.\n";
  s += "// Written by dlc run --describe-device; calibrate it with dlc calibrate.\n";
  s += fmt::format("device {} {{\n", dlc_name(name));
  s += "  kind = cpu\n";
  if (!m.vendor.empty()) s += fmt::format("  vendor = {}\n", quoted(m.vendor));
  s += fmt::format("  cores = {}\n", m.cores);
  s += fmt::format("  clock = {} GHz\n", ghz);
  s += fmt::format("  peak {{ fp32 = {} * {} FLOP * {} GHz; fp64 = {} * {} FLOP * {} GHz }}\n", m.cores, fp32, ghz,
                   m.cores, fp64, ghz);
  s += fmt::format("  memory = {} GiB\n", fixed(m.memory_bytes / (1u << 30), 1));
  s += fmt::format("  memory_bandwidth = {} GB/s\n", fixed(m.memory_bandwidth / 1e9, 1));
  s += "  launch_overhead = 1 us\n";
  s += "}\n";
  return s;
}

}  // namespace dlc::runtime::cpu
