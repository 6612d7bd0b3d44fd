// Golden files (STYLE.md rule 23): each shipped mapping over its sample files produces exactly the
// JSON lines and errors recorded in tests/golden/. Regenerate with ESRSYNC_UPDATE_GOLDEN=1 and review
// the diff.

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "esrsync/ops/map_command.hpp"
#include "support/capture.hpp"

namespace esrsync {
namespace {

namespace fs = std::filesystem;

struct GoldenCase {
  std::string mapping;
  std::string sample;
};

void PrintTo(const GoldenCase& c, std::ostream* os) {
  *os << c.mapping << " over " << c.sample;
}

// Dates in the samples are judged against a fixed "today", so the goldens never age.
constexpr model::Date kToday{2026, 9, 1};

class GoldenMapping : public ::testing::TestWithParam<GoldenCase> {
 protected:
  void SetUp() override {
    old_cwd_ = fs::current_path();
    fs::current_path(ESRSYNC_SOURCE_DIR);  // paths in the output are repository-relative
  }
  void TearDown() override { fs::current_path(old_cwd_); }
  fs::path old_cwd_;
};

TEST_P(GoldenMapping, MatchesGoldenOutput) {
  const auto& c = GetParam();
  test::CapturedFile out;
  test::CapturedFile err;
  const int rc = ops::run_map(ops::MapOptions{c.mapping, {c.sample}, kToday, false}, out.get(), err.get());
  const std::string stdout_text = out.text();
  const std::string stderr_text = err.text() + "exit: " + std::to_string(rc) + "\n";

  const fs::path golden = fs::path("tests/golden") / fs::path(c.sample).filename();
  const fs::path golden_out = golden.string() + ".jsonl";
  const fs::path golden_err = golden.string() + ".stderr";
  if (std::getenv("ESRSYNC_UPDATE_GOLDEN") != nullptr) {
    test::write_file(golden_out, stdout_text);
    test::write_file(golden_err, stderr_text);
    GTEST_SKIP() << "golden files rewritten: " << golden;
  }
  ASSERT_TRUE(fs::exists(golden_out)) << "no golden file " << golden_out << " (run with ESRSYNC_UPDATE_GOLDEN=1)";
  EXPECT_EQ(stdout_text, test::read_file(golden_out)) << "records differ from " << golden_out;
  EXPECT_EQ(stderr_text, test::read_file(golden_err)) << "errors differ from " << golden_err;
}

std::vector<GoldenCase> all_cases() {
  const fs::path root(ESRSYNC_SOURCE_DIR);
  std::vector<GoldenCase> cases;
  for (const auto& entry : fs::directory_iterator(root / "sample-data/esr")) {
    const std::string name = entry.path().filename().string();
    const std::string rel = "sample-data/esr/" + name;
    if (name.rfind("DE_", 0) == 0 && entry.path().extension() == ".DAT") {
      cases.push_back({"mappings/esr/de_extract.xml", rel});
    } else if (name.rfind("DI_", 0) == 0 && entry.path().extension() == ".DAT") {
      cases.push_back({"mappings/esr/di_return.xml", rel});
    } else if (entry.path().extension() == ".ACK") {
      cases.push_back({"mappings/esr/ack.xml", rel});
    }
  }
  for (const auto& entry : fs::directory_iterator(root / "sample-data/oh")) {
    const std::string name = entry.path().filename().string();
    const std::string rel = "sample-data/oh/" + name;
    if (name.starts_with("oh_clearances_")) {
      cases.push_back({"mappings/oh/generic_clearance_csv.xml", rel});
    } else if (entry.path().extension() == ".csv") {
      cases.push_back({"mappings/oh/generic_csv.xml", rel});
    }
    if (entry.path().extension() == ".xml") cases.push_back({"mappings/oh/generic_xml.xml", rel});
  }
  std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.sample < b.sample; });
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<GoldenCase>& info) {
  std::string name = fs::path(info.param.sample).filename().string();
  for (auto& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(SampleData, GoldenMapping, ::testing::ValuesIn(all_cases()), case_name);

TEST(GoldenMapping, EverySampleFileIsCovered) {
  std::size_t samples = 0;
  for (const auto& dir : {"sample-data/esr", "sample-data/oh"}) {
    for (const auto& e : fs::directory_iterator(fs::path(ESRSYNC_SOURCE_DIR) / dir)) {
      if (e.is_regular_file()) ++samples;
    }
  }
  EXPECT_EQ(all_cases().size(), samples) << "a sample file has no mapping in the golden test";
}

}  // namespace
}  // namespace esrsync
