#include "esrsync/flow/inbound.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/codec/decoder.hpp"
#include "esrsync/codec/json_lines.hpp"
#include "esrsync/core/checksum.hpp"
#include "esrsync/recon/matcher.hpp"
#include "esrsync/store/person_index.hpp"
#include "esrsync/store/recon_queue.hpp"

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

namespace {

using model::Entity;

// The store key of a canonical record (DOMAIN.md "Canonical model": ESR owns persons by person
// number and assignments by assignment number; OH events are unique per provider).
std::string record_key(const model::Record& r) {
  switch (r.entity) {
    case Entity::person:
      return std::string(r.get("person_number"));
    case Entity::assignment:
      return std::string(r.get("assignment_number"));
    case Entity::immunisation:
      return std::string(r.get("provider_code")) + ":" + std::string(r.get("event_id"));
    case Entity::clearance:
      return std::string(r.get("assignment_number")) + ":" + std::string(r.get("clearance_type")) + ":" +
             std::string(r.get("provider_code"));
    default:
      return std::string(r.key());
  }
}

std::int64_t to_int(std::string_view text) {
  std::int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

Error file_error(const std::string& path, std::string rule, std::string message, std::uint64_t line = 0) {
  return make_error(Errc::structure, std::move(rule), std::move(message), Origin{path, line});
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
  std::string reason;
  for (const auto& e : result.file_errors) {
    if (!reason.empty()) reason += "; ";
    reason += e.rule + ": " + e.message;
  }
  if (auto ok = ctx.db.begin(); !ok) return fail(std::move(ok).error());
  auto id = ctx.ledger.add(store::FileRow{
      0, std::filesystem::path(path).filename().string(), result.checksum, result.vpd, result.interface, result.seq,
      status, static_cast<std::int64_t>(result.records_read), static_cast<std::int64_t>(result.accepted),
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

class Applier {
 public:
  Applier(InboundContext& ctx, InboundResult& result) : ctx_(ctx), result_(result) {}

  // Applies one valid data record inside the file's transaction.
  Status apply(model::Record& record, const std::string& file_name) {
    if (record.entity == Entity::assignment) record.set("vpd", result_.vpd);
    std::string vpd = result_.vpd;
    if (record.entity == Entity::immunisation || record.entity == Entity::clearance) {
      auto person = match(record, file_name);
      if (!person) return fail(std::move(person).error());
      if (!*person) return {};  // held for review
      record.set("person_number", (*person)->first);
      vpd = std::move((*person)->second);
    }
    const std::string key = record_key(record);
    const auto& def = model::entity_def(record.entity);
    store::Change change = store::Change::unchanged;
    std::string hash;
    payload_.clear();
    if (record.get("action") == "D") {
      auto withdrawn = ctx_.records.withdraw(def.name, key, file_id_);
      if (!withdrawn) return fail(std::move(withdrawn).error());
      change = *withdrawn;
      hash = "withdrawn";
      codec::append_canonical_json(record, payload_);
    } else {
      // The action is how ESR sent it, not part of the content: an A then a C of the same data is
      // no change.
      const std::string action(record.get("action"));
      record.set("action", "");
      codec::append_canonical_json(record, payload_);
      hash = codec::content_hash(record);
      record.set("action", action);
      auto applied = ctx_.records.apply(def.name, key, vpd, payload_, hash, file_id_);
      if (!applied) return fail(std::move(applied).error());
      change = applied->change;
      if (applied->repeated) ++result_.repeated_keys;
      if (record.entity == Entity::person && (change == store::Change::inserted || change == store::Change::updated)) {
        if (auto ok = persons_.put(store::PersonKeys::from(record, vpd)); !ok) return ok;
      }
    }
    return count_and_queue(def.name, key, change, hash);
  }

  // Matches an OH record to a person: the person's (number, VPD), or nothing when the record was
  // held for review. Every decision is logged.
  Result<std::optional<std::pair<std::string, std::string>>> match(const model::Record& record,
                                                                   const std::string& file_name) {
    auto m = recon::match_person(record, persons_);
    if (!m) return fail(std::move(m).error());
    const std::string key = record_key(record);
    const std::string entity(model::entity_def(record.entity).name);
    const std::string source = file_name + ":" + std::to_string(record.line);
    store::MatchDecision decision{0,         entity, key,       source, m->rule, m->score, m->person_number,
                                  "esrsync", 0,      m->detail, 0};
    std::optional<std::pair<std::string, std::string>> out;
    if (m->matched) {
      out.emplace(m->person_number, m->vpd);
    } else {
      payload_.clear();
      codec::append_canonical_json(record, payload_);
      auto id = recon_.hold(store::ReconItem{0, m->kind, store::ReconState::open, ctx_.flow, entity, key, payload_,
                                             source, m->rule, m->detail, recon::candidates_json(m->candidates)});
      if (!id) return fail(std::move(id).error());
      decision.item_id = *id;
      ++result_.held;
    }
    if (auto ok = recon_.log_decision(decision); !ok) return fail(std::move(ok).error());
    return out;
  }

  Status count_and_queue(std::string_view entity, const std::string& key, store::Change change,
                         const std::string& hash) {
    switch (change) {
      case store::Change::inserted:
        ++result_.inserted;
        break;
      case store::Change::updated:
        ++result_.updated;
        break;
      case store::Change::unchanged:
        ++result_.unchanged;
        return {};
      case store::Change::withdrawn:
        ++result_.withdrawn;
        break;
    }
    for (const auto& sink : ctx_.sinks) {
      store::OutboxEntry entry;
      entry.sink = sink;
      // Stable across retries and crashes: the change and the file it came from (never a row id).
      entry.idempotency_key = sink + ":" + std::string(entity) + ":" + key + ":" + std::string(to_string(change)) +
                              ":" + hash + ":" + file_identity();
      entry.entity = entity;
      entry.record_key = key;
      entry.payload = payload_;
      entry.change = to_string(change);
      auto queued = ctx_.outbox.enqueue(entry);
      if (!queued) return fail(std::move(queued).error());
      if (*queued) ++result_.queued;
    }
    return {};
  }

  // FULL extracts: what the VPD had and this file does not carry is withdrawn.
  Status withdraw_unseen() {
    for (const auto entity : {Entity::person, Entity::assignment}) {
      const auto name = model::entity_def(entity).name;
      auto keys = ctx_.records.withdraw_unseen(name, result_.vpd, file_id_);
      if (!keys) return fail(std::move(keys).error());
      for (const auto& key : *keys) {
        auto stored = ctx_.records.get(name, key);
        if (!stored) return fail(std::move(stored).error());
        payload_ = *stored ? (*stored)->payload : std::string("{}");
        if (auto ok = count_and_queue(name, key, store::Change::withdrawn, "gone"); !ok) return ok;
      }
    }
    return {};
  }

  void set_file_id(std::int64_t id) { file_id_ = id; }

 private:
  // The file a change came from, stable across crashes and retries: ESR files by (VPD, seq),
  // files without a header by their content.
  std::string file_identity() const {
    if (!result_.vpd.empty()) return result_.vpd + "-" + std::to_string(result_.seq);
    return "sha256-" + result_.checksum.substr(0, 32);
  }

  InboundContext& ctx_;
  InboundResult& result_;
  store::PersonIndex persons_{ctx_.db};
  store::ReconQueue recon_{ctx_.db, ctx_.records.clock()};
  std::int64_t file_id_ = 0;
  std::string payload_;
};

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
      result.file_errors.push_back(file_error(path, "file.sequence_gap",
                                              "sequence " + std::to_string(result.seq) + " follows " +
                                                  std::to_string(**last) + ": held until sequence " +
                                                  std::to_string(**last + 1) + " arrives or an operator releases it",
                                              1));
      auto id = record_unapplied(ctx, path, result, store::FileStatus::held);
      if (!id) return fail(std::move(id).error());
      result.ledger_id = *id;
      return true;
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

  // Apply every record in one transaction; a file-level problem found on the way undoes it all.
  if (auto ok = ctx.db.begin(); !ok) return fail(std::move(ok).error());
  auto abandon = [&ctx](Error e) -> Result<InboundResult> {
    ctx.db.rollback();
    return fail(std::move(e));
  };
  const std::string file_name = std::filesystem::path(path).filename().string();
  if (result.interface.empty()) result.interface = ctx.mapping.name;
  auto file_id =
      ctx.ledger.add(store::FileRow{0, file_name, result.checksum, result.vpd, result.interface, result.seq});
  if (!file_id) return abandon(std::move(file_id).error());
  Applier applier(ctx, result);
  applier.set_file_id(*file_id);
  for (;;) {
    const auto next = decoder->next(record, errors);
    if (next == codec::Next::end) break;
    if (next == codec::Next::rejected) {
      for (const auto& e : errors) {
        result.rejections.push_back(
            RecordRejection{e.origin.line, record.record_type, std::string(record.key()), e.rule,
                            e.message + (e.origin.field.empty() ? "" : " [" + e.origin.field + "]")});
      }
      continue;
    }
    if (record.entity == Entity::file_header || record.entity == Entity::file_trailer) continue;
    if (auto ok = applier.apply(record, file_name); !ok) return abandon(std::move(ok).error());
  }
  result.records_read = decoder->stats().records_read;
  result.accepted = decoder->stats().accepted;
  result.rejected = decoder->stats().rejected;
  if (!decoder->file_errors().empty()) {
    ctx.db.rollback();
    result.file_errors = decoder->file_errors();
    result.outcome = Outcome::rejected;
    result.accepted = 0;  // nothing of a rejected file is applied
    result.rejected = result.records_read;
    result.inserted = result.updated = result.unchanged = result.withdrawn = result.queued = result.repeated_keys = 0;
    result.held = 0;
    auto id = record_unapplied(ctx, path, result, store::FileStatus::rejected);
    if (!id) return fail(std::move(id).error());
    result.ledger_id = *id;
    return result;
  }
  if (result.extract_type == "FULL") {
    if (auto ok = applier.withdraw_unseen(); !ok) return abandon(std::move(ok).error());
  }
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
