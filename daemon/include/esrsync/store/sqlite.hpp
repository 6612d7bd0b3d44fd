#pragma once
// A thin RAII layer over SQLite for the embedded store (DESIGN.md "Store"): one connection, its
// prepared statements, transactions and versioned schema migrations. Every SQLite failure becomes
// an Error (Errc::io) with a rule and SQLite's own message; nothing throws.
//
// Opening applies the durability settings the store relies on: WAL, synchronous=FULL (a commit is
// on disk when it returns), foreign keys on, and a busy timeout (every wait has a deadline). It
// also checks that the file is a SQLite database and is not truncated, so a damaged store is
// refused at start with a clear message instead of failing later.
//
// Blocking I/O: use from the store's own thread (or the blocking pool), never an io thread. A
// connection is not shared between threads.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "esrsync/core/result.hpp"
#include "esrsync/core/unique_fd.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace esrsync::store {

struct SqliteOptions {
  int busy_timeout_ms = 5000;
  bool check_integrity = true;  // refuse a truncated store at open
};

class Statement {
 public:
  Statement() = default;

  Status bind(int index, std::string_view text);  // 1-based, as SQLite
  Status bind_blob(int index, std::string_view bytes);
  // Binds `text` without copying it: the bytes must stay valid until the statement has run (or its
  // lease ended). For hot paths whose values outlive the statement's use by construction.
  Status bind_view(int index, std::string_view text);
  Status bind_blob_view(int index, std::string_view bytes);  // the same, as a BLOB
  Status bind(int index, std::int64_t value);
  Status bind_null(int index);
  // Steps once: true when a row is ready, false when done. Errors: store.step.
  Result<bool> step();
  // Runs a statement that returns no rows to completion, then resets it for reuse.
  Status run();
  // Steps through every row, turning each into a value with `read_row(*this)`.
  template <class ReadRow>
  auto collect(ReadRow&& read_row) -> Result<std::vector<decltype(read_row(std::declval<const Statement&>()))>> {
    std::vector<decltype(read_row(std::declval<const Statement&>()))> out;
    for (;;) {
      auto row = step();
      if (!row) return fail(std::move(row).error());
      if (!*row) return out;
      out.push_back(read_row(*this));
    }
  }
  void reset();

  [[nodiscard]] std::string_view column_text(int index) const;
  [[nodiscard]] std::string_view column_blob(int index) const;  // the bytes as stored, text or BLOB
  [[nodiscard]] std::int64_t column_int64(int index) const;
  [[nodiscard]] bool column_is_null(int index) const;

 private:
  friend class SqliteDb;
  struct Finalize {
    void operator()(sqlite3_stmt* s) const;
  };
  Statement(std::unique_ptr<sqlite3_stmt, Finalize> stmt, sqlite3* db, std::string path)
      : stmt_(std::move(stmt)), db_(db), path_(std::move(path)) {}
  Status check(int rc, const char* rule);

  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
  sqlite3* db_ = nullptr;  // borrowed from the SqliteDb, which outlives its statements
  std::string path_;
};

// One schema step: applied once, in order, inside a transaction; `version` is what
// PRAGMA user_version becomes.
// "head (tuple), (tuple), ..." with `rows` tuples: an INSERT of many rows in one statement (a
// statement's cursors stay where its last row went: rows in key order are placed without a search
// from the root each).
std::string multi_row_insert(std::string_view head, std::string_view tuple, std::size_t rows);

struct Migration {
  int version;
  std::string_view sql;
};

// The page size of a store created now (an existing store keeps its own): see SqliteDb::open.
inline constexpr int kPageSize = 8192;
// The page cache each connection keeps, in KiB: see SqliteDb::open.
inline constexpr int kPageCacheKib = 16384;

class SqliteDb {
 public:
  // Opens (creating if absent) the database at `path`. Errors (Errc::io): store.open,
  // store.corrupt (not a database, or quick_check fails), store.pragma.
  static Result<SqliteDb> open(const std::string& path, SqliteOptions options = {});

  // Runs SQL with no result rows (may hold several statements). Errors: store.exec.
  Status exec(std::string_view sql);
  // The rowid of the last row this connection inserted.
  [[nodiscard]] std::int64_t last_insert_rowid() const;
  // Errors: store.prepare.
  Result<Statement> prepare(std::string_view sql);
  // A prepared statement kept for reuse (hot paths prepare once per connection, not per call). The
  // lease resets it (and clears its bindings) when it goes out of scope, so no cached statement is
  // left mid-read. Valid until the SqliteDb is destroyed.
  class Lease {
   public:
    explicit Lease(Statement& s) : s_(&s) {}
    Lease(Lease&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (s_ != nullptr) s_->reset();
    }
    Statement& operator*() const { return *s_; }
    Statement* operator->() const { return s_; }

   private:
    Statement* s_;
  };
  Result<Lease> cached(std::string_view sql);  // looked up without building a string
  // The same for a statement run for every record: found once through `slot` (owned by an object
  // that holds this SqliteDb by reference, so never outlives it), then without hashing its SQL.
  Result<Lease> cached(Statement*& slot, std::string_view sql) {
    if (slot != nullptr) return Lease(*slot);
    auto lease = cached(sql);
    if (lease) slot = &**lease;
    return lease;
  }

  // BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout), COMMIT, ROLLBACK.
  Status begin();
  Status commit();
  void rollback() noexcept;

  // Sets the journal mode ("wal", "truncate", ...) outside a transaction; returns the mode in force
  // afterwards (SQLite keeps WAL while another connection has the file open).
  Result<std::string> journal_mode(std::string_view mode);

  [[nodiscard]] Result<int> schema_version();
  // Rows changed by the last INSERT, UPDATE or DELETE.
  [[nodiscard]] int changes() const noexcept;
  // Brings the schema to the newest of `migrations` (sorted by version). A database whose
  // version is newer than the newest migration this binary knows is refused (store.schema_newer):
  // an older binary must never write to a newer schema.
  Status migrate(std::span<const Migration> migrations);

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  struct Close {
    void operator()(sqlite3* db) const;
  };
  SqliteDb(std::unique_ptr<sqlite3, Close> db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

 public:
  SqliteDb(SqliteDb&&) noexcept = default;
  SqliteDb& operator=(SqliteDb&&) noexcept = default;
  ~SqliteDb() { cache_.clear(); }  // statements first, then the connection

 private:
  Unexpected error(const char* rule, const std::string& what) const;

  // Members are destroyed in reverse order: the cached statements before the connection.
  std::unique_ptr<sqlite3, Close> db_;
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const noexcept { return std::hash<std::string_view>{}(sql); }
  };
  std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>> cache_;
  std::string path_;
};

// The embedded store has one user at a time (`sync`, `store compact`): an exclusive lock on
// STORE.lock, held while the returned descriptor is open. Errors: store.lock (the lock file cannot
// be created), store.locked (another esrsync holds it).
Result<UniqueFd> lock_store(const std::string& store_path);

}  // namespace esrsync::store
