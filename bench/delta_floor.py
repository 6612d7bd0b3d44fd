#!/usr/bin/env python3
"""The floor under a DELTA: what SQLite alone takes to rewrite a DELTA's records in place, durably.

    bench/delta_floor.py STORE DELTA_FILE [--runs N]

STORE is an esrsync store after bench/run_sync.sh (bench/work/sync/esrsync_p1500000/state/esrsync.db);
DELTA_FILE the DELTA extract it applied. Each run copies the store (and nothing else) to a temporary
directory beside it, waits for the copy to reach the disk, reads it once (a warm page cache, as
run_sync.sh gives each step), then, with the store's own settings (WAL, synchronous=FULL, a 16 MiB
page cache), rewrites one column of each PER record of the DELTA in one transaction:

    UPDATE canonical_record SET updated_ms = updated_ms + 1
    WHERE entity = 'person' AND record_key IN (the DELTA's person numbers)

No parsing, validating, hashing, history, outbox or delivery: only the page writes that any store
keeping records in a B-tree by key must make for these records (the same leaf pages esrsync's DELTA
rewrites), in one statement: SQLite's own loop, no round trip per row. Prints the time of the
updates, of the commit (the WAL written and synced, then SQLite's automatic checkpoint: the pages
written into the store file and synced) and of closing, and the number of WAL frames the commit
wrote.
"""

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time


def delta_keys(path):
    keys = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("|")
            if fields[0] == "PER":
                keys.append(fields[2])
    return keys


def one_run(store, keys):
    work = tempfile.mkdtemp(prefix="delta_floor_", dir=os.path.dirname(os.path.abspath(store)))
    try:
        copy = os.path.join(work, "esrsync.db")
        shutil.copyfile(store, copy)
        os.sync()  # the copy's writeback is not what is measured
        with open(copy, "rb") as f:
            while f.read(1 << 20):
                pass
        db = sqlite3.connect(copy, isolation_level=None)
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA cache_size=-16384"):
            db.execute(pragma)
        wal = copy + "-wal"
        t0 = time.perf_counter()
        db.execute("BEGIN")
        db.execute("UPDATE canonical_record SET updated_ms = updated_ms + 1 "
                   "WHERE entity = 'person' AND record_key IN (SELECT value FROM json_each(?))", (json.dumps(keys),))
        t1 = time.perf_counter()
        db.execute("COMMIT")
        t2 = time.perf_counter()
        # The checkpoint copies the WAL's frames but leaves the file as long as the commit made it.
        frames = (os.path.getsize(wal) - 32) // (24 + 4096) if os.path.exists(wal) else 0
        db.close()
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, frames
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store")
    parser.add_argument("delta")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    keys = delta_keys(args.delta)
    if not keys:
        sys.exit(f"{args.delta}: no PER records")
    db = sqlite3.connect(f"file:{args.store}?mode=ro", uri=True)
    found = db.execute("SELECT count(*) FROM canonical_record WHERE entity = 'person' AND record_key IN "
                       "(SELECT value FROM json_each(?))", (json.dumps(keys),)).fetchone()[0]
    db.close()
    if found != len(keys):
        sys.exit(f"{args.store}: {found} of the DELTA's {len(keys)} persons are in the store")
    print(f"{len(keys)} records rewritten in place, one transaction, synchronous=FULL")
    print("| run | updates | commit (WAL + checkpoint) | close | total | WAL frames after commit |")
    print("|--:|--:|--:|--:|--:|--:|")
    for run in range(1, args.runs + 1):
        update, commit, close, frames = one_run(args.store, keys)
        print(f"| {run} | {update:.3f} s | {commit:.3f} s | {close:.3f} s | {update + commit + close:.3f} s | "
              f"{frames} |")


if __name__ == "__main__":
    main()
