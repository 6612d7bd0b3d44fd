// The SQLite layer under the embedded store: durability settings, migrations (and refusing a newer
// schema), corrupt and truncated files detected at open, every failure a located Error.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <array>
#include <filesystem>

#include "esrsync/store/sqlite.hpp"
#include "support/capture.hpp"

namespace esrsync::store {
namespace {

using ::testing::HasSubstr;

constexpr Migration kV1{1, "CREATE TABLE person (person_number TEXT PRIMARY KEY, hash TEXT NOT NULL);"};
constexpr Migration kV2{2, "ALTER TABLE person ADD COLUMN vpd TEXT;"};

std::string pragma(SqliteDb& db, const char* sql) {
  auto stmt = db.prepare(sql);
  EXPECT_TRUE(stmt);
  auto row = stmt->step();
  EXPECT_TRUE(row && *row);
  return std::string(stmt->column_text(0));
}

TEST(Sqlite, OpensWithDurableSettings) {
  test::TempDir dir;
  auto db = SqliteDb::open((dir / "esrsync.db").string());
  ASSERT_TRUE(db) << db.error().to_string();
  EXPECT_EQ(pragma(*db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(pragma(*db, "PRAGMA synchronous"), "2");  // FULL
  EXPECT_EQ(pragma(*db, "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(pragma(*db, "PRAGMA cache_size"), std::to_string(-kPageCacheKib));  // KiB, not pages
}

// A new store is made with kPageSize pages; a store made with other pages (by an older esrsync,
// with SQLite's 4 KiB default) keeps them, with its data, through every later open and migration.
TEST(Sqlite, ANewStoreGetsTheChosenPageSizeAndAnOldOneKeepsItsOwn) {
  test::TempDir dir;
  {
    auto db = SqliteDb::open((dir / "new.db").string());
    ASSERT_TRUE(db) << db.error().to_string();
    ASSERT_TRUE(db->migrate(std::array{kV1}));
    EXPECT_EQ(pragma(*db, "PRAGMA page_size"), std::to_string(kPageSize));
  }
  {
    sqlite3* raw = nullptr;  // the way an older esrsync made its stores: SQLite's defaults
    ASSERT_EQ(sqlite3_open((dir / "old.db").c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw,
                           "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE person (person_number "
                           "TEXT PRIMARY KEY, hash TEXT NOT NULL); INSERT INTO person VALUES ('10000001', 'h');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  }
  for (int open = 0; open < 2; ++open) {
    auto db = SqliteDb::open((dir / "old.db").string());
    ASSERT_TRUE(db) << db.error().to_string();
    EXPECT_EQ(pragma(*db, "PRAGMA page_size"), "4096");
    EXPECT_EQ(pragma(*db, "SELECT hash FROM person WHERE person_number = '10000001'"), "h");
    ASSERT_TRUE(db->exec("INSERT OR REPLACE INTO person VALUES ('10000002', 'h2')"));
  }
}

// ESRSYNC_SQL_SLOW_MS=N reports statements that took N ms or more: the SQL text, never a bound value.
TEST(Sqlite, SlowStatementsAreReportedWhenAsked) {
  test::TempDir dir;
  ::setenv("ESRSYNC_SQL_SLOW_MS", "0", 1);
  testing::internal::CaptureStderr();
  {
    auto db = SqliteDb::open((dir / "esrsync.db").string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("CREATE TABLE t (name TEXT)"));
    auto insert = db->prepare("INSERT INTO t (name) VALUES (?1)");
    ASSERT_TRUE(insert);
    ASSERT_TRUE(insert->bind(1, std::string_view("Okafor")));
    ASSERT_TRUE(insert->run());
  }
  const std::string said = testing::internal::GetCapturedStderr();
  ::unsetenv("ESRSYNC_SQL_SLOW_MS");
  EXPECT_THAT(said, HasSubstr(" ms: INSERT INTO t (name) VALUES (?1)"));
  EXPECT_THAT(said, ::testing::Not(HasSubstr("Okafor")));

  testing::internal::CaptureStderr();
  {
    auto db = SqliteDb::open((dir / "esrsync.db").string());  // unset: silent
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("SELECT count(*) FROM t"));
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(Sqlite, MigratesInOrderOnceAndKeepsData) {
  test::TempDir dir;
  const auto path = (dir / "esrsync.db").string();
  {
    auto db = SqliteDb::open(path);
    ASSERT_TRUE(db);
    const Migration first[] = {kV1};
    ASSERT_TRUE(db->migrate(first));
    EXPECT_EQ(*db->schema_version(), 1);
    auto insert = db->prepare("INSERT INTO person (person_number, hash) VALUES (?1, ?2)");
    ASSERT_TRUE(insert);
    ASSERT_TRUE(insert->bind(1, std::string_view("10000001")));
    ASSERT_TRUE(insert->bind(2, std::string_view("abc")));
    ASSERT_TRUE(insert->run());
  }
  auto db = SqliteDb::open(path);
  ASSERT_TRUE(db);
  const Migration both[] = {kV2, kV1};  // order given does not matter
  ASSERT_TRUE(db->migrate(both));
  ASSERT_TRUE(db->migrate(both));  // idempotent
  EXPECT_EQ(*db->schema_version(), 2);
  auto select = db->prepare("SELECT person_number, vpd FROM person");
  ASSERT_TRUE(select);
  auto row = select->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(select->column_text(0), "10000001");
  EXPECT_TRUE(select->column_is_null(1));
}

TEST(Sqlite, RefusesASchemaNewerThanTheBinary) {
  test::TempDir dir;
  const auto path = (dir / "esrsync.db").string();
  {
    auto db = SqliteDb::open(path);
    const Migration both[] = {kV1, kV2};
    ASSERT_TRUE(db->migrate(both));
  }
  auto db = SqliteDb::open(path);
  ASSERT_TRUE(db);
  const Migration older[] = {kV1};
  auto r = db->migrate(older);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rule, "store.schema_newer");
  EXPECT_THAT(r.error().message, HasSubstr("version 2"));
  EXPECT_EQ(r.error().origin.file, path);
}

TEST(Sqlite, FailedMigrationRollsBackAndSaysWhich) {
  test::TempDir dir;
  auto db = SqliteDb::open((dir / "esrsync.db").string());
  ASSERT_TRUE(db);
  const Migration broken[] = {kV1, {2, "CREATE TABLE person (x);"}};
  auto r = db->migrate(broken);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rule, "store.migrate");
  EXPECT_THAT(r.error().message, HasSubstr("schema version 2"));
  EXPECT_EQ(*db->schema_version(), 1);
}

TEST(Sqlite, NotADatabaseIsDetectedAtOpen) {
  test::TempDir dir;
  const auto path = dir / "esrsync.db";
  test::write_file(path, std::string(8192, 'x'));
  auto db = SqliteDb::open(path.string());
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().rule, "store.corrupt");
  EXPECT_THAT(db.error().message, HasSubstr("not a usable SQLite database"));
}

// A store another process holds for a write that keeps readers out (a first load with a rollback
// journal) is busy, not damaged: the message must not send an operator to their backups.
TEST(Sqlite, AStoreLockedByAWriterIsBusyNotCorrupt) {
  test::TempDir dir;
  const auto path = (dir / "esrsync.db").string();
  auto writer = SqliteDb::open(path);
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->exec("CREATE TABLE t (x)"));
  ASSERT_EQ(*writer->journal_mode("truncate"), "truncate");
  ASSERT_TRUE(writer->exec("BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)"));
  SqliteOptions quick;
  quick.busy_timeout_ms = 50;
  auto reader = SqliteDb::open(path, quick);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().rule, "store.busy");
  EXPECT_THAT(reader.error().message, ::testing::HasSubstr("try again"));
  writer->rollback();
  ASSERT_EQ(*writer->journal_mode("wal"), "wal");
  EXPECT_TRUE(SqliteDb::open(path, quick));  // free again
}

TEST(Sqlite, TruncatedStoreIsDetectedAtOpen) {
  test::TempDir dir;
  const auto path = dir / "esrsync.db";
  {
    auto db = SqliteDb::open(path.string());
    ASSERT_TRUE(db);
    const Migration first[] = {kV1};
    ASSERT_TRUE(db->migrate(first));
    ASSERT_TRUE(db->begin());
    auto insert = db->prepare("INSERT INTO person (person_number, hash) VALUES (?1, ?2)");
    for (int i = 0; i < 5000; ++i) {
      ASSERT_TRUE(insert->bind(1, static_cast<std::int64_t>(10000000 + i)));
      ASSERT_TRUE(insert->bind(2, std::string_view("0123456789abcdef0123456789abcdef")));
      ASSERT_TRUE(insert->run());
    }
    ASSERT_TRUE(db->commit());
    ASSERT_TRUE(db->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  }
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  auto db = SqliteDb::open(path.string());
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().rule, "store.corrupt");
}

TEST(Sqlite, UnopenablePathAndBadSql) {
  auto missing = SqliteDb::open("/nonexistent/dir/esrsync.db");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().rule, "store.open");
  test::TempDir dir;
  auto db = SqliteDb::open((dir / "esrsync.db").string());
  ASSERT_TRUE(db);
  auto bad = db->prepare("SELEC 1");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().rule, "store.prepare");
  EXPECT_THAT(bad.error().message, HasSubstr("syntax error"));
  auto exec = db->exec("INSERT INTO nowhere VALUES (1)");
  ASSERT_FALSE(exec);
  EXPECT_EQ(exec.error().rule, "store.exec");
}

TEST(Sqlite, ConstraintViolationIsAStepError) {
  test::TempDir dir;
  auto db = SqliteDb::open((dir / "esrsync.db").string());
  const Migration first[] = {kV1};
  ASSERT_TRUE(db->migrate(first));
  auto insert = db->prepare("INSERT INTO person (person_number, hash) VALUES ('1', 'a')");
  ASSERT_TRUE(insert->run());
  auto again = insert->run();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().rule, "store.step");
  EXPECT_THAT(again.error().message, HasSubstr("UNIQUE"));
}

}  // namespace
}  // namespace esrsync::store
