// This machine as a dlc device (dlc run --describe-device): what the OS says
// (model, cores, memory) and what three short benchmarks measure, each one the
// textbook way to get its figure:
//
//   clock            a chain of dependent integer adds, 1 cycle each:
//                    clock = adds / seconds
//   FLOP per cycle   independent FMA chains on every core (enough accumulators
//                    to cover FMA latency x FMA units): per core FLOP/s / clock,
//                    rounded to the nearest power of two (2 units x 16 lanes x 2)
//   peak fp32        cores x FLOP per cycle x clock
//   bandwidth        STREAM triad a[i] = b[i] + s * c[i] over arrays far larger
//                    than the last-level cache, 24 B per element, best of 5
//
// Clock and FMA rates count the best window of a fraction of a millisecond:
// a build sharing the cores takes whole time slices, so some windows run
// undisturbed, and none can run faster than the hardware. One thread per core,
// each pinned to its own CPU. The whole description takes about half a second.
#pragma once

#include <string>

namespace dlc::runtime::cpu {

struct MachineInfo {
  std::string cpu_model;            // /proc/cpuinfo "model name"
  std::string vendor;               // from /proc/cpuinfo "vendor_id": "AMD", "Intel"
  int cores = 0;                    // usable by this process (sched_getaffinity), or the thread count asked for
  std::string isa;                  // best vector ISA, then flags: "avx512 fma avx512_bf16", "avx2 fma", "sse4.2"
  int vector_lanes_fp32 = 0;        // 16, 8, 4
  double clock_hz = 0;              // measured: a dependent chain of integer adds (1 cycle each)
  double flops_per_cycle_core = 0;  // measured FMA throughput per core / clock, rounded to a power of two
  double peak_fp32 = 0;             // FLOP/s: cores x flops_per_cycle_core x clock_hz
  double measured_fp32 = 0;         // FLOP/s the FMA loop reached on all cores together
  double memory_bandwidth = 0;      // B/s: STREAM triad over all cores, best of 5
  double memory_bytes = 0;          // B: MemTotal
  std::string log;                  // how each figure was obtained, one line each
};

// The peak FLOP per cycle and core a measured rate implies: the smallest
// power of two the measurement does not exceed by more than 10 % (the
// clock's measurement error; a peak is never below what was measured, and a
// slow measurement, under sanitizers or load, rounds up, not down): 60.8 ->
// 64, 35 -> 32, 2.36 -> 4.
double peak_flops_per_cycle(double measured);

// Measures this machine with `threads` threads (0: every core this process may
// run on). Takes about 0.5 s; never prints.
MachineInfo describe_machine(int threads = 0);

// What runs a benchmark here, for its record: the processor's model name and
// the instruction set oneDNN dispatches to ("AMD EPYC, oneDNN avx512_core").
// Cheap: reads /proc/cpuinfo, measures nothing.
std::string machine_name();

// The text of a .dlc file declaring `name` (a dlc name, e.g. LocalCPU) as a
// cpu device with m's figures; the peak is written as the product
// cores * FLOP per cycle * clock so that a reader sees where it comes from.
std::string device_spec(const MachineInfo& m, const std::string& name = "LocalCPU");

}  // namespace dlc::runtime::cpu
