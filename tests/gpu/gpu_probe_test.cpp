// GPU discovery. Where no GPU is usable (no driver, no device, or a build
// without CUDA) the test is skipped with the reason; where one is, its
// properties must be sane.
#include <cstdio>

#include "runtime/gpu_info.hpp"

int main() {
  constexpr int kSkip = 77;  // ctest's SKIP_RETURN_CODE
  dlc::runtime::GpuProbe probe = dlc::runtime::probe_gpus();
  if (probe.gpus.empty()) {
    std::printf("skipped: no GPU test can run here: %s\n", probe.reason.c_str());
    return probe.reason.empty() ? 1 : kSkip;  // an empty reason would be a bug
  }
  int failures = 0;
  for (const dlc::runtime::GpuInfo& g : probe.gpus) {
    std::printf("GPU: %s, compute capability %d.%d, %zu bytes, %d SMs\n", g.name.c_str(), g.major, g.minor,
                g.memory_bytes, g.multiprocessors);
    if (g.name.empty() || g.major < 1 || g.memory_bytes == 0 || g.multiprocessors < 1) ++failures;
  }
  return failures == 0 ? 0 : 1;
}
