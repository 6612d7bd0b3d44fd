#pragma once
// Decoder: streams canonical records out of one file through a mapping (DESIGN.md "Data flow":
// decode + validate). One record at a time: memory is bounded by the longest record, never by the
// file. `esrsync map` and the sync pipeline use exactly this code.
//
// Two levels of error, as in DOMAIN.md "File-level rules":
//  * record errors: the record is returned as Next::rejected with every problem found in it
//    (validation, lookup, encoding, field count, unknown record type, a line or field over its
//    limit), each located by file, line, column where known, and canonical field. Decoding goes on.
//  * file errors (file_errors() after Next::end): the file as a whole cannot be trusted — no or
//    wrong header, missing trailer (truncated transfer), trailer count different from the records
//    read, content after the trailer, broken XML structure, a missing CSV column, the file over its
//    size limit, or an I/O error. A caller applying records must apply none of the file then.
//
// Not thread-safe: one decoder per file, used from one thread (or strand). It borrows the Mapping
// and the ByteSource, which must outlive it.

#include <cstdint>
#include <memory>
#include <vector>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/mapping/mapping.hpp"
#include "esrsync/model/record.hpp"
#include "esrsync/model/validators.hpp"

namespace esrsync::codec {

struct DecodeOptions {
  model::Date today;  // for the date-of-birth range rule; injected so tests are deterministic
};

enum class Next : std::uint8_t {
  record,    // `record` holds a valid canonical record (data, header or trailer)
  rejected,  // `errors` says why; `record` holds the record type, line and whatever values were read
  end,       // no more records; check file_errors()
};

struct DecodeStats {
  std::uint64_t records_read = 0;  // data records seen, valid or not (what a trailer counts)
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Returns the next record. `errors` is cleared first and filled only for Next::rejected.
  virtual Next next(model::Record& record, std::vector<Error>& errors) = 0;
  [[nodiscard]] const std::vector<Error>& file_errors() const noexcept { return file_errors_; }
  [[nodiscard]] const DecodeStats& stats() const noexcept { return stats_; }
  // Bytes consumed from the source so far.
  [[nodiscard]] virtual std::uint64_t bytes_read() const noexcept = 0;

 protected:
  // Records a limit.file file error and returns true when `source` has read more than `limit`
  // bytes (0: no limit).
  bool over_file_limit(std::uint64_t limit, const ByteSource& source, std::uint64_t line);

  std::vector<Error> file_errors_;
  DecodeStats stats_;
};

// A decoder for `mapping`'s format reading `source`.
std::unique_ptr<Decoder> make_decoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options);

// Today's date from the system clock (local time), for DecodeOptions in the program.
model::Date today_local();

}  // namespace esrsync::codec
