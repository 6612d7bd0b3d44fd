#include "esrsync/store/recon_queue.hpp"

#include <array>

namespace esrsync::store {

const Migration ReconQueue::kMigration{6, R"sql(
CREATE TABLE recon_item (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('possible_match', 'no_match', 'identifier_conflict',
                                             'identity_discrepancy', 'event_conflict', 'status_regression')),
  state        TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved', 'dismissed')),
  flow         TEXT NOT NULL,
  entity       TEXT NOT NULL,
  record_key   TEXT NOT NULL,
  payload      BLOB NOT NULL,
  source       TEXT NOT NULL,
  rule         TEXT NOT NULL,
  detail       TEXT NOT NULL,
  candidates   TEXT NOT NULL DEFAULT '[]',
  created_ms   INTEGER NOT NULL,
  decided_ms   INTEGER,
  decided_by   TEXT NOT NULL DEFAULT '',
  decision     TEXT NOT NULL DEFAULT '',
  reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX recon_item_state ON recon_item (state, id);
CREATE INDEX recon_item_key ON recon_item (entity, record_key) WHERE state = 'open';
CREATE TABLE match_decision (
  id             INTEGER PRIMARY KEY,
  entity         TEXT NOT NULL,
  record_key     TEXT NOT NULL,
  source         TEXT NOT NULL,
  rule           TEXT NOT NULL,
  score_milli    INTEGER NOT NULL,  -- the score (0..1) in thousandths
  person_number  TEXT NOT NULL,
  actor          TEXT NOT NULL,
  at_ms          INTEGER NOT NULL,
  reason         TEXT NOT NULL,
  item_id        INTEGER
);
CREATE INDEX match_decision_key ON match_decision (entity, record_key, id);
)sql"};

namespace {

constexpr std::array kKinds{ReconKind::possible_match,       ReconKind::no_match,       ReconKind::identifier_conflict,
                            ReconKind::identity_discrepancy, ReconKind::event_conflict, ReconKind::status_regression};

constexpr std::string_view kItemColumns =
    "id, kind, state, flow, entity, record_key, payload, source, rule, detail, candidates, created_ms, "
    "coalesce(decided_ms, 0), decided_by, decision, reason";

ReconItem read_item(const Statement& row) {
  ReconItem i;
  i.id = row.column_int64(0);
  i.kind = recon_kind_from(row.column_text(1)).value_or(ReconKind::no_match);
  const std::string_view state = row.column_text(2);
  i.state = state == "resolved"    ? ReconState::resolved
            : state == "dismissed" ? ReconState::dismissed
                                   : ReconState::open;
  i.flow = row.column_text(3);
  i.entity = row.column_text(4);
  i.record_key = row.column_text(5);
  i.payload = row.column_text(6);
  i.source = row.column_text(7);
  i.rule = row.column_text(8);
  i.detail = row.column_text(9);
  i.candidates = row.column_text(10);
  i.created_ms = row.column_int64(11);
  i.decided_ms = row.column_int64(12);
  i.decided_by = row.column_text(13);
  i.decision = row.column_text(14);
  i.reason = row.column_text(15);
  return i;
}

}  // namespace

std::string_view to_string(ReconKind k) noexcept {
  switch (k) {
    case ReconKind::possible_match:
      return "possible_match";
    case ReconKind::no_match:
      return "no_match";
    case ReconKind::identifier_conflict:
      return "identifier_conflict";
    case ReconKind::identity_discrepancy:
      return "identity_discrepancy";
    case ReconKind::event_conflict:
      return "event_conflict";
    case ReconKind::status_regression:
      return "status_regression";
  }
  return "no_match";
}

std::optional<ReconKind> recon_kind_from(std::string_view s) noexcept {
  for (const auto k : kKinds) {
    if (to_string(k) == s) return k;
  }
  return std::nullopt;
}

std::string_view to_string(ReconState s) noexcept {
  switch (s) {
    case ReconState::open:
      return "open";
    case ReconState::resolved:
      return "resolved";
    case ReconState::dismissed:
      return "dismissed";
  }
  return "open";
}

Result<std::int64_t> ReconQueue::hold(const ReconItem& item) {
  auto existing =
      db_.cached("SELECT id FROM recon_item WHERE entity = ?1 AND record_key = ?2 AND kind = ?3 AND state = 'open'");
  if (!existing) return fail(std::move(existing).error());
  for (const auto& [index, text] :
       {std::pair{1, std::string_view(item.entity)}, std::pair{2, std::string_view(item.record_key)},
        std::pair{3, to_string(item.kind)}}) {
    if (auto ok = (*existing)->bind(index, text); !ok) return fail(std::move(ok).error());
  }
  auto found = (*existing)->step();
  if (!found) return fail(std::move(found).error());
  const std::int64_t id = *found ? (*existing)->column_int64(0) : 0;
  auto stmt = db_.cached(
      id != 0 ? std::string("UPDATE recon_item SET flow = ?1, payload = ?4, source = ?5, rule = ?6, detail = ?7, "
                            "candidates = ?8 WHERE id = ?9")
              : std::string("INSERT INTO recon_item (flow, entity, record_key, payload, source, rule, detail, "
                            "candidates, kind, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, ?11)"));
  if (!stmt) return fail(std::move(stmt).error());
  const std::string candidates = item.candidates.empty() ? "[]" : item.candidates;
  const std::pair<int, std::string_view> texts[] = {{1, item.flow},    {2, item.entity}, {3, item.record_key},
                                                    {4, item.payload}, {5, item.source}, {6, item.rule},
                                                    {7, item.detail},  {8, candidates}};
  for (const auto& [index, text] : texts) {
    if (id != 0 && (index == 2 || index == 3)) continue;
    if (auto ok = (*stmt)->bind(index, text); !ok) return fail(std::move(ok).error());
  }
  if (id != 0) {
    if (auto ok = (*stmt)->bind(9, id); !ok) return fail(std::move(ok).error());
  } else {
    if (auto ok = (*stmt)->bind(10, to_string(item.kind)); !ok) return fail(std::move(ok).error());
    if (auto ok = (*stmt)->bind(11, clock_.now_ms()); !ok) return fail(std::move(ok).error());
  }
  if (auto ok = (*stmt)->run(); !ok) return fail(std::move(ok).error());
  if (id != 0) return id;
  return db_.last_insert_rowid();
}

Result<std::vector<ReconItem>> ReconQueue::list(std::optional<ReconState> state, int limit) {
  auto stmt = db_.cached("SELECT " + std::string(kItemColumns) +
                         " FROM recon_item WHERE (?1 IS NULL OR state = ?1) ORDER BY id LIMIT ?2");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = state ? (*stmt)->bind(1, to_string(*state)) : (*stmt)->bind_null(1); !ok)
    return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(2, static_cast<std::int64_t>(limit)); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect(read_item);
}

Result<std::optional<ReconItem>> ReconQueue::get(std::int64_t id) {
  auto stmt = db_.cached("SELECT " + std::string(kItemColumns) + " FROM recon_item WHERE id = ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, id); !ok) return fail(std::move(ok).error());
  auto rows = (*stmt)->collect(read_item);
  if (!rows) return fail(std::move(rows).error());
  if (rows->empty()) return std::optional<ReconItem>{};
  return std::optional<ReconItem>(std::move(rows->front()));
}

Result<std::uint64_t> ReconQueue::count(ReconState state) {
  auto stmt = db_.cached("SELECT count(*) FROM recon_item WHERE state = ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, to_string(state)); !ok) return fail(std::move(ok).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  return static_cast<std::uint64_t>((*stmt)->column_int64(0));
}

Status ReconQueue::log_decision(const MatchDecision& d) {
  auto stmt = db_.cached(
      "INSERT INTO match_decision (entity, record_key, source, rule, score_milli, person_number, actor, at_ms, reason, "
      "item_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (!stmt) return fail(std::move(stmt).error());
  const std::pair<int, std::string_view> texts[] = {{1, d.entity},        {2, d.record_key}, {3, d.source}, {4, d.rule},
                                                    {6, d.person_number}, {7, d.actor},      {9, d.reason}};
  for (const auto& [index, text] : texts) {
    if (auto ok = (*stmt)->bind(index, text); !ok) return ok;
  }
  if (auto ok = (*stmt)->bind(5, static_cast<std::int64_t>(d.score * 1000 + 0.5)); !ok) return ok;
  if (auto ok = (*stmt)->bind(8, d.at_ms != 0 ? d.at_ms : clock_.now_ms()); !ok) return ok;
  if (auto ok = d.item_id != 0 ? (*stmt)->bind(10, d.item_id) : (*stmt)->bind_null(10); !ok) return ok;
  return (*stmt)->run();
}

Status ReconQueue::decide(std::int64_t id, ReconState state, std::string_view by, std::string_view decision,
                          std::string_view reason) {
  auto stmt = db_.cached(
      "UPDATE recon_item SET state = ?2, decided_ms = ?3, decided_by = ?4, decision = ?5, reason = ?6 "
      "WHERE id = ?1 AND state = 'open'");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, id); !ok) return ok;
  if (auto ok = (*stmt)->bind(2, to_string(state)); !ok) return ok;
  if (auto ok = (*stmt)->bind(3, clock_.now_ms()); !ok) return ok;
  if (auto ok = (*stmt)->bind(4, by); !ok) return ok;
  if (auto ok = (*stmt)->bind(5, decision); !ok) return ok;
  if (auto ok = (*stmt)->bind(6, reason); !ok) return ok;
  if (auto ok = (*stmt)->run(); !ok) return ok;
  if (db_.changes() != 1) {
    return fail(Errc::validation, "recon.not_open", "item " + std::to_string(id) + " is not open");
  }
  return {};
}

namespace {

constexpr std::string_view kDecisionColumns =
    "id, entity, record_key, source, rule, score_milli, person_number, actor, at_ms, reason, coalesce(item_id, 0)";

MatchDecision read_decision(const Statement& row) {
  MatchDecision d;
  d.id = row.column_int64(0);
  d.entity = row.column_text(1);
  d.record_key = row.column_text(2);
  d.source = row.column_text(3);
  d.rule = row.column_text(4);
  d.score = static_cast<double>(row.column_int64(5)) / 1000.0;
  d.person_number = row.column_text(6);
  d.actor = row.column_text(7);
  d.at_ms = row.column_int64(8);
  d.reason = row.column_text(9);
  d.item_id = row.column_int64(10);
  return d;
}

}  // namespace

Result<std::vector<MatchDecision>> ReconQueue::decisions(std::string_view entity, std::string_view record_key) {
  auto stmt = db_.cached("SELECT " + std::string(kDecisionColumns) +
                         " FROM match_decision WHERE entity = ?1 AND record_key = ?2 ORDER BY id");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, entity); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(2, record_key); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect(read_decision);
}

Result<std::vector<MatchDecision>> ReconQueue::recent_decisions(int limit) {
  auto stmt = db_.cached("SELECT " + std::string(kDecisionColumns) + " FROM match_decision ORDER BY id DESC LIMIT ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, static_cast<std::int64_t>(limit)); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect(read_decision);
}

}  // namespace esrsync::store
