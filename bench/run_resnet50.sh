#!/usr/bin/env bash
# dlc run against Debian's PyTorch on the same machine, in one session:
# ResNet-50 f32 inference, batch 16, 2 threads (issue 5's speed target), and
# how close dlc's 3x3 convolutions get to the machine's peak.
#   bench/run_resnet50.sh [build/bin/dlc]
# Needs python3-torch and python3-torchvision (not a dependency of dlc).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dlc="${1:-$here/../build/bin/dlc}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$dlc" run --describe-device -o "$tmp/device.dlc" 2>/dev/null
cat > "$tmp/bench.dlc" <<'DLC'
import std.models
import "device.dlc"
experiment resnet50_infer { model = ResNet50; system = LocalCPU; batch = 16 per device; precision = fp32; phase = inference }
DLC
peak=$(sed -n 's/.*peak fp32 \([0-9.]*\) GFLOP\/s.*/\1/p' "$tmp/device.dlc" | head -1)
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), peak fp32 ${peak} GFLOP/s (dlc run --describe-device)"

"$dlc" run "$tmp/bench.dlc" --threads 2 --warmup 3 --iters 10 --format json -o "$tmp/dlc.json" 2>/dev/null
/usr/bin/python3 - "$tmp/dlc.json" "$peak" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); peak = float(sys.argv[2]) * 1e9
t = r["totals"]
print(f"dlc run: {t['samples_per_s']:.1f} images/s (median step {t['iteration_s'] * 1e3:.1f} ms)")
# 3x3 convolutions: FLOPs / measured time against the peak.
flops = secs = 0.0
for l in r["layers"]:
    if l["op"] == "conv" and l.get("work"):
        if "conv2" in l["name"] and l["name"].startswith("stage"):  # the bottlenecks' 3x3 convolutions
            flops += 2 * l["work"]["macs_forward"] * r["batch"]
            secs += l["forward_s"]
print(f"3x3 convolutions: {flops / secs / 1e9:.1f} GFLOP/s = {100 * flops / secs / peak:.1f}% of peak")
PY
/usr/bin/python3 "$here/pytorch_resnet50.py" --batch 16 --threads 2
/usr/bin/python3 "$here/pytorch_resnet50.py" --batch 16 --threads 2 --channels-last
