#pragma once
// One pass of every configured flow (`esrsync sync --once`): take each file waiting in a flow's
// inbox, apply it (flow/inbound.hpp), write its ACK, move it to processed/ or quarantine/, then
// deliver what the outbox holds to each sink. Safe to interrupt anywhere: a file is moved only
// after its transaction committed, its ACK is kept in the ledger so it can be written again, and
// a change leaves the outbox only after its sink file is in place.
//
// Blocking; run from the command line or the daemon's blocking pool.

#include <cstdint>
#include <string>
#include <vector>

#include "esrsync/core/clock.hpp"
#include "esrsync/core/progress.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/flow/config.hpp"
#include "esrsync/flow/inbound.hpp"

namespace esrsync::flow {

struct FileReport {
  std::string flow;
  std::string file;
  InboundResult result;
  std::string moved_to;  // where the file went ("" = left in the inbox: held)
};

struct SinkReport {
  std::string flow;
  std::string sink;
  std::uint64_t delivered = 0;
  std::uint64_t files = 0;    // ESR-style files written
  std::uint64_t refused = 0;  // changes the receiver refused in an ACK (now dead letters)
  std::uint64_t pending = 0;
  std::uint64_t dead = 0;
  std::string last_error;  // the run's delivery problems, one a line
};

struct SyncReport {
  std::vector<FileReport> files;
  std::vector<SinkReport> sinks;
  std::uint64_t purged = 0;               // delivered changes past [store] keep_delivered_days, deleted
  std::uint64_t purged_processed = 0;     // processed files past their source's keep_processed_days, deleted
  std::uint64_t purged_runs = 0;          // runs past [store] keep_runs_days, deleted
  std::vector<Error> retention_problems;  // files that could not be deleted (tried again next run)
  // True when every file was applied (or was a harmless duplicate) with no record held for
  // review, and every change delivered.
  [[nodiscard]] bool clean() const;
};

struct SyncOptions {
  std::string only_flow;  // empty: every flow
  model::Date today;
  Progress* progress = nullptr;  // how far the run is, for a person watching (none: nothing shown)
};

Result<SyncReport> sync_once(const Config& config, const SyncOptions& options, const Clock& clock);

// Retention (DESIGN.md "Store"): deletes the regular files in `dir` (a source's processed/, which
// is esrsync's own) last modified before `before_ms`; anything else (a directory, a symbolic link)
// is left alone. Returns how many went; a file that cannot be deleted (retention.delete) or a
// directory that cannot be listed (retention.list) is added to `problems`, to be tried again at the
// next run. Quarantined files are never passed here: they wait for an operator.
std::uint64_t purge_processed(const std::string& dir, std::int64_t before_ms, std::vector<Error>& problems);

}  // namespace esrsync::flow
