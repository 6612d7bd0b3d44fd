#include "esrsync/model/text_encoding.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>

// DOMAIN.md "Text". find_invalid_utf8 runs on every field of every record, so it checks eight
// ASCII bytes at a time and only decodes byte by byte when a high bit is set. Transcoding copies
// ASCII runs in one append. On any error `out` is restored to its size on entry, so a caller never
// sees half a field.

namespace esrsync::model {
namespace {

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
constexpr std::size_t kWord = sizeof(std::uint64_t);

// windows-1252 bytes 0x80..0x9F (the only range where it differs from iso-8859-1), per the
// WHATWG/Unicode table; 0 marks the five undefined bytes 0x81 0x8D 0x8F 0x90 0x9D.
constexpr std::array<char32_t, 32> kCp1252High{
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,  // 80..87
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,       // 88..8F
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  // 90..97
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,  // 98..9F
};

constexpr unsigned char byte_at(std::string_view s, std::size_t i) noexcept {
  return static_cast<unsigned char>(s[i]);
}

constexpr bool is_continuation(unsigned char b) noexcept {
  return (b & 0xC0U) == 0x80U;
}

// Length of the ASCII run starting at `i`.
std::size_t ascii_run(std::string_view s, std::size_t i) noexcept {
  const std::size_t start = i;
  while (s.size() - i >= kWord) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, kWord);  // unaligned-safe load; compiles to one mov
    if ((w & kHighBits) != 0) break;
    i += kWord;
  }
  while (i < s.size() && byte_at(s, i) < 0x80U)
    ++i;
  return i - start;
}

// Length of the valid multi-byte sequence starting at `i` (whose first byte is >= 0x80), or 0 when
// the sequence is invalid. Ranges per RFC 3629 / Unicode Table 3-7: the second-byte bounds for E0,
// ED, F0 and F4 exclude overlongs, surrogates and code points above U+10FFFF.
std::size_t sequence_length(std::string_view s, std::size_t i) noexcept {
  const unsigned char lead = byte_at(s, i);
  const std::size_t avail = s.size() - i;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  std::size_t len = 0;
  if (lead < 0xC2U) return 0;  // stray continuation byte, or overlong C0/C1 lead
  if (lead < 0xE0U) {
    len = 2;
  } else if (lead < 0xF0U) {
    len = 3;
    if (lead == 0xE0U) lo = 0xA0;  // overlong
    if (lead == 0xEDU) hi = 0x9F;  // surrogates U+D800..U+DFFF
  } else if (lead < 0xF5U) {
    len = 4;
    if (lead == 0xF0U) lo = 0x90;  // overlong
    if (lead == 0xF4U) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // F5..FF never occur
  }
  if (avail < len) return 0;  // truncated
  const unsigned char second = byte_at(s, i + 1);
  if (second < lo || second > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (!is_continuation(byte_at(s, i + k))) return 0;
  }
  return len;
}

// Decodes the (already validated) sequence of `len` bytes at `i`.
char32_t decode(std::string_view s, std::size_t i, std::size_t len) noexcept {
  const unsigned lead = byte_at(s, i);
  unsigned cp = len == 2 ? (lead & 0x1FU) : len == 3 ? (lead & 0x0FU) : (lead & 0x07U);
  for (std::size_t k = 1; k < len; ++k)
    cp = (cp << 6U) | (byte_at(s, i + k) & 0x3FU);
  return static_cast<char32_t>(cp);
}

void append_utf8(std::string& out, char32_t cp) {
  const auto c = static_cast<std::uint32_t>(cp);
  if (c < 0x80U) {
    out += static_cast<char>(c);
  } else if (c < 0x800U) {
    out += static_cast<char>(0xC0U | (c >> 6U));
    out += static_cast<char>(0x80U | (c & 0x3FU));
  } else if (c < 0x10000U) {
    out += static_cast<char>(0xE0U | (c >> 12U));
    out += static_cast<char>(0x80U | ((c >> 6U) & 0x3FU));
    out += static_cast<char>(0x80U | (c & 0x3FU));
  } else {
    out += static_cast<char>(0xF0U | (c >> 18U));
    out += static_cast<char>(0x80U | ((c >> 12U) & 0x3FU));
    out += static_cast<char>(0x80U | ((c >> 6U) & 0x3FU));
    out += static_cast<char>(0x80U | (c & 0x3FU));
  }
}

std::uint32_t column_of(std::size_t offset) noexcept {
  constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
  return offset >= kMax ? kMax : static_cast<std::uint32_t>(offset + 1);
}

Unexpected encoding_error(std::string& out, std::size_t restore, std::string rule, std::string message,
                          std::size_t offset) {
  out.resize(restore);
  Origin origin;
  origin.column = column_of(offset);
  return fail(Errc::encoding, std::move(rule), std::move(message), std::move(origin));
}

Unexpected invalid_utf8(std::string& out, std::size_t restore, std::size_t offset) {
  return encoding_error(out, restore, "encoding.invalid_utf8", "invalid UTF-8 byte sequence", offset);
}

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// The windows-1252 byte for `cp`, or 0 when it has none. Code points U+0080..U+009F have no
// windows-1252 byte (those bytes hold other characters there), so they are unmappable.
unsigned char to_cp1252(char32_t cp) noexcept {
  if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) return static_cast<unsigned char>(cp);
  for (std::size_t k = 0; k < kCp1252High.size(); ++k) {
    if (kCp1252High[k] != 0 && kCp1252High[k] == cp) return static_cast<unsigned char>(0x80U + k);
  }
  return 0;
}

}  // namespace

std::optional<Encoding> parse_encoding(std::string_view name) noexcept {
  if (iequals(name, "utf-8") || iequals(name, "utf8")) return Encoding::utf8;
  if (iequals(name, "windows-1252") || iequals(name, "cp1252")) return Encoding::windows_1252;
  if (iequals(name, "iso-8859-1") || iequals(name, "latin1")) return Encoding::iso_8859_1;
  return std::nullopt;
}

std::string_view to_string(Encoding e) noexcept {
  switch (e) {
    case Encoding::utf8:
      return "utf-8";
    case Encoding::windows_1252:
      return "windows-1252";
    case Encoding::iso_8859_1:
      return "iso-8859-1";
  }
  return "unknown";
}

std::size_t find_invalid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    if (byte_at(text, i) < 0x80U) {
      i += ascii_run(text, i);
      continue;
    }
    const std::size_t len = sequence_length(text, i);
    if (len == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

Status append_as_utf8(std::string_view in, Encoding from, std::string& out) {
  const std::size_t restore = out.size();
  if (from == Encoding::utf8) {
    const std::size_t bad = find_invalid_utf8(in);
    if (bad != std::string_view::npos) return invalid_utf8(out, restore, bad);
    out.append(in);
    return {};
  }
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t run = ascii_run(in, i);
    if (run != 0) {
      out.append(in.substr(i, run));
      i += run;
      continue;
    }
    const unsigned char b = byte_at(in, i);
    char32_t cp = b;
    if (from == Encoding::windows_1252 && b < 0xA0U) {
      cp = kCp1252High[b - 0x80U];
      if (cp == 0) {
        return encoding_error(out, restore, "encoding.undefined_byte", "byte has no character in windows-1252", i);
      }
    }
    append_utf8(out, cp);
    ++i;
  }
  return {};
}

Status append_from_utf8(std::string_view in, Encoding to, std::string& out) {
  const std::size_t restore = out.size();
  // Validate first so that a malformed field is reported as such even when it also holds a
  // character the target cannot represent.
  const std::size_t bad = find_invalid_utf8(in);
  if (bad != std::string_view::npos) return invalid_utf8(out, restore, bad);
  if (to == Encoding::utf8) {
    out.append(in);
    return {};
  }
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t run = ascii_run(in, i);
    if (run != 0) {
      out.append(in.substr(i, run));
      i += run;
      continue;
    }
    const std::size_t len = sequence_length(in, i);  // > 0: validated above
    const char32_t cp = decode(in, i, len);
    unsigned char b = 0;
    if (to == Encoding::windows_1252) {
      b = to_cp1252(cp);
    } else if (cp <= 0xFF) {
      b = static_cast<unsigned char>(cp);
    }
    if (b == 0) {
      return encoding_error(out, restore, "encoding.unmappable",
                            std::string("character cannot be represented in ") + std::string(to_string(to)), i);
    }
    out += static_cast<char>(b);
    i += len;
  }
  return {};
}

}  // namespace esrsync::model
