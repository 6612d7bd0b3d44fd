// DecodeAhead: the same records, errors and stats as the decoder run in place, in file order,
// prepared on the decoding thread; stopping early leaves nothing running.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/codec/decode_ahead.hpp"
#include "support/decode.hpp"

namespace esrsync::codec {
namespace {

// A DELTA of `persons` PER records, every 7th with a bad date of birth (rejected), long enough to
// fill several chunks and make the decoding thread wait for the caller.
std::string extract(int persons) {
  std::string s = "HDR|ESR-OHS|1.0|245|DELTA|7|20260801020000\n";
  for (int i = 0; i < persons; ++i) {
    const std::string dob = i % 7 == 3 ? "19881314" : "19880314";
    s += "PER|A|" + std::to_string(10000000 + i) + "|E" + std::to_string(i) +
         "|AB123456C|9434765919|Dr|Example|Person||" + dob + "|F|p@example.nhs.uk|07700900001|LS1 4AP|Y\n";
  }
  return s + "TRL|" + std::to_string(persons) + "\n";
}

class DecodeAheadTest : public ::testing::Test {
 protected:
  std::shared_ptr<const mapping::Mapping> mapping_ = test::shipped_mapping("mappings/esr/de_extract.xml");
  const model::Date today_{2026, 9, 1};
};

TEST_F(DecodeAheadTest, GivesWhatTheDecoderGivesInOrderPrepared) {
  const int persons = static_cast<int>(DecodeAhead::kChunk * (DecodeAhead::kDepth + 3)) + 17;
  const std::string bytes = extract(persons);
  const test::Decoded in_place = test::decode_string(*mapping_, bytes);

  auto source = make_memory_source(bytes, "test.DAT");
  auto decoder = make_decoder(*mapping_, *source, DecodeOptions{today_});
  std::size_t good = 0;
  std::size_t bad = 0;
  std::size_t prepared = 0;
  {
    DecodeAhead ahead(*decoder, [](Decoded& d) {
      d.canonical = "prepared " + std::string(d.record.key());
      d.hash = std::to_string(d.record.line);
    });
    while (Decoded* d = ahead.next()) {
      if (d->next == Next::rejected) {
        ASSERT_LT(bad, in_place.rejected.size());
        EXPECT_EQ(d->record.line, in_place.rejected_records[bad].line);
        ASSERT_EQ(d->errors.size(), in_place.rejected[bad].size());
        EXPECT_EQ(d->errors.front().rule, in_place.rejected[bad].front().rule);
        EXPECT_TRUE(d->canonical.empty()) << "a rejected record is not prepared";
        ++bad;
        continue;
      }
      ASSERT_EQ(d->next, Next::record);
      ASSERT_LT(good, in_place.records.size());
      EXPECT_EQ(d->record.line, in_place.records[good].line);
      EXPECT_EQ(d->record.key(), in_place.records[good].key());
      EXPECT_EQ(d->canonical, "prepared " + std::string(d->record.key()));
      EXPECT_EQ(d->hash, std::to_string(d->record.line));
      ++good;
      ++prepared;
    }
    EXPECT_EQ(ahead.next(), nullptr) << "the end stays the end";
  }
  EXPECT_EQ(good, in_place.records.size());  // header and trailer included
  EXPECT_EQ(bad, in_place.rejected.size());
  EXPECT_GT(bad, 0u);
  EXPECT_EQ(prepared, good);
  EXPECT_EQ(decoder->stats().records_read, in_place.stats.records_read);
  EXPECT_EQ(decoder->stats().rejected, in_place.stats.rejected);
  EXPECT_TRUE(decoder->file_errors().empty());
}

TEST_F(DecodeAheadTest, FileErrorsAreTheDecodersAfterTheEnd) {
  std::string bytes = extract(100);
  bytes.resize(bytes.rfind("TRL|"));  // a truncated transfer: no trailer
  auto source = make_memory_source(bytes, "test.DAT");
  auto decoder = make_decoder(*mapping_, *source, DecodeOptions{today_});
  std::size_t seen = 0;
  {
    DecodeAhead ahead(*decoder, nullptr);
    while (ahead.next() != nullptr)
      ++seen;
  }
  EXPECT_EQ(seen, 101u);  // the header and 100 persons
  ASSERT_EQ(decoder->file_errors().size(), 1u);
  EXPECT_EQ(decoder->file_errors().front().rule, "file.no_trailer");
}

TEST_F(DecodeAheadTest, StoppingEarlyEndsTheThread) {
  const std::string bytes = extract(static_cast<int>(DecodeAhead::kChunk * DecodeAhead::kDepth * 4));
  auto source = make_memory_source(bytes, "test.DAT");
  auto decoder = make_decoder(*mapping_, *source, DecodeOptions{today_});
  {
    DecodeAhead ahead(*decoder, nullptr);
    for (int i = 0; i < 10; ++i)
      ASSERT_NE(ahead.next(), nullptr);
  }  // the decoding thread is waiting for room: told to stop and joined here
  // It stopped where it was: well short of the file's end, at most kDepth + 1 chunks read.
  EXPECT_LE(decoder->stats().records_read, DecodeAhead::kChunk * (DecodeAhead::kDepth + 2));
  EXPECT_GT(decoder->stats().records_read, 0u);
}

}  // namespace
}  // namespace esrsync::codec
