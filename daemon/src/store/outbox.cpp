#include "esrsync/store/outbox.hpp"

#include <algorithm>

#include "esrsync/core/compress.hpp"

namespace esrsync::store {

const Migration Outbox::kMigration{1, R"sql(
CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY,
  sink             TEXT NOT NULL,
  idempotency_key  TEXT NOT NULL UNIQUE,
  entity           TEXT NOT NULL,
  record_key       TEXT NOT NULL,
  payload          BLOB NOT NULL,
  state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  created_ms       INTEGER NOT NULL,
  next_attempt_ms  INTEGER NOT NULL,
  leased_until_ms  INTEGER NOT NULL DEFAULT 0,
  settled_ms       INTEGER,
  last_error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (sink, state, id);  -- claim walks pending rows in id order
CREATE INDEX outbox_leased ON outbox (leased_until_ms) WHERE state = 'pending' AND leased_until_ms <> 0;
)sql"};

const Migration Outbox::kBatchMigration{3, R"sql(
ALTER TABLE outbox ADD COLUMN change TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN batch_id INTEGER;
CREATE INDEX outbox_batch ON outbox (batch_id) WHERE batch_id IS NOT NULL;
)sql"};

// Retention deletes delivered rows by age at the end of every sync: this index holds just those.
const Migration Outbox::kRetentionMigration{10, R"sql(
CREATE INDEX outbox_settled ON outbox (settled_ms) WHERE state = 'delivered';
)sql"};

// Changes are unique by construction (each is queued once, in the transaction that applies it, and
// the ledger never applies a file twice), so the idempotency key needs no unique index: that index
// was the largest structure in the store and a random-order write for every change. SQLite cannot
// drop a table constraint, so the table is rebuilt.
const Migration Outbox::kLeanKeyMigration{11, R"sql(
CREATE TABLE outbox_v11 (
  id               INTEGER PRIMARY KEY,
  sink             TEXT NOT NULL,
  idempotency_key  TEXT NOT NULL,
  entity           TEXT NOT NULL,
  record_key       TEXT NOT NULL,
  payload          BLOB NOT NULL,
  state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  created_ms       INTEGER NOT NULL,
  next_attempt_ms  INTEGER NOT NULL,
  leased_until_ms  INTEGER NOT NULL DEFAULT 0,
  settled_ms       INTEGER,
  last_error       TEXT NOT NULL DEFAULT '',
  change           TEXT NOT NULL DEFAULT '',
  batch_id         INTEGER
);
INSERT INTO outbox_v11 (id, sink, idempotency_key, entity, record_key, payload, state, attempts, created_ms,
                        next_attempt_ms, leased_until_ms, settled_ms, last_error, change, batch_id)
  SELECT id, sink, idempotency_key, entity, record_key, payload, state, attempts, created_ms, next_attempt_ms,
         leased_until_ms, settled_ms, last_error, change, batch_id FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v11 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (sink, state, id);
CREATE INDEX outbox_leased ON outbox (leased_until_ms) WHERE state = 'pending' AND leased_until_ms <> 0;
CREATE INDEX outbox_batch ON outbox (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX outbox_settled ON outbox (settled_ms) WHERE state = 'delivered';
)sql"};

// A JSON-lines sink takes a file's changes as rows of up to its batch size (one row, one file):
// this counts the changes a row carries, so listings and reports count changes, not rows.
const Migration Outbox::kChangesMigration{13, R"sql(
ALTER TABLE outbox ADD COLUMN changes INTEGER NOT NULL DEFAULT 1;
)sql"};

// A batch row's lines live apart from its state: claiming and settling a row rewrite it, and with
// the lines inside, each would write the whole batch again. Its lines are dropped once delivered
// (they are in the sink's file; the record versions are in the change history).
const Migration Outbox::kPayloadMigration{14, R"sql(
CREATE TABLE outbox_payload (
  id       INTEGER PRIMARY KEY,
  payload  BLOB NOT NULL
);
)sql"};

// A batch's lines may also be staged as a file in the sink's directory while the transaction runs
// (flow/applier.hpp); the row names it, and delivery renames it into place instead of writing the
// lines again.
const Migration Outbox::kStagedMigration{16, R"sql(
ALTER TABLE outbox_payload ADD COLUMN staged TEXT NOT NULL DEFAULT '';
)sql"};

// The staged copy's name before the lines: SQLite reads a column stored after a large value by
// walking that value's overflow pages, so with the name last, finding out that a batch is staged
// read its lines (~45 KB) all the same. The table only holds batches not yet delivered.
const Migration Outbox::kStagedFirstMigration{18, R"sql(
CREATE TABLE outbox_payload_v18 (
  id       INTEGER PRIMARY KEY,
  staged   TEXT NOT NULL DEFAULT '',
  payload  BLOB NOT NULL
);
INSERT INTO outbox_payload_v18 (id, staged, payload) SELECT id, staged, payload FROM outbox_payload;
DROP TABLE outbox_payload;
ALTER TABLE outbox_payload_v18 RENAME TO outbox_payload;
)sql"};

namespace {

// Rows with their lines (batch rows) or payload: "SELECT kColumns kFrom WHERE ...".
constexpr std::string_view kColumns =
    "o.id, o.sink, o.idempotency_key, o.entity, o.record_key, coalesce(p.payload, o.payload), o.state, o.attempts, "
    "o.created_ms, o.next_attempt_ms, o.last_error, o.change, coalesce(o.batch_id, 0), o.changes, "
    "coalesce(p.staged, '')";
constexpr std::string_view kFrom = " FROM outbox o LEFT JOIN outbox_payload p ON p.id = o.id ";

constexpr std::string_view kToDead =
    "UPDATE outbox SET state = 'dead', settled_ms = ?2, attempts = attempts + 1, leased_until_ms = 0, "
    "last_error = ?3 WHERE id = ?1 AND state = 'pending'";

std::string_view state_name(OutboxState s) {
  switch (s) {
    case OutboxState::pending:
      return "pending";
    case OutboxState::delivered:
      return "delivered";
    case OutboxState::dead:
      return "dead";
  }
  return "pending";
}

// "[1,2,3]": ids for a json_each() parameter.
std::string json_ids(const std::vector<std::int64_t>& ids) {
  std::string json = "[";
  for (const auto id : ids)
    json += (json.size() > 1 ? "," : "") + std::to_string(id);
  return json + "]";
}

OutboxEntry read_entry(const Statement& row) {
  OutboxEntry e;
  e.id = row.column_int64(0);
  e.sink = row.column_text(1);
  e.idempotency_key = row.column_text(2);
  e.entity = row.column_text(3);
  e.record_key = row.column_text(4);
  e.payload = row.column_text(5);
  const std::string_view state = row.column_text(6);
  e.state = state == "dead" ? OutboxState::dead : state == "delivered" ? OutboxState::delivered : OutboxState::pending;
  e.attempts = static_cast<int>(row.column_int64(7));
  e.created_ms = row.column_int64(8);
  e.next_attempt_ms = row.column_int64(9);
  e.last_error = row.column_text(10);
  e.change = row.column_text(11);
  e.batch_id = row.column_int64(12);
  e.changes = row.column_int64(13);
  e.staged = row.column_text(14);
  return e;
}

}  // namespace

Outbox::Outbox(SqliteDb& db, RetryPolicy policy, const Clock& clock, std::uint64_t jitter_seed)
    : db_(db), policy_(policy), clock_(clock), jitter_(jitter_seed) {}

Status Outbox::enqueue(const OutboxEntry& entry) {
  if (entry.change != "batch") {
    auto id = insert_row(entry, entry.payload);
    return id ? Status{} : Status(fail(std::move(id).error()));
  }
  auto id = enqueue_batch(entry);
  if (!id) return fail(std::move(id).error());
  // Compressed (about six-fold): a first load's lines are as large as its records, and they are
  // written, read back once for delivery and dropped.
  return put_lines(*id, zstd_compress(entry.payload));
}

Result<std::int64_t> Outbox::enqueue_batch(const OutboxEntry& entry) {
  return insert_row(entry, {});  // its lines go apart (kPayloadMigration)
}

Result<std::int64_t> Outbox::insert_row(const OutboxEntry& entry, std::string_view payload) {
  auto stmt = db_.cached(
      "INSERT INTO outbox (sink, idempotency_key, entity, record_key, payload, change, created_ms, next_attempt_ms, "
      "changes) VALUES (?1, ?2, ?3, ?4, ?5, ?7, ?6, ?6, ?8)");
  if (!stmt) return fail(std::move(stmt).error());
  const std::int64_t now = clock_.now_ms();
  for (const auto& [index, text] :
       {std::pair{1, std::string_view(entry.sink)}, std::pair{2, std::string_view(entry.idempotency_key)},
        std::pair{3, std::string_view(entry.entity)}, std::pair{4, std::string_view(entry.record_key)},
        std::pair{5, payload}, std::pair{7, std::string_view(entry.change)}}) {
    if (auto ok = (*stmt)->bind(index, text); !ok) return fail(std::move(ok).error());
  }
  if (auto ok = (*stmt)->bind(6, now); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(8, entry.changes); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->run(); !ok) return fail(std::move(ok).error());
  return db_.last_insert_rowid();
}

Status Outbox::put_lines(std::int64_t id, std::string_view frame, std::string_view staged) {
  auto lines = db_.cached("INSERT INTO outbox_payload (id, payload, staged) VALUES (?1, ?2, ?3)");
  if (!lines) return fail(std::move(lines).error());
  if (auto ok = (*lines)->bind(1, id); !ok) return ok;
  if (auto ok = (*lines)->bind_blob(2, frame); !ok) return ok;
  if (auto ok = (*lines)->bind(3, staged); !ok) return ok;
  return (*lines)->run();
}

Result<std::string> batch_lines(const OutboxEntry& entry) {
  if (!is_zstd_frame(entry.payload)) return entry.payload;  // queued before the lines were compressed
  auto lines = zstd_decompress(entry.payload);
  if (!lines) {
    return fail(Errc::parse, "outbox.lines",
                "the lines of outbox entry " + std::to_string(entry.id) + " cannot be read: " + lines.error().message);
  }
  return lines;
}

Result<std::vector<OutboxEntry>> Outbox::claim(std::string_view sink, int limit, std::int64_t max_changes) {
  const std::int64_t now = clock_.now_ms();
  if (auto ok = db_.begin(); !ok) return fail(std::move(ok).error());
  // The ids first (the due index has them), then the rows: payloads past the budget are never read.
  auto due = db_.cached(
      "SELECT id, changes FROM outbox WHERE sink = ?1 AND state = 'pending' AND next_attempt_ms <= ?2 "
      "AND leased_until_ms <= ?2 AND batch_id IS NULL ORDER BY id LIMIT ?3");
  // One statement leases the whole batch (the ids as a JSON array), not one per row.
  auto lease = db_.cached("UPDATE outbox SET leased_until_ms = ?2 WHERE id IN (SELECT value FROM json_each(?1))");
  // A batch row comes without its lines (~45 KB compressed: a round of them would be read before
  // any is needed, and a staged copy needs none): get(id) has them.
  static const std::string claimed = [] {
    std::string columns(kColumns);
    const std::string_view lines = "coalesce(p.payload, o.payload)";
    columns.replace(columns.find(lines), lines.size(), "CASE WHEN p.id IS NULL THEN o.payload ELSE '' END");
    return "SELECT " + columns + std::string(kFrom) + "WHERE o.id IN (SELECT value FROM json_each(?1)) ORDER BY o.id";
  }();
  auto select = db_.cached(claimed);
  if (!due || !lease || !select) {
    db_.rollback();
    return fail(!due ? std::move(due).error() : !lease ? std::move(lease).error() : std::move(select).error());
  }
  Result<std::vector<OutboxEntry>> rows = [&]() -> Result<std::vector<OutboxEntry>> {
    if (auto ok = (*due)->bind(1, sink); !ok) return fail(std::move(ok).error());
    if (auto ok = (*due)->bind(2, now); !ok) return fail(std::move(ok).error());
    if (auto ok = (*due)->bind(3, static_cast<std::int64_t>(limit)); !ok) return fail(std::move(ok).error());
    std::vector<std::int64_t> taken_ids;
    std::int64_t taken = 0;
    for (;;) {
      auto row = (*due)->step();
      if (!row) return fail(std::move(row).error());
      if (!*row) break;
      const std::int64_t changes = (*due)->column_int64(1);
      if (max_changes > 0 && taken > 0 && taken + changes > max_changes) break;
      taken_ids.push_back((*due)->column_int64(0));
      taken += changes;
    }
    (*due)->reset();
    if (taken_ids.empty()) return std::vector<OutboxEntry>{};
    const std::string ids = json_ids(taken_ids);
    if (auto ok = (*lease)->bind(1, ids); !ok) return fail(std::move(ok).error());
    if (auto ok = (*lease)->bind(2, now + policy_.lease_ms); !ok) return fail(std::move(ok).error());
    if (auto ok = (*lease)->run(); !ok) return fail(std::move(ok).error());
    if (auto ok = (*select)->bind(1, ids); !ok) return fail(std::move(ok).error());
    return (*select)->collect(read_entry);
  }();
  if (!rows) {
    db_.rollback();
    return rows;
  }
  if (auto ok = db_.commit(); !ok) {
    db_.rollback();
    return fail(std::move(ok).error());
  }
  return rows;
}

// Binds ?1 id, ?2 now, ?3 reason and, for a retry, ?4 the next attempt time.
Status Outbox::settle(std::int64_t id, std::string_view sql, std::string_view reason,
                      std::optional<std::int64_t> next_ms) {
  auto stmt = db_.cached(std::string(sql));
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, id); !ok) return ok;
  if (auto ok = (*stmt)->bind(2, clock_.now_ms()); !ok) return ok;
  if (auto ok = (*stmt)->bind(3, reason.substr(0, 2000)); !ok) return ok;
  if (next_ms) {
    if (auto ok = (*stmt)->bind(4, *next_ms); !ok) return ok;
  }
  if (auto ok = (*stmt)->run(); !ok) return ok;
  if (db_.changes() != 1) {
    return fail(Errc::io, "outbox.unknown_id", "no outbox entry " + std::to_string(id) + " in that state",
                Origin{db_.path()});
  }
  return {};
}

Status Outbox::delivered_all(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return {};
  auto stmt = db_.cached(
      "UPDATE outbox SET state = 'delivered', settled_ms = ?2, attempts = attempts + 1, leased_until_ms = 0, "
      "last_error = '' WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'pending'");
  if (!stmt) return fail(std::move(stmt).error());
  const std::string json = json_ids(ids);
  if (auto ok = (*stmt)->bind(1, json); !ok) return ok;
  if (auto ok = (*stmt)->bind(2, clock_.now_ms()); !ok) return ok;
  if (auto ok = (*stmt)->run(); !ok) return ok;
  if (db_.changes() != static_cast<int>(ids.size())) {
    return fail(Errc::io, "outbox.unknown_id", "some of the delivered outbox entries were not pending",
                Origin{db_.path()});
  }
  auto drop = db_.cached("DELETE FROM outbox_payload WHERE id IN (SELECT value FROM json_each(?1))");
  if (!drop) return fail(std::move(drop).error());
  if (auto ok = (*drop)->bind(1, json); !ok) return ok;
  return (*drop)->run();
}

Status Outbox::release(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return {};
  auto stmt = db_.cached(
      "UPDATE outbox SET leased_until_ms = 0 WHERE id IN (SELECT value FROM json_each(?1)) AND state = 'pending'");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, json_ids(ids)); !ok) return ok;
  return (*stmt)->run();
}

Status Outbox::delivered(std::int64_t id) {
  return delivered_all({id});
}

Status Outbox::retry_later(std::int64_t id, std::string_view reason) {
  auto entry = get(id);
  if (!entry) return fail(std::move(entry).error());
  if (!*entry || (*entry)->state != OutboxState::pending) {
    return fail(Errc::io, "outbox.unknown_id", "no pending outbox entry " + std::to_string(id), Origin{db_.path()});
  }
  const int attempts = (*entry)->attempts + 1;
  if (attempts >= policy_.max_attempts) {
    return settle(id, kToDead, reason, std::nullopt);
  }
  return settle(id,
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?4, leased_until_ms = 0, "
                "last_error = ?3 WHERE id = ?1 AND state = 'pending'",
                reason, clock_.now_ms() + backoff_ms(attempts));
}

Status Outbox::rejected(std::int64_t id, std::string_view reason) {
  return settle(id, kToDead, reason, std::nullopt);
}

Status Outbox::refused_after_delivery(std::int64_t id, std::string_view reason) {
  return settle(id,
                "UPDATE outbox SET state = 'dead', settled_ms = ?2, leased_until_ms = 0, batch_id = NULL, "
                "last_error = ?3 WHERE id = ?1 AND state = 'delivered'",
                reason, std::nullopt);
}

Status Outbox::assign_batch(std::int64_t id, std::int64_t batch_id) {
  auto stmt = db_.cached("UPDATE outbox SET batch_id = ?2 WHERE id = ?1 AND state = 'pending'");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, id); !ok) return ok;
  if (auto ok = (*stmt)->bind(2, batch_id); !ok) return ok;
  if (auto ok = (*stmt)->run(); !ok) return ok;
  if (db_.changes() != 1) {
    return fail(Errc::io, "outbox.unknown_id", "no pending outbox entry " + std::to_string(id), Origin{db_.path()});
  }
  return {};
}

Result<std::vector<OutboxEntry>> Outbox::batch(std::int64_t batch_id) {
  auto stmt = db_.cached(std::string("SELECT ") + std::string(kColumns) + std::string(kFrom) +
                         "WHERE o.batch_id = ?1 ORDER BY o.id");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, batch_id); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect(read_entry);
}

std::int64_t Outbox::backoff_ms(int attempts) {
  // Exponential backoff with "equal jitter": half the delay fixed, half random, so retries from
  // many changes that failed together spread out instead of arriving together.
  std::int64_t delay = policy_.base_delay_ms;
  for (int i = 1; i < attempts && delay < policy_.max_delay_ms; ++i)
    delay *= 2;
  delay = std::min(delay, policy_.max_delay_ms);
  std::uniform_int_distribution<std::int64_t> half(0, delay / 2);
  return delay - delay / 2 + half(jitter_);
}

Result<int> Outbox::release_leases() {
  // The partial index outbox_leased holds exactly these rows: no scan of the delivered history.
  auto stmt = db_.cached("UPDATE outbox SET leased_until_ms = 0 WHERE state = 'pending' AND leased_until_ms <> 0");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->run(); !ok) return fail(std::move(ok).error());
  return db_.changes();
}

namespace {

// Runs an UPDATE or DELETE ... RETURNING changes: the changes (not rows) it touched.
Result<int> sum_returned(Statement& stmt) {
  std::int64_t total = 0;
  for (;;) {
    auto row = stmt.step();
    if (!row) return fail(std::move(row).error());
    if (!*row) break;
    total += stmt.column_int64(0);
  }
  return static_cast<int>(total);
}

}  // namespace

Result<int> Outbox::retry_dead(std::optional<std::int64_t> id) {
  auto stmt = db_.cached(
      "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?1, leased_until_ms = 0, "
      "settled_ms = NULL WHERE state = 'dead' AND (?2 IS NULL OR id = ?2) RETURNING changes");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, clock_.now_ms()); !ok) return fail(std::move(ok).error());
  if (auto ok = id ? (*stmt)->bind(2, *id) : (*stmt)->bind_null(2); !ok) return fail(std::move(ok).error());
  return sum_returned(**stmt);
}

Result<std::vector<OutboxEntry>> Outbox::list(std::optional<OutboxState> state, int limit) {
  auto stmt = db_.cached(std::string("SELECT ") + std::string(kColumns) + std::string(kFrom) +
                         "WHERE (?1 IS NULL OR o.state = ?1) ORDER BY o.id LIMIT ?2");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = state ? (*stmt)->bind(1, state_name(*state)) : (*stmt)->bind_null(1); !ok)
    return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(2, static_cast<std::int64_t>(limit)); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect(read_entry);
}

Result<std::optional<OutboxEntry>> Outbox::get(std::int64_t id) {
  auto stmt = db_.cached(std::string("SELECT ") + std::string(kColumns) + std::string(kFrom) + "WHERE o.id = ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, id); !ok) return fail(std::move(ok).error());
  auto rows = (*stmt)->collect(read_entry);
  if (!rows) return fail(std::move(rows).error());
  if (rows->empty()) return std::optional<OutboxEntry>{};
  return std::optional<OutboxEntry>(std::move(rows->front()));
}

Result<std::uint64_t> Outbox::count(std::string_view sink, OutboxState state) {
  auto stmt = db_.cached("SELECT coalesce(sum(changes), 0) FROM outbox WHERE sink = ?1 AND state = ?2");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, sink); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(2, state_name(state)); !ok) return fail(std::move(ok).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  return static_cast<std::uint64_t>((*stmt)->column_int64(0));
}

Result<int> Outbox::purge_delivered(std::int64_t older_than_ms) {
  // A change in an outbound file still waiting for the receiver's acknowledgement is kept: an ERR
  // line may yet turn it into a dead letter.
  auto stmt = db_.cached(
      "DELETE FROM outbox WHERE state = 'delivered' AND settled_ms < ?1 AND (batch_id IS NULL OR batch_id IN "
      "(SELECT id FROM outbound_file WHERE state IN ('accepted', 'partial', 'rejected'))) RETURNING changes");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, older_than_ms); !ok) return fail(std::move(ok).error());
  return sum_returned(**stmt);
}

}  // namespace esrsync::store
