// Inter-provider staff history as FHIR (issue #5): `esrsync export --format fhir` gives a Bundle
// that a real FHIR R4 validator (the `fhir` npm package, run by node) accepts; importing it into
// another store (a flow with the fhir-bundle mapping) gives the same per-antigen status, with the
// events tagged TRANSFERRED from the sending provider; bad bundles are refused with located errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "support/sync_environment.hpp"

namespace esrsync {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class Fhir : public test::SyncEnvironment {
 protected:
  void SetUp() override {
    SyncEnvironment::SetUp();
    add_oh_flow();
    add_fhir_flow();
  }
  test::ProcessResult validate(const fs::path& file) {
    return test::run_process(
        {"/usr/bin/env", "node", std::string(ESRSYNC_SOURCE_DIR) + "/tests/fhir/validate.js", file.string()});
  }
  std::string exported(const std::string& person, const std::string& format = "fhir") {
    const auto r = esrsync({"export", "--person", person, "--format", format, "--provider", "OHP01", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  test::TempDir keep_;
};

TEST_F(Fhir, ExportedStaffHistoryIsValidFhirR4) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop_oh("oh_export_20260805.csv");
  sync();
  for (const auto* person : {"10000001", "10000003", "10000004"}) {
    const auto bundle = keep_ / (std::string(person) + ".json");
    test::write_file(bundle, exported(person));
    const auto v = validate(bundle);
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    EXPECT_THAT(v.out, HasSubstr("valid FHIR R4"));
  }
  const std::string b = exported("10000003");
  EXPECT_THAT(b, HasSubstr("\"type\": \"collection\""));
  EXPECT_THAT(b, HasSubstr("\"system\": \"https://fhir.nhs.uk/Id/nhs-number\""));
  EXPECT_THAT(b, HasSubstr("\"resourceType\": \"Immunization\""));
  EXPECT_THAT(b, HasSubstr("\"doseNumberPositiveInt\": 3"));
  EXPECT_THAT(b, HasSubstr("\"occurrenceDateTime\": \"2026-06-02\""));
  EXPECT_THAT(b, HasSubstr("\"code\": \"66071002\""));  // HEPB target disease, SNOMED CT
  // The validator is real: a broken bundle fails it.
  std::string broken = b;
  broken.replace(broken.find("\"status\": \"completed\""), 21, "\"statuz\": \"completed\"");
  test::write_file(keep_ / "broken.json", broken);
  EXPECT_EQ(validate(keep_ / "broken.json").exit_code, 1);
  EXPECT_EQ(esrsync({"export", "--person", "99999999", "--provider", "OHP01"}).exit_code, 1);
  EXPECT_EQ(esrsync({"export", "--person", "10000003"}).exit_code, 2);  // no provider code configured
}

TEST_F(Fhir, ImportIntoAnotherStoreGivesTheSameStatusTaggedTransferred) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  drop_oh("oh_export_20260805.csv");
  sync();
  std::map<std::string, std::string> status_before;
  for (const auto* person : {"10000001", "10000003", "10000004", "10000006"}) {
    test::write_file(keep_ / (std::string(person) + ".json"), exported(person));
    status_before[person] = exported(person, "status");
  }
  EXPECT_THAT(status_before["10000001"], HasSubstr("\"status\": \"IMMUNE\""));

  // The receiving provider: its own store, the same ESR extract, and the bundles arriving.
  reset_store();
  drop("DE_245_OHS_20260801_0000001.DAT");
  for (const auto& [person, _] : status_before)
    fs::copy_file(keep_ / (person + ".json"), dir_ / "fhir-inbox" / (person + ".json"));
  const auto r = sync({"--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const auto& [person, before] : status_before) {
    const std::string after = exported(person, "status");
    // Same status per antigen; the basis is now the transferred copy of each event.
    const auto strip = [](std::string s) {
      std::string out;
      for (std::size_t at = 0; at < s.size();) {
        const auto end = std::min(s.find('\n', at), s.size());
        const std::string line = s.substr(at, end - at);
        if (line.find("\"basis\"") == std::string::npos) out += line + "\n";
        at = end + 1;
      }
      return out;
    };
    EXPECT_EQ(strip(after), strip(before)) << person;
  }
  // Each event arrived tagged TRANSFERRED from the sending provider and was matched like any OH
  // record (by person number here).
  const auto mapped = test::run_process({ESRSYNC_BINARY, "map", "--mapping",
                                         std::string(ESRSYNC_SOURCE_DIR) + "/mappings/fhir/staff_history.xml",
                                         (keep_ / "10000001.json").string()});
  EXPECT_THAT(mapped.out, HasSubstr("\"evidence\":\"TRANSFERRED\""));
  EXPECT_THAT(mapped.out, HasSubstr("\"provider_code\":\"OHP01\""));
  const auto history = esrsync({"recon", "history", "--key", "OHP01:OHR0000101", "--json"});
  EXPECT_THAT(history.out, HasSubstr("\"rule\": \"match.person_number\""));
  EXPECT_THAT(history.out, HasSubstr("10000001.json:"));
}

TEST_F(Fhir, BadBundlesAreRefusedWithLocatedErrors) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  sync();
  test::write_file(dir_ / "fhir-inbox/not-json.json", "{\"resourceType\": \"Bundle\", ");
  test::write_file(dir_ / "fhir-inbox/no-sender.json",
                   "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[]}");
  test::write_file(dir_ / "fhir-inbox/bad-entry.json",
                   "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"meta\":{\"source\":"
                   "\"urn:esrsync:provider:OHP09\"},\"entry\":[{\"resource\":{\"resourceType\":\"Patient\","
                   "\"identifier\":[{\"system\":\"urn:esrsync:esr-person-number\",\"value\":\"10000001\"}]}},"
                   "{\"resource\":{\"resourceType\":\"Immunization\",\"identifier\":[{\"value\":\"X1\"}],"
                   "\"status\":\"completed\",\"occurrenceDateTime\":\"2026-02-30\",\"protocolApplied\":[{"
                   "\"targetDisease\":[{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"66071002\"}]}],"
                   "\"doseNumberPositiveInt\":1}]}},"
                   "{\"resource\":{\"resourceType\":\"Immunization\",\"identifier\":[{\"value\":\"X2\"}],"
                   "\"status\":\"completed\",\"occurrenceDateTime\":\"2026-02-03\",\"protocolApplied\":[{"
                   "\"targetDisease\":[{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"66071002\"}]}],"
                   "\"doseNumberPositiveInt\":1}]}}]}");
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not-json.json: fhir.json: not valid JSON"));
  EXPECT_THAT(r.err, HasSubstr("fhir.sender"));
  EXPECT_THAT(r.err, HasSubstr("bad-entry.json:2: date.calendar"));  // entry 2, the bad date
  EXPECT_THAT(names("fhir-quarantine"), ::testing::Contains("not-json.json"));
  // The good entry of the partial bundle was applied, from OHP09, as a transferred event.
  const auto status = esrsync({"export", "--person", "10000001", "--format", "status", "--json"});
  EXPECT_THAT(status.out, HasSubstr("\"basis\": \"OHP09:X2\""));
  EXPECT_THAT(status.out, HasSubstr("\"status\": \"VACCINATED\""));
}

}  // namespace
}  // namespace esrsync
