// The packed form of stored payloads (store/payload.hpp): what goes in comes out whole, a damaged
// payload is an error, payloads stored before packing are read as they are, and the v1 dictionary
// and the v2 layouts (needed to read every payload packed with them) never change.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/codec/json_lines.hpp"
#include "esrsync/core/checksum.hpp"
#include "esrsync/model/schema.hpp"
#include "esrsync/store/payload.hpp"

namespace esrsync::store {
namespace {

const std::string kPerson =
    R"({"entity":"person","fields":{"person_number":"10000000","employee_number":"E5467175","ni_number":"GK601551B",)"
    R"("nhs_number":"9952637098","title":"Mrs","surname":"Ivanova","forenames":"Siân","date_of_birth":"1980-11-06",)"
    R"("gender":"F","email":"sian.ivanova59@nhs.net","mobile":"07757812890","postcode":"DD23 3NB",)"
    R"("transfer_consent":"Y"}})";

std::string hex_decode(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

std::string packed(std::string_view json) {
  std::string out;
  pack_payload(json, out);
  return out;
}

TEST(PayloadTest, WhatIsPackedIsReadBackWhole) {
  const std::string assignment =
      R"({"entity":"assignment","fields":{"person_number":"10004378","assignment_number":"10004378-1","vpd":"245",)"
      R"("org_code":"RXX","position_title":"Occupational Therapist","staff_group":"Allied Health Professionals",)"
      R"("start_date":"2025-10-29","lead_employer":"N","primary":"Y","trainee":"N","grade":"Band 5","epp":"N"}})";
  const std::string large(100000, 'x');
  for (const std::string& json : {kPerson, assignment, std::string("{}"), std::string(), large}) {
    const std::string p = packed(json);
    EXPECT_TRUE(is_packed_payload(p));
    auto back = unpack_payload(p);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, json);
  }
  // Appends: what was in the buffer stays.
  std::string out = "keep";
  pack_payload(kPerson, out);
  EXPECT_EQ(out.substr(0, 4), "keep");
  EXPECT_EQ(*unpack_payload(std::string_view(out).substr(4)), kPerson);
}

// Canonical JSON of the four stored entities takes the v2 layout; anything else the v1 frame, and
// both come back byte for byte.
TEST(PayloadTest, CanonicalRecordsTakeTheirLayoutAndAnythingElseTheDictionary) {
  const std::string immunisation =
      R"({"entity":"immunisation","fields":{"action":"A","event_id":"EV-1","provider_code":"OHX",)"
      R"("person_number":"10000000","surname":"O'Brien \"Bea\" \\ \u0001","date_of_birth":"1980-11-06",)"
      R"("antigen":"HEPB","kind":"vaccination","status":"COMPLETED","event_date":"2025-01-02","dose":"3",)"
      R"("vaccine_name":""}})";
  const std::string clearance =
      R"({"entity":"clearance","fields":{"person_number":"10000000","assignment_number":"10000000-1",)"
      R"("clearance_type":"STANDARD","outcome":"CLEARED","outcome_date":"2025-03-01","provider_code":"OHX"}})";
  const std::string no_fields = R"({"entity":"assignment","fields":{}})";
  for (const std::string& json : {kPerson, immunisation, clearance, no_fields}) {
    const std::string p = packed(json);
    EXPECT_EQ(static_cast<unsigned char>(p.front()), 0x02) << json;
    auto back = unpack_payload(p);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, json);
  }
  const std::string others[] = {
      R"({"entity":"ack","fields":{"file_name":"x"}})",                             // not a stored entity
      R"({"entity":"person","fields":{"surname":"A","person_number":"1"}})",        // out of layout order
      R"({"entity":"person","fields":{"person_number":"1","shoe_size":"9"}})",      // not in the layout
      R"({"entity":"person","fields":{"person_number":"1","person_number":"2"}})",  // twice
      R"({"entity":"immunisation","fields":{"dose":3}})",                           // not a string
      R"({"entity":"person","fields":{"person_number":"1"}} )",                     // anything after
      R"({"entity":"person","fields":{"person_number":"1"})",                       // cut short
      R"({"entity":"person","fields":{"person_number":"1})",
      R"({"entity":"person","fields":{"person_number":"1",}})",
      R"({"entity":"person","fields":{"person_number)",
      R"({"entity":"person","fields":{"person_number":"\)",
      R"({"entity":"person","fields":)",
      R"({"entity":"assignment","fields":{)",  // found by the fuzzer: cut right after the brace
      R"({"entity":"persons","fields":{}})",
      R"({"entity":"person")",
  };
  for (const std::string& json : others) {
    const std::string p = packed(json);
    EXPECT_EQ(static_cast<unsigned char>(p.front()), 0x01) << json;
    auto back = unpack_payload(p);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, json);
  }
}

// The v2 layouts are the schema's field lists as they were when v2 was made. A record with every field
// set must still take its layout: if this fails, the schema has changed (such records now fall back to
// the slower zstd frame) and a v3 layout with a tag of its own is due; v2 itself must not be edited.
TEST(PayloadTest, EveryFieldOfTheStoredEntitiesFitsItsLayout) {
  for (const auto entity :
       {model::Entity::person, model::Entity::assignment, model::Entity::immunisation, model::Entity::clearance}) {
    model::Record record;
    record.reset(entity);
    for (const auto& field : model::entity_def(entity).fields)
      ASSERT_TRUE(record.set(field.name, "x"));
    std::string json;
    codec::append_canonical_json(record, json);
    const std::string p = packed(json);
    EXPECT_EQ(static_cast<unsigned char>(p.front()), 0x02)
        << "the schema of " << model::entity_def(entity).name << " no longer fits its v2 layout: " << json;
    EXPECT_EQ(*unpack_payload(p), json);
  }
}

TEST(PayloadTest, ARecordPacksToUnderHalfItsSize) {
  // What packing is for: the field names every record repeats (here left out by the v2 layout).
  EXPECT_LT(packed(kPerson).size() * 2, kPerson.size());
}

TEST(PayloadTest, PlainJsonStoredBeforePackingIsReadAsItIs) {
  EXPECT_FALSE(is_packed_payload(kPerson));
  EXPECT_EQ(*unpack_payload(kPerson), kPerson);
  EXPECT_EQ(*unpack_payload(""), "");
}

TEST(PayloadTest, ADamagedPayloadIsAnErrorNeverAnotherRecord) {
  const std::string good = packed(kPerson);
  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x20);
  std::string unknown_tag = good;
  unknown_tag[0] = 0x7F;
  std::string length = good;  // the first field's length
  length[6] = static_cast<char>(length[6] + 1);
  std::string layout = good;
  layout[1] = 0x04;
  const std::string endless_length = good.substr(0, 6) + std::string(16, '\xFF');  // a varint that never ends
  std::string v1 = packed(R"({"entity":"ack","fields":{"file_name":"DE_245_OHS_20260801_0000001.DAT"}})");
  std::string v1_flipped = v1;
  v1_flipped[v1.size() / 2] = static_cast<char>(v1_flipped[v1.size() / 2] ^ 0x20);
  ASSERT_EQ(v1.front(), 0x01);
  for (const std::string& bad :
       {flipped, good.substr(0, good.size() - 3), good.substr(0, 3), good + "x", length, endless_length, layout,
        unknown_tag, v1_flipped, v1.substr(0, v1.size() - 3), v1.substr(0, 3), std::string("\x01", 1),
        std::string("\x02", 1), std::string("not json")}) {
    auto r = unpack_payload(bad);
    ASSERT_FALSE(r) << "read as: " << *r;
    EXPECT_EQ(r.error().rule, "store.payload");
  }
}

TEST(PayloadTest, TheV1DictionaryNeverChanges) {
  // Every payload packed with tag 0x01 needs these exact bytes: a new dictionary gets a new tag.
  EXPECT_EQ(sha256_hex(payload_dictionary_v1()), "b8cc3764eb8431c689fe59b88436f7725f69baf9c060516d8737368f3a349fd3");
  // A payload packed by the first release that packed: still read, byte for byte.
  const std::string golden = hex_decode(
      "0128b52ffd644d000d0400d2c4111ab037070c1e0cb30e6372b8b96086f60e4829456c6f1977c2d409c940003a4a61f3396f"
      "6e270bda624ed1fc06b9df94851deb216d3dc225dcb8484f76a7671eb51872bf2a243e1200508b82388271a495cfcf2a8cc5"
      "5062168896ca8976203b3343078ea11cb22923c7a1ecec8226089e00b8011dca37860b0cfd0d01040bc27630");
  EXPECT_EQ(*unpack_payload(golden), kPerson);
}

TEST(PayloadTest, TheV2LayoutsNeverChange) {
  // Every payload packed with tag 0x02 is rebuilt from its layout's field names and checked with the
  // same function: these bytes, packed when v2 was made, must read back for as long as stores last.
  const std::string golden = hex_decode(
      "020060b5b7ed000931303030303030300945353436373137350a474b363031353531420b39393532363337303938044d"
      "7273084976616e6f7661065369c3a26e000b313938302d31312d30360246177369616e2e6976616e6f76613539406e68"
      "732e6e65740c3037373537383132383930094444323320334e420259");
  EXPECT_EQ(*unpack_payload(golden), kPerson);
  EXPECT_EQ(packed(kPerson), golden);
}

}  // namespace
}  // namespace esrsync::store
