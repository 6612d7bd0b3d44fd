// The ESR DE extract through the shipped mapping: good files, every file-level rule of DOMAIN.md
// that the decoder owns, and bad input of every kind giving a located error.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "support/decode.hpp"

namespace esrsync::codec {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kHdr = "HDR|ESR-OHS|1.0|245|DELTA|7|20260801020000\n";
const std::string kPer =
    "PER|A|10000001|E1|AB123456C|9434765919|Dr|O'Brien|Siobhan||19880314|F|s@example.nhs.uk|07700900001|ls1 4ap|Y\n";
const std::string kAsg =
    "ASG|A|10000001|10000001-1|RR8|Registrar|Medical and Dental|M03|Paeds|LGI|20260806||Y|Y|Y|ST4|Y\n";

class DeExtract : public ::testing::Test {
 protected:
  std::shared_ptr<const mapping::Mapping> mapping_ = test::shipped_mapping("mappings/esr/de_extract.xml");
  test::Decoded decode(std::string bytes) { return test::decode_string(*mapping_, std::move(bytes)); }
};

TEST_F(DeExtract, GoodFileGivesCanonicalRecords) {
  const auto d = decode(kHdr + kPer + kAsg + "TRL|2\n");
  EXPECT_THAT(d.rules(), IsEmpty());
  ASSERT_EQ(d.records.size(), 4u);
  const auto& header = d.records[0];
  EXPECT_EQ(header.entity, model::Entity::file_header);
  EXPECT_EQ(header.get("vpd"), "245");
  EXPECT_EQ(header.get("seq"), "7");
  EXPECT_EQ(header.get("created"), "2026-08-01T02:00:00");
  const auto& person = d.records[1];
  EXPECT_EQ(person.entity, model::Entity::person);
  EXPECT_EQ(person.line, 2u);
  EXPECT_EQ(person.get("surname"), "O'Brien");
  EXPECT_EQ(person.get("date_of_birth"), "1988-03-14");
  EXPECT_EQ(person.get("postcode"), "LS1 4AP");
  EXPECT_EQ(person.get("transfer_consent"), "Y");
  const auto& assignment = d.records[2];
  EXPECT_EQ(assignment.get("assignment_number"), "10000001-1");
  EXPECT_EQ(assignment.get("start_date"), "2026-08-06");
  EXPECT_EQ(assignment.get("end_date"), "");
  EXPECT_EQ(d.records[3].get("record_count"), "2");
  EXPECT_EQ(d.stats.records_read, 2u);
  EXPECT_EQ(d.stats.accepted, 2u);
}

TEST_F(DeExtract, CrlfLineEndsAreAccepted) {
  std::string crlf;
  for (const char c : kHdr + kPer + kAsg + "TRL|2\n") {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const auto d = decode(crlf);
  EXPECT_THAT(d.rules(), IsEmpty());
  ASSERT_EQ(d.records.size(), 4u);
  EXPECT_EQ(d.records[2].get("epp"), "Y");  // last field: no stray CR
}

TEST_F(DeExtract, NoFinalLineBreakIsAccepted) {
  const auto d = decode(kHdr + kPer + kAsg + "TRL|2");
  EXPECT_THAT(d.rules(), IsEmpty());
  EXPECT_EQ(d.records.size(), 4u);
}

TEST_F(DeExtract, BlankConsentDefaultsToUnknown) {
  std::string per = kPer;
  per.replace(per.rfind("|Y"), 2, "|");
  const auto d = decode(kHdr + per + "TRL|1\n");
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.records[1].get("transfer_consent"), "unknown");
}

TEST_F(DeExtract, MissingTrailerIsTruncation) {
  const auto d = decode(kHdr + kPer + kAsg);
  EXPECT_THAT(d.rules(), ElementsAre("file:file.no_trailer"));
  EXPECT_EQ(d.file_errors[0].origin.file, "test.DAT");
}

TEST_F(DeExtract, TruncatedMidRecordIsRejectedAndFileFlagged) {
  const auto d = decode(kHdr + kPer + kAsg.substr(0, 40));
  EXPECT_THAT(d.rules(), ElementsAre("3:record.field_count", "file:file.no_trailer"));
}

TEST_F(DeExtract, TrailerCountMismatch) {
  const auto d = decode(kHdr + kPer + kAsg + "TRL|3\n");
  EXPECT_THAT(d.rules(), ElementsAre("file:file.trailer_count"));
  EXPECT_EQ(d.file_errors[0].origin.line, 4u);
}

TEST_F(DeExtract, TrailerCountIncludesRejectedRecords) {
  std::string bad = kPer;
  bad.replace(bad.find("19880314"), 8, "19880431");
  const auto d = decode(kHdr + bad + kAsg + "TRL|2\n");
  EXPECT_THAT(d.rules(), ElementsAre("2:date.calendar"));
  EXPECT_EQ(d.stats.records_read, 2u);
}

TEST_F(DeExtract, EmptyFile) {
  EXPECT_THAT(decode("").rules(), ElementsAre("file:file.empty"));
  EXPECT_THAT(decode("\n\n\r\n").rules(), ElementsAre("file:file.empty"));
}

TEST_F(DeExtract, BadHeader) {
  EXPECT_THAT(decode("HDR|ESR-XYZ|1.0|245|DELTA|7|20260801020000\n" + kPer + "TRL|1\n").rules(),
              ElementsAre("file:header.unexpected_value"));
  EXPECT_THAT(decode("HDR|ESR-OHS|2.0|245|DELTA|7|20260801020000\n" + kPer + "TRL|1\n").rules(),
              ElementsAre("file:header.unexpected_value"));
  EXPECT_THAT(decode("HDR|ESR-OHS|1.0|245|WEEKLY|7|20260801020000\n" + kPer + "TRL|1\n").rules(),
              ElementsAre("file:enum.value"));
  EXPECT_THAT(decode("HDR|ESR-OHS|1.0|245|DELTA|7\n" + kPer + "TRL|1\n").rules(),
              ElementsAre("file:record.field_count"));
}

TEST_F(DeExtract, MissingHeader) {
  EXPECT_THAT(decode(kPer + "TRL|1\n").rules(), ElementsAre("file:file.no_header"));
}

TEST_F(DeExtract, DuplicateHeaderAndContentAfterTrailer) {
  EXPECT_THAT(decode(kHdr + kHdr + kPer + "TRL|1\n").rules(), ElementsAre("file:file.duplicate_header"));
  EXPECT_THAT(decode(kHdr + kPer + "TRL|1\n" + kAsg).rules(), ElementsAre("file:file.after_trailer"));
}

TEST_F(DeExtract, UnknownRecordType) {
  const auto d = decode(kHdr + "XYZ|A|1\n" + kPer + "TRL|1\n");
  EXPECT_THAT(d.rules(), ElementsAre("2:record.unknown_type"));
  EXPECT_EQ(d.records.size(), 3u);
}

TEST_F(DeExtract, WrongFieldCountIsARecordError) {
  const auto d = decode(kHdr + "PER|A|10000001|E1\n" + kAsg + "TRL|2\n");
  EXPECT_THAT(d.rules(), ElementsAre("2:record.field_count"));
  EXPECT_EQ(d.records.size(), 3u);  // header, assignment, trailer still decoded
}

TEST_F(DeExtract, EveryValidationRuleIsLocated) {
  struct Case {
    std::string from;
    std::string to;
    std::string rule;
    std::string field;
  };
  const std::vector<Case> cases{
      {"9434765919", "9434765910", "nhs_number.check_digit", "nhs_number"},
      {"9434765919", "4000000080", "nhs_number.check_digit", "nhs_number"},
      {"AB123456C", "BG123456C", "ni_number.prefix", "ni_number"},
      {"AB123456C", "TN123456C", "ni_number.temporary", "ni_number"},
      {"19880314", "20260902", "date_of_birth.future", "date_of_birth"},
      {"19880314", "19230101", "date_of_birth.too_old", "date_of_birth"},
      {"19880314", "19890229", "date.calendar", "date_of_birth"},
      {"19880314", "1988-03-14", "date.format", "date_of_birth"},
      {"|F|", "|Q|", "enum.value", "gender"},
      {"PER|A|", "PER|Z|", "enum.value", "action"},
      {"10000001|E1", "1000001|E1", "person_number.format", "person_number"},
      {"|Y\n", "|maybe\n", "enum.value", "transfer_consent"},
  };
  for (const auto& c : cases) {
    std::string per = kPer;
    const auto at = per.find(c.from);
    per.replace(at, c.from.size(), c.to);
    const auto d = decode(kHdr + per + "TRL|1\n");
    ASSERT_EQ(d.rejected.size(), 1u) << c.rule;
    ASSERT_EQ(d.rejected[0].size(), 1u) << c.rule;
    const Error& e = d.rejected[0][0];
    EXPECT_EQ(e.rule, c.rule);
    EXPECT_EQ(e.origin.file, "test.DAT");
    EXPECT_EQ(e.origin.line, 2u);
    EXPECT_EQ(e.origin.field, c.field) << c.rule;
    // The column points at the field in the line (1-based): at or just after where we changed it.
    EXPECT_GE(e.origin.column, at + 1) << c.rule;
    EXPECT_LE(e.origin.column, at + 8) << c.rule;
    EXPECT_THAT(d.file_errors, IsEmpty());
  }
}

TEST_F(DeExtract, AssignmentRules) {
  std::string asg = kAsg;
  asg.replace(asg.find("20260806||"), 10, "20260806|20260805|");
  EXPECT_THAT(decode(kHdr + asg + "TRL|1\n").rules(), ElementsAre("2:date.order"));
  asg = kAsg;
  asg.replace(asg.find("10000001-1"), 10, "10000001/1");
  EXPECT_THAT(decode(kHdr + asg + "TRL|1\n").rules(), ElementsAre("2:assignment_number.format"));
  asg = kAsg;
  asg.replace(asg.find("|Y|Y|Y|"), 7, "|Y|X|Y|");
  EXPECT_THAT(decode(kHdr + asg + "TRL|1\n").rules(), ElementsAre("2:flag.value"));
  asg = kAsg;
  asg.replace(asg.find("|RR8|"), 5, "||");
  EXPECT_THAT(decode(kHdr + asg + "TRL|1\n").rules(), ElementsAre("2:field.required"));
}

TEST_F(DeExtract, SeveralErrorsInOneRecordAreAllReported) {
  std::string per = kPer;
  per.replace(per.find("9434765919"), 10, "9434765910");
  per.replace(per.find("|F|"), 3, "|Q|");
  const auto d = decode(kHdr + per + "TRL|1\n");
  EXPECT_THAT(d.rules(), ElementsAre("2:nhs_number.check_digit", "2:enum.value"));
}

TEST_F(DeExtract, NamesKeepAccentsApostrophesAndHyphens) {
  std::string per = kPer;
  per.replace(per.find("O'Brien|Siobhan"), 15, "Smith-Jones|Zoë");
  const auto d = decode(kHdr + per + "TRL|1\n");
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.records[1].get("surname"), "Smith-Jones");
  EXPECT_EQ(d.records[1].get("forenames"), "Zoë");
}

TEST_F(DeExtract, InvalidUtf8IsARecordErrorNeverReplaced) {
  std::string per = kPer;
  const auto at = per.find("Siobhan");
  per.replace(at, 7, "Zo\xeb");  // a windows-1252 ë in a UTF-8 file
  const auto d = decode(kHdr + per + kAsg + "TRL|2\n");
  EXPECT_THAT(d.rules(), ElementsAre("2:encoding.invalid_utf8"));
  EXPECT_EQ(d.rejected[0][0].origin.field, "forenames");
  EXPECT_EQ(d.rejected[0][0].origin.column, at + 3);  // the bad byte itself (1-based)
  EXPECT_EQ(d.records.size(), 3u);
}

TEST_F(DeExtract, OverlongLineIsRejectedAndTheRestGoesOn) {
  std::string per = kPer;
  per.replace(per.find("Siobhan"), 7, std::string(70000, 'x'));
  const auto d = decode(kHdr + per + kAsg + "TRL|2\n");
  EXPECT_THAT(d.rules(), ElementsAre("2:limit.line"));
  EXPECT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.stats.records_read, 2u);
}

TEST_F(DeExtract, OverlongFieldIsRejected) {
  std::string per = kPer;
  per.replace(per.find("Siobhan"), 7, std::string(5000, 'x'));
  EXPECT_THAT(decode(kHdr + per + "TRL|1\n").rules(), ElementsAre("2:limit.field"));
}

TEST_F(DeExtract, ControlCharactersAreBinaryJunk) {
  std::string per = kPer;
  per.replace(per.find("Siobhan"), 7, std::string("Sio\0bhan", 8));
  EXPECT_THAT(decode(kHdr + per + "TRL|1\n").rules(), ElementsAre("2:text.control_character"));
}

TEST_F(DeExtract, BinaryJunkNeverCrashesOrHangsAndIsNeverClean) {
  std::mt19937 rng(20260801);
  for (int round = 0; round < 300; ++round) {
    std::string junk(1 + static_cast<std::size_t>(rng() % 4096), '\0');
    for (auto& c : junk)
      c = static_cast<char>(rng() & 0xFF);
    if (round % 3 == 0) junk = kHdr + junk;
    if (round % 5 == 0) junk += "\nTRL|0\n";
    const auto d = decode(junk);
    // Random bytes never decode as a clean file: something is always reported.
    EXPECT_FALSE(d.file_errors.empty() && d.rejected.empty()) << "round " << round;
    for (const auto& errors : d.rejected) {
      for (const auto& e : errors)
        EXPECT_FALSE(e.rule.empty());
    }
  }
}

TEST_F(DeExtract, LargeFileStreamsAcrossBufferRefills) {
  std::string file = kHdr;
  constexpr int kPersons = 30000;  // ~4 MB: several refills of the read buffer
  for (int i = 0; i < kPersons; ++i) {
    std::string per = kPer;
    per.replace(per.find("10000001"), 8, std::to_string(10000000 + i));
    file += per;
  }
  file += "TRL|" + std::to_string(kPersons) + "\n";
  const auto d = decode(file);
  EXPECT_THAT(d.rules(), IsEmpty());
  EXPECT_EQ(d.records.size(), static_cast<std::size_t>(kPersons + 2));
  EXPECT_EQ(d.records.back().line, static_cast<std::uint64_t>(kPersons + 2));
}

TEST_F(DeExtract, FileOverTheConfiguredSizeIsRejected) {
  mapping::Mapping small = *mapping_;
  small.limits.max_file_bytes = 100;
  const auto d = test::decode_string(small, kHdr + kPer + kAsg + "TRL|2\n");
  EXPECT_THAT(d.rules(), testing::Contains("file:limit.file"));
}

TEST(DiReturn, DecodesClearancesAndImmunisations) {
  auto mapping = test::shipped_mapping("mappings/esr/di_return.xml");
  const auto d = test::decode_string(*mapping,
                                     "HDR|OHS-ESR|1.0|245|DELTA|1|20260805180000\n"
                                     "CLR|A|10000001|10000001-1|EPP|CLEARED|20260730|20270730|OHP01\n"
                                     "IMM|A|10000001|OHR1|HEPB|66071002|serology|IMMUNE|20260712||145|SEROLOGY|OHP01\n"
                                     "IMM|A|10000001|OHR2|HEPB|14189004|serology|IMMUNE|20260712||145|SEROLOGY|OHP01\n"
                                     "TRL|3\n");
  EXPECT_THAT(d.rules(), ElementsAre("4:snomed_code.antigen"));
  ASSERT_EQ(d.records.size(), 4u);
  EXPECT_EQ(d.records[1].entity, model::Entity::clearance);
  EXPECT_EQ(d.records[1].get("outcome"), "CLEARED");
  EXPECT_EQ(d.records[2].get("event_date"), "2026-07-12");
}

}  // namespace
}  // namespace esrsync::codec
