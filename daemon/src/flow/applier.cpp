#include "esrsync/flow/applier.hpp"

#include <filesystem>

#include "esrsync/codec/json_lines.hpp"
#include "esrsync/core/atomic_file.hpp"
#include "esrsync/core/checksum.hpp"
#include "esrsync/core/compress.hpp"
#include "esrsync/model/names.hpp"
#include "esrsync/store/payload.hpp"
#include "esrsync/store/transfer_log.hpp"

namespace esrsync::flow {

using model::Entity;

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

SinkRoles sink_roles(const FlowConfig& flow) {
  SinkRoles roles;
  for (const auto& s : flow.sinks) {
    if (s.kind == "staff-history") {
      roles.transfer.push_back(s.name);
    } else if (s.mapping.empty()) {
      roles.batched.push_back(BatchSink{s.name, s.batch, s.directory});
    } else {
      roles.per_change.push_back(s.name);
    }
  }
  return roles;
}

std::string batch_file_name(std::string_view flow, std::string_view sink, std::int64_t first_id, std::int64_t last_id) {
  return std::string(flow) + "-" + std::string(sink) + "-" + std::to_string(first_id) + "-" + std::to_string(last_id) +
         ".jsonl";
}

void append_change_line(std::string_view idempotency_key, std::string_view entity, std::string_view key,
                        std::string_view payload, std::string& out) {
  out += "{\"idempotency_key\":";
  codec::append_json_string(idempotency_key, out);
  out += ",\"entity\":";
  codec::append_json_string(entity, out);
  out += ",\"key\":";
  codec::append_json_string(key, out);
  out += ",\"change\":";
  out += payload.empty() ? "null" : payload;
  out += "}\n";
}

Status reindex_persons_if_empty(store::SqliteDb& db) {
  store::PersonIndex index(db);
  auto empty = index.empty();
  if (!empty) return fail(std::move(empty).error());
  if (!*empty) return {};
  // A store without persons (new, or OH-only so far) has nothing to index: no scan at every start.
  auto persons = db.prepare("SELECT EXISTS (SELECT 1 FROM canonical_record WHERE entity = 'person')");
  if (!persons) return fail(std::move(persons).error());
  if (auto row = persons->step(); !row) return fail(std::move(row).error());
  if (persons->column_int64(0) == 0) return {};
  auto rows = db.prepare(
      "SELECT entity, vpd, payload FROM current_record WHERE entity IN ('person', 'immunisation') AND withdrawn = 0 "
      "ORDER BY entity DESC");
  if (!rows) return fail(std::move(rows).error());
  if (auto ok = db.begin(); !ok) return ok;
  Status built = [&]() -> Status {
    for (;;) {
      auto row = rows->step();
      if (!row) return fail(std::move(row).error());
      if (!*row) return {};
      auto json = store::unpack_payload(rows->column_blob(2));
      if (!json) return fail(std::move(json).error());
      auto record = codec::parse_canonical_json(*json);
      if (!record) return fail(std::move(record).error());
      if (rows->column_text(0) == "person") {
        if (auto ok = index.put(store::PersonKeys::from(*record, rows->column_text(1))); !ok) return ok;
      } else if (!record->get("person_number").empty()) {
        if (auto ok =
                index.put_event(record->get("person_number"),
                                store::PersonEvent{record_key(*record), std::string(record->get("antigen")),
                                                   std::string(record->get("kind")), std::string(record->get("status")),
                                                   std::string(record->get("event_date"))});
            !ok) {
          return ok;
        }
      }
    }
  }();
  if (!built) {
    db.rollback();
    return built;
  }
  return db.commit();
}

Applier::Applier(store::SqliteDb& db, store::RecordStore& records, store::Outbox& outbox,
                 std::vector<std::string> sinks, std::string flow, recon::MatchOptions matching, ApplyCounts& counts)
    : db_(db),
      records_(records),
      outbox_(outbox),
      sinks_(std::move(sinks)),
      flow_(std::move(flow)),
      matching_(matching),
      counts_(counts),
      persons_(db),
      recon_(db, records.clock()) {}

void Applier::set_batch_sinks(const std::vector<BatchSink>& sinks) {
  batches_.clear();
  for (const auto& sink : sinks)
    batches_.push_back(Batch{sink, {}, 0, 0, {}, {}, {}});
}

Status Applier::flush(Batch& b) {
  if (b.changes == 0) return {};
  store::OutboxEntry entry;
  entry.sink = b.sink.name;
  // Stable across crashes: the source and the batch's place in it (a crash rolls the whole
  // source back, and the same changes fill the same batches again).
  entry.idempotency_key = b.sink.name + ":batch:" + source_.identity + ":" + std::to_string(++b.written);
  entry.entity = b.entity;
  entry.record_key = b.first_key == b.last_key ? b.first_key : b.first_key + ".." + b.last_key;
  entry.change = "batch";
  entry.changes = b.changes;
  auto id = outbox_.enqueue_batch(entry);
  if (!id) return fail(std::move(id).error());
  // Compressing a batch takes about as long as applying a tenth of its records: it runs beside the
  // store's work instead of in it, at most two batches ahead, each on a thread of its own so that
  // their copies' fsyncs overlap (one helper thread doing them in turn made a first load 3 s
  // slower). Beside it too, the lines are staged as
  // the file they will become, under a name of their own in the sink's directory (written,
  // synced, renamed: complete if it exists; the name carries a digest of the content, so a copy
  // left by a transaction that was rolled back is never taken for this one). Delivery then renames
  // it into place instead of writing the lines a second time. Staging is only a head start: when
  // it fails (an unwritable directory) or the copy is gone by delivery, the file is written from
  // the store.
  const std::size_t size = b.text.size();
  std::string final_name = b.sink.directory.empty() ? std::string() : batch_file_name(flow_, b.sink.name, *id, *id);
  compressing_.push_back(Compressing{
      *id, std::async(std::launch::async,
                      [text = std::move(b.text), dir = b.sink.directory, final_name = std::move(final_name)] {
                        Packed out{zstd_compress(text), {}};
                        if (!final_name.empty()) {
                          std::string staged = final_name + "." + sha256_hex(text).substr(0, 16) + ".part";
                          if (write_file_atomically(std::filesystem::path(dir) / staged, text, DirSync::later)) {
                            out.staged = std::move(staged);
                          }
                        }
                        return out;
                      })});
  b.text = std::string();
  b.text.reserve(size);
  b.changes = 0;
  return put_compressed(2);
}

Status Applier::put_compressed(std::size_t keep) {
  while (compressing_.size() > keep) {
    const Packed packed = compressing_.front().packed.get();
    if (auto ok = outbox_.put_lines(compressing_.front().id, packed.frame, packed.staged); !ok) return ok;
    compressing_.pop_front();
  }
  return {};
}

Status Applier::finish() {
  if (auto ok = records_.flush_appended(); !ok) return ok;
  for (auto& b : batches_) {
    if (auto ok = flush(b); !ok) return ok;
  }
  return put_compressed(0);
}

namespace {

// OH records are matched to a person first; the others go to the store as they are.
bool matched_first(Entity e) {
  return e == Entity::immunisation || e == Entity::clearance;
}

// A record's canonical JSON and its content hash. The action is how the sender sent it, not part
// of the content: an A then a C of the same data is no change.
void content_of(model::Record& record, std::string& canonical, std::string& hash) {
  const std::string action(record.get("action"));
  record.set("action", "");
  codec::append_canonical_json(record, canonical);
  hash = codec::content_hash_of(canonical);  // the canonical JSON just built, not built again
  record.set("action", action);
}

}  // namespace

bool Applier::prepare(model::Record& record, std::string_view vpd, std::string& canonical, std::string& hash,
                      std::string* packed) {
  if (matched_first(record.entity)) return false;
  if (record.entity == Entity::assignment) record.set("vpd", vpd);
  if (record.get("action") == "D") return false;
  canonical.clear();
  content_of(record, canonical, hash);
  if (packed != nullptr) {
    packed->clear();
    store::pack_payload(canonical, *packed);
  }
  return true;
}

Status Applier::apply(model::Record& record, std::string_view vpd, std::string_view canonical, std::string_view hash,
                      std::string_view packed) {
  if (record.entity == Entity::assignment) record.set("vpd", vpd);
  if (!matched_first(record.entity)) return store_and_queue(record, vpd, canonical, hash, packed);
  auto m = recon::match_person(record, persons_, matching_);
  if (!m) return fail(std::move(m).error());
  const std::string key = record_key(record);
  const std::string entity(model::entity_def(record.entity).name);
  store::MatchDecision decision{0,
                                entity,
                                key,
                                source_.name + ":" + std::to_string(record.line),
                                m->rule,
                                m->score,
                                m->person_number,
                                "esrsync",
                                0,
                                m->detail,
                                0};
  if (!m->matched) {
    auto id = raise(m->kind, record, m->rule, m->detail, recon::candidates_json(m->candidates));
    if (!id) return fail(std::move(id).error());
    decision.item_id = *id;
    ++counts_.held;
    return recon_.log_decision(decision);
  }
  if (auto ok = recon_.log_decision(decision); !ok) return ok;
  record.set("person_number", m->person_number);
  return apply_owned(record, m->vpd, m->rule, false);
}

Status Applier::apply_resolved(model::Record& record, const std::string& person_number, bool accept_conflict) {
  auto person = persons_.get(person_number);
  if (!person) return fail(std::move(person).error());
  if (!*person) {
    return fail(Errc::validation, "recon.unknown_person", "no person " + person_number + " is known");
  }
  record.set("person_number", person_number);
  return apply_owned(record, (*person)->vpd, "human", accept_conflict);
}

// OH-owned data for a matched person.
Status Applier::apply_owned(model::Record& record, std::string_view vpd, std::string_view match_rule,
                            bool accept_conflict) {
  // Field ownership: identity belongs to ESR. Where a strong identifier matched and the OH record
  // disagrees about who this is, a human should know; the OH-owned data is applied regardless.
  if (match_rule != "match.score" && match_rule != "human") {
    auto person = persons_.get(record.get("person_number"));
    if (!person) return fail(std::move(person).error());
    if (*person) {
      if (auto ok = check_identity(record, **person); !ok) return ok;
    }
  }
  // A clearance is for one of the person's own assignments (ESR numbers them <person>-<n>).
  if (record.entity == Entity::clearance &&
      !record.get("assignment_number").starts_with(std::string(record.get("person_number")) + "-")) {
    auto id = raise(store::ReconKind::identifier_conflict, record, "clearance.assignment",
                    "assignment " + std::string(record.get("assignment_number")) + " is not one of person " +
                        std::string(record.get("person_number")) + "'s",
                    recon::candidates_json({{std::string(record.get("person_number")), 1, "matched"}}));
    if (!id) return fail(std::move(id).error());
    ++counts_.held;
    return {};
  }
  if (record.entity == Entity::immunisation && !accept_conflict) {
    auto conflict = conflicts_with_stored(record);
    if (!conflict) return fail(std::move(conflict).error());
    if (*conflict) return {};
  }
  if (auto ok = store_and_queue(record, vpd); !ok) return ok;
  if (record.entity == Entity::immunisation && record.get("action") != "D") {
    const std::string person(record.get("person_number"));
    if (auto ok = persons_.put_event(
            person,
            store::PersonEvent{record_key(record), std::string(record.get("antigen")), std::string(record.get("kind")),
                               std::string(record.get("status")), std::string(record.get("event_date"))});
        !ok) {
      return ok;
    }
    return check_regression(record);
  }
  return {};
}

Status Applier::check_identity(const model::Record& record, const store::PersonKeys& person) {
  std::vector<std::string> differ;
  const auto both = [](std::string_view a, std::string_view b) { return !a.empty() && !b.empty() && a != b; };
  if (both(record.get("date_of_birth"), person.date_of_birth)) differ.emplace_back("date_of_birth");
  if (both(record.get("nhs_number"), person.nhs_number)) differ.emplace_back("nhs_number");
  if (both(record.get("ni_number"), person.ni_number)) differ.emplace_back("ni_number");
  const std::string surname = model::fold_name(record.get("surname"));
  if (!surname.empty() && surname != person.surname_key && surname != person.previous_surname_key) {
    differ.emplace_back("surname");
  }
  if (differ.empty()) return {};
  std::string fields;
  for (const auto& f : differ)
    fields += (fields.empty() ? "" : ", ") + f;
  auto id = raise(store::ReconKind::identity_discrepancy, record, "ownership.identity",
                  "the OH record's " + fields + " differ from ESR's for person " + person.person_number +
                      "; ESR's identity is kept, the OH data was applied",
                  recon::candidates_json({{person.person_number, 1, "matched"}}));
  if (!id) return fail(std::move(id).error());
  ++counts_.flagged;
  return {};
}

Result<bool> Applier::conflicts_with_stored(const model::Record& record) {
  auto stored = records_.get("immunisation", record_key(record));
  if (!stored) return fail(std::move(stored).error());
  if (!*stored || (*stored)->withdrawn) return false;
  auto before = codec::parse_canonical_json((*stored)->payload);
  if (!before) return fail(std::move(before).error());
  std::string fields;
  for (const std::string_view field : {"event_date", "antigen", "result"}) {
    if (before->get(field) != record.get(field)) fields += (fields.empty() ? "" : ", ") + std::string(field);
  }
  if (before->get("person_number") != record.get("person_number")) {
    fields += (fields.empty() ? "" : ", ") + std::string("person");
  }
  if (fields.empty()) return false;
  auto id = raise(store::ReconKind::event_conflict, record, "event.conflict",
                  "event " + record_key(record) + " was received before with a different " + fields +
                      "; the stored version stays until someone decides",
                  recon::candidates_json({{std::string(record.get("person_number")), 1, "matched"}}));
  if (!id) return fail(std::move(id).error());
  ++counts_.held;
  return true;
}

Status Applier::check_regression(const model::Record& record) {
  if (record.get("kind") != "serology" || record.get("status") != "NON_IMMUNE") return {};
  auto events = persons_.events(record.get("person_number"));
  if (!events) return fail(std::move(events).error());
  for (const auto& e : *events) {
    if (e.antigen == record.get("antigen") && e.kind == "serology" && e.status == "IMMUNE" &&
        e.event_date <= record.get("event_date") && e.event_key != record_key(record)) {
      auto id = raise(store::ReconKind::status_regression, record, "status.regression",
                      "a NON_IMMUNE " + std::string(record.get("antigen")) + " result follows the IMMUNE result " +
                          e.event_key + " of " + e.event_date,
                      recon::candidates_json({{std::string(record.get("person_number")), 1, "matched"}}));
      if (!id) return fail(std::move(id).error());
      ++counts_.flagged;
      return {};
    }
  }
  return {};
}

Result<std::int64_t> Applier::raise(store::ReconKind kind, const model::Record& record, std::string rule,
                                    std::string detail, std::string candidates) {
  payload_.clear();
  codec::append_canonical_json(record, payload_);
  return recon_.hold(store::ReconItem{0, kind, store::ReconState::open, flow_,
                                      std::string(model::entity_def(record.entity).name), record_key(record), payload_,
                                      source_.name + ":" + std::to_string(record.line), std::move(rule),
                                      std::move(detail), std::move(candidates)});
}

Status Applier::store_and_queue(model::Record& record, std::string_view vpd, std::string_view canonical,
                                std::string_view prepared_hash, std::string_view packed) {
  const std::string key = record_key(record);
  const auto& def = model::entity_def(record.entity);
  store::Change change = store::Change::unchanged;
  std::string hash;
  std::string_view payload = canonical;
  if (record.get("action") == "D") {
    auto withdrawn = records_.withdraw(def.name, key, source_.file_id);
    if (!withdrawn) return fail(std::move(withdrawn).error());
    change = *withdrawn;
    hash = "withdrawn";
    payload_.clear();
    codec::append_canonical_json(record, payload_);
    payload = payload_;
  } else {
    if (prepared_hash.empty()) {
      payload_.clear();
      content_of(record, payload_, hash);
      payload = payload_;
    } else {
      hash = prepared_hash;
    }
    // The packed form when the decoding thread made it; else the JSON, packed by the store.
    auto applied = records_.apply(def.name, key, vpd, packed.empty() ? payload : packed, hash, source_.file_id,
                                  likely_new_, record.entity == Entity::person ? &previous_ : nullptr);
    if (!applied) return fail(std::move(applied).error());
    change = *applied;
    if (record.entity == Entity::person || record.entity == Entity::assignment) {
      auto seen = seen_.find(def.name);  // no string built per record
      if (seen == seen_.end()) seen = seen_.emplace(std::string(def.name), KeySet{}).first;
      seen->second.add(key);
    }
    if (record.entity == Entity::person && (change == store::Change::inserted || change == store::Change::updated) &&
        !same_person_keys(record, vpd)) {
      if (auto ok = persons_.put(store::PersonKeys::from(record, vpd)); !ok) return ok;
    }
    if (record.entity == Entity::assignment && change == store::Change::inserted && record.get("trainee") == "Y" &&
        !transfer_sinks_.empty()) {
      if (auto ok = check_transfer(record); !ok) return ok;
    }
  }
  return queue(def.name, key, change, hash, payload, record.line);
}

// A person whose content changed in place (same VPD, live) and whose matching keys are those of the
// version replaced keeps the index entry it has: the index is kept from exactly these keys, so
// comparing with the replaced payload (already read) spares a lookup into the index, which for a
// DELTA is a random read per person.
bool Applier::same_person_keys(const model::Record& person, std::string_view vpd) const {
  if (previous_.empty()) return false;
  auto before = codec::parse_canonical_json(previous_);
  return before && store::PersonKeys::from(*before, vpd) == store::PersonKeys::from(person, vpd);
}

Status Applier::check_transfer(const model::Record& assignment) {
  const std::string person(assignment.get("person_number"));
  const std::string to_org(assignment.get("org_code"));
  auto others = records_.with_prefix("assignment", person + "-");
  if (!others) return fail(std::move(others).error());
  std::string from_org;
  std::string latest_start;
  for (const auto& other : *others) {
    // Only an assignment known before this file is a place the person moves from: a first load
    // (or one extract listing two concurrent posts) is nobody's move.
    if (other.key == assignment.get("assignment_number") || other.last_file_id == source_.file_id) continue;
    auto earlier = codec::parse_canonical_json(other.payload);
    if (!earlier) return fail(std::move(earlier).error());
    if (earlier->get("org_code") != to_org && earlier->get("start_date") >= latest_start) {
      latest_start = earlier->get("start_date");
      from_org = earlier->get("org_code");
    }
  }
  if (from_org.empty()) return {};  // not a move between organisations
  store::TransferRow row{0, person, std::string(assignment.get("assignment_number")), from_org, to_org, "", "", 0};
  auto stored = records_.get("person", person);
  if (!stored) return fail(std::move(stored).error());
  std::string consent;
  if (*stored) {
    auto p = codec::parse_canonical_json((*stored)->payload);
    if (!p) return fail(std::move(p).error());
    consent = p->get("transfer_consent");
  }
  if (consent == "Y") {
    row.decision = "queued";
    row.reason = "transfer_consent is Y";
    // Its own buffer: payload_ may hold the assignment's canonical JSON, which is queued after this.
    std::string transfer =
        "{\"person_number\":\"" + person + "\",\"assignment_number\":\"" + row.assignment_number + "\",\"from_org\":";
    codec::append_json_string(from_org, transfer);
    transfer += ",\"to_org\":";
    codec::append_json_string(to_org, transfer);
    transfer += "}";
    for (const auto& sink : transfer_sinks_) {
      store::OutboxEntry entry;
      entry.sink = sink;
      entry.idempotency_key = sink + ":staff_history:" + row.assignment_number + ":" + source_.identity;
      entry.entity = "staff_history";
      entry.record_key = person;
      entry.payload = transfer;
      entry.change = "inserted";
      if (auto ok = outbox_.enqueue(entry); !ok) return ok;
      ++counts_.queued;
    }
  } else if (consent == "N") {
    row.decision = "refused";
    row.reason = "transfer_consent is N: the person refused; nothing was sent";
  } else {
    row.decision = "no_consent";
    row.reason = *stored ? "transfer_consent is not recorded: nothing is sent without consent"
                         : "the person is not known: nothing is sent without consent";
  }
  return store::TransferLog(db_, records_.clock()).add(row);
}

Status Applier::queue(std::string_view entity, const std::string& key, store::Change change, const std::string& hash,
                      std::string_view payload, std::uint64_t line) {
  switch (change) {
    case store::Change::inserted:
      ++counts_.inserted;
      break;
    case store::Change::updated:
      ++counts_.updated;
      break;
    case store::Change::unchanged:
      ++counts_.unchanged;
      return {};
    case store::Change::withdrawn:
      ++counts_.withdrawn;
      break;
  }
  // Stable across retries and crashes: the change and where it came from (never a row id), down
  // to the line, since a record may change more than once in one file (A, B, A, B: the second
  // "to B" is a change of its own, not a redelivery of the first). The sink's name goes first.
  std::string tail;
  tail.reserve(128);
  for (const std::string_view part : {std::string_view(entity), std::string_view(key), to_string(change),
                                      std::string_view(hash), std::string_view(source_.identity)}) {
    tail += ':';
    tail += part;
  }
  if (line != 0) tail += ":" + std::to_string(line);
  for (const auto& sink : sinks_) {
    store::OutboxEntry entry;
    entry.sink = sink;
    entry.idempotency_key = sink + tail;
    entry.entity = entity;
    entry.record_key = key;
    entry.payload = payload;
    entry.change = to_string(change);
    if (auto ok = outbox_.enqueue(entry); !ok) return ok;
    ++counts_.queued;
  }
  for (auto& b : batches_) {
    line_key_.assign(b.sink.name);
    line_key_ += tail;
    append_change_line(line_key_, entity, key, payload, b.text);
    if (b.changes++ == 0) {
      b.entity = entity;
      b.first_key = key;
    } else if (b.entity != entity) {
      b.entity = "mixed";
    }
    b.last_key = key;
    ++counts_.queued;
    if (b.changes >= b.sink.batch) {
      if (auto ok = flush(b); !ok) return ok;
    }
  }
  return {};
}

void Applier::seal_seen() {
  for (auto& [entity, keys] : seen_) {
    std::vector<std::string> repeated;
    counts_.repeated_keys += keys.seal(&repeated, kMaxListedRepeats);
    for (auto& key : repeated)
      counts_.repeated.emplace_back(entity, std::move(key));
  }
}

Status Applier::withdraw_unseen(std::string_view vpd) {
  for (const auto entity : {Entity::person, Entity::assignment})
    seen_.try_emplace(std::string(model::entity_def(entity).name));  // a file without any: all withdrawn
  auto gone = records_.withdraw_unseen(vpd, seen_, source_.file_id);
  if (!gone) return fail(std::move(gone).error());
  for (const auto& [entity, key] : *gone) {
    auto stored = records_.get(entity, key);
    if (!stored) return fail(std::move(stored).error());
    payload_ = *stored ? (*stored)->payload : std::string("{}");
    if (auto ok = queue(entity, key, store::Change::withdrawn, "gone", payload_, 0); !ok) return ok;
  }
  return {};
}

}  // namespace esrsync::flow
