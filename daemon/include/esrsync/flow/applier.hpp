#pragma once
// Applying canonical records to the store, one at a time, inside the caller's transaction: the
// step that inbound files and reconciliation decisions share (DESIGN.md "Data flow": match ->
// store -> outbox), so a record released by a human goes exactly the way a file's record does.
//
// ESR-owned records (persons, assignments) are applied as sent. OH-owned records (immunisation
// events, clearances) are first matched to a person (recon/matcher.hpp) and then checked against
// what is known (DOMAIN.md "Matching a record to a person", "Field ownership"):
//
//   no confident match, identifier conflict        -> held (possible_match, no_match,
//                                                     identifier_conflict): not applied
//   same event_id from the same provider with a
//   different date, antigen or result              -> held (event_conflict): the stored version stays
//   identity fields that differ from ESR's         -> identity_discrepancy raised; the OH-owned data
//   (strong matches: rules 1-4)                       is applied all the same, the person unchanged
//   NON_IMMUNE serology after an IMMUNE one         -> status_regression raised; applied (history)
//
// A new trainee assignment at another organisation than the person's earlier ones is a rotation:
// with transfer_consent Y the staff history is queued for the staff-history sinks; otherwise the
// refusal or missing consent is logged with its reason and nothing is queued.
//
// Every change is written to the outbox for each sink with a stable idempotency key; every
// matching decision is logged. Sinks that take changes in batches (JSON-lines directory sinks) get
// one outbox row per batch of up to their batch size: the lines of the file they will write, each
// change with its own key. Those rows are written by finish(), which the caller runs before it
// commits. Used from the store's thread.

#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "esrsync/core/key_set.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/flow/config.hpp"
#include "esrsync/model/record.hpp"
#include "esrsync/recon/matcher.hpp"
#include "esrsync/store/outbox.hpp"
#include "esrsync/store/person_index.hpp"
#include "esrsync/store/recon_queue.hpp"
#include "esrsync/store/record_store.hpp"

namespace esrsync::flow {

struct ApplyCounts {
  std::uint64_t inserted = 0;
  std::uint64_t updated = 0;
  std::uint64_t unchanged = 0;
  std::uint64_t withdrawn = 0;
  std::uint64_t repeated_keys = 0;  // the same key twice in one file (the last one won)
  std::uint64_t queued = 0;         // outbox rows written
  std::uint64_t held = 0;           // records held in the reconciliation queue
  std::uint64_t flagged = 0;        // applied, with an item raised for review
  // The repeated keys themselves (entity, key), the first kMaxListedRepeats of each entity.
  std::vector<std::pair<std::string, std::string>> repeated;
};
inline constexpr std::size_t kMaxListedRepeats = 100;

// Where the records come from: the ledger row of the file (0 for a human decision), a name for
// item sources ("file.csv"), and an identity that is stable across crashes and retries (the
// file's VPD and sequence, or its checksum; "recon-<item>" for a decision).
struct ApplySource {
  std::int64_t file_id = 0;
  std::string name;
  std::string identity;
};

// A sink that takes changes in batches: one outbox row (and one file) per `batch` changes.
// `directory`: where its files go; each batch's lines are staged there as they are queued.
struct BatchSink {
  std::string name;
  std::int64_t batch = 500;
  std::string directory;
};

// The file a JSON-lines sink's outbox rows `first_id`..`last_id` become: the ids make it the same
// name when a crash has it written again.
[[nodiscard]] std::string batch_file_name(std::string_view flow, std::string_view sink, std::int64_t first_id,
                                          std::int64_t last_id);

// One change as a line of a JSON-lines sink file:
// {"idempotency_key":…,"entity":…,"key":…,"change":<the canonical record, or null>}\n
void append_change_line(std::string_view idempotency_key, std::string_view entity, std::string_view key,
                        std::string_view payload, std::string& out);

// How a flow's sinks take its changes: a row per change (mapped sinks: ESR DI files), in batches
// (JSON-lines sinks), or not at all (staff-history sinks, which get transfers).
struct SinkRoles {
  std::vector<std::string> per_change;
  std::vector<BatchSink> batched;
  std::vector<std::string> transfer;
};
[[nodiscard]] SinkRoles sink_roles(const FlowConfig& flow);

// The store key of a canonical record (DOMAIN.md "Canonical model": ESR owns persons by person
// number and assignments by assignment number; OH events are unique per provider).
[[nodiscard]] std::string record_key(const model::Record& record);

// A store whose persons were applied before the person index existed (schema 5) gets it built from
// the canonical records, with each person's events, so matching finds them. Does nothing when the
// index has rows or there are no persons. One transaction.
Status reindex_persons_if_empty(store::SqliteDb& db);

class Applier {
 public:
  Applier(store::SqliteDb& db, store::RecordStore& records, store::Outbox& outbox, std::vector<std::string> sinks,
          std::string flow, recon::MatchOptions matching, ApplyCounts& counts);

  void set_source(ApplySource source) { source_ = std::move(source); }
  // Sinks of kind staff-history: a trainee's new assignment at another organisation queues their
  // staff history for them, where the person consented (the decision is logged either way).
  void set_transfer_sinks(std::vector<std::string> sinks) { transfer_sinks_ = std::move(sinks); }
  // Sinks that take changes in batches (see above); the others in `sinks` get a row per change.
  void set_batch_sinks(const std::vector<BatchSink>& sinks);

  // What apply() computes first for a record that goes to the store as it is (not an OH record,
  // which is matched first, nor a deletion): the VPD of an assignment, the canonical JSON, the
  // content hash and, when `packed` is given, the JSON packed for the store (worth it when most
  // records will be written: a first load; else the store packs the few that change). Touches
  // nothing but its arguments, so a decoding thread runs it ahead of the store
  // (codec/decode_ahead.hpp). False when the record is not one of those.
  static bool prepare(model::Record& record, std::string_view vpd, std::string& canonical, std::string& hash,
                      std::string* packed = nullptr);
  // One valid data record. `vpd` is the file's (ESR records); OH records take their person's.
  // `canonical`, `hash` and `packed`: what prepare() computed for it, if it returned true (else empty).
  Status apply(model::Record& record, std::string_view vpd, std::string_view canonical = {}, std::string_view hash = {},
               std::string_view packed = {});
  // A held OH record a human linked to `person_number` (already checked to exist): applied as if
  // it had matched. `accept_conflict`: the record replaces a conflicting stored version.
  Status apply_resolved(model::Record& record, const std::string& person_number, bool accept_conflict);
  // After the file's last record: the ESR keys it carried are sorted, and keys it carried more than
  // once are counted (repeated_keys: the last one won) and listed (repeated).
  void seal_seen();
  // FULL extracts, after seal_seen(): what the VPD had and this file does not carry is withdrawn.
  Status withdraw_unseen(std::string_view vpd);
  // Writes the records still waiting to be appended (RecordStore::flush_appended) and the batch
  // sinks' last, partly filled, batches. Run before the transaction commits: records and changes
  // queued since the last call are not in the store until then.
  Status finish();
  // A large load into an empty person index: index by sorting at the end (store/person_index.hpp),
  // and records tried as new before they are looked up (RecordStore::apply, likely_new).
  Status begin_bulk_persons() {
    likely_new_ = true;
    return persons_.begin_bulk();
  }
  Status end_bulk_persons() { return persons_.end_bulk(); }

 private:
  Status apply_owned(model::Record& record, std::string_view vpd, std::string_view match_rule, bool accept_conflict);
  Status store_and_queue(model::Record& record, std::string_view vpd, std::string_view canonical = {},
                         std::string_view prepared_hash = {}, std::string_view packed = {});
  // `payload`: the record's canonical JSON; `line`: where the record is in its file (0 for a
  // withdrawal, which no line carries).
  Status queue(std::string_view entity, const std::string& key, store::Change change, const std::string& hash,
               std::string_view payload, std::uint64_t line);
  Result<std::int64_t> raise(store::ReconKind kind, const model::Record& record, std::string rule, std::string detail,
                             std::string candidates);
  Status check_identity(const model::Record& record, const store::PersonKeys& person);
  Result<bool> conflicts_with_stored(const model::Record& record);
  Status check_regression(const model::Record& record);
  Status check_transfer(const model::Record& assignment);
  [[nodiscard]] bool same_person_keys(const model::Record& person, std::string_view vpd) const;
  struct Batch {
    BatchSink sink;
    std::string text;  // the lines so far
    std::int64_t changes = 0;
    std::int64_t written = 0;  // rows written for this source (numbers the next row's key)
    std::string entity;        // of the changes in it, or "mixed"
    std::string first_key;
    std::string last_key;
  };
  Status flush(Batch& batch);
  // Puts the lines of compressed batches into the outbox until at most `keep` are still being
  // compressed.
  Status put_compressed(std::size_t keep);

  store::SqliteDb& db_;
  store::RecordStore& records_;
  store::Outbox& outbox_;
  std::vector<std::string> sinks_;
  std::vector<std::string> transfer_sinks_;
  std::vector<Batch> batches_;
  // Batch rows whose lines are being compressed, and staged, on a thread of their own (std::async:
  // the text is moved in, the results come back through the future; nothing is shared), oldest
  // first.
  struct Packed {
    std::string frame;   // the lines, compressed, for the store
    std::string staged;  // the name of their copy in the sink's directory, or "" (not staged)
  };
  struct Compressing {
    std::int64_t id;
    std::future<Packed> packed;
  };
  std::deque<Compressing> compressing_;
  std::string flow_;
  recon::MatchOptions matching_;
  ApplyCounts& counts_;
  store::PersonIndex persons_;
  store::ReconQueue recon_;
  ApplySource source_;
  std::map<std::string, KeySet, std::less<>> seen_;  // per entity: the ESR keys this file carried
  std::string payload_;
  std::string line_key_;  // a batch line's idempotency key (reused)
  std::string previous_;  // a person's replaced payload (RecordStore::apply)
  bool likely_new_ = false;
};

}  // namespace esrsync::flow
