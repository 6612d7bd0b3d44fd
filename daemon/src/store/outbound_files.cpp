#include "esrsync/store/outbound_files.hpp"

#include <initializer_list>

namespace esrsync::store {

const Migration OutboundFiles::kMigration{4, R"sql(
CREATE TABLE outbound_file (
  id          INTEGER PRIMARY KEY,
  sink        TEXT NOT NULL,
  vpd         TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  name        TEXT NOT NULL,
  content     BLOB NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'accepted', 'partial', 'rejected')),
  created_ms  INTEGER NOT NULL,
  settled_ms  INTEGER,
  ack         TEXT NOT NULL DEFAULT '',
  UNIQUE (sink, vpd, seq),
  UNIQUE (sink, name)
);
CREATE INDEX outbound_file_pending ON outbound_file (sink, vpd, seq) WHERE state = 'pending';
CREATE TABLE outbound_file_item (
  file_id    INTEGER NOT NULL REFERENCES outbound_file (id),
  line       INTEGER NOT NULL,
  outbox_id  INTEGER NOT NULL,
  PRIMARY KEY (file_id, line)
) WITHOUT ROWID;
)sql"};

std::string_view to_string(OutboundState s) noexcept {
  switch (s) {
    case OutboundState::pending:
      return "pending";
    case OutboundState::sent:
      return "sent";
    case OutboundState::accepted:
      return "accepted";
    case OutboundState::partial:
      return "partial";
    case OutboundState::rejected:
      return "rejected";
  }
  return "pending";
}

namespace {

constexpr std::string_view kColumns = "id, sink, vpd, seq, name, content, state, created_ms, ack";

OutboundState state_from(std::string_view s) {
  for (const auto st : {OutboundState::pending, OutboundState::sent, OutboundState::accepted, OutboundState::partial,
                        OutboundState::rejected}) {
    if (to_string(st) == s) return st;
  }
  return OutboundState::pending;
}

OutboundFile read_file(const Statement& row) {
  OutboundFile f;
  f.id = row.column_int64(0);
  f.sink = row.column_text(1);
  f.vpd = row.column_text(2);
  f.seq = row.column_int64(3);
  f.name = row.column_text(4);
  f.content = row.column_text(5);
  f.state = state_from(row.column_text(6));
  f.created_ms = row.column_int64(7);
  f.ack = row.column_text(8);
  return f;
}

}  // namespace

Result<std::int64_t> OutboundFiles::next_seq(std::string_view sink, std::string_view vpd, std::int64_t first) {
  auto stmt = db_.cached("SELECT max(seq) FROM outbound_file WHERE sink = ?1 AND vpd = ?2");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, sink); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(2, vpd); !ok) return fail(std::move(ok).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  if ((*stmt)->column_is_null(0)) return first;
  return (*stmt)->column_int64(0) + 1;
}

Result<std::int64_t> OutboundFiles::add(const OutboundFile& file,
                                        const std::vector<std::pair<std::uint64_t, std::int64_t>>& lines) {
  auto insert = db_.cached(
      "INSERT INTO outbound_file (sink, vpd, seq, name, content, state, created_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)");
  if (!insert) return fail(std::move(insert).error());
  for (const auto& [index, text] :
       {std::pair{1, std::string_view(file.sink)}, std::pair{2, std::string_view(file.vpd)},
        std::pair{4, std::string_view(file.name)}, std::pair{5, std::string_view(file.content)}}) {
    if (auto ok = (*insert)->bind(index, text); !ok) return fail(std::move(ok).error());
  }
  if (auto ok = (*insert)->bind(3, file.seq); !ok) return fail(std::move(ok).error());
  if (auto ok = (*insert)->bind(6, file.created_ms); !ok) return fail(std::move(ok).error());
  if (auto ok = (*insert)->run(); !ok) return fail(std::move(ok).error());
  const std::int64_t id = db_.last_insert_rowid();
  auto item = db_.cached("INSERT INTO outbound_file_item (file_id, line, outbox_id) VALUES (?1, ?2, ?3)");
  if (!item) return fail(std::move(item).error());
  for (const auto& [line, outbox_id] : lines) {
    if (auto ok = (*item)->bind(1, id); !ok) return fail(std::move(ok).error());
    if (auto ok = (*item)->bind(2, static_cast<std::int64_t>(line)); !ok) return fail(std::move(ok).error());
    if (auto ok = (*item)->bind(3, outbox_id); !ok) return fail(std::move(ok).error());
    if (auto ok = (*item)->run(); !ok) return fail(std::move(ok).error());
  }
  return id;
}

Result<std::vector<OutboundFile>> OutboundFiles::select(std::string_view where_and_order,
                                                        std::initializer_list<std::string_view> args) {
  auto stmt = db_.cached("SELECT " + std::string(kColumns) + " FROM outbound_file " + std::string(where_and_order));
  if (!stmt) return fail(std::move(stmt).error());
  int index = 1;
  for (const auto arg : args) {
    if (auto ok = (*stmt)->bind(index++, arg); !ok) return fail(std::move(ok).error());
  }
  return (*stmt)->collect(read_file);
}

Result<std::vector<OutboundFile>> OutboundFiles::pending(std::string_view sink) {
  return select("WHERE sink = ?1 AND state = 'pending' ORDER BY vpd, seq", {sink});
}

Result<std::optional<OutboundFile>> OutboundFiles::by_name(std::string_view sink, std::string_view name) {
  auto rows = select("WHERE sink = ?1 AND name = ?2", {sink, name});
  if (!rows) return fail(std::move(rows).error());
  if (rows->empty()) return std::optional<OutboundFile>{};
  return std::optional<OutboundFile>(std::move(rows->front()));
}

Result<std::vector<OutboundFile>> OutboundFiles::recent(int limit) {
  return select("ORDER BY id DESC LIMIT " + std::to_string(limit), {});
}

Result<std::optional<std::int64_t>> OutboundFiles::item_at(std::int64_t file_id, std::uint64_t line) {
  auto stmt = db_.cached("SELECT outbox_id FROM outbound_file_item WHERE file_id = ?1 AND line = ?2");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, file_id); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(2, static_cast<std::int64_t>(line)); !ok) return fail(std::move(ok).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  if (!*row) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>((*stmt)->column_int64(0));
}

Result<std::vector<std::int64_t>> OutboundFiles::items(std::int64_t file_id) {
  auto stmt = db_.cached("SELECT outbox_id FROM outbound_file_item WHERE file_id = ?1 ORDER BY line");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, file_id); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect([](const Statement& row) { return row.column_int64(0); });
}

Status OutboundFiles::set_state(std::int64_t id, OutboundState state, std::string_view ack) {
  auto stmt = db_.cached("UPDATE outbound_file SET state = ?2, settled_ms = ?3, ack = ?4 WHERE id = ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, id); !ok) return ok;
  if (auto ok = (*stmt)->bind(2, to_string(state)); !ok) return ok;
  if (auto ok = (*stmt)->bind(3, clock_.now_ms()); !ok) return ok;
  if (auto ok = (*stmt)->bind(4, ack); !ok) return ok;
  return (*stmt)->run();
}

}  // namespace esrsync::store
