#pragma once
// How a record's canonical JSON is kept in the store (canonical_record.payload and
// change_history.payload): packed, a zstd frame compressed against a dictionary built into
// esrsync. A canonical record is ~350 bytes of JSON, about half of it field names that every
// record of its entity repeats; one record alone compresses poorly, against the dictionary (those
// names and common values) to about 40 %. Half the bytes a first load writes and a FULL reads.
//
// Layout: a tag byte, then the frame (with its content size and a content checksum, so a damaged
// payload is an error, never another record). Tag 0x01: dictionary v1 (kPayloadDictionaryV1).
// JSON never starts with that byte, so a payload written before packing existed (plain JSON,
// starting with '{') is read as it is: no migration rewrites a store. A dictionary is never
// changed once released: another one would get a tag of its own.

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
