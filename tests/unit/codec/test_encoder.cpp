// Encoding canonical records back out through the shipped mappings: DI return and ACK files decode
// to the same records (round trip), the sample files are reproduced byte for byte, and values the
// format cannot carry are refused rather than mangled.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/codec/encoder.hpp"
#include "esrsync/codec/json_lines.hpp"
#include "support/capture.hpp"
#include "support/decode.hpp"

namespace esrsync::codec {
namespace {

// Decodes `file`, encodes every record again (header and data; the trailer is recomputed) and
// returns the bytes.
std::string reencode(const std::shared_ptr<const mapping::Mapping>& mapping, const std::string& bytes,
                     test::Decoded& first) {
  first = test::decode_string(*mapping, bytes);
  EXPECT_THAT(first.rules(), testing::IsEmpty());
  auto encoder = Encoder::create(mapping);
  EXPECT_TRUE(encoder) << encoder.error().to_string();
  std::string out;
  for (const auto& record : first.records) {
    if (record.entity == model::Entity::file_trailer) continue;
    auto ok = (*encoder)->append(record, out);
    EXPECT_TRUE(ok) << ok.error().to_string();
  }
  EXPECT_TRUE((*encoder)->append_trailer(out));
  return out;
}

void expect_same_records(const test::Decoded& a, const test::Decoded& b) {
  ASSERT_EQ(a.records.size(), b.records.size());
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records[i].entity, b.records[i].entity) << i;
    EXPECT_EQ(a.records[i].record_type, b.records[i].record_type) << i;
    EXPECT_EQ(a.records[i].values, b.records[i].values) << i;
  }
}

TEST(EncoderRoundTrip, DiReturnSample) {
  auto mapping = test::shipped_mapping("mappings/esr/di_return.xml");
  const std::string original =
      test::read_file(std::string(ESRSYNC_SOURCE_DIR) + "/sample-data/esr/DI_245_OHS_20260805_0000001.DAT");
  test::Decoded first;
  const std::string encoded = reencode(mapping, original, first);
  EXPECT_EQ(encoded, original);
  const auto second = test::decode_string(*mapping, encoded);
  EXPECT_THAT(second.rules(), testing::IsEmpty());
  expect_same_records(first, second);
}

TEST(EncoderRoundTrip, AckSample) {
  auto mapping = test::shipped_mapping("mappings/esr/ack.xml");
  const std::string original =
      test::read_file(std::string(ESRSYNC_SOURCE_DIR) + "/sample-data/esr/DE_245_OHS_20260802_0000002.ACK");
  test::Decoded first;
  const std::string encoded = reencode(mapping, original, first);
  EXPECT_EQ(encoded, original);
  expect_same_records(first, test::decode_string(*mapping, encoded));
}

TEST(EncoderRoundTrip, DiReturnBuiltFromCanonicalRecords) {
  auto mapping = test::shipped_mapping("mappings/esr/di_return.xml");
  auto encoder = Encoder::create(mapping);
  ASSERT_TRUE(encoder);
  model::Record header;
  header.reset(model::Entity::file_header);
  header.set("vpd", "245");
  header.set("seq", "57");
  header.set("created", "2026-08-01T18:30:05");
  model::Record imm;
  imm.reset(model::Entity::immunisation);
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{{"action", "A"},
                                                                             {"person_number", "10000001"},
                                                                             {"event_id", "OHR1"},
                                                                             {"antigen", "VARICELLA"},
                                                                             {"snomed_code", "38907003"},
                                                                             {"kind", "vaccination"},
                                                                             {"status", "COMPLETED"},
                                                                             {"event_date", "2026-02-28"},
                                                                             {"dose", "2"},
                                                                             {"evidence", "TRANSFERRED"},
                                                                             {"provider_code", "OHP09"}}) {
    imm.set(k, v);
  }
  std::string out;
  ASSERT_TRUE((*encoder)->append(header, out));
  ASSERT_TRUE((*encoder)->append(imm, out));
  ASSERT_TRUE((*encoder)->append_trailer(out));
  EXPECT_EQ(out,
            "HDR|OHS-ESR|1.0|245|DELTA|57|20260801183005\n"
            "IMM|A|10000001|OHR1|VARICELLA|38907003|vaccination|COMPLETED|20260228|2||TRANSFERRED|OHP09\n"
            "TRL|1\n");
  const auto back = test::decode_string(*mapping, out);
  EXPECT_THAT(back.rules(), testing::IsEmpty());
  ASSERT_EQ(back.records.size(), 3u);
  EXPECT_EQ(back.records[1].values, imm.values);
}

TEST(Encoder, RefusesASeparatorInAValue) {
  auto mapping = test::shipped_mapping("mappings/esr/ack.xml");
  auto encoder = Encoder::create(mapping);
  ASSERT_TRUE(encoder);
  model::Record err;
  err.reset(model::Entity::ack_error);
  err.set("line", "4");
  err.set("error_code", "x");
  err.set("message", "a|b");
  std::string out;
  auto ok = (*encoder)->append(err, out);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().rule, "encode.separator");
  EXPECT_EQ(ok.error().origin.field, "message");
  err.set("message", "line\nbreak");
  EXPECT_FALSE((*encoder)->append(err, out));
  EXPECT_EQ(out, "");
}

TEST(Encoder, RefusesDecodeOnlyMappings) {
  auto csv = Encoder::create(test::shipped_mapping("mappings/oh/generic_csv.xml"));
  ASSERT_FALSE(csv);
  EXPECT_EQ(csv.error().rule, "encode.not_reversible");
  EXPECT_GT(csv.error().origin.line, 0u);
  auto xml = Encoder::create(test::shipped_mapping("mappings/oh/generic_xml.xml"));
  ASSERT_FALSE(xml);
  EXPECT_EQ(xml.error().rule, "encode.format");
}

TEST(Encoder, RefusesAnEntityTheMappingDoesNotHave) {
  auto encoder = Encoder::create(test::shipped_mapping("mappings/esr/di_return.xml"));
  ASSERT_TRUE(encoder);
  model::Record person;
  person.reset(model::Entity::person);
  std::string out;
  auto ok = (*encoder)->append(person, out);
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().rule, "encode.no_record_type");
}

TEST(Encoder, CsvQuotesAndRoundTripsThroughAWindows1252Mapping) {
  test::TempDir dir;
  test::write_file(dir / "m.xml",
                   "<mapping name=\"staff\" format=\"csv\" encoding=\"windows-1252\">\n"
                   "<record entity=\"person\">\n"
                   "<field target=\"person_number\" column=\"Person\"/>\n"
                   "<field target=\"surname\" column=\"Surname\"/>\n"
                   "<field target=\"forenames\" column=\"Forenames\"/>\n"
                   "<field target=\"date_of_birth\" column=\"DOB\"><date format=\"%d/%m/%Y\"/></field>\n"
                   "</record>\n</mapping>\n");
  auto mapping = mapping::load_mapping((dir / "m.xml").string());
  ASSERT_TRUE(mapping) << mapping.error().to_string();
  auto encoder = Encoder::create(*mapping);
  ASSERT_TRUE(encoder) << encoder.error().to_string();
  model::Record p;
  p.reset(model::Entity::person);
  p.set("person_number", "10000003");
  p.set("surname", "O'Brien, \"Jr\"");
  p.set("forenames", "Zoë\nAnna");
  p.set("date_of_birth", "1979-05-30");
  std::string out;
  ASSERT_TRUE((*encoder)->append(p, out));
  EXPECT_EQ(out, "Person,Surname,Forenames,DOB\r\n10000003,\"O'Brien, \"\"Jr\"\"\",\"Zo\xeb\nAnna\",30/05/1979\r\n");
  const auto back = test::decode_string(**mapping, out, "staff.csv");
  EXPECT_THAT(back.rules(), testing::IsEmpty());
  ASSERT_EQ(back.records.size(), 1u);
  EXPECT_EQ(back.records[0].values, p.values);

  model::Record emoji = p;
  emoji.set("surname", "🙂");
  auto refused = (*encoder)->append(emoji, out);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().rule, "encoding.unmappable");
}

}  // namespace
}  // namespace esrsync::codec

namespace esrsync::codec {
namespace {

TEST(CanonicalJson, SameContentSameHashWhereverItCameFrom) {
  model::Record a;
  a.reset(model::Entity::person);
  a.set("person_number", "10000001");
  a.set("surname", "O'Brien \"Jr\"");
  a.line = 2;
  a.record_type = "PER";
  model::Record b = a;
  b.line = 900;  // another file, another line: same content
  b.record_type = "X";
  std::string json;
  append_canonical_json(a, json);
  EXPECT_EQ(json, R"({"entity":"person","fields":{"person_number":"10000001","surname":"O'Brien \"Jr\""}})");
  EXPECT_EQ(content_hash(a), content_hash(b));
  EXPECT_EQ(content_hash(a).size(), 64u);
  b.set("surname", "O'Brien");
  EXPECT_NE(content_hash(a), content_hash(b));
  model::Record c;
  c.reset(model::Entity::assignment);
  c.set("person_number", "10000001");
  model::Record d;
  d.reset(model::Entity::person);
  d.set("person_number", "10000001");
  EXPECT_NE(content_hash(c), content_hash(d));  // the entity is part of the content
}

}  // namespace
}  // namespace esrsync::codec
