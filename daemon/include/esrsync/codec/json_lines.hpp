#pragma once
// JSON Lines output of canonical records (`esrsync map`): one object a line,
//   {"file":"…","line":N,"record":"PER","entity":"person","fields":{"action":"A",…}}
// with the non-empty fields in canonical schema order. Pure function; no allocation beyond `out`.

#include <string>
#include <string_view>

#include "esrsync/core/result.hpp"
#include "esrsync/model/record.hpp"

namespace esrsync::codec {

void append_json_string(std::string_view text, std::string& out);
void append_json_line(const model::Record& record, std::string_view file, std::string& out);

// The canonical form of a record's content, {"entity":"person","fields":{…}}: the same fields give
// the same bytes, whichever file or line they came from. It is what the store keeps and sinks
// receive, and what the content hash is taken over.
void append_canonical_json(const model::Record& record, std::string& out);
// The record back from its canonical form (what the store and the outbox keep). Errors
// (Errc::parse): json.syntax, json.entity (unknown entity), json.field (a field the entity lacks).
Result<model::Record> parse_canonical_json(std::string_view text);
// SHA-256 (hex) of append_canonical_json: equal exactly when the canonical content is equal
// (DESIGN.md "Change detection").
[[nodiscard]] std::string content_hash(const model::Record& record);
// The same hash of canonical JSON already built by append_canonical_json().
[[nodiscard]] std::string content_hash_of(std::string_view canonical_json);

}  // namespace esrsync::codec
