#pragma once
// Applying one inbound ESR-style file to the store (issue #4; DOMAIN.md "File-level rules"):
//
//   same content seen before (checksum)          -> duplicate: nothing applied
//   same (VPD, seq) already applied              -> duplicate: nothing applied
//   bad HDR (interface, version, VPD not ours)   -> rejected: nothing applied
//   seq lower than the last applied for the VPD  -> rejected as out of order
//   seq skips ahead                              -> held until the missing file arrives or an
//                                                   operator releases it: nothing applied yet
//   TRL count wrong, no TRL, broken file         -> rejected: nothing applied
//   a bad record                                 -> that record rejected (ACK ERR); the rest applied
//   the same key twice in the file               -> the last one wins; counted as a warning
//
// Files without a header (OH system CSV and XML exports) have no VPD or sequence: they are
// checked for duplicate content only. Their OH-owned records (immunisation events, clearances)
// are matched to a person first (recon/matcher.hpp); a record that cannot be matched with
// confidence is held in the reconciliation queue, not applied, and reaches no sink. A matched
// record takes the person's number and VPD, so its change can leave in that VPD's DI return file.
//
// A file is applied in one transaction with its ledger row and the outbox rows its changes
// produce (STYLE.md rule 13): a crash at any point leaves all of it or none. In a FULL extract,
// persons and assignments of the VPD that the file no longer carries are withdrawn (and reported),
// which is how missed deltas are caught. Moving the file and writing its ACK are the caller's job,
// after this returns.
//
// Blocking (file reads, SQLite): run on the store's thread or the blocking pool.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "esrsync/core/clock.hpp"
#include "esrsync/core/progress.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/flow/applier.hpp"
#include "esrsync/mapping/mapping.hpp"
#include "esrsync/model/record.hpp"
#include "esrsync/model/validators.hpp"
#include "esrsync/recon/matcher.hpp"
#include "esrsync/store/outbox.hpp"
#include "esrsync/store/record_store.hpp"

namespace esrsync::flow {

struct InboundResult;

struct InboundContext {
  store::SqliteDb& db;
  store::RecordStore& records;
  store::FileLedger& ledger;
  store::Outbox& outbox;
  const mapping::Mapping& mapping;
  std::vector<std::string> vpds;   // the VPDs this installation accepts
  std::vector<std::string> sinks;  // sinks that receive this flow's changes
  model::Date today;
  bool allow_gaps = false;  // an operator released a held gap: apply despite the missing sequence
  // Builds the file's acknowledgement from its result; the text is stored with the ledger row in
  // the same transaction (so it can be written again after a crash). Empty: no ACK.
  std::function<Result<std::optional<std::string>>(const InboundResult&)> make_ack;
  std::string flow;  // names the flow in reconciliation items
  recon::MatchOptions matching;
  std::vector<std::string> transfer_sinks;  // staff-history sinks of this flow
  std::vector<BatchSink> batch_sinks;       // sinks that take the changes in batches (JSON lines)
  // A FULL that would withdraw more than this share (%) of its VPD's live persons and assignments,
  // and at least withdraw_limit_min of them, is held until an operator releases it (0: no limit).
  int withdraw_limit_percent = 10;
  std::int64_t withdraw_limit_min = 100;
  std::int64_t merge_recent_at = store::RecordStore::kMergeAtRows;  // [store] merge_recent_at
  Progress* progress = nullptr;  // how far the file is, for a person watching (none: nothing shown)
};

enum class Outcome : std::uint8_t { applied, partial, rejected, duplicate, held };
[[nodiscard]] std::string_view to_string(Outcome o) noexcept;

// One ERR line of the acknowledgement.
struct RecordRejection {
  std::uint64_t line = 0;
  std::string record_type;
  std::string record_key;  // the record's key as read (no other personal data)
  std::string error_code;  // the rule
  std::string message;
};

struct InboundResult {
  Outcome outcome = Outcome::rejected;
  std::int64_t ledger_id = 0;
  std::string checksum;
  std::string vpd;
  std::string interface;
  std::string extract_type;
  std::int64_t seq = 0;
  std::uint64_t records_read = 0;
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t inserted = 0;
  std::uint64_t updated = 0;
  std::uint64_t unchanged = 0;
  std::uint64_t withdrawn = 0;
  std::uint64_t repeated_keys = 0;  // the same key twice in the file (last one won)
  std::uint64_t queued = 0;         // outbox rows written
  std::uint64_t held = 0;           // records held in the reconciliation queue
  std::uint64_t flagged = 0;        // records applied with an item raised for review
  std::vector<RecordRejection> rejections;
  std::vector<Error> file_errors;  // why the file was rejected or held
  std::vector<Error> warnings;     // applied, but for an operator to know: a key the file carried twice
  std::string ack;                 // the acknowledgement text, when the file gets one
  std::string duplicate_of;        // for a duplicate: the file applied before
  std::string previous_ack;        // ... and its acknowledgement
  bool same_content = false;       // ... and whether it had the same content (else: the same sequence)
};

// A FULL held because it would withdraw more than the limit (InboundContext::withdraw_limit_percent)
// has this rule; held_for_withdrawals() tells its ledger row from one held for a gap.
inline constexpr std::string_view kMassWithdrawalRule = "file.mass_withdrawal";
[[nodiscard]] bool held_for_withdrawals(const store::FileRow& row) noexcept;

// Errors are the environment's (I/O, store): the file was not consumed and may be tried again.
Result<InboundResult> apply_inbound_file(const std::string& path, InboundContext& ctx);

}  // namespace esrsync::flow
