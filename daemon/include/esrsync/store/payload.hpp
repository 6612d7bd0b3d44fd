#pragma once
// How a record's canonical JSON is kept in the store (canonical_record.payload and
// change_history.payload): packed. A canonical record is ~350 bytes of JSON, about half of it field
// names that every record of its entity repeats.
//
// Layout: a tag byte, then
// * tag 0x02: the record's values alone. The canonical JSON of a person,
//   assignment, immunisation or clearance whose fields follow that entity's v2 layout (the field
//   names in schema order, pinned in payload.cpp) is kept as the layout's number, a 32-bit check of
//   the JSON, and each field's value bytes with their length; the JSON is rebuilt from the layout.
//   ~38 % of the JSON's size, and about five times cheaper to make than a zstd frame of one record
//   (0.3 µs against 1.5 µs on the bench machine; a frame's cost is mostly fixed, whatever its size).
//   A first load packs 3.45 M records on the decoding thread: zstd took 6–7 s of CPU there.
// * tag 0x01: a zstd frame compressed against a dictionary built into esrsync (kPayloadDictionaryV1),
//   with its content size and a content checksum: any other JSON (about 40 % of its size).
// A damaged payload of either kind is an error, never another record. JSON never starts with
// either byte, so a payload written before packing existed (plain JSON, starting with '{') is read
// as it is: no migration rewrites a store. A dictionary or layout is never changed once released:
// another one would get a tag of its own.

#include <string>
#include <string_view>

#include "esrsync/core/result.hpp"

namespace esrsync::store {

// The v1 dictionary's bytes (the skeletons of the four entities' canonical JSON). Fixed forever:
// every payload packed with tag 0x01 needs exactly these bytes to be read.
[[nodiscard]] std::string_view payload_dictionary_v1() noexcept;

// Appends the packed form of `json` to `out`. Thread-safe (one compression context per thread).
void pack_payload(std::string_view json, std::string& out);
[[nodiscard]] bool is_packed_payload(std::string_view stored) noexcept;
// The JSON of a stored payload, packed or plain. Errors (Errc::parse, "store.payload"): an
// unknown tag, a damaged or truncated frame, a checksum that does not match.
Result<std::string> unpack_payload(std::string_view stored);

}  // namespace esrsync::store
