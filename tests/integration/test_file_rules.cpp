// DOMAIN.md "File-level rules", one test per row, end to end: synthetic extracts written by the
// test into a real inbox, the real `esrsync sync --once`, and for each the ACK, the store's records,
// where the file went and what reached the sink.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "esrsync/core/clock.hpp"
#include "esrsync/store/record_store.hpp"
#include "esrsync/store/sqlite.hpp"
#include "support/capture.hpp"
#include "support/sync_environment.hpp"

namespace esrsync {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A synthetic person (no real people): the NI number and names are made from the person number.
std::string per(const std::string& pn, const std::string& surname = "Testperson", char action = 'A') {
  return std::string("PER|") + action + "|" + pn + "|E" + pn + "|AB" + pn.substr(2) + "C||Ms|" + surname +
         "|Ann||19880314|F|||LS1 4AP|Y\n";
}

std::string asg(const std::string& pn) {
  return "ASG|A|" + pn + "|" + pn + "-1|RR8|Staff Nurse|Nursing|N0A|Theatres|Site A|20240115||N|Y|N|Band 5|Y\n";
}

std::string header(const std::string& type, int seq, const std::string& interface = "ESR-OHS",
                   const std::string& version = "1.0", const std::string& vpd = "245") {
  return "HDR|" + interface + "|" + version + "|" + vpd + "|" + type + "|" + std::to_string(seq) + "|20260801020000\n";
}

std::string name_of(int seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "DE_245_OHS_20260801_%07d.DAT", seq);
  return buf;
}

class FileRules : public test::SyncEnvironment {
 protected:
  // Writes an extract into the inbox: its header, its records and a TRL counting them (or `trailer`).
  void put(const std::string& name, const std::string& head, const std::string& records, int count = -1) {
    const int n = static_cast<int>(std::count(records.begin(), records.end(), '\n'));
    test::write_file(dir_ / "inbox" / name, head + records + "TRL|" + std::to_string(count < 0 ? n : count) + "\n");
  }
  std::string ack(const std::string& file) {
    return test::read_file(dir_ / "acks" / (file.substr(0, file.size() - 4) + ".ACK"));
  }
  // The live (not withdrawn) records of an entity in the store.
  std::int64_t live(const std::string& entity) {
    auto db = store::SqliteDb::open((dir_ / "state/esrsync.db").string());
    EXPECT_TRUE(db) << db.error().to_string();
    auto q = db->prepare("SELECT count(*) FROM current_record WHERE entity = ?1 AND withdrawn = 0");
    EXPECT_TRUE(q);
    EXPECT_TRUE(q->bind(1, std::string_view(entity)));
    EXPECT_TRUE(*q->step());
    return q->column_int64(0);
  }
  std::string payload(const std::string& entity, const std::string& key) {
    auto db = store::SqliteDb::open((dir_ / "state/esrsync.db").string());
    const SystemClock clock;
    store::RecordStore records(*db, clock);
    auto r = records.get(entity, key);
    EXPECT_TRUE(r && *r) << entity << " " << key;
    return (r && *r) ? (*r)->payload : std::string();
  }
  std::size_t delivered_lines() {
    const auto text = outbox_text();
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }
  // Applies a good FULL (sequence 1: two persons, one assignment) to start from.
  void start() {
    put(name_of(1), header("FULL", 1), per("10000001") + asg("10000001") + per("10000002"));
    const auto r = sync();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_EQ(delivered_lines(), 3u);
  }
};

// "TRL count ≠ records read, or no TRL (truncated transfer): whole file REJECTED, nothing applied,
// file quarantined, ACK written."
TEST_F(FileRules, TrailerCountWrongOrMissingRejectsTheWholeFile) {
  start();
  put(name_of(2), header("DELTA", 2), per("10000003") + per("10000004"), 3);
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(ack(name_of(2)), StartsWith("ACK|" + name_of(2) + "|REJECTED|2|0|2|"));
  EXPECT_THAT(ack(name_of(2)), HasSubstr("|file.trailer_count|TRL says 3 records, the file has 2"));
  EXPECT_THAT(names("quarantine"), ElementsAre(name_of(2), name_of(2) + ".reason"));
  EXPECT_EQ(live("person"), 2);
  EXPECT_EQ(delivered_lines(), 3u);

  // Cut off in a record, before its TRL: the same.
  reset_store();
  start();
  test::write_file(dir_ / "inbox" / name_of(3), header("DELTA", 2) + per("10000003") + per("10000004").substr(0, 20));
  const auto cut = sync();
  EXPECT_EQ(cut.exit_code, 1);
  EXPECT_THAT(ack(name_of(3)), StartsWith("ACK|" + name_of(3) + "|REJECTED|"));
  EXPECT_THAT(ack(name_of(3)), HasSubstr("file.no_trailer"));
  EXPECT_THAT(names("quarantine"), ElementsAre(name_of(3), name_of(3) + ".reason"));
  EXPECT_EQ(live("person"), 2);
  EXPECT_EQ(delivered_lines(), 3u);
}

// "bad HDR (wrong interface, VPD not configured, unknown version): REJECTED, quarantined."
TEST_F(FileRules, BadHeaderRejectsAndQuarantines) {
  start();
  put(name_of(2), header("DELTA", 2, "OHS-ESR"), per("10000003"));
  put(name_of(3), header("DELTA", 2, "ESR-OHS", "9.9"), per("10000004"));
  put("DE_999_OHS_20260801_0000002.DAT", header("DELTA", 2, "ESR-OHS", "1.0", "999"), per("10000005"));
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 1);
  for (const auto& f : {name_of(2), name_of(3), std::string("DE_999_OHS_20260801_0000002.DAT")}) {
    EXPECT_THAT(ack(f), StartsWith("ACK|" + f + "|REJECTED|")) << f;
    EXPECT_TRUE(fs::exists(dir_ / "quarantine" / f)) << f;
    EXPECT_TRUE(fs::exists(dir_ / "quarantine" / (f + ".reason"))) << f;
  }
  // Each says which header field is wrong and why.
  EXPECT_THAT(ack(name_of(2)),
              HasSubstr("\nERR|1|FILE||header.unexpected_value|'OHS-ESR' where the interface requires 'ESR-OHS' "
                        "[interface]\n"));
  EXPECT_THAT(ack(name_of(3)),
              HasSubstr("\nERR|1|FILE||header.unexpected_value|'9.9' where the interface requires '1.0' [version]\n"));
  EXPECT_THAT(ack("DE_999_OHS_20260801_0000002.DAT"),
              HasSubstr("\nERR|1|FILE|999:2|header.vpd|VPD 999 is not configured for this installation\n"));
  EXPECT_TRUE(names("inbox").empty());
  EXPECT_EQ(live("person"), 2);
  EXPECT_EQ(delivered_lines(), 3u);
}

// "same file content seen before (checksum) or same (vpd, seq) already applied: skipped, nothing
// applied twice, logged."
TEST_F(FileRules, SameContentOrSameSequenceAgainIsSkipped) {
  start();
  // The same bytes under another name, and other content with the sequence already applied.
  fs::copy_file(dir_ / "processed" / name_of(1), dir_ / "inbox" / "DE_245_OHS_20260802_0000001.DAT");
  const auto same = sync({"--json"});
  EXPECT_EQ(same.exit_code, 0) << same.out;
  EXPECT_THAT(same.out, HasSubstr("\"outcome\": \"duplicate\""));
  EXPECT_THAT(same.out, HasSubstr("file.duplicate_content"));
  // Its own ACK: nothing of this file was applied, and why.
  EXPECT_THAT(ack("DE_245_OHS_20260802_0000001.DAT"),
              StartsWith("ACK|DE_245_OHS_20260802_0000001.DAT|REJECTED|0|0|0|"));
  EXPECT_THAT(ack("DE_245_OHS_20260802_0000001.DAT"),
              HasSubstr("|file.duplicate_content|the same content was applied before as " + name_of(1)));

  put(name_of(9), header("DELTA", 1), per("10000001", "Changed", 'C'));
  const auto seq = sync({"--json"});
  EXPECT_EQ(seq.exit_code, 0) << seq.out;
  EXPECT_THAT(seq.out, HasSubstr("\"outcome\": \"duplicate\""));
  EXPECT_THAT(seq.out, HasSubstr("file.duplicate_seq"));
  EXPECT_THAT(ack(name_of(9)), StartsWith("ACK|" + name_of(9) + "|REJECTED|0|0|0|"));
  EXPECT_THAT(ack(name_of(9)),
              HasSubstr("|file.duplicate_seq|sequence 1 of VPD 245 was applied before as " + name_of(1)));

  // The same file again under its own name, its ACK gone (taken by the sender, or never written
  // because of a crash): its first ACK is written again, not a rejection.
  const std::string first_ack = ack(name_of(1));
  fs::remove(dir_ / "acks" / "DE_245_OHS_20260801_0000001.ACK");
  fs::copy_file(dir_ / "processed" / name_of(1), dir_ / "inbox" / name_of(1));
  EXPECT_EQ(sync().exit_code, 0);
  EXPECT_EQ(ack(name_of(1)), first_ack);
  EXPECT_THAT(first_ack, StartsWith("ACK|" + name_of(1) + "|ACCEPTED|3|3|0|"));

  EXPECT_THAT(payload("person", "10000001"), Not(HasSubstr("Changed")));
  EXPECT_EQ(live("person"), 2);
  EXPECT_EQ(delivered_lines(), 3u);
  EXPECT_TRUE(names("inbox").empty());
  EXPECT_TRUE(names("quarantine").empty());
}

// "seq lower than the last applied for that VPD: REJECTED as out of order."
TEST_F(FileRules, ALowerSequenceIsRejectedAsOutOfOrder) {
  put(name_of(5), header("FULL", 5), per("10000001"));
  ASSERT_EQ(sync().exit_code, 0);
  put(name_of(4), header("DELTA", 4), per("10000009"));
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(ack(name_of(4)), StartsWith("ACK|" + name_of(4) + "|REJECTED|"));
  EXPECT_THAT(ack(name_of(4)), HasSubstr("|file.out_of_order|sequence 4 is lower than 5"));
  EXPECT_THAT(names("quarantine"), ElementsAre(name_of(4), name_of(4) + ".reason"));
  EXPECT_EQ(live("person"), 1);
  EXPECT_EQ(delivered_lines(), 1u);
}

// "seq skips ahead (gap): held: not applied until the missing file arrives or an operator releases
// it; alert raised."
TEST_F(FileRules, AGapIsHeldUntilTheMissingFileArrives) {
  start();
  put(name_of(3), header("DELTA", 3), per("10000001", "Third", 'C'));
  const auto held = sync();
  EXPECT_EQ(held.exit_code, 1);
  EXPECT_THAT(held.out, HasSubstr("held"));
  EXPECT_THAT(held.err, HasSubstr("file.sequence_gap"));  // the alert, on the log
  EXPECT_THAT(names("inbox"), ElementsAre(name_of(3)));
  EXPECT_FALSE(fs::exists(dir_ / "acks" / "DE_245_OHS_20260801_0000003.ACK"));
  EXPECT_THAT(payload("person", "10000001"), Not(HasSubstr("Third")));
  EXPECT_THAT(esrsync({"status"}).out, HasSubstr("held files: 1"));

  // Sequence 2 arrives: both applied, in order, so 3's change is the one that stays.
  put(name_of(2), header("DELTA", 2), per("10000001", "Second", 'C'));
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(ack(name_of(2)), StartsWith("ACK|" + name_of(2) + "|ACCEPTED|1|1|0|"));
  EXPECT_THAT(ack(name_of(3)), StartsWith("ACK|" + name_of(3) + "|ACCEPTED|1|1|0|"));
  EXPECT_THAT(payload("person", "10000001"), HasSubstr("Third"));
  EXPECT_TRUE(names("inbox").empty());
  EXPECT_EQ(delivered_lines(), 5u);
  const auto text = outbox_text();
  EXPECT_LT(text.find("Second"), text.find("Third"));
}

// "one bad record (invalid NI, bad date, unknown code): that record rejected with an ERR line; the
// rest applied; ACK PARTIAL."
TEST_F(FileRules, ABadRecordIsRejectedAloneAndTheRestApplied) {
  start();
  std::string bad_ni = per("10000003");
  bad_ni.replace(bad_ni.find("AB000003C"), 9, "QQ123456C");
  std::string bad_date = per("10000004");
  bad_date.replace(bad_date.find("19880314"), 8, "19880231");
  put(name_of(2), header("DELTA", 2), bad_ni + per("10000005") + bad_date);
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 1);
  const auto text = ack(name_of(2));
  EXPECT_THAT(text, StartsWith("ACK|" + name_of(2) + "|PARTIAL|3|1|2|"));
  EXPECT_THAT(text, HasSubstr("\nERR|2|PER|10000003|ni_number.prefix|"));
  EXPECT_THAT(text, HasSubstr("\nERR|4|PER|10000004|date.calendar|"));
  EXPECT_EQ(live("person"), 3);
  EXPECT_THAT(names("processed"), ElementsAre(name_of(1), name_of(2)));
  EXPECT_EQ(delivered_lines(), 4u);
  EXPECT_THAT(outbox_text(), HasSubstr("\"key\":\"10000005\""));
}

// "the same key twice in one file: last one wins, and a warning is logged."
TEST_F(FileRules, TheSameKeyTwiceTheLastOneWinsWithAWarning) {
  start();
  put(name_of(2), header("DELTA", 2),
      per("10000001", "Earlier", 'C') + per("10000003") + per("10000001", "Later", 'C'));
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(ack(name_of(2)), StartsWith("ACK|" + name_of(2) + "|ACCEPTED|3|3|0|"));
  EXPECT_THAT(payload("person", "10000001"), HasSubstr("Later"));
  EXPECT_THAT(r.err, HasSubstr("warning: "));
  EXPECT_THAT(r.err, HasSubstr(name_of(2) + ": record.repeated_key: person 10000001 came more than once"));
  // The sink sees the changes in the file's order, so it ends with the last one too.
  const auto text = outbox_text();
  EXPECT_LT(text.find("Earlier"), text.find("Later"));
  EXPECT_EQ(live("person"), 3);

  const auto json = sync({"--json"});
  EXPECT_THAT(json.out, Not(HasSubstr("repeated_key")));  // nothing new: no warning
}

// Not a row of the table, but its FULL semantics ("known before and absent from a FULL ... is
// treated as withdrawn"): a FULL that would withdraw most of its VPD — an extract cut short
// upstream still has a good HDR and TRL — is held, nothing applied, until an operator releases it.
TEST_F(FileRules, AFullThatWouldWithdrawMostOfItsVpdIsHeldUntilReleased) {
  std::string all;
  for (int i = 1; i <= 150; ++i)
    all += per(std::to_string(10000000 + i));
  put(name_of(1), header("FULL", 1), all);
  ASSERT_EQ(sync().exit_code, 0);
  put(name_of(2), header("FULL", 2), per("10000001") + per("10000002"));
  const auto held = sync();
  EXPECT_EQ(held.exit_code, 1);
  EXPECT_THAT(held.err, HasSubstr("file.mass_withdrawal: this FULL would withdraw 148 of the 150 persons and "
                                  "assignments VPD 245 has live (98 %, over the limit of 10 %)"));
  EXPECT_THAT(names("inbox"), ElementsAre(name_of(2)));
  EXPECT_FALSE(fs::exists(dir_ / "acks" / "DE_245_OHS_20260801_0000002.ACK"));
  EXPECT_EQ(live("person"), 150);
  EXPECT_EQ(delivered_lines(), 150u);
  // status says which file waits, and why.
  EXPECT_THAT(esrsync({"status"}).out,
              HasSubstr("held files: 1\n  " + name_of(2) + " (VPD 245, sequence 2): file.mass_withdrawal: this FULL"));
  EXPECT_EQ(sync().exit_code, 1);  // still held
  EXPECT_EQ(live("person"), 150);
  // A DELTA after it waits for it, and says so.
  put(name_of(3), header("DELTA", 3), per("10000001", "Later", 'C'));
  const auto behind = sync();
  EXPECT_EQ(behind.exit_code, 1);
  EXPECT_THAT(behind.err, HasSubstr("sequence 3 follows 1: held until sequence 2 (" + name_of(2) +
                                    ", held itself: file.mass_withdrawal) is applied or an operator releases it"));
  EXPECT_THAT(names("inbox"), ElementsAre(name_of(2), name_of(3)));

  const auto released = esrsync({"release-gap", "--vpd", "245", "--seq", "2", "--by", "integration lead"});
  EXPECT_EQ(released.exit_code, 0) << released.err;
  EXPECT_THAT(released.out, HasSubstr("will be applied by the next sync despite what it withdraws"));
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(ack(name_of(2)), StartsWith("ACK|" + name_of(2) + "|ACCEPTED|2|2|0|"));
  EXPECT_THAT(ack(name_of(3)), StartsWith("ACK|" + name_of(3) + "|ACCEPTED|1|1|0|"));
  EXPECT_EQ(live("person"), 2);
  EXPECT_THAT(payload("person", "10000001"), HasSubstr("Later"));
  EXPECT_EQ(delivered_lines(), 299u);  // 148 withdrawals, then the DELTA's change
  EXPECT_TRUE(names("inbox").empty());
}

// Not a row of the table: DOMAIN.md names an extract DE_<VPD>_OHS_<YYYYMMDD>_<SEQ7>.DAT. When the
// name gives another sequence or VPD than the header, the header decides (the interface's own
// record), and the difference is a warning on stderr and in --json, never silent.
TEST_F(FileRules, ANameThatDisagreesWithItsHeaderIsAppliedByTheHeaderWithAWarning) {
  start();
  put("DE_245_OHS_20260802_0000007.DAT", header("DELTA", 2), per("10000003"));
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: DE_245_OHS_20260802_0000007.DAT:1: file.name_mismatch: the name says VPD "
                               "245, sequence 7 but the header VPD 245, sequence 2; the header's are used"));
  EXPECT_THAT(ack("DE_245_OHS_20260802_0000007.DAT"),
              StartsWith("ACK|DE_245_OHS_20260802_0000007.DAT|ACCEPTED|1|1|0|"));
  EXPECT_EQ(live("person"), 3);
  // Sequence 3 follows it (the header's 2), no gap; its name agrees: no warning.
  put(name_of(3), header("DELTA", 3), per("10000004"));
  const auto next = sync({"--json"});
  EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
  EXPECT_THAT(next.out, HasSubstr("\"warnings\": []"));
  EXPECT_EQ(live("person"), 4);
  // A name of another shape (the source's pattern, DE_*.DAT, lets it in) is not read.
  put("DE_245_0000009.DAT", header("DELTA", 4), per("10000005"));
  const auto other = sync();
  EXPECT_EQ(other.exit_code, 0) << other.out << other.err;
  EXPECT_THAT(other.err, Not(HasSubstr("name_mismatch")));
  EXPECT_EQ(live("person"), 5);
}

}  // namespace
}  // namespace esrsync
