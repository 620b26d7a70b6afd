#!/usr/bin/env bash
# Benchmark: `dlc stats NAME` for every model of the standard library's
# catalog (check the library, build the model, print its per-layer table).
# Prints each model's wall time (best of 5) and the total. Target: each
# under 50 ms. Usage: bench/stats_library.sh [path/to/dlc]
set -euo pipefail
cd "$(dirname "$0")/.."
dlc=${1:-build/bin/dlc}
models=$("$dlc" models --format csv | tail -n +2 | cut -d, -f1)
total=0
printf '%-18s %8s %8s\n' model layers "ms"
for m in $models; do
  best=""
  for run in 1 2 3 4 5; do
    start=$(date +%s%N)
    "$dlc" stats "$m" --format table > /dev/null
    end=$(date +%s%N)
    t=$(( (end - start) / 1000 ))
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
  done
  layers=$("$dlc" stats "$m" --format csv | tail -n +2 | grep -vc '^total,')
  awk -v m="$m" -v l="$layers" -v t="$best" 'BEGIN { printf "%-18s %8s %8.1f\n", m, l, t / 1000 }'
  total=$((total + best))
done
awk -v t="$total" 'BEGIN { printf "%-18s %8s %8.1f\n", "all", "", t / 1000 }'
