// The operator's commands against a store a real sync filled: queue list/show/retry/purge, runs,
// status and release-gap, with their exit codes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/sync_environment.hpp"

namespace esrsync {
namespace {

using ::testing::HasSubstr;
using Operator = test::SyncEnvironment;

TEST_F(Operator, DeadLettersAreListedShownRetriedAndDelivered) {
  // A sink that fails once and gives up at once: every change becomes a dead letter.
  add_sink_keys("max_attempts = 1\n");
  drop("DE_245_OHS_20260801_0000001.DAT");
  std::filesystem::create_directories(dir_ / "out/esr-oh-1-1.jsonl/occupied");
  EXPECT_EQ(sync().exit_code, 1);

  const auto dead = esrsync({"queue", "list", "--state", "dead", "--json"});
  EXPECT_EQ(dead.exit_code, 0) << dead.err;
  // The sink takes JSON-lines files: the file's 14 changes are one batch, dead as one.
  EXPECT_EQ(std::count(dead.out.begin(), dead.out.end(), '{'), 1);
  EXPECT_THAT(dead.out, HasSubstr("\"changes\": 14"));
  EXPECT_THAT(dead.out, HasSubstr("Is a directory"));
  EXPECT_THAT(dead.out, ::testing::Not(HasSubstr("O'Brien")));  // listings carry keys, not personal data

  const auto shown = esrsync({"queue", "show", "1"});
  EXPECT_EQ(shown.exit_code, 0);
  EXPECT_THAT(shown.out, HasSubstr("\"surname\": \"O'Brien\""));  // the payload, on explicit request
  const auto shown_lines = nlohmann::json::parse(shown.out, nullptr, false);
  ASSERT_FALSE(shown_lines.is_discarded()) << shown.out;
  EXPECT_EQ(shown_lines["payload"].size(), 14U);  // each change with its own idempotency key
  EXPECT_EQ(shown_lines["payload"][0]["idempotency_key"].get<std::string>().rfind("oh:person:10000001:inserted:", 0),
            0U);
  EXPECT_EQ(esrsync({"queue", "show", "999"}).exit_code, 1);

  const auto status = esrsync({"status"});
  EXPECT_THAT(status.out, HasSubstr("\"dead\":14"));

  std::filesystem::remove_all(dir_ / "out/esr-oh-1-1.jsonl");
  const auto retried = esrsync({"queue", "retry", "--all"});
  EXPECT_EQ(retried.exit_code, 0);
  EXPECT_THAT(retried.out, HasSubstr("14 dead letter(s) queued again"));
  EXPECT_EQ(sync().exit_code, 0);
  const std::string delivered = outbox_text();
  EXPECT_EQ(std::count(delivered.begin(), delivered.end(), '\n'), 14);
  EXPECT_THAT(esrsync({"queue", "purge", "--older-than-days", "0"}).out, HasSubstr("14 delivered entries purged"));
}

TEST_F(Operator, RunsStatusAndReleaseGap) {
  for (const auto* f : {"DE_245_OHS_20260801_0000001.DAT", "DE_245_OHS_20260802_0000002.DAT",
                        "DE_245_OHS_20260803_0000003.DAT", "DE_245_OHS_20260804_0000004.DAT"}) {
    drop(f);
  }
  sync();
  const auto runs = esrsync({"runs", "--json"});
  EXPECT_EQ(runs.exit_code, 0);
  EXPECT_THAT(runs.out, HasSubstr("\"held\": 1"));
  EXPECT_THAT(runs.out, HasSubstr("\"clean\": false"));
  const auto status = esrsync({"status"});
  EXPECT_THAT(status.out, HasSubstr("DE_245_OHS_20260804_0000004.DAT (VPD 245, sequence 4)"));

  EXPECT_EQ(esrsync({"release-gap", "--vpd", "245", "--seq", "9"}).exit_code, 1);
  const auto released = esrsync({"release-gap", "--vpd", "245", "--seq", "4", "--by", "ops on call"});
  EXPECT_EQ(released.exit_code, 0) << released.err;
  EXPECT_THAT(released.out, HasSubstr("will be applied by the next sync despite the gap"));
  const auto after = sync({"--json"});
  // Released: no longer held; this file then fails on its own TRL count and is rejected.
  EXPECT_THAT(after.out, HasSubstr("\"outcome\": \"rejected\""));
  EXPECT_THAT(esrsync({"status"}).out, HasSubstr("held files: 0"));
}

TEST_F(Operator, CommandsNeedAValidConfiguration) {
  test::write_file(dir_ / "esrsync.toml", "[store]\n");
  EXPECT_EQ(esrsync({"runs"}).exit_code, 2);
  EXPECT_EQ(esrsync({"queue", "list", "--state", "lost"}).exit_code, 2);
}

}  // namespace
}  // namespace esrsync
