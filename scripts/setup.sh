#!/usr/bin/env bash
# Installs the Debian packages dlc needs (only those missing; quiet when all are
# there) and configures a Ninja + ccache build in build/ (or $DLC_BUILD_DIR).
# Usage: scripts/setup.sh [--sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build ccache g++ libboost-dev llvm-19-dev libzstd-dev
          libdnnl-dev ocl-icd-opencl-dev libfmt-dev doctest-dev libcli11-dev
          nlohmann-json3-dev libopenmpi-dev openmpi-bin)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_dir=${DLC_BUILD_DIR:-build}
sanitize=OFF
build_type=RelWithDebInfo
if [ "${1:-}" = "--sanitize" ]; then
  sanitize=ON; build_type=Debug; build_dir=${DLC_BUILD_DIR:-build-sanitize}
fi
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
if [ ! -f "$build_dir/build.ninja" ] || [ "${DLC_RECONFIGURE:-0}" = 1 ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=$build_type -DDLC_SANITIZE=$sanitize >"$build_dir.configure.log" 2>&1 \
    || { cat "$build_dir.configure.log"; exit 1; }
fi
