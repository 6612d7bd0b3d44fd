#include "esrsync/store/person_index.hpp"

#include <array>
#include <utility>

#include "esrsync/model/names.hpp"

namespace esrsync::store {

const Migration PersonIndex::kMigration{5, R"sql(
CREATE TABLE person_index (
  person_number         TEXT PRIMARY KEY,
  vpd                   TEXT NOT NULL,
  employee_number       TEXT NOT NULL,
  nhs_number            TEXT NOT NULL,
  ni_number             TEXT NOT NULL,
  date_of_birth         TEXT NOT NULL,
  surname_key           TEXT NOT NULL,
  previous_surname_key  TEXT NOT NULL,
  forenames_key         TEXT NOT NULL,
  postcode_key          TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX person_index_employee ON person_index (employee_number) WHERE employee_number <> '';
CREATE INDEX person_index_nhs ON person_index (nhs_number) WHERE nhs_number <> '';
CREATE INDEX person_index_ni ON person_index (ni_number) WHERE ni_number <> '';
CREATE INDEX person_index_dob ON person_index (date_of_birth);
CREATE INDEX person_index_surname ON person_index (surname_key);
)sql"};

const Migration PersonIndex::kEventsMigration{7, R"sql(
DROP INDEX person_index_surname;
DROP INDEX person_index_dob;
CREATE INDEX person_index_names ON person_index (surname_key, forenames_key);
CREATE INDEX person_index_birth ON person_index (date_of_birth, forenames_key);
CREATE TABLE person_event (
  person_number  TEXT NOT NULL,
  event_key      TEXT NOT NULL,
  antigen        TEXT NOT NULL,
  kind           TEXT NOT NULL,
  status         TEXT NOT NULL,
  event_date     TEXT NOT NULL,
  PRIMARY KEY (event_key)
) WITHOUT ROWID;
CREATE INDEX person_event_person ON person_event (person_number, antigen, event_date);
)sql"};

namespace {

// The secondary indexes as the migrations above leave them (name, definition), for bulk loads.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kSecondaryIndexes{{
    {"person_index_employee", "ON person_index (employee_number) WHERE employee_number <> ''"},
    {"person_index_nhs", "ON person_index (nhs_number) WHERE nhs_number <> ''"},
    {"person_index_ni", "ON person_index (ni_number) WHERE ni_number <> ''"},
    {"person_index_names", "ON person_index (surname_key, forenames_key)"},
    {"person_index_birth", "ON person_index (date_of_birth, forenames_key)"},
}};

constexpr std::string_view kColumns =
    "person_number, vpd, employee_number, nhs_number, ni_number, date_of_birth, surname_key, previous_surname_key, "
    "forenames_key, postcode_key";

PersonKeys read_keys(const Statement& row) {
  PersonKeys k;
  std::string* fields[] = {&k.person_number, &k.vpd,           &k.employee_number, &k.nhs_number,
                           &k.ni_number,     &k.date_of_birth, &k.surname_key,     &k.previous_surname_key,
                           &k.forenames_key, &k.postcode_key};
  for (int i = 0; i < 10; ++i)
    *fields[i] = row.column_text(i);
  return k;
}

}  // namespace

PersonKeys PersonKeys::from(const model::Record& person, std::string_view vpd) {
  PersonKeys k;
  k.person_number = person.get("person_number");
  k.vpd = vpd;
  k.employee_number = person.get("employee_number");
  k.nhs_number = person.get("nhs_number");
  k.ni_number = person.get("ni_number");
  k.date_of_birth = person.get("date_of_birth");
  k.surname_key = model::fold_name(person.get("surname"));
  k.previous_surname_key = model::fold_name(person.get("previous_surname"));
  k.forenames_key = model::fold_name(person.get("forenames"));
  k.postcode_key = model::fold_postcode(person.get("postcode"));
  return k;
}

namespace {

std::array<std::string_view, 10> values_of(const PersonKeys& k) {
  return {k.person_number, k.vpd,         k.employee_number,      k.nhs_number,    k.ni_number,
          k.date_of_birth, k.surname_key, k.previous_surname_key, k.forenames_key, k.postcode_key};
}

}  // namespace

Status PersonIndex::put(const PersonKeys& k) {
  if (bulk_) {
    if (waiting_.size() == waiting_rows_) waiting_.emplace_back();
    waiting_[waiting_rows_++] = k;  // assigned field by field: the strings keep their buffers
    return waiting_rows_ == kBulkRows ? flush() : Status{};
  }
  // Most changes to a person (a new mobile, an e-mail) leave what matching uses alone: then the
  // index, and its five secondary indexes, are not touched.
  auto existing = get(k.person_number);
  if (!existing) return fail(std::move(existing).error());
  if (*existing && **existing == k) return {};
  return write(k);
}

Status PersonIndex::write(const PersonKeys& k) {
  static const std::string kPut = "INSERT OR REPLACE INTO person_index (" + std::string(kColumns) +
                                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
  auto stmt = db_.cached(put_, kPut);
  if (!stmt) return fail(std::move(stmt).error());
  int index = 0;
  for (const auto v : values_of(k)) {
    if (auto ok = (*stmt)->bind_view(++index, v); !ok) return ok;  // `k` outlives the run
  }
  return (*stmt)->run();
}

Status PersonIndex::flush() {
  const std::size_t rows = waiting_rows_;
  waiting_rows_ = 0;  // on a failure the caller's transaction is rolled back: nothing is written twice
  if (rows < kBulkRows) {
    for (std::size_t i = 0; i < rows; ++i) {
      if (auto ok = write(waiting_[i]); !ok) return ok;
    }
    return {};
  }
  // INSERT OR REPLACE row by row in order: a person listed twice keeps the later keys.
  static const std::string kPutRows =
      multi_row_insert("INSERT OR REPLACE INTO person_index (" + std::string(kColumns) + ") VALUES ",
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", kBulkRows);
  auto stmt = db_.cached(put_rows_, kPutRows);
  if (!stmt) return fail(std::move(stmt).error());
  int index = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    for (const auto v : values_of(waiting_[r])) {
      if (auto ok = (*stmt)->bind_view(++index, v); !ok) return ok;
    }
  }
  return (*stmt)->run();
}

Result<std::optional<PersonKeys>> PersonIndex::get(std::string_view person_number) {
  if (auto ok = flush(); !ok) return fail(std::move(ok).error());
  auto stmt = db_.cached("SELECT " + std::string(kColumns) + " FROM person_index WHERE person_number = ?1");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, person_number); !ok) return fail(std::move(ok).error());
  auto rows = (*stmt)->collect(read_keys);
  if (!rows) return fail(std::move(rows).error());
  if (rows->empty()) return std::optional<PersonKeys>{};
  return std::optional<PersonKeys>(std::move(rows->front()));
}

Status PersonIndex::begin_bulk() {
  for (const auto& [name, definition] : kSecondaryIndexes) {
    if (auto ok = db_.exec("DROP INDEX IF EXISTS " + std::string(name)); !ok) return ok;
  }
  bulk_ = true;
  return {};
}

Status PersonIndex::end_bulk() {
  if (!bulk_) return {};
  if (auto ok = flush(); !ok) return ok;
  // SQLite sorts an index's keys in runs of at most the page cache's size and, with PRAGMA threads,
  // hands each full run to a helper thread to sort while it reads on, then merges the runs. A
  // 64 MiB cache made one run per index, sorted on one core (6.9 s for 1.5 M persons); runs of 4 MiB sorted beside the
  // reading take 3.2 s on two cores. The runs go to temporary files (SQLite's temporary directory); the cache is set
  // back afterwards.
  auto cache = db_.prepare("PRAGMA cache_size");
  if (!cache) return fail(std::move(cache).error());
  if (auto row = cache->step(); !row) return fail(std::move(row).error());
  const std::string restore = "PRAGMA cache_size=" + std::to_string(cache->column_int64(0)) + "; PRAGMA threads=0";
  if (auto ok = db_.exec("PRAGMA threads=2; PRAGMA cache_size=-4096"); !ok) return ok;
  Status built;
  for (const auto& [name, definition] : kSecondaryIndexes) {
    built = db_.exec("CREATE INDEX IF NOT EXISTS " + std::string(name) + " " + std::string(definition));
    if (!built) break;
  }
  const Status restored = db_.exec(restore);
  if (!built) return built;
  if (!restored) return restored;
  bulk_ = false;
  return {};
}

Result<bool> PersonIndex::empty() {
  if (auto ok = flush(); !ok) return fail(std::move(ok).error());
  auto stmt = db_.cached("SELECT NOT EXISTS (SELECT 1 FROM person_index)");
  if (!stmt) return fail(std::move(stmt).error());
  auto row = (*stmt)->step();
  if (!row) return fail(std::move(row).error());
  return (*stmt)->column_int64(0) != 0;
}

Result<std::vector<PersonKeys>> PersonIndex::find(std::string_view column, std::string_view value) {
  if (auto ok = flush(); !ok) return fail(std::move(ok).error());
  // Partial indexes (identifiers are often blank) need the "<> ''" term to be used.
  const bool partial = column == "employee_number" || column == "nhs_number" || column == "ni_number";
  if (!partial) return fail(Errc::config, "person_index.column", "not an indexed identifier: " + std::string(column));
  if (value.empty()) return std::vector<PersonKeys>{};
  auto stmt =
      db_.cached("SELECT " + std::string(kColumns) + " FROM person_index WHERE " + std::string(column) + " = ?1 AND " +
                 std::string(column) + " <> ''" + " ORDER BY person_number LIMIT " + std::to_string(kMaxRows));
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, value); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect(read_keys);
}

Result<std::vector<PersonKeys>> PersonIndex::find_by_birth(std::string_view date_of_birth,
                                                           std::string_view forenames_prefix) {
  if (auto ok = flush(); !ok) return fail(std::move(ok).error());
  if (date_of_birth.empty()) return std::vector<PersonKeys>{};
  // forenames_key in [prefix, prefix + 0xFF...): every key that starts with the prefix.
  std::string upper(forenames_prefix);
  upper += '\xFF';
  auto stmt = db_.cached("SELECT " + std::string(kColumns) +
                         " FROM person_index WHERE date_of_birth = ?1 AND forenames_key >= ?2 AND forenames_key < ?3 "
                         "ORDER BY person_number LIMIT " +
                         std::to_string(kMaxRows));
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, date_of_birth); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(2, forenames_prefix); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(3, upper); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect(read_keys);
}

Result<std::vector<PersonKeys>> PersonIndex::find_by_name(std::string_view surname_key,
                                                          std::string_view forenames_key) {
  if (auto ok = flush(); !ok) return fail(std::move(ok).error());
  if (surname_key.empty()) return std::vector<PersonKeys>{};
  auto stmt = db_.cached("SELECT " + std::string(kColumns) +
                         " FROM person_index WHERE surname_key = ?1 AND forenames_key = ?2 ORDER BY person_number "
                         "LIMIT " +
                         std::to_string(kMaxRows));
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, surname_key); !ok) return fail(std::move(ok).error());
  if (auto ok = (*stmt)->bind(2, forenames_key); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect(read_keys);
}

Status PersonIndex::put_event(std::string_view person_number, const PersonEvent& e) {
  auto stmt = db_.cached(
      "INSERT OR REPLACE INTO person_event (person_number, event_key, antigen, kind, status, event_date) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!stmt) return fail(std::move(stmt).error());
  const std::string_view values[] = {person_number, e.event_key, e.antigen, e.kind, e.status, e.event_date};
  for (int i = 0; i < 6; ++i) {
    if (auto ok = (*stmt)->bind(i + 1, values[i]); !ok) return ok;
  }
  return (*stmt)->run();
}

Result<std::vector<PersonEvent>> PersonIndex::events(std::string_view person_number) {
  auto stmt = db_.cached(
      "SELECT event_key, antigen, kind, status, event_date FROM person_event WHERE person_number = ?1 "
      "ORDER BY antigen, event_date, event_key");
  if (!stmt) return fail(std::move(stmt).error());
  if (auto ok = (*stmt)->bind(1, person_number); !ok) return fail(std::move(ok).error());
  return (*stmt)->collect([](const Statement& row) {
    return PersonEvent{std::string(row.column_text(0)), std::string(row.column_text(1)),
                       std::string(row.column_text(2)), std::string(row.column_text(3)),
                       std::string(row.column_text(4))};
  });
}

}  // namespace esrsync::store
