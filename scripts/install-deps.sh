#!/usr/bin/env bash
# Installs every Debian 12 package esrsync needs to build, test and benchmark.
# Usage: scripts/install-deps.sh [build|test|bench]   (default: test; each includes the one before)
set -euo pipefail
what=${1:-test}
export DEBIAN_FRONTEND=noninteractive

build_pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost-dev libpugixml-dev libssl-dev libspdlog-dev libfmt-dev
  libsqlite3-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev
  libcurl4-openssl-dev libsystemd-dev libzstd-dev
)
test_pkgs=(
  libgtest-dev libgmock-dev googletest
  clang-14 libclang-rt-14-dev clang-format-14 python3
)
bench_pkgs=( miller time python3 )

pkgs=("${build_pkgs[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
# Skip apt entirely when everything is already there (fast re-runs, offline CI re-runs).
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Tests validate FHIR output with the `fhir` npm package, run by node. A node that is already
# installed (from any source) is used as it is; otherwise Debian's nodejs and npm.
if [ "$what" != build ]; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
fhir_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/fhir"
if [ "$what" != build ] && [ ! -d "$fhir_dir/node_modules/fhir" ]; then
  (cd "$fhir_dir" && npm ci --no-audit --no-fund)
fi
