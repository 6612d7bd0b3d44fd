#!/usr/bin/env bash
# Matching benchmark (issue #5): quality (confusion table, precision, recall, ranked first) and speed
# of matching noisy OH records to a population of persons.
#
#   bench/run_match.sh
#
# Environment (all optional):
#   PERSONS=1500000   persons in the ESR extract the population comes from
#   RECORDS=100000    noisy OH records to match
#   SEED=1            generator seed (same seed -> the same population and records)
#   BENCH_CPU=0       the CPU the run is pinned to (taskset -c)
#   BUILD_DIR=build/bench
#
# Builds esrsync (Release) into $BUILD_DIR, generates the extract into bench/work/match/
# (gitignored; reused when present), then runs esrsync_bench_match (bench/match_bench.cpp: the
# person index, near-duplicates, noisy records with ground truth, recon::match_person in process)
# under /usr/bin/time, and saves its report as bench/work/match_results.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PERSONS=${PERSONS:-1500000}
RECORDS=${RECORDS:-100000}
SEED=${SEED:-1}
BENCH_CPU=${BENCH_CPU:-0}
BUILD_DIR=${BUILD_DIR:-build/bench}
WORK=bench/work/match
for var in PERSONS RECORDS SEED BENCH_CPU; do
  [[ ${!var} =~ ^[0-9]+$ ]] || { echo "run_match.sh: $var must be a non-negative integer" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "run_match.sh: GNU time is needed (apt-get install time)" >&2; exit 1; }

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DESRSYNC_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" --target esrsync_bench_gen esrsync_bench_match >/dev/null

mkdir -p "$WORK"
extract="$WORK/DE_p${PERSONS}_s${SEED}.DAT"
if [[ ! -s $extract ]]; then
  "$BUILD_DIR/bench/esrsync_bench_gen" esr-full --persons "$PERSONS" --seed "$SEED" >"$extract.part"
  mv "$extract.part" "$extract"
fi

PIN=()
if command -v taskset >/dev/null 2>&1 && taskset -c "$BENCH_CPU" true 2>/dev/null; then
  PIN=(taskset -c "$BENCH_CPU")
fi
echo "== esrsync_bench_match: $PERSONS persons, $RECORDS OH records, seed $SEED" | tee bench/work/match_results.md
"${PIN[@]}" /usr/bin/time -f 'process: %e s wall, peak RSS %M KiB (includes building the index)' \
  "$BUILD_DIR/bench/esrsync_bench_match" --extract "$extract" --records "$RECORDS" --seed "$SEED" \
  --dir "$WORK/store" 2>&1 | tee -a bench/work/match_results.md
