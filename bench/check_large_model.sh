#!/usr/bin/env bash
# Benchmark: `dlc check` of generated models with 10,000 layers.
#   flat.dlc  5,000 statements written out (parse-heavy): 10,001 layers
#   loop.dlc  the same network as a repeat loop (evaluation-heavy)
# Prints dlc's own --stats (time per stage, peak memory), best of 5 runs.
# Usage: bench/check_large_model.sh [path/to/dlc]   (target: under 100 ms)
set -euo pipefail
cd "$(dirname "$0")/.."
dlc=${1:-build/bin/dlc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo "model Flat {"
  echo "  input x: f32[64, 28, 28]"
  for i in $(seq 1 5000); do echo "  x = relu(conv(x, 64, kernel = 3, pad = 1))"; done
  echo "  output x"
  echo "}"
} > "$tmp/flat.dlc"
cat > "$tmp/loop.dlc" <<'DLC'
model Loop {
  input x: f32[64, 28, 28]
  repeat i in 0..5000 {
    x = relu(conv(x, 64, kernel = 3, pad = 1))
  }
  output x
}
DLC
for f in flat loop; do
  best=""
  for run in 1 2 3 4 5; do
    line=$("$dlc" check -q --stats "$tmp/$f.dlc" 2>&1 >/dev/null | grep stats)
    total=$(sed -E 's/.*total ([0-9.]+) ms.*/\1/' <<<"$line")
    if [ -z "$best" ] || awk "BEGIN{exit !($total < $best)}"; then best=$total; bestline=$line; fi
  done
  echo "$f.dlc (best of 5): ${bestline#*stats: }"
done
