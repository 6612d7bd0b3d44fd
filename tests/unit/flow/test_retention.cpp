// purge_processed: the retention of a source's processed files. Old regular files go; newer ones,
// subdirectories and symbolic links (and what they point to) stay; a directory that cannot be listed
// is reported, not taken for an empty one.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "esrsync/flow/sync.hpp"
#include "support/capture.hpp"

namespace esrsync::flow {
namespace {

namespace fs = std::filesystem;

std::int64_t days_ago_ms(int days) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() - std::int64_t{days} * 86'400'000;
}

void date_back(const fs::path& p, int days) {
  fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::hours(24 * days));
}

TEST(Retention, OldRegularFilesGoEverythingElseStays) {
  test::TempDir dir;
  const auto processed = dir / "processed";
  fs::create_directories(processed / "sub");
  test::write_file(processed / "old.DAT", "old\n");
  date_back(processed / "old.DAT", 40);
  test::write_file(processed / "new.DAT", "new\n");
  date_back(processed / "new.DAT", 10);
  test::write_file(dir / "elsewhere.DAT", "not esrsync's\n");
  date_back(dir / "elsewhere.DAT", 40);
  fs::create_symlink(dir / "elsewhere.DAT", processed / "link.DAT");
  date_back(processed / "sub", 40);

  std::vector<Error> problems;
  EXPECT_EQ(purge_processed(processed.string(), days_ago_ms(30), problems), 1U);
  EXPECT_TRUE(problems.empty());
  EXPECT_FALSE(fs::exists(processed / "old.DAT"));
  EXPECT_TRUE(fs::exists(processed / "new.DAT"));
  EXPECT_TRUE(fs::is_symlink(processed / "link.DAT"));
  EXPECT_TRUE(fs::exists(dir / "elsewhere.DAT"));
  EXPECT_TRUE(fs::is_directory(processed / "sub"));
}

TEST(Retention, ADirectoryThatCannotBeListedIsReported) {
  test::TempDir dir;
  std::vector<Error> problems;
  EXPECT_EQ(purge_processed((dir / "gone").string(), days_ago_ms(0), problems), 0U);
  ASSERT_EQ(problems.size(), 1U);
  EXPECT_EQ(problems[0].rule, "retention.list");
  EXPECT_EQ(problems[0].origin.file, (dir / "gone").string());
}

}  // namespace
}  // namespace esrsync::flow
