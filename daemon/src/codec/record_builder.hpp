#pragma once
// RecordBuilder: the part of decoding every format shares. Given a record spec and a way to fetch
// each source's raw bytes, it decodes the text encoding, runs the mapping's transforms, applies the
// canonical field type's validation and the record-level rules, and collects located errors.

#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "esrsync/codec/decoder.hpp"
#include "esrsync/mapping/mapping.hpp"
#include "esrsync/model/record.hpp"
#include "esrsync/model/validators.hpp"

namespace esrsync::codec {

// True when every byte is printable ASCII (0x20..0x7F): the common case, checked 8 bytes at a
// time. Anything else (non-ASCII, tabs, line breaks, control characters) takes the careful path.
inline bool plain_ascii(std::string_view raw) noexcept {
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  constexpr std::uint64_t kSpace = 0x2020202020202020ULL;
  std::size_t i = 0;
  for (; i + 8 <= raw.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, raw.data() + i, 8);
    if (((w | ~((w | kHigh) - kSpace)) & kHigh) != 0) return false;  // a byte >= 0x80 or < 0x20
  }
  for (; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c >= 0x80 || c < 0x20) return false;
  }
  return true;
}

// Equality of short texts (record types, codes) compared inline rather than through memcmp, which
// costs more than the comparison for a few bytes.
inline bool same_short(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

class RecordBuilder {
 public:
  // Reads an XML path source's raw bytes for the record being built.
  using Fetch = std::function<std::string_view(const mapping::Source&)>;

  // Where the current record's raw values are. Positional sources (delimited `pos`, CSV `index`)
  // read `fields`; CSV `column` sources read the position `column_positions` gives for the
  // source's ordinal in the record spec (resolved once per file from the header row); XML `path`
  // sources go through `fetch`.
  struct Raw {
    std::span<const std::string_view> fields;
    std::span<const std::size_t> column_positions;
    const Fetch* fetch = nullptr;
    bool plain_ascii = false;  // the decoder saw every byte of the record is plain_ascii()
    // The record's whole text when every entry of `fields` is a view into it (a delimited line):
    // the builder then copies it once and points values into the copy. Empty otherwise.
    std::string_view line;
  };

  // `raw_encoding` is the encoding of the raw values handed to build(): the mapping's, except where
  // the decoder has already turned the record into UTF-8 (XML).
  RecordBuilder(const mapping::Mapping& mapping, DecodeOptions options, model::Encoding raw_encoding);

  // Builds `record` from `spec`. `line_begin` (may be null) lets errors carry a byte column when a
  // raw value points into the current line. Returns true when the record is valid; otherwise
  // appends errors (origin file/line/field filled) and returns false.
  bool build(const mapping::RecordSpec& spec, const Raw& raw, std::uint64_t line, const char* line_begin,
             model::Record& record, std::vector<Error>& errors);

  void set_file(std::string file) { file_ = std::move(file); }
  [[nodiscard]] const std::string& file() const noexcept { return file_; }

  // Decodes raw bytes in the mapping's encoding to UTF-8 into `out`, checking the field limit and
  // control characters. On failure returns the error (rule, message, column offset within `raw`).
  Status decode_text(std::string_view raw, std::string& out) const {
    if (raw.size() <= mapping_.limits.max_field_bytes && plain_ascii(raw)) {
      out.assign(raw);
      return {};
    }
    return decode_text_slow(raw, out);
  }

 private:
  // A field the common way: one source read by position (or CSV column), transforms among trim,
  // upper, lower, default and a yyyymmdd date, and a canonical type checked without allocating.
  // plan_for() compiles each field of a record spec once into a FastField whose `fn` is a routine
  // made for its shape (fast_simple<trim, type>, fast_date<dob>, or fast_steps for the rest), so a
  // record is a run of direct calls with no per-record interpretation of the mapping. The fast path
  // only ever accepts: anything unusual (non-ASCII, spaces inside an NHS number, a value that fails a
  // check) goes to the general path, which produces the value or the located error exactly as it
  // always does (tests/unit/codec/test_fast_path.cpp checks they agree).
  struct FastField;
  using FastFn = bool (*)(const RecordBuilder&, const FastField&, const Raw&, model::FieldValues&);
  struct FastField {
    FastFn fn = nullptr;       // null: the field always takes the general path
    bool column = false;       // a CSV column source: its position comes from Raw::column_positions
    bool trim = false;         // a trim before any default
    bool has_default = false;  // an empty value becomes default_text
    bool trim_after = false;   // a trim after the default (it trims the default text too)
    bool date = false;         // a final yyyymmdd <date> step
    bool required = false;
    std::int8_t case_op = 0;  // 1 upper, -1 lower
    model::FieldType type = model::FieldType::text;
    std::size_t ordinal = 0;   // the source's ordinal in the spec (for CSV column positions)
    std::size_t target = 0;    // index of the canonical field
    std::size_t position = 0;  // 1-based field number of a positional source
    std::string_view default_text;
    std::span<const std::string_view> allowed;  // enumeration
  };
  const std::vector<FastField>& plan_for(const mapping::RecordSpec& spec);
  bool try_fast(const FastField& plan, const Raw& raw_record, model::FieldValues& values) const;
  bool fast_source(const FastField& plan, const Raw& raw_record, std::string_view& v) const;
  [[nodiscard]] bool plain_ascii_within_limit(std::string_view v) const;
  template <bool kTrim, model::FieldType kType>
  static bool fast_simple(const RecordBuilder& self, const FastField& plan, const Raw& raw_record,
                          model::FieldValues& values);
  static bool fast_steps(const RecordBuilder& self, const FastField& plan, const Raw& raw_record,
                         model::FieldValues& values);
  template <bool kTrim>
  static FastFn simple_for(model::FieldType type);
  template <bool kDob>
  static bool fast_date(const RecordBuilder& self, const FastField& plan, const Raw& raw_record,
                        model::FieldValues& values);
  bool put_compact_date(bool dob, std::string_view v, std::size_t index, model::FieldValues& values) const;
  // Sets values[index] to `v`: a span of the adopted line when `v` lies in it, else a copy.
  [[gnu::always_inline]] void put(model::FieldValues& values, std::size_t index, std::string_view v) const {
    // Addresses compared as integers: `v` may point anywhere (a default text, another buffer); an
    // address below the line wraps round to a large offset.
    const std::uintptr_t offset =
        reinterpret_cast<std::uintptr_t>(v.data()) - reinterpret_cast<std::uintptr_t>(adopted_.data());
    if (offset < adopted_.size() && v.size() <= adopted_.size() - offset) {
      values.set_span(index, adopted_base_ + offset, v.size());
    } else {
      model::copy_short(values.prepare(index, v.size()), v.data(), v.size());
    }
  }

  [[gnu::noinline]] Status decode_text_slow(std::string_view raw, std::string& out) const;

  bool apply_step(const mapping::Step& step, model::FieldType type, std::string& value, Error& error);
  bool validate_type(const model::FieldDef& def, std::string& value, Error& error) const;
  void check_record_rules(model::Record& record, std::uint64_t line, std::vector<Error>& errors) const;

  const mapping::Mapping& mapping_;
  DecodeOptions options_;
  model::Encoding encoding_;
  std::string file_;
  std::string scratch_;
  std::string part_;
  std::string value_;        // the general path builds a field's value here
  model::Date parsed_date_;  // the date the last <date> step of the current field parsed
  bool have_parsed_date_ = false;
  Error failure_;                 // filled by apply_step/validate_type on failure; one object reused, not one per field
  int today_number_ = 0;          // options_.today as yyyymmdd
  std::string_view adopted_;      // the record's line (Raw::line) whose copy values may point into
  std::size_t adopted_base_ = 0;  // where that copy starts in the record's value buffer
  // One compiled plan per record spec seen, in the order first seen.
  std::vector<std::pair<const mapping::RecordSpec*, std::vector<FastField>>> plans_;
};

}  // namespace esrsync::codec
