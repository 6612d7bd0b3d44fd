#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <pugixml.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/codec/xml_scanner.hpp"
#include "support/test_sources.hpp"

namespace esrsync::codec {
namespace {

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * kKiB;

// One call's outcome: a record (text copied out) or an error.
struct Item {
  bool ok = false;
  std::string text;
  Errc code = Errc::parse;
  std::string rule;
  std::string file;
  std::uint64_t line = 0;    // Origin line of an error
  std::uint32_t column = 0;  // Origin column of an error
  std::uint64_t scanner_line = 0;
};

using test::ChunkedSource;

XmlScanOptions options_for(std::string element, std::size_t max_record_bytes = kMiB) {
  XmlScanOptions options;
  options.record_element = std::move(element);
  options.max_record_bytes = max_record_bytes;
  return options;
}

std::vector<Item> scan_all(ByteSource& source, XmlScanOptions options) {
  XmlRecordScanner scanner(source, std::move(options));
  std::vector<Item> items;
  std::string_view record;
  for (int guard = 0; guard < 10'000'000; ++guard) {
    auto r = scanner.next(record);
    Item item;
    item.scanner_line = scanner.line();
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
      // Once the end (or a file-level error) is reached, it stays reached.
      auto again = scanner.next(record);
      EXPECT_TRUE(again && !*again);
      return items;
    }
    item.ok = true;
    item.text = std::string(record);
    items.push_back(std::move(item));
  }
  ADD_FAILURE() << "scanner did not reach the end of input";
  return items;
}

std::vector<Item> scan_all(std::string xml, const std::string& element = "Record",
                           std::size_t max_record_bytes = kMiB) {
  auto source = make_memory_source(std::move(xml), "oh.xml");
  return scan_all(*source, options_for(element, max_record_bytes));
}

std::vector<std::string> records_only(const std::vector<Item>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    EXPECT_TRUE(item.ok) << item.rule << " at " << item.line << ":" << item.column;
    if (item.ok) out.push_back(item.text);
  }
  return out;
}

void expect_error(const Item& item, Errc code, const std::string& rule, std::uint64_t line, std::uint32_t column) {
  EXPECT_FALSE(item.ok);
  EXPECT_EQ(item.code, code);
  EXPECT_EQ(item.rule, rule);
  EXPECT_EQ(item.file, "oh.xml");
  EXPECT_EQ(item.line, line);
  EXPECT_EQ(item.column, column);
}

void expect_record(const Item& item, const std::string& text, std::uint64_t line) {
  EXPECT_TRUE(item.ok) << item.rule << " at " << item.line << ":" << item.column;
  EXPECT_EQ(item.text, text);
  EXPECT_EQ(item.scanner_line, line);
}

TEST(XmlScanner, DeclarationAndRecordsWithLineNumbers) {
  const auto items = scan_all(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Export>\n"
      "  <Record id=\"1\">\n    <Name>A</Name>\n  </Record>\n"
      "  <Record id=\"2\"/>\n"
      "</Export>\n");
  ASSERT_EQ(items.size(), 2U);
  expect_record(items[0], "<Record id=\"1\">\n    <Name>A</Name>\n  </Record>", 3);
  expect_record(items[1], "<Record id=\"2\"/>", 6);
}

TEST(XmlScanner, RecordTextParsesWithPugixml) {
  const auto items = scan_all(
      "<?xml version=\"1.0\"?><oh:Export xmlns:oh=\"urn:oh\"><oh:Rec a='1 &amp; 2'><v><![CDATA[x<y]]></v>"
      "<!-- c --><?pi x?></oh:Rec></oh:Export>",
      "oh:Rec");
  ASSERT_EQ(items.size(), 1U);
  ASSERT_TRUE(items[0].ok);
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(items[0].text.data(), items[0].text.size());
  ASSERT_TRUE(parsed) << parsed.description();
  EXPECT_STREQ(doc.document_element().name(), "oh:Rec");
  EXPECT_STREQ(doc.document_element().attribute("a").value(), "1 & 2");
  EXPECT_STREQ(doc.document_element().child("v").text().get(), "x<y");
}

TEST(XmlScanner, CommentsHideRecords) {
  const auto items =
      scan_all("<!-- <Record>before</Record> --><R><!-- <Record>no</Record> -- --><Record>yes</Record></R>");
  EXPECT_EQ(records_only(items), (std::vector<std::string>{"<Record>yes</Record>"}));
}

TEST(XmlScanner, CdataHidesEndTags) {
  const auto items = scan_all("<R><Record><![CDATA[</Record><Record>]]]></Record><Record>2</Record></R>");
  EXPECT_EQ(records_only(items),
            (std::vector<std::string>{"<Record><![CDATA[</Record><Record>]]]></Record>", "<Record>2</Record>"}));
}

TEST(XmlScanner, QuotedAttributesMayHoldMarkupCharacters) {
  const auto items = scan_all("<R><Record a=\"x>y\" b='1/>2' c=\"'\"/><Record d='\">/'>t</Record></R>");
  EXPECT_EQ(records_only(items),
            (std::vector<std::string>{"<Record a=\"x>y\" b='1/>2' c=\"'\"/>", "<Record d='\">/'>t</Record>"}));
}

TEST(XmlScanner, SelfClosingRecords) {
  const auto items = scan_all("<R><Record/><Record a=\"1\" /><Record\n/></R>");
  EXPECT_EQ(records_only(items), (std::vector<std::string>{"<Record/>", "<Record a=\"1\" />", "<Record\n/>"}));
}

TEST(XmlScanner, NestedSameNameBelongsToOuterRecord) {
  const auto items = scan_all("<R><Record><Record>inner</Record><Record/></Record><Record>2</Record></R>");
  EXPECT_EQ(records_only(items),
            (std::vector<std::string>{"<Record><Record>inner</Record><Record/></Record>", "<Record>2</Record>"}));
}

TEST(XmlScanner, RecordsAtDifferentDepths) {
  const auto items =
      scan_all("<R><Record>1</Record><G><Record>2</Record><S><Record>3</Record></S></G><Record >4</Record ></R>");
  EXPECT_EQ(records_only(items), (std::vector<std::string>{"<Record>1</Record>", "<Record>2</Record>",
                                                           "<Record>3</Record>", "<Record >4</Record >"}));
}

TEST(XmlScanner, RootIsNeverARecord) {
  const auto items = scan_all("<Record><Record>1</Record></Record>");
  EXPECT_EQ(records_only(items), (std::vector<std::string>{"<Record>1</Record>"}));
}

TEST(XmlScanner, NameMustMatchExactly) {
  const auto items = scan_all("<R><Records/><RecordX/><record/><Record.1/><Record/></R>");
  EXPECT_EQ(records_only(items), (std::vector<std::string>{"<Record/>"}));
}

TEST(XmlScanner, SkipsBom) {
  const auto items = scan_all("\xEF\xBB\xBF<R>\n<Record/></R>");
  ASSERT_EQ(items.size(), 1U);
  expect_record(items[0], "<Record/>", 2);
}

TEST(XmlScanner, DoctypeIsRefused) {
  const auto items = scan_all("<?xml version=\"1.0\"?>\n<!DOCTYPE R [<!ENTITY e \"x\">]>\n<R><Record/></R>");
  ASSERT_EQ(items.size(), 1U);
  expect_error(items[0], Errc::structure, "xml.doctype", 2, 1);
  EXPECT_EQ(items[0].scanner_line, 2U);
}

TEST(XmlScanner, TruncatedInsideRecord) {
  const auto items = scan_all("<R>\n<Record>1</Record>\n<Record><A>abc");
  ASSERT_EQ(items.size(), 2U);
  expect_record(items[0], "<Record>1</Record>", 2);
  expect_error(items[1], Errc::structure, "xml.truncated", 3, 15);
}

TEST(XmlScanner, TruncatedAfterLastRecord) {
  const auto items = scan_all("<R>\n<Record/>\n");
  ASSERT_EQ(items.size(), 2U);
  expect_record(items[0], "<Record/>", 2);
  expect_error(items[1], Errc::structure, "xml.truncated", 3, 1);
}

TEST(XmlScanner, TruncatedInsideMarkup) {
  expect_error(scan_all("<R><!-- open").at(0), Errc::structure, "xml.truncated", 1, 4);
  expect_error(scan_all("<R><Record><![CDATA[ x").at(0), Errc::structure, "xml.truncated", 1, 12);
  expect_error(scan_all("<R>\n <Record a=\"1").at(0), Errc::structure, "xml.truncated", 2, 2);
  expect_error(scan_all("<R><?pi ").at(0), Errc::structure, "xml.truncated", 1, 4);
  expect_error(scan_all("<R></R").at(0), Errc::structure, "xml.truncated", 1, 4);
  expect_error(scan_all("<R><!-").at(0), Errc::structure, "xml.truncated", 1, 4);
  expect_error(scan_all("<").at(0), Errc::structure, "xml.truncated", 1, 1);
}

TEST(XmlScanner, MismatchedTag) {
  const auto items = scan_all("<R><Record>ok</Record>\n<Record><A></B></Record></R>");
  ASSERT_EQ(items.size(), 2U);
  expect_record(items[0], "<Record>ok</Record>", 1);
  expect_error(items[1], Errc::structure, "xml.mismatched_tag", 2, 12);
  expect_error(scan_all("<R/></R>").at(0), Errc::structure, "xml.mismatched_tag", 1, 5);
}

TEST(XmlScanner, NoRoot) {
  expect_error(scan_all("").at(0), Errc::structure, "xml.no_root", 1, 1);
  expect_error(scan_all(" \n\t\n").at(0), Errc::structure, "xml.no_root", 3, 1);
  expect_error(scan_all("<?xml version=\"1.0\"?><!-- nothing -->").at(0), Errc::structure, "xml.no_root", 1, 38);
}

TEST(XmlScanner, TextOrElementsOutsideRoot) {
  const auto after = scan_all("<R><Record/></R>\n  junk");
  ASSERT_EQ(after.size(), 2U);
  expect_record(after[0], "<Record/>", 1);
  expect_error(after[1], Errc::structure, "xml.syntax", 2, 3);
  expect_error(scan_all("x<R/>").at(0), Errc::structure, "xml.syntax", 1, 1);
  expect_error(scan_all("<R/><R/>").at(0), Errc::structure, "xml.syntax", 1, 5);
  expect_error(scan_all("<![CDATA[x]]><R/>").at(0), Errc::structure, "xml.syntax", 1, 1);
  // Whitespace, comments and processing instructions after the root are fine.
  EXPECT_TRUE(scan_all("<R/>\n<!-- end --><?pi?>\r\n").empty());
}

TEST(XmlScanner, MalformedMarkup) {
  expect_error(scan_all("<R>< Record/></R>").at(0), Errc::structure, "xml.syntax", 1, 5);
  expect_error(scan_all("<R><Re$cord/></R>").at(0), Errc::structure, "xml.syntax", 1, 7);
  expect_error(scan_all("<R><A <B/></R>").at(0), Errc::structure, "xml.syntax", 1, 7);
  expect_error(scan_all("<R></R x>").at(0), Errc::structure, "xml.syntax", 1, 8);
  expect_error(scan_all("<R><!ELEMENT x></R>").at(0), Errc::structure, "xml.syntax", 1, 4);
}

TEST(XmlScanner, OverlongNameIsRefused) {
  const auto items = scan_all("<R>\n<" + std::string(1025, 'n') + "/></R>");
  ASSERT_EQ(items.size(), 1U);
  expect_error(items[0], Errc::structure, "xml.syntax", 2, 2);
  EXPECT_TRUE(records_only(scan_all("<R><" + std::string(1024, 'n') + "/></R>")).empty());
}

TEST(XmlScanner, DeepNestingIsRefused) {
  std::string deep;
  for (int i = 0; i < 1100; ++i)
    deep += "<a>";
  const auto items = scan_all(deep);
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0].rule, "xml.syntax");
  EXPECT_EQ(items[0].code, Errc::structure);
}

TEST(XmlScanner, RecordOverLimitIsSkipped) {
  const std::string big = "<Record>" + std::string(100, 'x') + "<Record/></Record>";
  const auto items = scan_all("<R>\n<Record>1</Record>\n  " + big + "\n<Record>ok</Record></R>", "Record", 50);
  ASSERT_EQ(items.size(), 3U);
  expect_record(items[0], "<Record>1</Record>", 2);
  expect_error(items[1], Errc::limit, "limit.record", 3, 3);
  EXPECT_EQ(items[1].scanner_line, 3U);
  expect_record(items[2], "<Record>ok</Record>", 4);
}

TEST(XmlScanner, RecordLargerThanBufferIsSkipped) {
  // 3 MB record, 1 MB limit: noticed while reading it, skipped without being held.
  std::string big = "<Record>";
  for (int i = 0; i < 30000; ++i)
    big += "<v a=\">\">" + std::string(80, 'y') + "</v>\n";
  big += "</Record>";
  const auto items = scan_all("<R>\n" + big + "\n<Record>ok</Record></R>");
  ASSERT_EQ(items.size(), 2U);
  expect_error(items[0], Errc::limit, "limit.record", 2, 1);
  expect_record(items[1], "<Record>ok</Record>", 30003);
}

TEST(XmlScanner, LineNumbersCountEveryLineBreak) {
  const auto items = scan_all(
      "<?xml version=\"1.0\"?>\r\n<!--\n\n-->\n<R a=\"\n\">\n<Record>\n<![CDATA[\n]]>\n</Record>"
      "<Record/>\n\n<G>\n<Record\n/></G></R>");
  ASSERT_EQ(items.size(), 3U);
  EXPECT_EQ(items[0].scanner_line, 7U);
  EXPECT_EQ(items[1].scanner_line, 10U);
  EXPECT_EQ(items[2].scanner_line, 13U);
}

TEST(XmlScanner, MarkupLongerThanTheBufferOutsideRecords) {
  // Comments, text and attribute lists outside records are scanned without being held, and an
  // error still points at where the comment opened.
  const std::string big(2 * kMiB, 'z');
  const auto ok = scan_all("<R>\n<!--" + big + "-->" + big + "<G a='" + big + "'><Record/></G></R>");
  ASSERT_EQ(ok.size(), 1U);
  expect_record(ok[0], "<Record/>", 2);
  const auto truncated = scan_all("<R>\n  <!--" + big);
  ASSERT_EQ(truncated.size(), 1U);
  expect_error(truncated[0], Errc::structure, "xml.truncated", 2, 3);
}

TEST(XmlScanner, ReadErrorAtStart) {
  test::FailingSource source("<R/>", 0, "oh.xml");
  const auto items = scan_all(source, options_for("Record"));
  ASSERT_EQ(items.size(), 1U);
  EXPECT_EQ(items[0].code, Errc::io);
}

TEST(XmlScanner, ReadErrorEndsTheScan) {
  std::string text = "<R>";
  while (text.size() < 600 * kKiB)
    text += "<Record>r</Record>\n";
  text += "</R>";
  test::FailingSource source(text, 400 * kKiB, "oh.xml");
  const auto items = scan_all(source, options_for("Record"));
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items.back().code, Errc::io);
  EXPECT_EQ(items.back().rule, "file.read");
  EXPECT_GT(items.size(), 1000U);
}

// A deterministic document of varied records (> 1 MB) and the record texts a scanner must return.
struct Generated {
  std::string text;
  std::vector<std::string> records;
  std::vector<std::uint64_t> lines;
};

std::size_t roll(std::mt19937& rng, std::size_t n) {
  return static_cast<std::size_t>(rng() % n);
}

std::uint64_t count_lines(const std::string& s) {
  return static_cast<std::uint64_t>(std::count(s.begin(), s.end(), '\n'));
}

Generated generate(std::uint32_t seed, std::size_t min_bytes) {
  std::mt19937 rng(seed);
  Generated g;
  g.text = "<?xml version=\"1.0\"?>\n<Export>\n";
  const std::vector<std::string> pieces = {"<Name>Smith &amp; Jones</Name>",
                                           "<Note><![CDATA[</Record> <Record>]]></Note>",
                                           "<!-- <Record> -->",
                                           "<Dose n=\"1>2\" m='/>'/>",
                                           "<Record>nested</Record>",
                                           "\n    ",
                                           "<?pi </Record>?>",
                                           "<Empty/>",
                                           "text > more",
                                           "<Deep><Deeper><Record/></Deeper></Deep>"};
  std::uint64_t line = 1 + count_lines(g.text);
  while (g.text.size() < min_bytes) {
    std::string filler;
    if (roll(rng, 4) == 0) filler = "<!-- between -->\n";
    if (roll(rng, 8) == 0) filler += "<Group>\n";
    const bool grouped = filler.find("<Group>") != std::string::npos;
    g.text += filler;
    line += count_lines(filler);
    std::string record;
    if (roll(rng, 5) == 0) {
      record = "<Record id=\"" + std::to_string(g.records.size()) + "\"/>";
    } else {
      record = "<Record id=\"" + std::to_string(g.records.size()) + "\">";
      const std::size_t n = roll(rng, 12);
      for (std::size_t i = 0; i < n; ++i)
        record += pieces[roll(rng, pieces.size())];
      record += "</Record>";
    }
    g.lines.push_back(line);
    g.text += record;
    const std::string after = grouped ? "\n</Group>\n" : "\n";
    g.text += after;
    line += count_lines(record) + count_lines(after);
    g.records.push_back(std::move(record));
  }
  g.text += "</Export>\n";
  return g;
}

void expect_generated(const std::vector<Item>& items, const Generated& g) {
  ASSERT_EQ(items.size(), g.records.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    ASSERT_TRUE(items[i].ok) << "record " << i << ": " << items[i].rule << " at " << items[i].line << ":"
                             << items[i].column;
    ASSERT_EQ(items[i].text, g.records[i]) << "record " << i;
    ASSERT_EQ(items[i].scanner_line, g.lines[i]) << "record " << i;
  }
}

TEST(XmlScanner, RecordsStraddlingBufferRefills) {
  const Generated g = generate(42, 3 * kMiB);
  ASSERT_GT(g.text.size(), kMiB);
  {
    auto source = make_memory_source(g.text, "oh.xml");
    expect_generated(scan_all(*source, options_for("Record")), g);
  }
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{4093}, std::size_t{65537}}) {
    const Generated small = chunk < 10 ? generate(7, 300 * kKiB) : g;
    ChunkedSource source(small.text, chunk);
    expect_generated(scan_all(source, options_for("Record")), small);
  }
}

TEST(XmlScanner, MarkupSplitAtBufferEdge) {
  // Put each kind of markup across the 256 KiB refill boundary at every offset.
  constexpr std::size_t kEdge = 256 * kKiB;
  const std::string tail = "<!-- c --><![CDATA[]]]]><?p?><A a='>'>x</A ></Record ></R>";
  for (std::size_t shift = 0; shift < 40; ++shift) {
    std::string text = "<R>" + std::string(kEdge - 3 - 20 + shift, ' ') + "<Record>";
    text += tail;
    const auto items = scan_all(text);
    ASSERT_EQ(items.size(), 1U) << shift;
    ASSERT_TRUE(items[0].ok) << shift << " " << items[0].rule << " at " << items[0].column;
    EXPECT_EQ(items[0].text, "<Record>" + tail.substr(0, tail.size() - 4)) << shift;
  }
}

TEST(XmlScanner, SurvivesJunkBytes) {
  for (std::uint32_t seed = 1; seed <= 8; ++seed) {
    std::mt19937 rng(seed);
    std::string junk(100 * kKiB, '\0');
    using namespace std::string_view_literals;
    const std::string specials(std::string_view("<>/!?-[]'\"= \n\0RecordA"sv));  // sv keeps the NUL
    for (auto& c : junk) {
      c = roll(rng, 3) != 0 ? specials[roll(rng, specials.size())] : static_cast<char>(roll(rng, 256));
    }
    for (const std::string& prefix : {std::string(), std::string("<Root><Record>"), std::string("<Root>")}) {
      auto source = make_memory_source(prefix + junk, "oh.xml");
      const auto items = scan_all(*source, options_for("Record", 1 + roll(rng, 8192)));
      for (const auto& item : items) {
        if (item.ok) continue;
        EXPECT_TRUE(item.code == Errc::structure || item.code == Errc::limit) << item.rule;
        EXPECT_GE(item.line, 1U);
      }
      ChunkedSource chunked(prefix + junk, 500 + seed);
      (void)scan_all(chunked, options_for("Record"));
    }
  }
}

}  // namespace
}  // namespace esrsync::codec
