#!/usr/bin/env bash
# ResNet's 3x3 convolutions alone (batch 16, inference, 2 threads), each as
# a one-layer model, against the peak dlc run --describe-device measures:
# what oneDNN's kernels reach per map size, without the rest of a network
# around them.  bench/conv3x3.sh [build/bin/dlc]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dlc="$(realpath "${1:-$here/../build/bin/dlc}")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$dlc" run --describe-device -o "$tmp/device.dlc" 2>/dev/null
{
  echo 'import "device.dlc"'
  for s in "64 56" "128 28" "256 14" "512 7"; do
    set -- $s
    echo "model C$2 { input x: f32[$1, $2, $2]; output conv(x, $1, kernel = 3, pad = 1, bias = false) }"
    echo "experiment c$2 { model = C$2; system = LocalCPU; batch = 16 per device; precision = fp32; phase = inference }"
  done
} > "$tmp/convs.dlc"
for e in c56 c28 c14 c7; do
  "$dlc" run "$tmp/convs.dlc" --experiment $e --threads 2 --warmup 3 --iters 20 --format json -o "$tmp/$e.json" 2>/dev/null
  /usr/bin/env python3 - "$tmp/$e.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l = next(l for l in r["layers"] if l["op"] == "conv")
flops = 2 * l["work"]["macs_forward"] * r["batch"]
print(f"{r['model']}: {flops / l['forward_s'] / 1e9:.1f} GFLOP/s = {100 * flops / l['forward_s'] / r['device_model']['peak']:.1f}% of peak")
PY
done
