// OH -> ESR end to end with the real binary (issue #4, DOMAIN.md "OH -> ESR return" and
// "Acknowledgement"): OH exports are matched to the persons ESR sent, their events leave as DI_
// files with contiguous sequence numbers per VPD, records that cannot be matched wait in the
// reconciliation queue and reach no file, and ESR's ACK is read back: ERR lines become dead
// letters carrying ESR's message, and a retried change goes out again in the next file.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "esrsync/store/sqlite.hpp"
#include "support/sync_environment.hpp"

namespace esrsync {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class OhToEsr : public test::SyncEnvironment {
 protected:
  void SetUp() override {
    SyncEnvironment::SetUp();
    add_oh_flow();
  }
  // ESR's acknowledgement of one of our DI files.
  void esr_acks(const std::string& name, const std::string& body) {
    test::write_file(dir_ / "di-acks" / (name.substr(0, name.size() - 4) + ".ACK"), body);
  }
  std::size_t lines(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  }
};

TEST_F(OhToEsr, MatchedEventsLeaveAsDiFilesWithContiguousSequence) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop_oh("oh_export_20260805.csv");
  const auto first = sync();
  EXPECT_EQ(first.exit_code, 1) << first.err;  // the CSV has four bad records
  EXPECT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT"));
  const std::string di1 = test::read_file(dir_ / "di-out/DI_245_OHS_0000001.DAT");
  EXPECT_THAT(di1, ::testing::StartsWith("HDR|OHS-ESR|1.0|245|DELTA|1|"));
  EXPECT_THAT(di1, HasSubstr("\nTRL|6\n"));
  // Matched by person number, employee number (no person number given) and NHS number alone.
  EXPECT_THAT(di1, HasSubstr("IMM|A|10000001|OHR0000101|MMR_MEASLES|14189004|serology|IMMUNE|20260712||Positive|"
                             "SEROLOGY|OHP01\n"));
  EXPECT_THAT(di1, HasSubstr("IMM|A|10000004|OHR0000103|TB|"));
  EXPECT_THAT(di1, HasSubstr("IMM|A|10000002|OHR0000105|INFLUENZA|"));
  EXPECT_THAT(test::read_file(dir_ / "oh-acks/oh_export_20260805.ACK"),
              HasSubstr("ERR|9|immunisation|OHR0000107|lookup.unknown_code|"));

  // The second export: one record matched by NI + date of birth + surname folded ("OBRIEN"), one
  // by the scored comparison (surname misspelt), three held for review. Only the matched ones
  // leave, in the next sequence.
  drop_oh("oh_export_20260806.csv");
  const auto second = sync({"--json"});
  EXPECT_EQ(second.exit_code, 1);  // records held for review
  EXPECT_THAT(second.out, HasSubstr("\"held_for_review\": 3"));
  EXPECT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT", "DI_245_OHS_0000002.DAT"));
  const std::string di2 = test::read_file(dir_ / "di-out/DI_245_OHS_0000002.DAT");
  EXPECT_THAT(di2, ::testing::StartsWith("HDR|OHS-ESR|1.0|245|DELTA|2|"));
  EXPECT_THAT(di2, HasSubstr("IMM|A|10000001|OHR0000201|MMR_RUBELLA|"));
  EXPECT_THAT(di2, HasSubstr("IMM|A|10000003|OHR0000204|VARICELLA|"));
  EXPECT_EQ(lines(di2), 4u);
  for (const auto* held : {"OHR0000202", "OHR0000203", "OHR0000205"}) {
    EXPECT_THAT(di1 + di2, Not(HasSubstr(held)));
  }

  const auto recon = esrsync({"recon", "list", "--json"});
  EXPECT_EQ(recon.exit_code, 0) << recon.err;
  EXPECT_THAT(recon.out, HasSubstr("\"kind\": \"no_match\""));
  EXPECT_THAT(recon.out, HasSubstr("\"kind\": \"identifier_conflict\""));
  EXPECT_THAT(recon.out, HasSubstr("\"kind\": \"possible_match\""));  // day and month swapped, "Dan"
  EXPECT_THAT(recon.out, HasSubstr("\"source\": \"oh_export_20260806.csv:4\""));
  EXPECT_THAT(recon.out, Not(HasSubstr("Achterberg")));  // listings carry keys, not personal data
  const auto shown = esrsync({"recon", "show", "2"});
  EXPECT_THAT(shown.out, HasSubstr("\"rule\": \"match.identifier_conflict\""));
  EXPECT_THAT(shown.out, HasSubstr("\"person_number\": \"10000001\""));
  EXPECT_THAT(shown.out, HasSubstr("\"person_number\": \"10000004\""));
  EXPECT_EQ(esrsync({"recon", "show", "99"}).exit_code, 1);

  // Nothing new: no new file, nothing applied twice.
  drop_oh("oh_export_20260806.csv");
  const auto again = sync();
  EXPECT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT", "DI_245_OHS_0000002.DAT"));
  EXPECT_THAT(names("oh-processed"), ::testing::SizeIs(3));  // the repeat is a duplicate, moved aside
  EXPECT_THAT(esrsync({"recon", "list"}).out, HasSubstr("     3 possible_match"));  // still three items, not six
}

TEST_F(OhToEsr, ClearancesAndEventsShareOneDiSequence) {
  add_clearance_flow();
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop_oh("oh_clearances_20260805.csv");
  const auto first = sync();
  EXPECT_EQ(first.exit_code, 1);  // one unknown outcome
  EXPECT_THAT(first.err, HasSubstr("oh_clearances_20260805.csv:5: lookup.unknown_code"));
  ASSERT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT"));
  const std::string di1 = test::read_file(dir_ / "di-out/DI_245_OHS_0000001.DAT");
  EXPECT_THAT(di1, HasSubstr("CLR|A|10000001|10000001-1|EPP|CLEARED|20260730|20270730|OHP01\n"));
  EXPECT_THAT(di1, HasSubstr("CLR|A|10000004|10000004-1|STANDARD|PENDING|20260801||OHP01\n"));  // by employee no.
  EXPECT_THAT(di1, HasSubstr("CLR|A|10000002|10000002-1|STANDARD|CLEARED_WITH_ADJUSTMENTS|"));
  EXPECT_THAT(di1, HasSubstr("\nTRL|3\n"));
  // `queue list` keeps its columns in line whatever the keys' length (a clearance's key is long):
  // with no last error, every row ends where the header's "attempts" column ends.
  const std::string list = esrsync({"queue", "list"}).out;
  std::vector<std::string> lines;
  for (std::size_t at = 0, end; (end = list.find('\n', at)) != std::string::npos; at = end + 1)
    lines.push_back(list.substr(at, end - at));
  ASSERT_EQ(lines.size(), 5u) << list;  // the header, the batch of 14 changes to OH, 3 clearances
  EXPECT_THAT(list, HasSubstr("10000004-1:STANDARD:OHP01"));
  const std::size_t width = lines[0].find("attempts") + std::string("attempts  ").size();
  for (std::size_t i = 1; i < lines.size(); ++i)
    EXPECT_EQ(lines[i].size(), width) << list;
  // Events from the other flow continue the same sequence.
  drop_oh("oh_export_20260805.csv");
  sync();
  EXPECT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT", "DI_245_OHS_0000002.DAT"));
  EXPECT_THAT(test::read_file(dir_ / "di-out/DI_245_OHS_0000002.DAT"), HasSubstr("|DELTA|2|"));
  // A clearance for somebody else's assignment is held, not sent.
  test::write_file(dir_ / "oh-inbox/oh_clearances_20260901.csv",
                   "Provider,Staff ID,Person Number,Surname,Forename(s),Date of Birth,NHS Number,Assignment,Clearance,"
                   "Outcome,Decided,Review By\nOHP01,,10000001,O'Brien,Siobhan,14/03/1988,,10000002-1,Standard,Fit,"
                   "01/09/2026,\n");
  sync();
  EXPECT_EQ(names("di-out").size(), 2u);
  EXPECT_THAT(esrsync({"recon", "list", "--json"}).out, HasSubstr("\"rule\": \"clearance.assignment\""));
}

TEST_F(OhToEsr, AHeldRecordReachesNoSinkUntilResolvedAndThenExactlyOnce) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop_oh("oh_export_20260806.csv");
  sync();
  ASSERT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT"));
  EXPECT_THAT(test::read_file(dir_ / "di-out/DI_245_OHS_0000001.DAT"), Not(HasSubstr("OHR0000205")));
  // Still held after more runs.
  sync();
  EXPECT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT"));

  // Item 3 is the possible match (day and month swapped). Resolving needs a person and a reason.
  EXPECT_EQ(esrsync({"recon", "resolve", "3", "--reason", "x"}).exit_code, 1);
  EXPECT_THAT(esrsync({"recon", "resolve", "3", "--person", "99999999", "--reason", "x"}).err,
              HasSubstr("recon.unknown_person"));
  const auto resolved =
      esrsync({"recon", "resolve", "3", "--person", "10000002", "--reason", "DOB typed US-style", "--by", "OH admin"});
  EXPECT_EQ(resolved.exit_code, 0) << resolved.err;
  EXPECT_THAT(resolved.out, HasSubstr("applied to person 10000002; 1 change(s) queued"));
  EXPECT_EQ(esrsync({"recon", "resolve", "3", "--person", "10000002", "--reason", "again"}).exit_code, 1);

  sync();
  ASSERT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT", "DI_245_OHS_0000002.DAT"));
  const std::string di2 = test::read_file(dir_ / "di-out/DI_245_OHS_0000002.DAT");
  EXPECT_THAT(di2, HasSubstr("IMM|A|10000002|OHR0000205|MMR_MUMPS|"));
  EXPECT_EQ(lines(di2), 3u);
  sync();
  EXPECT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT", "DI_245_OHS_0000002.DAT"));  // once

  // A dismissed item is closed and its record never leaves.
  EXPECT_EQ(esrsync({"recon", "dismiss", "1", "--reason", "not one of ours"}).exit_code, 0);
  sync();
  EXPECT_EQ(names("di-out").size(), 2u);
  const auto history = esrsync({"recon", "history", "--key", "OHP01:OHR0000205", "--json"});
  EXPECT_THAT(history.out, HasSubstr("\"rule\": \"match.possible\""));
  EXPECT_THAT(history.out, HasSubstr("\"actor\": \"OH admin\""));
  EXPECT_THAT(history.out, HasSubstr("\"reason\": \"DOB typed US-style\""));
  const auto all = esrsync({"recon", "list", "--state", "all", "--json"});
  EXPECT_THAT(all.out, HasSubstr("\"state\": \"dismissed\""));
  EXPECT_THAT(all.out, HasSubstr("\"decided_by\": \"OH admin\""));
}

TEST_F(OhToEsr, EsrAckErrLinesBecomeDeadLettersAndARetryLeavesInTheNextFile) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop_oh("oh_export_20260805.csv");
  sync();
  ASSERT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT"));
  // ESR refuses the record on line 3 (OHR0000102).
  esr_acks("DI_245_OHS_0000001.DAT",
           "ACK|DI_245_OHS_0000001.DAT|PARTIAL|6|5|1|20260806010203\n"
           "ERR|3|IMM|OHR0000102|result.range|titre not accepted\n");
  const auto r = sync({"--json"});
  EXPECT_THAT(r.out, HasSubstr("\"refused\": 1"));
  EXPECT_TRUE(names("di-acks").empty());  // read, kept in the store, removed
  const auto dead = esrsync({"queue", "list", "--state", "dead", "--json"});
  EXPECT_THAT(dead.out, HasSubstr("\"key\": \"OHP01:OHR0000102\""));
  EXPECT_THAT(dead.out, HasSubstr("ESR result.range: titre not accepted"));
  EXPECT_EQ(std::count(dead.out.begin(), dead.out.end(), '{'), 1);
  EXPECT_THAT(esrsync({"status"}).out, HasSubstr("DI_245_OHS_0000001.DAT (VPD 245, sequence 1): partial"));

  // Fixed on the OH side; the operator sends it again: it leaves in sequence 2, alone.
  EXPECT_EQ(esrsync({"queue", "retry", "--all"}).exit_code, 0);
  EXPECT_EQ(sync().exit_code, 0);
  ASSERT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT", "DI_245_OHS_0000002.DAT"));
  const std::string di2 = test::read_file(dir_ / "di-out/DI_245_OHS_0000002.DAT");
  EXPECT_THAT(di2, HasSubstr("IMM|A|10000001|OHR0000102|HEPB|"));
  EXPECT_EQ(lines(di2), 3u);

  // A REJECTED file without ERR lines: every change in it is a dead letter.
  esr_acks("DI_245_OHS_0000002.DAT", "ACK|DI_245_OHS_0000002.DAT|REJECTED|1|0|1|20260807010203\n");
  const auto rejected = sync({"--json"});
  EXPECT_THAT(rejected.out, HasSubstr("\"refused\": 1"));
  EXPECT_THAT(esrsync({"queue", "list", "--state", "dead"}).out, HasSubstr("ESR rejected the file"));
}

TEST_F(OhToEsr, RetentionKeepsChangesWhoseFileIsNotAcknowledgedYet) {
  std::string config = test::read_file(dir_ / "esrsync.toml");
  config.replace(config.find("path = \"state/esrsync.db\""), 25,
                 "path = \"state/esrsync.db\"\nkeep_delivered_days = 0");
  test::write_file(dir_ / "esrsync.toml", config);
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop_oh("oh_export_20260805.csv");
  sync();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sync();  // every delivered change is past retention now, but DI 1 awaits ESR's ACK
  esr_acks("DI_245_OHS_0000001.DAT",
           "ACK|DI_245_OHS_0000001.DAT|PARTIAL|6|5|1|20260806010203\nERR|3|IMM|OHR0000102|x|refused\n");
  const auto r = sync({"--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // a dead letter now waits for an operator
  EXPECT_THAT(r.out, HasSubstr("\"refused\": 1"));
  // Acknowledged now: at the end of the same run the file's five accepted changes are purged,
  // the refused one is kept as a dead letter.
  EXPECT_THAT(r.out, HasSubstr("\"purged_delivered\": 5"));
  EXPECT_THAT(esrsync({"queue", "list", "--state", "dead"}).out, HasSubstr("OHP01:OHR0000102"));
}

TEST_F(OhToEsr, AnAckThatIsNotOursOrNotReadableIsLeftAndReported) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop_oh("oh_export_20260805.csv");
  sync();
  esr_acks("DI_245_OHS_0000042.DAT", "ACK|DI_245_OHS_0000042.DAT|ACCEPTED|1|1|0|20260806010203\n");
  test::write_file(dir_ / "di-acks/garbage.ACK", "not an ack\n");
  test::write_file(dir_ / "di-acks/huge.ACK", std::string((16U << 20U) + 1, 'A'));
  // Ours, but an ERR line cannot be read: applying the rest would lose that refusal.
  esr_acks("DI_245_OHS_0000001.DAT",
           "ACK|DI_245_OHS_0000001.DAT|PARTIAL|6|5|1|20260806010203\nERR|three|IMM|OHR0000102|x|y\n");
  const auto r = sync();
  EXPECT_THAT(r.err, HasSubstr("which this sink did not send"));
  EXPECT_THAT(r.err, HasSubstr("DI_245_OHS_0000001.ACK: not a readable acknowledgement"));
  EXPECT_THAT(r.err, HasSubstr("huge.ACK: not a readable acknowledgement (over 16777216 bytes)"));
  EXPECT_THAT(names("di-acks"),
              ElementsAre("DI_245_OHS_0000001.ACK", "DI_245_OHS_0000042.ACK", "garbage.ACK", "huge.ACK"));
  EXPECT_THAT(esrsync({"queue", "list", "--state", "dead"}).out, Not(HasSubstr("esr-return")));
}

TEST_F(OhToEsr, AnAckForAFileWrittenJustBeforeACrashStillCounts) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop_oh("oh_export_20260805.csv");
  sync();
  // As if the process died after writing DI 1 and before recording it as sent.
  {
    auto db = store::SqliteDb::open((dir_ / "state/esrsync.db").string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(
        db->exec("UPDATE outbound_file SET state = 'pending'; UPDATE outbox SET state = 'pending', "
                 "settled_ms = NULL WHERE sink = 'esr-return'"));
  }
  // ESR got the file anyway and refuses line 2.
  esr_acks("DI_245_OHS_0000001.DAT",
           "ACK|DI_245_OHS_0000001.DAT|PARTIAL|6|5|1|20260806010203\nERR|2|IMM|OHR0000101|bad|no\n");
  const auto r = sync({"--json"});
  EXPECT_THAT(r.out, HasSubstr("\"refused\": 1"));
  EXPECT_THAT(esrsync({"queue", "list", "--state", "dead"}).out, HasSubstr("OHP01:OHR0000101"));
  EXPECT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT"));  // not written a second time
  EXPECT_THAT(esrsync({"queue", "list", "--state", "pending"}).out, Not(HasSubstr("esr-return")));
}

TEST_F(OhToEsr, AnUnwritableSinkNeverSkipsOrReusesASequence) {
  add_sink_keys("max_attempts = 1\n");
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop_oh("oh_export_20260805.csv");
  // Something in the way of the first file's temp name: the write fails, as a full disk would.
  fs::create_directories(dir_ / "di-out/DI_245_OHS_0000001.DAT.part");
  const auto failed = sync({"--json"});
  EXPECT_THAT(failed.out, HasSubstr("Is a directory"));
  EXPECT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT.part"));
  const auto dead = esrsync({"queue", "list", "--state", "dead", "--json"});
  EXPECT_EQ(std::count(dead.out.begin(), dead.out.end(), '{'), 6);

  // More results arrive meanwhile: they wait behind sequence 1 instead of taking sequence 2 first.
  drop_oh("oh_export_20260806.csv");
  const auto waiting = sync();
  EXPECT_THAT(waiting.err, HasSubstr("DI_245_OHS_0000001.DAT waits"));
  EXPECT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT.part"));

  fs::remove_all(dir_ / "di-out/DI_245_OHS_0000001.DAT.part");
  EXPECT_EQ(esrsync({"queue", "retry", "--all"}).exit_code, 0);
  sync();
  EXPECT_THAT(names("di-out"), ElementsAre("DI_245_OHS_0000001.DAT", "DI_245_OHS_0000002.DAT"));
  EXPECT_EQ(lines(test::read_file(dir_ / "di-out/DI_245_OHS_0000001.DAT")), 8u);  // HDR, 6 events, TRL
  EXPECT_THAT(test::read_file(dir_ / "di-out/DI_245_OHS_0000002.DAT"), HasSubstr("|2|"));
  EXPECT_THAT(esrsync({"queue", "list", "--state", "pending"}).out, Not(HasSubstr("esr-return")));
}

}  // namespace
}  // namespace esrsync
