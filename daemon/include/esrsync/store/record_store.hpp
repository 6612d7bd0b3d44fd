#pragma once
// Canonical records and the inbound file ledger in the embedded store (issue #4 groundwork;
// DESIGN.md "Change detection", DOMAIN.md "File-level rules").
//
// RecordStore keeps, per (entity, key), the last canonical payload and its content hash, so a
// FULL extract re-sending an unchanged record produces no change (and no write), and records a FULL
// extract no longer carries can be found, against the keys it did carry, and withdrawn. Every insert, update and
// withdrawal is appended to the change history with the new content hash and the payload of the version it replaced
// (append-only: every earlier version of a record stays readable; the current one is the record).
//
// FileLedger records every inbound file: name, checksum, VPD, interface, sequence number, status
// and counts, so a file seen before is skipped, a sequence applied before is skipped, and an older
// or missing sequence number is noticed.
//
// Both run inside the caller's transaction (SqliteDb::begin/commit) so a file's records, its
// ledger row and its outbox rows commit together. Used from the store's thread.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include "esrsync/core/clock.hpp"
#include "esrsync/core/key_set.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/store/sqlite.hpp"

namespace esrsync::store {

enum class Change : std::uint8_t { inserted, updated, unchanged, withdrawn };
[[nodiscard]] std::string_view to_string(Change c) noexcept;

struct StoredRecord {
  std::string entity;
  std::string key;
  std::string vpd;
  std::string content_hash;
  std::string payload;
  bool withdrawn = false;
  std::int64_t last_file_id = 0;
};

class RecordStore {
 public:
  static const Migration kMigration;
  static const Migration kVpdIndexMigration;
  static const Migration kHistoryIndexMigration;
  static const Migration kHistoryCheckMigration;
  static const Migration kClusteredMigration;
  static const Migration kDeferredMigration;
  static const Migration kAppendIndexMigration;

  // A file's content changes are deferred: written to a small table of recent versions
  // (canonical_record_recent) instead of rewriting each record's page in place, and merged into the
  // records later, in key order, many files' changes at once: when this many versions wait, or by
  // `esrsync store merge` (see kDeferredMigration).
  static constexpr std::int64_t kMergeAtRows = 100'000;
  // A first load in key order inserts this many records (and their history rows) per statement.
  static constexpr std::size_t kAppendRows = 256;

  RecordStore(SqliteDb& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Starts applying one file, inside its transaction: its content changes (same VPD, still live)
  // go to the recent versions while fewer than `merge_at` wait, then in place. When `merge_at`
  // wait already, they are merged first; returns how many. Until end_file() the store knows which
  // records have a recent version; outside a file every lookup also looks among them, and changes
  // are written in place.
  Result<std::int64_t> begin_file(std::int64_t merge_at = kMergeAtRows);
  // Ends the file: records still waiting to be appended are dropped (the file's transaction is
  // rolled back; one that commits runs flush_appended() first).
  void end_file() noexcept;
  // Writes the records waiting to be appended, and their history rows. Run before the file's
  // transaction commits.
  Status flush_appended();
  // Writes every recent version into its record and empties the recent versions (inside the
  // caller's transaction); returns how many.
  Result<std::int64_t> merge_recent();
  // How many recent versions wait to be merged.
  Result<std::int64_t> count_recent();

  // Whether the VPD has any live record of `entity` (the covering VPD index: a probe, and a scan of
  // the VPD's live records when it has none of `entity`).
  Result<bool> has_live(std::string_view entity, std::string_view vpd);
  // How many records of `entity` the VPD has live (a scan of the covering VPD index).
  Result<std::int64_t> count_live(std::string_view entity, std::string_view vpd);

  // Inserts or updates (entity, key) unless the stored hash is the same (unchanged: nothing is
  // written). A withdrawn record that comes back is updated. `likely_new` (a first load): the
  // insert is tried first and the stored record looked up only if the key exists after all —
  // one B-tree search per new record instead of two; the outcome is the same either way. Inside a
  // file, a likely new record whose (key, entity) is above every one the store holds cannot exist
  // yet: it is inserted with up to kAppendRows others in one statement (see append()), written
  // before anything else reads or writes the records, and at the latest by flush_appended().
  // `previous`, when given: set to the replaced payload when only the content changed (same VPD,
  // not withdrawn), else cleared. `payload`: the canonical JSON, or already packed (store/payload.hpp:
  // the decoding thread packs it beside the applying one); stored packed either way.
  Result<Change> apply(std::string_view entity, std::string_view key, std::string_view vpd, std::string_view payload,
                       std::string_view content_hash, std::int64_t file_id, bool likely_new = false,
                       std::string* previous = nullptr);
  // Marks one record withdrawn (a `D` action). Unchanged when unknown or already withdrawn.
  Result<Change> withdraw(std::string_view entity, std::string_view key, std::int64_t file_id);
  // FULL extracts: every live record in `vpd` of an entity in `seen` whose key is not among that
  // entity's keys (the keys the file carried, sealed) is withdrawn by `file_id`; returns their
  // (entity, key), in key order (for the report).
  Result<std::vector<std::pair<std::string, std::string>>> withdraw_unseen(
      std::string_view vpd, const std::map<std::string, KeySet, std::less<>>& seen, std::int64_t file_id);

  Result<std::optional<StoredRecord>> get(std::string_view entity, std::string_view key);
  // Live and withdrawn records of `entity` whose key starts with `prefix` (e.g. a person's
  // assignments, "12345678-"), in key order.
  Result<std::vector<StoredRecord>> with_prefix(std::string_view entity, std::string_view prefix);
  [[nodiscard]] const Clock& clock() const noexcept { return clock_; }
  // The change history of one record, oldest first: (change, content hash, file id). Scans the
  // history (it has no index by key: see kHistoryIndexMigration).
  Result<std::vector<std::tuple<Change, std::string, std::int64_t>>> history(std::string_view entity,
                                                                             std::string_view key);

 private:
  Status append_history(std::string_view entity, std::string_view key, Change change, std::string_view hash,
                        std::string_view payload, std::int64_t file_id);
  Status bind_row(Statement& stmt, std::string_view entity, std::string_view key, std::string_view vpd,
                  std::string_view payload, std::string_view content_hash, std::int64_t file_id);
  // Inserts the record, or replaces every column of the stored one (its VPD or state changed).
  Status upsert(std::string_view entity, std::string_view key, std::string_view vpd, std::string_view payload,
                std::string_view content_hash, std::int64_t file_id);
  // Rewrites the record's content where it is (its VPD and state unchanged).
  Status update_in_place(std::string_view entity, std::string_view key, std::string_view payload,
                         std::string_view content_hash, std::int64_t file_id, std::int64_t at_ms);
  // The recent version of (entity, key), if one waits: sets hash, payload (packed), file id, time.
  Result<bool> recent(std::string_view entity, std::string_view key, std::string* hash, std::string* payload,
                      std::int64_t* file_id);
  Status drop_recent(std::string_view entity, std::string_view key);
  // Whether (entity, key) may have a recent version: outside a file, always.
  bool maybe_recent(std::string_view entity, std::string_view key);
  const std::string& recent_key(std::string_view entity, std::string_view key);
  // While a file is applied (begin_file to end_file): the (entity, key) of every recent version,
  // so that only those records are looked up among them (a FULL looks up millions). Unknown
  // outside a file. A key dropped stays in it: one needless lookup, never a recent version missed.
  std::optional<std::unordered_set<std::string>> recent_keys_;
  std::string recent_key_;  // (entity, key) composed for a lookup (reused: no allocation)
  std::int64_t merge_at_ = kMergeAtRows;
  // Whether (entity, key) sorts above every record the store holds (the bound is read once per
  // file); if so it becomes the bound.
  Result<bool> above_all(std::string_view entity, std::string_view key);
  // Queues a new record for the next multi-row insert.
  Status append(std::string_view entity, std::string_view key, std::string_view vpd, std::string_view payload,
                std::string_view content_hash, std::int64_t file_id);
  struct Appended {
    std::string entity;
    std::string key;
    std::string vpd;
    std::string hash;
    std::string payload;
    std::int64_t file_id = 0;
    std::int64_t at_ms = 0;
  };
  std::vector<Appended> appended_;  // the first `appending_` wait (the strings reused)
  std::size_t appending_ = 0;
  // The greatest (record_key, entity) in the store as far as this file knows: unread, read (none
  // when the store has no records).
  std::optional<std::optional<std::pair<std::string, std::string>>> bound_;

  SqliteDb& db_;
  const Clock& clock_;
  // The statements apply() runs for every record (SqliteDb::cached with a slot).
  Statement* insert_new_ = nullptr;
  Statement* probe_ = nullptr;
  Statement* update_in_place_ = nullptr;
  Statement* upsert_ = nullptr;
  Statement* history_ = nullptr;
  Statement* recent_probe_ = nullptr;
  Statement* recent_put_ = nullptr;
  Statement* recent_drop_ = nullptr;
  Statement* append_rows_ = nullptr;     // kAppendRows records
  Statement* append_history_ = nullptr;  // their kAppendRows history rows
  Statement* append_one_ = nullptr;      // one record (the rest of a file)
  std::string packed_;                   // a payload packed here (reused: no allocation per record)
};

enum class FileStatus : std::uint8_t { processing, applied, partial, rejected, held, duplicate };
[[nodiscard]] std::string_view to_string(FileStatus s) noexcept;

struct FileRow {
  std::int64_t id = 0;
  std::string name;
  std::string checksum;
  std::string vpd;
  std::string interface;  // e.g. "ESR-OHS"
  std::int64_t seq = 0;
  FileStatus status = FileStatus::processing;
  std::int64_t records_read = 0;
  std::int64_t accepted = 0;
  std::int64_t rejected = 0;
  std::string reason;
  std::string ack;  // the acknowledgement written for the file, kept so it can be written again
};

class FileLedger {
 public:
  FileLedger(SqliteDb& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The applied (or partially applied) file with this content, if any.
  Result<std::optional<FileRow>> applied_by_checksum(std::string_view checksum);
  // The applied (or partially applied) file with this (vpd, interface, seq), if any.
  Result<std::optional<FileRow>> applied_by_seq(std::string_view vpd, std::string_view interface, std::int64_t seq);
  // The highest sequence number applied for (vpd, interface), if any.
  Result<std::optional<std::int64_t>> last_applied_seq(std::string_view vpd, std::string_view interface);
  // Adds a row (its id is returned); `status` and counts as given.
  Result<std::int64_t> add(const FileRow& row);
  Status finish(std::int64_t id, FileStatus status, std::int64_t read, std::int64_t accepted, std::int64_t rejected,
                std::string_view reason, std::string_view ack = {});
  Result<std::vector<FileRow>> recent(int limit);
  // Files held (for a sequence gap, or a FULL over the withdrawal limit): their newest ledger row says
  // held. Oldest first.
  Result<std::vector<FileRow>> held();
  // The newest ledger row for a file of this name, if any.
  Result<std::optional<FileRow>> newest_named(std::string_view name);
  // An operator lets the held file (vpd, interface, seq) be applied: despite the gap before it, or
  // (a FULL) despite its withdrawals over the limit.
  Status release_gap(std::string_view vpd, std::string_view interface, std::int64_t seq, std::string_view by);
  Result<bool> gap_released(std::string_view vpd, std::string_view interface, std::int64_t seq);

 private:
  Result<std::optional<FileRow>> one(std::string_view where, std::initializer_list<std::string_view> text_args,
                                     std::optional<std::int64_t> int_arg);

  SqliteDb& db_;
  const Clock& clock_;
};

struct RunRow {
  std::int64_t id = 0;
  std::string flow;
  std::int64_t started_ms = 0;
  std::int64_t finished_ms = 0;
  std::int64_t files = 0, applied = 0, partial = 0, rejected = 0, held = 0, duplicates = 0;
  std::int64_t delivered = 0, pending = 0, dead = 0;
  bool clean = false;
};

// One row per flow per sync run: what ops look at first.
class RunLog {
 public:
  explicit RunLog(SqliteDb& db) : db_(db) {}
  Status add(const RunRow& row);
  Result<std::vector<RunRow>> recent(int limit);
  // Deletes the runs that finished before `before_ms`; returns how many.
  Result<int> purge(std::int64_t before_ms);

 private:
  SqliteDb& db_;
};

}  // namespace esrsync::store
