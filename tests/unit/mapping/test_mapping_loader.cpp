// The mapping loader and `check`: every definition problem is reported with the definition's
// file:line, and the shipped mappings are all valid.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/codec/encoder.hpp"
#include "esrsync/mapping/mapping.hpp"
#include "esrsync/ops/map_command.hpp"
#include "support/capture.hpp"

namespace esrsync::mapping {
namespace {

using ::testing::HasSubstr;

class MappingLoader : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir_ / "lookups/tests.csv", "local_name,antigen\nMeasles IgG,MMR_MEASLES\nBCG,TB\n");
    test::write_file(dir_ / "lookups/dupes.csv", "local_name,antigen\nBCG,TB\nMeasles IgG,MMR_MEASLES\nbcg ,TB\n");
    test::write_file(dir_ / "lookups/ragged.csv", "a,b\n1,2\n3\n");
  }

  // Loads a definition whose <record> body is `body`; returns every problem as "line:rule".
  std::vector<std::string> problems(const std::string& text) {
    const auto path = dir_ / "m/test.xml";
    test::write_file(path, text);
    std::vector<Error> found;
    auto loaded = load_mapping(path.string(), &found);
    std::vector<std::string> out;
    for (const auto& e : found) {
      EXPECT_FALSE(e.origin.file.empty()) << e.to_string();
      out.push_back(std::to_string(e.origin.line) + ":" + e.rule);
    }
    EXPECT_EQ(loaded.has_value(), found.empty());
    return out;
  }

  static std::string csv_mapping(const std::string& fields,
                                 const std::string& record_attrs = "entity=\"immunisation\"") {
    return "<?xml version=\"1.0\"?>\n<mapping name=\"t\" format=\"csv\">\n<record " + record_attrs + ">\n" + fields +
           "</record>\n</mapping>\n";
  }

  test::TempDir dir_;
};

TEST_F(MappingLoader, ValidDefinitionLoads) {
  EXPECT_THAT(problems(csv_mapping("<field target=\"event_id\" column=\"Id\" required=\"true\"><trim/></field>\n"
                                   "<field target=\"antigen\" column=\"Test\"><lookup table=\"../lookups/tests.csv\" "
                                   "key=\"local_name\" value=\"antigen\"/></field>\n")),
              testing::IsEmpty());
}

TEST_F(MappingLoader, NotWellFormedXml) {
  EXPECT_THAT(problems("<mapping name=\"t\" format=\"csv\">\n<record entity=\"person\">\n</mapping>\n"),
              testing::ElementsAre("3:mapping.xml"));
}

TEST_F(MappingLoader, WrongRootFormatEncodingAndEntity) {
  EXPECT_THAT(problems("<map/>"), testing::ElementsAre("1:mapping.root"));
  EXPECT_THAT(problems("<mapping name=\"t\" format=\"json\"/>"), testing::ElementsAre("1:mapping.format"));
  EXPECT_THAT(problems("<mapping name=\"t\" format=\"csv\" encoding=\"ebcdic\">\n<record entity=\"person\">"
                       "<field target=\"surname\" column=\"S\"/></record></mapping>"),
              testing::ElementsAre("1:mapping.encoding"));
  EXPECT_THAT(problems(csv_mapping("", "entity=\"staff\"")), testing::Contains("3:mapping.entity"));
  EXPECT_THAT(problems("<mapping name=\"t\" format=\"xml\">\n<record entity=\"person\">"
                       "<field target=\"surname\" path=\"S\"/></record></mapping>"),
              testing::ElementsAre("1:mapping.format"));
}

TEST_F(MappingLoader, UnknownCanonicalFieldIsReportedAtItsLine) {
  EXPECT_THAT(
      problems(csv_mapping("<field target=\"event_id\" column=\"Id\"/>\n<field target=\"vaccine\" column=\"V\"/>\n")),
      testing::ElementsAre("5:mapping.field"));
}

TEST_F(MappingLoader, DuplicateFieldAndSourceProblems) {
  EXPECT_THAT(problems(csv_mapping(
                  "<field target=\"event_id\" column=\"Id\"/>\n<field target=\"event_id\" column=\"Id2\"/>\n")),
              testing::ElementsAre("5:mapping.duplicate_field"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"event_id\"/>\n")), testing::ElementsAre("4:mapping.source"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"event_id\" column=\"Id\" index=\"2\"/>\n")),
              testing::ElementsAre("4:mapping.source"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"event_id\" pos=\"2\"/>\n")),
              testing::ElementsAre("4:mapping.source"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"event_id\" path=\"a/b\"/>\n")),
              testing::ElementsAre("4:mapping.source"));
}

TEST_F(MappingLoader, BadPaths) {
  for (const std::string bad : {"/abs", "a//b", "@x/y", "a/", "a b", "../up"}) {
    EXPECT_THAT(
        problems("<mapping name=\"t\" format=\"xml\">\n<xml record-element=\"E\"/>\n<record entity=\"person\">\n"
                 "<field target=\"surname\" path=\"" +
                 bad + "\"/>\n</record></mapping>"),
        testing::ElementsAre("4:mapping.path"))
        << bad;
  }
}

TEST_F(MappingLoader, TransformsAreChecked) {
  EXPECT_THAT(problems(csv_mapping("<field target=\"event_id\" column=\"Id\"><titlecase/></field>\n")),
              testing::ElementsAre("4:mapping.step"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"event_date\" column=\"D\"><date format=\"%d/%q/%Y\"/></field>\n")),
              testing::ElementsAre("4:mapping.date_format"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"event_id\" column=\"Id\"><pattern regex=\"([\"/></field>\n")),
              testing::ElementsAre("4:mapping.pattern"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"event_id\" column=\"Id\"><split index=\"1\"/></field>\n")),
              testing::ElementsAre("4:mapping.step"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"event_id\" column=\"Id\" colour=\"red\"/>\n")),
              testing::ElementsAre("4:mapping.attribute"));
}

// Limits are bounded: a slip such as an extra digit must not make a decoder allocate gigabytes.
TEST_F(MappingLoader, LimitsAreBounded) {
  const auto with_limits = [](const std::string& limits) {
    return "<?xml version=\"1.0\"?>\n<mapping name=\"t\" format=\"csv\">\n" + limits +
           "\n<record entity=\"immunisation\">\n<field target=\"event_id\" column=\"Id\"/>\n</record>\n</mapping>\n";
  };
  EXPECT_THAT(problems(with_limits("<limits max-line-bytes=\"16777216\" max-field-bytes=\"65536\"/>")),
              testing::IsEmpty());
  EXPECT_THAT(problems(with_limits("<limits max-line-bytes=\"16777217\"/>")),
              testing::ElementsAre("3:mapping.attribute"));
  EXPECT_THAT(problems(with_limits("<limits max-field-bytes=\"999999999999\"/>")),
              testing::ElementsAre("3:mapping.attribute"));
  EXPECT_THAT(problems(with_limits("<limits max-line-bytes=\"0\"/>")), testing::ElementsAre("3:mapping.attribute"));
}

TEST_F(MappingLoader, LookupProblems) {
  EXPECT_THAT(problems(csv_mapping("<field target=\"antigen\" column=\"T\"><lookup table=\"../lookups/missing.csv\" "
                                   "key=\"local_name\" value=\"antigen\"/></field>\n")),
              testing::ElementsAre("0:lookup.open"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"antigen\" column=\"T\"><lookup table=\"../lookups/tests.csv\" "
                                   "key=\"name\" value=\"antigen\"/></field>\n")),
              testing::ElementsAre("4:mapping.lookup_column"));
  // The duplicate is reported at its own line in the table (line 4: "bcg " folds to "BCG").
  const auto dupes =
      problems(csv_mapping("<field target=\"antigen\" column=\"T\"><lookup table=\"../lookups/dupes.csv\" "
                           "key=\"local_name\" value=\"antigen\"/></field>\n"));
  EXPECT_THAT(dupes, testing::ElementsAre("4:lookup.duplicate_key"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"antigen\" column=\"T\"><lookup table=\"../lookups/ragged.csv\" "
                                   "key=\"a\" value=\"b\"/></field>\n")),
              testing::ElementsAre("3:lookup.row_width"));
}

TEST_F(MappingLoader, DelimitedRecordRules) {
  const std::string head = "<mapping name=\"t\" format=\"delimited\">\n";
  EXPECT_THAT(
      problems(head + "<record type=\"PER\" entity=\"person\" fields=\"3\">\n<field target=\"surname\" pos=\"4\"/>\n"
                      "</record></mapping>"),
      testing::ElementsAre("3:mapping.source"));
  EXPECT_THAT(problems(head + "<record type=\"PER\" entity=\"person\"><field target=\"surname\" pos=\"2\"/></record>\n"
                              "<record type=\"PER\" entity=\"person\"><field target=\"surname\" pos=\"2\"/></record>\n"
                              "</mapping>"),
              testing::ElementsAre("3:mapping.record_type"));
  EXPECT_THAT(problems(head + "<record type=\"PER\" entity=\"person\"><field target=\"surname\" pos=\"2\"/></record>\n"
                              "<record type=\"TRL\" entity=\"file_trailer\" role=\"trailer\" counts=\"PER ASG\">"
                              "<field target=\"record_count\" pos=\"2\"/></record>\n</mapping>"),
              testing::ElementsAre("3:mapping.record_type"));
  EXPECT_THAT(problems(head + "<record type=\"TRL\" entity=\"file_trailer\" role=\"trailer\" counts=\"X\">"
                              "<field target=\"record_count\" pos=\"2\"/></record>\n</mapping>"),
              testing::Contains("2:mapping.record_type"));
}

TEST(ShippedMappings, AllAreValid) {
  test::CapturedFile out;
  test::CapturedFile err;
  const int rc = ops::run_check_mappings(ops::CheckMappingsOptions{{}, {std::string(ESRSYNC_SOURCE_DIR) + "/mappings"}},
                                         out.get(), err.get());
  EXPECT_EQ(err.text(), "");
  EXPECT_EQ(rc, 0);
  EXPECT_THAT(out.text(), HasSubstr("7 mapping definition(s), 5 lookup table(s), 7 valid, 0 problem(s)"));
}

TEST(CheckCommand, ListsEveryProblemWithItsLocation) {
  test::TempDir dir;
  test::write_file(dir / "oh/a.xml",
                   "<mapping name=\"a\" format=\"csv\">\n<record entity=\"immunisation\">\n"
                   "<field target=\"colour\" column=\"C\"/>\n"
                   "<field target=\"antigen\" column=\"T\"><lookup table=\"../lookups/t.csv\" "
                   "key=\"k\" value=\"v\"/></field>\n</record>\n</mapping>\n");
  test::write_file(dir / "lookups/t.csv", "k,v\nx,1\nX,2\n");
  test::CapturedFile out;
  test::CapturedFile err;
  const int rc = ops::run_check_mappings(ops::CheckMappingsOptions{{}, {dir.path().string()}}, out.get(), err.get());
  EXPECT_EQ(rc, 1);
  const std::string text = err.text();
  EXPECT_THAT(text,
              HasSubstr((dir / "oh/a.xml").string() + ":3: mapping.field: 'colour' is not a field of immunisation"));
  EXPECT_THAT(text, HasSubstr((dir / "lookups/t.csv").string() + ":3: lookup.duplicate_key"));
  EXPECT_THAT(out.text(), HasSubstr("2 problem(s)"));
}

}  // namespace
}  // namespace esrsync::mapping

namespace esrsync::mapping {
namespace {

TEST_F(MappingLoader, RemainingDefinitionErrors) {
  std::vector<Error> found;
  EXPECT_FALSE(load_mapping((dir_ / "absent.xml").string(), &found));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule, "mapping.open");
  EXPECT_THAT(problems("<mapping name=\"t\" format=\"csv\">\n<sheet/>\n<record entity=\"person\">"
                       "<field target=\"surname\" column=\"S\"/></record></mapping>"),
              testing::ElementsAre("2:mapping.element"));
  test::write_file(dir_ / "lookups/empty.csv", "");
  test::write_file(dir_ / "lookups/bad.csv", "a,b\n\"x,1\n");
  EXPECT_THAT(problems(csv_mapping("<field target=\"antigen\" column=\"T\"><lookup table=\"../lookups/empty.csv\" "
                                   "key=\"a\" value=\"b\"/></field>\n")),
              testing::ElementsAre("0:lookup.empty"));
  EXPECT_THAT(problems(csv_mapping("<field target=\"antigen\" column=\"T\"><lookup table=\"../lookups/bad.csv\" "
                                   "key=\"a\" value=\"b\"/></field>\n")),
              testing::ElementsAre("2:lookup.parse"));
}

TEST(CheckCommand, MissingDirectory) {
  test::CapturedFile out;
  test::CapturedFile err;
  EXPECT_EQ(ops::run_check_mappings(ops::CheckMappingsOptions{{}, {"/nonexistent/esrsync"}}, out.get(), err.get()), 1);
  EXPECT_THAT(err.text(), HasSubstr("/nonexistent/esrsync: check.directory"));
}

}  // namespace
}  // namespace esrsync::mapping

namespace esrsync::mapping {
namespace {

TEST(FhirBundleMapping, DeclaresNoRecordsAndIsDecodeOnly) {
  auto ok = parse_mapping("<mapping name=\"f\" format=\"fhir-bundle\"/>", "f.xml");
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ((*ok)->format, Format::fhir_bundle);
  EXPECT_FALSE(codec::Encoder::create(*ok));
  std::vector<Error> problems;
  EXPECT_FALSE(
      parse_mapping("<mapping name=\"f\" format=\"fhir-bundle\">\n<record entity=\"immunisation\">"
                    "<field target=\"antigen\" value=\"HEPB\"/></record></mapping>",
                    "f.xml", &problems));
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems.front().rule, "mapping.record_type");
}

}  // namespace
}  // namespace esrsync::mapping
