#!/usr/bin/env bash
# The main job, on a fresh machine: install what is missing, build, then
# simulate the Deep Learning Cookbook's training-time table and show the rest
# of what dlc does on the embedded standard library and the examples.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >/dev/null
dlc=build/bin/dlc

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The first N lines of a command's output. Not `cmd | head`: head exits
# early, the command gets SIGPIPE, and pipefail stops the demo.
first() { local n=$1; shift; "$@" > "$tmp/out.txt"; head -n "$n" "$tmp/out.txt"; }

step "The main job: how long does training take? The Deep Learning Cookbook's table" \
     "dlc simulate examples/cookbook.dlc   (VGG-16, 100M images, 10 epochs, 64 P100s)"
$dlc simulate examples/cookbook.dlc --format table
echo "(the talk: Caffe 188.1 h, Caffe2 175.8 h, TensorFlow 416.1 h)"

step "And how it scales" "dlc simulate examples/cookbook.dlc --experiment vgg16_caffe --scale nodes=1,2,4,8,16"
$dlc simulate examples/cookbook.dlc --experiment vgg16_caffe --scale nodes=1,2,4,8,16 --format table

step "The standard library is compiled into dlc: check all of it" "dlc check -q std"
$dlc check -q std && echo "std: ok"

step "The Deep Learning Cookbook's table of popular models, from dlc's own specs" "dlc models"
$dlc models --format table

step "What one network costs, layer by layer (here the first 12 rows)" "dlc stats ResNet50 | head -14"
first 14 $dlc stats ResNet50 --format table

step "The same kind of spec, run for real on this machine's CPU (oneDNN), layer by layer (the last rows)" \
     "dlc run examples/local_cpu.dlc --experiment resnet18_infer --iters 3"
$dlc run examples/local_cpu.dlc --experiment resnet18_infer --warmup 1 --iters 3 --format table > "$tmp/run.txt" 2>/dev/null
tail -n 6 "$tmp/run.txt"

step "Check a spec of your own (imports std.models and std.hardware)" "dlc check examples/quickstart.dlc"
$dlc check examples/quickstart.dlc

step "Every layer of a model: hierarchical name, op, output shape, params, MACs" \
     "dlc check --emit=checked examples/quickstart.dlc | head -12"
first 12 $dlc check --emit=checked examples/quickstart.dlc

step "A mistake gets a compiler-style diagnostic (file:line:col, caret, note)" "dlc check mistake.dlc"
cat > "$tmp/mistake.dlc" <<'DLC'
import std.hardware

link MyLink { bandwidth = 900 ns }

model Broken {
  input x: f32[3, 32, 32]
  a = conv(x, 256, kernel = 3, pad = 1)
  b = conv(x, 512, kernel = 3, pad = 1)
  output add(a, b)
}
DLC
(cd "$tmp" && "$OLDPWD/$dlc" check mistake.dlc) || echo "(exit code $?: errors in the input)"
