#include "esrsync/mapping/mapping.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "esrsync/model/validators.hpp"

namespace esrsync::mapping {

const RecordSpec* Mapping::find_record(std::string_view type) const noexcept {
  for (const auto& r : records) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

const RecordSpec* Mapping::find_role(RecordSpec::Role role) const noexcept {
  for (const auto& r : records) {
    if (r.role == role) return &r;
  }
  return nullptr;
}

const RecordSpec* Mapping::find_entity(model::Entity entity) const noexcept {
  for (const auto& r : records) {
    if (r.role == RecordSpec::Role::data && r.entity == entity) return &r;
  }
  return nullptr;
}

namespace {

namespace fs = std::filesystem;

// Compiles one definition, collecting every problem rather than stopping at the first, so
// `esrsync check` can list them all.
class Loader {
 public:
  explicit Loader(std::string path) : path_(std::move(path)) {}

  Result<std::shared_ptr<const Mapping>> run(std::vector<Error>* problems) {
    std::ifstream in(path_, std::ios::binary);
    if (!in) {
      problems_.push_back(make_error(Errc::io, "mapping.open", "cannot open mapping definition", Origin{path_}));
    } else {
      std::ostringstream buffer;
      buffer << in.rdbuf();
      text_ = buffer.str();
      load();
    }
    return finish(problems);
  }

  Result<std::shared_ptr<const Mapping>> run_text(std::string text, std::vector<Error>* problems) {
    text_ = std::move(text);
    load();
    return finish(problems);
  }

 private:
  Result<std::shared_ptr<const Mapping>> finish(std::vector<Error>* problems) {
    if (problems != nullptr) problems->insert(problems->end(), problems_.begin(), problems_.end());
    if (!problems_.empty()) return fail(problems_.front());
    return std::shared_ptr<const Mapping>(std::make_shared<Mapping>(std::move(mapping_)));
  }

  void load() {
    pugi::xml_document doc;
    const auto parsed = doc.load_buffer(text_.data(), text_.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!parsed) {
      add(static_cast<std::ptrdiff_t>(parsed.offset), "mapping.xml", parsed.description());
      return;
    }
    mapping_.path = path_;
    const auto root = doc.document_element();
    if (std::string_view(root.name()) != "mapping") {
      add(root, "mapping.root", "the root element must be <mapping>");
      return;
    }
    check_attributes(root, {"name", "version", "format", "encoding", "description"});
    mapping_.name = root.attribute("name").value();
    if (mapping_.name.empty()) add(root, "mapping.attribute", "<mapping> needs a name");
    const std::string_view format = root.attribute("format").value();
    if (format == "delimited") {
      mapping_.format = Format::delimited;
    } else if (format == "csv") {
      mapping_.format = Format::csv;
    } else if (format == "xml") {
      mapping_.format = Format::xml;
    } else if (format == "fhir-bundle") {
      mapping_.format = Format::fhir_bundle;
    } else {
      add(root, "mapping.format", "format must be delimited, csv, xml or fhir-bundle");
      return;
    }
    if (const auto enc = root.attribute("encoding"); enc) {
      const auto parsed_enc = model::parse_encoding(enc.value());
      if (!parsed_enc) {
        add(root, "mapping.encoding", "encoding must be utf-8, windows-1252 or iso-8859-1");
      } else {
        mapping_.encoding = *parsed_enc;
      }
    }

    bool have_format_element = false;
    for (const auto child : root.children()) {
      if (child.type() != pugi::node_element) continue;
      const std::string_view name = child.name();
      if (name == "record") {
        load_record(child);
      } else if (name == "limits") {
        load_limits(child);
      } else if (name == "delimited" || name == "csv" || name == "xml") {
        have_format_element = true;
        load_format(child);
      } else {
        add(child, "mapping.element", "unknown element <" + std::string(name) + ">");
      }
    }
    if (mapping_.format == Format::xml && (!have_format_element || mapping_.record_element.empty())) {
      add(root, "mapping.format", "an xml mapping needs <xml record-element=\"...\"/>");
    }
    check_records(root);
  }

  void load_format(pugi::xml_node node) {
    const std::string_view name = node.name();
    const bool matches = (name == "delimited" && mapping_.format == Format::delimited) ||
                         (name == "csv" && mapping_.format == Format::csv) ||
                         (name == "xml" && mapping_.format == Format::xml);
    if (!matches) {
      add(node, "mapping.format", "<" + std::string(name) + "> does not match the mapping's format");
      return;
    }
    if (name == "delimited") {
      check_attributes(node, {"separator"});
      mapping_.separator = single_char(node, "separator", '|');
    } else if (name == "csv") {
      check_attributes(node, {"delimiter"});
      mapping_.csv_delimiter = single_char(node, "delimiter", ',');
    } else {
      check_attributes(node, {"record-element"});
      mapping_.record_element = node.attribute("record-element").value();
    }
  }

  char single_char(pugi::xml_node node, const char* attr, char fallback) {
    const auto a = node.attribute(attr);
    if (!a) return fallback;
    const std::string_view v = a.value();
    if (v.size() != 1 || v[0] == '"' || v[0] == '\n' || v[0] == '\r') {
      add(node, "mapping.format", std::string(attr) + " must be one character (not a quote or line break)");
      return fallback;
    }
    return v[0];
  }

  void load_limits(pugi::xml_node node) {
    check_attributes(node, {"max-line-bytes", "max-field-bytes", "max-file-bytes"});
    // Decoders hold a line (twice) and a field in memory: bounded, so a typing slip in a mapping
    // cannot make one allocate gigabytes.
    read_size(node, "max-line-bytes", mapping_.limits.max_line_bytes, kMaxLineOrFieldBytes);
    read_size(node, "max-field-bytes", mapping_.limits.max_field_bytes, kMaxLineOrFieldBytes);
    std::size_t file = 0;
    if (read_size(node, "max-file-bytes", file)) mapping_.limits.max_file_bytes = file;
  }

  static constexpr std::size_t kMaxLineOrFieldBytes = 16 * 1024 * 1024;

  bool read_size(pugi::xml_node node, const char* attr, std::size_t& out,
                 std::size_t most = std::numeric_limits<std::size_t>::max()) {
    const auto a = node.attribute(attr);
    if (!a) return false;
    const std::string_view v = a.value();
    std::size_t value = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec != std::errc{} || ptr != v.data() + v.size() || value == 0) {
      add(node, "mapping.attribute", std::string(attr) + " must be a positive whole number");
      return false;
    }
    if (value > most) {
      add(node, "mapping.attribute", std::string(attr) + " must be at most " + std::to_string(most));
      return false;
    }
    out = value;
    return true;
  }

  void load_record(pugi::xml_node node) {
    check_attributes(node, {"type", "entity", "role", "fields", "counts"});
    RecordSpec spec;
    spec.def_line = line_of(node);
    spec.type = node.attribute("type").value();
    const std::string_view entity_name = node.attribute("entity").value();
    const auto entity = model::find_entity(entity_name);
    if (!entity) {
      add(node, "mapping.entity", "unknown canonical entity '" + std::string(entity_name) + "'");
      return;
    }
    spec.entity = *entity;
    if (spec.type.empty()) spec.type = std::string(entity_name);
    const std::string_view role = node.attribute("role").value();
    if (role.empty() || role == "data") {
      spec.role = RecordSpec::Role::data;
    } else if (role == "header") {
      spec.role = RecordSpec::Role::header;
    } else if (role == "trailer") {
      spec.role = RecordSpec::Role::trailer;
    } else {
      add(node, "mapping.attribute", "role must be data, header or trailer");
    }
    if (node.attribute("fields")) read_size(node, "fields", spec.field_count);
    std::istringstream counts(node.attribute("counts").value());
    for (std::string type; counts >> type;)
      spec.counts.push_back(type);
    if (spec.role == RecordSpec::Role::trailer && spec.counts.empty()) {
      add(node, "mapping.attribute", "a trailer record needs counts=\"TYPE ...\" naming the record types it counts");
    }
    if (mapping_.find_record(spec.type) != nullptr) {
      add(node, "mapping.record_type", "record type '" + spec.type + "' is defined twice");
    }
    for (const auto child : node.children()) {
      if (child.type() != pugi::node_element) continue;
      if (std::string_view(child.name()) != "field") {
        add(child, "mapping.element", "a <record> holds only <field> elements");
        continue;
      }
      load_field(child, spec);
    }
    mapping_.records.push_back(std::move(spec));
  }

  void load_field(pugi::xml_node node, RecordSpec& record) {
    check_attributes(
        node, {"target", "pos", "column", "index", "path", "value", "required", "expect", "combine", "separator"});
    FieldSpec field;
    field.def_line = line_of(node);
    field.target_name = node.attribute("target").value();
    const auto index = model::field_index(record.entity, field.target_name);
    if (!index) {
      add(node, "mapping.field",
          "'" + field.target_name + "' is not a field of " + std::string(model::entity_def(record.entity).name));
      return;
    }
    field.target = *index;
    for (const auto& other : record.fields) {
      if (other.target == field.target) {
        add(node, "mapping.duplicate_field", "field '" + field.target_name + "' is mapped twice in this record");
      }
    }
    field.required = node.attribute("required").as_bool(false);
    field.expect = node.attribute("expect").value();
    field.separator = node.attribute("separator").value();
    const std::string_view combine = node.attribute("combine").value();
    if (combine == "first-non-empty") {
      field.combine = FieldSpec::Combine::first_non_empty;
    } else if (!combine.empty() && combine != "concat") {
      add(node, "mapping.attribute", "combine must be concat or first-non-empty");
    }

    if (auto inline_source = load_source_attributes(node, false)) field.sources.push_back(std::move(*inline_source));
    for (const auto child : node.children()) {
      if (child.type() != pugi::node_element) continue;
      if (std::string_view(child.name()) == "from") {
        check_attributes(child, {"pos", "column", "index", "path", "value"});
        auto source = load_source_attributes(child, true);
        if (!source) continue;
        for (const auto step_node : child.children()) {
          if (step_node.type() != pugi::node_element) continue;
          if (auto step = load_step(step_node)) source->steps.push_back(std::move(*step));
        }
        field.sources.push_back(std::move(*source));
      } else if (auto step = load_step(child)) {
        field.steps.push_back(std::move(*step));
      }
    }
    const bool source_attribute = node.attribute("pos") || node.attribute("column") || node.attribute("index") ||
                                  node.attribute("path") || node.attribute("value");
    if (field.sources.empty() && !source_attribute) {
      add(node, "mapping.source",
          "field '" + field.target_name + "' has no source (pos, column, index, path, value or <from>)");
    }
    record.fields.push_back(std::move(field));
  }

  // Reads the one source attribute of a <field> or <from>. `must` reports a missing source.
  std::optional<Source> load_source_attributes(pugi::xml_node node, bool must) {
    int count = 0;
    Source source;
    if (const auto a = node.attribute("pos"); a) {
      ++count;
      source.kind = Source::Kind::position;
      if (!read_size(node, "pos", source.position)) return std::nullopt;
      if (mapping_.format != Format::delimited)
        add(node, "mapping.source", "pos is for delimited mappings; use column or index");
    }
    if (const auto a = node.attribute("index"); a) {
      ++count;
      source.kind = Source::Kind::position;
      if (!read_size(node, "index", source.position)) return std::nullopt;
      if (mapping_.format != Format::csv) add(node, "mapping.source", "index is for csv mappings");
    }
    if (const auto a = node.attribute("column"); a) {
      ++count;
      source.kind = Source::Kind::column;
      source.column = a.value();
      if (mapping_.format != Format::csv) add(node, "mapping.source", "column is for csv mappings");
    }
    if (const auto a = node.attribute("path"); a) {
      ++count;
      source.kind = Source::Kind::path;
      if (mapping_.format != Format::xml) add(node, "mapping.source", "path is for xml mappings");
      if (!parse_path(a.value(), source.path)) {
        add(node, "mapping.path",
            "bad path '" + std::string(a.value()) + "' (use element/element, @attribute, element/@attribute or .)");
        return std::nullopt;
      }
    }
    if (const auto a = node.attribute("value"); a) {
      ++count;
      source.kind = Source::Kind::constant;
      source.constant = a.value();
    }
    if (count > 1) {
      add(node, "mapping.source", "give exactly one of pos, column, index, path or value");
      return std::nullopt;
    }
    if (count == 0) {
      if (must) add(node, "mapping.source", "<from> needs one of pos, column, index, path or value");
      return std::nullopt;
    }
    return source;
  }

  static bool valid_name(std::string_view s) {
    if (s.empty()) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
             c == '.' || c == ':';
    });
  }

  static bool parse_path(std::string_view text, XmlPath& out) {
    if (text == ".") return true;
    if (text.empty() || text.front() == '/' || text.back() == '/') return false;
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto slash = text.find('/', start);
      const auto part = text.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
      const bool last = slash == std::string_view::npos;
      if (!part.empty() && part.front() == '@') {
        if (!last || !valid_name(part.substr(1))) return false;
        out.attribute = std::string(part.substr(1));
      } else {
        if (!valid_name(part) || part == "." || part == "..") return false;
        out.elements.emplace_back(part);
      }
      if (last) break;
      start = slash + 1;
    }
    return true;
  }

  std::optional<Step> load_step(pugi::xml_node node) {
    Step step;
    step.def_line = line_of(node);
    const std::string_view name = node.name();
    if (name == "trim") {
      step.kind = StepKind::trim;
      check_attributes(node, {});
    } else if (name == "upper") {
      step.kind = StepKind::upper;
      check_attributes(node, {});
    } else if (name == "lower") {
      step.kind = StepKind::lower;
      check_attributes(node, {});
    } else if (name == "strip-spaces") {
      step.kind = StepKind::strip_spaces;
      check_attributes(node, {});
    } else if (name == "date") {
      step.kind = StepKind::date;
      check_attributes(node, {"format"});
      step.text = node.attribute("format").value();
      step.compact_date = step.text == "%Y%m%d";
      if (!model::is_valid_date_pattern(step.text)) {
        add(node, "mapping.date_format", "bad date format '" + step.text + "' (use %Y %m %d %H %M %S and literals)");
        return std::nullopt;
      }
    } else if (name == "default") {
      step.kind = StepKind::default_value;
      check_attributes(node, {"value"});
      if (!node.attribute("value")) add(node, "mapping.step", "<default> needs value=");
      step.text = node.attribute("value").value();
    } else if (name == "pattern") {
      step.kind = StepKind::pattern;
      check_attributes(node, {"regex"});
      step.text = node.attribute("regex").value();
      try {
        step.regex = std::make_shared<const std::regex>(step.text, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        add(node, "mapping.pattern", std::string("bad regular expression: ") + e.what());
        return std::nullopt;
      }
    } else if (name == "split") {
      step.kind = StepKind::split;
      check_attributes(node, {"separator", "index"});
      step.text = node.attribute("separator").value();
      if (step.text.empty()) add(node, "mapping.step", "<split> needs a non-empty separator=");
      if (node.attribute("index")) {
        const std::string_view v = node.attribute("index").value();
        const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), step.index);
        if (ec != std::errc{} || ptr != v.data() + v.size()) add(node, "mapping.step", "index must be a whole number");
      }
    } else if (name == "lookup") {
      step.kind = StepKind::lookup;
      check_attributes(node, {"table", "key", "value", "on-missing"});
      if (!load_lookup(node, step)) return std::nullopt;
    } else {
      add(node, "mapping.step", "unknown transform <" + std::string(name) + ">");
      return std::nullopt;
    }
    return step;
  }

  bool load_lookup(pugi::xml_node node, Step& step) {
    const std::string table_attr = node.attribute("table").value();
    if (table_attr.empty()) {
      add(node, "mapping.step", "<lookup> needs table=");
      return false;
    }
    const std::string_view on_missing = node.attribute("on-missing").value();
    if (on_missing == "keep") {
      step.lookup_keep_unknown = true;
    } else if (!on_missing.empty() && on_missing != "error") {
      add(node, "mapping.step", "on-missing must be error or keep");
    }
    fs::path table_path(table_attr);
    if (table_path.is_relative()) table_path = fs::path(path_).parent_path() / table_path;
    const std::string key = table_path.lexically_normal().string();
    auto it = tables_.find(key);
    if (it == tables_.end()) {
      auto table = LookupTable::load(key);
      if (!table) {
        Error e = std::move(table).error();
        problems_.push_back(make_error(
            e.code, e.rule, e.message + " (used at " + path_ + ":" + std::to_string(line_of(node)) + ")", e.origin));
        tables_.emplace(key, nullptr);
        return false;
      }
      it = tables_.emplace(key, std::make_shared<const LookupTable>(std::move(*table))).first;
    }
    if (!it->second) return false;
    step.table = it->second;
    const std::string key_col = node.attribute("key").value();
    const std::string value_col = node.attribute("value").value();
    const auto k = step.table->column(key_col);
    const auto v = step.table->column(value_col);
    if (!k) add(node, "mapping.lookup_column", "lookup table has no key column '" + key_col + "'");
    if (!v) add(node, "mapping.lookup_column", "lookup table has no value column '" + value_col + "'");
    if (!k || !v) return false;
    step.key_column = *k;
    step.value_column = *v;
    if (checked_keys_.emplace(key + '\n' + std::to_string(*k)).second) {
      for (auto& e : step.table->duplicate_keys(*k))
        problems_.push_back(std::move(e));
    }
    return true;
  }

  // Cross-record rules, once every record is read.
  void check_records(pugi::xml_node root) {
    if (mapping_.format == Format::fhir_bundle) {
      if (!mapping_.records.empty()) {
        add(root, "mapping.record_type", "a fhir-bundle mapping defines no <record>: FHIR fixes the structure");
      }
      return;
    }
    const auto data_count = std::count_if(mapping_.records.begin(), mapping_.records.end(),
                                          [](const RecordSpec& r) { return r.role == RecordSpec::Role::data; });
    if (data_count == 0) add(root, "mapping.record_type", "the mapping defines no data <record>");
    if (mapping_.format != Format::delimited) {
      if (mapping_.records.size() != 1) {
        add(root, "mapping.record_type", "csv and xml mappings define exactly one data <record>");
      }
      return;
    }
    int headers = 0;
    int trailers = 0;
    for (const auto& r : mapping_.records) {
      if (r.role == RecordSpec::Role::header) ++headers;
      if (r.role == RecordSpec::Role::trailer) {
        ++trailers;
        for (const auto& counted : r.counts) {
          if (mapping_.find_record(counted) == nullptr) {
            add_at(r.def_line, "mapping.record_type", "trailer counts unknown record type '" + counted + "'");
          }
        }
      }
      for (const auto& f : r.fields) {
        for (const auto& s : f.sources) {
          if (s.kind == Source::Kind::position && r.field_count != 0 && s.position > r.field_count) {
            add_at(f.def_line, "mapping.source",
                   "pos " + std::to_string(s.position) + " is beyond the record's " + std::to_string(r.field_count) +
                       " fields");
          }
        }
      }
    }
    if (headers > 1 || trailers > 1) add(root, "mapping.record_type", "at most one header and one trailer record");
  }

  void check_attributes(pugi::xml_node node, std::initializer_list<std::string_view> allowed) {
    for (const auto a : node.attributes()) {
      const std::string_view name = a.name();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        add(node, "mapping.attribute", "unknown attribute '" + std::string(name) + "' on <" + node.name() + ">");
      }
    }
  }

  std::uint32_t line_of(std::ptrdiff_t offset) const {
    if (offset < 0) return 0;
    const auto end = text_.begin() + std::min<std::ptrdiff_t>(offset, static_cast<std::ptrdiff_t>(text_.size()));
    return static_cast<std::uint32_t>(1 + std::count(text_.begin(), end, '\n'));
  }
  std::uint32_t line_of(pugi::xml_node node) const { return line_of(node.offset_debug()); }

  void add(std::ptrdiff_t offset, std::string rule, std::string message) {
    add_at(line_of(offset), std::move(rule), std::move(message));
  }
  void add(pugi::xml_node node, std::string rule, std::string message) {
    add_at(line_of(node), std::move(rule), std::move(message));
  }
  void add_at(std::uint32_t line, std::string rule, std::string message) {
    problems_.push_back(make_error(Errc::mapping, std::move(rule), std::move(message), Origin{path_, line}));
  }

  std::string path_;
  std::string text_;
  Mapping mapping_;
  std::vector<Error> problems_;
  std::map<std::string, std::shared_ptr<const LookupTable>> tables_;
  std::set<std::string> checked_keys_;
};

}  // namespace

Result<std::shared_ptr<const Mapping>> load_mapping(const std::string& path, std::vector<Error>* problems) {
  return Loader(path).run(problems);
}

Result<std::shared_ptr<const Mapping>> parse_mapping(std::string text, const std::string& path,
                                                     std::vector<Error>* problems) {
  return Loader(path).run_text(std::move(text), problems);
}

}  // namespace esrsync::mapping
