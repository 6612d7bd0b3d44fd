#include <gtest/gtest.h>

#include "esrsync/core/result.hpp"

namespace esrsync {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return fail(Errc::validation, "test.positive", "must be positive", Origin{"f.csv", 3, 7, "dose"});
  return v;
}

TEST(Result, CarriesValueOrError) {
  auto ok = parse_positive(4);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 4);
  EXPECT_EQ(ok.value_or(9), 4);

  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.value_or(9), 9);
  EXPECT_EQ(bad.error().code, Errc::validation);
  EXPECT_EQ(bad.error().to_string(), "f.csv:3:7: test.positive: must be positive [field dose]");
}

TEST(Result, ErrorWithoutLocationPrintsRuleAndMessage) {
  Error e = make_error(Errc::io, "file.open", "cannot open");
  EXPECT_EQ(e.to_string(), "file.open: cannot open");
  e.origin.file = "x.DAT";
  EXPECT_EQ(e.to_string(), "x.DAT: file.open: cannot open");
}

TEST(Result, VoidStatus) {
  Status ok;
  EXPECT_TRUE(ok);
  Status bad = fail(Errc::config, "config.key", "unknown key");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().rule, "config.key");
}

}  // namespace
}  // namespace esrsync
