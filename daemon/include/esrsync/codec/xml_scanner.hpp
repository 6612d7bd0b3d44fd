#pragma once
// Streaming XML record scanner: finds each occurrence of the repeating record element (at any
// depth below the root) and hands back its complete text, "<Record ...>...</Record>", so the
// caller can parse one record at a time. Memory is bounded by one record (max_record_bytes) plus a
// read buffer, never by the document. It understands just enough XML to do that safely: the XML
// declaration, comments, processing instructions, CDATA sections, quoted attribute values
// containing '>' or '/', self-closing tags, nested elements with the record's own name, and the
// element stack (so a truncated document is noticed). It works on raw bytes of any ASCII-compatible
// encoding.
//
// Errors, each with Origin{source name, line, column}:
//   Errc::structure (file-level: the document cannot be trusted; the next call returns false)
//     xml.doctype         a <!DOCTYPE> declaration (refused: no DTDs, no entity expansion)
//     xml.truncated       end of input inside a tag, comment, CDATA or before the root element closes
//     xml.mismatched_tag  an end tag that does not match the open element
//     xml.no_root         no root element at all (empty or whitespace-only input)
//     xml.syntax          any other malformed markup outside record text (e.g. text after the root)
//   Errc::limit (record-level: the scanner skips to the end of that record and carries on)
//     limit.record        a record element longer than max_record_bytes
//
// Not thread-safe; one scanner per file.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/core/result.hpp"

namespace esrsync::codec {

struct XmlScanOptions {
  std::string record_element;  // element name, e.g. "Immunisation" (prefix included if any: "oh:Rec")
  std::size_t max_record_bytes = 1024 * 1024;
};

class XmlRecordScanner {
 public:
  XmlRecordScanner(ByteSource& source, XmlScanOptions options);
  XmlRecordScanner(const XmlRecordScanner&) = delete;
  XmlRecordScanner& operator=(const XmlRecordScanner&) = delete;
  ~XmlRecordScanner();

  // Returns true with `record_xml` set to the next record's text (valid until the next call), false
  // at the end of a well-formed document, or an Error (see above).
  Result<bool> next(std::string_view& record_xml);

  // 1-based line on which the last record (or error) started.
  [[nodiscard]] std::uint64_t line() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace esrsync::codec
