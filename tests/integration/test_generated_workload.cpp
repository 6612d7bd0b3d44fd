// Cross-check against an independent implementation: the benchmark generator writes an ESR FULL
// extract with one deliberate mistake in every K-th record, and esrsync must reject exactly the
// records the stdlib Python baseline (bench/baseline_esr.py, written separately from the C++ code)
// rejects, for the same rules. The same for a clean extract and the OH exports (no rejections).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "support/capture.hpp"
#include "support/process.hpp"

namespace esrsync {
namespace {

const std::string kSource = ESRSYNC_SOURCE_DIR;

// The number after `word` in `text` ("… 12 rejected" / "errors=12"), or -1.
long long number_in(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return -1;
  return std::stoll(m[1].str());
}

std::string generate(const test::TempDir& dir, const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> argv{ESRSYNC_BENCH_GEN};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = test::run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto path = dir / name;
  test::write_file(path, r.out);
  return path.string();
}

// `map` on a terminal shows how far it is in a large file (stderr decides: the records go to a
// file), and erases that line before each error and before its summary.
TEST(GeneratedWorkload, MapOnATerminalShowsProgressAndErasesItBeforeAnError) {
  if (!test::terminals_available()) GTEST_SKIP() << "no pseudo-terminals on this machine";
  test::TempDir dir;
  // About 92,000 records: the line appears at record 65,536, and record 80,000 is bad.
  const std::string file = generate(dir, {"esr-full", "--persons", "40000", "--seed", "3", "--bad-every", "80000"},
                                    "DE_245_OHS_20260801_0000001.DAT");
  const auto r = test::run_on_terminal({"/bin/sh", "-c",
                                        std::string(ESRSYNC_BINARY) + " map --today 2026-09-01 --mapping " + kSource +
                                            "/mappings/esr/de_extract.xml " + file + " > " + (dir / "out").string()},
                                       250);  // wide enough for the temporary directory's path
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const auto shown = r.out.find("\rmap: " + file + ": 65536 record(s) so far\033[K");
  ASSERT_NE(shown, std::string::npos) << r.out;
  const auto error = r.out.find(file + ":80001:");  // the HDR is line 1
  ASSERT_NE(error, std::string::npos) << r.out;
  EXPECT_LT(shown, error);
  EXPECT_EQ(r.out.rfind("\r\033[K", error), error - 4) << "erased right before the error: " << r.out;
  EXPECT_THAT(r.out, ::testing::HasSubstr("map: 1 file(s), "));
  EXPECT_EQ(r.out.find("\033", error), std::string::npos) << "nothing shown after it (a record every 65,536)";
}

TEST(GeneratedWorkload, RejectsExactlyWhatThePythonBaselineRejects) {
  test::TempDir dir;
  for (const int every : {0, 7, 1}) {
    const std::string file =
        generate(dir, {"esr-full", "--persons", "3000", "--seed", "11", "--bad-every", std::to_string(every)},
                 "DE_245_OHS_20260801_0000001.DAT");
    const auto python =
        test::run_process({"/usr/bin/python3", kSource + "/bench/baseline_esr.py", "--today", "20260901", file});
    const auto esrsync = test::run_process({ESRSYNC_BINARY, "map", "-q", "--today", "2026-09-01", "--mapping",
                                            kSource + "/mappings/esr/de_extract.xml", file});
    const long long python_errors = number_in(python.out, R"(errors=(\d+))");
    const long long python_records = number_in(python.out, R"(records=(\d+))");
    const long long esrsync_rejected = number_in(esrsync.err, R"((\d+) rejected)");
    const long long esrsync_decoded = number_in(esrsync.err, R"((\d+) record\(s\) decoded)");
    ASSERT_GT(python_records, 3000) << python.out << python.err;
    EXPECT_EQ(esrsync_rejected, python_errors) << "bad-every " << every;
    EXPECT_EQ(esrsync_decoded + esrsync_rejected, python_records + 2) << "HDR and TRL are records in map";
    if (every == 0) {
      EXPECT_EQ(esrsync_rejected, 0);
      EXPECT_EQ(esrsync.exit_code, 0) << esrsync.err.substr(0, 2000);
    } else {
      EXPECT_EQ(esrsync_rejected, python_records / every);
      EXPECT_EQ(esrsync.exit_code, 1);
    }
  }
}

TEST(GeneratedWorkload, OhExportsDecodeClean) {
  test::TempDir dir;
  const std::string csv = generate(dir, {"oh-csv", "--records", "5000", "--seed", "3"}, "oh.csv");
  const std::string xml = generate(dir, {"oh-xml", "--records", "5000", "--seed", "3"}, "oh.xml");
  for (const auto& [mapping, file] : {std::pair{"generic_csv", csv}, std::pair{"generic_xml", xml}}) {
    const auto r = test::run_process({ESRSYNC_BINARY, "map", "--today", "2026-09-01", "--mapping",
                                      kSource + "/mappings/oh/" + mapping + ".xml", file});
    EXPECT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5000) << mapping;
  }
}

}  // namespace
}  // namespace esrsync
