#!/usr/bin/env bash
# The README's first command: install what esrsync needs, build it, and run the main job — a
# one-shot sync of the sample ESR extracts in sample-data/ on the embedded SQLite store
# (sample-data/esrsync.toml), printing its summary. The OH exports in sample-data/oh/ have no sync
# flow yet; they are shown as a dry run (`esrsync map`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh build
cmake --preset release -DESRSYNC_BUILD_TESTS=OFF >/dev/null
cmake --build --preset release --target esrsync
bin=build/release/daemon/esrsync

# A fresh working area each run: the sample files are copied into the flow's inbox (sync moves
# what it consumes), and the store starts empty.
demo=build/demo
rm -rf "$demo"
mkdir -p "$demo/state" "$demo/esr/inbox" "$demo/esr/processed" "$demo/esr/quarantine" "$demo/esr/acks" \
  "$demo/oh/outbox"
cp sample-data/esr/DE_*.DAT "$demo/esr/inbox/"

echo
echo "== esrsync check --config sample-data/esrsync.toml"
"$bin" check --config sample-data/esrsync.toml

echo
echo "== esrsync sync --once --config sample-data/esrsync.toml"
rc=0
"$bin" sync --once --config sample-data/esrsync.toml || rc=$?
# 1 = some records or files rejected or held: the samples include deliberate mistakes
# (sample-data/README.md). 2 = a broken setup.
[ "$rc" -le 1 ] || exit "$rc"

echo
echo "== what it left behind (under $demo/)"
for d in esr/acks esr/processed esr/quarantine esr/inbox oh/outbox; do
  printf '   %-16s %s\n' "$d" "$(cd "$demo/$d" && ls | tr '\n' ' ')"
done
echo "   store            $demo/state/esrsync.db (SQLite)"

echo
echo "== esrsync map (dry run) over the OH exports in sample-data/oh/"
for pair in "generic_csv.xml:csv" "generic_xml.xml:xml"; do
  mapping=${pair%%:*}; ext=${pair#*:}
  "$bin" map --mapping "mappings/oh/$mapping" sample-data/oh/*."$ext" >"$demo/map-$ext.jsonl" || [ $? -eq 1 ]
  echo "   canonical records: $(wc -l <"$demo/map-$ext.jsonl") line(s) in $demo/map-$ext.jsonl"
done
