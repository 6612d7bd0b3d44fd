#include "esrsync/codec/json_lines.hpp"

#include <nlohmann/json.hpp>

#include <array>

#include "esrsync/core/checksum.hpp"

namespace esrsync::codec {

void append_json_string(std::string_view text, std::string& out) {
  static constexpr std::array<char, 16> kHex{'0', '1', '2', '3', '4', '5', '6', '7',
                                             '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  out += '"';
  std::size_t run = 0;  // start of the current run of bytes that need no escaping
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

namespace {

void append_fields(const model::Record& record, std::string& out) {
  const auto& def = model::entity_def(record.entity);
  out += "\"entity\":\"";
  out += def.name;
  out += "\",\"fields\":{";
  bool first = true;
  for (std::size_t i = 0; i < record.values.size() && i < def.fields.size(); ++i) {
    if (record.values[i].empty()) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += def.fields[i].name;
    out += "\":";
    append_json_string(record.values[i], out);
  }
  out += '}';
}

}  // namespace

void append_json_line(const model::Record& record, std::string_view file, std::string& out) {
  out += "{\"file\":";
  append_json_string(file, out);
  out += ",\"line\":";
  out += std::to_string(record.line);
  out += ",\"record\":";
  append_json_string(record.record_type, out);
  out += ',';
  append_fields(record, out);
  out += "}\n";
}

void append_canonical_json(const model::Record& record, std::string& out) {
  out += '{';
  append_fields(record, out);
  out += '}';
}

Result<model::Record> parse_canonical_json(std::string_view text) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("entity") || !json["entity"].is_string() ||
      !json.contains("fields") || !json["fields"].is_object()) {
    return fail(Errc::parse, "json.syntax", "not a canonical record ({\"entity\":…,\"fields\":{…}})");
  }
  const auto entity = model::find_entity(json["entity"].get<std::string>());
  if (!entity) return fail(Errc::parse, "json.entity", "unknown entity '" + json["entity"].get<std::string>() + "'");
  model::Record record;
  record.reset(*entity);
  for (const auto& [name, value] : json["fields"].items()) {
    if (!value.is_string() || !record.set(name, value.get<std::string>())) {
      return fail(Errc::parse, "json.field",
                  "'" + name + "' is not a text field of " + json["entity"].get<std::string>());
    }
  }
  return record;
}

std::string content_hash(const model::Record& record) {
  std::string canonical;
  append_canonical_json(record, canonical);
  return content_hash_of(canonical);
}

std::string content_hash_of(std::string_view canonical_json) {
  return sha256_hex(canonical_json);
}

}  // namespace esrsync::codec
