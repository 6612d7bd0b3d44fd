#pragma once
// Encoder: writes canonical records out through a mapping (DESIGN.md "encode (mapping)"): ESR DI_
// return files and .ACK files of the reference interface, and CSV. The same mapping definitions
// decode these files, so an encode -> decode round trip gives the same records back.
//
// Encoding runs the field's transforms in reverse where that is defined: <date format> formats the
// canonical ISO date, <default> fills an empty value, trim/upper/lower/strip-spaces apply as they
// are. <lookup>, <split>, combined sources and <pattern> cannot be reversed; a mapping using them in
// a record is refused by create() for that record type (decode-only mappings).
//
// Output goes to a caller-owned string; writing it to disk goes through core/atomic_file. Not
// thread-safe; one encoder per output file.

#include <cstdint>
#include <memory>
#include <string>

#include "esrsync/core/result.hpp"
#include "esrsync/mapping/mapping.hpp"
#include "esrsync/model/record.hpp"

namespace esrsync::codec {

class Encoder {
 public:
  // Errors: encode.not_reversible (Errc::mapping) naming the field and the definition line;
  // encode.format for XML mappings (decode only).
  static Result<std::unique_ptr<Encoder>> create(std::shared_ptr<const mapping::Mapping> mapping);

  // Appends one record (header, data) in the mapping's layout. Errors (Errc::validation):
  // encode.no_record_type (the mapping has no record for the entity), encode.separator (a value
  // holds the delimiter or a line break, which the delimited format cannot carry), encoding.*.
  Status append(const model::Record& record, std::string& out);

  // Appends the trailer record counting the records it counts (delimited mappings with a trailer).
  Status append_trailer(std::string& out);

  [[nodiscard]] std::uint64_t records_written() const noexcept { return data_records_; }

 private:
  explicit Encoder(std::shared_ptr<const mapping::Mapping> mapping);
  Status append_fields(const mapping::RecordSpec& spec, const model::Record& record, std::string& out);

  std::shared_ptr<const mapping::Mapping> mapping_;
  std::vector<std::string> cells_;
  std::uint64_t data_records_ = 0;
  std::uint64_t counted_records_ = 0;
  bool wrote_csv_header_ = false;
};

}  // namespace esrsync::codec
