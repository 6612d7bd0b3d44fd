// Decoder for RFC 4180 CSV exports with a header row (DOMAIN.md "OH system CSV export").

#include <algorithm>

#include "decoders.hpp"
#include "esrsync/codec/csv_reader.hpp"
#include "esrsync/mapping/lookup_table.hpp"
#include "record_builder.hpp"

namespace esrsync::codec {
namespace {

using mapping::FieldSpec;
using mapping::RecordSpec;
using mapping::Source;

class CsvDecoder final : public Decoder {
 public:
  CsvDecoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options)
      : mapping_(mapping),
        source_(source),
        reader_(source,
                CsvOptions{mapping.csv_delimiter, mapping.limits.max_line_bytes, mapping.limits.max_field_bytes}),
        builder_(mapping, options, mapping.encoding),
        spec_(mapping.records.front()) {
    builder_.set_file(source.name());
  }

  Next next(model::Record& record, std::vector<Error>& errors) override {
    errors.clear();
    while (!done_) {
      auto more = reader_.next(fields_);
      if (over_file_limit(mapping_.limits.max_file_bytes, source_, 0)) {
        done_ = true;
        return Next::end;
      }
      record.reset(spec_.entity);
      record.record_type = spec_.type;
      record.line = reader_.line();
      if (!more) {
        Error e = std::move(more).error();
        if (!have_header_ || e.code == Errc::io || e.code == Errc::config) {
          // Without a header nothing can be read; an I/O error means the rest of the file is unknown.
          if (e.code != Errc::io) e.code = Errc::structure;
          file_errors_.push_back(std::move(e));
          done_ = true;
          return Next::end;
        }
        ++stats_.records_read;
        ++stats_.rejected;
        errors.push_back(std::move(e));
        return Next::rejected;
      }
      if (!*more) {
        if (!have_header_) {
          file_errors_.push_back(
              make_error(Errc::structure, "file.empty", "the file has no header row", Origin{source_.name()}));
        }
        done_ = true;
        break;
      }
      if (fields_.size() == 1 && fields_[0].empty()) continue;  // a blank line carries no record
      if (!have_header_) {
        if (!read_header()) {
          done_ = true;
          return Next::end;
        }
        continue;
      }
      ++stats_.records_read;
      if (fields_.size() != header_width_) {
        errors.push_back(make_error(
            Errc::parse, "record.field_count",
            "row has " + std::to_string(fields_.size()) + " columns, the header has " + std::to_string(header_width_),
            Origin{source_.name(), reader_.line()}));
        ++stats_.rejected;
        return Next::rejected;
      }
      if (!builder_.build(spec_, RecordBuilder::Raw{fields_, columns_, nullptr}, reader_.line(), nullptr, record,
                          errors)) {
        ++stats_.rejected;
        return Next::rejected;
      }
      ++stats_.accepted;
      return Next::record;
    }
    return Next::end;
  }

  [[nodiscard]] std::uint64_t bytes_read() const noexcept override { return source_.bytes_read(); }

 private:
  // Resolves every column a field reads to its position in this file. A missing column makes every
  // record unreadable, so it is a file error.
  bool read_header() {
    have_header_ = true;
    header_width_ = fields_.size();
    std::vector<std::string> names;
    names.reserve(fields_.size());
    for (const auto f : fields_)
      names.push_back(mapping::LookupTable::normalise_key(f));
    bool ok = true;
    std::vector<std::string> reported;  // a column several fields read is reported once
    columns_.clear();
    for (const FieldSpec& field : spec_.fields) {
      for (const Source& s : field.sources) {
        columns_.push_back(0);
        if (s.kind == Source::Kind::column) {
          const std::string want = mapping::LookupTable::normalise_key(s.column);
          const auto count = std::count(names.begin(), names.end(), want);
          if (count != 1) {
            if (std::find(reported.begin(), reported.end(), want) != reported.end()) continue;
            reported.push_back(want);
            file_errors_.push_back(make_error(
                Errc::structure, count == 0 ? "csv.missing_column" : "csv.ambiguous_column",
                std::string(count == 0 ? "the header has no column '" : "the header has more than one column '") +
                    s.column + "' (mapping " + mapping_.path + ")",
                Origin{source_.name(), reader_.line(), 0, field.target_name}));
            ok = false;
            continue;
          }
          columns_.back() = static_cast<std::size_t>(std::find(names.begin(), names.end(), want) - names.begin()) + 1;
        } else if (s.kind == Source::Kind::position && s.position > header_width_) {
          file_errors_.push_back(make_error(Errc::structure, "csv.missing_column",
                                            "the header has no column " + std::to_string(s.position),
                                            Origin{source_.name(), reader_.line(), 0, field.target_name}));
          ok = false;
        }
      }
    }
    return ok;
  }

  const mapping::Mapping& mapping_;
  ByteSource& source_;
  CsvReader reader_;
  RecordBuilder builder_;
  const RecordSpec& spec_;
  std::vector<std::string_view> fields_;
  std::vector<std::size_t> columns_;  // by source ordinal in spec_: the column's 1-based position
  std::size_t header_width_ = 0;
  bool have_header_ = false;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Decoder> make_csv_decoder(const mapping::Mapping& mapping, ByteSource& source, DecodeOptions options) {
  return std::make_unique<CsvDecoder>(mapping, source, options);
}

}  // namespace esrsync::codec
