// The packed form of stored payloads (store/payload.hpp): what goes in comes out whole, a damaged
// payload is an error, payloads stored before packing are read as they are, and the v1 dictionary
// (needed to read every payload packed with it) never changes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/core/checksum.hpp"
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

TEST(PayloadTest, ARecordPacksToUnderHalfItsSize) {
  // What the dictionary is for: the field names every record repeats.
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
  unknown_tag[0] = 0x02;
  for (const std::string& bad : {flipped, good.substr(0, good.size() - 3), good.substr(0, 3), unknown_tag,
                                 std::string("\x01", 1), std::string("not json")}) {
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

}  // namespace
}  // namespace esrsync::store
