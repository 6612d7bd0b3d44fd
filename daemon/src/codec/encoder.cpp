#include "esrsync/codec/encoder.hpp"

#include <algorithm>

#include "esrsync/model/text_encoding.hpp"
#include "esrsync/model/validators.hpp"

namespace esrsync::codec {

using mapping::FieldSpec;
using mapping::Format;
using mapping::RecordSpec;
using mapping::Source;
using mapping::StepKind;

Encoder::Encoder(std::shared_ptr<const mapping::Mapping> mapping) : mapping_(std::move(mapping)) {}

Result<std::unique_ptr<Encoder>> Encoder::create(std::shared_ptr<const mapping::Mapping> mapping) {
  if (mapping->format == Format::xml || mapping->format == Format::fhir_bundle) {
    return fail(Errc::mapping, "encode.format",
                "xml and fhir-bundle mappings are decode-only (staff histories are written by esrsync export)",
                Origin{mapping->path});
  }
  for (const auto& record : mapping->records) {
    for (const auto& field : record.fields) {
      const bool simple_source =
          field.sources.size() == 1 && field.sources[0].steps.empty() && field.sources[0].kind != Source::Kind::path;
      const bool reversible = std::all_of(field.steps.begin(), field.steps.end(), [](const mapping::Step& s) {
        return s.kind != StepKind::lookup && s.kind != StepKind::split && s.kind != StepKind::pattern;
      });
      if (!simple_source || !reversible) {
        return fail(Errc::mapping, "encode.not_reversible",
                    "field '" + field.target_name + "' uses a transform that cannot be written back",
                    Origin{mapping->path, field.def_line});
      }
    }
  }
  return std::unique_ptr<Encoder>(new Encoder(std::move(mapping)));  // NOLINT: private constructor
}

namespace {

void append_csv_cell(std::string_view value, char delimiter, std::string& out) {
  const bool quote = value.find_first_of(std::string{delimiter, '"', '\n', '\r'}) != std::string_view::npos;
  if (!quote) {
    out += value;
    return;
  }
  out += '"';
  for (const char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// Canonical values are ISO dates (yyyy-mm-dd) or timestamps (yyyy-mm-ddThh:mm:ss).
Result<model::DateTime> parse_canonical(std::string_view value) {
  if (value.size() > 10) return model::parse_iso_timestamp(value);
  auto date = model::parse_iso_date(value);
  if (!date) return fail(std::move(date).error());
  return model::DateTime{*date};
}

}  // namespace

Status Encoder::append_fields(const RecordSpec& spec, const model::Record& record, std::string& out) {
  const auto& m = *mapping_;
  std::size_t width = spec.field_count;
  for (const auto& f : spec.fields) {
    if (f.sources[0].kind == Source::Kind::position) width = std::max(width, f.sources[0].position);
  }
  if (m.format == Format::csv) width = std::max(width, spec.fields.size());
  cells_.assign(width, std::string{});
  if (m.format == Format::delimited && width > 0) cells_[0] = spec.type;

  std::string value;
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& field = spec.fields[i];
    const Source& source = field.sources[0];
    if (source.kind == Source::Kind::constant) {
      value = source.constant;
    } else {
      value = record.values[field.target];
    }
    if (value.empty() && !field.expect.empty()) value = field.expect;
    for (const auto& step : field.steps) {
      switch (step.kind) {
        case StepKind::date:
          if (!value.empty()) {
            auto parsed = parse_canonical(value);
            if (!parsed) {
              Error e = std::move(parsed).error();
              e.origin.field = field.target_name;
              return fail(std::move(e));
            }
            value = model::format_datetime(*parsed, step.text);
          }
          break;
        case StepKind::default_value:
          if (value.empty()) value = step.text;
          break;
        case StepKind::trim: {
          const auto first = value.find_first_not_of(" \t");
          value = first == std::string::npos ? std::string{}
                                             : value.substr(first, value.find_last_not_of(" \t") - first + 1);
          break;
        }
        case StepKind::upper:
          std::transform(value.begin(), value.end(), value.begin(),
                         [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
          break;
        case StepKind::lower:
          std::transform(value.begin(), value.end(), value.begin(),
                         [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
          break;
        case StepKind::strip_spaces:
          value.erase(std::remove(value.begin(), value.end(), ' '), value.end());
          break;
        case StepKind::pattern:
        case StepKind::split:
        case StepKind::lookup:
          break;  // refused by create()
      }
    }
    if (m.format == Format::delimited &&
        value.find_first_of(std::string{m.separator, '\n', '\r'}) != std::string::npos) {
      return fail(Errc::validation, "encode.separator",
                  "value holds the separator or a line break, which this format cannot carry",
                  Origin{{}, 0, 0, field.target_name});
    }
    const std::size_t cell = m.format == Format::csv ? (source.kind == Source::Kind::position ? source.position - 1 : i)
                                                     : source.position - 1;
    if (cell >= cells_.size()) cells_.resize(cell + 1);
    cells_[cell] = std::move(value);
    value.clear();
  }

  std::string line;
  for (std::size_t i = 0; i < cells_.size(); ++i) {
    if (m.format == Format::csv) {
      if (i > 0) line += m.csv_delimiter;
      append_csv_cell(cells_[i], m.csv_delimiter, line);
    } else {
      if (i > 0) line += m.separator;
      line += cells_[i];
    }
  }
  line += m.format == Format::csv ? "\r\n" : "\n";
  if (m.encoding == model::Encoding::utf8) {
    if (model::find_invalid_utf8(line) != std::string_view::npos) {
      return fail(Errc::encoding, "encoding.invalid_utf8", "record holds invalid UTF-8");
    }
    out += line;
    return {};
  }
  return model::append_from_utf8(line, m.encoding, out);
}

Status Encoder::append(const model::Record& record, std::string& out) {
  const RecordSpec* spec = nullptr;
  for (const auto& r : mapping_->records) {
    if (r.entity == record.entity &&
        (record.record_type.empty() || r.type == record.record_type || r.role != RecordSpec::Role::data)) {
      spec = &r;
      break;
    }
  }
  if (spec == nullptr) spec = mapping_->find_entity(record.entity);
  if (spec == nullptr) {
    return fail(
        Errc::validation, "encode.no_record_type",
        "mapping " + mapping_->name + " has no record for " + std::string(model::entity_def(record.entity).name));
  }
  if (mapping_->format == Format::csv && !wrote_csv_header_) {
    std::string header;
    for (std::size_t i = 0; i < spec->fields.size(); ++i) {
      if (i > 0) header += mapping_->csv_delimiter;
      const auto& s = spec->fields[i].sources[0];
      append_csv_cell(s.kind == Source::Kind::column ? s.column : spec->fields[i].target_name, mapping_->csv_delimiter,
                      header);
    }
    header += "\r\n";
    if (auto ok = model::append_from_utf8(header, mapping_->encoding, out); !ok) return ok;
    wrote_csv_header_ = true;
  }
  if (auto ok = append_fields(*spec, record, out); !ok) return ok;
  if (spec->role == RecordSpec::Role::data) ++data_records_;
  if (const auto* trailer = mapping_->find_role(RecordSpec::Role::trailer);
      trailer != nullptr &&
      std::find(trailer->counts.begin(), trailer->counts.end(), spec->type) != trailer->counts.end()) {
    ++counted_records_;
  }
  return {};
}

Status Encoder::append_trailer(std::string& out) {
  const RecordSpec* trailer = mapping_->find_role(RecordSpec::Role::trailer);
  if (trailer == nullptr) return {};
  model::Record record;
  record.reset(model::Entity::file_trailer);
  record.set("record_count", std::to_string(counted_records_));
  return append_fields(*trailer, record, out);
}

}  // namespace esrsync::codec
