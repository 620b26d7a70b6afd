#!/usr/bin/env bash
# Setup (packages, configure) then build. Usage: scripts/build.sh [--sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
build_dir=${DLC_BUILD_DIR:-build}
[ "${1:-}" = "--sanitize" ] && build_dir=${DLC_BUILD_DIR:-build-sanitize}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
cmake --build "$build_dir" -j"$(nproc)"
