#pragma once
// Text encodings (DOMAIN.md "Text"): input is UTF-8 unless a mapping declares windows-1252 or
// iso-8859-1, in which case it is transcoded to UTF-8. Invalid byte sequences are an error
// (Errc::encoding), never silently replaced. Pure functions, safe from any thread.
//
// Rule ids: encoding.invalid_utf8, encoding.undefined_byte (a windows-1252 byte with no character:
// 0x81 0x8D 0x8F 0x90 0x9D), encoding.unmappable (a character the target encoding cannot hold).
// Error::origin.column is set to the 1-based byte offset of the first bad byte within the input.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "esrsync/core/result.hpp"

namespace esrsync::model {

enum class Encoding { utf8, windows_1252, iso_8859_1 };

// Accepts "utf-8"/"utf8", "windows-1252"/"cp1252", "iso-8859-1"/"latin1" (case-insensitive).
[[nodiscard]] std::optional<Encoding> parse_encoding(std::string_view name) noexcept;
[[nodiscard]] std::string_view to_string(Encoding e) noexcept;

// Offset of the first byte that is not part of a valid UTF-8 sequence (overlongs, surrogates and
// code points above U+10FFFF are invalid), or std::string_view::npos when `text` is valid.
[[nodiscard]] std::size_t find_invalid_utf8(std::string_view text) noexcept;

// Appends `in`, decoded from `from`, to `out` as UTF-8. For utf8 the input is validated and copied.
Status append_as_utf8(std::string_view in, Encoding from, std::string& out);

// Appends the UTF-8 text `in` to `out` encoded as `to` (used when writing files). Errors:
// encoding.invalid_utf8, encoding.unmappable.
Status append_from_utf8(std::string_view in, Encoding to, std::string& out);

}  // namespace esrsync::model
