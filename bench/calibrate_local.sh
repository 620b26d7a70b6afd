#!/usr/bin/env bash
# Issue 5's accuracy benchmark: measure the eight experiments of
# examples/local_cpu.dlc in three interleaved rounds (a shared machine slows
# down for minutes at a time; per experiment the round with the fastest step
# is kept), calibrate on VGG-16 and ResNet-18, and compare the predictions
# for ResNet-50 and GoogLeNet, uncalibrated and calibrated, with what was
# measured. Writes examples/local_cpu/calibrated.dlc; the records in $out.
#   bench/calibrate_local.sh [build/bin/dlc] [out dir]
set -euo pipefail
cd "$(dirname "$0")/.."
dlc="$(realpath "${1:-build/bin/dlc}")"
out="${2:-$(mktemp -d)}"
mkdir -p "$out"
experiments="vgg16_train vgg16_infer resnet18_train resnet18_infer resnet50_train resnet50_infer googlenet_train googlenet_infer"
step() { /usr/bin/env python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['totals']['iteration_s'])" "$1"; }
for round in 1 2 3; do
  for e in $experiments; do
    iters=10; [ $e = vgg16_train ] && iters=3; [ $e = vgg16_infer ] && iters=5
    "$dlc" run examples/local_cpu.dlc --experiment $e --warmup 1 --iters $iters --format json -o "$out/r$round.$e.json" 2>/dev/null
    echo "round $round $e: step $(step "$out/r$round.$e.json") s"
  done
done
for e in $experiments; do
  best=$(for r in 1 2 3; do echo "$(step "$out/r$r.$e.json") $r"; done | sort -g | head -1 | cut -d' ' -f2)
  cp "$out/r$best.$e.json" "$out/$e.json"
done
"$dlc" calibrate $out/vgg16_*.json $out/resnet18_*.json --device LocalCPUCalibrated -o examples/local_cpu/calibrated.dlc
for e in resnet50_train resnet50_infer googlenet_train googlenet_infer; do
  "$dlc" simulate examples/local_cpu.dlc --experiment $e --format json -o "$out/${e}_sim.json"
  "$dlc" simulate examples/local_cpu.dlc --experiment ${e}_calibrated --format json -o "$out/${e}_cal.json"
  echo "== $e"
  echo "uncalibrated: $("$dlc" compare "$out/${e}_sim.json" "$out/$e.json" --format table | grep MAPE)"
  echo "calibrated:   $("$dlc" compare "$out/${e}_cal.json" "$out/$e.json" --format table | grep MAPE)"
done
