#!/usr/bin/env bash
# The README's first command: install what esrsync needs, build it, and run the main job on
# sample-data/. Today the main job is a dry run of every sample file through its mapping
# (`esrsync map`), printing each file's summary; the sync pipeline (issue #4) will turn this into a
# one-shot sync on the embedded SQLite store.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh build
cmake --preset release -DESRSYNC_BUILD_TESTS=OFF >/dev/null
cmake --build --preset release --target esrsync
bin=build/release/daemon/esrsync

echo
echo "== esrsync check: the shipped mappings and lookup tables"
"$bin" check --mappings mappings

run() {
  local mapping=$1; shift
  echo
  echo "== esrsync map --mapping $mapping $*"
  # Records go to a file (JSON lines); errors and the summary to the terminal.
  local out="build/release/demo-$(basename "$mapping" .xml).jsonl"
  if "$bin" map --mapping "$mapping" "$@" >"$out"; then :; else
    rc=$?
    # 1 = some records or files rejected (the samples include deliberate mistakes); 2 = broken setup.
    [ "$rc" -eq 1 ] || exit "$rc"
  fi
  echo "   canonical records: $(wc -l <"$out") line(s) in $out"
}
run mappings/esr/de_extract.xml sample-data/esr/DE_*.DAT
run mappings/esr/di_return.xml sample-data/esr/DI_*.DAT
run mappings/esr/ack.xml sample-data/esr/*.ACK
run mappings/oh/generic_csv.xml sample-data/oh/*.csv
run mappings/oh/generic_xml.xml sample-data/oh/*.xml
echo
echo "Done. The rejected records above are the deliberate mistakes in sample-data/ (see sample-data/README.md)."
