#include "esrsync/flow/inbound.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/codec/decode_ahead.hpp"
#include "esrsync/codec/decoder.hpp"
#include "esrsync/codec/json_lines.hpp"
#include "esrsync/core/checksum.hpp"
#include "esrsync/flow/applier.hpp"
#include "esrsync/store/person_index.hpp"

namespace esrsync::flow {

std::string_view to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::applied:
      return "applied";
    case Outcome::partial:
      return "partial";
    case Outcome::rejected:
      return "rejected";
    case Outcome::duplicate:
      return "duplicate";
    case Outcome::held:
      return "held";
  }
  return "rejected";
}

bool held_for_withdrawals(const store::FileRow& row) noexcept {
  // record_unapplied keeps the reasons as "rule: message; ..."
  return row.status == store::FileStatus::held && row.reason.starts_with(kMassWithdrawalRule) &&
         row.reason.compare(kMassWithdrawalRule.size(), 2, ": ") == 0;
}

namespace {

using model::Entity;

std::int64_t to_int(std::string_view text) {
  std::int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

Error file_error(const std::string& path, std::string rule, std::string message, std::uint64_t line = 0) {
  return make_error(Errc::structure, std::move(rule), std::move(message), Origin{path, line});
}

// DOMAIN.md "File-level rules": the same key twice in one file — the last one wins, and a warning is
// logged. One warning per repeated key (listed up to kMaxListedRepeats of each entity), then, if
// some were not listed, how many repeats there were in all.
std::vector<Error> repeat_warnings(const std::string& path, const ApplyCounts& counts) {
  std::vector<Error> out;
  std::map<std::string_view, std::size_t> listed;
  for (const auto& [entity, key] : counts.repeated) {
    ++listed[entity];
    out.push_back(file_error(path, "record.repeated_key",
                             entity + " " + key + " came more than once in the file; the last one was applied"));
  }
  if (std::any_of(listed.begin(), listed.end(), [](const auto& l) { return l.second >= kMaxListedRepeats; })) {
    out.push_back(file_error(path, "record.repeated_key",
                             std::to_string(counts.repeated_keys) + " repeated records in all; the first " +
                                 std::to_string(kMaxListedRepeats) + " repeated keys of each kind are listed"));
  }
  return out;
}

// The acknowledgement, when the context builds one.
Status build_ack(InboundContext& ctx, InboundResult& result) {
  if (!ctx.make_ack) return {};
  auto ack = ctx.make_ack(result);
  if (!ack) return fail(std::move(ack).error());
  result.ack = ack->value_or(std::string{});
  return {};
}

// The ledger row of a file that was not applied, in its own short transaction.
Result<std::int64_t> record_unapplied(InboundContext& ctx, const std::string& path, InboundResult& result,
                                      store::FileStatus status) {
  if (auto ok = build_ack(ctx, result); !ok) return fail(std::move(ok).error());
  const std::string name = std::filesystem::path(path).filename().string();
  if (status == store::FileStatus::held) {
    // A file still waiting for the same gap is the same event: its ledger row is not repeated at
    // every run.
    auto newest = ctx.ledger.newest_named(name);
    if (!newest) return fail(std::move(newest).error());
    if (*newest && (*newest)->status == store::FileStatus::held && (*newest)->checksum == result.checksum) {
      return (*newest)->id;
    }
  }
  std::string reason;
  for (const auto& e : result.file_errors) {
    if (!reason.empty()) reason += "; ";
    reason += e.rule + ": " + e.message;
  }
  if (auto ok = ctx.db.begin(); !ok) return fail(std::move(ok).error());
  auto id = ctx.ledger.add(
      store::FileRow{0, name, result.checksum, result.vpd, result.interface, result.seq, status,
                     static_cast<std::int64_t>(result.records_read), static_cast<std::int64_t>(result.accepted),
                     static_cast<std::int64_t>(result.rejected), reason.substr(0, 4000), result.ack});
  if (!id) {
    ctx.db.rollback();
    return id;
  }
  if (auto ok = ctx.db.commit(); !ok) {
    ctx.db.rollback();
    return fail(std::move(ok).error());
  }
  return id;
}

// A FULL extract withdraws what its VPD had and it does not carry. One that would withdraw a large
// share of the VPD (an extract cut short upstream, or run for the wrong organisation, still has a
// good HDR and TRL) is held for an operator instead: the reason, or empty when the file may be
// applied. Counted after the withdrawals, inside the file's transaction, only when there are
// enough of them to matter.
Result<std::string> over_withdraw_limit(InboundContext& ctx, const InboundResult& result, const ApplyCounts& counts) {
  const auto withdrawn = static_cast<std::int64_t>(counts.withdrawn);
  if (ctx.withdraw_limit_percent <= 0 || withdrawn < ctx.withdraw_limit_min) return std::string{};
  std::int64_t live_after = 0;
  for (const auto entity : {Entity::person, Entity::assignment}) {
    auto live = ctx.records.count_live(model::entity_def(entity).name, result.vpd);
    if (!live) return fail(std::move(live).error());
    live_after += *live;
  }
  const std::int64_t before = std::max(withdrawn, live_after + withdrawn - static_cast<std::int64_t>(counts.inserted));
  if (withdrawn * 100 <= std::int64_t{ctx.withdraw_limit_percent} * before) return std::string{};
  auto released = ctx.ledger.gap_released(result.vpd, result.interface, result.seq);
  if (!released) return fail(std::move(released).error());
  if (*released) return std::string{};  // an operator checked the extract and let it through
  return "this FULL would withdraw " + std::to_string(withdrawn) + " of the " + std::to_string(before) +
         " persons and assignments VPD " + result.vpd + " has live (" + std::to_string(withdrawn * 100 / before) +
         " %, over the limit of " + std::to_string(ctx.withdraw_limit_percent) +
         " %): held until an operator checks the extract and releases it (esrsync release-gap --vpd " + result.vpd +
         " --seq " + std::to_string(result.seq) + ")";
}

// DOMAIN.md names ESR files <DE|DI>_<VPD>_OHS_<YYYYMMDD>_<SEQ7>.<ext>. A name that gives another
// VPD or sequence than the header is worth a look (a file renamed by hand, a sender's mistake): the
// header decides, as the interface has it, and the difference is a warning. Names in other shapes
// (a source's pattern may allow them) are not read.
std::optional<Error> name_disagrees(const std::string& path, const InboundResult& result) {
  const std::string name = std::filesystem::path(path).filename().string();
  const auto digits = [](std::string_view text, std::size_t n) {
    return text.size() == n && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::vector<std::string_view> parts;
  std::string_view rest(name);
  for (std::size_t at; (at = rest.find('_')) != std::string_view::npos; rest.remove_prefix(at + 1))
    parts.push_back(rest.substr(0, at));
  const std::size_t dot = rest.find('.');
  if (parts.size() != 4 || parts[0].size() != 2 || parts[2] != "OHS" || !digits(parts[3], 8) || dot == 0 ||
      !digits(rest.substr(0, dot), 7)) {
    return std::nullopt;
  }
  const std::string vpd(parts[1]);
  const std::int64_t seq = to_int(rest.substr(0, dot));
  if (vpd == result.vpd && seq == result.seq) return std::nullopt;
  return file_error(path, "file.name_mismatch",
                    "the name says VPD " + vpd + ", sequence " + std::to_string(seq) + " but the header VPD " +
                        result.vpd + ", sequence " + std::to_string(result.seq) + "; the header's are used",
                    1);
}

// ESR files: the header decides whether the file may be applied at all (its VPD, sequence and
// interface). Returns true when the file is not to be applied (its ledger row is written).
Result<bool> check_header(const std::string& path, InboundContext& ctx, codec::Decoder& decoder, model::Record& record,
                          std::vector<Error>& errors, InboundResult& result) {
  const auto first = decoder.next(record, errors);
  const bool have_header = first == codec::Next::record && record.entity == Entity::file_header;
  if (!have_header) {
    // Drain the decoder so its file-level errors (no header, wrong interface...) are reported.
    while (decoder.next(record, errors) != codec::Next::end) {
    }
    result.file_errors = decoder.file_errors();
    if (result.file_errors.empty()) {
      result.file_errors.push_back(
          file_error(path, "file.no_header", "the file does not start with a valid header", 1));
    }
    auto id = record_unapplied(ctx, path, result, store::FileStatus::rejected);
    if (!id) return fail(std::move(id).error());
    result.ledger_id = *id;
    return true;
  }
  result.vpd = record.get("vpd");
  result.interface = record.get("interface");
  result.extract_type = record.get("extract_type");
  result.seq = to_int(record.get("seq"));
  if (auto mismatch = name_disagrees(path, result)) result.warnings.push_back(std::move(*mismatch));

  if (std::find(ctx.vpds.begin(), ctx.vpds.end(), result.vpd) == ctx.vpds.end()) {
    result.file_errors.push_back(
        file_error(path, "header.vpd", "VPD " + result.vpd + " is not configured for this installation", 1));
  } else {
    auto same_seq = ctx.ledger.applied_by_seq(result.vpd, result.interface, result.seq);
    if (!same_seq) return fail(std::move(same_seq).error());
    if (*same_seq) {
      result.outcome = Outcome::duplicate;
      result.duplicate_of = (*same_seq)->name;
      result.previous_ack = (*same_seq)->ack;
      result.file_errors.push_back(file_error(path, "file.duplicate_seq",
                                              "sequence " + std::to_string(result.seq) + " of VPD " + result.vpd +
                                                  " was applied before as " + (*same_seq)->name,
                                              1));
      auto id = record_unapplied(ctx, path, result, store::FileStatus::duplicate);
      if (!id) return fail(std::move(id).error());
      result.ledger_id = *id;
      return true;
    }
    auto last = ctx.ledger.last_applied_seq(result.vpd, result.interface);
    if (!last) return fail(std::move(last).error());
    // An operator may have released this file's gap (`esrsync release-gap`).
    auto released = ctx.ledger.gap_released(result.vpd, result.interface, result.seq);
    if (!released) return fail(std::move(released).error());
    if (*last && result.seq < **last) {
      result.file_errors.push_back(file_error(path, "file.out_of_order",
                                              "sequence " + std::to_string(result.seq) + " is lower than " +
                                                  std::to_string(**last) + ", the last applied for VPD " + result.vpd,
                                              1));
    } else if (*last && result.seq > **last + 1 && !ctx.allow_gaps && !*released) {
      result.outcome = Outcome::held;
      // The missing sequence may have arrived and be held itself (a FULL over the withdrawal limit).
      auto held = ctx.ledger.held();
      if (!held) return fail(std::move(held).error());
      const auto next = std::find_if(held->begin(), held->end(), [&](const store::FileRow& f) {
        return f.vpd == result.vpd && f.interface == result.interface && f.seq == **last + 1 && held_for_withdrawals(f);
      });
      const std::string waits_for =
          next == held->end()
              ? " arrives"
              : " (" + next->name + ", held itself: " + std::string(kMassWithdrawalRule) + ") is applied";
      result.file_errors.push_back(file_error(
          path, "file.sequence_gap",
          "sequence " + std::to_string(result.seq) + " follows " + std::to_string(**last) + ": held until sequence " +
              std::to_string(**last + 1) + waits_for + " or an operator releases it",
          1));
      auto id = record_unapplied(ctx, path, result, store::FileStatus::held);
      if (!id) return fail(std::move(id).error());
      result.ledger_id = *id;
      return true;
    } else if (result.extract_type == "FULL" && !*released) {
      // Held before for what it would withdraw (over_withdraw_limit): it stays held, without being
      // applied again at every run, until an operator releases it.
      auto newest = ctx.ledger.newest_named(std::filesystem::path(path).filename().string());
      if (!newest) return fail(std::move(newest).error());
      if (*newest && held_for_withdrawals(**newest) && (*newest)->checksum == result.checksum) {
        result.outcome = Outcome::held;
        result.file_errors.push_back(file_error(path, std::string(kMassWithdrawalRule),
                                                (*newest)->reason.substr(kMassWithdrawalRule.size() + 2), 1));
        auto id = record_unapplied(ctx, path, result, store::FileStatus::held);
        if (!id) return fail(std::move(id).error());
        result.ledger_id = *id;
        return true;
      }
    }
  }
  if (!result.file_errors.empty()) {
    result.outcome = Outcome::rejected;
    auto id = record_unapplied(ctx, path, result, store::FileStatus::rejected);
    if (!id) return fail(std::move(id).error());
    result.ledger_id = *id;
    return true;
  }

  return false;
}

// The journal mode for one file's transaction (see apply_inbound_file): "truncate" while it lives
// when asked for, back to WAL after. Switching needs no transaction open; if SQLite keeps WAL (it
// may not switch), nothing changes but speed.
class JournalForLoad {
 public:
  JournalForLoad(store::SqliteDb& db, bool bulk) : db_(db) {
    if (bulk) switched_ = db_.journal_mode("truncate").value_or("") == "truncate";
  }
  JournalForLoad(const JournalForLoad&) = delete;
  JournalForLoad& operator=(const JournalForLoad&) = delete;
  ~JournalForLoad() {
    if (!switched_) return;
    db_.rollback();  // every path commits or rolls back first; this is a guard
    (void)db_.journal_mode("wal");
  }

 private:
  store::SqliteDb& db_;
  bool switched_ = false;
};

// The store's part of applying one file (store::RecordStore::begin_file), ended on every path.
class RecordsForFile {
 public:
  explicit RecordsForFile(store::RecordStore& records) : records_(records) {}
  RecordsForFile(const RecordsForFile&) = delete;
  RecordsForFile& operator=(const RecordsForFile&) = delete;
  ~RecordsForFile() { records_.end_file(); }

 private:
  store::RecordStore& records_;
};

}  // namespace

Result<InboundResult> apply_inbound_file(const std::string& path, InboundContext& ctx) {
  InboundResult result;
  auto checksum = sha256_file(path);
  if (!checksum) return fail(std::move(checksum).error());
  result.checksum = std::move(*checksum);

  auto seen = ctx.ledger.applied_by_checksum(result.checksum);
  if (!seen) return fail(std::move(seen).error());
  if (*seen) {
    result.outcome = Outcome::duplicate;
    result.duplicate_of = (*seen)->name;
    result.previous_ack = (*seen)->ack;
    result.same_content = true;
    result.file_errors.push_back(
        file_error(path, "file.duplicate_content", "the same content was applied before as " + (*seen)->name));
    auto id = record_unapplied(ctx, path, result, store::FileStatus::duplicate);
    if (!id) return fail(std::move(id).error());
    result.ledger_id = *id;
    return result;
  }

  auto source = codec::open_file_source(path);
  if (!source) return fail(std::move(source).error());
  auto decoder = codec::make_decoder(ctx.mapping, **source, codec::DecodeOptions{ctx.today});
  model::Record record;
  std::vector<Error> errors;
  if (ctx.mapping.find_role(mapping::RecordSpec::Role::header) != nullptr) {
    auto checked = check_header(path, ctx, *decoder, record, errors, result);
    if (!checked) return fail(std::move(checked).error());
    if (*checked) return result;  // not applied: rejected, duplicate or held
  }

  // A FULL extract into a store that has no persons yet (the first load) is written with a
  // rollback journal instead of the WAL: nearly every page it writes is new, and a new page needs
  // no journal entry, so the gigabytes go to the store file once instead of to the WAL and then
  // again at the checkpoint. Just as atomic and durable (synchronous=FULL); a crash leaves a hot
  // journal that SQLite rolls back on the next open. WAL again once the file is done.
  bool first_load = false;
  // A FULL withdraws what the VPD had and the file does not carry: a VPD that had nothing live
  // before the file (a first load) has nothing to withdraw, and its keys need no comparing.
  bool had_live = false;
  if (result.extract_type == "FULL") {
    auto empty = store::PersonIndex(ctx.db).empty();
    if (!empty) return fail(std::move(empty).error());
    first_load = *empty;
    for (const auto entity : {Entity::person, Entity::assignment}) {
      auto live = ctx.records.has_live(model::entity_def(entity).name, result.vpd);
      if (!live) return fail(std::move(live).error());
      had_live = *live;
      if (had_live) break;  // persons first: one probe
    }
  }
  JournalForLoad journal(ctx.db, first_load);
  // Apply every record in one transaction; a file-level problem found on the way undoes it all.
  if (auto ok = ctx.db.begin(); !ok) return fail(std::move(ok).error());
  // Undoes the file: its transaction, and what the store holds in memory for it (records waiting to
  // be appended), so that nothing of it reaches a later transaction.
  const auto undo = [&ctx] {
    ctx.db.rollback();
    ctx.records.end_file();
  };
  auto abandon = [&undo](Error e) -> Result<InboundResult> {
    undo();
    return fail(std::move(e));
  };
  const std::string file_name = std::filesystem::path(path).filename().string();
  if (result.interface.empty()) result.interface = ctx.mapping.name;
  auto file_id =
      ctx.ledger.add(store::FileRow{0, file_name, result.checksum, result.vpd, result.interface, result.seq});
  if (!file_id) return abandon(std::move(file_id).error());
  // The file's content changes wait among the recent versions (merged first if too many wait).
  RecordsForFile file_scope(ctx.records);
  if (auto merged = ctx.records.begin_file(ctx.merge_recent_at); !merged) {
    return abandon(std::move(merged).error());
  }
  ApplyCounts counts;
  Applier applier(ctx.db, ctx.records, ctx.outbox, ctx.sinks, ctx.flow, ctx.matching, counts);
  applier.set_transfer_sinks(ctx.transfer_sinks);
  applier.set_batch_sinks(ctx.batch_sinks);
  // The file a change came from, stable across crashes and retries: ESR files by (VPD, seq),
  // files without a header by their content.
  applier.set_source(ApplySource{
      *file_id, file_name,
      result.vpd.empty() ? "sha256-" + result.checksum.substr(0, 32) : result.vpd + "-" + std::to_string(result.seq)});
  if (first_load) {
    if (auto ok = applier.begin_bulk_persons(); !ok) return abandon(std::move(ok).error());
  }
  // On a terminal, which file and how far (a first load of 1.5 M persons takes a minute).
  const auto show = [&ctx, &file_name](const std::string& what) {
    if (ctx.progress != nullptr) ctx.progress->show(ctx.flow + ": " + file_name + ": " + what);
  };
  std::uint64_t applied = 0;
  show("applying");
  {
    // Decoding, validating and hashing run a few chunks ahead on a thread of their own while this
    // one applies to the store (two cores instead of one on a large file). Where nearly every
    // record is written (a first load; a DELTA, which lists changes) it is packed for the store
    // there too; a later FULL is mostly unchanged records, packed by the store only when written.
    const bool pack_ahead = first_load || result.extract_type != "FULL";
    codec::DecodeAhead ahead(*decoder, [vpd = result.vpd, pack_ahead](codec::Decoded& d) {
      if (d.record.entity == Entity::file_header || d.record.entity == Entity::file_trailer) return;
      Applier::prepare(d.record, vpd, d.canonical, d.hash, pack_ahead ? &d.packed : nullptr);
    });
    while (codec::Decoded* d = ahead.next()) {
      if (d->next == codec::Next::rejected) {
        for (const auto& e : d->errors) {
          result.rejections.push_back(
              RecordRejection{e.origin.line, d->record.record_type, std::string(d->record.key()), e.rule,
                              e.message + (e.origin.field.empty() ? "" : " [" + e.origin.field + "]")});
        }
        continue;
      }
      if (d->record.entity == Entity::file_header || d->record.entity == Entity::file_trailer) continue;
      if (auto ok = applier.apply(d->record, result.vpd, d->canonical, d->hash, d->packed); !ok) {
        return abandon(std::move(ok).error());
      }
      if ((++applied & 0x3FFF) == 0 && ctx.progress != nullptr && ctx.progress->due()) {
        show(std::to_string(applied) + " records applied");
      }
    }
  }  // the decoding thread has ended: the decoder's stats and file errors are final
  result.records_read = decoder->stats().records_read;
  result.accepted = decoder->stats().accepted;
  result.rejected = decoder->stats().rejected;
  if (!decoder->file_errors().empty()) {
    undo();
    result.file_errors = decoder->file_errors();
    result.outcome = Outcome::rejected;
    result.accepted = 0;  // nothing of a rejected file is applied
    result.rejected = result.records_read;
    auto id = record_unapplied(ctx, path, result, store::FileStatus::rejected);
    if (!id) return fail(std::move(id).error());
    result.ledger_id = *id;
    return result;
  }
  applier.seal_seen();
  if (result.extract_type == "FULL" && had_live) {
    if (auto ok = applier.withdraw_unseen(result.vpd); !ok) return abandon(std::move(ok).error());
    auto over = over_withdraw_limit(ctx, result, counts);
    if (!over) return abandon(std::move(over).error());
    if (!over->empty()) {
      // Nothing of the file is applied: it waits in the inbox, like a file after a gap.
      undo();
      InboundResult held;
      held.outcome = Outcome::held;
      held.checksum = result.checksum;
      held.vpd = result.vpd;
      held.interface = result.interface;
      held.extract_type = result.extract_type;
      held.seq = result.seq;
      held.records_read = result.records_read;
      held.warnings = std::move(result.warnings);
      held.file_errors.push_back(file_error(path, std::string(kMassWithdrawalRule), *over, 1));
      auto id = record_unapplied(ctx, path, held, store::FileStatus::held);
      if (!id) return fail(std::move(id).error());
      held.ledger_id = *id;
      return held;
    }
  }
  show(std::to_string(applied) + (first_load ? " applied; indexing, committing" : " applied; committing"));
  if (auto ok = applier.end_bulk_persons(); !ok) return abandon(std::move(ok).error());
  if (auto ok = applier.finish(); !ok) return abandon(std::move(ok).error());
  result.inserted = counts.inserted;
  result.updated = counts.updated;
  result.unchanged = counts.unchanged;
  result.withdrawn = counts.withdrawn;
  result.repeated_keys = counts.repeated_keys;
  for (auto& w : repeat_warnings(path, counts))
    result.warnings.push_back(std::move(w));
  result.queued = counts.queued;
  result.held = counts.held;
  result.flagged = counts.flagged;
  result.outcome = result.rejected == 0 ? Outcome::applied : Outcome::partial;
  if (auto ok = build_ack(ctx, result); !ok) return abandon(std::move(ok).error());
  if (auto ok = ctx.ledger.finish(
          *file_id, result.outcome == Outcome::applied ? store::FileStatus::applied : store::FileStatus::partial,
          static_cast<std::int64_t>(result.records_read), static_cast<std::int64_t>(result.accepted),
          static_cast<std::int64_t>(result.rejected), "", result.ack);
      !ok) {
    return abandon(std::move(ok).error());
  }
  if (auto ok = ctx.db.commit(); !ok) return abandon(std::move(ok).error());
  result.ledger_id = *file_id;
  return result;
}

}  // namespace esrsync::flow
