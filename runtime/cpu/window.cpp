#include "runtime/cpu/window.hpp"

#include <algorithm>

namespace dlc::runtime::cpu {

namespace {
std::vector<std::int64_t> per_dim(const compiler::PlanOp& op, std::string_view name, std::size_t rank,
                                  std::int64_t otherwise) {
  int i = op.def->param_index(name);
  if (i < 0) return std::vector<std::int64_t>(rank, otherwise);
  const auto& v = op.args.attrs.at(i).ints;
  if (v.empty()) return std::vector<std::int64_t>(rank, otherwise);
  return v.size() == 1 ? std::vector<std::int64_t>(rank, v[0]) : v;
}
}  // namespace

Window layer_window(const compiler::PlanOp& op, const compiler::Shape& in, const compiler::Shape& out) {
  std::size_t rank = in.size() - 1;
  Window w;
  if (op.op == "global_avgpool") {
    w.kernel.assign(in.begin() + 1, in.end());
    w.stride = w.kernel;
    w.pad_l.assign(rank, 0);
    w.dilation.assign(rank, 1);
  } else {
    w.kernel = per_dim(op, "kernel", rank, 1);
    bool pool = op.op != "conv";
    // Pooling's stride defaults to its kernel.
    int s = op.def->param_index("stride");
    w.stride = pool && !op.args.attrs.at(s).given ? w.kernel : per_dim(op, "stride", rank, 1);
    w.pad_l = per_dim(op, "pad", rank, 0);
    w.dilation = pool ? std::vector<std::int64_t>(rank, 1) : per_dim(op, "dilation", rank, 1);
  }
  for (std::size_t i = 0; i < rank; ++i) {
    std::int64_t o = op.op == "global_avgpool" ? 1 : out[i + 1];
    std::int64_t span = (w.kernel[i] - 1) * w.dilation[i] + 1;
    w.pad_r.push_back(std::max<std::int64_t>(0, (o - 1) * w.stride[i] + span - in[i + 1] - w.pad_l[i]));
  }
  return w;
}

}  // namespace dlc::runtime::cpu
