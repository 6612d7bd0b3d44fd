// The person index's bulk build (a first load): every index is there afterwards and answers
// lookups, and the store's settings changed for the sort are set back.

#include <gtest/gtest.h>

#include "esrsync/store/person_index.hpp"
#include "support/capture.hpp"
#include "support/store.hpp"

namespace esrsync::store {
namespace {

std::int64_t pragma(SqliteDb& db, const std::string& name) {
  auto stmt = db.prepare("PRAGMA " + name);
  EXPECT_TRUE(stmt && *stmt->step());
  return stmt->column_int64(0);
}

TEST(PersonIndexBulk, BuildsEveryIndexBySortingAndSetsTheStoreBack) {
  test::TempDir dir;
  auto db = test::open_migrated_store(dir / "esrsync.db");
  ASSERT_TRUE(db);
  const auto cache_before = pragma(*db, "cache_size");
  PersonIndex index(*db);
  ASSERT_TRUE(db->begin());
  ASSERT_TRUE(index.begin_bulk());
  // Enough keys for several sort runs of 4 MiB in each index.
  constexpr int kPersons = 120000;
  for (int i = 0; i < kPersons; ++i) {
    const std::string n = std::to_string(10000000 + i);
    ASSERT_TRUE(index.put(PersonKeys{
        n, "245", "E" + n, std::to_string(9000000000LL + i * 7LL), "AB" + n.substr(2) + "C",
        "19" + std::to_string(50 + i % 50) + "-0" + std::to_string(1 + i % 9) + "-1" + std::to_string(i % 10),
        "SURNAME" + std::to_string(i % 5000), "", "FORENAME" + std::to_string(i % 700),
        "AB1" + std::to_string(i % 10) + "CD"}));
  }
  ASSERT_TRUE(index.end_bulk());
  ASSERT_TRUE(db->commit());
  auto names =
      db->prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'person_index' ORDER BY name");
  ASSERT_TRUE(names);
  std::vector<std::string> indexes;
  while (*names->step())
    indexes.emplace_back(names->column_text(0));
  EXPECT_EQ(indexes, (std::vector<std::string>{"person_index_birth", "person_index_employee", "person_index_names",
                                               "person_index_nhs", "person_index_ni"}));
  for (const int i : {0, 4711, kPersons - 1}) {
    const std::string n = std::to_string(10000000 + i);
    auto by_nhs = index.find("nhs_number", std::to_string(9000000000LL + i * 7LL));
    ASSERT_TRUE(by_nhs);
    ASSERT_EQ(by_nhs->size(), 1u);
    EXPECT_EQ(by_nhs->front().person_number, n);
    auto by_employee = index.find("employee_number", "E" + n);
    ASSERT_TRUE(by_employee && by_employee->size() == 1u);
  }
  auto check = db->prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check && *check->step());
  EXPECT_EQ(check->column_text(0), "ok");
  EXPECT_EQ(pragma(*db, "cache_size"), cache_before);
  EXPECT_EQ(pragma(*db, "threads"), 0);
}

TEST(PersonIndexBulk, PersonsWaitingToBeWrittenAreFoundAndTheLaterKeysWin) {
  test::TempDir dir;
  auto db = test::open_migrated_store(dir / "esrsync.db");
  ASSERT_TRUE(db);
  PersonIndex index(*db);
  ASSERT_TRUE(db->begin());
  ASSERT_TRUE(index.begin_bulk());
  const auto person = [](int i, const std::string& nhs) {
    const std::string n = std::to_string(10000000 + i);
    return PersonKeys{n, "245", "E" + n, nhs, "", "1980-01-01", "SMITH", "", "ANN", ""};
  };
  constexpr int kPersons = 600;  // two statements of many rows, and the rest one at a time
  for (int i = 0; i < kPersons; ++i)
    ASSERT_TRUE(index.put(person(i, std::to_string(9000000000LL + i))));
  // Listed again: within the rows waiting, and after its first row was written.
  ASSERT_TRUE(index.put(person(599, "9999999991")));
  ASSERT_TRUE(index.put(person(3, "9999999993")));
  auto waiting = index.get(std::to_string(10000000 + 599));  // a lookup writes what waits first
  ASSERT_TRUE(waiting && *waiting);
  EXPECT_EQ((*waiting)->nhs_number, "9999999991");
  ASSERT_TRUE(index.end_bulk());
  ASSERT_TRUE(db->commit());
  auto rows = db->prepare("SELECT count(*) FROM person_index");
  ASSERT_TRUE(rows && *rows->step());
  EXPECT_EQ(rows->column_int64(0), kPersons);
  EXPECT_EQ((**index.get(std::to_string(10000000 + 3))).nhs_number, "9999999993");
  EXPECT_EQ(index.find("nhs_number", "9000000003")->size(), 0u);
  EXPECT_EQ(index.find("nhs_number", std::to_string(9000000000LL + 300))->size(), 1u);
}

}  // namespace
}  // namespace esrsync::store
