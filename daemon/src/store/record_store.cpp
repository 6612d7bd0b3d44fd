#include "esrsync/store/record_store.hpp"

#include <initializer_list>

#include "esrsync/store/payload.hpp"

namespace esrsync::store {

const Migration RecordStore::kMigration{2, R"sql(
CREATE TABLE canonical_record (
  entity        TEXT NOT NULL,
  record_key    TEXT NOT NULL,
  vpd           TEXT NOT NULL DEFAULT '',
  content_hash  TEXT NOT NULL,
  payload       BLOB NOT NULL,
  withdrawn     INTEGER NOT NULL DEFAULT 0,
  last_file_id  INTEGER NOT NULL DEFAULT 0,
  updated_ms    INTEGER NOT NULL,
  UNIQUE (entity, record_key)
);
CREATE INDEX canonical_record_vpd ON canonical_record (entity, vpd, withdrawn, last_file_id);
CREATE TABLE change_history (
  id            INTEGER PRIMARY KEY,
  entity        TEXT NOT NULL,
  record_key    TEXT NOT NULL,
  change        TEXT NOT NULL CHECK (change IN ('inserted', 'updated', 'withdrawn')),
  content_hash  TEXT NOT NULL,
  payload       BLOB NOT NULL,
  file_id       INTEGER NOT NULL,
  at_ms         INTEGER NOT NULL
);
CREATE INDEX change_history_key ON change_history (entity, record_key, id);
CREATE TABLE inbound_file (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  checksum      TEXT NOT NULL,
  vpd           TEXT NOT NULL,
  interface     TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('processing', 'applied', 'partial', 'rejected', 'held', 'duplicate')),
  records_read  INTEGER NOT NULL DEFAULT 0,
  accepted      INTEGER NOT NULL DEFAULT 0,
  rejected      INTEGER NOT NULL DEFAULT 0,
  reason        TEXT NOT NULL DEFAULT '',
  ack           TEXT NOT NULL DEFAULT '',
  received_ms   INTEGER NOT NULL,
  settled_ms    INTEGER
);
CREATE INDEX inbound_file_checksum ON inbound_file (checksum);
CREATE TABLE run (
  id            INTEGER PRIMARY KEY,
  flow          TEXT NOT NULL,
  started_ms    INTEGER NOT NULL,
  finished_ms   INTEGER NOT NULL,
  files         INTEGER NOT NULL,
  applied       INTEGER NOT NULL,
  partial       INTEGER NOT NULL,
  rejected      INTEGER NOT NULL,
  held          INTEGER NOT NULL,
  duplicates    INTEGER NOT NULL,
  delivered     INTEGER NOT NULL,
  pending       INTEGER NOT NULL,
  dead          INTEGER NOT NULL,
  clean         INTEGER NOT NULL
);
CREATE TABLE released_gap (
  vpd           TEXT NOT NULL,
  interface     TEXT NOT NULL,
  seq           INTEGER NOT NULL,
  released_ms   INTEGER NOT NULL,
  released_by   TEXT NOT NULL,
  PRIMARY KEY (vpd, interface, seq)
);
CREATE INDEX inbound_file_seq ON inbound_file (vpd, interface, seq);
)sql"};

// A FULL extract finds withdrawals by comparing the keys it carried (in memory) with the VPD's live
// keys: this index covers that scan, and no longer holds last_file_id, which unchanged records no
// longer have rewritten.
const Migration RecordStore::kVpdIndexMigration{9, R"sql(
DROP INDEX canonical_record_vpd;
CREATE INDEX canonical_record_vpd ON canonical_record (entity, vpd, withdrawn, record_key);
)sql"};

// The change history is written for every change and read only for an audit of one record: the
// index by key cost a random write per change and served no query of the sync path. A record's
// history is found by scanning (RecordStore::history, an operator's question, not a hot path).
const Migration RecordStore::kHistoryIndexMigration{12, R"sql(
DROP INDEX change_history_key;
)sql"};

// The history's CHECK on `change` was an IN list, which SQLite evaluates by building a temporary
// B-tree of the list for every INSERT statement run: a third of a first load's instructions went
// there. The same rule written as comparisons costs nothing. SQLite cannot alter a CHECK, so the
// table (no index since schema 12) is rebuilt.
const Migration RecordStore::kHistoryCheckMigration{15, R"sql(
CREATE TABLE change_history_v15 (
  id            INTEGER PRIMARY KEY,
  entity        TEXT NOT NULL,
  record_key    TEXT NOT NULL,
  change        TEXT NOT NULL CHECK (change = 'inserted' OR change = 'updated' OR change = 'withdrawn'),
  content_hash  TEXT NOT NULL,
  payload       BLOB NOT NULL,
  file_id       INTEGER NOT NULL,
  at_ms         INTEGER NOT NULL
);
INSERT INTO change_history_v15 (id, entity, record_key, change, content_hash, payload, file_id, at_ms)
  SELECT id, entity, record_key, change, content_hash, payload, file_id, at_ms FROM change_history;
DROP TABLE change_history;
ALTER TABLE change_history_v15 RENAME TO change_history;
)sql"};

// The records clustered by their key: a table without rowid whose primary key is (record_key,
// entity). A lookup by key is one B-tree search instead of two (the unique index, then the row by
// rowid), a new record one B-tree insert fewer, and a DELTA reads one page per changed record
// instead of two. Key first, then entity: an ESR extract lists each person and then their
// assignments ("10000050", "10000050-1", "10000150", ...), which is this order, so a first load
// appends at the end of the tree (full pages) instead of in two places. Upgrading copies the
// records once (54 s for 3.45 M records on the bench machine).
const Migration RecordStore::kClusteredMigration{17, R"sql(
CREATE TABLE canonical_record_v17 (
  entity        TEXT NOT NULL,
  record_key    TEXT NOT NULL,
  vpd           TEXT NOT NULL DEFAULT '',
  content_hash  TEXT NOT NULL,
  payload       BLOB NOT NULL,
  withdrawn     INTEGER NOT NULL DEFAULT 0,
  last_file_id  INTEGER NOT NULL DEFAULT 0,
  updated_ms    INTEGER NOT NULL,
  PRIMARY KEY (record_key, entity)
) WITHOUT ROWID;
INSERT INTO canonical_record_v17 (entity, record_key, vpd, content_hash, payload, withdrawn, last_file_id, updated_ms)
  SELECT entity, record_key, vpd, content_hash, payload, withdrawn, last_file_id, updated_ms FROM canonical_record
  ORDER BY record_key, entity;
DROP TABLE canonical_record;
ALTER TABLE canonical_record_v17 RENAME TO canonical_record;
CREATE INDEX canonical_record_vpd ON canonical_record (entity, vpd, withdrawn, record_key);
)sql"};

// A DELTA lists changes, each to a record on a page of its own among millions: rewriting them in
// place writes one 8 KiB page per change to the WAL and again at the checkpoint (~16,000 pages for
// 15,000 changes). Instead a file's content changes (same VPD, still live) are written to this
// small table of recent versions, a few pages for thousands of changes, and merged into the
// records later in key order (RecordStore::merge_recent): when RecordStore::kMergeAtRows wait, or
// by `esrsync store merge`, so a page that several files changed is written once.
// Invariant: a recent version's record exists, live, with the same VPD; a change to a record's
// VPD or state writes the whole record and drops its recent version. `current_record` reads the
// records as they are.
const Migration RecordStore::kDeferredMigration{19, R"sql(
CREATE TABLE canonical_record_recent (
  record_key    TEXT NOT NULL,
  entity        TEXT NOT NULL,
  content_hash  TEXT NOT NULL,
  payload       BLOB NOT NULL,
  last_file_id  INTEGER NOT NULL,
  updated_ms    INTEGER NOT NULL,
  PRIMARY KEY (record_key, entity)
) WITHOUT ROWID;
CREATE VIEW current_record AS
  SELECT c.entity, c.record_key, c.vpd, coalesce(r.content_hash, c.content_hash) AS content_hash,
         coalesce(r.payload, c.payload) AS payload, c.withdrawn,
         coalesce(r.last_file_id, c.last_file_id) AS last_file_id, coalesce(r.updated_ms, c.updated_ms) AS updated_ms
  FROM canonical_record AS c
  LEFT JOIN canonical_record_recent AS r ON r.record_key = c.record_key AND r.entity = c.entity;
)sql"};

// The VPD index in the records' own order: (vpd, withdrawn, record_key, entity). With the entity
// first, a first load (persons and their assignments, in key order) inserted into two places of
// the index at once, each insert a search from the root; in this order an extract in key order
// appends at the end of the index, as it does to the records. A FULL's comparison still reads the
// VPD's live keys in key order, both entities in one pass (RecordStore::withdraw_unseen).
const Migration RecordStore::kAppendIndexMigration{20, R"sql(
DROP INDEX canonical_record_vpd;
CREATE INDEX canonical_record_vpd ON canonical_record (vpd, withdrawn, record_key, entity);
)sql"};

std::string_view to_string(Change c) noexcept {
  switch (c) {
    case Change::inserted:
      return "inserted";
    case Change::updated:
      return "updated";
    case Change::unchanged:
      return "unchanged";
    case Change::withdrawn:
      return "withdrawn";
  }
  return "unchanged";
}

std::string_view to_string(FileStatus s) noexcept {
  switch (s) {
    case FileStatus::processing:
      return "processing";
    case FileStatus::applied:
      return "applied";
    case FileStatus::partial:
      return "partial";
    case FileStatus::rejected:
      return "rejected";
    case FileStatus::held:
      return "held";
    case FileStatus::duplicate:
      return "duplicate";
  }
  return "processing";
}

namespace {

Change change_from(std::string_view s) {
  if (s == "inserted") return Change::inserted;
  if (s == "updated") return Change::updated;
  if (s == "withdrawn") return Change::withdrawn;
  return Change::unchanged;
}

FileStatus status_from(std::string_view s) {
  for (const auto st : {FileStatus::processing, FileStatus::applied, FileStatus::partial, FileStatus::rejected,
                        FileStatus::held, FileStatus::duplicate}) {
    if (to_string(st) == s) return st;
  }
  return FileStatus::processing;
}

// Binds text parameters 1..n in order.
// Every caller runs the statement before the values it binds go out of scope: bound uncopied.
Status bind_texts(Statement& stmt, std::initializer_list<std::string_view> values, int first = 1) {
  int index = first;
  for (const auto v : values) {
    if (auto ok = stmt.bind_view(index++, v); !ok) return ok;
  }
  return {};
}

}  // namespace

Result<std::optional<StoredRecord>> RecordStore::get(std::string_view entity, std::string_view key) {
  if (auto ok = flush_appended(); !ok) return fail(std::move(ok).error());
  auto stmt = db_.cached(
      "SELECT vpd, content_hash, payload, withdrawn, last_file_id FROM canonical_record "
      "WHERE entity = ?1 AND record_key = ?2");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {entity, key}); !ok) return fail(std::move(ok).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  if (!*row) return std::optional<StoredRecord>{};
  StoredRecord r{std::string(entity),
                 std::string(key),
                 std::string((*stmt)->column_text(0)),
                 std::string((*stmt)->column_text(1)),
                 std::string((*stmt)->column_blob(2)),
                 (*stmt)->column_int64(3) != 0,
                 (*stmt)->column_int64(4)};
  (*stmt)->reset();
  if (auto found = recent(entity, key, &r.content_hash, &r.payload, &r.last_file_id); !found) {
    return fail(std::move(found).error());
  }
  auto payload = unpack_payload(r.payload);
  if (!payload) return fail(std::move(payload).error());
  r.payload = std::move(*payload);
  return std::optional<StoredRecord>(std::move(r));
}

Result<std::vector<StoredRecord>> RecordStore::with_prefix(std::string_view entity, std::string_view prefix) {
  if (auto ok = flush_appended(); !ok) return fail(std::move(ok).error());
  // A range on the primary key (record_key, entity): prefix <= key < prefix with its last byte + 1.
  // `+entity`: the entity is a filter, not a way in (the VPD index by entity would walk every
  // record of the entity).
  std::string upper(prefix);
  if (upper.empty() || static_cast<unsigned char>(upper.back()) == 0xFF) {
    return fail(Errc::config, "store.prefix", "a key prefix must be non-empty and end below 0xFF");
  }
  upper.back() = static_cast<char>(upper.back() + 1);
  auto stmt = db_.cached(
      "SELECT record_key, vpd, content_hash, payload, withdrawn, last_file_id FROM canonical_record "
      "WHERE +entity = ?1 AND record_key >= ?2 AND record_key < ?3 ORDER BY record_key");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {entity, prefix, upper}); !ok) return fail(std::move(ok).error());
  auto records = (*stmt)->collect([&](const Statement& row) {
    return StoredRecord{std::string(entity),
                        std::string(row.column_text(0)),
                        std::string(row.column_text(1)),
                        std::string(row.column_text(2)),
                        std::string(row.column_blob(3)),
                        row.column_int64(4) != 0,
                        row.column_int64(5)};
  });
  if (!records) return records;
  for (auto& r : *records) {
    if (auto found = recent(entity, r.key, &r.content_hash, &r.payload, &r.last_file_id); !found) {
      return fail(std::move(found).error());
    }
    auto payload = unpack_payload(r.payload);
    if (!payload) return fail(std::move(payload).error());
    r.payload = std::move(*payload);
  }
  return records;
}

Status RecordStore::append_history(std::string_view entity, std::string_view key, Change change, std::string_view hash,
                                   std::string_view payload, std::int64_t file_id) {
  auto stmt =
      db_.cached(history_,
                 "INSERT INTO change_history (entity, record_key, change, content_hash, payload, file_id, at_ms) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {entity, key, to_string(change), hash}); !ok) return ok;
  if (auto ok = (*stmt)->bind_blob_view(5, payload); !ok) return ok;
  if (auto ok = (*stmt)->bind(6, file_id); !ok) return ok;
  if (auto ok = (*stmt)->bind(7, clock_.now_ms()); !ok) return ok;
  return (*stmt)->run();
}

Result<Change> RecordStore::apply(std::string_view entity, std::string_view key, std::string_view vpd,
                                  std::string_view payload, std::string_view content_hash, std::int64_t file_id,
                                  bool likely_new, std::string* previous) {
  if (previous != nullptr) previous->clear();
  // Packed only when it is to be written: most records of a FULL are unchanged.
  const auto pack = [&] {
    if (is_packed_payload(payload)) return;
    packed_.clear();
    pack_payload(payload, packed_);
    payload = packed_;
  };
  if (likely_new && recent_keys_) {
    auto above = above_all(entity, key);
    if (!above) return fail(std::move(above).error());
    if (*above) {
      pack();
      if (auto ok = append(entity, key, vpd, payload, content_hash, file_id); !ok) return fail(std::move(ok).error());
      return Change::inserted;
    }
  }
  if (auto ok = flush_appended(); !ok) return fail(std::move(ok).error());
  if (likely_new) {
    pack();
    auto insert = db_.cached(
        insert_new_,
        "INSERT INTO canonical_record (entity, record_key, vpd, content_hash, payload, withdrawn, last_file_id, "
        "updated_ms) VALUES (?1, ?2, ?4, ?5, ?6, 0, ?3, ?7) ON CONFLICT (record_key, entity) DO NOTHING");
    if (!insert) return fail(std::move(insert).error());
    if (auto ok = bind_row(**insert, entity, key, vpd, payload, content_hash, file_id); !ok) {
      return fail(std::move(ok).error());
    }
    if (auto ok = (*insert)->run(); !ok) return fail(std::move(ok).error());
    if (db_.changes() == 1) {
      if (bound_) (void)above_all(entity, key);  // raises the bound if above it
      if (auto ok = append_history(entity, key, Change::inserted, content_hash, "", file_id); !ok) {
        return fail(std::move(ok).error());
      }
      return Change::inserted;
    }
  }
  // Only the hash and state are read: an unchanged record (most of a FULL extract) costs one
  // lookup and no write.
  auto probe =
      db_.cached(probe_,
                 "SELECT content_hash, withdrawn, payload, vpd FROM canonical_record WHERE record_key = ?2 AND "
                 "entity = ?1");
  if (!probe) return fail(std::move(probe).error());
  if (auto ok = bind_texts(**probe, {entity, key}); !ok) return fail(std::move(ok).error());
  auto found = (*probe)->step();
  if (!found) return fail(std::move(found).error());
  Change change = Change::inserted;
  std::string replaced;
  bool in_place = false;  // only the content changes
  bool had_recent = false;
  if (*found) {
    const bool live = (*probe)->column_int64(1) == 0;
    in_place = live && (*probe)->column_text(3) == vpd;
    if (!maybe_recent(entity, key)) {
      if ((*probe)->column_text(0) == content_hash && live) return Change::unchanged;
      // History keeps the version a change replaced (the current one is in canonical_record), so a
      // first load writes each payload once, not twice.
      replaced = (*probe)->column_blob(2);
    } else {
      std::string hash((*probe)->column_text(0));
      replaced = (*probe)->column_blob(2);
      (*probe)->reset();
      std::int64_t ignored = 0;
      auto waiting = recent(entity, key, &hash, &replaced, &ignored);
      if (!waiting) return fail(std::move(waiting).error());
      had_recent = *waiting;
      if (hash == content_hash && live) return Change::unchanged;
    }
    change = Change::updated;
  }
  (*probe)->reset();
  pack();
  const std::int64_t now = clock_.now_ms();
  // Waits among the recent versions (replaces its own there), while fewer than merge_at_ wait.
  if (in_place && recent_keys_ && (had_recent || static_cast<std::int64_t>(recent_keys_->size()) < merge_at_)) {
    auto put =
        db_.cached(recent_put_,
                   "INSERT INTO canonical_record_recent (record_key, entity, content_hash, payload, last_file_id, "
                   "updated_ms) VALUES (?2, ?1, ?3, ?4, ?5, ?6) ON CONFLICT (record_key, entity) DO UPDATE SET "
                   "content_hash = excluded.content_hash, payload = excluded.payload, "
                   "last_file_id = excluded.last_file_id, updated_ms = excluded.updated_ms");
    if (!put) return fail(std::move(put).error());
    if (auto ok = bind_texts(**put, {entity, key, content_hash}); !ok) return fail(std::move(ok).error());
    if (auto ok = (*put)->bind_blob_view(4, payload); !ok) return fail(std::move(ok).error());
    if (auto ok = (*put)->bind(5, file_id); !ok) return fail(std::move(ok).error());
    if (auto ok = (*put)->bind(6, now); !ok) return fail(std::move(ok).error());
    if (auto ok = (*put)->run(); !ok) return fail(std::move(ok).error());
    recent_keys_->insert(recent_key(entity, key));
  } else {
    // The whole record is written: a recent version of it is replaced with it.
    if (had_recent) {
      if (auto ok = drop_recent(entity, key); !ok) return fail(std::move(ok).error());
    }
    if (in_place) {
      // The usual change (a new mobile, a new grade): the row is rewritten where it is, and the
      // indexes, whose columns do not change, are left alone.
      if (auto ok = update_in_place(entity, key, payload, content_hash, file_id, now); !ok) {
        return fail(std::move(ok).error());
      }
    } else if (auto ok = upsert(entity, key, vpd, payload, content_hash, file_id); !ok) {
      return fail(std::move(ok).error());
    } else if (change == Change::inserted && bound_) {
      (void)above_all(entity, key);  // raises the bound if above it
    }
  }
  if (in_place && previous != nullptr) {
    auto json = unpack_payload(replaced);
    if (!json) return fail(std::move(json).error());
    *previous = std::move(*json);
  }
  if (auto ok = append_history(entity, key, change, content_hash, replaced, file_id); !ok) {
    return fail(std::move(ok).error());
  }
  return change;
}

Status RecordStore::update_in_place(std::string_view entity, std::string_view key, std::string_view payload,
                                    std::string_view content_hash, std::int64_t file_id, std::int64_t at_ms) {
  auto update =
      db_.cached(update_in_place_,
                 "UPDATE canonical_record SET content_hash = ?3, payload = ?4, last_file_id = ?5, updated_ms = ?6 "
                 "WHERE record_key = ?2 AND entity = ?1");
  if (!update) return fail(std::move(update).error());
  if (auto ok = bind_texts(**update, {entity, key, content_hash}); !ok) return ok;
  if (auto ok = (*update)->bind_blob_view(4, payload); !ok) return ok;
  if (auto ok = (*update)->bind(5, file_id); !ok) return ok;
  if (auto ok = (*update)->bind(6, at_ms); !ok) return ok;
  return (*update)->run();
}

Result<bool> RecordStore::recent(std::string_view entity, std::string_view key, std::string* hash, std::string* payload,
                                 std::int64_t* file_id) {
  if (!maybe_recent(entity, key)) return false;
  auto probe = db_.cached(recent_probe_,
                          "SELECT content_hash, payload, last_file_id FROM canonical_record_recent "
                          "WHERE record_key = ?2 AND entity = ?1");
  if (!probe) return fail(std::move(probe).error());
  if (auto ok = bind_texts(**probe, {entity, key}); !ok) return fail(std::move(ok).error());
  auto found = (*probe)->step();
  if (!found) return fail(std::move(found).error());
  if (*found) {
    *hash = (*probe)->column_text(0);
    *payload = (*probe)->column_blob(1);
    *file_id = (*probe)->column_int64(2);
  }
  (*probe)->reset();
  return *found;
}

Status RecordStore::drop_recent(std::string_view entity, std::string_view key) {
  auto drop = db_.cached(recent_drop_, "DELETE FROM canonical_record_recent WHERE record_key = ?2 AND entity = ?1");
  if (!drop) return fail(std::move(drop).error());
  if (auto ok = bind_texts(**drop, {entity, key}); !ok) return ok;
  return (*drop)->run();
}

bool RecordStore::maybe_recent(std::string_view entity, std::string_view key) {
  if (!recent_keys_) return true;
  return !recent_keys_->empty() && recent_keys_->contains(recent_key(entity, key));
}

const std::string& RecordStore::recent_key(std::string_view entity, std::string_view key) {
  recent_key_.assign(entity);
  recent_key_ += '\x1f';
  recent_key_ += key;
  return recent_key_;
}

Result<std::int64_t> RecordStore::begin_file(std::int64_t merge_at) {
  end_file();
  std::unordered_set<std::string> keys;
  {
    auto rows = db_.cached("SELECT entity, record_key FROM canonical_record_recent");
    if (!rows) return fail(std::move(rows).error());
    for (;;) {
      auto row = (*rows)->step();
      if (!row) return fail(std::move(row).error());
      if (!*row) break;
      keys.insert(recent_key((*rows)->column_text(0), (*rows)->column_text(1)));
    }
  }
  std::int64_t merged = 0;
  if (static_cast<std::int64_t>(keys.size()) >= merge_at) {
    auto done = merge_recent();
    if (!done) return done;
    merged = *done;
    keys.clear();
  }
  recent_keys_ = std::move(keys);
  merge_at_ = merge_at;
  return merged;
}

Result<std::int64_t> RecordStore::count_recent() {
  auto count = db_.cached("SELECT count(*) FROM canonical_record_recent");
  if (!count) return fail(std::move(count).error());
  auto row = (*count)->step();
  if (!row) return fail(std::move(row).error());
  const std::int64_t n = (*count)->column_int64(0);
  (*count)->reset();
  return n;
}

void RecordStore::end_file() noexcept {
  recent_keys_.reset();
  appending_ = 0;
  bound_.reset();
}

Result<bool> RecordStore::above_all(std::string_view entity, std::string_view key) {
  if (!bound_) {
    // The primary key's last entry: one descent.
    auto last =
        db_.cached("SELECT record_key, entity FROM canonical_record ORDER BY record_key DESC, entity DESC LIMIT 1");
    if (!last) return fail(std::move(last).error());
    auto row = (*last)->step();
    if (!row) return fail(std::move(row).error());
    bound_.emplace();
    if (*row) *bound_ = std::pair(std::string((*last)->column_text(0)), std::string((*last)->column_text(1)));
  }
  auto& bound = *bound_;
  if (bound && std::pair(key, entity) <= std::pair(std::string_view(bound->first), std::string_view(bound->second))) {
    return false;
  }
  if (!bound) bound.emplace();
  bound->first.assign(key);
  bound->second.assign(entity);
  return true;
}

Status RecordStore::append(std::string_view entity, std::string_view key, std::string_view vpd,
                           std::string_view payload, std::string_view content_hash, std::int64_t file_id) {
  if (appended_.size() == appending_) appended_.emplace_back();
  Appended& row = appended_[appending_++];
  row.entity.assign(entity);
  row.key.assign(key);
  row.vpd.assign(vpd);
  row.hash.assign(content_hash);
  row.payload.assign(payload);
  row.file_id = file_id;
  row.at_ms = clock_.now_ms();
  return appending_ == kAppendRows ? flush_appended() : Status{};
}

Status RecordStore::flush_appended() {
  if (appending_ == 0) return {};
  const std::size_t rows = appending_;
  appending_ = 0;  // on a failure the file's transaction is rolled back: nothing is queued twice
  // One statement for all of them: its cursors stay at the end of the records and of the VPD index.
  static const std::string kRecords = multi_row_insert(
      "INSERT INTO canonical_record (entity, record_key, vpd, content_hash, payload, withdrawn, "
      "last_file_id, updated_ms) VALUES ",
      "(?, ?, ?, ?, ?, 0, ?, ?)", kAppendRows);
  static const std::string kHistory = multi_row_insert(
      "INSERT INTO change_history (entity, record_key, change, content_hash, payload, file_id, at_ms) VALUES ",
      "(?, ?, 'inserted', ?, x'', ?, ?)", kAppendRows);
  static const std::string kOne = multi_row_insert(
      "INSERT INTO canonical_record (entity, record_key, vpd, content_hash, payload, withdrawn, last_file_id, "
      "updated_ms) VALUES ",
      "(?, ?, ?, ?, ?, 0, ?, ?)", 1);
  const auto bind_record = [](Statement& stmt, int first, const Appended& r) -> Status {
    if (auto ok = bind_texts(stmt, {r.entity, r.key, r.vpd, r.hash}, first); !ok) return ok;
    if (auto ok = stmt.bind_blob_view(first + 4, r.payload); !ok) return ok;
    if (auto ok = stmt.bind(first + 5, r.file_id); !ok) return ok;
    return stmt.bind(first + 6, r.at_ms);
  };
  if (rows < kAppendRows) {
    for (std::size_t i = 0; i < rows; ++i) {
      const Appended& r = appended_[i];
      auto one = db_.cached(append_one_, kOne);
      if (!one) return fail(std::move(one).error());
      if (auto ok = bind_record(**one, 1, r); !ok) return ok;
      if (auto ok = (*one)->run(); !ok) return ok;
      if (auto ok = append_history(r.entity, r.key, Change::inserted, r.hash, "", r.file_id); !ok) return ok;
    }
    return {};
  }
  {
    auto insert = db_.cached(append_rows_, kRecords);
    if (!insert) return fail(std::move(insert).error());
    for (std::size_t i = 0; i < rows; ++i) {
      if (auto ok = bind_record(**insert, static_cast<int>(7 * i + 1), appended_[i]); !ok) return ok;
    }
    if (auto ok = (*insert)->run(); !ok) return ok;
  }
  auto history = db_.cached(append_history_, kHistory);
  if (!history) return fail(std::move(history).error());
  for (std::size_t i = 0; i < rows; ++i) {
    const Appended& r = appended_[i];
    const int first = static_cast<int>(5 * i + 1);
    if (auto ok = bind_texts(**history, {r.entity, r.key, r.hash}, first); !ok) return ok;
    if (auto ok = (*history)->bind(first + 3, r.file_id); !ok) return ok;
    if (auto ok = (*history)->bind(first + 4, r.at_ms); !ok) return ok;
  }
  return (*history)->run();
}

Result<std::int64_t> RecordStore::merge_recent() {
  if (auto ok = flush_appended(); !ok) return fail(std::move(ok).error());
  // In key order: the records' pages are rewritten front to back, each once.
  auto rows = db_.prepare(
      "SELECT entity, record_key, content_hash, payload, last_file_id, updated_ms FROM canonical_record_recent "
      "ORDER BY record_key, entity");
  if (!rows) return fail(std::move(rows).error());
  std::int64_t merged = 0;
  for (;;) {
    auto row = rows->step();
    if (!row) return fail(std::move(row).error());
    if (!*row) break;
    if (auto ok = update_in_place(rows->column_text(0), rows->column_text(1), rows->column_blob(3),
                                  rows->column_text(2), rows->column_int64(4), rows->column_int64(5));
        !ok) {
      return fail(std::move(ok).error());
    }
    if (db_.changes() != 1) {
      return fail(Errc::structure, "store.recent",
                  "a recent version of " + std::string(rows->column_text(0)) + " " + std::string(rows->column_text(1)) +
                      " has no record to merge into");
    }
    ++merged;
  }
  rows->reset();
  if (auto ok = db_.exec("DELETE FROM canonical_record_recent"); !ok) return fail(std::move(ok).error());
  if (recent_keys_) recent_keys_->clear();
  return merged;
}

Status RecordStore::upsert(std::string_view entity, std::string_view key, std::string_view vpd,
                           std::string_view payload, std::string_view content_hash, std::int64_t file_id) {
  auto stmt = db_.cached(
      upsert_,
      "INSERT INTO canonical_record (entity, record_key, vpd, content_hash, payload, withdrawn, last_file_id, "
      "updated_ms) VALUES (?1, ?2, ?4, ?5, ?6, 0, ?3, ?7) ON CONFLICT (record_key, entity) DO UPDATE SET "
      "vpd = excluded.vpd, content_hash = excluded.content_hash, payload = excluded.payload, withdrawn = 0, "
      "last_file_id = excluded.last_file_id, updated_ms = excluded.updated_ms");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_row(**stmt, entity, key, vpd, payload, content_hash, file_id); !ok) return ok;
  return (*stmt)->run();
}

// ?1 entity, ?2 key, ?3 file id, ?4 vpd, ?5 hash, ?6 payload, ?7 now.
Status RecordStore::bind_row(Statement& stmt, std::string_view entity, std::string_view key, std::string_view vpd,
                             std::string_view payload, std::string_view content_hash, std::int64_t file_id) {
  if (auto ok = bind_texts(stmt, {entity, key}); !ok) return ok;
  if (auto ok = stmt.bind(3, file_id); !ok) return ok;
  if (auto ok = bind_texts(stmt, {vpd, content_hash}, 4); !ok) return ok;
  if (auto ok = stmt.bind_blob_view(6, payload); !ok) return ok;
  return stmt.bind(7, clock_.now_ms());
}

Result<Change> RecordStore::withdraw(std::string_view entity, std::string_view key, std::int64_t file_id) {
  if (auto ok = flush_appended(); !ok) return fail(std::move(ok).error());
  auto existing = get(entity, key);
  if (!existing) return fail(std::move(existing).error());
  if (!*existing || (*existing)->withdrawn) return Change::unchanged;
  packed_.clear();
  pack_payload((*existing)->payload, packed_);
  // The record takes its current content with it (a recent version of it is dropped).
  auto stmt = db_.cached(
      "UPDATE canonical_record SET withdrawn = 1, content_hash = ?3, payload = ?4, last_file_id = ?5, "
      "updated_ms = ?6 WHERE entity = ?1 AND record_key = ?2");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {entity, key, (*existing)->content_hash}); !ok) {
    return fail(std::move(ok).error());
  }
  if (auto ok = (*stmt)->bind_blob_view(4, packed_); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(5, file_id); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(6, clock_.now_ms()); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->run(); !ok) return fail(std::move(ok).error());
  if (maybe_recent(entity, key)) {
    if (auto ok = drop_recent(entity, key); !ok) return fail(std::move(ok).error());
  }
  if (auto ok = append_history(entity, key, Change::withdrawn, (*existing)->content_hash, packed_, file_id); !ok) {
    return fail(std::move(ok).error());
  }
  return Change::withdrawn;
}

Result<bool> RecordStore::has_live(std::string_view entity, std::string_view vpd) {
  if (auto ok = flush_appended(); !ok) return fail(std::move(ok).error());
  auto stmt =
      db_.cached("SELECT EXISTS (SELECT 1 FROM canonical_record WHERE vpd = ?2 AND withdrawn = 0 AND entity = ?1)");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {entity, vpd}); !ok) return fail(std::move(ok).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  return *row && (*stmt)->column_int64(0) != 0;
}

Result<std::int64_t> RecordStore::count_live(std::string_view entity, std::string_view vpd) {
  if (auto ok = flush_appended(); !ok) return fail(std::move(ok).error());
  auto stmt = db_.cached("SELECT count(*) FROM canonical_record WHERE vpd = ?2 AND withdrawn = 0 AND entity = ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {entity, vpd}); !ok) return fail(std::move(ok).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  return *row ? (*stmt)->column_int64(0) : 0;
}

Result<std::vector<std::pair<std::string, std::string>>> RecordStore::withdraw_unseen(
    std::string_view vpd, const std::map<std::string, KeySet, std::less<>>& seen, std::int64_t file_id) {
  if (auto ok = flush_appended(); !ok) return fail(std::move(ok).error());
  // The covering index (vpd, withdrawn, record_key, entity) gives the live keys in key order, each
  // entity's ascending: one pass, a cursor into each entity's keys.
  auto select = db_.cached(
      "SELECT entity, record_key FROM canonical_record WHERE vpd = ?1 AND withdrawn = 0 ORDER BY record_key, entity");
  if (!select) return fail(std::move(select).error());
  if (auto ok = bind_texts(**select, {vpd}); !ok) return fail(std::move(ok).error());
  std::vector<std::pair<std::string, std::string>> gone;
  std::map<std::string_view, std::size_t> cursors;
  for (const auto& [entity, keys] : seen)
    cursors.emplace(entity, 0);
  for (;;) {
    auto row = (*select)->step();
    if (!row) return fail(std::move(row).error());
    if (!*row) break;
    const auto entity = (*select)->column_text(0);
    const auto keys = seen.find(entity);
    if (keys == seen.end()) continue;  // an entity the comparison is not for (OH records)
    const auto key = (*select)->column_text(1);
    if (!keys->second.contains_ascending(cursors[entity], key)) gone.emplace_back(entity, key);
  }
  (*select)->reset();
  for (const auto& [entity, key] : gone) {
    if (auto ok = withdraw(entity, key, file_id); !ok) return fail(std::move(ok).error());
  }
  return gone;
}

Result<std::vector<std::tuple<Change, std::string, std::int64_t>>> RecordStore::history(std::string_view entity,
                                                                                        std::string_view key) {
  if (auto ok = flush_appended(); !ok) return fail(std::move(ok).error());
  auto stmt = db_.cached(
      "SELECT change, content_hash, file_id FROM change_history WHERE entity = ?1 AND record_key = ?2 ORDER BY id");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {entity, key}); !ok) return fail(std::move(ok).error());
  std::vector<std::tuple<Change, std::string, std::int64_t>> out;
  for (;;) {
    auto row = (*stmt)->step();
    if (!row) return fail(std::move(row).error());
    if (!*row) break;
    out.emplace_back(change_from((*stmt)->column_text(0)), std::string((*stmt)->column_text(1)),
                     (*stmt)->column_int64(2));
  }
  return out;
}

namespace {

constexpr std::string_view kFileColumns =
    "id, name, checksum, vpd, interface, seq, status, records_read, accepted, rejected, reason, ack";

FileRow read_file_row(const Statement& s) {
  FileRow r;
  r.id = s.column_int64(0);
  r.name = s.column_text(1);
  r.checksum = s.column_text(2);
  r.vpd = s.column_text(3);
  r.interface = s.column_text(4);
  r.seq = s.column_int64(5);
  r.status = status_from(s.column_text(6));
  r.records_read = s.column_int64(7);
  r.accepted = s.column_int64(8);
  r.rejected = s.column_int64(9);
  r.reason = s.column_text(10);
  r.ack = s.column_text(11);
  return r;
}

}  // namespace

Result<std::optional<FileRow>> FileLedger::one(std::string_view where,
                                               std::initializer_list<std::string_view> text_args,
                                               std::optional<std::int64_t> int_arg) {
  auto stmt = db_.cached("SELECT " + std::string(kFileColumns) + " FROM inbound_file WHERE " + std::string(where) +
                         " AND status IN ('applied', 'partial') ORDER BY id DESC LIMIT 1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, text_args); !ok) return fail(std::move(ok).error());
  if (int_arg) {
    if (auto ok = (*stmt)->bind(static_cast<int>(text_args.size()) + 1, *int_arg); !ok)
      return fail(std::move(ok).error());
  }
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  if (!*row) return std::optional<FileRow>{};
  return std::optional<FileRow>(read_file_row(**stmt));
}

Result<std::optional<FileRow>> FileLedger::applied_by_checksum(std::string_view checksum) {
  return one("checksum = ?1", {checksum}, std::nullopt);
}

Result<std::optional<FileRow>> FileLedger::applied_by_seq(std::string_view vpd, std::string_view interface,
                                                          std::int64_t seq) {
  return one("vpd = ?1 AND interface = ?2 AND seq = ?3", {vpd, interface}, seq);
}

Result<std::optional<std::int64_t>> FileLedger::last_applied_seq(std::string_view vpd, std::string_view interface) {
  auto stmt = db_.cached(
      "SELECT max(seq) FROM inbound_file WHERE vpd = ?1 AND interface = ?2 AND status IN ('applied', 'partial')");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {vpd, interface}); !ok) return fail(std::move(ok).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  if (!*row || (*stmt)->column_is_null(0)) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>((*stmt)->column_int64(0));
}

Result<std::int64_t> FileLedger::add(const FileRow& row) {
  auto stmt = db_.cached(
      "INSERT INTO inbound_file (name, checksum, vpd, interface, seq, status, records_read, accepted, rejected, "
      "reason, ack, received_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {row.name, row.checksum, row.vpd, row.interface}); !ok) {
    return fail(std::move(ok).error());
  }
  int index = 5;
  for (const std::int64_t v : {row.seq}) {
    if (auto ok = (*stmt)->bind(index++, v); !ok) return fail(std::move(ok).error());
  }
  if (auto ok = (*stmt)->bind(index++, to_string(row.status)); !ok) return fail(std::move(ok).error());
  for (const std::int64_t v : {row.records_read, row.accepted, row.rejected}) {
    if (auto ok = (*stmt)->bind(index++, v); !ok) return fail(std::move(ok).error());
  }
  if (auto ok = (*stmt)->bind(index++, std::string_view(row.reason)); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(index++, std::string_view(row.ack)); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(index, clock_.now_ms()); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->run(); !ok) return fail(std::move(ok).error());
  return db_.last_insert_rowid();
}

Status FileLedger::finish(std::int64_t id, FileStatus status, std::int64_t read, std::int64_t accepted,
                          std::int64_t rejected, std::string_view reason, std::string_view ack) {
  auto stmt = db_.cached(
      "UPDATE inbound_file SET status = ?2, records_read = ?3, accepted = ?4, rejected = ?5, reason = ?6, "
      "settled_ms = ?7, ack = ?8 WHERE id = ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, id); !ok) return ok;
  if (auto ok = (*stmt)->bind(2, to_string(status)); !ok) return ok;
  if (auto ok = (*stmt)->bind(3, read); !ok) return ok;
  if (auto ok = (*stmt)->bind(4, accepted); !ok) return ok;
  if (auto ok = (*stmt)->bind(5, rejected); !ok) return ok;
  if (auto ok = (*stmt)->bind(6, reason); !ok) return ok;
  if (auto ok = (*stmt)->bind(7, clock_.now_ms()); !ok) return ok;
  if (auto ok = (*stmt)->bind(8, ack); !ok) return ok;
  if (auto ok = (*stmt)->run(); !ok) return ok;
  if (db_.changes() != 1) {
    return fail(Errc::io, "ledger.unknown_id", "no inbound file " + std::to_string(id), Origin{db_.path()});
  }
  return {};
}

Result<std::vector<FileRow>> FileLedger::recent(int limit) {
  auto stmt = db_.cached("SELECT " + std::string(kFileColumns) + " FROM inbound_file ORDER BY id DESC LIMIT ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, static_cast<std::int64_t>(limit)); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect(read_file_row);
}

Result<std::optional<FileRow>> FileLedger::newest_named(std::string_view name) {
  auto stmt =
      db_.cached("SELECT " + std::string(kFileColumns) + " FROM inbound_file WHERE name = ?1 ORDER BY id DESC LIMIT 1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, name); !ok) return fail(std::move(ok).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  if (!*row) return std::optional<FileRow>{};
  return std::optional<FileRow>(read_file_row(**stmt));
}

Result<std::vector<FileRow>> FileLedger::held() {
  auto stmt = db_.cached("SELECT " + std::string(kFileColumns) +
                         " FROM inbound_file f WHERE status = 'held' AND id = (SELECT max(id) FROM inbound_file g "
                         "WHERE g.name = f.name) ORDER BY name");
  if (!stmt) return fail(std::move(stmt).error());
  return (*stmt)->collect(read_file_row);
}

Status FileLedger::release_gap(std::string_view vpd, std::string_view interface, std::int64_t seq,
                               std::string_view by) {
  auto stmt = db_.cached(
      "INSERT INTO released_gap (vpd, interface, seq, released_ms, released_by) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT DO NOTHING");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {vpd, interface}); !ok) return ok;
  if (auto ok = (*stmt)->bind(3, seq); !ok) return ok;
  if (auto ok = (*stmt)->bind(4, clock_.now_ms()); !ok) return ok;
  if (auto ok = (*stmt)->bind(5, by); !ok) return ok;
  return (*stmt)->run();
}

Result<bool> FileLedger::gap_released(std::string_view vpd, std::string_view interface, std::int64_t seq) {
  auto stmt = db_.cached("SELECT 1 FROM released_gap WHERE vpd = ?1 AND interface = ?2 AND seq = ?3");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = bind_texts(**stmt, {vpd, interface}); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(3, seq); !ok) return fail(std::move(ok).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  return *row;
}

Status RunLog::add(const RunRow& r) {
  auto stmt = db_.cached(
      "INSERT INTO run (flow, started_ms, finished_ms, files, applied, partial, rejected, held, duplicates, "
      "delivered, pending, dead, clean) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, std::string_view(r.flow)); !ok) return ok;
  int i = 2;
  for (const std::int64_t v : {r.started_ms, r.finished_ms, r.files, r.applied, r.partial, r.rejected, r.held,
                               r.duplicates, r.delivered, r.pending, r.dead, static_cast<std::int64_t>(r.clean)}) {
    if (auto ok = (*stmt)->bind(i++, v); !ok) return ok;
  }
  return (*stmt)->run();
}

Result<int> RunLog::purge(std::int64_t before_ms) {
  auto stmt = db_.cached("DELETE FROM run WHERE finished_ms < ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, before_ms); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->run(); !ok) return fail(std::move(ok).error());
  return db_.changes();
}

Result<std::vector<RunRow>> RunLog::recent(int limit) {
  auto stmt = db_.cached(
      "SELECT id, flow, started_ms, finished_ms, files, applied, partial, rejected, held, duplicates, delivered, "
      "pending, dead, clean FROM run ORDER BY id DESC LIMIT ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, static_cast<std::int64_t>(limit)); !ok) return fail(std::move(ok).error());
  std::vector<RunRow> out;
  for (;;) {
    auto row = (*stmt)->step();
    if (!row) return fail(std::move(row).error());
    if (!*row) break;
    const Statement& s = **stmt;
    RunRow r;
    r.id = s.column_int64(0);
    r.flow = s.column_text(1);
    r.started_ms = s.column_int64(2);
    r.finished_ms = s.column_int64(3);
    r.files = s.column_int64(4);
    r.applied = s.column_int64(5);
    r.partial = s.column_int64(6);
    r.rejected = s.column_int64(7);
    r.held = s.column_int64(8);
    r.duplicates = s.column_int64(9);
    r.delivered = s.column_int64(10);
    r.pending = s.column_int64(11);
    r.dead = s.column_int64(12);
    r.clean = s.column_int64(13) != 0;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace esrsync::store
