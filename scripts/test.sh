#!/usr/bin/env bash
# The README's second command (and CI's, through .ci/run): install what the tests need, then
#  1. build with warnings as errors (preset ci) and run every test: unit, golden, integration and
#     the fuzz corpus replays;
#  2. build and run the unit tests under AddressSanitizer + UndefinedBehaviorSanitizer;
#  3. build the libFuzzer targets with clang and fuzz each parser for a short fixed time;
#  4. check formatting of the C++ sources with clang-format-14.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash scripts/install-deps.sh test

echo "== formatting (clang-format-14)"
unformatted=$(git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 --dry-run 2>&1 | grep -c 'warning:' || true)
if [ "$unformatted" != "0" ]; then
  git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 --dry-run 2>&1 | head -40
  echo "clang-format: $unformatted place(s) not formatted; run: git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 -i" >&2
  exit 1
fi

echo "== build (warnings as errors) and all tests"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
ctest --preset ci -j "$jobs"

echo "== unit tests under ASan + UBSan"
cmake --preset asan-ubsan >/dev/null
cmake --build --preset asan-ubsan -j "$jobs" --target esrsync_unit_tests
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan-ubsan -j "$jobs" -L unit -E '_replay$'

echo "== fuzzers (clang libFuzzer, ${ESRSYNC_FUZZ_SECONDS:-20}s each)"
cmake --preset fuzz -DESRSYNC_FUZZ_SECONDS="${ESRSYNC_FUZZ_SECONDS:-20}" >/dev/null
cmake --build --preset fuzz -j "$jobs"
ctest --preset fuzz -j "$jobs"
