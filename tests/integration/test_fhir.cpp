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

namespace esrsync {
namespace {

// A trainee rotating to another organisation: their history leaves only with consent.
class Transfers : public test::SyncEnvironment {
 protected:
  void SetUp() override {
    SyncEnvironment::SetUp();
    for (const auto* d : {"oh-inbox", "oh-processed", "oh-quarantine", "oh-acks", "transfers"})
      std::filesystem::create_directories(dir_ / d);
    const std::string src = ESRSYNC_SOURCE_DIR;
    test::write_file(
        dir_ / "esrsync.toml",
        "[store]\npath = \"state/esrsync.db\"\n[esr]\nvpds = [\"245\"]\n[provider]\ncode = \"OHP01\"\n"
        "[[flows]]\nname = \"esr\"\nmapping = \"" +
            src + "/mappings/esr/de_extract.xml\"\nack_mapping = \"" + src +
            "/mappings/esr/ack.xml\"\n[flows.source]\nadapter = \"dir\"\ninbox = \"inbox\"\npattern = \"DE_*.DAT\"\n"
            "processed = \"processed\"\nquarantine = \"quarantine\"\nacks = \"acks\"\n"
            "[[flows.sinks]]\nname = \"oh\"\nadapter = \"dir\"\ndirectory = \"out\"\n"
            "[[flows.sinks]]\nname = \"rotations\"\nadapter = \"dir\"\nkind = \"staff-history\"\n"
            "directory = \"transfers\"\n"
            "[[flows]]\nname = \"oh-results\"\nmapping = \"" +
            src +
            "/mappings/oh/generic_csv.xml\"\n[flows.source]\nadapter = \"dir\"\ninbox = \"oh-inbox\"\n"
            "pattern = \"*.csv\"\nprocessed = \"oh-processed\"\nquarantine = \"oh-quarantine\"\n");
  }
};

std::string asg(const std::string& person, const std::string& n, const std::string& org, const std::string& trainee) {
  return "ASG|A|" + person + "|" + person + "-" + n + "|" + org +
         "|Specialty Registrar|Medical and Dental|M03|Paediatrics|Bradford Royal Infirmary|20270205||Y|Y|" + trainee +
         "|ST5|N\n";
}

TEST_F(Transfers, ATraineesMoveSendsTheirHistoryOnlyWithConsent) {
  drop("DE_245_OHS_20260801_0000001.DAT");
  std::filesystem::copy_file(std::string(ESRSYNC_SOURCE_DIR) + "/sample-data/oh/oh_export_20260805.csv",
                             dir_ / "oh-inbox/oh_export_20260805.csv");
  sync();
  EXPECT_TRUE(names("transfers").empty());  // a first extract is nobody's move

  const std::string body = asg("10000001", "2", "RCF", "Y") +  // consent Y: sent
                           asg("10000002", "2", "RCF", "Y") +  // consent N: refused
                           asg("10000003", "3", "RCF", "Y") +  // consent blank: not sent
                           asg("10000006", "3", "RCF", "N") +  // not a trainee
                           asg("10000004", "2", "RR8", "Y");   // same organisation
  test::write_file(dir_ / "inbox/DE_245_OHS_20260802_0000002.DAT",
                   "HDR|ESR-OHS|1.0|245|DELTA|2|20260802020000\n" + body + "TRL|5\n");
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(names("transfers").size(), 1u);
  const std::string sent = names("transfers").front();
  EXPECT_THAT(sent, ::testing::StartsWith("staff_history_10000001_RCF_"));
  const std::string bundle = test::read_file(dir_ / "transfers" / sent);
  EXPECT_THAT(bundle, HasSubstr("\"source\": \"urn:esrsync:provider:OHP01\""));
  EXPECT_THAT(bundle, HasSubstr("OHR0000101"));
  EXPECT_THAT(bundle, ::testing::Not(HasSubstr("10000002")));
  // The assignment that set the transfer off reaches the OH sink as itself, not as the transfer.
  std::string lines;
  for (const auto& n : names("out"))
    lines += test::read_file(dir_ / "out" / n);
  EXPECT_THAT(lines, HasSubstr("\"key\":\"10000001-2\",\"change\":{"));
  EXPECT_THAT(lines, ::testing::Not(HasSubstr("from_org")));
  const auto v = test::run_process({"/usr/bin/env", "node", std::string(ESRSYNC_SOURCE_DIR) + "/tests/fhir/validate.js",
                                    (dir_ / "transfers" / sent).string()});
  EXPECT_EQ(v.exit_code, 0) << v.out;

  const auto log = esrsync({"transfers", "--json"});
  EXPECT_EQ(log.exit_code, 0) << log.err;
  EXPECT_THAT(log.out, HasSubstr("\"decision\": \"queued\""));
  EXPECT_THAT(log.out, HasSubstr("\"decision\": \"refused\""));
  EXPECT_THAT(log.out, HasSubstr("\"reason\": \"transfer_consent is N: the person refused; nothing was sent\""));
  EXPECT_THAT(log.out, HasSubstr("\"decision\": \"no_consent\""));
  EXPECT_EQ(std::count(log.out.begin(), log.out.end(), '{'), 3);  // the non-trainee and the same-org move: none

  // Nothing is sent twice.
  sync();
  EXPECT_EQ(names("transfers").size(), 1u);
}

TEST_F(Transfers, AFirstLoadIsNobodysMove) {
  // One FULL extract listing a trainee's posts at two organisations: nothing to send.
  test::write_file(dir_ / "inbox/DE_245_OHS_20260801_0000001.DAT",
                   "HDR|ESR-OHS|1.0|245|FULL|1|20260801020000\n"
                   "PER|A|10000001|E1000001|AB123456C|9434765919|Dr|O'Brien|Siobhan||19880314|F|s@example.nhs.uk|"
                   "07700900001|LS1 4AP|Y\n" +
                       asg("10000001", "1", "RR8", "Y") + asg("10000001", "2", "RCF", "Y") + "TRL|3\n");
  const auto r = sync();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(names("transfers").empty());
  EXPECT_THAT(esrsync({"transfers"}).out, HasSubstr("(no trainee moves seen yet)"));
}

TEST_F(Transfers, AStaffHistorySinkNeedsTheProviderCode) {
  std::string config = test::read_file(dir_ / "esrsync.toml");
  const std::string provider = "[provider]\ncode = \"OHP01\"\n";
  config.erase(config.find(provider), provider.size());
  test::write_file(dir_ / "esrsync.toml", config);
  const auto r = esrsync({"check"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("sends staff histories: set [provider] code"));
}

}  // namespace
}  // namespace esrsync
