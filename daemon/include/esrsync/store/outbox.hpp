#pragma once
// The durable outbox (DESIGN.md "Outbound"; STYLE.md rules 4, 13, 14): every change a sink must
// receive is a row here, written in the same transaction that applied the change. Delivery is
// at-least-once: a row is claimed for a lease, handed to the sink, and only marked delivered once
// the sink confirms. A failure schedules a retry with exponential backoff and jitter; after the
// configured number of attempts (or at once, for a change the sink rejects outright) the row
// becomes a dead letter: kept, listed, retryable, never dropped. Each row carries an idempotency
// key so the receiving side can ignore a duplicate delivery.
//
// The outbox owns retries: sinks never sleep or retry on their own. Used from the store's thread;
// the SqliteDb outlives it. Time and jitter are injected so tests are deterministic.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/core/clock.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/store/sqlite.hpp"

namespace esrsync::store {

struct RetryPolicy {
  int max_attempts = 8;                // deliveries tried before the change becomes a dead letter
  std::int64_t base_delay_ms = 5'000;  // first retry after about this long
  std::int64_t max_delay_ms = 3'600'000;
  std::int64_t lease_ms = 300'000;  // a claimed row is offered again if not settled by then
};

enum class OutboxState : std::uint8_t { pending, delivered, dead };

struct OutboxEntry {
  std::int64_t id = 0;
  std::string sink;             // the configured sink it is for
  std::string idempotency_key;  // one per change, e.g. "<sink>:<entity>:<key>:<change>:<hash>:<source>"
  std::string entity;           // canonical entity name, for listings
  std::string record_key;       // e.g. the event_id or assignment number (no personal data)
  std::string payload;          // the canonical record (JSON)
  std::string change;           // "inserted", "updated" or "withdrawn" (what the sink is told)
  std::int64_t batch_id = 0;    // file-based sinks: the outbound file holding it (0 = none yet)
  // How many changes the row carries: 1, or for a sink that takes changes in batches (JSON-lines
  // directory sinks) the lines of `payload`, each a change with its own idempotency key, and
  // `change` is "batch". Such a row is delivered, retried and dead-lettered as one file. Read
  // back, a batch row's `payload` is its lines as stored (compressed): batch_lines() gives them.
  std::int64_t changes = 1;
  // A batch row: the file in the sink's directory holding a copy of its lines, written before the
  // row was committed (Outbox::put_lines), or "".
  std::string staged;
  OutboxState state = OutboxState::pending;
  int attempts = 0;
  std::int64_t created_ms = 0;
  std::int64_t next_attempt_ms = 0;
  std::string last_error;
};

// A batch row's lines, as they are written to the sink. Errors: lines that cannot be read back
// (Errc::parse, "outbox.lines", naming the entry).
Result<std::string> batch_lines(const OutboxEntry& entry);

class Outbox {
 public:
  // The outbox's part of the schema; store/schema.cpp lists it among the migrations. The second
  // step adds the change kind and the outbound-file batch of a row.
  static const Migration kMigration;
  static const Migration kBatchMigration;
  static const Migration kRetentionMigration;
  static const Migration kLeanKeyMigration;
  static const Migration kChangesMigration;
  static const Migration kPayloadMigration;
  static const Migration kStagedMigration;
  static const Migration kStagedFirstMigration;

  Outbox(SqliteDb& db, RetryPolicy policy, const Clock& clock, std::uint64_t jitter_seed);

  // Adds a change for delivery. Call inside the transaction that applied the change, once per change
  // (keys are not checked for uniqueness: a change is queued by the transaction that makes it, which
  // runs once). Errors: store.*.
  Status enqueue(const OutboxEntry& entry);
  // The same in two steps for a batch row, so its lines can be compressed on another thread while
  // the transaction goes on: the row (its id returned; `entry.payload` is ignored), then its lines
  // as a zstd frame (zstd_compress). Both before the transaction commits.
  // `staged`: the name, in the sink's directory, of a copy of the lines already written there
  // (flow/applier.hpp), which delivery renames into place; "" when there is none.
  Result<std::int64_t> enqueue_batch(const OutboxEntry& entry);
  Status put_lines(std::int64_t id, std::string_view frame, std::string_view staged = {});

  // Up to `limit` due pending rows for `sink` not yet in an outbound file, oldest first, each
  // leased until now + lease_ms. With `max_changes`, rows stop before their changes would pass it
  // (the first row is always taken). A batch row comes without its lines (payload ""): get(id)
  // has them.
  Result<std::vector<OutboxEntry>> claim(std::string_view sink, int limit, std::int64_t max_changes = 0);
  // File-based sinks (ESR DI return files): the rows placed in outbound file `batch_id`, in the
  // order they were placed. Such a row is delivered with its file, never claimed on its own again.
  Status assign_batch(std::int64_t id, std::int64_t batch_id);
  Result<std::vector<OutboxEntry>> batch(std::int64_t batch_id);

  // The sink confirmed: the row is delivered (kept until purged by retention).
  Status delivered(std::int64_t id);
  // The same for a whole batch in one statement; every id must be pending (else outbox.unknown_id).
  // A batch row keeps its keys and counts but not its lines: they are in the sink's file and the
  // record versions in the change history (see kPayloadMigration).
  Status delivered_all(const std::vector<std::int64_t>& ids);
  // Claimed rows that were not tried after all (an earlier file of the same round failed): their
  // lease ends now, with no attempt counted.
  Status release(const std::vector<std::int64_t>& ids);
  // The sink asked to try later: one more attempt is counted; the next is scheduled with
  // exponential backoff and jitter, or the row becomes a dead letter when attempts run out.
  Status retry_later(std::int64_t id, std::string_view reason);
  // The sink refused the change for good (e.g. an ERR line in an ACK): a dead letter at once.
  Status rejected(std::int64_t id, std::string_view reason);
  // The receiver refused a change it had been delivered (an ERR line in ESR's ACK of a DI file): a
  // dead letter, taken out of its file, so `queue retry` sends it again in a new one.
  Status refused_after_delivery(std::int64_t id, std::string_view reason);

  // At start-up, when this process holds the store exclusively: leases left by a process that
  // died mid-delivery are released, so those changes are offered again at once.
  Result<int> release_leases();

  // Operator actions: dead letters (all, or one id) go back to pending with attempts reset. Returns
  // the changes (not rows) queued again; purge_delivered likewise counts changes.
  Result<int> retry_dead(std::optional<std::int64_t> id);
  Result<std::vector<OutboxEntry>> list(std::optional<OutboxState> state, int limit);
  Result<std::optional<OutboxEntry>> get(std::int64_t id);
  // The changes (not rows) in `state` for `sink`.
  Result<std::uint64_t> count(std::string_view sink, OutboxState state);
  // Deletes delivered rows settled before `older_than_ms`, except those in an outbound file the
  // receiver has not acknowledged yet; dead letters are never purged here.
  Result<int> purge_delivered(std::int64_t older_than_ms);

  // The delay before attempt number `attempts + 1`, given `attempts` made so far (>= 1).
  [[nodiscard]] std::int64_t backoff_ms(int attempts);

 private:
  Result<std::int64_t> insert_row(const OutboxEntry& entry, std::string_view payload);
  Status settle(std::int64_t id, std::string_view sql, std::string_view reason, std::optional<std::int64_t> next_ms);

  SqliteDb& db_;
  RetryPolicy policy_;
  const Clock& clock_;
  std::mt19937_64 jitter_;
};

}  // namespace esrsync::store
