// The configuration file: a valid file loads with paths made absolute; every problem is reported
// with file:line; `check` finds missing directories and broken mappings.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "esrsync/flow/config.hpp"
#include "esrsync/store/record_store.hpp"
#include "support/capture.hpp"

namespace esrsync::flow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kValid = R"(# test configuration
[store]
path = "state/esrsync.db"

[esr]
vpds = ["245"]

[[flows]]
name = "esr-extract"
mapping = ")" + std::string(ESRSYNC_SOURCE_DIR) +
                           R"(/mappings/esr/de_extract.xml"
ack_mapping = ")" + std::string(ESRSYNC_SOURCE_DIR) +
                           R"(/mappings/esr/ack.xml"
  [flows.source]
  adapter = "dir"
  inbox = "in"
  pattern = "DE_*.DAT"
  processed = "done"
  quarantine = "bad"
  [[flows.sinks]]
  name = "oh"
  adapter = "dir"
  directory = "out"
  max_attempts = 3
)";

std::vector<std::string> problems_of(const test::TempDir& dir, const std::string& text) {
  test::write_file(dir / "esrsync.toml", text);
  std::vector<Error> problems;
  auto config = load_config((dir / "esrsync.toml").string(), &problems);
  EXPECT_EQ(config.has_value(), problems.empty());
  std::vector<std::string> out;
  for (const auto& p : problems)
    out.push_back(std::to_string(p.origin.line) + ":" + p.rule);
  return out;
}

TEST(Config, ValidFileLoadsWithPathsRelativeToIt) {
  test::TempDir dir;
  test::write_file(dir / "esrsync.toml", kValid);
  auto config = load_config((dir / "esrsync.toml").string());
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->store_path, (dir / "state/esrsync.db").string());
  EXPECT_THAT(config->vpds, ElementsAre("245"));
  ASSERT_EQ(config->flows.size(), 1u);
  const auto& flow = config->flows[0];
  EXPECT_EQ(flow.name, "esr-extract");
  EXPECT_EQ(flow.source.inbox, (dir / "in").string());
  EXPECT_EQ(flow.source.acks, (dir / "in").string());  // ACKs beside the files by default
  EXPECT_EQ(flow.source.pattern, "DE_*.DAT");
  ASSERT_EQ(flow.sinks.size(), 1u);
  EXPECT_EQ(flow.sinks[0].max_attempts, 3);
  EXPECT_EQ(flow.sinks[0].batch, 500);
}

TEST(Config, EveryProblemHasItsLine) {
  test::TempDir dir;
  std::string text = kValid;
  text.replace(text.find("pattern"), 7, "patern");                                    // line 15: a typo is an error
  text.replace(text.find("max_attempts = 3"), 16, "max_attempts = 0");                // line 22: out of range
  text.replace(text.find("adapter = \"dir\"\n  directory"), 15, "adapter = \"s3\"");  // line 20
  EXPECT_THAT(problems_of(dir, text), ElementsAre("15:config.unknown_key", "20:config.value", "22:config.value"));
}

TEST(Config, MissingPiecesAndWrongTypes) {
  test::TempDir dir;
  EXPECT_THAT(problems_of(dir, "[store]\npath = 3\n[esr]\nvpds = []\n"),
              ElementsAre("2:config.type", "4:config.missing_key", "1:config.missing_key"));
  EXPECT_THAT(problems_of(dir, "[store]\npath = \"x.db\"\n[esr]\nvpds = [\"2450\"]\n[[flows]]\nname = \"a\"\n"),
              ElementsAre("4:config.value", "5:config.missing_key", "5:config.missing_key"));
  std::string twice = kValid + kValid.substr(kValid.find("[[flows]]"));
  EXPECT_THAT(problems_of(dir, twice), ElementsAre("23:config.duplicate_flow"));
}

// Retention periods: days, 0 (nothing kept past the next run) to 3650; defaults 30 days for
// processed files, 365 for runs.
TEST(Config, RetentionPeriods) {
  test::TempDir dir;
  test::write_file(dir / "esrsync.toml", kValid);
  auto defaults = load_config((dir / "esrsync.toml").string());
  ASSERT_TRUE(defaults) << defaults.error().to_string();
  EXPECT_EQ(defaults->keep_runs_days, 365);
  EXPECT_EQ(defaults->flows[0].source.keep_processed_days, 30);

  std::string text = kValid;
  text.replace(text.find("path = \"state/esrsync.db\""), 25, "path = \"state/esrsync.db\"\nkeep_runs_days = 0");
  text.replace(text.find("  quarantine = \"bad\""), 20, "  quarantine = \"bad\"\n  keep_processed_days = 7");
  test::write_file(dir / "esrsync.toml", text);
  auto set = load_config((dir / "esrsync.toml").string());
  ASSERT_TRUE(set) << set.error().to_string();
  EXPECT_EQ(set->keep_runs_days, 0);
  EXPECT_EQ(set->flows[0].source.keep_processed_days, 7);

  std::string wrong = kValid;
  wrong.replace(wrong.find("path = \"state/esrsync.db\""), 25, "path = \"state/esrsync.db\"\nkeep_runs_days = -1");
  wrong.replace(wrong.find("  quarantine = \"bad\""), 20, "  quarantine = \"bad\"\n  keep_processed_days = 3651");
  EXPECT_THAT(problems_of(dir, wrong), ElementsAre("4:config.value", "19:config.value"));
}

// How many record changes may wait among the store's recent versions before a file merges them.
TEST(Config, MergeRecentAt) {
  test::TempDir dir;
  auto defaults = parse_config(kValid, (dir / "e.toml").string());
  ASSERT_TRUE(defaults) << defaults.error().to_string();
  EXPECT_EQ(defaults->merge_recent_at, store::RecordStore::kMergeAtRows);
  std::string text = kValid;
  text.replace(text.find("path = \"state/esrsync.db\""), 25, "path = \"state/esrsync.db\"\nmerge_recent_at = 1");
  auto set = parse_config(text, (dir / "e.toml").string());
  ASSERT_TRUE(set) << set.error().to_string();
  EXPECT_EQ(set->merge_recent_at, 1);
  for (const auto& [wrong, rule] : {std::pair{"0", "4:config.value"}, std::pair{"10000001", "4:config.value"},
                                    std::pair{"\"many\"", "4:config.type"}}) {
    std::string bad = kValid;
    bad.replace(bad.find("path = \"state/esrsync.db\""), 25,
                std::string("path = \"state/esrsync.db\"\nmerge_recent_at = ") + wrong);
    EXPECT_THAT(problems_of(dir, bad), ElementsAre(rule)) << wrong;
  }
}

TEST(Config, WithdrawalLimit) {
  test::TempDir dir;
  auto defaults = parse_config(kValid, (dir / "e.toml").string());
  ASSERT_TRUE(defaults) << defaults.error().to_string();
  EXPECT_EQ(defaults->withdraw_limit_percent, 10);
  EXPECT_EQ(defaults->withdraw_limit_min, 100);

  std::string text = kValid;
  text.replace(text.find("vpds = [\"245\"]"), 14,
               "vpds = [\"245\"]\nwithdraw_limit_percent = 0\nwithdraw_limit_min = 5");
  auto set = parse_config(text, (dir / "e.toml").string());
  ASSERT_TRUE(set) << set.error().to_string();
  EXPECT_EQ(set->withdraw_limit_percent, 0);
  EXPECT_EQ(set->withdraw_limit_min, 5);

  std::string wrong = kValid;
  wrong.replace(wrong.find("vpds = [\"245\"]"), 14,
                "vpds = [\"245\"]\nwithdraw_limit_percent = 101\nwithdraw_limit_min = 0");
  EXPECT_THAT(problems_of(dir, wrong), ElementsAre("7:config.value", "8:config.value"));
}

TEST(Config, MatchingProviderAndSharedSinks) {
  test::TempDir dir;
  auto ok = parse_config(kValid + "[matching]\nauto = 0.95\nreview = 0.6\n[provider]\ncode = \"OHP01\"\n",
                         (dir / "e.toml").string());
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_DOUBLE_EQ(ok->matching.auto_threshold, 0.95);
  EXPECT_DOUBLE_EQ(ok->matching.review_threshold, 0.6);
  EXPECT_EQ(ok->provider_code, "OHP01");
  EXPECT_THAT(problems_of(dir, kValid + "[matching]\nauto = 0.5\nreview = 0.7\nmargin = 2\n"),
              ElementsAre("26:config.value", "23:config.value"));  // margin out of range; review above auto
  // The same sink name in a second flow is the same sink: it must be declared alike.
  std::string second = kValid.substr(kValid.find("[[flows]]"));
  second.replace(second.find("esr-extract"), 11, "again");
  EXPECT_THAT(problems_of(dir, kValid + second), ::testing::IsEmpty());
  second.replace(second.find("directory = \"out\""), 17, "directory = \"elsewhere\"");
  EXPECT_THAT(problems_of(dir, kValid + second), ElementsAre("1:config.duplicate_sink"));
  // A staff-history sink needs the sending provider's code.
  EXPECT_THAT(problems_of(dir, kValid + "  [[flows.sinks]]\n  name = \"t\"\n  adapter = \"dir\"\n  kind = "
                                        "\"staff-history\"\n  directory = \"out\"\n"),
              ElementsAre("1:config.missing_key"));
}

TEST(Config, SyntaxErrorsAndMissingFile) {
  test::TempDir dir;
  EXPECT_THAT(problems_of(dir, "[store]\npath = \"unterminated\n"), ElementsAre("2:config.syntax"));
  std::vector<Error> problems;
  EXPECT_FALSE(load_config((dir / "absent.toml").string(), &problems));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rule, "config.open");
}

TEST(Config, EnvironmentCheckFindsMissingDirectoriesAndBrokenMappings) {
  test::TempDir dir;
  std::string text = kValid;
  text.replace(text.find("/mappings/esr/ack.xml"), 21, "/mappings/esr/nope.xml");
  test::write_file(dir / "esrsync.toml", text);
  auto config = load_config((dir / "esrsync.toml").string());
  ASSERT_TRUE(config);
  std::vector<Error> problems;
  EXPECT_EQ(check_environment(*config, problems), 7u);  // store, inbox, done, bad, acks(=in), out + mapping
  std::string all;
  for (const auto& p : problems)
    all += p.to_string() + "\n";
  EXPECT_THAT(all, HasSubstr("inbox directory " + (dir / "in").string() + " does not exist"));
  EXPECT_THAT(all, HasSubstr("mapping.open"));
  for (const auto* d : {"state", "in", "done", "bad", "out"})
    std::filesystem::create_directories(dir / d);
  std::vector<Error> fixed;
  EXPECT_EQ(check_environment(*config, fixed), 1u);  // only the mapping is left
}

}  // namespace
}  // namespace esrsync::flow

namespace esrsync::flow {
namespace {

TEST(Config, ShippedExamplesParse) {
  for (const auto* example : {"/systemd/esrsync.toml", "/sample-data/esrsync.toml"}) {
    std::vector<Error> problems;
    auto config = load_config(std::string(ESRSYNC_SOURCE_DIR) + example, &problems);
    EXPECT_TRUE(config) << example << ": " << (problems.empty() ? "" : problems.front().to_string());
  }
}

}  // namespace
}  // namespace esrsync::flow
