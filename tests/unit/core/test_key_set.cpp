#include <gtest/gtest.h>

#include "esrsync/core/key_set.hpp"

namespace esrsync {
namespace {

TEST(KeySet, ExactMembershipAndRepeats) {
  KeySet s;
  for (const auto* k : {"10000003-1", "10000001", "10000003", "10000001", "", "10000002-10"})
    s.add(k);
  EXPECT_EQ(s.seal(), 1u);  // 10000001 twice
  EXPECT_EQ(s.size(), 5u);
  for (const auto* k : {"10000001", "10000003", "10000003-1", "", "10000002-10"})
    EXPECT_TRUE(s.contains(k)) << k;
  for (const auto* k : {"1000000", "10000002", "10000002-1", "10000003-", "x"})
    EXPECT_FALSE(s.contains(k)) << k;
  KeySet empty;
  EXPECT_EQ(empty.seal(), 0u);
  EXPECT_FALSE(empty.contains("10000001"));
}

}  // namespace
}  // namespace esrsync
