// What GPUs this process can see. Compiled against CUDA when the build has
// nvcc (DLC_CUDA); otherwise it says that CUDA support is not built. Errors
// are returned as text, never thrown: no GPU is a normal situation.
#pragma once

#include <string>
#include <vector>

namespace dlc::runtime {

struct GpuInfo {
  std::string name;
  int major = 0, minor = 0;  // compute capability
  std::size_t memory_bytes = 0;
  int multiprocessors = 0;
};

struct GpuProbe {
  bool cuda_built = false;   // this binary was built with CUDA
  std::vector<GpuInfo> gpus; // empty when none is usable
  std::string reason;        // why none is usable ("no CUDA driver", ...)
};

GpuProbe probe_gpus();

}  // namespace dlc::runtime
