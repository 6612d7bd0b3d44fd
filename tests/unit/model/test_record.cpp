// Record and its FieldValues: one text buffer for all of a record's values, reused across records.

#include <gtest/gtest.h>

#include <string>

#include "esrsync/model/record.hpp"

namespace esrsync::model {
namespace {

TEST(FieldValues, SetGetAndResetKeepNothingOfTheLastRecord) {
  FieldValues v;
  v.reset(3);
  EXPECT_EQ(v.size(), 3U);
  EXPECT_EQ(v[0], "");
  v.set(0, "Ivanova");
  v.set(2, "1980-11-06");
  EXPECT_EQ(v[0], "Ivanova");
  EXPECT_EQ(v[1], "");
  EXPECT_EQ(v[2], "1980-11-06");
  v.reset(2);
  EXPECT_EQ(v.size(), 2U);
  EXPECT_EQ(v[0], "");
  EXPECT_EQ(v[1], "");
}

TEST(FieldValues, ValuesSurviveTheBufferGrowing) {
  FieldValues v;
  v.reset(40);
  for (std::size_t i = 0; i < 40; ++i)
    v.set(i, std::string(50 + i, static_cast<char>('a' + i % 26)));  // 2.8 KB: grows past 256 bytes
  for (std::size_t i = 0; i < 40; ++i)
    EXPECT_EQ(v[i], std::string(50 + i, static_cast<char>('a' + i % 26))) << i;
}

TEST(FieldValues, SettingFromItsOwnTextIsSafeEvenWhenTheBufferMoves) {
  FieldValues v;
  v.reset(3);
  const std::string long_value(200, 'x');
  v.set(0, long_value);
  // Value 1 copies value 0 (a view into the buffer) and needs more room than is left: the buffer
  // moves while the view still points into it.
  v.set(1, v[0]);
  v.set(2, v[0].substr(0, 10));
  EXPECT_EQ(v[0], long_value);
  EXPECT_EQ(v[1], long_value);
  EXPECT_EQ(v[2], std::string(10, 'x'));
}

TEST(FieldValues, ASmallerValueIsWrittenInPlace) {
  FieldValues v;
  v.reset(1);
  v.set(0, "0123456789");
  const char* const where = v[0].data();
  for (int i = 0; i < 1000; ++i)
    v.set(0, "01234");
  EXPECT_EQ(v[0], "01234");
  EXPECT_EQ(v[0].data(), where);  // repeated sets do not grow the buffer
  v.set(0, v[0].substr(1));       // overlapping, in place
  EXPECT_EQ(v[0], "1234");
  v.set(0, "");
  EXPECT_EQ(v[0], "");
}

TEST(FieldValues, AdoptedTextIsSharedAndNeverRewrittenInPlace) {
  FieldValues v;
  v.reset(3);
  const std::size_t at = v.adopt("PER|Okafor|Ada");
  v.set_span(0, at + 4, 6);  // two values over the same bytes, as when two fields read one column
  v.set_span(1, at + 4, 6);
  v.set_span(2, at + 11, 3);
  EXPECT_EQ(v[0], "Okafor");
  EXPECT_EQ(v[1], "Okafor");
  v.set(0, "Oka");  // shorter: must not be written over the shared bytes
  EXPECT_EQ(v[0], "Oka");
  EXPECT_EQ(v[1], "Okafor");
  EXPECT_EQ(v[2], "Ada");
  v.reset(1);
  v.set(0, "0123456789");
  v.set(0, "01");  // not adopted: in place again
  EXPECT_EQ(v[0], "01");
}

TEST(FieldValues, PrepareThenWrite) {
  FieldValues v;
  v.reset(2);
  char* out = v.prepare(1, 4);
  copy_short(out, "ABCD", 4);
  EXPECT_EQ(v[1], "ABCD");
  v.clear(1);
  EXPECT_EQ(v[1], "");
}

TEST(FieldValues, EqualityComparesValuesNotBuffers) {
  FieldValues a{"x", "", "yz"};
  FieldValues b;
  b.reset(3);
  b.set(2, "yz");
  b.set(0, "long enough to sit elsewhere");
  b.set(0, "x");
  EXPECT_EQ(a, b);
  b.set(1, "q");
  EXPECT_FALSE(a == b);
  EXPECT_FALSE((a == FieldValues{"x", ""}));
  const FieldValues copy = a;  // copies are independent
  a.set(0, "changed");
  EXPECT_EQ(copy[0], "x");
}

TEST(CopyShort, EveryLengthUpTo40) {
  const std::string source = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
  for (std::size_t n = 0; n <= source.size(); ++n) {
    std::string target(source.size() + 2, '#');
    copy_short(target.data() + 1, source.data(), n);
    EXPECT_EQ(target.substr(1, n), source.substr(0, n)) << n;
    EXPECT_EQ(target[0], '#') << n;
    EXPECT_EQ(target[n + 1], '#') << n;  // nothing written past the end
  }
}

TEST(Record, SetOnAFreshRecordSizesItsValuesForTheEntity) {
  Record r;
  r.entity = Entity::person;
  ASSERT_TRUE(r.set("surname", "Okafor"));
  EXPECT_EQ(r.values.size(), entity_def(Entity::person).fields.size());
  EXPECT_EQ(r.get("surname"), "Okafor");
  EXPECT_FALSE(r.set("no_such_field", "x"));
  ASSERT_TRUE(r.set("forenames", "Ada"));
  EXPECT_EQ(r.get("surname"), "Okafor");  // earlier values kept
}

}  // namespace
}  // namespace esrsync::model
