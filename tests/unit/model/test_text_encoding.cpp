#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "esrsync/model/text_encoding.hpp"

namespace esrsync::model {
namespace {

constexpr auto kNpos = std::string_view::npos;

// Builds a string from raw bytes (embedded NULs allowed).
template <std::size_t N>
std::string bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::string byte(unsigned value) {
  return std::string(1, static_cast<char>(value));
}

::testing::AssertionResult encoding_error(const Status& s, std::string_view rule, std::uint32_t column) {
  if (s) return ::testing::AssertionFailure() << "expected " << rule << ", got success";
  const Error& e = s.error();
  if (e.code != Errc::encoding || e.rule != rule || e.origin.column != column) {
    return ::testing::AssertionFailure() << "expected " << rule << " at column " << column << ", got " << e.rule << " ("
                                         << to_string(e.code) << ") at column " << e.origin.column;
  }
  return ::testing::AssertionSuccess();
}

// windows-1252 0x80..0x9F -> Unicode as UTF-8; empty for the undefined bytes.
constexpr std::string_view kCp1252Utf8[32] = {
    "\xE2\x82\xAC",
    "",
    "\xE2\x80\x9A",
    "\xC6\x92",
    "\xE2\x80\x9E",
    "\xE2\x80\xA6",
    "\xE2\x80\xA0",
    "\xE2\x80\xA1",
    "\xCB\x86",
    "\xE2\x80\xB0",
    "\xC5\xA0",
    "\xE2\x80\xB9",
    "\xC5\x92",
    "",
    "\xC5\xBD",
    "",
    "",
    "\xE2\x80\x98",
    "\xE2\x80\x99",
    "\xE2\x80\x9C",
    "\xE2\x80\x9D",
    "\xE2\x80\xA2",
    "\xE2\x80\x93",
    "\xE2\x80\x94",
    "\xCB\x9C",
    "\xE2\x84\xA2",
    "\xC5\xA1",
    "\xE2\x80\xBA",
    "\xC5\x93",
    "",
    "\xC5\xBE",
    "\xC5\xB8",
};

// ---------------------------------------------------------------------------------------------
// Names

TEST(EncodingName, ParsesKnownNamesCaseInsensitively) {
  EXPECT_EQ(parse_encoding("utf-8"), Encoding::utf8);
  EXPECT_EQ(parse_encoding("UTF-8"), Encoding::utf8);
  EXPECT_EQ(parse_encoding("utf8"), Encoding::utf8);
  EXPECT_EQ(parse_encoding("Utf8"), Encoding::utf8);
  EXPECT_EQ(parse_encoding("windows-1252"), Encoding::windows_1252);
  EXPECT_EQ(parse_encoding("Windows-1252"), Encoding::windows_1252);
  EXPECT_EQ(parse_encoding("cp1252"), Encoding::windows_1252);
  EXPECT_EQ(parse_encoding("CP1252"), Encoding::windows_1252);
  EXPECT_EQ(parse_encoding("iso-8859-1"), Encoding::iso_8859_1);
  EXPECT_EQ(parse_encoding("ISO-8859-1"), Encoding::iso_8859_1);
  EXPECT_EQ(parse_encoding("latin1"), Encoding::iso_8859_1);
  EXPECT_EQ(parse_encoding("LATIN1"), Encoding::iso_8859_1);
}

TEST(EncodingName, RejectsUnknownNames) {
  for (const char* n : {"", "utf-16", "ascii", "utf-8 ", " utf-8", "windows-1250", "iso-8859-15", "cp-1252", "utf"}) {
    EXPECT_FALSE(parse_encoding(n).has_value()) << '"' << n << '"';
  }
}

TEST(EncodingName, ToStringRoundTrips) {
  for (const Encoding e : {Encoding::utf8, Encoding::windows_1252, Encoding::iso_8859_1}) {
    EXPECT_EQ(parse_encoding(to_string(e)), e);
  }
  EXPECT_EQ(to_string(Encoding::utf8), "utf-8");
  EXPECT_EQ(to_string(Encoding::windows_1252), "windows-1252");
  EXPECT_EQ(to_string(Encoding::iso_8859_1), "iso-8859-1");
}

// ---------------------------------------------------------------------------------------------
// UTF-8 validation

TEST(Utf8Valid, AsciiAndEmpty) {
  EXPECT_EQ(find_invalid_utf8(""), kNpos);
  EXPECT_EQ(find_invalid_utf8("a"), kNpos);
  EXPECT_EQ(find_invalid_utf8("Smith-Jones"), kNpos);
  EXPECT_EQ(find_invalid_utf8("O'Brien"), kNpos);
  EXPECT_EQ(find_invalid_utf8(bytes("nul\0inside")), kNpos);
  EXPECT_EQ(find_invalid_utf8(std::string(1000, 'x')), kNpos);
  EXPECT_EQ(find_invalid_utf8(byte(0x7F)), kNpos);
}

TEST(Utf8Valid, MultiByteNames) {
  EXPECT_EQ(find_invalid_utf8("Zo\xC3\xAB"), kNpos);  // Zoë
  EXPECT_EQ(find_invalid_utf8("O\xE2\x80\x99"
                              "Brien"),
            kNpos);  // O’Brien
  EXPECT_EQ(find_invalid_utf8("Bj\xC3\xB6rk Gu\xC3\xB0mundsd\xC3\xB3ttir"), kNpos);
  EXPECT_EQ(find_invalid_utf8("\xF0\x9F\x98\x80 smile"), kNpos);    // U+1F600
  EXPECT_EQ(find_invalid_utf8("\xE6\x9D\xB1\xE4\xBA\xAC"), kNpos);  // 東京
}

TEST(Utf8Valid, BoundaryCodePoints) {
  for (const char* s : {
           "\xC2\x80",          // U+0080, smallest 2-byte
           "\xDF\xBF",          // U+07FF
           "\xE0\xA0\x80",      // U+0800, smallest 3-byte
           "\xED\x9F\xBF",      // U+D7FF, just below the surrogates
           "\xEE\x80\x80",      // U+E000, just above the surrogates
           "\xEF\xBF\xBF",      // U+FFFF
           "\xF0\x90\x80\x80",  // U+10000, smallest 4-byte
           "\xF4\x8F\xBF\xBF",  // U+10FFFF, the largest code point
       }) {
    EXPECT_EQ(find_invalid_utf8(s), kNpos) << s;
  }
}

TEST(Utf8Invalid, StrayContinuationBytes) {
  EXPECT_EQ(find_invalid_utf8(byte(0x80)), 0U);
  EXPECT_EQ(find_invalid_utf8(byte(0xBF)), 0U);
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2U);
  EXPECT_EQ(find_invalid_utf8("Zo\xC3\xAB\xAB"), 4U);  // one continuation too many
}

TEST(Utf8Invalid, Overlongs) {
  EXPECT_EQ(find_invalid_utf8("x\xC0\x80"), 1U);          // U+0000 in two bytes
  EXPECT_EQ(find_invalid_utf8("x\xC0\xAF"), 1U);          // '/' in two bytes
  EXPECT_EQ(find_invalid_utf8("x\xC1\xBF"), 1U);          // U+007F in two bytes
  EXPECT_EQ(find_invalid_utf8("x\xE0\x80\xAF"), 1U);      // '/' in three bytes
  EXPECT_EQ(find_invalid_utf8("x\xE0\x9F\xBF"), 1U);      // U+07FF in three bytes
  EXPECT_EQ(find_invalid_utf8("x\xF0\x80\x80\xAF"), 1U);  // '/' in four bytes
  EXPECT_EQ(find_invalid_utf8("x\xF0\x8F\xBF\xBF"), 1U);  // U+FFFF in four bytes
}

TEST(Utf8Invalid, Surrogates) {
  EXPECT_EQ(find_invalid_utf8("ab\xED\xA0\x80"), 2U);  // U+D800
  EXPECT_EQ(find_invalid_utf8("ab\xED\xAF\xBF"), 2U);  // U+DBFF
  EXPECT_EQ(find_invalid_utf8("ab\xED\xB0\x80"), 2U);  // U+DC00
  EXPECT_EQ(find_invalid_utf8("ab\xED\xBF\xBF"), 2U);  // U+DFFF
  // A CESU-8 style surrogate pair for U+1F600.
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\xBD\xED\xB8\x80"), 0U);
}

TEST(Utf8Invalid, AboveMaxCodePoint) {
  EXPECT_EQ(find_invalid_utf8("a\xF4\x90\x80\x80"), 1U);  // U+110000
  EXPECT_EQ(find_invalid_utf8("a\xF5\x80\x80\x80"), 1U);
  EXPECT_EQ(find_invalid_utf8("a\xF7\xBF\xBF\xBF"), 1U);
  EXPECT_EQ(find_invalid_utf8("a\xF8\x88\x80\x80\x80"), 1U);  // old 5-byte form
  EXPECT_EQ(find_invalid_utf8("a\xFC\x84\x80\x80\x80\x80"), 1U);
  EXPECT_EQ(find_invalid_utf8(byte(0xFE)), 0U);
  EXPECT_EQ(find_invalid_utf8(byte(0xFF)), 0U);
}

TEST(Utf8Invalid, TruncatedSequences) {
  EXPECT_EQ(find_invalid_utf8("Zo\xC3"), 2U);
  EXPECT_EQ(find_invalid_utf8("x\xE2\x82"), 1U);
  EXPECT_EQ(find_invalid_utf8("x\xE2"), 1U);
  EXPECT_EQ(find_invalid_utf8("x\xF0\x9F\x98"), 1U);
  EXPECT_EQ(find_invalid_utf8("x\xF0\x9F"), 1U);
  EXPECT_EQ(find_invalid_utf8("x\xF0"), 1U);
  // Truncated in the middle: the next byte is ASCII or another lead byte.
  EXPECT_EQ(find_invalid_utf8("Zo\xC3"
                              "e"),
            2U);
  EXPECT_EQ(find_invalid_utf8("\xE2\x82"
                              "A"),
            0U);
  EXPECT_EQ(find_invalid_utf8("\xF0\x9F\x98"
                              "A"),
            0U);
  EXPECT_EQ(find_invalid_utf8("\xC3\xC3\xAB"), 0U);
  EXPECT_EQ(find_invalid_utf8("ok\xC3\xAB\xE2\x82\xC3\xAB"), 4U);
}

TEST(Utf8Invalid, TruncatedAtEndOfView) {
  // The bytes after the view complete the sequence; the validator must not look past the view.
  const std::string_view full = "x\xE2\x82\xAC\xF0\x9F\x98\x80";
  EXPECT_EQ(find_invalid_utf8(full), kNpos);
  EXPECT_EQ(find_invalid_utf8(full.substr(0, 3)), 1U);
  EXPECT_EQ(find_invalid_utf8(full.substr(0, 2)), 1U);
  EXPECT_EQ(find_invalid_utf8(full.substr(0, 7)), 4U);
  EXPECT_EQ(find_invalid_utf8(full.substr(0, 4)), kNpos);
}

TEST(Utf8Invalid, OffsetIsExactAtEveryPosition) {
  // Exercises the 8-bytes-at-a-time path: the bad byte sits at each position in and around the
  // first few words, after ASCII and after valid multi-byte text.
  for (std::size_t pos = 0; pos < 40; ++pos) {
    std::string ascii(48, 'a');
    ascii[pos] = static_cast<char>(0xFF);
    EXPECT_EQ(find_invalid_utf8(ascii), pos);

    std::string mixed;
    for (std::size_t i = 0; i < pos; ++i)
      mixed += (i % 5 == 4) ? "\xC3\xAB" : "b";
    const std::size_t bad = mixed.size();
    mixed += "\xED\xA0\x80";
    mixed += std::string(20, 'c');
    EXPECT_EQ(find_invalid_utf8(mixed), bad);
  }
}

TEST(Utf8Invalid, LongValidInputThenError) {
  std::string s;
  for (int i = 0; i < 1000; ++i)
    s += "Smith-Jones O'Brien Zo\xC3\xAB \xF0\x9F\x98\x80 ";
  EXPECT_EQ(find_invalid_utf8(s), kNpos);
  const std::size_t bad = s.size();
  s += "\xC0\x80";
  EXPECT_EQ(find_invalid_utf8(s), bad);
}

// ---------------------------------------------------------------------------------------------
// Decoding to UTF-8

TEST(TextDecode, Utf8InputValidatedAndAppended) {
  std::string out = "prefix:";
  ASSERT_TRUE(append_as_utf8("Zo\xC3\xAB", Encoding::utf8, out));
  EXPECT_EQ(out, "prefix:Zo\xC3\xAB");
}

TEST(TextDecode, Utf8InvalidReportsOneBasedColumnAndLeavesOutput) {
  std::string out = "prefix:";
  const Status s = append_as_utf8("Zo\xC3", Encoding::utf8, out);
  EXPECT_TRUE(encoding_error(s, "encoding.invalid_utf8", 3));
  EXPECT_EQ(out, "prefix:");
  EXPECT_TRUE(encoding_error(append_as_utf8(byte(0x80), Encoding::utf8, out), "encoding.invalid_utf8", 1));
  EXPECT_TRUE(
      encoding_error(append_as_utf8("abcdefghij\xED\xA0\x80", Encoding::utf8, out), "encoding.invalid_utf8", 11));
  EXPECT_TRUE(encoding_error(append_as_utf8("x\xE0\x80\xAF", Encoding::utf8, out), "encoding.invalid_utf8", 2));
  EXPECT_TRUE(encoding_error(append_as_utf8("xy\xF4\x90\x80\x80", Encoding::utf8, out), "encoding.invalid_utf8", 3));
  EXPECT_EQ(out, "prefix:");
}

TEST(TextDecode, ErrorMessageDoesNotEchoInput) {
  std::string out;
  const Status s = append_as_utf8("Secret\xC3", Encoding::utf8, out);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message.find("Secret"), std::string::npos);
}

TEST(TextDecode, Windows1252Names) {
  std::string out;
  ASSERT_TRUE(append_as_utf8("Zo\xEB", Encoding::windows_1252, out));
  EXPECT_EQ(out, "Zo\xC3\xAB");
  out.clear();
  ASSERT_TRUE(
      append_as_utf8("O\x92"
                     "Brien",
                     Encoding::windows_1252, out));
  EXPECT_EQ(out,
            "O\xE2\x80\x99"
            "Brien");
  out.clear();
  ASSERT_TRUE(append_as_utf8("O'Brien Smith-Jones", Encoding::windows_1252, out));
  EXPECT_EQ(out, "O'Brien Smith-Jones");
  out.clear();
  ASSERT_TRUE(
      append_as_utf8("\x80"
                     "5",
                     Encoding::windows_1252, out));
  EXPECT_EQ(out,
            "\xE2\x82\xAC"
            "5");
}

TEST(TextDecode, Windows1252WholeHighRange) {
  for (unsigned b = 0x80; b <= 0x9F; ++b) {
    std::string out;
    const Status s = append_as_utf8(byte(b), Encoding::windows_1252, out);
    const std::string_view expected = kCp1252Utf8[b - 0x80];
    if (expected.empty()) {
      EXPECT_TRUE(encoding_error(s, "encoding.undefined_byte", 1)) << std::hex << b;
    } else {
      ASSERT_TRUE(s) << std::hex << b;
      EXPECT_EQ(out, expected) << std::hex << b;
    }
  }
  for (unsigned b = 0xA0; b <= 0xFF; ++b) {
    std::string out;
    ASSERT_TRUE(append_as_utf8(byte(b), Encoding::windows_1252, out));
    EXPECT_EQ(out, byte(0xC0U | (b >> 6U)) + byte(0x80U | (b & 0x3FU))) << std::hex << b;
  }
}

TEST(TextDecode, Windows1252UndefinedBytesRejectedWithColumn) {
  for (const unsigned b : {0x81U, 0x8DU, 0x8FU, 0x90U, 0x9DU}) {
    std::string out = "keep";
    const std::string in = "Smith-Jones\xEB" + byte(b) + "tail";
    EXPECT_TRUE(encoding_error(append_as_utf8(in, Encoding::windows_1252, out), "encoding.undefined_byte", 13))
        << std::hex << b;
    EXPECT_EQ(out, "keep");
  }
}

TEST(TextDecode, Iso88591MapsEveryByte) {
  for (unsigned b = 0; b <= 0xFF; ++b) {
    std::string out;
    ASSERT_TRUE(append_as_utf8(byte(b), Encoding::iso_8859_1, out));
    const std::string expected = b < 0x80 ? byte(b) : byte(0xC0U | (b >> 6U)) + byte(0x80U | (b & 0x3FU));
    EXPECT_EQ(out, expected) << std::hex << b;
  }
  std::string out;
  ASSERT_TRUE(append_as_utf8("Zo\xEB \x80\x92", Encoding::iso_8859_1, out));
  EXPECT_EQ(out, "Zo\xC3\xAB \xC2\x80\xC2\x92");  // no windows-1252 reinterpretation
}

TEST(TextDecode, TranscodedOutputIsValidUtf8) {
  std::string all;
  for (unsigned b = 0; b <= 0xFF; ++b)
    all += byte(b);
  std::string out;
  ASSERT_TRUE(append_as_utf8(all, Encoding::iso_8859_1, out));
  EXPECT_EQ(find_invalid_utf8(out), kNpos);
}

// ---------------------------------------------------------------------------------------------
// Encoding from UTF-8

TEST(TextEncode, Utf8TargetValidatesAndCopies) {
  std::string out;
  ASSERT_TRUE(append_from_utf8("Zo\xC3\xAB \xF0\x9F\x98\x80", Encoding::utf8, out));
  EXPECT_EQ(out, "Zo\xC3\xAB \xF0\x9F\x98\x80");
  out = "x";
  EXPECT_TRUE(encoding_error(append_from_utf8("ab\xC3", Encoding::utf8, out), "encoding.invalid_utf8", 3));
  EXPECT_EQ(out, "x");
}

TEST(TextEncode, Windows1252Names) {
  std::string out;
  ASSERT_TRUE(append_from_utf8("Zo\xC3\xAB", Encoding::windows_1252, out));
  EXPECT_EQ(out, "Zo\xEB");
  out.clear();
  ASSERT_TRUE(
      append_from_utf8("O\xE2\x80\x99"
                       "Brien Smith-Jones",
                       Encoding::windows_1252, out));
  EXPECT_EQ(out,
            "O\x92"
            "Brien Smith-Jones");
  out.clear();
  ASSERT_TRUE(
      append_from_utf8("\xE2\x82\xAC"
                       "5",
                       Encoding::windows_1252, out));
  EXPECT_EQ(out,
            "\x80"
            "5");
}

TEST(TextEncode, Windows1252RoundTripsEveryDefinedByte) {
  for (unsigned b = 0; b <= 0xFF; ++b) {
    std::string utf8;
    if (!append_as_utf8(byte(b), Encoding::windows_1252, utf8)) continue;  // the five undefined bytes
    std::string back;
    ASSERT_TRUE(append_from_utf8(utf8, Encoding::windows_1252, back)) << std::hex << b;
    EXPECT_EQ(back, byte(b)) << std::hex << b;
  }
}

TEST(TextEncode, Iso88591RoundTripsEveryByte) {
  for (unsigned b = 0; b <= 0xFF; ++b) {
    std::string utf8;
    ASSERT_TRUE(append_as_utf8(byte(b), Encoding::iso_8859_1, utf8));
    std::string back;
    ASSERT_TRUE(append_from_utf8(utf8, Encoding::iso_8859_1, back)) << std::hex << b;
    EXPECT_EQ(back, byte(b)) << std::hex << b;
  }
}

TEST(TextEncode, Windows1252Unmappable) {
  std::string out = "keep";
  // U+03A9 (Ω) after "ab".
  EXPECT_TRUE(encoding_error(append_from_utf8("ab\xCE\xA9", Encoding::windows_1252, out), "encoding.unmappable", 3));
  // An emoji after "Zo" and a mappable 2-byte ë: byte offset 4, column 5.
  EXPECT_TRUE(encoding_error(append_from_utf8("Zo\xC3\xAB\xF0\x9F\x98\x80", Encoding::windows_1252, out),
                             "encoding.unmappable", 5));
  // C1 control U+0080: its windows-1252 byte holds €, so there is no byte for it.
  EXPECT_TRUE(encoding_error(append_from_utf8("\xC2\x80", Encoding::windows_1252, out), "encoding.unmappable", 1));
  // U+0081: one of the undefined byte positions; still unmappable (no silent pass-through).
  EXPECT_TRUE(encoding_error(append_from_utf8("\xC2\x81", Encoding::windows_1252, out), "encoding.unmappable", 1));
  EXPECT_EQ(out, "keep");
}

TEST(TextEncode, Iso88591Unmappable) {
  std::string out = "keep";
  EXPECT_TRUE(encoding_error(append_from_utf8("\xE2\x82\xAC", Encoding::iso_8859_1, out), "encoding.unmappable", 1));
  EXPECT_TRUE(encoding_error(append_from_utf8("O\xE2\x80\x99"
                                              "Brien",
                                              Encoding::iso_8859_1, out),
                             "encoding.unmappable", 2));
  // U+0100, the first code point above iso-8859-1.
  EXPECT_TRUE(encoding_error(append_from_utf8("x\xC4\x80", Encoding::iso_8859_1, out), "encoding.unmappable", 2));
  EXPECT_EQ(out, "keep");
  ASSERT_TRUE(append_from_utf8("\xC3\xBF\xC2\x80", Encoding::iso_8859_1, out));  // U+00FF, U+0080
  EXPECT_EQ(out, "keep\xFF\x80");
}

TEST(TextEncode, InvalidUtf8ReportedBeforeUnmappable) {
  std::string out;
  EXPECT_TRUE(
      encoding_error(append_from_utf8("\xCE\xA9\xC3", Encoding::windows_1252, out), "encoding.invalid_utf8", 3));
  EXPECT_TRUE(
      encoding_error(append_from_utf8("ab\xED\xA0\x80", Encoding::iso_8859_1, out), "encoding.invalid_utf8", 3));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace esrsync::model
