// One test per row of DOMAIN.md's file-level rules table that the inbound step owns, on real files
// in a temp directory, the shipped DE mapping and a real SQLite store: what is applied, what is
// queued for the sinks, what the ledger says, and that a bad file changes nothing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "esrsync/flow/inbound.hpp"
#include "esrsync/store/payload.hpp"
#include "esrsync/store/person_index.hpp"
#include "esrsync/store/schema.hpp"
#include "support/capture.hpp"
#include "support/decode.hpp"
#include "support/store.hpp"

namespace esrsync::flow {
namespace {

using ::testing::ElementsAre;

const std::string kSamples = std::string(ESRSYNC_SOURCE_DIR) + "/sample-data/esr/";

std::string per(const std::string& number, const std::string& surname = "Okafor", char action = 'A') {
  return std::string("PER|") + action + "|" + number + "|E" + number + "|AB123456C||Dr|" + surname +
         "|Ada||19880314|F|a@example.nhs.uk|07700900001|LS1 4AP|Y\n";
}
std::string asg(const std::string& number, const std::string& end = "", char action = 'A') {
  return std::string("ASG|") + action + "|" + number + "|" + number +
         "-1|RR8|Registrar|Medical and Dental|M03|Paeds|LGI|20260806|" + end + "|Y|Y|Y|ST4|Y\n";
}
std::string file(const std::string& type, int seq, const std::string& body, const std::string& vpd = "245") {
  const auto lines = static_cast<int>(std::count(body.begin(), body.end(), '\n'));
  return "HDR|ESR-OHS|1.0|" + vpd + "|" + type + "|" + std::to_string(seq) + "|20260801020000\n" + body + "TRL|" +
         std::to_string(lines) + "\n";
}

class Inbound : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::open_migrated_store(dir_ / "esrsync.db");
    ASSERT_TRUE(db_);
    records_.emplace(*db_, clock_);
    ledger_.emplace(*db_, clock_);
    outbox_.emplace(*db_, store::RetryPolicy{}, clock_, 1);
  }

  InboundResult run(const std::string& name, const std::string& content, bool allow_gaps = false) {
    const auto path = dir_ / name;
    test::write_file(path, content);
    return run_path(path.string(), allow_gaps);
  }
  InboundResult run_path(const std::string& path, bool allow_gaps = false) {
    InboundContext ctx{*db_, *records_, *ledger_, *outbox_, *mapping_, {"245"}, {"oh-dir"}, {2026, 9, 1}, allow_gaps};
    ctx.withdraw_limit_percent = withdraw_limit_percent_;
    auto r = apply_inbound_file(path, ctx);
    EXPECT_TRUE(r) << r.error().to_string();
    return std::move(*r);
  }
  std::size_t queued() { return outbox_->list(std::nullopt, 100000)->size(); }
  std::vector<std::string> rules(const InboundResult& r) {
    std::vector<std::string> out;
    for (const auto& e : r.file_errors)
      out.push_back(e.rule);
    return out;
  }

  int withdraw_limit_percent_ = 10;  // the configuration's default
  test::TempDir dir_;
  ManualClock clock_;
  std::shared_ptr<const mapping::Mapping> mapping_ = test::shipped_mapping("mappings/esr/de_extract.xml");
  std::optional<store::SqliteDb> db_;
  std::optional<store::RecordStore> records_;
  std::optional<store::FileLedger> ledger_;
  std::optional<store::Outbox> outbox_;
};

TEST_F(Inbound, FullSampleIsAppliedAndQueued) {
  const auto r = run_path(kSamples + "DE_245_OHS_20260801_0000001.DAT");
  EXPECT_EQ(r.outcome, Outcome::applied);
  EXPECT_EQ(r.records_read, 14u);
  EXPECT_EQ(r.inserted, 14u);
  EXPECT_EQ(r.queued, 14u);
  EXPECT_EQ(queued(), 14u);
  auto person = **records_->get("person", "10000003");
  EXPECT_THAT(person.payload, ::testing::HasSubstr("\"forenames\":\"Zoë Anna\""));
  auto assignment = **records_->get("assignment", "10000003-2");
  EXPECT_THAT(assignment.payload, ::testing::HasSubstr("\"vpd\":\"245\""));
  EXPECT_EQ((*ledger_->recent(1))[0].status, store::FileStatus::applied);
}

TEST_F(Inbound, SameContentTwiceIsSkipped) {
  run_path(kSamples + "DE_245_OHS_20260801_0000001.DAT");
  const auto again = run_path(kSamples + "DE_245_OHS_20260801_0000001.DAT");
  EXPECT_EQ(again.outcome, Outcome::duplicate);
  EXPECT_THAT(rules(again), ElementsAre("file.duplicate_content"));
  EXPECT_EQ(queued(), 14u);  // nothing applied twice
}

TEST_F(Inbound, SameSequenceWithOtherContentIsSkipped) {
  run("a.DAT", file("DELTA", 1, per("10000001")));
  const auto r = run("b.DAT", file("DELTA", 1, per("10000002")));
  EXPECT_EQ(r.outcome, Outcome::duplicate);
  EXPECT_THAT(rules(r), ElementsAre("file.duplicate_seq"));
  EXPECT_FALSE(*records_->get("person", "10000002"));
}

TEST_F(Inbound, LowerSequenceIsRejectedAsOutOfOrder) {
  run("a.DAT", file("DELTA", 5, per("10000001")));
  const auto r = run("b.DAT", file("DELTA", 4, per("10000002")));
  EXPECT_EQ(r.outcome, Outcome::rejected);
  EXPECT_THAT(rules(r), ElementsAre("file.out_of_order"));
  EXPECT_FALSE(*records_->get("person", "10000002"));
}

TEST_F(Inbound, GapIsHeldUntilReleased) {
  run("a.DAT", file("DELTA", 1, per("10000001")));
  const auto held = run("c.DAT", file("DELTA", 3, per("10000003")));
  EXPECT_EQ(held.outcome, Outcome::held);
  EXPECT_THAT(rules(held), ElementsAre("file.sequence_gap"));
  EXPECT_FALSE(*records_->get("person", "10000003"));
  // Still waiting at the next runs: the same ledger row, not one more per run.
  const auto again = run("c.DAT", file("DELTA", 3, per("10000003")));
  EXPECT_EQ(again.outcome, Outcome::held);
  EXPECT_EQ(again.ledger_id, held.ledger_id);
  EXPECT_EQ(run("c.DAT", file("DELTA", 3, per("10000003"))).ledger_id, held.ledger_id);
  EXPECT_EQ(ledger_->recent(10)->size(), 2u);  // a.DAT applied, c.DAT held once
  // Another file of that name (other content) waiting on a gap is recorded anew.
  const auto other = run("c.DAT", file("DELTA", 3, per("10000004")));
  EXPECT_EQ(other.outcome, Outcome::held);
  EXPECT_NE(other.ledger_id, held.ledger_id);
  const auto released = run("c.DAT", file("DELTA", 3, per("10000003")), /*allow_gaps=*/true);
  EXPECT_EQ(released.outcome, Outcome::applied);
  EXPECT_TRUE(*records_->get("person", "10000003"));
}

// A record that changes back and forth within one file: each change is queued (the outbox no longer
// has a unique key that took the second "updated to B" for the first and dropped it).
TEST_F(Inbound, EveryChangeWithinOneFileIsQueued) {
  const auto r = run("a.DAT", file("DELTA", 1,
                                   per("10000001", "Okafor") + per("10000001", "Mensah", 'C') +
                                       per("10000001", "Okafor", 'C') + per("10000001", "Mensah", 'C')));
  EXPECT_EQ(r.outcome, Outcome::applied);
  EXPECT_EQ(r.inserted, 1u);
  EXPECT_EQ(r.updated, 3u);
  EXPECT_EQ(queued(), 4u);
  auto rows = outbox_->list(std::nullopt, 10);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 4u);
  // Four changes, four keys: a receiver that drops what it has seen must not take the second
  // "updated to Mensah" for a redelivery of the first (it would end at Okafor).
  std::set<std::string> keys;
  for (const auto& e : *rows)
    keys.insert(e.idempotency_key);
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_THAT((**records_->get("person", "10000001")).payload, ::testing::HasSubstr("\"surname\":\"Mensah\""));
}

TEST_F(Inbound, BadHeaderAndForeignVpdAreRejected) {
  const auto foreign = run("x.DAT", file("DELTA", 1, per("10000001"), "999"));
  EXPECT_EQ(foreign.outcome, Outcome::rejected);
  EXPECT_THAT(rules(foreign), ElementsAre("header.vpd"));
  const auto bad = run("y.DAT", "HDR|ESR-XYZ|1.0|245|DELTA|1|20260801020000\n" + per("10000001") + "TRL|1\n");
  EXPECT_EQ(bad.outcome, Outcome::rejected);
  EXPECT_THAT(rules(bad), ElementsAre("header.unexpected_value"));
  EXPECT_FALSE(*records_->get("person", "10000001"));
  EXPECT_EQ(queued(), 0u);
}

TEST_F(Inbound, TruncatedOrMiscountedFileChangesNothing) {
  const auto truncated = run_path(kSamples + "DE_245_OHS_20260803_0000003.DAT");
  EXPECT_EQ(truncated.outcome, Outcome::rejected);
  EXPECT_THAT(rules(truncated), ElementsAre("file.no_trailer"));
  EXPECT_FALSE(*records_->get("person", "10000001"));
  const auto miscounted = run_path(kSamples + "DE_245_OHS_20260804_0000004.DAT");
  EXPECT_EQ(miscounted.outcome, Outcome::rejected);
  EXPECT_THAT(rules(miscounted), ElementsAre("file.trailer_count"));
  EXPECT_FALSE(*records_->get("person", "10000011"));
  EXPECT_EQ(queued(), 0u);
  EXPECT_EQ((*ledger_->recent(1))[0].status, store::FileStatus::rejected);
}

TEST_F(Inbound, BadRecordsAreRejectedAndTheRestApplied) {
  run_path(kSamples + "DE_245_OHS_20260801_0000001.DAT");
  const auto r = run_path(kSamples + "DE_245_OHS_20260802_0000002.DAT");
  EXPECT_EQ(r.outcome, Outcome::partial);
  EXPECT_EQ(r.records_read, 9u);
  EXPECT_EQ(r.accepted, 3u);
  EXPECT_EQ(r.rejected, 6u);
  ASSERT_EQ(r.rejections.size(), 6u);
  EXPECT_EQ(r.rejections[0].line, 4u);
  EXPECT_EQ(r.rejections[0].record_type, "PER");
  EXPECT_EQ(r.rejections[0].record_key, "10000007");
  EXPECT_EQ(r.rejections[0].error_code, "ni_number.prefix");
  EXPECT_EQ(r.updated, 2u);    // the changed person and the leaver's assignment
  EXPECT_EQ(r.withdrawn, 1u);  // the D
  EXPECT_TRUE((**records_->get("assignment", "10000006-2")).withdrawn);
  EXPECT_FALSE(*records_->get("person", "10000007"));
}

TEST_F(Inbound, UnchangedRecordsQueueNothingAndFullWithdrawsTheMissing) {
  run("a.DAT", file("FULL", 1, per("10000001") + asg("10000001") + per("10000002") + asg("10000002")));
  ASSERT_EQ(queued(), 4u);
  // The same people again as a changed-action delta: no change, nothing queued.
  const auto same = run("b.DAT", file("DELTA", 2, per("10000001", "Okafor", 'C')));
  EXPECT_EQ(same.unchanged, 1u);
  EXPECT_EQ(queued(), 4u);
  // A FULL without person 2 and their assignment: both withdrawn and reported.
  const auto full = run("c.DAT", file("FULL", 3, per("10000001") + asg("10000001")));
  EXPECT_EQ(full.withdrawn, 2u);
  EXPECT_TRUE((**records_->get("person", "10000002")).withdrawn);
  EXPECT_TRUE((**records_->get("assignment", "10000002-1")).withdrawn);
  EXPECT_EQ(queued(), 6u);
}

TEST_F(Inbound, SameKeyTwiceLastOneWins) {
  const auto r = run("a.DAT", file("DELTA", 1,
                                   per("10000001", "First") + asg("10000001") + per("10000001", "Second") +
                                       per("10000002") + asg("10000001") + per("10000001", "Third")));
  EXPECT_EQ(r.repeated_keys, 3u);  // person 10000001 twice more, assignment 10000001-1 once more
  EXPECT_THAT((**records_->get("person", "10000001")).payload, ::testing::HasSubstr("Third"));
  // ... and a warning for each key that came more than once, naming the file and the key.
  ASSERT_EQ(r.warnings.size(), 2u);
  std::vector<std::string> warnings;
  for (const auto& w : r.warnings) {
    EXPECT_EQ(w.rule, "record.repeated_key");
    EXPECT_THAT(w.origin.file, ::testing::EndsWith("a.DAT"));
    warnings.push_back(w.message);
  }
  std::sort(warnings.begin(), warnings.end());
  EXPECT_THAT(warnings[0], ::testing::StartsWith("assignment 10000001-1 came more than once"));
  EXPECT_THAT(warnings[1], ::testing::StartsWith("person 10000001 came more than once"));
  // A file without repeats has no warning.
  EXPECT_TRUE(run("b.DAT", file("DELTA", 2, per("10000003"))).warnings.empty());
}

std::string persons(int from, int to) {
  std::string body;
  for (int i = from; i < to; ++i)
    body += per(std::to_string(10000000 + i));
  return body;
}

// A FULL that would withdraw more than the limit (10 % of the VPD's live persons and assignments,
// and at least 100 of them) is held, nothing of it applied, until an operator releases it; it is
// not applied again at every run while it waits.
TEST_F(Inbound, AFullWithdrawingMoreThanTheLimitIsHeldUntilReleased) {
  ASSERT_EQ(run("a.DAT", file("FULL", 1, persons(0, 200))).inserted, 200u);
  const std::size_t queued_before = queued();

  const auto held = run("b.DAT", file("FULL", 2, persons(0, 50)));
  EXPECT_EQ(held.outcome, Outcome::held);
  EXPECT_EQ(held.records_read, 50u);  // read and applied, then rolled back
  EXPECT_EQ(held.withdrawn, 0u);
  ASSERT_THAT(rules(held), ElementsAre("file.mass_withdrawal"));
  EXPECT_THAT(held.file_errors[0].message,
              ::testing::StartsWith("this FULL would withdraw 150 of the 200 persons and assignments VPD 245 has "
                                    "live (75 %, over the limit of 10 %)"));
  EXPECT_THAT(held.file_errors[0].message, ::testing::HasSubstr("esrsync release-gap --vpd 245 --seq 2"));
  EXPECT_FALSE((**records_->get("person", "10000199")).withdrawn);
  EXPECT_EQ(queued(), queued_before);
  EXPECT_EQ(ledger_->held()->size(), 1u);

  // The next run finds it held already: not applied again, the same reason, one ledger row.
  const auto again = run_path((dir_ / "b.DAT").string());
  EXPECT_EQ(again.outcome, Outcome::held);
  EXPECT_EQ(again.records_read, 0u);
  ASSERT_THAT(rules(again), ElementsAre("file.mass_withdrawal"));
  EXPECT_EQ(again.file_errors[0].message, held.file_errors[0].message);
  EXPECT_EQ(again.ledger_id, held.ledger_id);

  // Other content under that name is a new file: checked again.
  EXPECT_EQ(run("b.DAT", file("FULL", 2, persons(0, 60))).records_read, 60u);

  // Released: applied, with its withdrawals.
  ASSERT_TRUE(ledger_->release_gap("245", "ESR-OHS", 2, "test"));
  const auto released = run_path((dir_ / "b.DAT").string());
  EXPECT_EQ(released.outcome, Outcome::applied);
  EXPECT_EQ(released.withdrawn, 140u);
  EXPECT_TRUE((**records_->get("person", "10000199")).withdrawn);
  EXPECT_EQ(queued(), queued_before + 140);
  EXPECT_TRUE(ledger_->held()->empty());
}

// Under either bound the FULL is applied: 10 % or fewer of the VPD, or fewer than 100 records; and
// with the limit at 0 % there is none.
TEST_F(Inbound, AFullWithdrawingWithinTheLimitIsApplied) {
  run("a.DAT", file("FULL", 1, persons(0, 1000)));
  EXPECT_EQ(run("b.DAT", file("FULL", 2, persons(0, 900))).withdrawn, 100u);  // 10 %: not over
  EXPECT_EQ(run("c.DAT", file("FULL", 3, persons(0, 801))).withdrawn, 99u);   // 11 %, but under 100
  withdraw_limit_percent_ = 0;
  const auto all = run("d.DAT", file("FULL", 4, persons(0, 1)));
  EXPECT_EQ(all.outcome, Outcome::applied);
  EXPECT_EQ(all.withdrawn, 800u);
}

// Past kMaxListedRepeats repeated keys of a kind, one more warning says how many repeats there were.
TEST_F(Inbound, ManyRepeatedKeysAreListedUpToALimitThenCounted) {
  std::string body;
  for (std::size_t i = 0; i < kMaxListedRepeats + 5; ++i) {
    const std::string pn = std::to_string(10000000 + i);
    body += per(pn) + per(pn);
  }
  const auto r = run("a.DAT", file("DELTA", 1, body));
  EXPECT_EQ(r.repeated_keys, kMaxListedRepeats + 5);
  ASSERT_EQ(r.warnings.size(), kMaxListedRepeats + 1);
  EXPECT_EQ(r.warnings.back().message,
            std::to_string(kMaxListedRepeats + 5) +
                " repeated records in all; the first 100 repeated keys of each kind are listed");
}

// A first load (FULL into an empty store) tries each record as new before looking it up: a key that
// comes twice is still an insert and then an update, and the last one wins.
TEST_F(Inbound, FirstLoadWithTheSameKeyTwiceInsertsThenUpdates) {
  const auto r = run("a.DAT", file("FULL", 1, per("10000001", "First") + per("10000002") + per("10000001", "Second")));
  EXPECT_EQ(r.repeated_keys, 1u);
  EXPECT_EQ(r.inserted, 2u);
  EXPECT_EQ(r.updated, 1u);
  EXPECT_EQ(r.withdrawn, 0u);
  EXPECT_THAT((**records_->get("person", "10000001")).payload, ::testing::HasSubstr("Second"));
  const auto history = *records_->history("person", "10000001");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(std::get<0>(history[0]), store::Change::inserted);
  EXPECT_EQ(std::get<0>(history[1]), store::Change::updated);
  // The second FULL looks records up first: the same content is unchanged.
  const auto again = run("b.DAT", file("FULL", 2, per("10000001", "Second") + per("10000002")));
  EXPECT_EQ(again.unchanged, 2u);
  EXPECT_EQ(again.inserted + again.updated, 0u);
}

// A first load long enough to write records 256 at a time, rejected at its trailer: the records
// written and those still waiting to be written are all undone, and the next file starts clean.
TEST_F(Inbound, AFirstLoadRejectedAtItsTrailerLeavesNothingOfIt) {
  std::string body;
  for (int i = 0; i < 700; ++i) {
    const std::string pn = std::to_string(10000000 + i);
    body += per(pn) + asg(pn);
  }
  std::string bad = file("FULL", 1, body);
  bad.replace(bad.rfind("TRL|"), std::string::npos, "TRL|1399\n");
  const auto r = run("a.DAT", bad);
  EXPECT_EQ(r.outcome, Outcome::rejected);
  EXPECT_THAT(rules(r), ElementsAre("file.trailer_count"));
  const auto count = [&](const std::string& table) {
    auto stmt = db_->prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(stmt && *stmt->step());
    return stmt->column_int64(0);
  };
  EXPECT_EQ(count("canonical_record"), 0);
  EXPECT_EQ(count("change_history"), 0);
  EXPECT_EQ(count("person_index"), 0);
  EXPECT_EQ(queued(), 0u);
  const auto good = run("b.DAT", file("FULL", 1, per("20000001") + asg("20000001")));
  EXPECT_EQ(good.outcome, Outcome::applied);
  EXPECT_EQ(good.inserted, 2u);
  EXPECT_EQ(count("canonical_record"), 2);
  EXPECT_EQ(count("change_history"), 2);
  EXPECT_EQ(count("person_index"), 1);
}

// The person index follows a person's matching keys through in-place changes: a new surname is
// found under the new name (and no longer under the old one); a change matching does not use (the
// mobile) leaves the entry as it is.
TEST_F(Inbound, PersonIndexFollowsIdentityChangesNotOtherChanges) {
  run("a.DAT", file("FULL", 1, per("10000001", "Okafor")));
  store::PersonIndex index(*db_);
  const auto names = [&](const std::string& surname) {
    auto found = index.find_by_name(surname, "ada");
    EXPECT_TRUE(found);
    return found ? found->size() : 0U;
  };
  EXPECT_EQ(names("okafor"), 1U);
  const auto renamed = run("b.DAT", file("DELTA", 2, per("10000001", "Mensah", 'C')));
  EXPECT_EQ(renamed.updated, 1u);
  EXPECT_EQ(names("mensah"), 1U);
  EXPECT_EQ(names("okafor"), 0U);
  std::string mobile = per("10000001", "Mensah", 'C');
  mobile.replace(mobile.find("07700900001"), 11, "07700900999");
  const auto moved = run("c.DAT", file("DELTA", 3, mobile));
  EXPECT_EQ(moved.updated, 1u);
  const auto keys = *index.get("10000001");
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->surname_key, "mensah");
  EXPECT_EQ(keys->ni_number, "AB123456C");
  EXPECT_EQ(names("mensah"), 1U);
}

// Whichever thread packs a record for the store (the decoding thread for a first load and a DELTA,
// the store for a later FULL, whose records are mostly unchanged), what is stored is packed and
// reads back as the record's canonical JSON.
TEST_F(Inbound, ChangesOfEveryKindOfFileAreStoredPackedAndReadBack) {
  const auto stored = [&](const std::string& key) {
    auto row = db_->prepare("SELECT payload FROM current_record WHERE entity = 'person' AND record_key = ?1");
    EXPECT_TRUE(row && row->bind(1, key) && *row->step());
    return std::string(row->column_blob(0));
  };
  const auto expect_packed = [&](const std::string& key, const std::string& surname) {
    EXPECT_TRUE(store::is_packed_payload(stored(key))) << key;
    auto json = records_->get("person", key);
    ASSERT_TRUE(json && *json) << key;
    EXPECT_THAT((**json).payload, ::testing::HasSubstr("\"surname\":\"" + surname + "\"")) << key;
  };
  ASSERT_EQ(run("a.DAT", file("FULL", 1, per("10000001") + per("10000002") + per("10000003"))).inserted, 3u);
  expect_packed("10000001", "Okafor");
  ASSERT_EQ(run("b.DAT", file("DELTA", 2, per("10000001", "Mensah", 'C'))).updated, 1u);
  expect_packed("10000001", "Mensah");
  const auto full = run("c.DAT", file("FULL", 3,
                                      per("10000001", "Mensah") + per("10000002", "Boateng") + per("10000003") +
                                          per("10000004", "Asante")));
  EXPECT_EQ(full.updated, 1u);
  EXPECT_EQ(full.inserted, 1u);
  expect_packed("10000002", "Boateng");
  expect_packed("10000004", "Asante");
  expect_packed("10000003", "Okafor");
}

// A first load switches the store to a rollback journal for the file; when it cannot (another
// process is reading the store), the file is applied all the same in WAL mode, and either way the
// store is in WAL mode afterwards.
TEST_F(Inbound, AFirstLoadThatCannotLeaveWalIsAppliedInWal) {
  auto reader = store::SqliteDb::open((dir_ / "esrsync.db").string());
  ASSERT_TRUE(reader);
  auto read = reader->prepare("SELECT count(*) FROM canonical_record");
  ASSERT_TRUE(read);
  ASSERT_TRUE(reader->exec("BEGIN"));
  ASSERT_TRUE(read->step());  // a read transaction held open
  const auto r = run("a.DAT", file("FULL", 1, per("10000001") + asg("10000001")));
  EXPECT_EQ(r.outcome, Outcome::applied);
  EXPECT_EQ(r.inserted, 2u);
  reader->rollback();
  EXPECT_EQ(*db_->journal_mode("wal"), "wal");
  // Without the reader the next first load (a fresh store has no persons) switches and back.
  ASSERT_TRUE(db_->exec("DELETE FROM person_index"));
  const auto again = run("b.DAT", file("FULL", 2, per("10000002")));
  EXPECT_EQ(again.outcome, Outcome::applied);
  auto mode = db_->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode && *mode->step());
  EXPECT_EQ(mode->column_text(0), "wal");
}

TEST_F(Inbound, UnreadableFileIsAnEnvironmentErrorAndNothingIsRecorded) {
  InboundContext ctx{*db_, *records_, *ledger_, *outbox_, *mapping_, {"245"}, {"oh-dir"}, {2026, 9, 1}, false};
  auto r = apply_inbound_file((dir_ / "missing.DAT").string(), ctx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rule, "file.open");
  EXPECT_TRUE(ledger_->recent(10)->empty());
}

}  // namespace
}  // namespace esrsync::flow
