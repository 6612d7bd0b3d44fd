#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "esrsync/core/progress.hpp"
#include "support/capture.hpp"

namespace esrsync {
namespace {

using namespace std::chrono_literals;

// A Progress writing to a temporary file on a clock the test moves.
class ProgressTest : public ::testing::Test {
 protected:
  std::unique_ptr<Progress> make(std::size_t width = 80) {
    return std::make_unique<Progress>(file_.get(), width, 1000ms, [this] { return now_; });
  }
  std::string written() { return test::read_back(file_.get()); }

  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Close> file_{std::tmpfile()};
  Progress::Clock::time_point now_{std::chrono::hours(1)};
};

TEST_F(ProgressTest, ALineIsRewrittenInPlaceAndErasedAtTheEnd) {
  auto progress = make();
  progress->show("sync: esr: DE_245_OHS_20260801_0000001.DAT: applying");
  progress->show("sync: esr: DE_245_OHS_20260801_0000001.DAT: 16384 records applied");
  progress->clear();
  progress->clear();  // nothing shown any more: nothing to erase
  EXPECT_EQ(written(),
            "\rsync: esr: DE_245_OHS_20260801_0000001.DAT: applying\033[K"
            "\rsync: esr: DE_245_OHS_20260801_0000001.DAT: 16384 records applied\033[K"
            "\r\033[K");
}

TEST_F(ProgressTest, DueAtMostOnceAnIntervalAfterTheLastLine) {
  auto progress = make();
  EXPECT_TRUE(progress->due());  // nothing shown yet
  progress->show("a");
  EXPECT_FALSE(progress->due());
  now_ += 999ms;
  EXPECT_FALSE(progress->due());
  now_ += 1ms;
  EXPECT_TRUE(progress->due());
  progress->show("b");
  EXPECT_FALSE(progress->due());
}

TEST_F(ProgressTest, ALongLineIsCutToTheWidthAndNeverInsideACharacter) {
  auto progress = make(10);
  progress->show("123456789ABC");             // 9 columns kept: one short of the width
  progress->show("1234567\xC3\xAB\xC3\xAB");  // the cut would split the second "ë": it goes whole
  EXPECT_EQ(written(), "\r123456789\033[K\r1234567\xC3\xAB\033[K");
}

TEST_F(ProgressTest, ErasedWhenItGoesOutOfScope) {
  make()->show("applying");
  EXPECT_EQ(written(), "\rapplying\033[K\r\033[K");
}

TEST(Progress, DisabledWritesNothingAndIsNeverDue) {
  Progress progress;
  EXPECT_FALSE(progress.enabled());
  EXPECT_FALSE(progress.due());
  progress.show("applying");
  progress.clear();  // nothing to write to: nothing written, nothing crashes
}

TEST(Progress, OnlyOnATerminal) {
  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  const std::unique_ptr<std::FILE, Close> file{std::tmpfile()};
  EXPECT_FALSE(is_terminal(file.get()));
  EXPECT_FALSE(is_terminal(nullptr));
  EXPECT_FALSE(Progress::on_terminal(file.get(), file.get()).enabled());
}

}  // namespace
}  // namespace esrsync
