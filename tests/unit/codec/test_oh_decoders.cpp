// OH exports through the shipped CSV and XML mappings: canonical output, lookups, and every kind of
// bad input giving a located error while the rest of the file is still read.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/capture.hpp"
#include "support/decode.hpp"

namespace esrsync::codec {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kCsvHeader =
    "Record ID,Staff ID,Person Number,Surname,Forename(s),Date of Birth,NI Number,NHS Number,Vaccine/Test,Dose,"
    "Date Given,Result,Titre (mIU/mL),Provider\r\n";
const std::string kCsvRow =
    "OHR1,E1,10000001,O'Brien,Siobhan,14/03/1988,AB123456C,9434765919,Anti-HBs,,12/07/2026,Positive,145,ohp01\r\n";

class OhCsv : public ::testing::Test {
 protected:
  std::shared_ptr<const mapping::Mapping> mapping_ = test::shipped_mapping("mappings/oh/generic_csv.xml");
  test::Decoded decode(std::string bytes) { return test::decode_string(*mapping_, std::move(bytes), "oh.csv"); }
};

TEST_F(OhCsv, TranslatesLocalNamesThroughLookups) {
  const auto d = decode(kCsvHeader + kCsvRow);
  EXPECT_THAT(d.rules(), IsEmpty());
  ASSERT_EQ(d.records.size(), 1u);
  const auto& r = d.records[0];
  EXPECT_EQ(r.entity, model::Entity::immunisation);
  EXPECT_EQ(r.line, 2u);
  EXPECT_EQ(r.get("antigen"), "HEPB");
  EXPECT_EQ(r.get("snomed_code"), "66071002");
  EXPECT_EQ(r.get("kind"), "serology");
  EXPECT_EQ(r.get("status"), "IMMUNE");
  EXPECT_EQ(r.get("result"), "145");  // the titre wins over the word
  EXPECT_EQ(r.get("evidence"), "SEROLOGY");
  EXPECT_EQ(r.get("provider_code"), "OHP01");
  EXPECT_EQ(r.get("date_of_birth"), "1988-03-14");
  EXPECT_EQ(r.get("event_date"), "2026-07-12");
  EXPECT_EQ(r.get("vaccine_name"), "Anti-HBs");
}

TEST_F(OhCsv, StatusDependsOnTheKindOfTest) {
  std::string igra = kCsvRow;
  igra.replace(igra.find("Anti-HBs,,12/07/2026,Positive,145"), 33, "IGRA (QuantiFERON),,12/07/2026,Negative,");
  std::string igg = kCsvRow;
  igg.replace(igg.find("Anti-HBs,,12/07/2026,Positive,145"), 33, "Measles IgG,,12/07/2026,Negative,");
  const auto d = decode(kCsvHeader + igra + igg);
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].get("status"), "COMPLETED");   // a negative IGRA screen
  EXPECT_EQ(d.records[1].get("status"), "NON_IMMUNE");  // a negative measles IgG
}

TEST_F(OhCsv, ColumnsAreFoundByNameInAnyOrder) {
  const std::string header =
      "Provider,Titre (mIU/mL),Result,Date Given,Dose,Vaccine/Test,NHS Number,NI Number,Date of Birth,"
      "Forename(s),Surname,Person Number,Staff ID,Record ID\n";
  const std::string row =
      "OHP01,145,Positive,12/07/2026,,Anti-HBs,9434765919,AB123456C,14/03/1988,Siobhan,O'Brien,"
      "10000001,E1,OHR1\n";
  const auto reordered = decode(header + row);
  const auto original = decode(kCsvHeader + kCsvRow);
  ASSERT_EQ(reordered.records.size(), 1u);
  EXPECT_EQ(reordered.records[0].values, original.records[0].values);
}

TEST_F(OhCsv, BomQuotedFieldsAndEmbeddedNewlines) {
  const std::string row =
      "OHR2,E2,,\"Smith, Jones\",\"Daniel \"\"Dan\"\"\nJames\",02/11/1992,CE654321A,,"
      "Influenza vaccine,1,01/10/2025,Given,,OHP01\r\n";
  const auto d = decode("\xef\xbb\xbf" + kCsvHeader + row + kCsvRow);
  EXPECT_THAT(d.rules(), IsEmpty());
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].get("surname"), "Smith, Jones");
  EXPECT_EQ(d.records[0].get("forenames"), "Daniel \"Dan\"\nJames");
  EXPECT_EQ(d.records[0].line, 2u);
  EXPECT_EQ(d.records[1].line, 4u);  // the quoted line break moved it down a line
}

TEST_F(OhCsv, UnknownLocalCodeIsNamedOnce) {
  std::string row = kCsvRow;
  row.replace(row.find("Anti-HBs"), 8, "Yellow fever");
  const auto d = decode(kCsvHeader + row + kCsvRow);
  ASSERT_EQ(d.rejected.size(), 1u);
  ASSERT_EQ(d.rejected[0].size(), 1u);  // antigen, kind, status... all read it: reported once
  const Error& e = d.rejected[0][0];
  EXPECT_EQ(e.rule, "lookup.unknown_code");
  EXPECT_EQ(e.origin.line, 2u);
  EXPECT_THAT(e.message, testing::HasSubstr("'Yellow fever'"));
  EXPECT_EQ(d.records.size(), 1u);
}

TEST_F(OhCsv, RecordErrorsAreLocatedAndTheRestIsRead) {
  std::string bad_dob = kCsvRow;
  bad_dob.replace(bad_dob.find("14/03/1988"), 10, "29/02/1987");
  std::string bad_nhs = kCsvRow;
  bad_nhs.replace(bad_nhs.find("9434765919"), 10, "9434765910");
  std::string short_row = "OHR9,E9,10000009\r\n";
  std::string bad_quote = "OHR8,E8,1000\"0008,x,y,01/01/1990,,,BCG,,01/01/2026,Given,,OHP01\r\n";
  std::string no_result = kCsvRow;
  no_result.replace(no_result.find("Positive,145"), 12, "Maybe,");
  const auto d = decode(kCsvHeader + bad_dob + bad_nhs + short_row + bad_quote + no_result + kCsvRow);
  EXPECT_THAT(d.rules(), ElementsAre("2:date.calendar", "3:nhs_number.check_digit", "4:record.field_count",
                                     "5:csv.bad_quote", "6:lookup.unknown_code"));
  EXPECT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].line, 7u);
}

TEST_F(OhCsv, MissingColumnIsAFileError) {
  std::string header = kCsvHeader;
  header.replace(header.find("Vaccine/Test"), 12, "Vaccine");
  const auto d = decode(header + kCsvRow);
  EXPECT_THAT(d.rules(), ElementsAre("file:csv.missing_column"));  // once, though six fields read it
  EXPECT_EQ(d.file_errors[0].origin.field, "vaccine_name");
  EXPECT_THAT(d.file_errors[0].message, testing::HasSubstr("'Vaccine/Test'"));
  EXPECT_THAT(d.records, IsEmpty());
}

TEST_F(OhCsv, EmptyFileAndUnterminatedQuote) {
  EXPECT_THAT(decode("").rules(), ElementsAre("file:file.empty"));
  const auto d = decode(kCsvHeader + kCsvRow + "OHR3,\"never closed\r\n");
  EXPECT_THAT(d.rules(), ElementsAre("3:csv.unterminated_quote"));
  EXPECT_EQ(d.records.size(), 1u);
}

TEST_F(OhCsv, InvalidUtf8AndOverlongRecords) {
  std::string latin1 = kCsvRow;
  latin1.replace(latin1.find("Siobhan"), 7, "Zo\xeb");
  std::string long_field = kCsvRow;
  long_field.replace(long_field.find("Siobhan"), 7, "\"" + std::string(5000, 'x') + "\"");
  std::string long_record = kCsvRow;
  std::string many_fields;  // each field under the field limit, the record over the record limit
  for (int i = 0; i < 20; ++i)
    many_fields += std::string(3500, 'x') + (i < 19 ? "," : "");
  long_record.replace(long_record.find("Siobhan"), 7, many_fields);
  const auto d = decode(kCsvHeader + latin1 + long_field + long_record + kCsvRow);
  EXPECT_THAT(d.rules(), ElementsAre("2:encoding.invalid_utf8", "3:limit.field", "4:limit.record"));
  EXPECT_EQ(d.records.size(), 1u);
}

TEST_F(OhCsv, FileOverTheConfiguredSizeIsRejected) {
  mapping::Mapping small = *mapping_;
  small.limits.max_file_bytes = 64;
  std::string file = kCsvHeader;
  for (int i = 0; i < 3000; ++i)
    file += kCsvRow;  // > the reader's first buffer
  EXPECT_THAT(test::decode_string(small, file).rules(), testing::Contains("file:limit.file"));
}

class OhXml : public ::testing::Test {
 protected:
  std::shared_ptr<const mapping::Mapping> mapping_ = test::shipped_mapping("mappings/oh/generic_xml.xml");
  test::Decoded decode(std::string bytes) { return test::decode_string(*mapping_, std::move(bytes), "oh.xml"); }
  static std::string event(const std::string& id, const std::string& test, const std::string& date,
                           const std::string& extra = "") {
    return "  <Event id=\"" + id +
           "\">\n    <Provider>OHP02</Provider>\n"
           "    <Subject staffId=\"E1\" personNumber=\"10000001\"><Surname>O&apos;Brien</Surname>"
           "<Forenames>Zoë</Forenames><DateOfBirth>1988-03-14</DateOfBirth></Subject>\n"
           "    <Test>" +
           test + "</Test>\n    <Given date=\"" + date +
           "\" dose=\"1\"/>\n"
           "    <Outcome>Given</Outcome>" +
           extra + "\n  </Event>\n";
  }
  static std::string doc(const std::string& events) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OHExport>\n" + events + "</OHExport>\n";
  }
};

TEST_F(OhXml, ReadsRecordsByPath) {
  const auto d = decode(doc(event("X1", "BCG", "2026-01-05") + event("X2", "Hepatitis B vaccine", "2026-02-05")));
  EXPECT_THAT(d.rules(), IsEmpty());
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].line, 3u);
  EXPECT_EQ(d.records[1].line, 10u);
  EXPECT_EQ(d.records[0].get("event_id"), "X1");
  EXPECT_EQ(d.records[0].get("surname"), "O'Brien");  // entity decoded
  EXPECT_EQ(d.records[0].get("forenames"), "Zoë");
  EXPECT_EQ(d.records[0].get("antigen"), "TB");
  EXPECT_EQ(d.records[1].get("antigen"), "HEPB");
  EXPECT_EQ(d.records[1].get("dose"), "1");
}

TEST_F(OhXml, RecordErrorsAreLocatedAndTheRestIsRead) {
  const auto d = decode(
      doc(event("X1", "Smallpox", "2026-01-05") + event("X2", "BCG", "2026-02-30") + event("X3", "BCG", "2026-02-05")));
  EXPECT_THAT(d.rules(), ElementsAre("3:lookup.unknown_code", "10:date.calendar"));
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].get("event_id"), "X3");
}

TEST_F(OhXml, MisnestedMarkupIsAFileError) {
  const auto d =
      decode(doc(event("X1", "BCG", "2026-01-05") + "  <Event id=\"X2\"><Provider>OHP02</Provider><Test>BCG</Event>\n" +
                 event("X3", "BCG", "2026-02-05")));
  EXPECT_THAT(d.rules(), ElementsAre("file:xml.mismatched_tag"));
  EXPECT_EQ(d.file_errors[0].origin.line, 10u);
}

TEST_F(OhXml, TruncatedDocumentIsAFileError) {
  const std::string full = doc(event("X1", "BCG", "2026-01-05") + event("X2", "BCG", "2026-01-06"));
  const auto d = decode(full.substr(0, full.size() - 40));
  EXPECT_THAT(d.rules(), ElementsAre("file:xml.truncated"));
  EXPECT_EQ(d.records.size(), 1u);  // what was complete is still shown (map), never applied (sync)
}

TEST_F(OhXml, DoctypeIsRefused) {
  const auto d = decode(
      "<?xml version=\"1.0\"?>\n<!DOCTYPE OHExport [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
      "<OHExport>" +
      event("X1", "BCG", "2026-01-05") + "</OHExport>");
  EXPECT_THAT(d.rules(), ElementsAre("file:xml.doctype"));
  EXPECT_THAT(d.records, IsEmpty());
}

TEST_F(OhXml, EmptyAndJunkInput) {
  EXPECT_THAT(decode("").rules(), ElementsAre("file:xml.no_root"));
  EXPECT_FALSE(decode("\x01\x02garbage<<<>>>\xff").file_errors.empty());
}

TEST_F(OhXml, InvalidUtf8InARecord) {
  const auto d =
      decode(doc(event("X1", "BCG", "2026-01-05").replace(80, 0, "\xc3\x28") + event("X2", "BCG", "2026-01-06")));
  EXPECT_THAT(d.rules(), ElementsAre("5:encoding.invalid_utf8"));  // the line of the bad bytes
  EXPECT_EQ(d.records.size(), 1u);
}

TEST_F(OhXml, Windows1252MappingIsTranscoded) {
  mapping::Mapping cp1252 = *mapping_;
  cp1252.encoding = model::Encoding::windows_1252;
  std::string text = doc(event("X1", "BCG", "2026-01-05"));
  text.replace(text.find("Zoë"), 4, "Zo\xeb");
  const auto d = test::decode_string(cp1252, text);
  EXPECT_THAT(d.rules(), IsEmpty());
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].get("forenames"), "Zoë");
}

}  // namespace
}  // namespace esrsync::codec

namespace esrsync::codec {
namespace {

TEST(CanonicalTypes, CountVpdSnomedAndAmbiguousColumns) {
  test::TempDir dir;
  test::write_file(dir / "m.xml",
                   "<mapping name=\"t\" format=\"csv\">\n<record entity=\"immunisation\">\n"
                   "<field target=\"event_id\" column=\"Id\"/>\n<field target=\"dose\" column=\"Dose\"/>\n"
                   "<field target=\"vaccine_code\" column=\"Code\"/>\n</record>\n</mapping>\n");
  auto mapping = mapping::load_mapping((dir / "m.xml").string());
  ASSERT_TRUE(mapping) << mapping.error().to_string();
  const auto d = test::decode_string(**mapping, "Id,Dose,Code\nA,two,1234567\nB,2,12AB\nC,3,39114911000001105\n");
  EXPECT_THAT(d.rules(), ElementsAre("2:count.format", "3:snomed.format"));
  EXPECT_EQ(d.records.size(), 1u);
  const auto ambiguous = test::decode_string(**mapping, "Id,Dose,dose,Code\nA,1,1,1234567\n");
  EXPECT_THAT(ambiguous.rules(), ElementsAre("file:csv.ambiguous_column"));

  auto de = test::shipped_mapping("mappings/esr/de_extract.xml");
  const auto bad_vpd = test::decode_string(*de, "HDR|ESR-OHS|1.0|24|FULL|1|20260801020000\nTRL|0\n");
  EXPECT_THAT(bad_vpd.rules(), ElementsAre("file:vpd.format"));
}

}  // namespace
}  // namespace esrsync::codec
