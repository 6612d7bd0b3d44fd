#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

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

// The keys that came more than once are listed once each, in key order, up to the limit asked for.
TEST(KeySet, ListsTheKeysThatRepeated) {
  KeySet s;
  for (const auto* k : {"b", "a", "c", "b", "b", "d", "a", "e", "e"})
    s.add(k);
  std::vector<std::string> repeated;
  EXPECT_EQ(s.seal(&repeated, 10), 4u);  // b twice more, a and e once more
  EXPECT_EQ(repeated, (std::vector<std::string>{"a", "b", "e"}));
  EXPECT_EQ(s.size(), 5u);

  KeySet limited;
  for (const auto* k : {"b", "a", "c", "b", "a", "c"})
    limited.add(k);
  std::vector<std::string> first_two;
  EXPECT_EQ(limited.seal(&first_two, 2), 3u);  // the count is of every repeat, whatever the limit
  EXPECT_EQ(first_two, (std::vector<std::string>{"a", "b"}));

  KeySet none;
  none.add("a");
  std::vector<std::string> nothing;
  EXPECT_EQ(none.seal(&nothing, 10), 0u);
  EXPECT_TRUE(nothing.empty());
}

// A sorted scan asks in ascending order and gets what contains() says, with or without gaps,
// repeats, and a query that goes back (answered by a fresh lookup).
TEST(KeySet, AscendingQueriesAgreeWithContains) {
  std::mt19937 rng(5);
  for (int round = 0; round < 50; ++round) {
    KeySet s;
    std::vector<std::string> queries;
    for (int i = 0; i < 300; ++i) {
      const std::string key = std::to_string(10000000 + rng() % 600) + (rng() % 3 == 0 ? "-1" : "");
      if (rng() % 2 == 0) s.add(key);
      queries.push_back(key);
    }
    s.seal();
    std::sort(queries.begin(), queries.end());
    if (round % 5 == 0) std::swap(queries[10], queries[250]);  // one step backwards, and one far ahead
    std::size_t cursor = 0;
    for (const auto& q : queries)
      ASSERT_EQ(s.contains_ascending(cursor, q), s.contains(q)) << q << " round " << round;
  }
  KeySet empty;
  empty.seal();
  std::size_t cursor = 0;
  EXPECT_FALSE(empty.contains_ascending(cursor, "10000001"));
}

}  // namespace
}  // namespace esrsync
