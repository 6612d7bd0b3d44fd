// Disk full: the store on a tiny tmpfs. The sync stops with a clear error, consumes nothing (the
// file stays in the inbox, no ACK), and once there is room again the same file is applied in full.
// Needs root to mount a tmpfs (CI runs as root); elsewhere it says why it cannot run.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include "esrsync/store/sqlite.hpp"
#include "support/sync_environment.hpp"

namespace esrsync {
namespace {

using ::testing::HasSubstr;

class DiskFull : public test::SyncEnvironment {
 protected:
  void TearDown() override {
    if (!mounted_.empty()) ::umount2((dir_ / mounted_).c_str(), MNT_DETACH);
  }
  bool mount_small(const char* size, const char* sub = "state") {
    const std::string options = std::string("size=") + size;
    if (::mount("tmpfs", (dir_ / sub).c_str(), "tmpfs", 0, options.c_str()) != 0) return false;
    mounted_ = sub;
    return true;
  }
  bool grow(const char* size) {
    const std::string options = std::string("size=") + size;
    return ::mount("tmpfs", (dir_ / mounted_).c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
  }
  std::string mounted_;

  // `store compact` with no room to rewrite the store: a clear error, the store as it was; with room,
  // it compacts. `older`: a store made with 4 KiB pages, which compact rewrites through a rollback
  // journal with the new page size; on failure it keeps its pages and its WAL mode.
  void compact_without_room(bool older) {
    const std::filesystem::path dir = dir_.path();
    const auto gen = test::run_process({ESRSYNC_BENCH_GEN, "esr-full", "--persons", "3000"});
    ASSERT_EQ(gen.exit_code, 0);
    test::write_file(dir / "inbox/DE_245_OHS_20260801_0000001.DAT", gen.out);
    ASSERT_EQ(sync().exit_code, 0);
    const auto store_path = (dir / "state/esrsync.db").string();
    const auto pages = [&]() -> std::string {
      auto db = store::SqliteDb::open(store_path);
      if (!db) return db.error().to_string();
      auto mode = db->journal_mode("wal");  // "wal" when it is in WAL mode already: nothing changes
      if (!mode) return mode.error().to_string();
      auto size = db->prepare("PRAGMA page_size");
      if (!size || !size->step().value_or(false)) return "no page size";
      return *mode + " " + std::to_string(size->column_int64(0));
    };
    if (older) {
      auto db = store::SqliteDb::open(store_path);
      ASSERT_TRUE(db);
      ASSERT_TRUE(db->exec("PRAGMA journal_mode=DELETE; PRAGMA page_size=4096; VACUUM; PRAGMA journal_mode=WAL"));
    }
    const std::string made = older ? "wal 4096" : "wal " + std::to_string(store::kPageSize);
    ASSERT_EQ(pages(), made);
    const auto delivered = esrsync({"queue", "list", "--state", "delivered", "--limit", "100000", "--json"}).out;
    ASSERT_THAT(delivered, HasSubstr("\"state\": \"delivered\""));

    // Fill the disk but for 64 KiB.
    const auto filler = dir / "state/filler";
    const auto space = std::filesystem::space(dir / "state");
    test::write_file(filler, std::string(space.available - 64 * 1024, 'x'));
    const auto full = esrsync({"store", "compact"});
    EXPECT_EQ(full.exit_code, 2);
    EXPECT_THAT(full.err, HasSubstr("store.compact"));
    EXPECT_THAT(full.err, HasSubstr("VACUUM failed"));
    EXPECT_EQ(esrsync({"queue", "list", "--state", "delivered", "--limit", "100000", "--json"}).out, delivered);
    EXPECT_EQ(pages(), made);
    EXPECT_FALSE(std::filesystem::exists(dir / "state/esrsync.db-journal"));

    std::filesystem::remove(filler);
    const auto done = esrsync({"store", "compact"});
    EXPECT_EQ(done.exit_code, 0) << done.err;
    EXPECT_THAT(done.out, HasSubstr("compacted"));
    EXPECT_EQ(esrsync({"queue", "list", "--state", "delivered", "--limit", "100000", "--json"}).out, delivered);
    EXPECT_EQ(pages(), "wal " + std::to_string(store::kPageSize));
  }
};

TEST_F(DiskFull, ClearErrorNothingLostThenAppliedWhenThereIsRoom) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root)";
  ASSERT_TRUE(mount_small("192k")) << "cannot mount a tmpfs here";
  const auto gen = test::run_process({ESRSYNC_BENCH_GEN, "esr-full", "--persons", "3000"});
  ASSERT_EQ(gen.exit_code, 0);
  test::write_file(dir_ / "inbox/DE_245_OHS_20260801_0000001.DAT", gen.out);

  const auto full = sync();
  EXPECT_EQ(full.exit_code, 2);
  EXPECT_THAT(full.err, ::testing::AnyOf(HasSubstr("database or disk is full"), HasSubstr("No space left")));
  EXPECT_THAT(names("inbox"), ::testing::ElementsAre("DE_245_OHS_20260801_0000001.DAT"));  // not consumed
  EXPECT_TRUE(names("acks").empty());
  EXPECT_TRUE(names("out").empty());

  ASSERT_TRUE(grow("64m"));
  const auto retried = sync({"--json"});
  EXPECT_EQ(retried.exit_code, 0) << retried.err;
  EXPECT_THAT(retried.out, HasSubstr("\"outcome\": \"applied\""));
  EXPECT_THAT(retried.out,
              HasSubstr("\"records_read\": " + std::to_string(std::count(gen.out.begin(), gen.out.end(), '\n') - 2)));
  EXPECT_TRUE(names("inbox").empty());
}

// The sink's disk full instead: the file is applied all the same (the store has room), its lines
// cannot be staged nor delivered; once there is room, every change is delivered once, written from
// the store, and nothing half-written is left.
TEST_F(DiskFull, AFullSinkDiskDelaysDeliveryAndLosesNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root)";
  ASSERT_TRUE(mount_small("64k", "out")) << "cannot mount a tmpfs here";
  add_sink_keys("base_delay_ms = 0\n");  // the failed file is due again at once
  const auto gen = test::run_process({ESRSYNC_BENCH_GEN, "esr-full", "--persons", "3000"});
  ASSERT_EQ(gen.exit_code, 0);
  const auto records = std::count(gen.out.begin(), gen.out.end(), '\n') - 2;
  test::write_file(dir_ / "inbox/DE_245_OHS_20260801_0000001.DAT", gen.out);

  const auto full = sync({"--json"});
  EXPECT_EQ(full.exit_code, 1) << full.err;
  EXPECT_THAT(full.out, HasSubstr("\"outcome\": \"applied\""));
  EXPECT_THAT(full.out, HasSubstr("No space left on device"));
  EXPECT_THAT(full.out, HasSubstr("\"pending\": " + std::to_string(records)));
  EXPECT_TRUE(delivered_names().empty());

  ASSERT_TRUE(grow("64m"));
  const auto retried = sync({"--json"});
  EXPECT_EQ(retried.exit_code, 0) << retried.out << retried.err;
  EXPECT_THAT(retried.out, HasSubstr("\"delivered\": " + std::to_string(records)));
  const std::string delivered = outbox_text();
  EXPECT_EQ(std::count(delivered.begin(), delivered.end(), '\n'), records);  // each change once
  EXPECT_TRUE(part_names().empty());
}

TEST_F(DiskFull, CompactingWithoutRoomFailsClearlyAndLeavesTheStoreAsItWas) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root)";
  ASSERT_TRUE(mount_small("32m")) << "cannot mount a tmpfs here";
  compact_without_room(false);
}

TEST_F(DiskFull, CompactingAnOlderStoreWithoutRoomKeepsItsPagesAndItsWalMode) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root)";
  ASSERT_TRUE(mount_small("32m")) << "cannot mount a tmpfs here";
  compact_without_room(true);
}

}  // namespace
}  // namespace esrsync
