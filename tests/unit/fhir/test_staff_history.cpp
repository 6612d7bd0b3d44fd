// Staff-history bundles (fhir/staff_history.hpp): what esrsync writes it reads back field for
// field, and every way a bundle can be wrong is a located error, never a guess.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/fhir/staff_history.hpp"

namespace esrsync::fhir {
namespace {

using ::testing::HasSubstr;

const model::Date kToday{2026, 9, 1};

model::Record person() {
  model::Record p;
  p.reset(model::Entity::person);
  for (const auto& [k, v] : {std::pair{"person_number", "10000001"},
                             {"nhs_number", "9434765919"},
                             {"ni_number", "AB123456C"},
                             {"surname", "O'Brien"},
                             {"forenames", "Siobhan Mary"},
                             {"previous_surname", "Kelly"},
                             {"date_of_birth", "1988-03-14"},
                             {"gender", "F"}}) {
    p.set(k, v);
  }
  return p;
}

model::Record event(const char* id, const char* antigen, const char* kind, const char* status, const char* dose) {
  model::Record e;
  e.reset(model::Entity::immunisation);
  for (const auto& [k, v] : {std::pair<const char*, const char*>{"event_id", id},
                             {"provider_code", "OHP01"},
                             {"person_number", "10000001"},
                             {"antigen", antigen},
                             {"kind", kind},
                             {"status", status},
                             {"event_date", "2026-06-02"},
                             {"dose", dose},
                             {"result", "145"},
                             {"vaccine_name", "Local name"}}) {
    e.set(k, v);
  }
  if (const auto disease = model::antigen_target_disease(antigen)) e.set("snomed_code", *disease);
  return e;
}

TEST(StaffHistory, WhatIsWrittenIsReadBack) {
  const auto text = to_bundle(
      person(),
      {event("E1", "HEPB", "vaccination", "COMPLETED", "3"), event("E2", "INFLUENZA", "vaccination", "DECLINED", ""),
       event("E3", "HEPB", "serology", "IMMUNE", ""), event("E4", "TB", "screening", "COMPLETED", "")},
      BundleOptions{"OHP07", "2026-11-23T10:00:00Z"});
  const auto parsed = parse_bundle(text, "b.json", kToday);
  ASSERT_TRUE(parsed.file_errors.empty());
  ASSERT_EQ(parsed.events.size(), 4u);
  for (const auto& e : parsed.events) {
    EXPECT_TRUE(e.errors.empty()) << e.errors.front().to_string();
    EXPECT_EQ(e.record.get("provider_code"), "OHP07");  // the sender
    EXPECT_EQ(e.record.get("evidence"), "TRANSFERRED");
    EXPECT_EQ(e.record.get("person_number"), "10000001");
    EXPECT_EQ(e.record.get("nhs_number"), "9434765919");
    EXPECT_EQ(e.record.get("surname"), "O'Brien");
    EXPECT_EQ(e.record.get("previous_surname"), "Kelly");
    EXPECT_EQ(e.record.get("date_of_birth"), "1988-03-14");
  }
  EXPECT_EQ(parsed.events[0].record.get("dose"), "3");
  EXPECT_EQ(parsed.events[0].record.get("snomed_code"), "66071002");
  EXPECT_EQ(parsed.events[1].record.get("status"), "DECLINED");  // not-done + PATOBJ
  EXPECT_EQ(parsed.events[2].record.get("status"), "IMMUNE");
  EXPECT_EQ(parsed.events[2].record.get("result"), "145");
  EXPECT_EQ(parsed.events[3].record.get("kind"), "screening");
}

TEST(StaffHistory, ABundleThatIsNotAStaffHistoryIsAFileError) {
  const auto rule = [](std::string_view text) {
    const auto p = parse_bundle(text, "b.json", kToday);
    return p.file_errors.empty() ? std::string("none") : p.file_errors.front().rule;
  };
  EXPECT_EQ(rule("[1,2"), "fhir.json");
  EXPECT_EQ(rule(R"({"resourceType":"Bundle","type":"transaction"})"), "fhir.bundle");
  EXPECT_EQ(rule(R"({"resourceType":"Bundle","type":"collection","entry":[]})"), "fhir.sender");
  EXPECT_EQ(rule(R"({"resourceType":"Bundle","type":"collection","meta":{"source":"urn:esrsync:provider:X"}})"),
            "fhir.bundle");
  EXPECT_EQ(rule(R"({"resourceType":"Bundle","type":"collection","meta":{"source":"urn:esrsync:provider:X"},
                     "entry":[{"resource":{"resourceType":"Patient"}},{"resource":{"resourceType":"Patient"}}]})"),
            "fhir.patient");
}

TEST(StaffHistory, ABadEntryIsRejectedByItsNumberAndTheRestKept) {
  const auto p = parse_bundle(R"({"resourceType":"Bundle","type":"collection",
      "meta":{"source":"urn:esrsync:provider:OHP09"},"entry":[
      {"resource":{"resourceType":"Patient","birthDate":"1988-03-14"}},
      {"resource":{"resourceType":"Condition"}},
      {"resource":{"resourceType":"Immunization","id":"I1","status":"completed","occurrenceDateTime":"2026-01-02",
                   "protocolApplied":[{"targetDisease":[{"coding":[{"system":"http://snomed.info/sct","code":"1234567"}]}],
                                       "doseNumberPositiveInt":1}]}},
      {"resource":{"resourceType":"Observation","id":"O1","effectiveDateTime":"2026-01-02","valueString":"Positive"}},
      {"resource":{"resourceType":"Immunization","id":"I2","status":"completed","occurrenceDateTime":"2026-01-02",
                   "protocolApplied":[{"targetDisease":[{"coding":[{"system":"http://snomed.info/sct","code":"6142004"}]}],
                                       "doseNumberPositiveInt":1}]}}]})",
                              "b.json", kToday);
  ASSERT_TRUE(p.file_errors.empty());
  ASSERT_EQ(p.events.size(), 4u);
  const auto first_rule = [&](std::size_t i) {
    return p.events[i].errors.empty() ? "" : p.events[i].errors.front().rule;
  };
  EXPECT_EQ(first_rule(0), "fhir.resource");
  EXPECT_EQ(p.events[0].entry, 2u);
  EXPECT_EQ(first_rule(1), "fhir.target_disease");  // a SNOMED code that is no known antigen
  EXPECT_EQ(first_rule(2), "fhir.code");
  EXPECT_EQ(p.events[2].errors.front().origin.line, 4u);
  EXPECT_EQ(first_rule(3), "");
  EXPECT_EQ(p.events[3].record.get("antigen"), "INFLUENZA");
  EXPECT_EQ(p.events[3].record.get("event_id"), "I2");  // no identifier: the resource id
}

}  // namespace
}  // namespace esrsync::fhir
