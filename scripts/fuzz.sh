#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, clang 19, ASan + UBSan) of the front end
# (parse + check + dumps + plans of arbitrary bytes) and of the command line's
# quantity parser (--set and --max-memory values).
#
# Usage: scripts/fuzz.sh [SECONDS=60] [TARGET...]     targets: frontend quantity (default: both)
#        FUZZ_RUNS=N scripts/fuzz.sh ...               stop each target after N executions instead
#        FUZZ_JOBS=N scripts/fuzz.sh ...               N fuzzing processes (libFuzzer's -fork; time only)
#        FUZZ_TIMEOUT=S scripts/fuzz.sh ...            report inputs slower than S s (default 1: a hang)
#
# The 1 s limit is wall-clock time: on a machine busy with builds or tests an ordinary input can
# take longer. Fuzz on an idle machine, or raise FUZZ_TIMEOUT there and time each reported input
# alone (build-fuzz/bin/dlc_fuzz_TARGET FILE): a hang is one that takes over 1 s by itself.
#
# Seeds: every .dlc file of the repository (frontend) and tests/fuzz/seeds/quantity, with the
# saved corpus tests/fuzz/corpus/TARGET, which this run's new coverage is merged into (minimised),
# so that ctest replays it (fuzz/replay-TARGET). A crash, a sanitizer report or an input that
# runs over 1 s is written to build-fuzz/findings/TARGET/ and the script exits 1: turn it into a
# golden test (tests/golden/) and fix it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(frontend quantity)

missing=()
for p in clang-19 libclang-rt-19-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
scripts/setup.sh >/dev/null  # the project's own packages

build=build-fuzz
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang-19 CXX=clang++-19 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDLC_FUZZ=ON -DDLC_SANITIZE=ON -DDLC_CUDA=OFF >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" --target "${targets[@]/#/dlc_fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${targets[@]}"; do
  work="$build/corpus/$t" findings="$build/findings/$t" saved="tests/fuzz/corpus/$t"
  seeds="$build/seeds/$t"
  mkdir -p "$work" "$findings" "$saved" "$seeds"
  if [ "$t" = frontend ]; then
    git ls-files '*.dlc' | while read -r f; do cp "$f" "$seeds/$(echo "$f" | tr / _)"; done
  else
    cp tests/fuzz/seeds/"$t"/* "$seeds/"
  fi
  limit=(-max_total_time="$seconds")
  [ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
  [ "${FUZZ_JOBS:-1}" -gt 1 ] && limit+=(-fork="$FUZZ_JOBS")
  echo "fuzz: $t for ${FUZZ_RUNS:+$FUZZ_RUNS runs}${FUZZ_RUNS:-$seconds s}"
  if ! "$build/bin/dlc_fuzz_$t" "${limit[@]}" -timeout="${FUZZ_TIMEOUT:-1}" -rss_limit_mb=4096 -print_final_stats=1 \
      -artifact_prefix="$findings/" "$work" "$saved" "$seeds" 2>"$build/fuzz-$t.log"; then
    status=1
    echo "fuzz: $t: a finding in $findings/ (log: $build/fuzz-$t.log)"
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$build/fuzz-$t.log" | sed "s/^/fuzz: $t: /" || true
  # The saved corpus becomes the minimal set with the coverage of old and new.
  merged="$build/merged/$t"
  rm -rf "$merged" && mkdir -p "$merged"
  "$build/bin/dlc_fuzz_$t" -merge=1 -timeout=1 -artifact_prefix="$findings/" "$merged" "$saved" "$work" "$seeds" \
    >"$build/merge-$t.log" 2>&1
  rm -rf "$saved" && mv "$merged" "$saved"
  echo "fuzz: $t: corpus $(ls "$saved" | wc -l) input(s) in $saved"
done
exit $status
