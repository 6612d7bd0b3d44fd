#pragma once
// RecordBuilder: the part of decoding every format shares. Given a record spec and a way to fetch
// each source's raw bytes, it decodes the text encoding, runs the mapping's transforms, applies the
// canonical field type's validation and the record-level rules, and collects located errors.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/codec/decoder.hpp"
#include "esrsync/mapping/mapping.hpp"
#include "esrsync/model/record.hpp"

namespace esrsync::codec {

class RecordBuilder {
 public:
  // Fetches a source's raw bytes for the record being built. For sources that are not constants.
  using Fetch = std::function<std::string_view(const mapping::Source&)>;

  RecordBuilder(const mapping::Mapping& mapping, DecodeOptions options);

  // Builds `record` from `spec`. `line_begin` (may be null) lets errors carry a byte column when a
  // raw value points into the current line. Returns true when the record is valid; otherwise
  // appends errors (origin file/line/field filled) and returns false.
  bool build(const mapping::RecordSpec& spec, const Fetch& fetch, std::uint64_t line, const char* line_begin,
             model::Record& record, std::vector<Error>& errors);

  void set_file(std::string file) { file_ = std::move(file); }
  [[nodiscard]] const std::string& file() const noexcept { return file_; }

  // Decodes raw bytes in the mapping's encoding to UTF-8 into `out`, checking the field limit and
  // control characters. On failure returns the error (rule, message, column offset within `raw`).
  Status decode_text(std::string_view raw, std::string& out) const;

 private:
  bool apply_step(const mapping::Step& step, model::FieldType type, std::string& value, Error& error);
  bool validate_type(const model::FieldDef& def, std::string& value, Error& error) const;
  void check_record_rules(model::Record& record, std::uint64_t line, std::vector<Error>& errors) const;

  const mapping::Mapping& mapping_;
  DecodeOptions options_;
  std::string file_;
  std::string scratch_;
  std::string part_;
};

}  // namespace esrsync::codec
