#pragma once
// A mapping definition (an XML file under mappings/) compiled into a plan. It declares a file
// format (ESR-style delimited records with HDR/TRL, RFC 4180 CSV with a header row, or XML with a
// repeating record element), the text encoding, and for each record type the canonical entity it
// maps to and, per canonical field, where the value comes from and the transforms applied to it.
// The canonical field's type then decides the validation (model/schema.hpp). docs/mappings.md is the
// reference for the XML vocabulary.
//
// A Mapping is immutable once loaded and may be shared by any number of decoders and encoders on
// any threads. Loading reads the definition and its lookup tables from disk (blocking I/O: call it
// at start-up, config load or from the blocking pool, never on an io thread).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "esrsync/core/result.hpp"
#include "esrsync/mapping/lookup_table.hpp"
#include "esrsync/model/schema.hpp"
#include "esrsync/model/text_encoding.hpp"

namespace esrsync::mapping {

// fhir_bundle: FHIR R4 staff-history bundles (fhir/staff_history.hpp); the structure is the
// standard's, so such a mapping declares no records.
enum class Format : std::uint8_t { delimited, csv, xml, fhir_bundle };

enum class StepKind : std::uint8_t {
  trim,           // remove leading and trailing white space
  upper,          // ASCII upper case
  lower,          // ASCII lower case
  strip_spaces,   // remove every space
  date,           // parse by `format` (strftime-like) into canonical ISO; encode: the reverse
  default_value,  // replace an empty value with `text`
  pattern,        // the whole value must match `regex` (rule pattern.mismatch)
  split,          // keep part `index` (0-based) of the value split on `text`
  lookup,         // translate through a lookup table (rule lookup.unknown_code)
};

struct Step {
  StepKind kind = StepKind::trim;
  std::string text;                          // date format, default value, split separator, pattern source
  std::size_t index = 0;                     // split part
  std::shared_ptr<const std::regex> regex;   // pattern (compiled once; shared immutable)
  std::shared_ptr<const LookupTable> table;  // lookup (shared immutable between fields)
  std::size_t key_column = 0;
  std::size_t value_column = 0;
  bool lookup_keep_unknown = false;  // on-missing="keep": pass unknown codes through unchanged
  std::uint32_t def_line = 0;        // line of this step in the definition
  bool compact_date = false;         // date format is exactly %Y%m%d (the ESR layout): a fast path
};

// XML-style path relative to the record element: "a/b", "@attr", "a/@attr", "." (record text).
struct XmlPath {
  std::vector<std::string> elements;
  std::string attribute;  // empty: the element's text
};

struct Source {
  enum class Kind : std::uint8_t { position, column, path, constant } kind = Kind::position;
  std::size_t position = 0;  // delimited and csv-by-index: 1-based field number
  std::string column;        // csv: header name (resolved to a position per file)
  XmlPath path;              // xml
  std::string constant;
  std::vector<Step> steps;  // applied to this source before combining
};

struct FieldSpec {
  std::size_t target = 0;  // index into entity_def(entity).fields
  std::string target_name;
  std::vector<Source> sources;  // one or more; combined into one value
  enum class Combine : std::uint8_t { concat, first_non_empty } combine = Combine::concat;
  std::string separator;    // concat separator
  std::vector<Step> steps;  // applied after combining
  bool required = false;    // empty after the steps -> field.required
  std::string expect;       // header/trailer fields: the value the file must carry
  std::uint32_t def_line = 0;
};

struct RecordSpec {
  enum class Role : std::uint8_t { data, header, trailer } role = Role::data;
  std::string type;  // delimited: the record type code in field 1; csv/xml: a label
  model::Entity entity = model::Entity::person;
  std::size_t field_count = 0;  // delimited/csv: exact number of fields a record must have (0 = any)
  std::vector<FieldSpec> fields;
  std::vector<std::string> counts;  // trailer: record types its record_count counts
  std::uint32_t def_line = 0;
};

struct Limits {
  std::size_t max_line_bytes = 64 * 1024;  // DOMAIN.md: a line over 64 KiB is rejected
  std::size_t max_field_bytes = 4 * 1024;  // a field over 4 KiB is rejected
  std::uint64_t max_file_bytes = 0;        // 0 = no limit
};

struct Mapping {
  std::string name;
  std::string path;  // the definition file
  Format format = Format::delimited;
  model::Encoding encoding = model::Encoding::utf8;
  char separator = '|';        // delimited
  char csv_delimiter = ',';    // csv
  std::string record_element;  // xml
  Limits limits;
  std::vector<RecordSpec> records;

  [[nodiscard]] const RecordSpec* find_record(std::string_view type) const noexcept;
  [[nodiscard]] const RecordSpec* find_role(RecordSpec::Role role) const noexcept;
  // First data record spec for `entity` (used when encoding).
  [[nodiscard]] const RecordSpec* find_entity(model::Entity entity) const noexcept;
};

// Loads and compiles the definition at `path`. Lookup tables named by a relative path are resolved
// against the definition's directory. On failure returns the first problem; when `problems` is
// given, every problem found (each with the definition's file:line) is appended to it.
// Rules (Errc::mapping): mapping.xml (not well-formed XML), mapping.root, mapping.format,
// mapping.encoding, mapping.entity, mapping.field (unknown canonical field), mapping.duplicate_field,
// mapping.source (missing or conflicting source), mapping.path, mapping.step (unknown transform or
// bad argument), mapping.date_format, mapping.pattern, mapping.lookup_column, mapping.record_type,
// mapping.attribute (an unknown attribute: typos are errors, not ignored); lookup.* from the tables,
// lookup.duplicate_key for a key listed twice.
Result<std::shared_ptr<const Mapping>> load_mapping(const std::string& path, std::vector<Error>* problems = nullptr);

// The same, from definition text already in memory; `path` names it in errors and anchors relative
// lookup table paths.
Result<std::shared_ptr<const Mapping>> parse_mapping(std::string text, const std::string& path,
                                                     std::vector<Error>* problems = nullptr);

}  // namespace esrsync::mapping
