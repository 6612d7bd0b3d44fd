// ACKs built from inbound results decode back through the shipped ACK mapping with the counts and
// ERR lines DOMAIN.md defines.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/flow/ack.hpp"
#include "support/decode.hpp"

namespace esrsync::flow {
namespace {

const model::DateTime kWhen{{2026, 8, 2}, 2, 15, 2};

TEST(Ack, PartialListsEachRejectedRecord) {
  auto mapping = test::shipped_mapping("mappings/esr/ack.xml");
  InboundResult r;
  r.outcome = Outcome::partial;
  r.records_read = 9;
  r.accepted = 3;
  r.rejected = 6;
  r.rejections.push_back({4, "PER", "10000007", "ni_number.prefix", "NI number prefix is never issued [ni_number]"});
  r.rejections.push_back(
      {6, "ASG", "10000008-1", "date.calendar", "not a real calendar date|with a pipe\nand a break"});
  auto ack = make_ack(r, "DE_245_OHS_20260802_0000002.DAT", kWhen, mapping);
  ASSERT_TRUE(ack && *ack) << (ack ? "" : ack.error().to_string());
  EXPECT_EQ(**ack,
            "ACK|DE_245_OHS_20260802_0000002.DAT|PARTIAL|9|3|6|20260802021502\n"
            "ERR|4|PER|10000007|ni_number.prefix|NI number prefix is never issued [ni_number]\n"
            "ERR|6|ASG|10000008-1|date.calendar|not a real calendar date with a pipe and a break\n");
  const auto back = test::decode_string(*mapping, **ack);
  EXPECT_TRUE(back.rejected.empty() && back.file_errors.empty());
  EXPECT_EQ(back.records.size(), 3u);
}

TEST(Ack, AcceptedRejectedAndNone) {
  auto mapping = test::shipped_mapping("mappings/esr/ack.xml");
  InboundResult ok;
  ok.outcome = Outcome::applied;
  ok.records_read = ok.accepted = 14;
  EXPECT_EQ(**make_ack(ok, "A.DAT", kWhen, mapping), "ACK|A.DAT|ACCEPTED|14|14|0|20260802021502\n");

  InboundResult bad;
  bad.outcome = Outcome::rejected;
  bad.vpd = "245";
  bad.seq = 3;
  bad.records_read = 3;
  bad.rejected = 3;
  bad.file_errors.push_back(make_error(Errc::structure, "file.no_trailer", "no TRL record", Origin{"x", 4}));
  EXPECT_EQ(**make_ack(bad, "B.DAT", kWhen, mapping),
            "ACK|B.DAT|REJECTED|3|0|3|20260802021502\nERR|4|FILE|245:3|file.no_trailer|no TRL record\n");

  InboundResult held;
  held.outcome = Outcome::held;
  EXPECT_FALSE(*make_ack(held, "C.DAT", kWhen, mapping));
  // A duplicate: nothing of it applied, and why.
  InboundResult duplicate;
  duplicate.outcome = Outcome::duplicate;
  duplicate.vpd = "245";
  duplicate.seq = 1;
  duplicate.file_errors.push_back(make_error(Errc::structure, "file.duplicate_seq",
                                             "sequence 1 of VPD 245 was applied before as A.DAT", Origin{"x", 1}));
  EXPECT_EQ(**make_ack(duplicate, "D.DAT", kWhen, mapping),
            "ACK|D.DAT|REJECTED|0|0|0|20260802021502\nERR|1|FILE|245:1|file.duplicate_seq|sequence 1 of VPD 245 was "
            "applied before as A.DAT\n");
}

}  // namespace
}  // namespace esrsync::flow
