#include "esrsync/ops/admin_command.hpp"

#include <nlohmann/json.hpp>

#include <ctime>
#include <filesystem>
#include <optional>

#include "esrsync/core/clock.hpp"
#include "esrsync/fhir/staff_history.hpp"
#include "esrsync/flow/config.hpp"
#include "esrsync/flow/inbound.hpp"
#include "esrsync/flow/resolve.hpp"
#include "esrsync/flow/transfer.hpp"
#include "esrsync/ops/table.hpp"
#include "esrsync/recon/status.hpp"
#include "esrsync/store/outbound_files.hpp"
#include "esrsync/store/outbox.hpp"
#include "esrsync/store/person_index.hpp"
#include "esrsync/store/recon_queue.hpp"
#include "esrsync/store/record_store.hpp"
#include "esrsync/store/schema.hpp"
#include "esrsync/store/sqlite.hpp"
#include "esrsync/store/transfer_log.hpp"

namespace esrsync::ops {
namespace {

using nlohmann::json;

// Opens the store the configuration names; prints the problem and returns nullopt on failure.
std::optional<store::SqliteDb> open_store(const AdminOptions& o, std::FILE* err, flow::Config* config_out = nullptr) {
  std::vector<Error> problems;
  auto config = flow::load_config(o.config, &problems);
  if (!config) {
    for (const auto& p : problems)
      std::fprintf(err, "%s\n", p.to_string().c_str());
    return std::nullopt;
  }
  auto db = store::SqliteDb::open(config->store_path);
  if (!db) {
    std::fprintf(err, "%s\n", db.error().to_string().c_str());
    return std::nullopt;
  }
  if (auto ok = db->migrate(store::schema_migrations()); !ok) {
    std::fprintf(err, "%s\n", ok.error().to_string().c_str());
    return std::nullopt;
  }
  if (config_out != nullptr) *config_out = std::move(*config);
  return std::optional<store::SqliteDb>(std::move(*db));
}

int store_error(const Error& e, std::FILE* err) {
  std::fprintf(err, "%s\n", e.to_string().c_str());
  return 2;
}

std::string_view state_name(store::OutboxState s) {
  switch (s) {
    case store::OutboxState::pending:
      return "pending";
    case store::OutboxState::delivered:
      return "delivered";
    case store::OutboxState::dead:
      return "dead";
  }
  return "pending";
}

json entry_json(const store::OutboxEntry& e, bool with_payload) {
  json j{{"id", e.id},
         {"sink", e.sink},
         {"entity", e.entity},
         {"key", e.record_key},
         {"state", std::string(state_name(e.state))},
         {"attempts", e.attempts},
         {"next_attempt_ms", e.next_attempt_ms},
         {"last_error", e.last_error},
         {"idempotency_key", e.idempotency_key},
         {"changes", e.changes}};
  if (!with_payload) return j;
  if (e.change != "batch") {
    j["payload"] = json::parse(e.payload, nullptr, false);
    return j;
  }
  // A batch row: its lines, each a change with its own idempotency key.
  auto text = store::batch_lines(e);
  if (!text) {
    j["payload"] = nullptr;
    j["payload_error"] = text.error().to_string();
    return j;
  }
  json lines = json::array();
  std::string_view rest = *text;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    lines.push_back(json::parse(rest.substr(0, end), nullptr, false));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  j["payload"] = std::move(lines);
  return j;
}

json item_json(const store::ReconItem& i, bool with_payload) {
  json j{{"id", i.id},
         {"kind", std::string(to_string(i.kind))},
         {"state", std::string(to_string(i.state))},
         {"flow", i.flow},
         {"entity", i.entity},
         {"key", i.record_key},
         {"source", i.source},
         {"rule", i.rule},
         {"detail", i.detail},
         {"candidates", json::parse(i.candidates, nullptr, false)},
         {"created_ms", i.created_ms}};
  if (i.state != store::ReconState::open) {
    j["decided_ms"] = i.decided_ms;
    j["decided_by"] = i.decided_by;
    j["decision"] = i.decision;
    j["reason"] = i.reason;
  }
  if (with_payload) j["record"] = json::parse(i.payload, nullptr, false);
  return j;
}

const SystemClock kClock;

// The derived per-antigen status of one person (recon/status.hpp).
int print_status(store::SqliteDb& db, const std::string& person, bool as_json, std::FILE* out, std::FILE* err) {
  store::PersonIndex index(db);
  auto known = index.get(person);
  if (!known) return store_error(known.error(), err);
  if (!*known) {
    std::fprintf(err, "export: no person %s is known\n", person.c_str());
    return 1;
  }
  auto events = index.events(person);
  if (!events) return store_error(events.error(), err);
  const auto statuses = recon::derive_status(std::move(*events));
  if (as_json) {
    json all = json::array();
    for (const auto& s : statuses) {
      all.push_back({{"antigen", s.antigen},
                     {"status", s.status},
                     {"as_of", s.as_of},
                     {"basis", s.basis},
                     {"doses", s.doses},
                     {"flagged", s.flagged}});
    }
    std::fprintf(out, "%s\n", json{{"person_number", person}, {"antigens", all}}.dump(2).c_str());
    return 0;
  }
  Table table({{"antigen", 12}, {"status", 11}, {"as of", 10}, {"doses", 5, true}, {"flagged", 8}, {"basis"}});
  for (const auto& s : statuses)
    table.add({s.antigen, s.status, s.as_of, std::to_string(s.doses), s.flagged ? "REVIEW" : "-", s.basis});
  table.print(out);
  return 0;
}

}  // namespace

int run_recon_list(const AdminOptions& o, const std::string& state, int limit, std::FILE* out, std::FILE* err) {
  std::optional<store::ReconState> filter = store::ReconState::open;
  if (state == "all") filter.reset();
  if (state == "resolved") filter = store::ReconState::resolved;
  if (state == "dismissed") filter = store::ReconState::dismissed;
  if (state != "open" && state != "all" && state != "resolved" && state != "dismissed") {
    std::fprintf(err, "recon: --state is open, resolved, dismissed or all\n");
    return 2;
  }
  auto db = open_store(o, err);
  if (!db) return 2;
  auto items = store::ReconQueue(*db, kClock).list(filter, limit);
  if (!items) return store_error(items.error(), err);
  if (o.json) {
    json all = json::array();
    for (const auto& i : *items)
      all.push_back(item_json(i, false));
    std::fprintf(out, "%s\n", all.dump(2).c_str());
    return 0;
  }
  Table table(
      {{"id", 6, true}, {"kind", 20}, {"state", 9}, {"entity", 13}, {"key", 20}, {"source", 34}, {"candidates"}});
  for (const auto& i : *items) {
    const auto candidates = json::parse(i.candidates, nullptr, false);
    std::string names;
    if (candidates.is_array()) {
      for (const auto& c : candidates) {
        if (!names.empty()) names += ",";
        names += c.value("person_number", "");
      }
    }
    table.add({std::to_string(i.id), std::string(to_string(i.kind)), std::string(to_string(i.state)), i.entity,
               i.record_key, i.source, names.empty() ? "-" : names});
  }
  table.print(out);
  if (items->empty()) std::fprintf(out, "(nothing waiting)\n");
  return 0;
}

int run_recon_show(const AdminOptions& o, std::int64_t id, std::FILE* out, std::FILE* err) {
  auto db = open_store(o, err);
  if (!db) return 2;
  auto item = store::ReconQueue(*db, kClock).get(id);
  if (!item) return store_error(item.error(), err);
  if (!*item) {
    std::fprintf(err, "recon: no item %lld\n", static_cast<long long>(id));
    return 1;
  }
  // The held record is health data: shown only on request, to the administrator at the terminal.
  std::fprintf(out, "%s\n", item_json(**item, true).dump(2).c_str());
  return 0;
}

int run_queue_list(const AdminOptions& o, const std::string& state, int limit, std::FILE* out, std::FILE* err) {
  std::optional<store::OutboxState> filter;
  if (state == "pending") filter = store::OutboxState::pending;
  if (state == "dead") filter = store::OutboxState::dead;
  if (state == "delivered") filter = store::OutboxState::delivered;
  if (!state.empty() && !filter) {
    std::fprintf(err, "queue: --state is pending, dead or delivered\n");
    return 2;
  }
  auto db = open_store(o, err);
  if (!db) return 2;
  store::Outbox outbox(*db, {}, kClock, 1);
  auto rows = outbox.list(filter, limit);
  if (!rows) return store_error(rows.error(), err);
  if (o.json) {
    json all = json::array();
    for (const auto& e : *rows)
      all.push_back(entry_json(e, false));
    std::fprintf(out, "%s\n", all.dump(2).c_str());
    return 0;
  }
  Table table({{"id", 8, true},
               {"sink", 12},
               {"entity", 12},
               {"key", 16},
               {"changes", 7, true},
               {"state", 9},
               {"attempts", 8, true},
               {"last error", 0, false, 2}});
  for (const auto& e : *rows) {
    table.add({std::to_string(e.id), e.sink, e.entity, e.record_key, std::to_string(e.changes),
               std::string(state_name(e.state)), std::to_string(e.attempts), e.last_error.substr(0, 80)});
  }
  table.print(out);
  return 0;
}

int run_queue_show(const AdminOptions& o, std::int64_t id, std::FILE* out, std::FILE* err) {
  auto db = open_store(o, err);
  if (!db) return 2;
  store::Outbox outbox(*db, {}, kClock, 1);
  auto entry = outbox.get(id);
  if (!entry) return store_error(entry.error(), err);
  if (!*entry) {
    std::fprintf(err, "queue: no entry %lld\n", static_cast<long long>(id));
    return 1;
  }
  // The payload is health data: it is shown only on request, to the operator at the terminal.
  std::fprintf(out, "%s\n", entry_json(**entry, true).dump(2).c_str());
  return 0;
}

int run_queue_retry(const AdminOptions& o, std::optional<std::int64_t> id, std::FILE* out, std::FILE* err) {
  auto db = open_store(o, err);
  if (!db) return 2;
  store::Outbox outbox(*db, {}, kClock, 1);
  auto n = outbox.retry_dead(id);
  if (!n) return store_error(n.error(), err);
  if (o.json) {
    std::fprintf(out, "%s\n", json{{"requeued", *n}}.dump().c_str());
  } else {
    std::fprintf(out, "queue: %d dead letter(s) queued again\n", *n);
  }
  return *n > 0 || !id ? 0 : 1;
}

int run_queue_purge(const AdminOptions& o, int older_than_days, std::FILE* out, std::FILE* err) {
  auto db = open_store(o, err);
  if (!db) return 2;
  store::Outbox outbox(*db, {}, kClock, 1);
  auto n = outbox.purge_delivered(kClock.now_ms() - std::int64_t{older_than_days} * 86'400'000);
  if (!n) return store_error(n.error(), err);
  if (o.json) {
    std::fprintf(out, "%s\n", json{{"purged", *n}}.dump().c_str());
  } else {
    std::fprintf(out, "queue: %d delivered entr%s purged (dead letters are kept)\n", *n, *n == 1 ? "y" : "ies");
  }
  return 0;
}

int run_runs(const AdminOptions& o, int limit, std::FILE* out, std::FILE* err) {
  auto db = open_store(o, err);
  if (!db) return 2;
  auto runs = store::RunLog(*db).recent(limit);
  if (!runs) return store_error(runs.error(), err);
  if (o.json) {
    json all = json::array();
    for (const auto& r : *runs) {
      all.push_back({{"id", r.id},
                     {"flow", r.flow},
                     {"started_ms", r.started_ms},
                     {"finished_ms", r.finished_ms},
                     {"files", r.files},
                     {"applied", r.applied},
                     {"partial", r.partial},
                     {"rejected", r.rejected},
                     {"held", r.held},
                     {"duplicates", r.duplicates},
                     {"delivered", r.delivered},
                     {"pending", r.pending},
                     {"dead", r.dead},
                     {"clean", r.clean}});
    }
    std::fprintf(out, "%s\n", all.dump(2).c_str());
    return 0;
  }
  Table table({{"run", 6, true},
               {"flow", 14},
               {"files", 6, true},
               {"applied", 7, true},
               {"partial", 7, true},
               {"rejected", 8, true},
               {"held", 4, true},
               {"dup", 4, true},
               {"delivered", 9, true},
               {"pending", 7, true},
               {"dead", 4, true},
               {"clean"}});
  for (const auto& r : *runs) {
    table.add({std::to_string(r.id), r.flow, std::to_string(r.files), std::to_string(r.applied),
               std::to_string(r.partial), std::to_string(r.rejected), std::to_string(r.held),
               std::to_string(r.duplicates), std::to_string(r.delivered), std::to_string(r.pending),
               std::to_string(r.dead), r.clean ? "yes" : "no"});
  }
  table.print(out);
  return 0;
}

int run_status(const AdminOptions& o, std::FILE* out, std::FILE* err) {
  flow::Config config;
  auto db = open_store(o, err, &config);
  if (!db) return 2;
  auto runs = store::RunLog(*db).recent(1);
  store::FileLedger ledger(*db, kClock);
  auto held = ledger.held();
  auto pending =
      db->prepare("SELECT sink, state, sum(changes) FROM outbox WHERE state <> 'delivered' GROUP BY sink, state");
  if (!runs) return store_error(runs.error(), err);
  if (!held) return store_error(held.error(), err);
  if (!pending) return store_error(pending.error(), err);
  json queues = json::object();
  for (;;) {
    auto row = pending->step();
    if (!row) return store_error(row.error(), err);
    if (!*row) break;
    queues[std::string(pending->column_text(0))][std::string(pending->column_text(1))] = pending->column_int64(2);
  }
  json held_files = json::array();
  for (const auto& f : *held)
    held_files.push_back({{"file", f.name}, {"vpd", f.vpd}, {"seq", f.seq}, {"reason", f.reason}});
  auto recon_open = store::ReconQueue(*db, kClock).count(store::ReconState::open);
  if (!recon_open) return store_error(recon_open.error(), err);
  auto files = store::OutboundFiles(*db, kClock).recent(5);
  if (!files) return store_error(files.error(), err);
  auto recent_versions = store::RecordStore(*db, kClock).count_recent();
  if (!recent_versions) return store_error(recent_versions.error(), err);
  json outbound = json::array();
  for (const auto& f : *files) {
    outbound.push_back({{"sink", f.sink},
                        {"file", f.name},
                        {"vpd", f.vpd},
                        {"seq", f.seq},
                        {"state", std::string(to_string(f.state))}});
  }
  json status{{"last_run", runs->empty() ? json()
                                         : json{{"id", runs->front().id},
                                                {"flow", runs->front().flow},
                                                {"finished_ms", runs->front().finished_ms},
                                                {"clean", runs->front().clean}}},
              {"queues", queues},
              {"held_files", held_files},
              {"recon_open", *recon_open},
              {"recent_versions", *recent_versions},
              {"outbound_files", outbound}};
  if (o.json) {
    std::fprintf(out, "%s\n", status.dump(2).c_str());
    return 0;
  }
  if (runs->empty()) {
    std::fprintf(out, "last run: none yet\n");
  } else {
    std::fprintf(out, "last run: #%lld (%s), %s\n", static_cast<long long>(runs->front().id),
                 runs->front().flow.c_str(), runs->front().clean ? "clean" : "needs attention");
  }
  std::fprintf(out, "queues (not yet delivered): %s\n", queues.empty() ? "empty" : queues.dump().c_str());
  std::fprintf(out, "waiting for review: %llu (esrsync recon list)\n", static_cast<unsigned long long>(*recon_open));
  std::fprintf(out,
               "record changes waiting to be merged into their records: %lld (merged by the first file to find %lld "
               "waiting, or by esrsync store merge)\n",
               static_cast<long long>(*recent_versions), static_cast<long long>(config.merge_recent_at));
  std::fprintf(out, "held files: %zu\n", held->size());
  for (const auto& f : *held) {
    std::fprintf(out, "  %s (VPD %s, sequence %lld): %s\n", f.name.c_str(), f.vpd.c_str(),
                 static_cast<long long>(f.seq), f.reason.c_str());
  }
  if (!files->empty()) std::fprintf(out, "latest outbound files:\n");
  for (const auto& f : *files) {
    std::fprintf(out, "  %-12s %s (VPD %s, sequence %lld): %s\n", f.sink.c_str(), f.name.c_str(), f.vpd.c_str(),
                 static_cast<long long>(f.seq), std::string(to_string(f.state)).c_str());
  }
  return 0;
}

int run_recon_resolve(const AdminOptions& o, std::int64_t id, const std::optional<std::string>& person,
                      const std::string& reason, const std::string& by, std::FILE* out, std::FILE* err) {
  flow::Config config;
  auto db = open_store(o, err, &config);
  if (!db) return 2;
  auto done = flow::resolve_item(*db, config, id, person, by, reason, kClock);
  if (!done) {
    std::fprintf(err, "recon: %s: %s\n", done.error().rule.c_str(), done.error().message.c_str());
    return done.error().code == Errc::validation ? 1 : 2;
  }
  if (o.json) {
    std::fprintf(out, "%s\n",
                 json{{"id", id},
                      {"entity", done->entity},
                      {"key", done->record_key},
                      {"decision", done->decision},
                      {"queued", done->counts.queued},
                      {"held_again", done->counts.held},
                      {"flagged", done->counts.flagged}}
                     .dump(2)
                     .c_str());
  } else {
    std::fprintf(out, "recon: item %lld resolved: %s %s %s; %llu change(s) queued for delivery\n",
                 static_cast<long long>(id), done->entity.c_str(), done->record_key.c_str(), done->decision.c_str(),
                 static_cast<unsigned long long>(done->counts.queued));
    if (done->counts.held > 0) {
      std::fprintf(out,
                   "recon: the record was held again (see esrsync recon list): it conflicts with what is stored\n");
    }
  }
  return 0;
}

int run_recon_dismiss(const AdminOptions& o, std::int64_t id, const std::string& reason, const std::string& by,
                      std::FILE* out, std::FILE* err) {
  auto db = open_store(o, err);
  if (!db) return 2;
  if (auto ok = flow::dismiss_item(*db, id, by, reason, kClock); !ok) {
    std::fprintf(err, "recon: %s: %s\n", ok.error().rule.c_str(), ok.error().message.c_str());
    return ok.error().code == Errc::validation ? 1 : 2;
  }
  if (o.json) {
    std::fprintf(out, "%s\n", json{{"id", id}, {"state", "dismissed"}}.dump().c_str());
  } else {
    std::fprintf(out, "recon: item %lld dismissed; its record was not applied\n", static_cast<long long>(id));
  }
  return 0;
}

int run_recon_history(const AdminOptions& o, const std::string& entity, const std::string& key, int limit,
                      std::FILE* out, std::FILE* err) {
  auto db = open_store(o, err);
  if (!db) return 2;
  store::ReconQueue queue(*db, kClock);
  auto rows = key.empty() ? queue.recent_decisions(limit) : queue.decisions(entity, key);
  if (!rows) return store_error(rows.error(), err);
  if (o.json) {
    json all = json::array();
    for (const auto& d : *rows) {
      all.push_back({{"id", d.id},
                     {"entity", d.entity},
                     {"key", d.record_key},
                     {"source", d.source},
                     {"rule", d.rule},
                     {"score", d.score},
                     {"person_number", d.person_number},
                     {"actor", d.actor},
                     {"at_ms", d.at_ms},
                     {"reason", d.reason},
                     {"item", d.item_id}});
    }
    std::fprintf(out, "%s\n", all.dump(2).c_str());
    return 0;
  }
  Table table({{"id", 8, true},
               {"entity", 13},
               {"key", 20},
               {"rule", 26},
               {"score", 6, true},
               {"person", 9},
               {"actor", 14},
               {"item", 5, true},
               {"reason", 0, false, 2}});
  for (const auto& d : *rows) {
    char score[32];
    std::snprintf(score, sizeof score, "%.3f", d.score);
    table.add({std::to_string(d.id), d.entity, d.record_key, d.rule, score,
               d.person_number.empty() ? "-" : d.person_number, d.actor,
               d.item_id != 0 ? std::to_string(d.item_id) : "-", d.reason.substr(0, 60)});
  }
  table.print(out);
  return 0;
}

int run_export(const AdminOptions& o, const std::string& person, const std::string& format, const std::string& provider,
               std::FILE* out, std::FILE* err) {
  if (format != "fhir" && format != "status") {
    std::fprintf(err, "export: --format is fhir (the staff history) or status (the derived status per antigen)\n");
    return 2;
  }
  flow::Config config;
  auto db = open_store(o, err, &config);
  if (!db) return 2;
  if (format == "status") return print_status(*db, person, o.json, out, err);
  const std::string sender = provider.empty() ? config.provider_code : provider;
  if (sender.empty()) {
    std::fprintf(err, "export: no provider code: set [provider] code in %s or give --provider\n", o.config.c_str());
    return 2;
  }
  auto history = flow::load_staff_history(*db, person, kClock);
  if (!history) return store_error(history.error(), err);
  if (!*history) {
    std::fprintf(err, "export: no person %s is known\n", person.c_str());
    return 1;
  }
  const std::time_t now = static_cast<std::time_t>(kClock.now_ms() / 1000);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const std::string bundle =
      fhir::to_bundle((*history)->person, (*history)->events, fhir::BundleOptions{sender, stamp});
  std::fwrite(bundle.data(), 1, bundle.size(), out);
  return 0;
}

int run_store_compact(const AdminOptions& o, std::FILE* out, std::FILE* err) {
  flow::Config config;
  auto db = open_store(o, err, &config);
  if (!db) return 2;
  const auto lock = store::lock_store(config.store_path);
  if (!lock) return store_error(lock.error(), err);
  // The file and its WAL, as the filesystem counts them.
  const auto on_disk = [&] {
    std::error_code ec;
    std::uintmax_t bytes = std::filesystem::file_size(config.store_path, ec);
    if (ec) bytes = 0;
    const auto wal = std::filesystem::file_size(config.store_path + "-wal", ec);
    return ec ? bytes : bytes + wal;
  };
  std::int64_t free_bytes = 0;
  std::int64_t page_size = 0;
  {
    auto free_pages = db->prepare("SELECT freelist_count, page_size FROM pragma_freelist_count(), pragma_page_size()");
    if (!free_pages) return store_error(free_pages.error(), err);
    auto row = free_pages->step();
    if (!row) return store_error(row.error(), err);
    page_size = free_pages->column_int64(1);
    free_bytes = free_pages->column_int64(0) * page_size;
  }  // finished: VACUUM needs no statement in progress
  const auto before = on_disk();
  const auto failed = [&](const std::string& step, const Error& e) {
    return store_error(make_error(Errc::io, "store.compact", step + " failed: " + e.message, Origin{config.store_path}),
                       err);
  };
  // A store made by an older esrsync has smaller pages than a new one (store/sqlite.hpp). SQLite
  // changes the page size only in a VACUUM outside WAL mode: the store is rewritten with a rollback
  // journal (as atomic: a crash leaves the store as it was), then put back in WAL mode. Another
  // process reading the store keeps it in WAL mode: then it is compacted with its pages as they are.
  bool resized = false;
  if (page_size != store::kPageSize) {
    auto mode = db->journal_mode("delete");
    if (!mode) return failed("PRAGMA journal_mode=DELETE", mode.error());
    if (*mode == "delete") {
      Status vacuumed = db->exec("PRAGMA page_size=" + std::to_string(store::kPageSize) + "; VACUUM");
      auto wal = db->journal_mode("wal");  // back in WAL mode whether or not the VACUUM went through
      if (!vacuumed) return failed("VACUUM", vacuumed.error());
      if (!wal) return failed("PRAGMA journal_mode=WAL", wal.error());
      resized = true;
    }
  }
  // Otherwise VACUUM copies the store into a temporary database (SQLite's temporary directory) and
  // back through the WAL, then the checkpoint writes it into the file and empties the WAL.
  if (!resized) {
    for (const char* step : {"VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"}) {
      if (auto ok = db->exec(step); !ok) return failed(step, ok.error());
    }
  }
  const std::int64_t page_size_after = resized ? store::kPageSize : page_size;
  const auto after = on_disk();
  if (o.json) {
    std::fprintf(out, "%s\n",
                 json{{"path", config.store_path},
                      {"bytes_before", before},
                      {"bytes_after", after},
                      {"free_bytes_before", free_bytes},
                      {"page_size_before", page_size},
                      {"page_size_after", page_size_after}}
                     .dump()
                     .c_str());
  } else {
    std::fprintf(out, "store: %s compacted: %.1f MB -> %.1f MB (%.1f MB of it was free space)\n",
                 config.store_path.c_str(), static_cast<double>(before) / 1e6, static_cast<double>(after) / 1e6,
                 static_cast<double>(free_bytes) / 1e6);
    if (page_size_after != page_size) {
      std::fprintf(out, "store: pages of %lld bytes, rewritten as pages of %lld bytes\n",
                   static_cast<long long>(page_size), static_cast<long long>(page_size_after));
    }
  }
  return 0;
}

int run_store_merge(const AdminOptions& o, std::FILE* out, std::FILE* err) {
  flow::Config config;
  auto db = open_store(o, err, &config);
  if (!db) return 2;
  const auto lock = store::lock_store(config.store_path);
  if (!lock) return store_error(lock.error(), err);
  if (auto ok = db->begin(); !ok) return store_error(ok.error(), err);
  auto merged = store::RecordStore(*db, kClock).merge_recent();
  if (!merged) {
    db->rollback();
    return store_error(merged.error(), err);
  }
  if (auto ok = db->commit(); !ok) return store_error(ok.error(), err);
  if (o.json) {
    std::fprintf(out, "%s\n", json{{"path", config.store_path}, {"merged", *merged}}.dump().c_str());
  } else {
    std::fprintf(out, "store: %s: %lld recent record versions merged into their records\n", config.store_path.c_str(),
                 static_cast<long long>(*merged));
  }
  return 0;
}

int run_transfers(const AdminOptions& o, int limit, std::FILE* out, std::FILE* err) {
  auto db = open_store(o, err);
  if (!db) return 2;
  auto rows = store::TransferLog(*db, kClock).recent(limit);
  if (!rows) return store_error(rows.error(), err);
  if (o.json) {
    json all = json::array();
    for (const auto& t : *rows) {
      all.push_back({{"id", t.id},
                     {"person_number", t.person_number},
                     {"assignment_number", t.assignment_number},
                     {"from_org", t.from_org},
                     {"to_org", t.to_org},
                     {"decision", t.decision},
                     {"reason", t.reason},
                     {"at_ms", t.at_ms}});
    }
    std::fprintf(out, "%s\n", all.dump(2).c_str());
    return 0;
  }
  Table table(
      {{"id", 6, true}, {"person", 9}, {"assignment", 12}, {"from", 6}, {"to", 6}, {"decision", 10}, {"reason"}});
  for (const auto& t : *rows)
    table.add({std::to_string(t.id), t.person_number, t.assignment_number, t.from_org, t.to_org, t.decision, t.reason});
  table.print(out);
  if (rows->empty()) std::fprintf(out, "(no trainee moves seen yet)\n");
  return 0;
}

int run_release_gap(const AdminOptions& o, const std::string& vpd, std::int64_t seq, const std::string& by,
                    std::FILE* out, std::FILE* err) {
  auto db = open_store(o, err);
  if (!db) return 2;
  store::FileLedger ledger(*db, kClock);
  auto held = ledger.held();
  if (!held) return store_error(held.error(), err);
  bool found = false;
  for (const auto& f : *held) {
    if (f.vpd != vpd || f.seq != seq) continue;
    found = true;
    if (auto ok = ledger.release_gap(f.vpd, f.interface, f.seq, by); !ok) return store_error(ok.error(), err);
    std::fprintf(out, "release-gap: %s (VPD %s, sequence %lld) will be applied by the next sync despite %s\n",
                 f.name.c_str(), vpd.c_str(), static_cast<long long>(seq),
                 flow::held_for_withdrawals(f) ? "what it withdraws" : "the gap");
  }
  if (!found) {
    std::fprintf(err, "release-gap: no held file for VPD %s sequence %lld\n", vpd.c_str(), static_cast<long long>(seq));
    return 1;
  }
  return 0;
}

}  // namespace esrsync::ops
