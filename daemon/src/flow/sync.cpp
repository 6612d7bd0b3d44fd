#include "esrsync/flow/sync.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <system_error>

#include "esrsync/codec/json_lines.hpp"
#include "esrsync/core/atomic_file.hpp"
#include "esrsync/fhir/staff_history.hpp"
#include "esrsync/flow/ack.hpp"
#include "esrsync/flow/applier.hpp"
#include "esrsync/flow/esr_file_sink.hpp"
#include "esrsync/flow/transfer.hpp"
#include "esrsync/store/schema.hpp"

namespace esrsync::flow {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kDayMs = 86'400'000;

Unexpected io(const char* rule, const std::string& message, const fs::path& path) {
  return fail(Errc::io, rule, message, Origin{path.string()});
}

// Files waiting in the inbox, oldest sequence first (the reference names sort by date and
// sequence). Partial uploads (".part") are never taken.
Result<std::vector<fs::path>> waiting_files(const DirSourceConfig& source) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(source.inbox, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    if (name.ends_with(".part")) continue;
    if (::fnmatch(source.pattern.c_str(), name.c_str(), 0) != 0) continue;
    out.push_back(it->path());
  }
  if (ec) return io("source.list", "cannot list the inbox: " + ec.message(), source.inbox);
  std::sort(out.begin(), out.end());
  return out;
}

// Moves `file` into `dir` under its name, or with a suffix if that name is taken.
Result<fs::path> move_into(const fs::path& file, const std::string& dir, const std::string& suffix) {
  fs::path target = fs::path(dir) / file.filename();
  std::error_code ec;
  if (fs::exists(target, ec)) target += suffix;
  fs::rename(file, target, ec);
  if (ec) return io("source.move", "cannot move the file to " + target.string() + ": " + ec.message(), file);
  return target;
}

// A file moved into processed/ is dated now (its modification time): the retention period counts
// from when it was processed, not from when its sender wrote it (a file held for a gap may be old).
Result<fs::path> move_processed(const fs::path& file, const std::string& dir, const std::string& suffix) {
  auto moved = move_into(file, dir, suffix);
  if (moved && ::utimensat(AT_FDCWD, moved->c_str(), nullptr, 0) != 0) {
    return io("source.move", std::string("cannot date the processed file: ") + std::strerror(errno), *moved);
  }
  return moved;
}

Status write_ack_if_missing(const fs::path& file, const std::string& acks_dir, const std::string& ack) {
  if (ack.empty()) return {};
  const fs::path path = fs::path(acks_dir) / (file.stem().string() + ".ACK");
  std::error_code ec;
  if (fs::exists(path, ec)) return {};
  return write_file_atomically(path, ack);
}

// Writes outbox entries as one JSON-lines file in the sink directory: a batch row's lines as they
// are (read here: claim() hands batch rows over without them), a row of one change as its line.
// The file name carries the first and last outbox ids, so a redelivery after a crash rewrites the
// same file. The caller commits it and syncs the directory.
Result<PendingFile> write_batch(store::Outbox& outbox, const DirSinkConfig& sink, const std::string& flow,
                                std::span<const store::OutboxEntry> batch) {
  std::string text;
  for (const auto& e : batch) {
    if (e.change == "batch") {
      auto whole = outbox.get(e.id);
      if (!whole) return fail(std::move(whole).error());
      if (!*whole) return fail(Errc::io, "outbox.unknown_id", "outbox entry " + std::to_string(e.id) + " is gone");
      auto lines = store::batch_lines(**whole);
      if (!lines) return fail(std::move(lines).error());
      text += *lines;
    } else {
      append_change_line(e.idempotency_key, e.entity, e.record_key, e.payload, text);
    }
  }
  return PendingFile::write(
      fs::path(sink.directory) / batch_file_name(flow, sink.name, batch.front().id, batch.back().id), text);
}

// After sink writes, in one transaction: `delivered` are delivered, `failed` scheduled for retry
// (or dead) with `reason`, `untried` released for the next round.
Status settle(store::SqliteDb& db, store::Outbox& outbox, const std::vector<std::int64_t>& delivered,
              const std::vector<std::int64_t>& failed, const std::string& reason,
              const std::vector<std::int64_t>& untried = {}) {
  if (auto ok = db.begin(); !ok) return ok;
  Status settled = outbox.delivered_all(delivered);
  for (std::size_t i = 0; settled && i < failed.size(); ++i)
    settled = outbox.retry_later(failed[i], reason);
  if (settled) settled = outbox.release(untried);
  if (!settled) {
    db.rollback();
    return settled;
  }
  return db.commit();
}

// Sinks without a mapping: batches of changes as JSON-lines files of up to `batch` changes (a batch
// row is one file). A round claims up to kRowsPerRound rows and puts their files in place in
// order: a batch whose lines were staged in the directory while it was applied (flow/applier.hpp)
// is renamed; the others are written kFilesInFlight at a time (the disk writing each while the
// next is made), then each synced and renamed. The directory is synced once per round and the
// round settled in one transaction. If a staged copy is gone, its file is written from the store.
// A crash before the settle delivers them again, under the same names. A file that fails leaves
// the ones before it delivered and the rest of the round untried.
constexpr std::int64_t kFilesInFlight = 64;
constexpr std::int64_t kRowsPerRound = 1024;

// A batch row's staged copy renamed to the file it becomes; if the copy is gone, the file is
// written from the store instead.
Status put_staged_in_place(store::Outbox& outbox, const DirSinkConfig& sink, const std::string& flow,
                           const store::OutboxEntry& row) {
  const fs::path target = fs::path(sink.directory) / batch_file_name(flow, sink.name, row.id, row.id);
  if (::rename((fs::path(sink.directory) / row.staged).c_str(), target.c_str()) == 0) return {};
  const int err = errno;
  if (err != ENOENT) {
    return fail(Errc::io, "file.rename", std::string("cannot rename into place: ") + std::strerror(err),
                Origin{target.string()});
  }
  auto written = write_batch(outbox, sink, flow, std::span(&row, 1));
  if (!written) return fail(std::move(written).error());
  return written->commit();
}

// Once nothing is pending or dead for the sink, copies staged by transactions that were rolled back
// (a crash, a rejected file) and `.part` files a crash left are removed: none is needed any more.
Status remove_leftovers(store::Outbox& outbox, const FlowConfig& flow, const DirSinkConfig& sink) {
  for (const auto state : {store::OutboxState::pending, store::OutboxState::dead}) {
    auto n = outbox.count(sink.name, state);
    if (!n) return fail(std::move(n).error());
    if (*n != 0) return {};
  }
  const std::string prefix = flow.name + "-" + sink.name + "-";
  std::error_code ec;
  for (fs::directory_iterator it(sink.directory, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code ignored;
    if (name.starts_with(prefix) && name.ends_with(".part")) fs::remove(it->path(), ignored);
  }
  return {};  // best effort: a leftover is never taken for a delivered file
}

Status deliver_json_lines(store::SqliteDb& db, store::Outbox& outbox, const FlowConfig& flow, const DirSinkConfig& sink,
                          SinkReport& report, Progress* progress) {
  for (;;) {
    auto rows = outbox.claim(sink.name, static_cast<int>(kRowsPerRound), kRowsPerRound * sink.batch);
    if (!rows) return fail(std::move(rows).error());
    if (rows->empty()) return remove_leftovers(outbox, flow, sink);
    if (progress != nullptr && (report.files == 0 || progress->due())) {
      progress->show(flow.name + ": delivering to " + sink.name + ": " + std::to_string(report.delivered) +
                     " changes so far");
    }
    struct File {
      std::size_t first;  // its rows in *rows: [first, end)
      std::size_t end;
      std::int64_t changes;
      std::optional<PendingFile> pending;  // written, to be committed; none for a staged copy
    };
    const auto rows_of = [&rows](const File& f) { return std::span(*rows).subspan(f.first, f.end - f.first); };
    std::vector<File> files;
    std::string error;
    std::size_t failed_file = std::numeric_limits<std::size_t>::max();
    std::size_t placed = 0;  // files[0, placed) are in place
    const auto put_in_place = [&](std::size_t upto) {
      for (; placed < upto; ++placed) {
        File& file = files[placed];
        const Status done =
            file.pending ? file.pending->commit() : put_staged_in_place(outbox, sink, flow.name, (*rows)[file.first]);
        if (!done) {
          error = done.error().to_string();
          failed_file = placed;
          return;
        }
        file.pending.reset();
      }
    };
    std::int64_t in_flight = 0;
    for (std::size_t first = 0, end = 0; first < rows->size() && error.empty(); first = end) {
      std::int64_t in_file = 0;
      while (end < rows->size() && (end == first || in_file + (*rows)[end].changes <= sink.batch))
        in_file += (*rows)[end++].changes;
      File& file = files.emplace_back(File{first, end, in_file, std::nullopt});
      if (end - first == 1 && !(*rows)[first].staged.empty()) continue;
      if (auto written = write_batch(outbox, sink, flow.name, rows_of(file)); written) {
        file.pending.emplace(std::move(*written));
        if (++in_flight == kFilesInFlight) {
          put_in_place(files.size());
          in_flight = 0;
        }
      } else {
        error = written.error().to_string();
        failed_file = files.size() - 1;
      }
    }
    put_in_place(std::min(failed_file, files.size()));
    std::vector<std::int64_t> written;
    std::vector<std::int64_t> failed;
    std::vector<std::int64_t> untried;  // after a failure, the rest of the round waits
    std::uint64_t changes = 0;
    std::uint64_t files_written = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
      auto* into = i < failed_file ? &written : i == failed_file ? &failed : &untried;
      if (i < failed_file) {
        changes += static_cast<std::uint64_t>(files[i].changes);
        ++files_written;
      }
      for (std::size_t r = files[i].first; r < files[i].end; ++r)
        into->push_back((*rows)[r].id);
    }
    for (std::size_t r = files.empty() ? 0 : files.back().end; r < rows->size(); ++r)
      untried.push_back((*rows)[r].id);  // claimed, never reached
    files.clear();                       // files not renamed remove their .part
    if (!written.empty()) {
      if (auto synced = sync_directory(sink.directory); !synced) {
        error = synced.error().to_string();  // renamed, not yet durable: tried again
        failed.insert(failed.end(), written.begin(), written.end());
        written.clear();
        changes = files_written = 0;
      }
    }
    if (auto ok = settle(db, outbox, written, failed, error, untried); !ok) return ok;
    report.delivered += changes;
    report.files += files_written;
    if (!error.empty()) {
      report.last_error = error;
      return {};  // one pass: the outbox has scheduled the retries; a later run (or the daemon) makes them
    }
  }
}

Status deliver_staff_histories(store::SqliteDb& db, store::Outbox& outbox, const DirSinkConfig& sink,
                               const std::string& provider_code, const Clock& clock, SinkReport& report) {
  for (;;) {
    auto batch = outbox.claim(sink.name, sink.batch);
    if (!batch) return fail(std::move(batch).error());
    if (batch->empty()) return {};
    for (const auto& e : *batch) {
      const auto payload = nlohmann::json::parse(e.payload, nullptr, false);
      const std::string person = payload.value("person_number", "");
      const std::string to_org = payload.value("to_org", "");
      Status written = [&]() -> Status {
        auto history = load_staff_history(db, person, clock);
        if (!history) return fail(std::move(history).error());
        if (!*history) return fail(Errc::validation, "transfer.unknown_person", "person " + person + " is not known");
        const std::string bundle =
            fhir::to_bundle((*history)->person, (*history)->events,
                            fhir::BundleOptions{provider_code, model::utc_instant(clock.now_ms())});
        return write_file_atomically(fs::path(sink.directory) / ("staff_history_" + person + "_" + to_org + "_" +
                                                                 std::to_string(e.id) + ".json"),
                                     bundle);
      }();
      if (auto ok = written ? settle(db, outbox, {e.id}, {}, "")
                            : settle(db, outbox, {}, {e.id}, written.error().to_string());
          !ok) {
        return ok;
      }
      if (!written) {
        report.last_error += (report.last_error.empty() ? "" : "\n") + written.error().to_string();
        continue;
      }
      ++report.delivered;
      ++report.files;
    }
  }
}

Status deliver(store::SqliteDb& db, const FlowConfig& flow, const DirSinkConfig& sink, const std::string& provider_code,
               const Clock& clock, SinkReport& report, Progress* progress) {
  store::Outbox outbox(db, store::RetryPolicy{sink.max_attempts, sink.base_delay_ms, 3'600'000, 300'000}, clock,
                       static_cast<std::uint64_t>(clock.now_ms()));
  if (sink.kind == "staff-history") {
    if (auto ok = deliver_staff_histories(db, outbox, sink, provider_code, clock, report); !ok) return ok;
  } else if (!sink.mapping.empty()) {
    if (auto ok = deliver_esr_files(db, sink, clock, report); !ok) return ok;
  } else {
    if (auto ok = deliver_json_lines(db, outbox, flow, sink, report, progress); !ok) return ok;
  }
  auto pending = outbox.count(sink.name, store::OutboxState::pending);
  auto dead = outbox.count(sink.name, store::OutboxState::dead);
  if (!pending) return fail(std::move(pending).error());
  if (!dead) return fail(std::move(dead).error());
  report.pending = *pending;
  report.dead = *dead;
  return {};
}

// One row in the run log for this flow's part of the report.
Status log_run(store::SqliteDb& db, const std::string& flow, std::int64_t started_ms, std::int64_t finished_ms,
               const SyncReport& report) {
  store::RunRow row;
  row.flow = flow;
  row.started_ms = started_ms;
  row.finished_ms = finished_ms;
  SyncReport mine;
  for (const auto& f : report.files) {
    if (f.flow != flow) continue;
    ++row.files;
    switch (f.result.outcome) {
      case Outcome::applied:
        ++row.applied;
        break;
      case Outcome::partial:
        ++row.partial;
        break;
      case Outcome::rejected:
        ++row.rejected;
        break;
      case Outcome::held:
        ++row.held;
        break;
      case Outcome::duplicate:
        ++row.duplicates;
        break;
    }
    mine.files.push_back(f);
  }
  for (const auto& s : report.sinks) {
    if (s.flow != flow) continue;
    row.delivered += static_cast<std::int64_t>(s.delivered);
    row.pending += static_cast<std::int64_t>(s.pending);
    row.dead += static_cast<std::int64_t>(s.dead);
    mine.sinks.push_back(s);
  }
  row.clean = mine.clean();
  return store::RunLog(db).add(row);
}

}  // namespace

std::uint64_t purge_processed(const std::string& dir, std::int64_t before_ms, std::vector<Error>& problems) {
  std::uint64_t deleted = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const std::int64_t dated_ms = std::int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000;
    if (dated_ms >= before_ms) continue;
    if (::unlink(it->path().c_str()) == 0) {
      ++deleted;
    } else {
      problems.push_back(make_error(Errc::io, "retention.delete",
                                    std::string("cannot delete the processed file: ") + std::strerror(errno),
                                    Origin{it->path().string()}));
    }
  }
  if (ec) {
    problems.push_back(
        make_error(Errc::io, "retention.list", "cannot list the processed directory: " + ec.message(), Origin{dir}));
  }
  return deleted;
}

bool SyncReport::clean() const {
  const bool files_ok = std::all_of(files.begin(), files.end(), [](const FileReport& f) {
    return (f.result.outcome == Outcome::applied || f.result.outcome == Outcome::duplicate) && f.result.held == 0;
  });
  const bool sinks_ok =
      std::all_of(sinks.begin(), sinks.end(), [](const SinkReport& s) { return s.pending == 0 && s.dead == 0; });
  return files_ok && sinks_ok;
}

Result<SyncReport> sync_once(const Config& config, const SyncOptions& options, const Clock& clock) {
  // The embedded store has one user at a time: a second esrsync on it waits for nothing and says so.
  const auto lock = store::lock_store(config.store_path);
  if (!lock) return fail(lock.error());
  auto db = store::SqliteDb::open(config.store_path);
  if (!db) return fail(std::move(db).error());
  if (auto ok = db->migrate(store::schema_migrations()); !ok) return fail(std::move(ok).error());
  store::RecordStore records(*db, clock);
  store::FileLedger ledger(*db, clock);
  store::Outbox outbox(*db, store::RetryPolicy{}, clock, 1);
  if (auto released = outbox.release_leases(); !released) return fail(std::move(released).error());
  if (auto indexed = reindex_persons_if_empty(*db); !indexed) return fail(std::move(indexed).error());
  SyncReport report;
  for (const auto& flow : config.flows) {
    if (!options.only_flow.empty() && flow.name != options.only_flow) continue;
    const std::int64_t started_ms = clock.now_ms();
    auto mapping = mapping::load_mapping(flow.mapping);
    if (!mapping) return fail(std::move(mapping).error());
    std::shared_ptr<const mapping::Mapping> ack_mapping;
    if (!flow.ack_mapping.empty()) {
      auto loaded = mapping::load_mapping(flow.ack_mapping);
      if (!loaded) return fail(std::move(loaded).error());
      ack_mapping = std::move(*loaded);
    }
    const SinkRoles roles = sink_roles(flow);
    auto files = waiting_files(flow.source);
    if (!files) return fail(std::move(files).error());
    for (const auto& file : *files) {
      const std::string name = file.filename().string();
      InboundContext ctx{*db,           records, ledger,  outbox,   **mapping, config.vpds, roles.per_change,
                         options.today, false,   nullptr, flow.name};
      ctx.matching =
          recon::MatchOptions{config.matching.auto_threshold, config.matching.review_threshold, config.matching.margin};
      ctx.withdraw_limit_percent = config.withdraw_limit_percent;
      ctx.merge_recent_at = config.merge_recent_at;
      ctx.withdraw_limit_min = config.withdraw_limit_min;
      ctx.transfer_sinks = roles.transfer;
      ctx.batch_sinks = roles.batched;
      ctx.progress = options.progress;
      if (ack_mapping) {
        ctx.make_ack = [&](const InboundResult& r) {
          return make_ack(r, name, model::utc_from_ms(clock.now_ms()), ack_mapping);
        };
      }
      auto result = apply_inbound_file(file.string(), ctx);
      if (!result) return fail(std::move(result).error());
      // The file's errors and warnings name it as its record errors do: by name (by the time they
      // are read it has moved from the inbox to processed/ or quarantine/).
      for (auto* errors : {&result->file_errors, &result->warnings}) {
        for (auto& e : *errors) {
          if (e.origin.file == file.string()) e.origin.file = name;
        }
      }
      FileReport fr{flow.name, name, std::move(*result), {}};
      const auto& r = fr.result;
      const std::string suffix = "." + std::to_string(r.ledger_id);
      Result<fs::path> moved = fs::path{};
      switch (r.outcome) {
        case Outcome::applied:
        case Outcome::partial:
          if (auto ok = write_ack_if_missing(file, flow.source.acks, r.ack); !ok) return fail(std::move(ok).error());
          moved = move_processed(file, flow.source.processed, suffix);
          break;
        case Outcome::duplicate:
          // The same file applied before: if the crash came before its ACK was written, that ACK
          // now. Another file (another name, or other content under the same sequence): its own
          // ACK, REJECTED with the reason, since nothing of it was applied.
          if (auto ok = write_ack_if_missing(file, flow.source.acks,
                                             r.same_content && r.duplicate_of == name ? r.previous_ack : r.ack);
              !ok) {
            return fail(std::move(ok).error());
          }
          moved = move_processed(file, flow.source.processed, ".duplicate" + suffix);
          break;
        case Outcome::rejected: {
          if (auto ok = write_ack_if_missing(file, flow.source.acks, r.ack); !ok) return fail(std::move(ok).error());
          std::string reason;
          for (const auto& e : r.file_errors)
            reason += e.to_string() + "\n";
          moved = move_into(file, flow.source.quarantine, suffix);
          if (moved) {
            if (auto ok = write_file_atomically(moved->string() + ".reason", reason); !ok) {
              return fail(std::move(ok).error());
            }
          }
          break;
        }
        case Outcome::held:
          break;  // stays in the inbox until the missing sequence arrives or is released
      }
      if (!moved) return fail(std::move(moved).error());
      fr.moved_to = moved->string();
      report.files.push_back(std::move(fr));
    }
    for (const auto& sink : flow.sinks) {
      SinkReport sr{flow.name, sink.name};
      if (auto ok = deliver(*db, flow, sink, config.provider_code, clock, sr, options.progress); !ok) {
        return fail(std::move(ok).error());
      }
      report.sinks.push_back(std::move(sr));
    }
    if (auto ok = log_run(*db, flow.name, started_ms, clock.now_ms(), report); !ok) return fail(std::move(ok).error());
    report.purged_processed +=
        purge_processed(flow.source.processed, clock.now_ms() - std::int64_t{flow.source.keep_processed_days} * kDayMs,
                        report.retention_problems);
  }
  // Retention (DESIGN.md "Store"): delivered changes and runs older than their configured periods
  // are deleted; dead letters are never deleted here.
  auto purged = outbox.purge_delivered(clock.now_ms() - std::int64_t{config.keep_delivered_days} * kDayMs);
  if (!purged) return fail(std::move(purged).error());
  report.purged = static_cast<std::uint64_t>(*purged);
  auto runs = store::RunLog(*db).purge(clock.now_ms() - std::int64_t{config.keep_runs_days} * kDayMs);
  if (!runs) return fail(std::move(runs).error());
  report.purged_runs = static_cast<std::uint64_t>(*runs);
  return report;
}

}  // namespace esrsync::flow
