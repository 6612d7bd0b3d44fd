#include <gtest/gtest.h>

#include <filesystem>

#include "esrsync/core/atomic_file.hpp"
#include "support/capture.hpp"

namespace esrsync {
namespace {

namespace fs = std::filesystem;

TEST(AtomicFile, WritesAndReplacesWithNoPartLeft) {
  test::TempDir dir;
  const auto path = dir / "DI_245_OHS_20260801_0000001.DAT";
  ASSERT_TRUE(write_file_atomically(path, "first\n"));
  EXPECT_EQ(test::read_file(path), "first\n");
  ASSERT_TRUE(write_file_atomically(path, "second\n"));
  EXPECT_EQ(test::read_file(path), "second\n");
  EXPECT_FALSE(fs::exists(path.string() + ".part"));
  ASSERT_TRUE(write_file_atomically(dir / "empty.ACK", ""));
  EXPECT_EQ(fs::file_size(dir / "empty.ACK"), 0u);
}

TEST(AtomicFile, MissingDirectoryIsALocatedError) {
  test::TempDir dir;
  auto r = write_file_atomically(dir / "no/such/dir/x.ACK", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_EQ(r.error().rule, "file.create");
  EXPECT_NE(r.error().message.find("No such file or directory"), std::string::npos);
}

TEST(AtomicFile, FullDeviceGivesAClearErrorAndKeepsTheOldFile) {
  // /dev/full reports ENOSPC on every write: the same as a full filesystem.
  if (!fs::exists("/dev/full")) GTEST_SKIP();
  test::TempDir dir;
  const auto path = dir / "x.DAT";
  ASSERT_TRUE(write_file_atomically(path, "old"));
  fs::create_symlink("/dev/full", path.string() + ".part");
  auto r = write_file_atomically(path, std::string(1 << 16, 'x'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rule, "file.write");
  EXPECT_NE(r.error().message.find("No space left on device"), std::string::npos) << r.error().message;
  EXPECT_EQ(test::read_file(path), "old");
  EXPECT_FALSE(fs::exists(fs::symlink_status(path.string() + ".part")));
}

TEST(PendingFile, NothingUnderTheFinalNameUntilCommitted) {
  test::TempDir dir;
  const auto path = dir / "esr-oh-1-1.jsonl";
  auto file = PendingFile::write(path, "a line\n");
  ASSERT_TRUE(file) << file.error().to_string();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(test::read_file(path.string() + ".part"), "a line\n");
  ASSERT_TRUE(file->commit());
  EXPECT_EQ(test::read_file(path), "a line\n");
  EXPECT_FALSE(fs::exists(path.string() + ".part"));
}

TEST(PendingFile, OneNeverCommittedLeavesNoPart) {
  test::TempDir dir;
  const auto path = dir / "esr-oh-2-2.jsonl";
  {
    auto file = PendingFile::write(path, "a line\n");
    ASSERT_TRUE(file);
    auto moved = std::move(*file);  // the moved-from one owns nothing
    EXPECT_TRUE(fs::exists(path.string() + ".part"));
  }
  EXPECT_FALSE(fs::exists(path.string() + ".part"));
  EXPECT_FALSE(fs::exists(path));
}

TEST(PendingFile, ACommitThatCannotRenameIsALocatedErrorAndLeavesNoPart) {
  test::TempDir dir;
  const auto path = dir / "esr-oh-3-3.jsonl";
  fs::create_directories(path / "occupied");  // a non-empty directory under the final name
  {
    auto file = PendingFile::write(path, "a line\n");
    ASSERT_TRUE(file);
    auto r = file->commit();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().rule, "file.rename");
    EXPECT_EQ(r.error().origin.file, path.string());
  }
  EXPECT_FALSE(fs::exists(path.string() + ".part"));
}

}  // namespace
}  // namespace esrsync
