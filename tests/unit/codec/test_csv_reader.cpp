#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/codec/csv_reader.hpp"
#include "support/test_sources.hpp"

namespace esrsync::codec {
namespace {

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * kKiB;

using Fields = std::vector<std::string>;

// One call's outcome: a record (fields copied out) or an error.
struct Item {
  bool ok = false;
  Fields fields;
  Errc code = Errc::parse;
  std::string rule;
  std::string file;
  std::uint64_t line = 0;    // Origin line of an error
  std::uint32_t column = 0;  // Origin column of an error
  std::uint64_t reader_line = 0;
};

using test::ChunkedSource;

std::vector<Item> read_all(ByteSource& source, CsvOptions options = {}) {
  CsvReader reader(source, options);
  std::vector<Item> items;
  std::vector<std::string_view> fields;
  // Every call either returns a record/error or ends; the cap turns a hang into a failure.
  for (int guard = 0; guard < 10'000'000; ++guard) {
    auto r = reader.next(fields);
    Item item;
    item.reader_line = reader.line();
    if (!r) {
      item.code = r.error().code;
      item.rule = r.error().rule;
      item.file = r.error().origin.file;
      item.line = r.error().origin.line;
      item.column = r.error().origin.column;
      items.push_back(std::move(item));
      continue;
    }
    if (!*r) {
      EXPECT_TRUE(fields.empty());
      return items;
    }
    item.ok = true;
    item.fields.assign(fields.begin(), fields.end());
    items.push_back(std::move(item));
  }
  ADD_FAILURE() << "reader did not reach the end of input";
  return items;
}

std::vector<Item> read_all(std::string input, CsvOptions options = {}) {
  auto source = make_memory_source(std::move(input), "oh.csv");
  return read_all(*source, options);
}

std::vector<Fields> records_only(const std::vector<Item>& items) {
  std::vector<Fields> out;
  for (const auto& item : items) {
    EXPECT_TRUE(item.ok) << item.rule << " at " << item.line << ":" << item.column;
    if (item.ok) out.push_back(item.fields);
  }
  return out;
}

void expect_error(const Item& item, Errc code, const std::string& rule, std::uint64_t line, std::uint32_t column) {
  EXPECT_FALSE(item.ok);
  EXPECT_EQ(item.code, code);
  EXPECT_EQ(item.rule, rule);
  EXPECT_EQ(item.file, "oh.csv");
  EXPECT_EQ(item.line, line);
  EXPECT_EQ(item.column, column);
}

void expect_record(const Item& item, const Fields& fields, std::uint64_t line) {
  EXPECT_TRUE(item.ok) << item.rule;
  EXPECT_EQ(item.fields, fields);
  EXPECT_EQ(item.reader_line, line);
}

TEST(CsvReader, ReadsLfRecordsWithLineNumbers) {
  const auto items = read_all("a,b,c\nd,e,f\n");
  ASSERT_EQ(items.size(), 2U);
  expect_record(items[0], {"a", "b", "c"}, 1);
  expect_record(items[1], {"d", "e", "f"}, 2);
}

TEST(CsvReader, StripsCrOfCrlfOnly) {
  const auto items = read_all("a,b\r\nc,d\r\n\r\nx\ry,z\r\n");
  ASSERT_EQ(items.size(), 4U);
  expect_record(items[0], {"a", "b"}, 1);
  expect_record(items[1], {"c", "d"}, 2);
  expect_record(items[2], {""}, 3);
  expect_record(items[3], {"x\ry", "z"}, 4);  // a lone CR is data
}

TEST(CsvReader, SkipsBomAtStartOnly) {
  const auto items = read_all("\xEF\xBB\xBFid,name\n\xEF\xBB\xBFx,y\n");
  ASSERT_EQ(items.size(), 2U);
  expect_record(items[0], {"id", "name"}, 1);
  expect_record(items[1], {"\xEF\xBB\xBFx", "y"}, 2);
  EXPECT_TRUE(read_all("\xEF\xBB\xBF").empty());
}

TEST(CsvReader, BomDoesNotShiftErrorColumns) {
  const auto items = read_all(
      "\xEF\xBB\xBF"
      "ab\"c\n");
  ASSERT_EQ(items.size(), 1U);
  expect_error(items[0], Errc::parse, "csv.bad_quote", 1, 3);
}

TEST(CsvReader, QuotedFieldsKeepDelimiters) {
  const auto items = read_all("\"Smith, John\",42,\"a,b,c\"\n");
  EXPECT_EQ(records_only(items), (std::vector<Fields>{{"Smith, John", "42", "a,b,c"}}));
}

TEST(CsvReader, UnescapesDoubledQuotes) {
  const auto items = read_all("\"say \"\"hi\"\"\",\"\"\"\"\"\",\"\",\"x\"\"\"\n");
  EXPECT_EQ(records_only(items), (std::vector<Fields>{{"say \"hi\"", "\"\"", "", "x\""}}));
}

TEST(CsvReader, QuotedLineBreaksCountAsPhysicalLines) {
  const auto items = read_all("a,\"line1\nline2\nline3\",b\nnext,1\n\"x\r\ny\"\r\nz\r\n");
  ASSERT_EQ(items.size(), 4U);
  expect_record(items[0], {"a", "line1\nline2\nline3", "b"}, 1);
  expect_record(items[1], {"next", "1"}, 4);
  expect_record(items[2], {"x\r\ny"}, 5);  // CRLF inside quotes is data, and counts as one line
  expect_record(items[3], {"z"}, 7);
}

TEST(CsvReader, LoneCrInsideQuotesIsKept) {
  const auto items = read_all("\"a\rb\",\"\r\"\r\n");
  EXPECT_EQ(records_only(items), (std::vector<Fields>{{"a\rb", "\r"}}));
}

TEST(CsvReader, EmptyFieldsAndBlankLines) {
  const auto items = read_all(",,\n\nx,\n,y\n\"\",\n");
  EXPECT_EQ(records_only(items), (std::vector<Fields>{{"", "", ""}, {""}, {"x", ""}, {"", "y"}, {"", ""}}));
}

TEST(CsvReader, LastRecordWithoutNewline) {
  EXPECT_EQ(records_only(read_all("a,b\nc,d")), (std::vector<Fields>{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(records_only(read_all("a,b\n\"c\"")), (std::vector<Fields>{{"a", "b"}, {"c"}}));
  EXPECT_EQ(records_only(read_all("a,")), (std::vector<Fields>{{"a", ""}}));
  EXPECT_EQ(records_only(read_all("\"q\",")), (std::vector<Fields>{{"q", ""}}));
}

TEST(CsvReader, EmptyInputHasNoRecords) {
  EXPECT_TRUE(read_all("").empty());
  std::vector<std::string_view> fields;
  auto source = make_memory_source("");
  CsvReader reader(*source, {});
  for (int i = 0; i < 3; ++i) {
    auto r = reader.next(fields);
    ASSERT_TRUE(r);
    EXPECT_FALSE(*r);
  }
}

TEST(CsvReader, OtherDelimiters) {
  CsvOptions semicolon;
  semicolon.delimiter = ';';
  EXPECT_EQ(records_only(read_all("a;\"b;c\";d,e\n", semicolon)), (std::vector<Fields>{{"a", "b;c", "d,e"}}));
  CsvOptions tab;
  tab.delimiter = '\t';
  EXPECT_EQ(records_only(read_all("a\tb\t\n", tab)), (std::vector<Fields>{{"a", "b", ""}}));
}

TEST(CsvReader, RefusesQuoteOrLineBreakAsDelimiter) {
  CsvOptions options;
  options.delimiter = '"';
  const auto items = read_all("a\n", options);
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0].code, Errc::config);
  EXPECT_EQ(items[0].rule, "csv.delimiter");
}

TEST(CsvReader, BadQuoteReportsPositionAndContinues) {
  const auto items = read_all("ok,1\nab\"c,2\nnext,3\n");
  ASSERT_EQ(items.size(), 3U);
  expect_record(items[0], {"ok", "1"}, 1);
  expect_error(items[1], Errc::parse, "csv.bad_quote", 2, 3);
  EXPECT_EQ(items[1].reader_line, 2U);
  expect_record(items[2], {"next", "3"}, 3);
}

TEST(CsvReader, AfterQuoteReportsPositionAndContinues) {
  const auto items = read_all("x,\"abc\"d,1\nnext\n\"a\" ,b\r\nlast\n");
  ASSERT_EQ(items.size(), 4U);
  expect_error(items[0], Errc::parse, "csv.after_quote", 1, 8);
  expect_record(items[1], {"next"}, 2);
  expect_error(items[2], Errc::parse, "csv.after_quote", 3, 4);
  expect_record(items[3], {"last"}, 4);
}

TEST(CsvReader, ErrorAfterQuotedLineBreakResumesAfterTheBrokenRecord) {
  // The record starts on line 1; the error is on line 2; line 2 must not be read as a record.
  const auto items = read_all("a,\"b\nc\"d,e\nnext\n");
  ASSERT_EQ(items.size(), 2U);
  expect_error(items[0], Errc::parse, "csv.after_quote", 2, 3);
  EXPECT_EQ(items[0].reader_line, 1U);
  expect_record(items[1], {"next"}, 3);
}

TEST(CsvReader, ErrorBeforeQuotedLineBreakSkipsTheWholeRecord) {
  // After the bad quote the record goes on into a quoted field spanning lines 1-2, so the next
  // record starts on line 3.
  const auto items = read_all("x\"y,\"p\nq\"\nnext\n");
  ASSERT_EQ(items.size(), 2U);
  expect_error(items[0], Errc::parse, "csv.bad_quote", 1, 2);
  expect_record(items[1], {"next"}, 3);
}

TEST(CsvReader, UnterminatedQuoteDropsRecordAtEndOfInput) {
  const auto items = read_all("ok\nx,\"abc\ndef\nghi");
  ASSERT_EQ(items.size(), 2U);
  expect_record(items[0], {"ok"}, 1);
  expect_error(items[1], Errc::parse, "csv.unterminated_quote", 2, 3);
  EXPECT_EQ(items[1].reader_line, 2U);
}

TEST(CsvReader, UnterminatedQuoteFoundWhileSkippingIsReported) {
  // The bad quote breaks line 1; a quoted field opened later in that record never closes.
  const auto items = read_all("a\"b,\"open\nmore\n");
  ASSERT_EQ(items.size(), 2U);
  expect_error(items[0], Errc::parse, "csv.bad_quote", 1, 2);
  expect_error(items[1], Errc::parse, "csv.unterminated_quote", 1, 5);
}

TEST(CsvReader, RecordLimit) {
  CsvOptions options;
  options.max_record_bytes = 10;
  const auto items = read_all("short\n0123456789\n0123456789A\nafter\n\"012\n567\"\n\"01234\n56789\"\nend", options);
  ASSERT_EQ(items.size(), 7U);
  expect_record(items[0], {"short"}, 1);
  expect_record(items[1], {"0123456789"}, 2);  // exactly at the limit
  expect_error(items[2], Errc::limit, "limit.record", 3, 1);
  expect_record(items[3], {"after"}, 4);
  expect_record(items[4], {"012\n567"}, 5);                   // 9 raw bytes
  expect_error(items[5], Errc::limit, "limit.record", 7, 1);  // 13 raw bytes over two lines
  EXPECT_EQ(items[5].reader_line, 7U);
  expect_record(items[6], {"end"}, 9);
}

TEST(CsvReader, FieldLimit) {
  CsvOptions options;
  options.max_field_bytes = 4;
  const auto items = read_all("abcd,\"wxyz\",\"a\"\"bc\"\nabcde,x\nok\nx,\"abcdef\"\nok2\nx,y,abcde\r\nok3", options);
  ASSERT_EQ(items.size(), 7U);
  expect_record(items[0], {"abcd", "wxyz", "a\"bc"}, 1);  // the unescaped value counts
  expect_error(items[1], Errc::limit, "limit.field", 2, 1);
  expect_record(items[2], {"ok"}, 3);
  expect_error(items[3], Errc::limit, "limit.field", 4, 3);
  expect_record(items[4], {"ok2"}, 5);
  expect_error(items[5], Errc::limit, "limit.field", 6, 5);
  expect_record(items[6], {"ok3"}, 7);
}

TEST(CsvReader, RecordLimitOnMultiLineQuotedRecordSkipsToItsEnd) {
  CsvOptions options;
  options.max_record_bytes = 16;
  options.max_field_bytes = 1024;
  const auto items = read_all("a,\"1\n2\n3\n4\n5\n6\n7\n8\n9\",z\nnext\n", options);
  ASSERT_EQ(items.size(), 2U);
  expect_error(items[0], Errc::limit, "limit.record", 1, 1);
  expect_record(items[1], {"next"}, 10);
}

TEST(CsvReader, RecordLargerThanTheBufferIsSkipped) {
  // Default limit 64 KiB; the record is longer than the 256 KiB read buffer, quoted, and spans lines.
  std::string big = "x,\"";
  for (int i = 0; i < 5000; ++i)
    big += std::string(99, 'q') + "\n";
  big += "\",y\n";
  const auto items = read_all("first\n" + big + "after\n");
  ASSERT_EQ(items.size(), 3U);
  expect_record(items[0], {"first"}, 1);
  expect_error(items[1], Errc::limit, "limit.record", 2, 1);
  expect_record(items[2], {"after"}, 5003);
}

TEST(CsvReader, VeryLongLineWithinRaisedLimits) {
  CsvOptions options;
  options.max_record_bytes = 3 * kMiB;
  options.max_field_bytes = 2 * kMiB;
  const std::string long_field(2 * kMiB, 'L');
  const auto items = read_all("a\n" + long_field + ",b\nc\n", options);
  ASSERT_EQ(items.size(), 3U);
  expect_record(items[0], {"a"}, 1);
  expect_record(items[1], {long_field, "b"}, 2);
  expect_record(items[2], {"c"}, 3);
}

TEST(CsvReader, VeryLongLineOverDefaultLimits) {
  const std::string long_line(kMiB, 'L');
  const auto items = read_all("a\n" + long_line + "\nc\n");
  ASSERT_EQ(items.size(), 3U);
  expect_record(items[0], {"a"}, 1);
  expect_error(items[1], Errc::limit, "limit.record", 2, 1);
  expect_record(items[2], {"c"}, 3);
}

TEST(CsvReader, ReadErrorEndsTheFile) {
  std::string text;
  while (text.size() < 600 * kKiB)
    text += "a,b,c\n";
  test::FailingSource source(text, 400 * kKiB, "oh.csv");
  const auto items = read_all(source);
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items.back().code, Errc::io);
  EXPECT_EQ(items.back().rule, "file.read");
  EXPECT_GT(items.size(), 1000U);
}

TEST(CsvReader, ReadErrorAtStart) {
  test::FailingSource source("a\n", 0, "oh.csv");
  const auto items = read_all(source);
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0].code, Errc::io);
}

TEST(CsvReader, ReadErrorWhileSkippingEndsTheFile) {
  // The bad quote is found on line 1; the skip then follows a quoted field into the failing read.
  std::string text = "a\"b,\"\n";
  text += std::string(600 * kKiB, 'q');
  test::FailingSource source(text, 400 * kKiB, "oh.csv");
  const auto items = read_all(source);
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[0].rule, "csv.bad_quote");
  EXPECT_EQ(items[1].code, Errc::io);
}

// Builds a deterministic file of varied records (> 1 MB) together with what a reader must return.
struct Generated {
  std::string text;
  std::vector<Fields> records;
  std::vector<std::uint64_t> lines;
};

std::size_t roll(std::mt19937& rng, std::size_t n) {
  return static_cast<std::size_t>(rng() % n);
}

Generated generate(std::uint32_t seed, std::size_t min_bytes) {
  std::mt19937 rng(seed);
  Generated g;
  std::uint64_t line = 1;
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 -/";
  while (g.text.size() < min_bytes) {
    const bool crlf = roll(rng, 3) == 0;
    const std::size_t n_fields = 1 + roll(rng, 12);
    Fields fields;
    std::uint64_t newlines = 0;
    for (std::size_t f = 0; f < n_fields; ++f) {
      if (f > 0) g.text += ',';
      std::string value;
      const std::size_t len = roll(rng, 40);
      const std::size_t kind = roll(rng, 6);
      for (std::size_t i = 0; i < len; ++i) {
        if (kind == 0 && roll(rng, 8) == 0) {
          value += "\",\n\r"[roll(rng, 4)];
        } else {
          value += alphabet[roll(rng, alphabet.size())];
        }
      }
      const bool must_quote = value.find_first_of("\",\n\r") != std::string::npos;
      if (must_quote || kind == 1) {
        g.text += '"';
        for (char c : value) {
          if (c == '"') g.text += '"';
          if (c == '\n') ++newlines;
          g.text += c;
        }
        g.text += '"';
      } else {
        g.text += value;
      }
      fields.push_back(value);
    }
    g.text += crlf ? "\r\n" : "\n";
    g.records.push_back(std::move(fields));
    g.lines.push_back(line);
    line += newlines + 1;
  }
  return g;
}

void expect_generated(const std::vector<Item>& items, const Generated& g) {
  ASSERT_EQ(items.size(), g.records.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    ASSERT_TRUE(items[i].ok) << "record " << i << ": " << items[i].rule << " at " << items[i].line;
    ASSERT_EQ(items[i].fields, g.records[i]) << "record " << i;
    ASSERT_EQ(items[i].reader_line, g.lines[i]) << "record " << i;
  }
}

TEST(CsvReader, RecordsStraddlingBufferRefills) {
  const Generated g = generate(42, 3 * kMiB);
  ASSERT_GT(g.text.size(), kMiB);
  expect_generated(read_all(g.text), g);
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4093}, std::size_t{65537}}) {
    const Generated small = chunk == 1 ? generate(7, 300 * kKiB) : g;
    ChunkedSource source(small.text, chunk);
    expect_generated(read_all(source), small);
  }
}

TEST(CsvReader, RecordEndingExactlyAtBufferEdge) {
  // Put a doubled quote, a closing quote and a CRLF at every offset around the 256 KiB boundary.
  constexpr std::size_t kEdge = 256 * kKiB;
  CsvOptions options;
  options.max_record_bytes = kMiB;
  options.max_field_bytes = kMiB;
  for (std::size_t shift = 0; shift < 6; ++shift) {
    std::string text(kEdge - 5 + shift, 'p');
    text += "\n\"a\"\"b\"\r\n\"c\",d\r\nend";
    const auto items = read_all(text, options);
    ASSERT_EQ(items.size(), 4U) << shift;
    EXPECT_EQ(items[1].fields, (Fields{"a\"b"})) << shift;
    EXPECT_EQ(items[2].fields, (Fields{"c", "d"})) << shift;
    expect_record(items[3], {"end"}, 4);
  }
}

TEST(CsvReader, SurvivesBinaryJunk) {
  for (std::uint32_t seed = 1; seed <= 8; ++seed) {
    std::mt19937 rng(seed);
    std::string junk(200 * kKiB, '\0');
    for (auto& c : junk) {
      // Mostly the bytes the parser cares about, plus NULs and anything else.
      const std::size_t pick = roll(rng, 10);
      c = pick < 5 ? "\",\n\r\0"[pick] : static_cast<char>(roll(rng, 256));
    }
    CsvOptions options;
    options.max_record_bytes = 1 + roll(rng, 4096);
    options.max_field_bytes = 1 + roll(rng, 512);
    const auto items = read_all(junk, options);
    for (const auto& item : items) {
      if (item.ok) continue;
      EXPECT_TRUE(item.code == Errc::parse || item.code == Errc::limit) << item.rule;
      EXPECT_GE(item.line, 1U);
    }
    ChunkedSource source(junk, 1000 + seed);
    (void)read_all(source, options);
  }
}

}  // namespace
}  // namespace esrsync::codec
