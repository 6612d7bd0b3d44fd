#include "esrsync/codec/json_lines.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <optional>

#include "esrsync/core/checksum.hpp"
#include "esrsync/model/text_encoding.hpp"

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

namespace {

// Reads a JSON string at `at` (its opening quote) into `out`; false on anything this reader does not
// take on: a raw control character, an escape other than the ones append_json_string writes. (The
// text's UTF-8 is checked as a whole before.)
bool read_plain_string(std::string_view text, std::size_t& at, std::string& out) {
  if (at >= text.size() || text[at] != '"') return false;
  std::size_t run = ++at;
  out.clear();
  while (at < text.size()) {
    const auto c = static_cast<unsigned char>(text[at]);
    if (c == '"') {
      out.append(text.data() + run, at - run);
      ++at;
      return true;
    }
    if (c < 0x20) return false;
    if (c != '\\') {
      ++at;
      continue;
    }
    out.append(text.data() + run, at - run);
    if (at + 1 >= text.size()) return false;
    switch (text[at + 1]) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {  // \u00XX below 0x20, as append_json_string writes control characters
        if (at + 6 > text.size() || text.substr(at + 2, 2) != "00") return false;
        int value = 0;
        for (const char h : text.substr(at + 4, 2)) {
          const int digit = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
          if (digit < 0) return false;
          value = value * 16 + digit;
        }
        if (value >= 0x20) return false;
        out += static_cast<char>(value);
        at += 4;
        break;
      }
      default:
        return false;
    }
    at += 2;
    run = at;
  }
  return false;
}

// The canonical form exactly as append_canonical_json writes it, without building a JSON document
// (building one was 28 % of a DELTA's applying thread: every changed person is compared with the
// version it replaces). Anything else,
// including what would be an error, is left to the full parser (nullopt), whose result stands.
std::optional<model::Record> read_canonical_form(std::string_view text) {
  constexpr std::string_view kHead = "{\"entity\":";
  constexpr std::string_view kFields = ",\"fields\":{";
  // Well-formed UTF-8 as a JSON reading requires it (RFC 3629: no overlong forms, no surrogates).
  if (text.substr(0, kHead.size()) != kHead || model::find_invalid_utf8(text) != std::string_view::npos) {
    return std::nullopt;
  }
  std::size_t at = kHead.size();
  std::string name;
  std::string value;
  if (!read_plain_string(text, at, name)) return std::nullopt;
  const auto entity = model::find_entity(name);
  if (!entity || text.substr(at, kFields.size()) != kFields) return std::nullopt;
  at += kFields.size();
  model::Record record;
  record.reset(*entity);
  if (text.substr(at) == "}}") return record;
  for (;;) {
    if (!read_plain_string(text, at, name) || at >= text.size() || text[at++] != ':') return std::nullopt;
    if (!read_plain_string(text, at, value) || !record.set(name, value)) return std::nullopt;
    if (at < text.size() && text[at] == ',') {
      ++at;
      continue;
    }
    if (text.substr(at) == "}}") return record;
    return std::nullopt;
  }
}

}  // namespace

Result<model::Record> parse_canonical_json(std::string_view text) {
  if (auto record = read_canonical_form(text)) return std::move(*record);
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
