#pragma once
// Streaming RFC 4180 reader: quoted fields with embedded delimiters, doubled quotes and line
// breaks, CRLF or LF, a UTF-8 byte-order mark at the start (skipped). Memory is bounded by one
// record (max_record_bytes), never by the file. Bytes are passed through untouched: decoding and
// validating the text encoding is the caller's job.
//
// Errors (Errc::parse unless noted), each with Origin{source name, line, column}:
//   csv.unterminated_quote  a quoted field still open at end of input (the record is dropped)
//   csv.bad_quote           a quote inside an unquoted field
//   csv.after_quote         anything but a delimiter or line break after a closing quote
//   limit.record            (Errc::limit) a record longer than max_record_bytes
//   limit.field             (Errc::limit) a field longer than max_field_bytes
// After an error the reader skips to the start of the next physical line that is not inside the
// broken record and carries on; the caller decides whether the file is still trustworthy.
//
// Not thread-safe; one reader per file.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/core/result.hpp"

namespace esrsync::codec {

struct CsvOptions {
  char delimiter = ',';
  std::size_t max_record_bytes = 64 * 1024;
  std::size_t max_field_bytes = 4 * 1024;
};

class CsvReader {
 public:
  CsvReader(ByteSource& source, CsvOptions options);
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;
  ~CsvReader();

  // Reads the next record into `fields` (unquoted, unescaped values; the views stay valid until the
  // next call). Returns true for a record, false at end of input, or an Error for a bad record.
  // A blank line yields a record with one empty field.
  Result<bool> next(std::vector<std::string_view>& fields);

  // 1-based physical line on which the last record (or error) started.
  [[nodiscard]] std::uint64_t line() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace esrsync::codec
