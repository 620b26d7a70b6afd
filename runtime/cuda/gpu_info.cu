// GPU discovery through the CUDA runtime. With no driver (error 35) or no
// device (error 100) there is simply no GPU; every failure is reported as a
// reason, not an exception.
#include <cuda_runtime.h>

#include <string>

#include "runtime/gpu_info.hpp"

namespace dlc::runtime {

GpuProbe probe_gpus() {
  GpuProbe p;
  p.cuda_built = true;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    p.reason = std::string("no usable GPU: ") + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error
    return p;
  }
  if (count == 0) {
    p.reason = "no GPU found";
    return p;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    GpuInfo g;
    g.name = prop.name;
    g.major = prop.major;
    g.minor = prop.minor;
    g.memory_bytes = prop.totalGlobalMem;
    g.multiprocessors = prop.multiProcessorCount;
    p.gpus.push_back(g);
  }
  if (p.gpus.empty()) p.reason = "GPUs found but none could be queried";
  return p;
}

}  // namespace dlc::runtime
