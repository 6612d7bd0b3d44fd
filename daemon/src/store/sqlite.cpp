#include "esrsync/store/sqlite.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <vector>

namespace esrsync::store {

std::string multi_row_insert(std::string_view head, std::string_view tuple, std::size_t rows) {
  std::string sql(head);
  for (std::size_t i = 0; i < rows; ++i) {
    if (i != 0) sql += ", ";
    sql += tuple;
  }
  return sql;
}

void Statement::Finalize::operator()(sqlite3_stmt* s) const {
  sqlite3_finalize(s);
}
void SqliteDb::Close::operator()(sqlite3* db) const {
  sqlite3_close_v2(db);
}

Status Statement::check(int rc, const char* rule) {
  if (rc == SQLITE_OK) return {};
  return fail(Errc::io, rule, std::string(sqlite3_errmsg(db_)), Origin{path_});
}

Status Statement::bind(int index, std::string_view text) {
  // A default-constructed view has no data pointer, which SQLite would bind as NULL: text is text.
  const char* data = text.data() != nullptr ? text.data() : "";
  return check(sqlite3_bind_text(stmt_.get(), index, data, static_cast<int>(text.size()), SQLITE_TRANSIENT),
               "store.bind");
}

Status Statement::bind_view(int index, std::string_view text) {
  const char* data = text.data() != nullptr ? text.data() : "";
  return check(sqlite3_bind_text(stmt_.get(), index, data, static_cast<int>(text.size()), SQLITE_STATIC), "store.bind");
}

Status Statement::bind_blob_view(int index, std::string_view bytes) {
  const char* data = bytes.data() != nullptr ? bytes.data() : "";
  return check(sqlite3_bind_blob(stmt_.get(), index, data, static_cast<int>(bytes.size()), SQLITE_STATIC),
               "store.bind");
}

Status Statement::bind_blob(int index, std::string_view bytes) {
  const char* data = bytes.data() != nullptr ? bytes.data() : "";
  return check(sqlite3_bind_blob(stmt_.get(), index, data, static_cast<int>(bytes.size()), SQLITE_TRANSIENT),
               "store.bind");
}

Status Statement::bind(int index, std::int64_t value) {
  return check(sqlite3_bind_int64(stmt_.get(), index, value), "store.bind");
}

Status Statement::bind_null(int index) {
  return check(sqlite3_bind_null(stmt_.get(), index), "store.bind");
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return fail(Errc::io, "store.step", std::string(sqlite3_errmsg(db_)), Origin{path_});
}

Status Statement::run() {
  auto r = step();
  reset();
  if (!r) return fail(std::move(r).error());
  return {};
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::string_view Statement::column_text(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), index));
  if (text == nullptr) return {};
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), index))};
}

std::string_view Statement::column_blob(int index) const {
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt_.get(), index));
  if (bytes == nullptr) return {};
  return {bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), index))};
}

std::int64_t Statement::column_int64(int index) const {
  return sqlite3_column_int64(stmt_.get(), index);
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_.get(), index) == SQLITE_NULL;
}

Unexpected SqliteDb::error(const char* rule, const std::string& what) const {
  return fail(Errc::io, rule, what + ": " + sqlite3_errmsg(db_.get()), Origin{path_});
}

Result<SqliteDb> SqliteDb::open(const std::string& path, SqliteOptions options) {
  // Before SQLite's first use: no memory statistics, which take a global mutex on every allocation
  // (esrsync never reads them). Later calls are refused by SQLite and change nothing.
  static const int no_memstatus = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)no_memstatus;
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, Close> db(raw);  // sqlite3_open_v2 may allocate a handle even on failure
  if (rc != SQLITE_OK) {
    return fail(Errc::io, "store.open",
                std::string("cannot open the store: ") + (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)),
                Origin{path});
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  // ESRSYNC_SQL_SLOW_MS=N: every statement that runs N ms or longer is written to stderr with its
  // time (SQL text only: the values bound are never shown). For finding what a slow run spends.
  if (const char* slow = std::getenv("ESRSYNC_SQL_SLOW_MS"); slow != nullptr) {
    static std::int64_t threshold_ns = 0;
    threshold_ns = std::strtoll(slow, nullptr, 10) * 1'000'000;
    sqlite3_trace_v2(
        raw, SQLITE_TRACE_PROFILE,
        [](unsigned, void*, void* stmt, void* ns) {
          const auto took = *static_cast<const sqlite3_int64*>(ns);
          if (took >= threshold_ns) {
            std::fprintf(stderr, "sql %.1f ms: %s\n", static_cast<double>(took) / 1e6,
                         sqlite3_sql(static_cast<sqlite3_stmt*>(stmt)));
          }
          return 0;
        },
        nullptr);
  }
  SqliteDb out(std::move(db), path);
  // The first read of the file is where a non-database or a damaged header shows itself.
  if (auto probe = out.exec("SELECT count(*) FROM sqlite_schema"); !probe) {
    // Locked is not damaged: another process holds the store for a write that does not let readers
    // in (a first load runs with a rollback journal: see flow/inbound.cpp).
    const int code = sqlite3_errcode(out.db_.get()) & 0xFF;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
      return fail(Errc::io, "store.busy",
                  "the store is held by another esrsync process for a long write (such as a first load); "
                  "try again when it has finished",
                  Origin{path});
    }
    return fail(Errc::io, "store.corrupt",
                "the store file is not a usable SQLite database (" + probe.error().message +
                    "); restore it from backup or move it aside",
                Origin{path});
  }
  // A truncated store (a copy cut short, a full disk during a backup) is found at once and cheaply:
  // the pages SQLite expects must all be in the file. (A full PRAGMA quick_check reads the whole
  // store: minutes on a multi-GB store, so it is an operator's check, not every start's.) When a
  // WAL is present, pages may legitimately live there until the next checkpoint.
  if (options.check_integrity) {
    std::error_code ec;
    const auto wal_size =
        std::filesystem::exists(path + "-wal", ec) ? std::filesystem::file_size(path + "-wal", ec) : 0;
    const auto file_size = std::filesystem::file_size(path, ec);
    auto pages = out.prepare("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    if (!pages) return fail(Errc::io, "store.corrupt", pages.error().message, Origin{path});
    auto row = pages->step();
    if (!row) return fail(Errc::io, "store.corrupt", row.error().message, Origin{path});
    const auto expected = static_cast<std::uintmax_t>(pages->column_int64(0));
    if (!ec && wal_size == 0 && file_size < expected) {
      return fail(Errc::io, "store.corrupt",
                  "the store file is truncated (" + std::to_string(file_size) + " of " + std::to_string(expected) +
                      " bytes); restore it from backup",
                  Origin{path});
    }
  }
  // A new store gets 8 KiB pages (SQLite's default is 4 KiB): half the page writes and reads, and
  // system calls, for the same records. Measured at 1.5 M persons (docs/performance.md "Session 9"):
  // first FULL 41.9 s against 49.0 s (medians of 5), 1%-changed FULL 9.7 s against 11.2 s, DELTA
  // 1.50 s against 1.66 s; 16 KiB pages made the first load faster still but the DELTA slower
  // (2.05 s), each changed record rewriting a page twice the size. Only a store with no pages yet
  // takes it: an existing store keeps the page size it was made with.
  if (auto sized = out.exec("PRAGMA page_size=" + std::to_string(kPageSize)); !sized) {
    return fail(Errc::io, "store.pragma", sized.error().message, Origin{path});
  }
  // A 16 MiB page cache (SQLite's default is 2 MiB). Measured at 1.5 M persons (docs/performance.md
  // "Sessions 10-12"): 64 MiB made no step faster and the DELTA slower (1.73 s against 1.22-1.40 s),
  // every new page of the cache costing the kernel a zeroed page; 16 MiB also takes a first FULL's
  // peak RSS from 166 MB to 113 MB.
  const std::string cache = "PRAGMA cache_size=-" + std::to_string(kPageCacheKib);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", cache.c_str()}) {
    auto stmt = out.prepare(pragma);
    if (!stmt) return fail(Errc::io, "store.pragma", stmt.error().message, Origin{path});
    auto row = stmt->step();
    if (!row) return fail(Errc::io, "store.pragma", row.error().message, Origin{path});
  }
  return out;
}

std::int64_t SqliteDb::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_.get());
}

Status SqliteDb::exec(std::string_view sql) {
  char* message = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string what = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return fail(Errc::io, "store.exec", what, Origin{path_});
}

Result<Statement> SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, Statement::Finalize> stmt(raw);
  if (rc != SQLITE_OK) return error("store.prepare", "cannot prepare statement");
  return Statement(std::move(stmt), db_.get(), path_);
}

Result<SqliteDb::Lease> SqliteDb::cached(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto stmt = prepare(sql);
    if (!stmt) return fail(std::move(stmt).error());
    it = cache_.emplace(std::string(sql), std::make_unique<Statement>(std::move(*stmt))).first;
  }
  return Lease(*it->second);
}

Status SqliteDb::begin() {
  return exec("BEGIN IMMEDIATE");
}
Status SqliteDb::commit() {
  return exec("COMMIT");
}
void SqliteDb::rollback() noexcept {
  if (sqlite3_get_autocommit(db_.get()) == 0) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

int SqliteDb::changes() const noexcept {
  return sqlite3_changes(db_.get());
}

Result<std::string> SqliteDb::journal_mode(std::string_view mode) {
  auto stmt = prepare("PRAGMA journal_mode=" + std::string(mode));
  if (!stmt) return fail(std::move(stmt).error());
  auto row = stmt->step();
  if (!row) return fail(std::move(row).error());
  return std::string(stmt->column_text(0));
}

Result<int> SqliteDb::schema_version() {
  auto stmt = prepare("PRAGMA user_version");
  if (!stmt) return fail(std::move(stmt).error());
  auto row = stmt->step();
  if (!row) return fail(std::move(row).error());
  return static_cast<int>(stmt->column_int64(0));
}

Status SqliteDb::migrate(std::span<const Migration> migrations) {
  std::vector<Migration> sorted(migrations.begin(), migrations.end());
  std::sort(sorted.begin(), sorted.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
  const int newest = sorted.empty() ? 0 : sorted.back().version;
  auto current = schema_version();
  if (!current) return fail(std::move(current).error());
  if (*current > newest) {
    return fail(Errc::io, "store.schema_newer",
                "the store's schema is version " + std::to_string(*current) + " but this esrsync knows up to " +
                    std::to_string(newest) + ": it was written by a newer esrsync; refusing to start",
                Origin{path_});
  }
  for (const auto& m : sorted) {
    if (m.version <= *current) continue;
    if (auto ok = begin(); !ok) return ok;
    Status applied = exec(m.sql);
    if (applied) applied = exec("PRAGMA user_version=" + std::to_string(m.version));
    if (applied) applied = commit();
    if (!applied) {
      rollback();
      Error e = std::move(applied).error();
      e.rule = "store.migrate";
      e.message = "migration to schema version " + std::to_string(m.version) + " failed: " + e.message;
      return fail(std::move(e));
    }
  }
  return {};
}

Result<UniqueFd> lock_store(const std::string& store_path) {
  const std::string path = store_path + ".lock";
  UniqueFd lock(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
  if (!lock.valid()) {
    return fail(Errc::io, "store.lock", std::string("cannot create the lock file: ") + std::strerror(errno),
                Origin{path});
  }
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    return fail(Errc::io, "store.locked", "another esrsync is using this store", Origin{store_path});
  }
  return lock;
}

}  // namespace esrsync::store
