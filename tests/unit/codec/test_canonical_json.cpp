// parse_canonical_json: the canonical form read back exactly (a direct reader for what
// append_canonical_json writes), and every other input read as a general JSON parser reads it, with
// the same result or the same error. The expected results are worked out here with nlohmann::json,
// independently of the code under test.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>

#include "esrsync/codec/json_lines.hpp"
#include "esrsync/model/schema.hpp"

namespace esrsync::codec {
namespace {

using model::Entity;

// What a general JSON reading gives for `text`: the record, or the error rule.
struct Expected {
  bool ok = false;
  std::string rule;
  model::Record record;
};

Expected expected_of(std::string_view text) {
  Expected out;
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("entity") || !json["entity"].is_string() ||
      !json.contains("fields") || !json["fields"].is_object()) {
    out.rule = "json.syntax";
    return out;
  }
  const auto entity = model::find_entity(json["entity"].get<std::string>());
  if (!entity) {
    out.rule = "json.entity";
    return out;
  }
  out.record.reset(*entity);
  for (const auto& [name, value] : json["fields"].items()) {
    if (!value.is_string() || !out.record.set(name, value.get<std::string>())) {
      out.rule = "json.field";
      return out;
    }
  }
  out.ok = true;
  return out;
}

void expect_read_as_json(std::string_view text) {
  const Expected want = expected_of(text);
  auto got = parse_canonical_json(text);
  ASSERT_EQ(got.has_value(), want.ok) << text << (got ? "" : " -> " + got.error().to_string());
  if (want.ok) {
    EXPECT_EQ(got->entity, want.record.entity) << text;
    EXPECT_EQ(got->values, want.record.values) << text;
  } else {
    EXPECT_EQ(got.error().rule, want.rule) << text;
  }
}

// A random value: printable ASCII, with now and then the characters JSON escapes and a little
// non-ASCII (UTF-8) text.
std::string random_value(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {
      "a", "Z", "7", " ",    "'",    "-", "\"", "\\", "\n", "\r",   "\t",     "/",           "{",
      "}", ",", ":", "\x01", "\x1f", "é", "Ł",  "€",  "😀",  "\x7f", "O'Neil", "07700 900123"};
  std::string v;
  const int n = static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i)
    v += kPieces[rng() % kPieces.size()];
  return v;
}

model::Record random_record(std::mt19937& rng) {
  const Entity entities[] = {Entity::person, Entity::assignment, Entity::immunisation, Entity::clearance};
  model::Record r;
  r.reset(entities[rng() % 4]);
  const auto& def = model::entity_def(r.entity);
  for (const auto& field : def.fields) {
    if (rng() % 3 != 0) r.set(field.name, random_value(rng));
  }
  return r;
}

TEST(CanonicalJsonReading, WhatIsWrittenIsReadBackExactly) {
  std::mt19937 rng(20261124);
  for (int i = 0; i < 3000; ++i) {
    const auto record = random_record(rng);
    std::string text;
    append_canonical_json(record, text);
    auto back = parse_canonical_json(text);
    ASSERT_TRUE(back) << text << " -> " << back.error().to_string();
    EXPECT_EQ(back->entity, record.entity) << text;
    EXPECT_EQ(back->values, record.values) << text;
  }
}

TEST(CanonicalJsonReading, AnEmptyRecordIsReadBack) {
  model::Record record;
  record.reset(Entity::clearance);
  std::string text;
  append_canonical_json(record, text);
  ASSERT_EQ(text, "{\"entity\":\"clearance\",\"fields\":{}}");
  auto back = parse_canonical_json(text);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->entity, Entity::clearance);
  EXPECT_EQ(back->values, record.values);
}

TEST(CanonicalJsonReading, OtherSpellingsOfTheSameContentReadAsJson) {
  for (const std::string_view text : {
           // whitespace, another key order, other escapes of the same characters
           R"( {"entity":"person","fields":{"surname":"Okafor"}} )",
           R"({"fields":{"surname":"Okafor"},"entity":"person"})",
           R"({"entity" : "person", "fields" : { "surname" : "Ok\u0061for", "forenames" : "A\/B" }})",
           R"({"entity":"person","fields":{"surname":"Ok\u00E9for"}})",
           R"({"entity":"person","fields":{"surname":"\ud83d\ude00"}})",
           R"({"entity":"person","fields":{"surname":"\b\f"}})",
           // well-formed UTF-8 at the edges of its ranges
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\"}}",
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\xEE\x80\x80\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"}}",
           // a field given twice: the later value, as a JSON object keeps it
           R"({"entity":"person","fields":{"surname":"First","surname":"Second"}})",
           // extra members are ignored by a JSON reading
           R"({"entity":"person","fields":{"surname":"Okafor"},"extra":[1,2,{"x":null}]})",
       }) {
    expect_read_as_json(text);
  }
}

TEST(CanonicalJsonReading, BrokenInputGivesTheErrorAJsonReadingGives) {
  for (const std::string_view text : {
           "",
           "{",
           R"({"entity":"person","fields":{"surname":"Okafor"}})"
           "x",
           R"({"entity":"person","fields":{"surname":"Okafor"})",
           R"({"entity":"person","fields":{"surname":"Okafor}})",
           R"({"entity":"person","fields":{"surname":"Oka)"
           "\x01"
           R"(for"}})",
           R"({"entity":"person","fields":{"surname":"\x"}})",
           R"({"entity":"person","fields":{"surname":"\u00"}})",
           R"({"entity":"person","fields":{"surname":"\u00zz"}})",
           R"({"entity":"person","fields":{"surname":)"
           "\"\xC3\x28\""
           R"(}})",  // invalid UTF-8
           // not well-formed UTF-8: a lone continuation byte, an overlong form, a surrogate, past
           // U+10FFFF, a sequence cut short
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\x80\"}}",
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\xC0\x80\"}}",
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\xE0\x80\x80\"}}",
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\xED\xA0\x80\"}}",
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\xF0\x80\x80\x80\"}}",
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\xF4\x90\x80\x80\"}}",
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\xF5\x80\x80\x80\"}}",
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\xE2\x82\"}}",
           "{\"entity\":\"person\",\"fields\":{\"surname\":\"\xF0\x9F\x98\"}}",
           R"({"entity":"person","fields":{"surname":"Okafor",}})",
           R"({"entity":"person","fields":{"surname" "Okafor"}})",
           R"({"entity":"person","fields":{"surname":7}})",
           R"({"entity":"person","fields":{"shoe_size":"9"}})",
           R"({"entity":"spaceship","fields":{}})",
           R"({"entity":"person"})",
           R"({"entity":1,"fields":{}})",
           R"(["entity","person"])",
       }) {
    expect_read_as_json(text);
  }
}

// Every cut of a canonical record, and every single-byte change to it, is read as JSON reads it:
// whatever the direct reader does not take on exactly, the general parser decides.
TEST(CanonicalJsonReading, EveryCutAndEveryByteChangedReadsAsJson) {
  std::mt19937 rng(7);
  for (int i = 0; i < 12; ++i) {
    const auto record = random_record(rng);
    std::string text;
    append_canonical_json(record, text);
    for (std::size_t cut = 0; cut < text.size(); ++cut)
      expect_read_as_json(std::string_view(text).substr(0, cut));
    for (std::size_t at = 0; at < text.size(); ++at) {
      for (const char c : {'"', '\\', ',', ':', '}', 'x', '\x05', ' '}) {
        std::string changed = text;
        changed[at] = c;
        expect_read_as_json(changed);
      }
    }
  }
}

}  // namespace
}  // namespace esrsync::codec
