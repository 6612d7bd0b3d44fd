// `esrsync sync --once` end to end with the real binary: real files in a temp directory, a real
// SQLite store, the shipped mappings. Per DOMAIN.md's file-level rules: what is applied, the ACK
// of every consumed file, where each file ends up, what reaches the sink, and that running it
// again applies nothing twice.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

#include "esrsync/store/outbox.hpp"
#include "esrsync/store/sqlite.hpp"
#include "support/capture.hpp"
#include "support/process.hpp"
#include "support/sync_environment.hpp"

namespace esrsync {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSource = ESRSYNC_SOURCE_DIR;

using SyncOnce = test::SyncEnvironment;

TEST_F(SyncOnce, GoodFullExtractIsAppliedAcknowledgedAndDelivered) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("DE_245_OHS_20260801_0000001.DAT    applied        14      14     0      14"));
  EXPECT_THAT(names("processed"), ::testing::ElementsAre("DE_245_OHS_20260801_0000001.DAT"));
  EXPECT_TRUE(names("inbox").empty());
  EXPECT_THAT(test::read_file(dir_ / "acks/DE_245_OHS_20260801_0000001.ACK"),
              ::testing::StartsWith("ACK|DE_245_OHS_20260801_0000001.DAT|ACCEPTED|14|14|0|"));
  const std::string delivered = outbox_text();
  EXPECT_EQ(std::count(delivered.begin(), delivered.end(), '\n'), 14);
  EXPECT_THAT(delivered, HasSubstr("\"key\":\"10000003-2\""));
}

// DESIGN.md: long work shows progress on a terminal and none when stdout is not a TTY. On a
// terminal each step rewrites one line in place, and the line is erased before the report.
TEST_F(SyncOnce, OnATerminalTheRunShowsHowFarItIsThenErasesItBeforeTheReport) {
  if (!test::terminals_available()) GTEST_SKIP() << "no pseudo-terminals on this machine";
  drop("DE_245_OHS_20260801_0000001.DAT");
  const auto r = test::run_on_terminal(
      {ESRSYNC_BINARY, "sync", "--once", "--today", "2026-09-01", "--config", (dir_ / "esrsync.toml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const std::string file = "esr: DE_245_OHS_20260801_0000001.DAT: ";
  const auto applying = r.out.find("\r" + file + "applying\033[K");
  const auto committing = r.out.find("\r" + file + "14 applied; indexing, committing\033[K");  // a first load
  const auto delivering = r.out.find("\resr: delivering to oh: 0 changes so far\033[K");
  const auto erased = r.out.find("\r\033[K");
  const auto report = r.out.find("DE_245_OHS_20260801_0000001.DAT    applied        14      14     0      14");
  ASSERT_NE(applying, std::string::npos) << r.out;
  ASSERT_NE(committing, std::string::npos) << r.out;
  ASSERT_NE(delivering, std::string::npos) << r.out;
  ASSERT_NE(report, std::string::npos) << r.out;
  EXPECT_LT(applying, committing);
  EXPECT_LT(committing, delivering);
  EXPECT_LT(delivering, erased);
  EXPECT_LT(erased, r.out.find("flow ")) << "erased before the report's first line";
  EXPECT_EQ(r.out.find('\033', erased + 4), std::string::npos) << "nothing shown after it: " << r.out;
  EXPECT_THAT(names("processed"), ::testing::ElementsAre("DE_245_OHS_20260801_0000001.DAT"));
}

TEST_F(SyncOnce, OnANarrowTerminalTheProgressLineIsCutAndNeverWraps) {
  if (!test::terminals_available()) GTEST_SKIP() << "no pseudo-terminals on this machine";
  drop("DE_245_OHS_20260801_0000001.DAT");
  const auto r = test::run_on_terminal(
      {ESRSYNC_BINARY, "sync", "--once", "--today", "2026-09-01", "--config", (dir_ / "esrsync.toml").string()}, 40);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const std::string line = std::string("esr: DE_245_OHS_20260801_0000001.DAT: applying").substr(0, 39);
  EXPECT_THAT(r.out, HasSubstr("\r" + line + "\033[K")) << r.out;
}

TEST_F(SyncOnce, OffATerminalNothingButTheReport) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const std::string* text : {&r.out, &r.err}) {
    EXPECT_EQ(text->find('\r'), std::string::npos) << *text;
    EXPECT_EQ(text->find('\033'), std::string::npos) << *text;
  }
}

TEST_F(SyncOnce, EveryFileRuleEndToEnd) {
  for (const auto* f : {"DE_245_OHS_20260801_0000001.DAT", "DE_245_OHS_20260802_0000002.DAT",
                        "DE_245_OHS_20260803_0000003.DAT", "DE_245_OHS_20260804_0000004.DAT"}) {
    drop(f);
  }
  const auto r = sync({"--json"});
  EXPECT_EQ(r.exit_code, 1);  // rejected records, a rejected file, a held file
  EXPECT_THAT(r.out, HasSubstr("\"outcome\": \"partial\""));
  // Partial: the bad records are in the ACK, the good ones applied.
  EXPECT_THAT(test::read_file(dir_ / "acks/DE_245_OHS_20260802_0000002.ACK"),
              HasSubstr("ERR|4|PER|10000007|ni_number.prefix|"));
  // Truncated: rejected whole, quarantined with its reason, ACK REJECTED.
  EXPECT_THAT(names("quarantine"),
              ::testing::ElementsAre("DE_245_OHS_20260803_0000003.DAT", "DE_245_OHS_20260803_0000003.DAT.reason"));
  // The reason names the file as its record errors do (it is no longer in the inbox).
  EXPECT_THAT(test::read_file(dir_ / "quarantine/DE_245_OHS_20260803_0000003.DAT.reason"),
              ::testing::StartsWith("DE_245_OHS_20260803_0000003.DAT:4: file.no_trailer: "));
  EXPECT_THAT(r.out, HasSubstr("\"DE_245_OHS_20260803_0000003.DAT:4: file.no_trailer: "));
  EXPECT_THAT(test::read_file(dir_ / "acks/DE_245_OHS_20260803_0000003.ACK"), HasSubstr("|REJECTED|3|0|3|"));
  // Sequence 4 after a rejected 3: held in the inbox, no ACK yet.
  EXPECT_THAT(names("inbox"), ::testing::ElementsAre("DE_245_OHS_20260804_0000004.DAT"));
  EXPECT_FALSE(fs::exists(dir_ / "acks/DE_245_OHS_20260804_0000004.ACK"));
  const auto delivered_first = outbox_text();
  EXPECT_EQ(std::count(delivered_first.begin(), delivered_first.end(), '\n'), 17);  // 14 + 2 changed + 1 withdrawn

  // Running again applies nothing twice and delivers nothing twice.
  const auto again = sync();
  EXPECT_EQ(again.exit_code, 1);  // still held
  EXPECT_EQ(outbox_text(), delivered_first);

  // The same content dropped again is skipped; its ACK is not rewritten.
  drop("DE_245_OHS_20260801_0000001.DAT");
  const auto dup = sync({"--json"});
  EXPECT_THAT(dup.out, HasSubstr("\"outcome\": \"duplicate\""));
  EXPECT_EQ(outbox_text(), delivered_first);
  const auto processed = names("processed");
  EXPECT_EQ(
      std::count_if(processed.begin(), processed.end(),
                    [](const std::string& n) { return n.starts_with("DE_245_OHS_20260801_0000001.DAT.duplicate."); }),
      1);
}

TEST_F(SyncOnce, BrokenSinkEnvironmentIsRefusedAtStart) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  fs::remove_all(dir_ / "out");
  test::write_file(dir_ / "out", "not a directory");
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("sink directory"));
  EXPECT_THAT(names("inbox"), ::testing::ElementsAre("DE_245_OHS_20260801_0000001.DAT"));  // nothing consumed
}

TEST_F(SyncOnce, FailedDeliveryStaysQueuedAndIsDeliveredOnceLater) {
  // Retry at once (base_delay_ms = 0) so the second run may try again.
  add_sink_keys("base_delay_ms = 0\n");
  drop("DE_245_OHS_20260801_0000001.DAT");
  // Something in the way of the sink's file: it cannot be put in place (EISDIR), as a full or
  // broken disk would stop it.
  fs::create_directories(dir_ / "out/esr-oh-1-1.jsonl/occupied");
  const auto failed = sync({"--json"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.out, HasSubstr("\"pending\": 14"));
  EXPECT_THAT(failed.out, HasSubstr("Is a directory"));
  EXPECT_EQ(outbox_text(), "");
  EXPECT_THAT(names("processed"), ::testing::ElementsAre("DE_245_OHS_20260801_0000001.DAT"));  // applied all the same

  fs::remove_all(dir_ / "out/esr-oh-1-1.jsonl");
  const auto fixed = sync({"--json"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.out << fixed.err;
  EXPECT_THAT(fixed.out, HasSubstr("\"delivered\": 14"));
  const std::string delivered = outbox_text();
  EXPECT_EQ(std::count(delivered.begin(), delivered.end(), '\n'), 14);
  const auto again = sync({"--json"});
  EXPECT_THAT(again.out, HasSubstr("\"delivered\": 0"));
  EXPECT_EQ(outbox_text(), delivered);  // delivered once
  EXPECT_TRUE(part_names().empty());
}

// Without the staged copies (removed, or never written), the files are written from the store.
TEST_F(SyncOnce, AFailedFileInARoundLeavesTheFilesBeforeItDeliveredAndTheRestUntried) {
  // Two changes per file: the 14 changes are 7 files, written in one round.
  add_sink_keys("batch = 2\nbase_delay_ms = 0\n");
  drop("DE_245_OHS_20260801_0000001.DAT");
  fs::create_directories(dir_ / "out/esr-oh-1-1.jsonl/occupied");  // nothing delivered yet
  ASSERT_EQ(sync().exit_code, 1);
  ASSERT_EQ(part_names().size(), 7U);  // each batch's lines, staged while the file was applied
  for (const auto& name : part_names())
    fs::remove(dir_ / "out" / name);
  fs::remove_all(dir_ / "out/esr-oh-1-1.jsonl");
  fs::create_directories(dir_ / "out/esr-oh-3-3.jsonl.part");  // the third file cannot be written
  const auto failed = sync({"--json"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.out, HasSubstr("\"delivered\": 4"));
  EXPECT_THAT(failed.out, HasSubstr("\"pending\": 10"));
  EXPECT_THAT(failed.out, HasSubstr("Is a directory"));
  EXPECT_EQ(names("out"), (std::vector<std::string>{"esr-oh-1-1.jsonl", "esr-oh-2-2.jsonl", "esr-oh-3-3.jsonl.part"}));
  const auto pending = nlohmann::json::parse(esrsync({"queue", "list", "--state", "pending", "--json"}).out);
  ASSERT_EQ(pending.size(), 5U);
  EXPECT_EQ(pending[0]["id"], 3);
  EXPECT_EQ(pending[0]["attempts"], 1);  // tried and failed (the first run stopped at file 1, before it)
  for (std::size_t i = 1; i < pending.size(); ++i)
    EXPECT_EQ(pending[i]["attempts"], 0) << i;  // never tried: no attempt counted

  fs::remove_all(dir_ / "out/esr-oh-3-3.jsonl.part");
  const auto fixed = sync({"--json"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.out << fixed.err;
  EXPECT_THAT(fixed.out, HasSubstr("\"delivered\": 10"));
  const std::string delivered = outbox_text();
  EXPECT_EQ(std::count(delivered.begin(), delivered.end(), '\n'), 14);  // every change once
  EXPECT_EQ(names("out").size(), 7U);
}

// More files to write from the store than a round keeps in flight (64): they are written and put
// in place 64 at a time within the round, each change delivered once, no `.part` left behind.
TEST_F(SyncOnce, ARoundWritesMoreFilesThanItKeepsInFlight) {
  add_sink_keys("batch = 2\nbase_delay_ms = 0\n");
  const auto gen = test::run_process({ESRSYNC_BENCH_GEN, "esr-full", "--persons", "100"});
  ASSERT_EQ(gen.exit_code, 0);
  test::write_file(dir_ / "inbox/DE_245_OHS_20260801_0000001.DAT", gen.out);
  const auto records = static_cast<std::size_t>(std::count(gen.out.begin(), gen.out.end(), '\n')) - 2;  // HDR, TRL
  fs::create_directories(dir_ / "out/esr-oh-1-1.jsonl/occupied");  // the first file stops the first round
  ASSERT_EQ(sync().exit_code, 1);
  const auto staged = part_names();
  ASSERT_GT(staged.size(), 64U);
  for (const auto& name : staged)
    fs::remove(dir_ / "out" / name);  // every file is now written from the store
  fs::remove_all(dir_ / "out/esr-oh-1-1.jsonl");
  const auto fixed = sync({"--json"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.out << fixed.err;
  EXPECT_EQ(delivered_names().size(), staged.size());
  EXPECT_TRUE(part_names().empty());
  const std::string delivered = outbox_text();
  EXPECT_EQ(static_cast<std::size_t>(std::count(delivered.begin(), delivered.end(), '\n')), records);
}

// The same when a file fails at the end, once the round's files are all written: the ones before
// it are delivered, the rest untried and none of their `.part` files left behind.
TEST_F(SyncOnce, AFileThatCannotBeRenamedLeavesTheRestOfTheRoundUntriedAndNoPartFiles) {
  add_sink_keys("batch = 2\nbase_delay_ms = 0\n");
  drop("DE_245_OHS_20260801_0000001.DAT");
  fs::create_directories(dir_ / "out/esr-oh-3-3.jsonl/occupied");  // the third cannot be renamed into place
  const auto failed = sync({"--json"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.out, HasSubstr("\"delivered\": 4"));
  EXPECT_THAT(failed.out, HasSubstr("file.rename"));
  EXPECT_EQ(delivered_names(), (std::vector<std::string>{"esr-oh-1-1.jsonl", "esr-oh-2-2.jsonl"}));
  EXPECT_EQ(part_names().size(), 5U);  // the staged lines of the five still to deliver, kept for them
  const auto pending = nlohmann::json::parse(esrsync({"queue", "list", "--state", "pending", "--json"}).out);
  ASSERT_EQ(pending.size(), 5U);
  EXPECT_EQ(pending[0]["attempts"], 1);
  EXPECT_EQ(pending[1]["attempts"], 0);

  fs::remove_all(dir_ / "out/esr-oh-3-3.jsonl");
  const auto fixed = sync({"--json"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.out << fixed.err;
  EXPECT_THAT(fixed.out, HasSubstr("\"delivered\": 10"));
  const std::string delivered = outbox_text();
  EXPECT_EQ(std::count(delivered.begin(), delivered.end(), '\n'), 14);
  EXPECT_EQ(names("out").size(), 7U);  // and no .part left
}

// A file found bad after its records were applied is rolled back, batches and all: the copies of
// its lines staged in the sink's directory on the way are never delivered, and are removed.
TEST_F(SyncOnce, LinesStagedForAFileThatWasRolledBackAreNeverDelivered) {
  add_sink_keys("batch = 2\n");
  std::string text = test::read_file(kSource + "/sample-data/esr/DE_245_OHS_20260801_0000001.DAT");
  const auto trl = text.rfind("TRL|");
  text = text.substr(0, trl) + "TRL|99\n";  // the trailer's count is wrong: the file is rejected at its end
  test::write_file(dir_ / "inbox/DE_245_OHS_20260801_0000001.DAT", text);
  const auto r = sync({"--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("file.trailer_count"));
  EXPECT_TRUE(names("out").empty()) << ::testing::PrintToString(names("out"));
  auto db = store::SqliteDb::open((dir_ / "state/esrsync.db").string());
  ASSERT_TRUE(db);
  auto rows = db->prepare("SELECT count(*) FROM outbox");
  ASSERT_TRUE(rows && *rows->step());
  EXPECT_EQ(rows->column_int64(0), 0);
}

// A batch whose stored lines are damaged is never written as something else: its delivery fails
// with the reason, it goes to the dead letters when its attempts are used up, and the other files
// are delivered.
TEST_F(SyncOnce, ABatchWhoseLinesCannotBeReadIsDeadLetteredNotWritten) {
  add_sink_keys("batch = 2\nbase_delay_ms = 0\nmax_attempts = 2\n");
  drop("DE_245_OHS_20260801_0000001.DAT");
  fs::create_directories(dir_ / "out/esr-oh-1-1.jsonl/occupied");  // the first file cannot be delivered yet
  ASSERT_EQ(sync().exit_code, 1);
  fs::remove_all(dir_ / "out/esr-oh-1-1.jsonl");
  for (const auto& name : part_names())
    fs::remove(dir_ / "out" / name);  // no staged copy: the store's lines are what is delivered
  {
    auto db = store::SqliteDb::open((dir_ / "state/esrsync.db").string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("UPDATE outbox_payload SET payload = substr(payload, 1, length(payload) - 8) WHERE id = 1"));
  }
  const auto damaged = sync({"--json"});
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_THAT(damaged.out, HasSubstr("outbox.lines"));
  const auto rest = sync({"--json"});
  EXPECT_EQ(rest.exit_code, 1) << rest.out;  // a dead letter is waiting
  EXPECT_THAT(rest.out, HasSubstr("\"delivered\": 12"));
  EXPECT_EQ(names("out").size(), 6U);
  EXPECT_FALSE(fs::exists(dir_ / "out/esr-oh-1-1.jsonl"));
  const auto dead = nlohmann::json::parse(esrsync({"queue", "list", "--state", "dead", "--json"}).out);
  ASSERT_EQ(dead.size(), 1U);
  EXPECT_EQ(dead[0]["id"], 1);
  EXPECT_THAT(dead[0]["last_error"].get<std::string>(), HasSubstr("the lines of outbox entry 1 cannot be read"));
  const auto show = nlohmann::json::parse(esrsync({"queue", "show", "1", "--json"}).out);
  EXPECT_TRUE(show["payload"].is_null());
  EXPECT_THAT(show["payload_error"].get<std::string>(), HasSubstr("outbox.lines"));
}

// A change queued one per row, as esrsync did before JSON-lines sinks took batches, is still
// delivered after the upgrade: as its own line, with its own key.
TEST_F(SyncOnce, AChangeQueuedBeforeBatchesIsDeliveredAsItsLine) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  ASSERT_EQ(sync().exit_code, 0);
  {
    auto db = store::SqliteDb::open((dir_ / "state/esrsync.db").string());
    ASSERT_TRUE(db);
    ManualClock clock;
    store::Outbox outbox(*db, store::RetryPolicy{}, clock, 1);
    store::OutboxEntry legacy;
    legacy.sink = "oh";
    legacy.idempotency_key = "oh:person:10000009:inserted:h9:245-0:2";
    legacy.entity = "person";
    legacy.record_key = "10000009";
    legacy.payload = "{\"entity\":\"person\",\"fields\":{\"person_number\":\"10000009\"}}";
    legacy.change = "inserted";
    ASSERT_TRUE(outbox.enqueue(legacy));
  }
  const auto before = names("out");
  const auto r = sync({"--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"delivered\": 1"));
  const auto after = names("out");
  ASSERT_EQ(after.size(), before.size() + 1);
  std::string added;
  for (const auto& name : after) {
    if (std::find(before.begin(), before.end(), name) == before.end()) added = test::read_file(dir_ / "out" / name);
  }
  EXPECT_EQ(
      added,
      "{\"idempotency_key\":\"oh:person:10000009:inserted:h9:245-0:2\",\"entity\":\"person\",\"key\":\"10000009\","
      "\"change\":{\"entity\":\"person\",\"fields\":{\"person_number\":\"10000009\"}}}\n");
}

TEST_F(SyncOnce, DeliveredChangesAreKeptForTheRetentionPeriodThenPurged) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  const auto kept = sync({"--json"});
  EXPECT_THAT(kept.out, HasSubstr("\"purged_delivered\": 0"));  // 30 days by default
  EXPECT_THAT(esrsync({"queue", "list", "--state", "delivered"}).out, HasSubstr("10000001"));
  std::string config = test::read_file(dir_ / "esrsync.toml");
  config.replace(config.find("path = \"state/esrsync.db\""), 25,
                 "path = \"state/esrsync.db\"\nkeep_delivered_days = 0");
  test::write_file(dir_ / "esrsync.toml", config);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // settled strictly before "now"
  const auto purged = sync({"--json"});
  EXPECT_THAT(purged.out, HasSubstr("\"purged_delivered\": 14"));
  EXPECT_THAT(esrsync({"queue", "list", "--state", "delivered"}).out, Not(HasSubstr("10000001")));
}

// Sets a file's modification time `days` ago.
void date_back(const fs::path& file, int days) {
  const auto when = fs::file_time_type::clock::now() - std::chrono::hours(24 * days);
  fs::last_write_time(file, when);
}

// Retention of processed files (DESIGN.md "Store"): dated when processed, deleted once older than
// the source's keep_processed_days (30 by default); quarantined files wait for an operator whatever
// their age.
TEST_F(SyncOnce, ProcessedFilesAreDeletedAfterTheirRetentionPeriodQuarantinedOnesAreKept) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  date_back(dir_ / "inbox/DE_245_OHS_20260801_0000001.DAT", 90);  // written by ESR long ago
  const auto first = sync({"--json"});
  EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_THAT(first.out, HasSubstr("\"purged_processed_files\": 0"));
  const auto processed = dir_ / "processed/DE_245_OHS_20260801_0000001.DAT";
  ASSERT_TRUE(fs::exists(processed));  // dated when processed, not when written: kept
  EXPECT_LT(fs::file_time_type::clock::now() - fs::last_write_time(processed), std::chrono::hours(1));

  test::write_file(dir_ / "processed/DE_245_OHS_20260701_0000001.DAT", "older\n");
  date_back(dir_ / "processed/DE_245_OHS_20260701_0000001.DAT", 31);
  test::write_file(dir_ / "processed/DE_245_OHS_20260705_0000001.DAT", "younger\n");
  date_back(dir_ / "processed/DE_245_OHS_20260705_0000001.DAT", 29);
  test::write_file(dir_ / "quarantine/DE_245_OHS_20260601_0000009.DAT", "bad\n");
  date_back(dir_ / "quarantine/DE_245_OHS_20260601_0000009.DAT", 400);
  const auto second = sync({"--json"});
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_THAT(second.out, HasSubstr("\"purged_processed_files\": 1"));
  EXPECT_THAT(names("processed"),
              ::testing::ElementsAre("DE_245_OHS_20260705_0000001.DAT", "DE_245_OHS_20260801_0000001.DAT"));
  EXPECT_THAT(names("quarantine"), ::testing::ElementsAre("DE_245_OHS_20260601_0000009.DAT"));

  // keep_processed_days = 0: nothing is kept past the next run.
  std::string config = test::read_file(dir_ / "esrsync.toml");
  config.replace(config.find("acks = \"acks\""), 13, "acks = \"acks\"\nkeep_processed_days = 0");
  test::write_file(dir_ / "esrsync.toml", config);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto third = sync({"--json"});
  EXPECT_THAT(third.out, HasSubstr("\"purged_processed_files\": 2"));
  EXPECT_TRUE(names("processed").empty());
}

// A processed file that cannot be deleted is reported with its path and tried again at the next
// run; the run goes on.
TEST_F(SyncOnce, AProcessedFileThatCannotBeDeletedIsReportedAndTriedAgain) {
  const auto stuck = dir_ / "processed/DE_245_OHS_20260701_0000001.DAT";
  test::write_file(stuck, "older\n");
  date_back(stuck, 31);
  if (test::run_process({"/usr/bin/chattr", "+i", stuck.string()}).exit_code != 0) {
    GTEST_SKIP() << "chattr +i is not available here (no immutable files to stand for an undeletable one)";
  }
  drop("DE_245_OHS_20260801_0000001.DAT");
  const auto r = sync();
  test::run_process({"/usr/bin/chattr", "-i", stuck.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;  // the file was applied and delivered all the same
  EXPECT_THAT(r.err, HasSubstr("retention.delete"));
  EXPECT_THAT(r.err, HasSubstr(stuck.string()));
  EXPECT_THAT(names("acks"), ::testing::ElementsAre("DE_245_OHS_20260801_0000001.ACK"));
  const auto again = sync({"--json"});
  EXPECT_THAT(again.out, HasSubstr("\"purged_processed_files\": 1"));
  EXPECT_FALSE(fs::exists(stuck));
}

// A processed file whose date cannot be set (so retention would count from the sender's date)
// stops the run with the reason and the path, exit 2. The file was applied, acknowledged and moved
// first, so nothing is lost and nothing applied twice when the next run goes on. The fault is
// injected (tests/fault/fail_utimensat.cpp): root can date any file it can rename.
TEST_F(SyncOnce, AProcessedFileThatCannotBeDatedStopsTheRunAndLosesNothing) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  ::setenv("LD_PRELOAD", ESRSYNC_FAULT_UTIMENSAT_LIB, 1);
  ::setenv("ESRSYNC_FAULT_UTIMENSAT", "/processed/", 1);
  const auto r = sync();
  ::unsetenv("LD_PRELOAD");
  ::unsetenv("ESRSYNC_FAULT_UTIMENSAT");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("source.move: cannot date the processed file"));
  EXPECT_THAT(r.err, HasSubstr("processed/DE_245_OHS_20260801_0000001.DAT"));
  EXPECT_THAT(names("processed"), ::testing::ElementsAre("DE_245_OHS_20260801_0000001.DAT"));
  EXPECT_THAT(names("acks"), ::testing::ElementsAre("DE_245_OHS_20260801_0000001.ACK"));
  EXPECT_TRUE(names("inbox").empty());

  const auto next = sync();
  EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
  const std::string delivered = outbox_text();
  EXPECT_EQ(std::count(delivered.begin(), delivered.end(), '\n'), 14);  // each change once
}

TEST_F(SyncOnce, RunsAreKeptForTheirRetentionPeriodThenDeleted) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  EXPECT_THAT(sync({"--json"}).out, HasSubstr("\"purged_runs\": 0"));  // 365 days by default
  EXPECT_THAT(sync({"--json"}).out, HasSubstr("\"purged_runs\": 0"));
  EXPECT_EQ(nlohmann::json::parse(esrsync({"runs", "--json"}).out).size(), 2u);
  std::string config = test::read_file(dir_ / "esrsync.toml");
  config.replace(config.find("path = \"state/esrsync.db\""), 25, "path = \"state/esrsync.db\"\nkeep_runs_days = 0");
  test::write_file(dir_ / "esrsync.toml", config);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Kept 0 days: every run that finished before this one's purge goes: the two before, and this
  // one too unless it finished in the very millisecond of the purge.
  const auto report = nlohmann::json::parse(sync({"--json"}).out);
  const auto left = nlohmann::json::parse(esrsync({"runs", "--json"}).out);
  EXPECT_EQ(report["purged_runs"].get<std::size_t>() + left.size(), 3u);
  ASSERT_LE(left.size(), 1u);
  if (!left.empty()) {
    EXPECT_EQ(left[0]["id"].get<int>(), 3);
  }
}

// `store compact` gives the space freed inside the store back to the filesystem and keeps every
// record; it is refused while another esrsync uses the store.
TEST_F(SyncOnce, CompactingTheStoreGivesFreeSpaceBackAndKeepsTheData) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  ASSERT_EQ(sync().exit_code, 0);
  const auto store = dir_ / "state/esrsync.db";
  {
    // 8 MB written and deleted: free pages inside the file, as purged changes leave.
    auto db = store::SqliteDb::open(store.string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(
        db->exec("CREATE TABLE scratch (b BLOB); INSERT INTO scratch SELECT zeroblob(1000000) FROM "
                 "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8) SELECT i FROM n);"
                 "DROP TABLE scratch; PRAGMA wal_checkpoint(TRUNCATE);"));
  }
  const auto before = fs::file_size(store);
  const auto queued = esrsync({"queue", "list", "--state", "delivered", "--json"}).out;

  const auto refused = while_store_locked([&] { return esrsync({"store", "compact"}); });
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("store.locked"));
  EXPECT_EQ(fs::file_size(store), before);

  const auto r = esrsync({"store", "compact", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_GE(report["free_bytes_before"].get<std::int64_t>(), 8'000'000);
  EXPECT_EQ(report["bytes_before"].get<std::uintmax_t>(), before);
  EXPECT_EQ(report["bytes_after"].get<std::uintmax_t>(), fs::file_size(store));
  EXPECT_LT(fs::file_size(store) + 8'000'000, before);
  EXPECT_EQ(esrsync({"queue", "list", "--state", "delivered", "--json"}).out, queued);
  drop("DE_245_OHS_20260802_0000002.DAT");  // and the store goes on working
  EXPECT_EQ(sync().exit_code, 1);           // (a partial file)
}

// A store made by an older esrsync (4 KiB pages, SQLite's default) works as it is; `store compact`
// rewrites it with the pages a new store gets, keeping every record, and it goes on working.
TEST_F(SyncOnce, CompactingAnOlderStoreGivesItTheNewPageSize) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  ASSERT_EQ(sync().exit_code, 0);
  const auto store = dir_ / "state/esrsync.db";
  {
    auto db = store::SqliteDb::open(store.string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("PRAGMA journal_mode=DELETE; PRAGMA page_size=4096; VACUUM; PRAGMA journal_mode=WAL"));
  }
  drop("DE_245_OHS_20260802_0000002.DAT");
  ASSERT_EQ(sync().exit_code, 1);  // the older store works as it is (a partial file)
  const auto records = [&]() -> std::string {
    auto db = store::SqliteDb::open(store.string());
    if (!db) return db.error().to_string();
    auto rows = db->prepare(
        "SELECT group_concat(record_key || ':' || content_hash || ':' || withdrawn) FROM "
        "(SELECT * FROM current_record ORDER BY record_key, entity)");
    if (!rows) return rows.error().to_string();
    if (!rows->step().value_or(false)) return "no row";
    return std::string(rows->column_text(0));
  };
  const std::string before = records();
  ASSERT_THAT(before, HasSubstr("10000002:"));
  const auto queued = esrsync({"queue", "list", "--json"}).out;

  const auto r = esrsync({"store", "compact", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["page_size_before"].get<int>(), 4096);
  EXPECT_EQ(report["page_size_after"].get<int>(), store::kPageSize);
  EXPECT_EQ(records(), before);
  EXPECT_EQ(esrsync({"queue", "list", "--json"}).out, queued);
  {
    auto db = store::SqliteDb::open(store.string());
    ASSERT_TRUE(db);
    auto mode = db->journal_mode("wal");  // "wal" if it is in WAL mode already, and no change
    ASSERT_TRUE(mode);
    EXPECT_EQ(*mode, "wal");
    EXPECT_FALSE(fs::exists(dir_ / "state/esrsync.db-journal"));
  }
  // Compacting again: the pages are right already, a plain compaction.
  const auto again = esrsync({"store", "compact"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, Not(HasSubstr("rewritten as pages")));
  drop("DE_245_OHS_20260803_0000003.DAT");
  EXPECT_EQ(sync().exit_code, 1);  // and the store goes on working (a truncated file rejected)
}

// A DELTA's content changes wait among the store's recent versions; `store merge` writes them into
// their records, and what every command reads stays the same.
TEST_F(SyncOnce, StoreMergeWritesTheDeltasWaitingChangesIntoTheirRecords) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop("DE_245_OHS_20260802_0000002.DAT");
  ASSERT_NE(sync().exit_code, 2);
  const auto store = dir_ / "state/esrsync.db";
  const auto query = [&](const std::string& sql) -> std::string {
    auto db = store::SqliteDb::open(store.string());
    if (!db) return db.error().to_string();
    auto rows = db->prepare(sql);
    if (!rows) return rows.error().to_string();
    if (!rows->step().value_or(false)) return "no row";
    return rows->column_is_null(0) ? "null" : std::string(rows->column_text(0));
  };
  const auto records = [&](const std::string& table) {
    return query("SELECT group_concat(record_key || ':' || content_hash || ':' || withdrawn) FROM (SELECT * FROM " +
                 table + " ORDER BY record_key, entity)");
  };
  const std::string before = records("current_record");
  const std::string waiting = query("SELECT count(*) FROM canonical_record_recent");
  ASSERT_GT(std::stoi(waiting), 0) << "the DELTA's changes should wait";
  EXPECT_EQ(nlohmann::json::parse(esrsync({"status", "--json"}).out)["recent_versions"].get<int>(), std::stoi(waiting));
  EXPECT_THAT(esrsync({"status"}).out, HasSubstr("waiting to be merged into their records: " + waiting + " "));
  EXPECT_NE(records("canonical_record"), before);
  const auto exported = esrsync({"export", "--person", "10000002", "--format", "status", "--json"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const auto person = exported.out;

  const auto refused = while_store_locked([&] { return esrsync({"store", "merge"}); });
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("store.locked"));
  EXPECT_EQ(query("SELECT count(*) FROM canonical_record_recent"), waiting);

  const auto r = esrsync({"store", "merge", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["merged"].get<int>(), std::stoi(waiting));
  EXPECT_EQ(query("SELECT count(*) FROM canonical_record_recent"), "0");
  EXPECT_EQ(nlohmann::json::parse(esrsync({"status", "--json"}).out)["recent_versions"].get<int>(), 0);
  EXPECT_EQ(records("canonical_record"), before);
  EXPECT_EQ(records("current_record"), before);
  EXPECT_EQ(esrsync({"export", "--person", "10000002", "--format", "status", "--json"}).out, person);
  const auto again = esrsync({"store", "merge"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr(": 0 recent record versions merged"));
  {
    // A damaged store: a recent version whose record is gone. A clear error; nothing merged or lost.
    auto db = store::SqliteDb::open(store.string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(
        "INSERT INTO canonical_record_recent (record_key, entity, content_hash, payload, last_file_id, updated_ms) "
        "VALUES ('99999999', 'person', 'h', x'00', 1, 0)"));
  }
  const auto damaged = esrsync({"store", "merge"});
  EXPECT_EQ(damaged.exit_code, 2);
  EXPECT_THAT(damaged.err, HasSubstr("store.recent: a recent version of person 99999999 has no record to merge into"));
  EXPECT_EQ(query("SELECT count(*) FROM canonical_record_recent"), "1");
  EXPECT_EQ(records("current_record"), before);
  ASSERT_TRUE(store::SqliteDb::open(store.string())->exec("DELETE FROM canonical_record_recent"));
  drop("DE_245_OHS_20260803_0000003.DAT");
  EXPECT_NE(sync().exit_code, 2);  // and the store goes on working
}

TEST_F(SyncOnce, ConfigurationErrorsExitTwo) {
  test::write_file(dir_ / "esrsync.toml", "[store]\npath = \"state/esrsync.db\"\ncolour = \"red\"\n");
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("esrsync.toml:3: config.unknown_key"));
  const auto check = test::run_process({ESRSYNC_BINARY, "check", "--config", (dir_ / "esrsync.toml").string()});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_THAT(check.err, HasSubstr("config.missing_key"));
}

}  // namespace
}  // namespace esrsync

namespace esrsync {
namespace {

TEST_F(SyncOnce, ASecondInstanceOnTheSameStoreIsRefused) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  const auto r = while_store_locked([&] { return sync(); });
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("store.locked: another esrsync is using this store"));
  EXPECT_THAT(names("inbox"), ::testing::ElementsAre("DE_245_OHS_20260801_0000001.DAT"));
  EXPECT_EQ(sync().exit_code, 0);
}

}  // namespace
}  // namespace esrsync
