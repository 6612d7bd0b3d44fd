#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "esrsync/ops/table.hpp"
#include "support/capture.hpp"

namespace esrsync::ops {
namespace {

std::string printed(const Table& table) {
  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  const std::unique_ptr<std::FILE, Close> file{std::tmpfile()};
  table.print(file.get());
  return test::read_back(file.get());
}

TEST(Table, ColumnsKeepTheirUsualWidthNumbersToTheRightTheLastColumnUnpadded) {
  Table table({{"id", 4, true}, {"key", 8}, {"changes", 7, true}, {"note", 0, false, 2}});
  table.add({"1", "OHP01:1", "14", "sent"});
  table.add({"12", "abc", "3", ""});
  EXPECT_EQ(printed(table),
            "  id key      changes  note\n"
            "   1 OHP01:1       14  sent\n"
            "  12 abc            3  \n");
}

TEST(Table, AColumnGrowsToItsLongestValueAndTheOthersStayInLine) {
  Table table({{"id", 4, true}, {"key", 8}, {"changes", 7, true}, {"state"}});
  table.add({"1", "10000004-1:STANDARD:OHP01", "1", "delivered"});
  table.add({"123456", "a", "100", "pending"});
  EXPECT_EQ(printed(table),
            "    id key                       changes state\n"
            "     1 10000004-1:STANDARD:OHP01       1 delivered\n"
            "123456 a                             100 pending\n");
}

TEST(Table, NoRowsPrintsTheHeaderOnly) {
  Table table({{"id", 4, true}, {"reason"}});
  EXPECT_EQ(printed(table), "  id reason\n");
}

}  // namespace
}  // namespace esrsync::ops
