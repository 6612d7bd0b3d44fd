#!/usr/bin/env bash
# Sync benchmark (issue #4): `esrsync sync --once` against the Python baseline (bench/baseline_sync.py).
#
#   bench/run_sync.sh
#
# Environment (all optional):
#   PERSONS=1500000      persons in the FULL extracts esrsync syncs (about 1.3 assignments each)
#   PY_PERSONS=$PERSONS  persons in the extracts the Python baseline syncs (smaller when the baseline
#                        would take too long at full size; the ratio then compares records/s)
#   DELTA_RECORDS=15000  changed PER records in the DELTA extract
#   SEED=1               generator seed (same seed -> byte-identical files)
#   TODAY=20260803       reference date for the date-of-birth rules, both tools
#   TOOLS="esrsync python"  which tools to run
#   BENCH_CPUS=0-(N-1)   the CPUs the measurements run on (taskset -c; default: every online CPU).
#                        esrsync decodes a file on one thread while it applies it on another; the
#                        Python baseline is one thread. BENCH_CPUS=0 measures esrsync on one core.
#   BUILD_DIR=build/bench, PYTHON=/usr/bin/python3
#
# Builds esrsync (Release) into $BUILD_DIR and generates into bench/work/sync/ (gitignored):
#   A  DE_245_OHS_20260801_0000001.DAT  FULL, seq 1: `esrsync_bench_gen esr-full --persons N --seed S`
#   B  DE_245_OHS_20260802_0000002.DAT  FULL, seq 2: A with the mobile of every 100th PER changed
#   D  DE_245_OHS_20260803_0000003.DAT  DELTA, seq 3: DELTA_RECORDS PER records of B (action C), each
#                                       with its mobile changed again
# Then, for each tool in a fresh store and fresh directories: A into the empty store, B, D; each step
# one process (esrsync: `sync --once`, the file placed in the inbox; Python: one baseline_sync.py run)
# timed with /usr/bin/time (wall seconds, peak RSS), on BENCH_CPUS (taskset), on a warm page cache, the
# changes delivered to a directory sink within the step. After esrsync's DELTA, `esrsync store merge`
# (the DELTA's changes written into their records, which esrsync defers) is timed too. Prints a markdown table (also saved as
# bench/work/sync_results.md) and warns when the two tools disagree on the changes of a step or a
# step does not give the changes the workload was built to give.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PERSONS=${PERSONS:-1500000}
PY_PERSONS=${PY_PERSONS:-$PERSONS}
DELTA_RECORDS=${DELTA_RECORDS:-15000}
SEED=${SEED:-1}
TODAY=${TODAY:-20260803}
TOOLS=${TOOLS:-esrsync python}
BENCH_CPUS=${BENCH_CPUS:-0-$(($(nproc) - 1))}
BUILD_DIR=${BUILD_DIR:-build/bench}
PYTHON=${PYTHON:-/usr/bin/python3}
TIME=/usr/bin/time
WORK=bench/work/sync
LOG=$WORK/run_sync.log
RESULTS_MD=bench/work/sync_results.md

GEN=$BUILD_DIR/bench/esrsync_bench_gen
ESRSYNC=$BUILD_DIR/daemon/esrsync
ESR_MAPPING=$ROOT/mappings/esr/de_extract.xml
ACK_MAPPING=$ROOT/mappings/esr/ack.xml
VPD=245

readonly T_ESR="esrsync" T_PY="python baseline"
readonly STEP_NAMES=("FULL A into an empty store" "FULL B, 1% changed" "DELTA, ${DELTA_RECORDS} changed")
readonly STEP_TARGETS=(30 10 1)  # seconds, esrsync (issue #4)
readonly RATIO_TARGET=5 RSS_TARGET_MIB=256

log() { printf '%s\n' "$*" >&2; }
die() {
  log "run_sync.sh: $*"
  exit 1
}

for var in PERSONS PY_PERSONS DELTA_RECORDS SEED TODAY; do
  [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a non-negative integer, got '${!var}'"
done
((PERSONS > 0 && PY_PERSONS > 0 && DELTA_RECORDS > 0)) || die "PERSONS, PY_PERSONS and DELTA_RECORDS must be > 0"
[[ $TODAY =~ ^[0-9]{8}$ ]] || die "TODAY must be YYYYMMDD"
for tool in $TOOLS; do
  [[ $tool == esrsync || $tool == python ]] || die "TOOLS: unknown tool '$tool' (esrsync, python)"
done
[[ -x $TIME ]] || die "GNU time is needed at $TIME (apt-get install time)"
[[ -x $PYTHON ]] || die "python not found at $PYTHON"
TODAY_ISO="${TODAY:0:4}-${TODAY:4:2}-${TODAY:6:2}"

mkdir -p "$WORK"
: >"$LOG"

PIN=()
[[ $BENCH_CPUS =~ ^[0-9]+([-,][0-9]+)*$ ]] || die "BENCH_CPUS must be a CPU list for taskset -c, got '$BENCH_CPUS'"
if command -v taskset >/dev/null 2>&1 && taskset -c "$BENCH_CPUS" true 2>/dev/null; then
  PIN=(taskset -c "$BENCH_CPUS")
fi

# ---------------------------------------------------------------------------------------------
# Build (esrsync is what is measured: no build, no benchmark).

log "== build: Release in $BUILD_DIR (log: $LOG)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >>"$LOG" 2>&1 || die "configure failed (see $LOG)"
cmake --build "$BUILD_DIR" --target esrsync esrsync_bench_gen >>"$LOG" 2>&1 || die "build failed (see $LOG)"
# What was built (the tree may change while the benchmark runs: the report names the build's source).
BUILD_COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$ROOT" status --porcelain -- daemon adapters CMakeLists.txt 2>/dev/null) ]]; then
  BUILD_COMMIT+=" + uncommitted changes in daemon/ or adapters/"
fi

# ---------------------------------------------------------------------------------------------
# Workloads: make_workload P -> sets FILES (A, B, D) and their record counts for P persons.

FILE_NAMES=("DE_${VPD}_OHS_20260801_0000001.DAT" "DE_${VPD}_OHS_20260802_0000002.DAT" "DE_${VPD}_OHS_20260803_0000003.DAT")

trl_count() { tail -n 1 "$1" | cut -d'|' -f2; }

# B and D from A in one pass. B: HDR seq 2, the mobile (field 14) of every 100th PER record changed
# (last digit + 1 mod 10; an empty mobile becomes 07700900000), everything else byte for byte.
# D: HDR DELTA seq 3, then DELTA_RECORDS PER records of B, spread evenly (stride P / DELTA_RECORDS,
# starting half a stride in, so at full size none of them is one B changed), action C, the mobile's
# last digit of B's line + 5 mod 10 (empty: 07700900005); TRL the count written. A mobile is free
# text (<trim/> only) in the mapping: the changed records stay valid, which is checked below.
derive() {  # A B D PERSONS
  local stride=$(($4 / DELTA_RECORDS))
  ((stride > 0)) || stride=1
  LC_ALL=C awk -F'|' -v OFS='|' -v b="$2.part" -v d="$3.part" -v stride="$stride" -v want="$DELTA_RECORDS" -v vpd="$VPD" '
    function bump(m, by,   n) {
      n = length(m)
      if (n == 0) return "0770090000" by
      return substr(m, 1, n - 1) ((substr(m, n, 1) + by) % 10)
    }
    NR == 1 {
      if ($1 != "HDR" || $5 != "FULL") { print "input is not a FULL extract" > "/dev/stderr"; exit 1 }
      $6 = 2; $7 = "20260802020000"; print > b
      print "HDR|ESR-OHS|1.0|" vpd "|DELTA|3|20260803020000" > d
      next
    }
    $1 == "PER" {
      if (per % 100 == 99) { $14 = bump($14, 1); changed++ }
      print > b
      if (written < want && per % stride == int(stride / 2)) {
        $2 = "C"; $14 = bump($14, 5); print > d; written++
      }
      per++
      next
    }
    { print > b }
    END {
      printf "TRL|%d\n", written > d
      printf "%d %d\n", changed, written
    }' "$1"
}

# The files are reused while the generator binary and the parameters are the same (stamp file).
make_workload() {  # PERSONS [quiet] -> WL_DIR, WL_RECORDS[0..2], WL_EXPECT_B, WL_EXPECT_D
  local persons=$1 quiet=${2:-} dir want_stamp
  dir=$WORK/data_p${persons}_s${SEED}_d${DELTA_RECORDS}
  WL_DIR=$dir
  local a=$dir/${FILE_NAMES[0]} b=$dir/${FILE_NAMES[1]} d=$dir/${FILE_NAMES[2]} stamp=$dir/.done
  want_stamp="gen=$(stat -c %Y "$GEN") persons=$persons seed=$SEED delta=$DELTA_RECORDS today=$TODAY v=1"
  if [[ -f $stamp && $(head -n 1 "$stamp") == "$want_stamp" && -f $a && -f $b && -f $d ]]; then
    [[ -n $quiet ]] || log "== workload for $persons persons: reusing $dir"
  else
    log "== generating the workload for $persons persons in $dir (seed $SEED)"
    rm -rf "$dir"
    mkdir -p "$dir"
    "$GEN" esr-full --persons "$persons" --seed "$SEED" --seq 1 --date 20260801 >"$a.part" || die "generator failed"
    mv "$a.part" "$a"
    local counts
    counts=$(derive "$a" "$b" "$d" "$persons") || die "deriving B and DELTA failed"
    mv "$b.part" "$b"
    mv "$d.part" "$d"
    # Every file must be valid through and through: the changes must not turn into rejections.
    local f out
    for f in "$a" "$b" "$d"; do
      out=$("$PYTHON" bench/baseline_esr.py --today "$TODAY" "$f") || die "${f##*/} is not a valid extract: $out"
      [[ $out == *" errors=0" ]] || die "${f##*/}: records rejected by baseline_esr.py: $out"
      log "   ${f##*/}: $(stat -c %s "$f") bytes, $out"
    done
    printf '%s\n%s\n' "$want_stamp" "$counts" >"$stamp"
  fi
  local changed written
  read -r changed written < <(sed -n 2p "$stamp")
  WL_RECORDS=("$(trl_count "$a")" "$(trl_count "$b")" "$(trl_count "$d")")
  ((WL_RECORDS[0] == WL_RECORDS[1])) || die "A and B differ in record count"
  ((WL_RECORDS[2] == written)) || die "DELTA TRL count ${WL_RECORDS[2]} != $written records written"
  WL_EXPECT_B=$changed
  WL_EXPECT_D=$written
}

# ---------------------------------------------------------------------------------------------
# Measurements. A result row: tool|step|persons|records|seconds|kib|rc|inserted|updated|unchanged|
# withdrawn|delivered|note

RESULTS=()
EXPECTED=()  # step|persons|inserted|updated|withdrawn: what the workload was built to give

# timed OUT ERR -- COMMAND...: runs COMMAND pinned under GNU time; sets T_SECS T_KIB T_RC.
timed() {
  local out=$1 err=$2
  shift 3
  T_RC=0
  "$TIME" -o "$WORK/.time" -f '%e %M' "${PIN[@]}" "$@" >"$out" 2>"$err" || T_RC=$?
  read -r T_SECS T_KIB < <(tail -n 1 "$WORK/.time")
  if ! [[ $T_SECS =~ ^[0-9.]+$ && $T_KIB =~ ^[0-9]+$ ]]; then
    T_SECS=""
    T_KIB=""
  fi
}

# esrsync's --json report -> "records inserted updated unchanged withdrawn delivered pending dead outcomes"
parse_esrsync_json() {
  "$PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
t = {k: sum(f[k] for f in r["files"]) for k in ("records_read", "inserted", "updated", "unchanged", "withdrawn")}
s = {k: sum(x[k] for x in r["sinks"]) for k in ("delivered", "pending", "dead")}
outcomes = ",".join(f["outcome"] for f in r["files"]) or "no-file"
print(t["records_read"], t["inserted"], t["updated"], t["unchanged"], t["withdrawn"],
      s["delivered"], s["pending"], s["dead"], outcomes)' "$1"
}

run_esrsync() {  # PERSONS
  local persons=$1 dir=$WORK/esrsync_p$1 step
  make_workload "$persons"
  rm -rf "$dir"
  mkdir -p "$dir"/{state,inbox,processed,quarantine,acks,out}
  cat >"$dir/esrsync.toml" <<EOF
[store]
path = "state/esrsync.db"

[esr]
vpds = ["$VPD"]

[[flows]]
name = "esr"
mapping = "$ESR_MAPPING"
ack_mapping = "$ACK_MAPPING"

  [flows.source]
  adapter = "dir"
  inbox = "inbox"
  pattern = "DE_*.DAT"
  processed = "processed"
  quarantine = "quarantine"
  acks = "acks"

  [[flows.sinks]]
  name = "oh"
  adapter = "dir"
  directory = "out"
EOF
  log "== esrsync, $persons persons, fresh store in $dir${PIN[*]:+ (pinned: ${PIN[*]})}"
  for step in 0 1 2; do
    local src=$WL_DIR/${FILE_NAMES[$step]} json=$dir/step$((step + 1)).json errf=$dir/step$((step + 1)).err
    ln "$src" "$dir/inbox/" 2>/dev/null || cp "$src" "$dir/inbox/"
    cat "$src" >/dev/null  # warm page cache: the input is not what is measured
    timed "$json" "$errf" -- "$ESRSYNC" sync --once --json --today "$TODAY_ISO" --config "$dir/esrsync.toml"
    local note="" rec=${WL_RECORDS[$step]} ins="" upd="" unc="" wdr="" del="" pend dead outcomes parsed=""
    if ((T_RC != 2)) && [[ -s $json ]]; then parsed=$(parse_esrsync_json "$json" 2>>"$LOG") || parsed=""; fi
    if [[ -z $parsed ]]; then
      note="FAILED (exit $T_RC): $(head -n 1 "$errf" | cut -c 1-160)"
    else
      read -r rec ins upd unc wdr del pend dead outcomes <<<"$parsed"
      [[ $outcomes == applied ]] || note="outcome $outcomes"
      if ((pend != 0 || dead != 0)); then note="${note:+$note; }pending=$pend dead=$dead"; fi
      if ((T_RC != 0)); then note="${note:+$note; }exit $T_RC"; fi
      if [[ -s $errf ]]; then note="${note:+$note; }stderr: $(head -n 1 "$errf" | cut -c 1-120)"; fi
    fi
    log "   step $((step + 1)) (${STEP_NAMES[$step]}): ${T_SECS:-—} s, ${T_KIB:-—} KiB, exit $T_RC," \
      "inserted=$ins updated=$upd unchanged=$unc withdrawn=$wdr delivered=$del ${note}"
    RESULTS+=("$T_ESR|$step|$persons|$rec|$T_SECS|$T_KIB|$T_RC|$ins|$upd|$unc|$wdr|$del|${note//|//}")
  done
  # A DELTA's content changes wait among the store's recent versions and are written into their
  # records later (at the next FULL, or by `esrsync store merge`): that deferred cost, measured.
  local merged
  timed "$dir/merge.json" "$dir/merge.err" -- "$ESRSYNC" store merge --json --config "$dir/esrsync.toml"
  merged=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["merged"])' "$dir/merge.json" 2>>"$LOG") ||
    merged=""
  if ((T_RC != 0)) || [[ -z $merged ]]; then
    MERGE_INFO="FAILED (exit $T_RC): $(head -n 1 "$dir/merge.err" | cut -c 1-160)"
  else
    MERGE_INFO="$merged versions in ${T_SECS} s, peak RSS $((T_KIB / 1024)) MiB"
  fi
  log "   then \`store merge\`: $MERGE_INFO"
  STORE_SIZES+=("$T_ESR, $persons persons: store $(du -sh "$dir/state" | cut -f1), sink $(du -sh "$dir/out" | cut -f1)")
}

run_python() {  # PERSONS
  local persons=$1 dir=$WORK/python_p$1 step
  make_workload "$persons"
  rm -rf "$dir"
  mkdir -p "$dir"/{state,acks,out}
  log "== python baseline, $persons persons, fresh store in $dir${PIN[*]:+ (pinned: ${PIN[*]})}"
  for step in 0 1 2; do
    local src=$WL_DIR/${FILE_NAMES[$step]} outf=$dir/step$((step + 1)).out errf=$dir/step$((step + 1)).err
    cat "$src" >/dev/null
    timed "$outf" "$errf" -- "$PYTHON" bench/baseline_sync.py --today "$TODAY" --vpds "$VPD" \
      --out "$dir/out" --acks "$dir/acks" "$dir/state/baseline.db" "$src"
    local note="" rec=${WL_RECORDS[$step]} ins="" upd="" unc="" wdr="" del="" last kv
    if ((T_RC == 2)) || [[ ! -s $outf ]]; then
      note="FAILED (exit $T_RC): $(head -n 1 "$errf" | cut -c 1-160)"
    else
      last=$(tail -n 1 "$outf")
      for kv in $last; do
        case $kv in
          records=*) rec=${kv#*=} ;;
          inserted=*) ins=${kv#*=} ;;
          updated=*) upd=${kv#*=} ;;
          unchanged=*) unc=${kv#*=} ;;
          withdrawn=*) wdr=${kv#*=} ;;
          delivered=*) del=${kv#*=} ;;
        esac
      done
      if ((T_RC != 0)); then note="exit $T_RC: $(grep -m 1 'outcome=' "$outf" | cut -c 1-120)"; fi
      if [[ -s $errf ]]; then note="${note:+$note; }stderr: $(head -n 1 "$errf" | cut -c 1-120)"; fi
    fi
    log "   step $((step + 1)) (${STEP_NAMES[$step]}): ${T_SECS:-—} s, ${T_KIB:-—} KiB, exit $T_RC," \
      "inserted=$ins updated=$upd unchanged=$unc withdrawn=$wdr delivered=$del ${note}"
    RESULTS+=("$T_PY|$step|$persons|$rec|$T_SECS|$T_KIB|$T_RC|$ins|$upd|$unc|$wdr|$del|${note//|//}")
  done
  STORE_SIZES+=("$T_PY, $persons persons: store $(du -sh "$dir/state" | cut -f1), sink $(du -sh "$dir/out" | cut -f1)")
}

STORE_SIZES=()
GEN_INFO=()
MERGE_INFO=
for tool in $TOOLS; do
  if [[ $tool == esrsync ]]; then
    run_esrsync "$PERSONS"
    p=$PERSONS
  else
    run_python "$PY_PERSONS"
    p=$PY_PERSONS
  fi
  make_workload "$p" quiet
  if [[ ! " ${GEN_INFO[*]} " == *" p=$p:"* ]]; then
    GEN_INFO+=("p=$p: A/B ${WL_RECORDS[0]} records ($(stat -c %s "$WL_DIR/${FILE_NAMES[0]}") bytes), B changes $WL_EXPECT_B PER, DELTA ${WL_RECORDS[2]} PER")
    EXPECTED+=("0|$p|${WL_RECORDS[0]}|0|0" "1|$p|0|$WL_EXPECT_B|0" "2|$p|0|$WL_EXPECT_D|0")
  fi
done

# ---------------------------------------------------------------------------------------------
# Report

cpu_model() {
  local model
  model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
  [[ -n $model ]] || model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n 1)
  printf '%s' "${model:-unknown}"
}

join() {  # ITEMS... -> "a; b; c"
  local out="" item
  for item; do out+="${out:+; }$item"; done
  printf '%s' "$out"
}

report() {
  printf '## esrsync sync benchmark (issue #4)\n\n'
  printf -- '- date: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf -- '- machine: %s CPUs (nproc), %s, %s MiB RAM; %s; store on %s\n' "$(nproc)" "$(cpu_model)" \
    "$(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" "$(uname -sr)" \
    "$(df -h --output=source,fstype "$WORK" | tail -n 1 | tr -s ' ')"
  printf -- '- CPUs: %s; warm page cache; one run per step; --today %s\n' \
    "${PIN[*]:-none (taskset unavailable)}" "$TODAY"
  printf -- '- tools: esrsync built from commit %s (Release, %s); %s, SQLite %s\n' "$BUILD_COMMIT" "$BUILD_DIR" \
    "$("$PYTHON" --version 2>&1)" "$("$PYTHON" -c 'import sqlite3; print(sqlite3.sqlite_version)')"
  printf -- '- workloads (seed %s): %s\n' "$SEED" "$(join "${GEN_INFO[@]}")"
  printf -- '- after the three steps: %s\n' "$(join "${STORE_SIZES[@]}")"
  if [[ -n $MERGE_INFO ]]; then
    printf -- '- then the DELTA'"'"'s deferred writes, `esrsync store merge` (not a step of the baseline, which writes in place): %s\n' \
      "$MERGE_INFO"
  fi
  printf '\n'
  printf '%s\n' "${RESULTS[@]}" | awk -F'|' -v t_esr="$T_ESR" -v t_py="$T_PY" -v names="$(printf '%s|' "${STEP_NAMES[@]}")" \
    -v targets="${STEP_TARGETS[*]}" '
    function rate(n, s) {
      if (s == "") return "—"
      if (s <= 0) return "∞"
      r = n / s
      return r >= 1e6 ? sprintf("%.2f M", r / 1e6) : (r >= 1e3 ? sprintf("%.0f k", r / 1e3) : sprintf("%.0f", r))
    }
    function dash(v) { return v == "" ? "—" : v }
    function times(r) { return sprintf(r >= 1 ? "%.1f×" : "%.2f×", r) }
    BEGIN { split(names, name, "|"); split(targets, target, " ") }
    { n++; tool[n] = $1; step[n] = $2; persons[n] = $3; rec[n] = $4; secs[n] = $5; kib[n] = $6; rc[n] = $7
      ins[n] = $8; upd[n] = $9; unc[n] = $10; wdr[n] = $11; del[n] = $12; note[n] = $13
      if ($5 != "" && $1 == t_esr) { esr_s[$2] = $5; esr_p[$2] = $3; esr_r[$2] = $4 }
      if ($5 != "" && $1 == t_py) { py_s[$2] = $5; py_p[$2] = $3; py_r[$2] = $4 } }
    END {
      print "| step | tool | persons | records | seconds | records/s | peak RSS MiB | inserted | updated | unchanged | withdrawn | changes applied | delivered | exit | Python ÷ esrsync | target (esrsync) | note |"
      print "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|"
      for (i = 1; i <= n; i++) {
        st = step[i]
        ratio = "—"
        if ((st in esr_s) && (st in py_s) && esr_s[st] > 0 && py_s[st] > 0) {
          if (esr_p[st] == py_p[st]) ratio = times(py_s[st] / esr_s[st])
          else ratio = "≈ " times((esr_r[st] / esr_s[st]) / (py_r[st] / py_s[st])) " (rates)"
        }
        tgt = ""
        if (tool[i] == t_esr) {
          tgt = "≤ " target[st + 1] " s: " (secs[i] == "" ? "—" : (secs[i] + 0 <= target[st + 1] ? "met" : "**not met**"))
        }
        changes = (ins[i] == "") ? "—" : ins[i] + upd[i] + wdr[i]
        printf "| %d. %s | %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
          st + 1, name[st + 1], tool[i], persons[i], rec[i], dash(secs[i]), rate(rec[i], secs[i]),
          (kib[i] == "" ? "—" : sprintf("%.1f", kib[i] / 1024)), dash(ins[i]), dash(upd[i]), dash(unc[i]),
          dash(wdr[i]), changes, dash(del[i]), rc[i], ratio, tgt, note[i]
      }
    }'
  printf '\n### Against the targets of issue #4 (esrsync)\n\n'
  printf '%s\n' "${RESULTS[@]}" | awk -F'|' -v t_esr="$T_ESR" -v t_py="$T_PY" -v names="$(printf '%s|' "${STEP_NAMES[@]}")" \
    -v targets="${STEP_TARGETS[*]}" -v rt="$RATIO_TARGET" -v mt="$RSS_TARGET_MIB" '
    function times(r) { return sprintf(r >= 1 ? "%.1f×" : "%.2f×", r) }
    BEGIN { split(names, name, "|"); split(targets, target, " ") }
    $1 == t_esr && $5 != "" { esr_s[$2] = $5; esr_p[$2] = $3; esr_r[$2] = $4; if ($6 > max_kib) max_kib = $6; esr_n++ }
    $1 == t_py && $5 != "" { py_s[$2] = $5; py_p[$2] = $3; py_r[$2] = $4 }
    END {
      print "| target | result | met |"
      print "|---|---|---|"
      for (st = 0; st < 3; st++) {
        if (st in esr_s) printf "| %s ≤ %d s (%d persons) | %.2f s | %s |\n", name[st + 1], target[st + 1], esr_p[st], esr_s[st], (esr_s[st] <= target[st + 1] ? "yes" : "**no**")
        else printf "| %s ≤ %d s | not measured | — |\n", name[st + 1], target[st + 1]
      }
      ok = 1; txt = ""; any = 0
      for (st = 0; st < 3; st++) {
        if (!((st in esr_s) && (st in py_s)) || esr_s[st] <= 0 || py_s[st] <= 0) { txt = txt sprintf("step %d: —; ", st + 1); continue }
        if (esr_p[st] == py_p[st]) { r = py_s[st] / esr_s[st]; how = "" }
        else { r = (esr_r[st] / esr_s[st]) / (py_r[st] / py_s[st]); how = " (records/s, different sizes)" }
        any = 1
        if (r < rt) ok = 0
        txt = txt sprintf("step %d: %s%s; ", st + 1, times(r), how)
      }
      sub(/; $/, "", txt)
      printf "| ≥ %d× faster than the Python baseline, every step | %s | %s |\n", rt, txt, (any ? (ok ? "yes" : "**no**") : "—")
      if (esr_n) printf "| peak RSS ≤ %d MiB | %.1f MiB (highest of the steps) | %s |\n", mt, max_kib / 1024, (max_kib / 1024 <= mt ? "yes" : "**no**")
    }'
  cat <<'LEGEND'

records: PER+ASG records read (the file's TRL count). changes applied = inserted + updated +
withdrawn, each one also queued in the outbox and delivered to the directory sink (JSON lines, 500
per file) within the same step. Each step is one process: `esrsync sync --once --json` on the inbox
holding that one file, or `baseline_sync.py STORE FILE`; seconds = wall time of that process, store
open and start-up checks, apply, commit, ACK, delivery included. Python ÷ esrsync > 1 means
esrsync is faster; "(rates)" when the two ran different sizes (records/s compared). RSS target:
256 MiB (read as MiB, the stricter reading of "256 MB" would be 244 MiB).
LEGEND
}

report_text=$(report)
warnings=()

# The two tools must agree on the changes of each step, and each step must give what the workload
# was built to give (A: every record inserted; B: the changed PER records updated; DELTA: every
# record updated; nothing withdrawn).
declare -A COUNTS=()
for row in "${RESULTS[@]}"; do
  IFS='|' read -r tool step persons rec secs _ rc ins upd unc wdr del _ <<<"$row"
  [[ -n $secs && -n $ins ]] || {
    warnings+=("WARNING: $tool step $((step + 1)) has no result")
    continue
  }
  COUNTS["$tool|$step"]="$persons $ins $upd $unc $wdr"
  for e in "${EXPECTED[@]}"; do
    IFS='|' read -r e_step e_persons e_ins e_upd e_wdr <<<"$e"
    [[ $e_step == "$step" && $e_persons == "$persons" ]] || continue
    if [[ $ins != "$e_ins" || $upd != "$e_upd" || $wdr != "$e_wdr" ]]; then
      warnings+=("WARNING: $tool step $((step + 1)) (${STEP_NAMES[$step]}): inserted=$ins updated=$upd withdrawn=$wdr, the workload should give inserted=$e_ins updated=$e_upd withdrawn=$e_wdr")
    fi
  done
  if [[ -n $del && $del != $((ins + upd + wdr)) ]]; then
    warnings+=("WARNING: $tool step $((step + 1)): delivered=$del != changes applied $((ins + upd + wdr))")
  fi
  if ((rc != 0)); then warnings+=("WARNING: $tool step $((step + 1)) exited with status $rc"); fi
done
for step in 0 1 2; do
  e=${COUNTS["$T_ESR|$step"]:-} p=${COUNTS["$T_PY|$step"]:-}
  [[ -n $e && -n $p ]] || continue
  if [[ ${e%% *} == "${p%% *}" && $e != "$p" ]]; then
    warnings+=("WARNING: step $((step + 1)) (${STEP_NAMES[$step]}): esrsync and the Python baseline disagree (persons inserted updated unchanged withdrawn): esrsync $e, python $p")
  fi
done

{
  printf '%s\n' "$report_text"
  if ((${#warnings[@]} > 0)); then
    printf '\n'
    printf '%s\n' "${warnings[@]}"
  else
    printf '\nChange counts: as the workload was built to give, and the same for both tools where both ran the same size.\n'
  fi
} | tee "$RESULTS_MD"
