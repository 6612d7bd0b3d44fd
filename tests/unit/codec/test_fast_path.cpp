// Differential test of the record builder's fast path: the same input through a shipped mapping and
// through a copy whose every field ends in a no-op <pattern> (which sends every field down the
// general path) must give identical records and identical located errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <regex>

#include "support/decode.hpp"
#include "support/test_sources.hpp"

namespace esrsync::codec {
namespace {

std::shared_ptr<const mapping::Mapping> general_only(const mapping::Mapping& fast) {
  auto copy = std::make_shared<mapping::Mapping>(fast);
  mapping::Step no_op;
  no_op.kind = mapping::StepKind::pattern;
  no_op.text = "[\\s\\S]*";
  no_op.regex = std::make_shared<const std::regex>(no_op.text);
  for (auto& record : copy->records) {
    for (auto& field : record.fields)
      field.steps.push_back(no_op);
  }
  return copy;
}

std::string describe(const test::Decoded& d) {
  std::string out;
  for (const auto& r : d.records) {
    out += std::to_string(r.line) + " " + r.record_type;
    for (std::size_t i = 0; i < r.values.size(); ++i)
      out += "|" + std::string(r.values[i]);
    out += "\n";
  }
  for (const auto& errors : d.rejected) {
    for (const auto& e : errors)
      out += e.to_string() + "\n";
  }
  for (const auto& e : d.file_errors)
    out += e.to_string() + "\n";
  return out;
}

// Random edits that hit every branch of the fast path: case, spaces, digits, separators' neighbours,
// non-ASCII, control bytes, emptiness.
std::string mutate(std::string line, std::mt19937& rng) {
  static const std::vector<std::string> kInserts{" ", "  ", "a", "Z", "é",    "\t", "0",
                                                 "9", "-",  "/", "",  "\x01", "Y",  "n"};
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < edits && line.size() > 4; ++i) {
    const std::size_t at = 4 + rng() % (line.size() - 5);
    if (line[at] == '|' || line[at] == '\n') continue;
    switch (rng() % 4) {
      case 0:
        line.erase(at, 1);
        break;
      case 1:
        line.insert(at, kInserts[rng() % kInserts.size()]);
        break;
      case 2:
        line[at] = static_cast<char>(std::islower(static_cast<unsigned char>(line[at])) ? std::toupper(line[at])
                                                                                        : std::tolower(line[at]));
        break;
      default:
        line[at] = static_cast<char>('0' + rng() % 10);
        break;
    }
  }
  return line;
}

TEST(FastPath, SameResultsAsTheGeneralPathOnMutatedEsrRecords) {
  auto fast = test::shipped_mapping("mappings/esr/de_extract.xml");
  auto general = general_only(*fast);
  const std::string hdr = "HDR|ESR-OHS|1.0|245|DELTA|7|20260801020000\n";
  const std::vector<std::string> lines{
      "PER|A|10000001|E1|AB123456C|9434765919|Dr|O'Brien|Siobhan||19880314|F|s@example.nhs.uk|07700900001|ls1 4ap|Y\n",
      "PER|C|10000002| E2 |ce654321a|943 476 6281|Mr|Smith-Jones|Daniel|Jones|20000229|M||| LS2 9JT |\n",
      "ASG|A|10000001|10000001-1|RR8|Registrar|Medical and Dental|M03|Paeds|LGI|20260806||Y|Y|Y|ST4|Y\n",
      "ASG|D|10000002|10000002-12| RR8 |Nurse|Nursing|N0A|Theatres|SJUH|20240115|20250101|N|N|N|Band 5|N\n"};
  std::mt19937 rng(424242);
  int differing = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string file = hdr;
    for (int i = 0; i < 4; ++i)
      file += mutate(lines[rng() % lines.size()], rng);
    file += "TRL|4\n";
    const auto a = test::decode_string(*fast, file);
    const auto b = test::decode_string(*general, file);
    if (describe(a) != describe(b)) {
      ++differing;
      ADD_FAILURE() << "fast and general paths differ on:\n"
                    << file << "fast:\n"
                    << describe(a) << "general:\n"
                    << describe(b);
      if (differing > 3) break;
    }
  }
}

// The delimited decoder finds and splits a line in one pass when the line is wholly in its buffer,
// and otherwise reads on and splits it the careful way. Bytes handed over a few at a time send most
// lines the careful way; whole, most the fast way: the records and errors must be the same.
TEST(FastPath, LineScanAgreesWithTheCarefulPath) {
  auto mapping = test::shipped_mapping("mappings/esr/de_extract.xml");
  const std::vector<std::string> lines{
      "PER|A|10000001|E1|AB123456C|9434765919|Dr|O'Brien|Siobhan||19880314|F|s@example.nhs.uk|07700900001|ls1 4ap|Y",
      "PER|C|10000002| E2 |ce654321a|943 476 6281|Mr|Smith-Jones|Daniel|Jones|20000229|M||| LS2 9JT |",
      "ASG|A|10000001|10000001-1|RR8|Registrar|Medical and Dental|M03|Paeds|LGI|20260806||Y|Y|Y|ST4|Y",
      "ASG|D|10000002|10000002-12| RR8 |Nurse|Nursing|N0A|Theatres|SJUH|20240115|20250101|N|N|N|Band 5|N",
      "PER|A|1|2",
      "",
      "ZZZ|unknown"};
  std::mt19937 rng(777);
  for (int round = 0; round < 600; ++round) {
    std::string file = "HDR|ESR-OHS|1.0|245|DELTA|7|20260801020000\n";
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      std::string line = mutate(lines[rng() % lines.size()] + "\n", rng);
      if (rng() % 5 == 0) line.insert(line.size() - 1, "\r");      // CRLF
      if (rng() % 7 == 0) line.insert(rng() % line.size(), "\r");  // a stray CR
      if (rng() % 9 == 0) {  // many separators: more fields than the decoder first has room for
        line.insert(0, std::string(rng() % 2 == 0 ? rng() % 40 : 300 + rng() % 3000, '|'));
      }
      file += line;
    }
    if (rng() % 3 != 0) file += "TRL|" + std::to_string(n) + (rng() % 2 == 0 ? "\n" : "");
    const auto whole = test::decode_string(*mapping, file, "<chunked>");
    test::ChunkedSource chunked(file, 1 + rng() % 13);
    const auto pieces = test::decode_source(*mapping, chunked);
    ASSERT_EQ(describe(whole), describe(pieces)) << file;
  }
}

TEST(FastPath, ALineOfThousandsOfFieldsIsCountedExactly) {
  auto mapping = test::shipped_mapping("mappings/esr/de_extract.xml");
  const std::string file = "HDR|ESR-OHS|1.0|245|DELTA|7|20260801020000\nPER" + std::string(5000, '|') + "\nTRL|1\n";
  for (const std::size_t chunk : {std::size_t{0}, std::size_t{7}}) {
    test::ChunkedSource pieces(file, chunk == 0 ? file.size() : chunk);
    const auto d = test::decode_source(*mapping, pieces);
    ASSERT_EQ(d.rejected.size(), 1U) << chunk;
    EXPECT_EQ(d.rejected[0][0].rule, "record.field_count");
    EXPECT_THAT(d.rejected[0][0].message, ::testing::HasSubstr("PER record has 5001 fields"));
  }
}

// The fast path accepts a date of birth well inside the 100 years on its own and leaves the edges
// (today, 100 years ago, 29 February) to the validator: both paths must agree on every one.
TEST(FastPath, SameResultsOnDatesOfBirthAtTheEdges) {
  auto fast = test::shipped_mapping("mappings/esr/de_extract.xml");
  auto general = general_only(*fast);
  const std::vector<std::string> dobs{"20260901", "20260902", "20260831", "19260901", "19260831", "19260902",
                                      "19270101", "19261231", "19280229", "19250229", "20240229", "20250229",
                                      "00000101", "99991231", "19000101", "20261301", "20260230"};
  const std::vector<model::Date> todays{{2026, 9, 1}, {2024, 2, 29}, {2026, 1, 1}, {2100, 3, 1}};
  for (const auto& today : todays) {
    std::string file = "HDR|ESR-OHS|1.0|245|DELTA|7|20260801020000\n";
    for (const auto& dob : dobs)
      file += "PER|A|10000001|E1|AB123456C|9434765919|Dr|Okafor|Ada||" + dob + "|F|||LS1 4AP|Y\n";
    file += "TRL|" + std::to_string(dobs.size()) + "\n";
    const auto a = test::decode_string(*fast, file, "test.DAT", today);
    const auto b = test::decode_string(*general, file, "test.DAT", today);
    EXPECT_EQ(describe(a), describe(b)) << today.year << "-" << today.month << "-" << today.day;
    EXPECT_FALSE(a.records.empty());
    EXPECT_FALSE(a.rejected.empty());
  }
}

TEST(FastPath, SameResultsOnTheOhCsvMapping) {
  auto fast = test::shipped_mapping("mappings/oh/generic_csv.xml");
  auto general = general_only(*fast);
  const std::string header =
      "Record ID,Staff ID,Person Number,Surname,Forename(s),Date of Birth,NI Number,NHS Number,Vaccine/Test,Dose,"
      "Date Given,Result,Titre (mIU/mL),Provider\n";
  const std::string row =
      "OHR1,E1,10000001,O'Brien,Siobhan,14/03/1988,AB123456C,9434765919,Anti-HBs,2,12/07/2026,Positive,145,ohp01\n";
  std::mt19937 rng(99);
  for (int round = 0; round < 2000; ++round) {
    std::string file = header;
    for (int i = 0; i < 3; ++i)
      file += mutate(row, rng);
    const auto a = test::decode_string(*fast, file);
    const auto b = test::decode_string(*general, file);
    ASSERT_EQ(describe(a), describe(b)) << file;
  }
}

}  // namespace
}  // namespace esrsync::codec
