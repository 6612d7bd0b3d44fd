#!/usr/bin/python3
"""Baseline for the sync benchmark (issue #4): `esrsync sync --once`, done in plain Python 3 (stdlib only).

    baseline_sync.py [--today YYYYMMDD] [--vpds 245,...] [--out DIR] [--acks DIR] [--batch 500]
                     STORE_DB FILE...

For each ESR -> OH extract (docs/DOMAIN.md "ESR -> OH extract"), in the order given, it does the job
`esrsync sync --once` does with one flow and one directory sink:

* the file's SHA-256; a file whose content was applied before, or whose (VPD, seq) was, is skipped
  as a duplicate; a seq lower than the last applied one, or a VPD not in --vpds, rejects the file;
* every record is parsed and validated by bench/baseline_esr.py's Decoder (imported, not copied:
  the same rules as the decode benchmark's baseline);
* each valid PER/ASG record is serialised canonically (json.dumps of the canonical field dict,
  sort_keys, without the action: an A then a C of the same data is no change) and hashed (SHA-256);
  the hash is compared with the last one stored for (entity, key) in SQLite;
* in ONE transaction per file (PRAGMA journal_mode=WAL, synchronous=FULL, a 64 MiB page cache like
  esrsync's): inserted / changed records are upserted with their payload, a history row keeps the
  version replaced, one outbox row is queued per change (idempotency key as esrsync builds it);
  action D withdraws; a FULL extract withdraws every person/assignment of its VPD it does not carry
  (`last_file_id` marks what the file carried, as esrsync does); a file-level failure (bad HDR,
  wrong TRL count, no TRL) rolls the whole file back;
* an .ACK is written (ACCEPTED / PARTIAL / REJECTED, one ERR line per rejected record; temp file,
  fsync, rename), unless --acks is '';
* then the outbox is delivered: pending rows in id order, --batch per JSON-lines file in --out
  (temp file, fsync, rename, fsync of the directory), each batch marked delivered in its own commit.

The input files are neither moved nor deleted (esrsync moves them to processed/, a rename).

Prints one line per file (`file=NAME outcome=... records=N rejected=R inserted=I updated=U
unchanged=S withdrawn=W queued=Q`), then `delivered=D`, then a last line with the totals:
`records=N inserted=I updated=U unchanged=S withdrawn=W delivered=D`.
Exit status: 0 every file applied or skipped as a duplicate and everything delivered; 1 a file was
rejected or partially applied; 2 a usage or I/O error.

Like baseline_esr.py it is meant as a fair baseline, written the way a competent Python programmer
would: one pass per file, prepared (cached) statements, only a hash compared per unchanged record,
the old payload read only when a record changes.
"""

import argparse
import datetime
import hashlib
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baseline_esr  # noqa: E402  (bench/baseline_esr.py: the decode benchmark's validating decoder)

SINK = "oh"  # the sink name, part of every idempotency key (esrsync: "<sink>:<entity>:<key>:...")

SCHEMA = """
CREATE TABLE IF NOT EXISTS canonical_record (
  entity        TEXT NOT NULL,
  record_key    TEXT NOT NULL,
  vpd           TEXT NOT NULL,
  content_hash  TEXT NOT NULL,
  payload       TEXT NOT NULL,
  withdrawn     INTEGER NOT NULL DEFAULT 0,
  last_file_id  INTEGER NOT NULL,
  updated_ms    INTEGER NOT NULL,
  UNIQUE (entity, record_key)
);
CREATE INDEX IF NOT EXISTS canonical_record_vpd ON canonical_record (entity, vpd, withdrawn, last_file_id);
CREATE TABLE IF NOT EXISTS change_history (
  id            INTEGER PRIMARY KEY,
  entity        TEXT NOT NULL,
  record_key    TEXT NOT NULL,
  change        TEXT NOT NULL,
  content_hash  TEXT NOT NULL,
  payload       TEXT NOT NULL,
  file_id       INTEGER NOT NULL,
  at_ms         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS change_history_key ON change_history (entity, record_key, id);
CREATE TABLE IF NOT EXISTS outbox (
  id               INTEGER PRIMARY KEY,
  idempotency_key  TEXT NOT NULL,
  entity           TEXT NOT NULL,
  record_key       TEXT NOT NULL,
  payload          TEXT NOT NULL,
  state            TEXT NOT NULL DEFAULT 'pending',
  created_ms       INTEGER NOT NULL,
  settled_ms       INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, id);
CREATE TABLE IF NOT EXISTS inbound_file (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  checksum      TEXT NOT NULL,
  vpd           TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  status        TEXT NOT NULL,
  records_read  INTEGER NOT NULL DEFAULT 0,
  accepted      INTEGER NOT NULL DEFAULT 0,
  rejected      INTEGER NOT NULL DEFAULT 0,
  reason        TEXT NOT NULL DEFAULT '',
  received_ms   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS inbound_file_checksum ON inbound_file (checksum);
CREATE INDEX IF NOT EXISTS inbound_file_seq ON inbound_file (vpd, seq);
"""

SQL_GET = "SELECT rowid, content_hash, withdrawn, last_file_id FROM canonical_record WHERE entity = ? AND record_key = ?"
SQL_GET_PAYLOAD = "SELECT payload FROM canonical_record WHERE rowid = ?"
SQL_INSERT = ("INSERT INTO canonical_record (entity, record_key, vpd, content_hash, payload, withdrawn, last_file_id, "
              "updated_ms) VALUES (?, ?, ?, ?, ?, 0, ?, ?)")
SQL_UPDATE = ("UPDATE canonical_record SET vpd = ?, content_hash = ?, payload = ?, withdrawn = 0, last_file_id = ?, "
              "updated_ms = ? WHERE rowid = ?")
SQL_TOUCH = "UPDATE canonical_record SET last_file_id = ? WHERE rowid = ?"
SQL_WITHDRAW = "UPDATE canonical_record SET withdrawn = 1, last_file_id = ?, updated_ms = ? WHERE rowid = ?"
SQL_HISTORY = ("INSERT INTO change_history (entity, record_key, change, content_hash, payload, file_id, at_ms) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)")
# One row per change, its key not indexed (as esrsync since schema 11: changes are unique by construction).
SQL_OUTBOX = "INSERT INTO outbox (idempotency_key, entity, record_key, payload, created_ms) VALUES (?, ?, ?, ?, ?)"
SQL_UNSEEN = ("SELECT rowid, record_key, content_hash, payload FROM canonical_record "
              "WHERE entity = ? AND vpd = ? AND withdrawn = 0 AND last_file_id <> ? ORDER BY record_key")

# Canonical serialisation: the C-accelerated encoder, keys sorted, no whitespace, UTF-8 kept.
dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def now_ms():
    return int(time.time() * 1000)


def write_atomically(path, data):
    """name.part, fsync, rename, fsync of the directory (DOMAIN.md: a file is complete once renamed)."""
    part = path + ".part"
    with open(part, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(part, path)
    fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()


class FileSkipped(Exception):
    """The header says the file must not be applied (duplicate sequence)."""


class SyncDecoder(baseline_esr.Decoder):
    """baseline_esr.Decoder, applying each valid record to the store as soon as it is built."""

    def __init__(self, today, store, file_id, allowed_vpds):
        super().__init__(today, report_errors=False)
        self.store = store
        self.file_id = file_id
        self.allowed_vpds = allowed_vpds
        self.rejections = []  # (line, record type, key, code) for the ACK's ERR lines
        self.duplicate_of = None
        self.inserted = self.updated = self.unchanged = self.withdrawn = self.queued = self.repeated = 0
        self.stamp = now_ms()
        self._execute = store.db.execute  # the connection's statement cache keeps each SQL prepared
        self._sha = hashlib.sha256

    def _reject(self, lineno, rtype, key, errors):
        super()._reject(lineno, rtype, key, errors)
        if len(self.rejections) < 100_000:
            for field, code in errors:
                self.rejections.append((lineno, rtype, key, code, field))

    def header_line(self, lineno, f):
        super().header_line(lineno, f)
        if self.file_errors:
            return
        h = self.header
        if h["vpd"] not in self.allowed_vpds:
            self._file_error(lineno, f"header.vpd: VPD {h['vpd']} is not configured for this installation")
            return
        same = self.store.db.execute(
            "SELECT name FROM inbound_file WHERE vpd = ? AND seq = ? AND status IN ('applied', 'partial') "
            "ORDER BY id DESC LIMIT 1", (h["vpd"], h["seq"])).fetchone()
        if same:
            self.duplicate_of = same[0]
            self._file_error(lineno, f"file.duplicate_seq: sequence {h['seq']} was applied before as {same[0]}")
            return
        last = self.store.db.execute(
            "SELECT max(seq) FROM inbound_file WHERE vpd = ? AND status IN ('applied', 'partial')",
            (h["vpd"],)).fetchone()[0]
        if last is not None and h["seq"] < last:
            self._file_error(lineno, f"file.out_of_order: sequence {h['seq']} is lower than {last}")

    def person(self, lineno, f):
        self.last_record = None
        super().person(lineno, f)
        rec = self.last_record
        if rec is not None:
            self.apply("person", rec["person_number"], rec, lineno)

    def assignment(self, lineno, f):
        self.last_record = None
        super().assignment(lineno, f)
        rec = self.last_record
        if rec is not None:
            self.apply("assignment", rec["assignment_number"], rec, lineno)

    # -- the store -------------------------------------------------------------------------------
    def apply(self, entity, key, rec, lineno):
        execute = self._execute
        action = rec.pop("action")  # how ESR sent it, not part of the content
        payload = dumps(rec)
        if action == "D":
            return self.withdraw(entity, key, payload, lineno)
        content_hash = self._sha(payload.encode()).hexdigest()
        row = execute(SQL_GET, (entity, key)).fetchone()
        vpd, file_id, stamp = self.header["vpd"], self.file_id, self.stamp
        if row is None:
            execute(SQL_INSERT, (entity, key, vpd, content_hash, payload, file_id, stamp))
            execute(SQL_HISTORY, (entity, key, "inserted", content_hash, "", file_id, stamp))
            self.inserted += 1
            change = "inserted"
        else:
            rowid, old_hash, withdrawn, last_file_id = row
            if last_file_id == file_id:
                self.repeated += 1  # the same key twice in one file: the last one wins
            if old_hash == content_hash and not withdrawn:
                execute(SQL_TOUCH, (file_id, rowid))
                self.unchanged += 1
                return
            old_payload = execute(SQL_GET_PAYLOAD, (rowid,)).fetchone()[0]
            execute(SQL_UPDATE, (vpd, content_hash, payload, file_id, stamp, rowid))
            execute(SQL_HISTORY, (entity, key, "updated", content_hash, old_payload, file_id, stamp))
            self.updated += 1
            change = "updated"
        self.queue(entity, key, change, content_hash, payload, lineno)

    def withdraw(self, entity, key, payload, lineno):
        row = self._execute("SELECT rowid, content_hash, withdrawn, payload FROM canonical_record "
                        "WHERE entity = ? AND record_key = ?", (entity, key)).fetchone()
        if row is None or row[2]:
            self.unchanged += 1
            return
        self._withdraw_row(entity, key, row[0], row[1], row[3])
        self.queue(entity, key, "withdrawn", "withdrawn", payload, lineno)

    def _withdraw_row(self, entity, key, rowid, content_hash, stored_payload):
        self._execute(SQL_WITHDRAW, (self.file_id, self.stamp, rowid))
        self._execute(SQL_HISTORY, (entity, key, "withdrawn", content_hash, stored_payload, self.file_id, self.stamp))
        self.withdrawn += 1

    def withdraw_unseen(self):
        """FULL extract: what the VPD had and this file does not carry is withdrawn."""
        for entity in ("person", "assignment"):
            rows = self.store.db.execute(SQL_UNSEEN, (entity, self.header["vpd"], self.file_id)).fetchall()
            for rowid, key, content_hash, payload in rows:
                self._withdraw_row(entity, key, rowid, content_hash, payload)
                self.queue(entity, key, "withdrawn", "gone", payload)

    def queue(self, entity, key, change, content_hash, payload, lineno=0):
        h = self.header
        idem = f"{SINK}:{entity}:{key}:{change}:{content_hash}:{h['vpd']}-{h['seq']}" + (f":{lineno}" if lineno else "")
        cur = self._execute(SQL_OUTBOX, (idem, entity, key, payload, self.stamp))
        if cur.rowcount == 1:
            self.queued += 1


class Store:
    def __init__(self, path):
        self.db = sqlite3.connect(path, isolation_level=None, cached_statements=64)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA cache_size=-16384")  # 16 MiB, as esrsync
        self.db.executescript(SCHEMA)

    def add_file(self, name, checksum, vpd, seq, status, read=0, accepted=0, rejected=0, reason=""):
        cur = self.db.execute(
            "INSERT INTO inbound_file (name, checksum, vpd, seq, status, records_read, accepted, rejected, reason, "
            "received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (name, checksum, vpd, seq, status, read, accepted, rejected, reason[:4000], now_ms()))
        return cur.lastrowid


def make_ack(name, status, dec):
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S")
    accepted = dec.records - dec.rejected if status != "REJECTED" else 0
    rejected = dec.rejected if status != "REJECTED" else dec.records
    lines = [f"ACK|{name}|{status}|{dec.records}|{accepted}|{rejected}|{created}"]
    for lineno, rtype, key, code, field in dec.rejections:
        lines.append(f"ERR|{lineno}|{rtype}|{key}|{code}|{field}")
    if status == "REJECTED":
        key = f"{dec.header['vpd']}:{dec.header['seq']}" if dec.header else ""
        for message in dec.file_errors:
            lines.append(f"ERR|0|FILE|{key}|file|{message.replace('|', ' ')}")
    return ("\n".join(lines) + "\n").encode()


def sync_file(store, path, args, totals):
    """Applies one file; returns its outcome (applied, partial, rejected, duplicate)."""
    db = store.db
    name = os.path.basename(path)
    checksum = sha256_file(path)
    seen = db.execute("SELECT name FROM inbound_file WHERE checksum = ? AND status IN ('applied', 'partial') "
                      "LIMIT 1", (checksum,)).fetchone()
    if seen:
        db.execute("BEGIN IMMEDIATE")
        store.add_file(name, checksum, "", 0, "duplicate", reason=f"same content as {seen[0]}")
        db.execute("COMMIT")
        print(f"file={name} outcome=duplicate of={seen[0]}")
        return "duplicate"

    db.execute("BEGIN IMMEDIATE")
    file_id = store.add_file(name, checksum, "", 0, "processing")
    dec = SyncDecoder(args.today, store, file_id, args.vpds)
    with open(path, "rb", buffering=1 << 20) as stream:
        dec.run(stream)
    vpd = dec.header["vpd"] if dec.header else ""
    seq = dec.header["seq"] if dec.header else 0
    if dec.duplicate_of is not None:
        db.execute("ROLLBACK")
        db.execute("BEGIN IMMEDIATE")
        store.add_file(name, checksum, vpd, seq, "duplicate", reason=f"same seq as {dec.duplicate_of}")
        db.execute("COMMIT")
        print(f"file={name} outcome=duplicate of={dec.duplicate_of}")
        return "duplicate"
    if dec.file_errors:
        db.execute("ROLLBACK")  # nothing of a rejected file is applied
        ack = make_ack(name, "REJECTED", dec)
        db.execute("BEGIN IMMEDIATE")
        store.add_file(name, checksum, vpd, seq, "rejected", dec.records, 0, dec.records, "; ".join(dec.file_errors))
        db.execute("COMMIT")
        if args.acks:
            write_atomically(os.path.join(args.acks, os.path.splitext(name)[0] + ".ACK"), ack)
        for message in dec.file_errors:
            print(f"{name}: file REJECTED: {message}", file=sys.stderr)
        print(f"file={name} outcome=rejected records={dec.records} rejected={dec.records} inserted=0 updated=0 "
              f"unchanged=0 withdrawn=0 queued=0")
        totals["records"] += dec.records
        return "rejected"
    if dec.header["extract_type"] == "FULL":
        dec.withdraw_unseen()
    outcome = "applied" if dec.rejected == 0 else "partial"
    db.execute("UPDATE inbound_file SET vpd = ?, seq = ?, status = ?, records_read = ?, accepted = ?, rejected = ? "
               "WHERE id = ?", (vpd, seq, outcome, dec.records, dec.records - dec.rejected, dec.rejected, file_id))
    db.execute("COMMIT")
    if args.acks:
        ack = make_ack(name, "ACCEPTED" if outcome == "applied" else "PARTIAL", dec)
        write_atomically(os.path.join(args.acks, os.path.splitext(name)[0] + ".ACK"), ack)
    if dec.repeated:
        print(f"{name}: warning: {dec.repeated} key(s) seen twice in the file (the last one wins)", file=sys.stderr)
    print(f"file={name} outcome={outcome} records={dec.records} rejected={dec.rejected} inserted={dec.inserted} "
          f"updated={dec.updated} unchanged={dec.unchanged} withdrawn={dec.withdrawn} queued={dec.queued}")
    for k in ("records", "inserted", "updated", "unchanged", "withdrawn"):
        totals[k] += getattr(dec, k)
    return outcome


def deliver(store, out_dir, batch):
    """Pending outbox rows, in id order, `batch` per JSON-lines file; each file's rows marked delivered."""
    db = store.db
    delivered = 0
    last_id = 0
    select = ("SELECT id, idempotency_key, entity, record_key, payload FROM outbox "
              "WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?")
    while True:
        rows = db.execute(select, (last_id, batch)).fetchall()
        if not rows:
            break
        text = "".join(f'{{"idempotency_key":{dumps(idem)},"entity":{dumps(entity)},"key":{dumps(key)},'
                       f'"change":{payload or "null"}}}\n' for _, idem, entity, key, payload in rows)
        first_id, last_id = rows[0][0], rows[-1][0]
        # The name carries the first and last ids: a redelivery after a crash rewrites the same file.
        write_atomically(os.path.join(out_dir, f"esr-{SINK}-{first_id}-{last_id}.jsonl"), text.encode())
        db.execute("BEGIN IMMEDIATE")
        # One process owns the store, so the pending rows between first and last are exactly `rows`.
        db.execute("UPDATE outbox SET state = 'delivered', settled_ms = ? WHERE id BETWEEN ? AND ? "
                   "AND state = 'pending'", (now_ms(), first_id, last_id))
        db.execute("COMMIT")
        delivered += len(rows)
    return delivered


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("store", metavar="STORE_DB", help="the SQLite store (created if absent)")
    ap.add_argument("files", metavar="FILE", nargs="+", help="DE extracts, applied in the order given")
    ap.add_argument("--today", type=baseline_esr.parse_today, default=datetime.date.today(),
                    help="reference date for date-of-birth checks (default: today)")
    ap.add_argument("--vpds", default="245", help="comma-separated VPDs accepted (default: 245)")
    ap.add_argument("--out", help="sink directory for the JSON-lines files (default: out/ next to STORE_DB)")
    ap.add_argument("--acks", help="directory for .ACK files (default: acks/ next to STORE_DB; '' for none)")
    ap.add_argument("--batch", type=int, default=500, help="changes per delivered file (default: 500)")
    args = ap.parse_args(argv)
    args.vpds = frozenset(v.strip() for v in args.vpds.split(",") if v.strip())
    base = os.path.dirname(os.path.abspath(args.store))
    if args.out is None:
        args.out = os.path.join(base, "out")
    if args.acks is None:
        args.acks = os.path.join(base, "acks")
    if args.batch < 1:
        ap.error("--batch must be at least 1")

    totals = dict.fromkeys(("records", "inserted", "updated", "unchanged", "withdrawn"), 0)
    clean = True
    try:
        os.makedirs(args.out, exist_ok=True)
        if args.acks:
            os.makedirs(args.acks, exist_ok=True)
        store = Store(args.store)
        for path in args.files:
            if sync_file(store, path, args, totals) not in ("applied", "duplicate"):
                clean = False
        delivered = deliver(store, args.out, args.batch)
        store.db.close()
    except (OSError, sqlite3.Error) as e:
        print(f"baseline_sync.py: {e}", file=sys.stderr)
        return 2
    print(f"delivered={delivered}")
    print(" ".join(f"{k}={v}" for k, v in totals.items()) + f" delivered={delivered}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
