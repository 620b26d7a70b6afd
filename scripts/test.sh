#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through ctest.
# Usage: scripts/test.sh [--sanitize]   (--sanitize: ASan+UBSan build in build-sanitize/)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
build_dir=${DLC_BUILD_DIR:-build}
[ "${1:-}" = "--sanitize" ] && build_dir=${DLC_BUILD_DIR:-build-sanitize}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build_dir"
ctest --output-on-failure -j2
