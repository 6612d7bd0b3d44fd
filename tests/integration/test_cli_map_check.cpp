// The real esrsync binary: `map` and `check` exit codes, stdout/stderr split, located errors, and
// that bad input never crashes or hangs the program.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "support/capture.hpp"
#include "support/process.hpp"

namespace esrsync {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kBinary = ESRSYNC_BINARY;
const std::string kSource = ESRSYNC_SOURCE_DIR;

test::ProcessResult esrsync(std::vector<std::string> args) {
  args.insert(args.begin(), kBinary);
  return test::run_process(args, std::chrono::seconds(60), kSource);
}

TEST(CliMap, GoodFilePrintsJsonLinesAndExitsZero) {
  const auto r = esrsync({"map", "--today", "2026-09-01", "--mapping", "mappings/esr/de_extract.xml",
                          "sample-data/esr/DE_245_OHS_20260801_0000001.DAT"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 16);
  EXPECT_THAT(r.out, StartsWith("{\"file\":\"sample-data/esr/DE_245_OHS_20260801_0000001.DAT\",\"line\":1,"));
  EXPECT_EQ(r.err, "map: 1 file(s), 16 record(s) decoded, 0 rejected, 0 file(s) with file-level errors\n");
}

TEST(CliMap, RecordErrorsGoToStderrWithLocationAndExitOne) {
  const auto r = esrsync(
      {"map", "--today", "2026-09-01", "-m", "mappings/oh/generic_csv.xml", "sample-data/oh/oh_export_20260805.csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("sample-data/oh/oh_export_20260805.csv:9: lookup.unknown_code: unknown code "
                               "'Yellow fever vaccine'"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("OHR0000107")));  // the rejected record is not printed
  EXPECT_THAT(r.out, HasSubstr("\"event_id\":\"OHR0000106\""));
}

TEST(CliMap, InvalidMappingExitsTwo) {
  test::TempDir dir;
  test::write_file(dir / "bad.xml", "<mapping name=\"x\" format=\"csv\">\n<record entity=\"nobody\"/>\n</mapping>\n");
  const auto r = esrsync({"map", "-m", (dir / "bad.xml").string(), "sample-data/oh/oh_export_20260805.csv"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr((dir / "bad.xml").string() + ":2: mapping.entity"));
  EXPECT_EQ(r.out, "");
}

TEST(CliMap, MissingInputFileExitsTwo) {
  const auto r = esrsync({"map", "-m", "mappings/esr/de_extract.xml", "sample-data/esr/nope.DAT"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("sample-data/esr/nope.DAT: file.open: cannot open"));
}

TEST(CliMap, UsageErrorsExitTwo) {
  EXPECT_EQ(esrsync({"map", "sample-data/esr/x.DAT"}).exit_code, 2);
  EXPECT_EQ(esrsync({"map", "-m", "mappings/esr/de_extract.xml", "--today", "31/12/2026", "x"}).exit_code, 2);
  EXPECT_EQ(esrsync({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(esrsync({"check"}).exit_code, 2);
}

TEST(CliMap, ReadsStandardInputWithDash) {
  // run_process gives the child /dev/null as stdin: an empty DE file.
  const auto r = esrsync({"map", "-m", "mappings/esr/de_extract.xml", "-"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("<stdin>: file.empty"));
}

TEST(CliMap, JunkFilesNeverCrashOrHang) {
  test::TempDir dir;
  std::mt19937 rng(7);
  std::vector<std::string> files;
  for (int i = 0; i < 8; ++i) {
    std::string junk(1 + rng() % 200000, '\0');
    for (auto& c : junk)
      c = static_cast<char>(rng());
    const auto path = dir / ("junk" + std::to_string(i));
    test::write_file(path, junk);
    files.push_back(path.string());
  }
  for (const auto* mapping :
       {"mappings/esr/de_extract.xml", "mappings/oh/generic_csv.xml", "mappings/oh/generic_xml.xml"}) {
    std::vector<std::string> args{"map", "-q", "-m", mapping};
    args.insert(args.end(), files.begin(), files.end());
    const auto r = esrsync(args);
    EXPECT_FALSE(r.timed_out) << mapping;
    EXPECT_EQ(r.signal, 0) << mapping;
    EXPECT_EQ(r.exit_code, 1) << mapping << "\n" << r.err.substr(0, 2000);
  }
}

TEST(CliCheck, ShippedMappingsAreValid) {
  const auto r = esrsync({"check", "--mappings", "mappings"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("0 problem(s)"));
}

TEST(CliCheck, ProblemsAreListedWithFileAndLine) {
  test::TempDir dir;
  test::write_file(dir / "m.xml",
                   "<mapping name=\"x\" format=\"delimited\">\n<record type=\"PER\" entity=\"person\">\n"
                   "<field target=\"surname\" pos=\"2\"><uppercase/></field>\n"
                   "<field target=\"shoe_size\" pos=\"3\"/>\n</record>\n</mapping>\n");
  const auto r = esrsync({"check", "--mapping", (dir / "m.xml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr((dir / "m.xml").string() + ":3: mapping.step: unknown transform <uppercase>"));
  EXPECT_THAT(r.err, HasSubstr((dir / "m.xml").string() + ":4: mapping.field: 'shoe_size' is not a field of person"));
}

}  // namespace
}  // namespace esrsync
