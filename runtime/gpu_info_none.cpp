#include "runtime/gpu_info.hpp"

namespace dlc::runtime {

GpuProbe probe_gpus() {
  GpuProbe p;
  p.reason = "this dlc was built without CUDA (nvcc was not found at build time)";
  return p;
}

}  // namespace dlc::runtime
