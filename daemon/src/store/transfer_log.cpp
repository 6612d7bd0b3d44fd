#include "esrsync/store/transfer_log.hpp"

namespace esrsync::store {

const Migration TransferLog::kMigration{8, R"sql(
CREATE TABLE transfer (
  id                 INTEGER PRIMARY KEY,
  person_number      TEXT NOT NULL,
  assignment_number  TEXT NOT NULL,
  from_org           TEXT NOT NULL,
  to_org             TEXT NOT NULL,
  decision           TEXT NOT NULL CHECK (decision IN ('queued', 'refused', 'no_consent')),
  reason             TEXT NOT NULL,
  at_ms              INTEGER NOT NULL
);
)sql"};

Status TransferLog::add(const TransferRow& r) {
  auto stmt = db_.cached(
      "INSERT INTO transfer (person_number, assignment_number, from_org, to_org, decision, reason, at_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!stmt) return fail(std::move(stmt).error());
  const std::string_view texts[] = {r.person_number, r.assignment_number, r.from_org, r.to_org, r.decision, r.reason};
  for (int i = 0; i < 6; ++i) {
    if (auto ok = (*stmt)->bind(i + 1, texts[i]); !ok) return ok;
  }
  if (auto ok = (*stmt)->bind(7, clock_.now_ms()); !ok) return ok;
  return (*stmt)->run();
}

Result<std::vector<TransferRow>> TransferLog::recent(int limit) {
  auto stmt = db_.cached(
      "SELECT id, person_number, assignment_number, from_org, to_org, decision, reason, at_ms FROM transfer "
      "ORDER BY id DESC LIMIT ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, static_cast<std::int64_t>(limit)); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect([](const Statement& row) {
    return TransferRow{row.column_int64(0),
                       std::string(row.column_text(1)),
                       std::string(row.column_text(2)),
                       std::string(row.column_text(3)),
                       std::string(row.column_text(4)),
                       std::string(row.column_text(5)),
                       std::string(row.column_text(6)),
                       row.column_int64(7)};
  });
}

}  // namespace esrsync::store
