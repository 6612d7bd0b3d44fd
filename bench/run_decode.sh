#!/usr/bin/env bash
# Decode benchmark: esrsync against the floor (wc -l, cat) and baselines (Miller, Python).
#
#   bench/run_decode.sh
#
# Environment (all optional):
#   PERSONS=1500000      persons in the ESR FULL extract (about 1.3 assignments each)
#   OH_RECORDS=1000000   events in the OH CSV and OH XML exports
#   SEED=1               generator seed (same seed -> byte-identical files)
#   REPEAT=1             runs per measurement; the fastest is reported
#   BENCH_CPU=0          the CPU single-core measurements are pinned to (taskset -c)
#   BUILD_DIR=build/bench, PYTHON=/usr/bin/python3
#
# Builds esrsync (Release) into $BUILD_DIR, generates the workloads into bench/work/ (gitignored),
# runs every tool under /usr/bin/time (wall seconds, peak RSS), pinned to CPU 0 with taskset where
# available, on a warm page cache, and prints a markdown table (also saved as
# bench/work/decode_results.md). A tool that is missing, not built or failing gets a row saying so;
# the generator and the baselines always run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PERSONS=${PERSONS:-1500000}
OH_RECORDS=${OH_RECORDS:-1000000}
SEED=${SEED:-1}
REPEAT=${REPEAT:-1}
BENCH_CPU=${BENCH_CPU:-0}
BUILD_DIR=${BUILD_DIR:-build/bench}
PYTHON=${PYTHON:-/usr/bin/python3}
TIME=/usr/bin/time
WORK=bench/work
LOG=$WORK/run_decode.log
RESULTS_MD=$WORK/decode_results.md

ESR_MAPPING=mappings/esr/de_extract.xml
OH_CSV_MAPPING=mappings/oh/generic_csv.xml
OH_XML_MAPPING=mappings/oh/generic_xml.xml

GEN=$BUILD_DIR/bench/esrsync_bench_gen
ESRSYNC=$BUILD_DIR/daemon/esrsync
DECODE=$BUILD_DIR/bench/esrsync_bench_decode

# Tool labels (the table's reference columns look these up).
readonly T_WC="wc -l" T_CAT="cat" T_MLR="mlr (pipe -> JSON lines)" T_PY="python baseline_esr.py"
readonly T_MAP="esrsync map" T_DECODE="esrsync_bench_decode"

log() { printf '%s\n' "$*" >&2; }
die() {
  log "run_decode.sh: $*"
  exit 1
}

for var in PERSONS OH_RECORDS SEED REPEAT BENCH_CPU; do
  [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a non-negative integer, got '${!var}'"
done
((PERSONS > 0 && OH_RECORDS > 0 && REPEAT > 0)) || die "PERSONS, OH_RECORDS and REPEAT must be > 0"
[[ -x $TIME ]] || die "GNU time is needed at $TIME (apt-get install time)"
[[ -x $PYTHON ]] || die "python not found at $PYTHON"

mkdir -p "$WORK"
: >"$LOG"

PIN=()
if command -v taskset >/dev/null 2>&1 && taskset -c "$BENCH_CPU" true 2>/dev/null; then
  PIN=(taskset -c "$BENCH_CPU")
fi

# ---------------------------------------------------------------------------------------------
# Build. Targets one at a time, so one that does not compile yet does not hide the others; a target
# that fails is "not built" even when an older binary is still lying around.

declare -A BUILT=()
log "== build: Release in $BUILD_DIR (log: $LOG)"
if cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >>"$LOG" 2>&1; then
  for target in esrsync_bench_gen esrsync esrsync_bench_decode; do
    if cmake --build "$BUILD_DIR" --target "$target" >>"$LOG" 2>&1; then
      BUILT[$target]=1
      log "   $target: built"
    else
      log "   $target: not built (see $LOG)"
    fi
  done
else
  log "   configure failed (see $LOG)"
fi

if [[ -z ${BUILT[esrsync_bench_gen]:-} ]]; then
  # The generator has no dependencies: build it by hand rather than give up.
  GEN=$WORK/esrsync_bench_gen
  log "   building the generator directly: $GEN"
  "${CXX:-c++}" -std=c++20 -O2 -o "$GEN" bench/gen_workload.cpp >>"$LOG" 2>&1 ||
    die "cannot build the workload generator (see $LOG)"
fi

# ---------------------------------------------------------------------------------------------
# Workloads

ESR_DIR=$WORK/esr_p${PERSONS}_s${SEED}
OH_DIR=$WORK/oh_r${OH_RECORDS}_p${PERSONS}_s${SEED}
ESR_FILE=$ESR_DIR/DE_245_OHS_20260801_0000001.DAT
OH_CSV=$OH_DIR/oh_export.csv
OH_XML=$OH_DIR/oh_export.xml
mkdir -p "$ESR_DIR" "$OH_DIR"

GEN_LINES=()
# generate OUT UNITS UNIT_NAME -- GENERATOR ARGS...
generate() {
  local out=$1 units=$2 unit_name=$3
  shift 4
  local secs kib bytes
  "$TIME" -o "$WORK/.time" -f '%e %M' "$GEN" "$@" >"$out.part" || die "generator failed: $*"
  mv "$out.part" "$out"
  read -r secs kib < <(tail -n 1 "$WORK/.time")
  bytes=$(stat -c %s "$out")
  GEN_LINES+=("$(awk -v f="${out##*/}" -v n="$units" -v u="$unit_name" -v b="$bytes" -v s="$secs" -v k="$kib" \
    'BEGIN { r = (s > 0) ? sprintf("%.2f M %s/s, %.0f MB/s", n / s / 1e6, u, b / s / 1e6) : "too fast to time";
             printf "- `%s`: %d %s, %.1f MB in %.2f s (%s, peak RSS %.1f MiB)", f, n, u, b / 1e6, s, r, k / 1024 }')")
}

log "== generating workloads in $WORK (seed $SEED)"
generate "$ESR_FILE" "$PERSONS" persons -- esr-full --persons "$PERSONS" --seed "$SEED"
generate "$OH_CSV" "$OH_RECORDS" records -- oh-csv --records "$OH_RECORDS" --persons "$PERSONS" --seed "$SEED"
generate "$OH_XML" "$OH_RECORDS" records -- oh-xml --records "$OH_RECORDS" --persons "$PERSONS" --seed "$SEED"
printf '%s\n' "${GEN_LINES[@]}" >&2

# Rows: the ESR file's PER + ASG records (its TRL count, cross-checked against wc -l), the OH files'
# events (the generator's N).
ESR_LINES=$(wc -l <"$ESR_FILE")
ESR_ROWS=$(tail -n 1 "$ESR_FILE" | cut -d'|' -f2)
((ESR_ROWS + 2 == ESR_LINES)) || die "$ESR_FILE: TRL count $ESR_ROWS does not match $ESR_LINES lines"
OH_ROWS=$OH_RECORDS

# ---------------------------------------------------------------------------------------------
# Measurements

RESULTS=()  # tool|file|rows|bytes|seconds|peak KiB|note  (notes have '|' replaced: they go into a table)

add_row() {  # TOOL FILE ROWS SECONDS KIB NOTE
  local bytes
  bytes=$(stat -c %s "$2")
  local note=${6//|//}
  RESULTS+=("$1|$2|$3|$bytes|$4|$5|${note//$'\t'/ }")
}

# measure TOOL FILE ROWS STDOUT -- COMMAND...
#   STDOUT: 'null' sends the command's output to /dev/null, 'keep' shows its first line as the note,
#   'wc' shows wc's count as lines=N.
measure() {
  local tool=$1 file=$2 rows=$3 keep=$4
  shift 5
  local out=/dev/null best_s="" best_kib="" note="" rc run secs kib
  if [[ $keep != null ]]; then out=$WORK/.out; fi
  cat "$file" >/dev/null  # warm the page cache: measure decoding, not the disk
  for ((run = 1; run <= REPEAT; run++)); do
    rc=0
    "$TIME" -o "$WORK/.time" -f '%e %M' "${PIN[@]}" "$@" >"$out" 2>"$WORK/.err" || rc=$?
    if ((rc != 0)); then
      note="FAILED (exit $rc): $(head -n 1 "$WORK/.err" | cut -c 1-160)"
      best_s=""
      best_kib=""
      break
    fi
    read -r secs kib < <(tail -n 1 "$WORK/.time")
    if [[ -z $best_s ]] || awk -v a="$secs" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
      best_s=$secs
      best_kib=$kib
    fi
  done
  if [[ -n $best_s && $keep != null ]]; then
    note=$(head -n 1 "$WORK/.out" | cut -c 1-160)
    if [[ $keep == wc ]]; then note="lines=${note%% *}"; fi
  fi
  log "   $tool on ${file##*/}: ${best_s:-—} s ${note}"
  add_row "$tool" "$file" "$rows" "$best_s" "$best_kib" "$note"
}

run_esrsync() {  # FILE ROWS MAPPING
  local file=$1 rows=$2 mapping=$3
  if [[ -z ${BUILT[esrsync]:-} ]]; then
    add_row "$T_MAP" "$file" "$rows" "" "" "not built"
  elif [[ ! -f $mapping ]]; then
    add_row "$T_MAP" "$file" "$rows" "" "" "mapping $mapping missing"
  else
    measure "$T_MAP" "$file" "$rows" null -- "$ESRSYNC" map --mapping "$mapping" "$file"
  fi
  if [[ -z ${BUILT[esrsync_bench_decode]:-} ]]; then
    add_row "$T_DECODE" "$file" "$rows" "" "" "not built"
  elif [[ ! -f $mapping ]]; then
    add_row "$T_DECODE" "$file" "$rows" "" "" "mapping $mapping missing"
  else
    measure "$T_DECODE" "$file" "$rows" keep -- "$DECODE" --mapping "$mapping" "$file"
  fi
}

log "== measuring${PIN[*]:+ (pinned: ${PIN[*]})}, best of $REPEAT"
measure "$T_WC" "$ESR_FILE" "$ESR_ROWS" wc -- wc -l "$ESR_FILE"
measure "$T_CAT" "$ESR_FILE" "$ESR_ROWS" null -- cat "$ESR_FILE"
if command -v mlr >/dev/null 2>&1; then
  measure "$T_MLR" "$ESR_FILE" "$ESR_ROWS" null -- mlr --inidx --ifs '|' --ojsonl cat "$ESR_FILE"
else
  add_row "$T_MLR" "$ESR_FILE" "$ESR_ROWS" "" "" "mlr not installed"
fi
measure "$T_PY" "$ESR_FILE" "$ESR_ROWS" keep -- "$PYTHON" bench/baseline_esr.py "$ESR_FILE"
run_esrsync "$ESR_FILE" "$ESR_ROWS" "$ESR_MAPPING"

measure "$T_WC" "$OH_CSV" "$OH_ROWS" wc -- wc -l "$OH_CSV"
run_esrsync "$OH_CSV" "$OH_ROWS" "$OH_CSV_MAPPING"
measure "$T_WC" "$OH_XML" "$OH_ROWS" wc -- wc -l "$OH_XML"
run_esrsync "$OH_XML" "$OH_ROWS" "$OH_XML_MAPPING"

# ---------------------------------------------------------------------------------------------
# Report

cpu_model() {
  local model
  model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
  [[ -n $model ]] || model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
  printf '%s' "${model:-unknown}"
}

report() {
  local commit
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  printf '## esrsync decode benchmark\n\n'
  printf -- '- date: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf -- '- machine: %s CPUs (nproc), %s; %s\n' "$(nproc)" "$(cpu_model)" "$(uname -sr)"
  printf -- '- pinning: %s; warm page cache; best of %s run(s)\n' "${PIN[*]:-none (taskset unavailable)}" "$REPEAT"
  printf -- '- tools: %s; %s; %s; commit %s\n' "$("$PYTHON" --version 2>&1)" \
    "$(mlr --version 2>/dev/null || echo 'mlr missing')" "$(wc --version | head -n 1)" "$commit"
  printf -- '- workloads (seed %s):\n' "$SEED"
  printf '  %s\n' "${GEN_LINES[@]}"
  printf '\n'
  printf '%s\n' "${RESULTS[@]}" | awk -F'|' -v t_map="$T_MAP" -v t_dec="$T_DECODE" -v t_wc="$T_WC" '
    function ratio(s, ref) { return (s != "" && ref != "" && ref > 0) ? sprintf("%.2f", s / ref) : "—" }
    function rate(n, s) {
      if (s == "") return "—"
      if (s <= 0) return "∞"
      r = n / s
      return r >= 1e6 ? sprintf("%.2f M", r / 1e6) : sprintf("%.0f k", r / 1e3)
    }
    { n++; tool[n] = $1; file[n] = $2; rows[n] = $3; bytes[n] = $4; secs[n] = $5; kib[n] = $6; note[n] = $7
      if ($5 != "") {
        if ($1 == t_map) ref_map[$2] = $5
        if ($1 == t_dec) ref_dec[$2] = $5
        if ($1 == t_wc) ref_wc[$2] = $5
      } }
    END {
      print "| tool | file | rows | seconds | rows/s | MB/s | peak RSS MiB | ÷ esrsync map | ÷ esrsync decode | ÷ wc -l | note |"
      print "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|"
      for (i = 1; i <= n; i++) {
        f = file[i]; sub(/.*\//, "", f)
        s = secs[i]
        mbs = (s == "") ? "—" : (s > 0 ? sprintf("%.0f", bytes[i] / s / 1e6) : "∞")
        rss = (kib[i] == "") ? "—" : sprintf("%.1f", kib[i] / 1024)
        printf "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", tool[i], f, rows[i],
          (s == "" ? "—" : s), rate(rows[i], s), mbs, rss,
          ratio(s, ref_map[file[i]]), ratio(s, ref_dec[file[i]]), ratio(s, ref_wc[file[i]]), note[i]
      }
    }'
  cat <<'LEGEND'

rows: PER+ASG records for the ESR extract (its TRL count), events for the OH exports. MB = 10^6
bytes of input. The ÷ columns divide this row's time by that tool's time on the same file (> 1: slower
than esrsync; for the esrsync rows, ÷ wc -l is the distance from the line-counting floor). mlr and
`esrsync map` write JSON lines to /dev/null; baseline_esr.py and esrsync_bench_decode decode and
validate without output.
LEGEND
}

report | tee "$RESULTS_MD"

# The two validating decoders must agree on the ESR file: same number of rejected records.
# (baseline_esr.py prints "records=N errors=E"; esrsync_bench_decode "records=N errors=E" or
# "... rejected=E ...".)
count_of() {  # KEY NOTE -> the number after KEY= in NOTE, or nothing
  local re="(^| )$1=([0-9]+)"
  if [[ $2 =~ $re ]]; then printf '%s' "${BASH_REMATCH[2]}"; fi
}
py_note="" dec_note=""
for row in "${RESULTS[@]}"; do
  IFS='|' read -r tool file _ _ secs _ note <<<"$row"
  [[ $file == "$ESR_FILE" && -n $secs ]] || continue
  if [[ $tool == "$T_PY" ]]; then py_note=$note; fi
  if [[ $tool == "$T_DECODE" ]]; then dec_note=$note; fi
done
if [[ -n $py_note && -n $dec_note ]]; then
  py_errors=$(count_of errors "$py_note")
  dec_errors=$(count_of rejected "$dec_note")
  [[ -n $dec_errors ]] || dec_errors=$(count_of errors "$dec_note")
  if [[ -z $py_errors || -z $dec_errors || $py_errors != "$dec_errors" ]]; then
    printf '\nWARNING: esrsync_bench_decode (%s) and baseline_esr.py (%s) disagree on the rejected records of %s\n' \
      "$dec_note" "$py_note" "${ESR_FILE##*/}" | tee -a "$RESULTS_MD"
  fi
fi
