#include "record_builder.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>
#include <regex>

#include "esrsync/model/fields.hpp"
#include "esrsync/model/text_encoding.hpp"
#include "esrsync/model/validators.hpp"

namespace esrsync::codec {

using mapping::FieldSpec;
using mapping::RecordSpec;
using mapping::Source;
using mapping::Step;
using mapping::StepKind;
using model::FieldType;

model::Date today_local() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  return model::Date{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void trim(std::string& s) {
  std::size_t end = s.size();
  while (end > 0 && is_space(s[end - 1]))
    --end;
  std::size_t begin = 0;
  while (begin < end && is_space(s[begin]))
    ++begin;
  if (end != s.size()) s.resize(end);
  if (begin != 0) s.erase(0, begin);
}

Error field_error(Errc code, std::string rule, std::string message) {
  return make_error(code, std::move(rule), std::move(message));
}

using model::quoted_code;

// Canonical ISO text of a parsed date (and time), written in place without allocating.
void write_iso(const model::DateTime& dt, bool with_time, std::string& out) {
  const auto two = [](char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  out.resize(with_time ? 19 : 10);
  char* p = out.data();
  two(p, dt.date.year / 100);
  two(p + 2, dt.date.year % 100);
  p[4] = '-';
  two(p + 5, dt.date.month);
  p[7] = '-';
  two(p + 8, dt.date.day);
  if (with_time) {
    p[10] = 'T';
    two(p + 11, dt.hour);
    p[13] = ':';
    two(p + 14, dt.minute);
    p[16] = ':';
    two(p + 17, dt.second);
  }
}

}  // namespace

RecordBuilder::RecordBuilder(const mapping::Mapping& mapping, DecodeOptions options, model::Encoding raw_encoding)
    : mapping_(mapping), options_(options), encoding_(raw_encoding) {}

namespace {}  // namespace

Status RecordBuilder::decode_text_slow(std::string_view raw, std::string& out) const {
  if (raw.size() > mapping_.limits.max_field_bytes) {
    return fail(Errc::limit, "limit.field",
                "field is " + std::to_string(raw.size()) + " bytes, over the limit of " +
                    std::to_string(mapping_.limits.max_field_bytes));
  }
  bool ascii = true;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c >= 0x80) {
      ascii = false;
    } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      return fail(Errc::encoding, "text.control_character", "control character (binary data) in text",
                  Origin{{}, 0, static_cast<std::uint32_t>(i + 1)});
    }
  }
  if (ascii || encoding_ == model::Encoding::utf8) {
    if (!ascii) {
      const auto bad = model::find_invalid_utf8(raw);
      if (bad != std::string_view::npos) {
        return fail(Errc::encoding, "encoding.invalid_utf8", "invalid UTF-8 byte sequence",
                    Origin{{}, 0, static_cast<std::uint32_t>(bad + 1)});
      }
    }
    out.assign(raw);
    return {};
  }
  out.clear();
  return model::append_as_utf8(raw, encoding_, out);
}

bool RecordBuilder::apply_step(const Step& step, FieldType type, std::string& value, Error& error) {
  switch (step.kind) {
    case StepKind::trim:
      trim(value);
      return true;
    case StepKind::upper:
      for (auto& c : value) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      return true;
    case StepKind::lower:
      for (auto& c : value) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      return true;
    case StepKind::strip_spaces:
      value.erase(std::remove(value.begin(), value.end(), ' '), value.end());
      return true;
    case StepKind::date: {
      if (value.empty()) return true;
      if (step.compact_date && value.size() == 8 && type != FieldType::timestamp) {
        // yyyymmdd -> yyyy-mm-dd in place, when all eight are digits and the date is real.
        const auto digit = [&](std::size_t i) { return value[i] >= '0' && value[i] <= '9'; };
        if (digit(0) && digit(1) && digit(2) && digit(3) && digit(4) && digit(5) && digit(6) && digit(7)) {
          const auto num = [&](std::size_t i, std::size_t n) {
            int v = 0;
            for (std::size_t k = 0; k < n; ++k)
              v = v * 10 + (value[i + k] - '0');
            return v;
          };
          const model::Date d{num(0, 4), num(4, 2), num(6, 2)};
          if (model::is_valid_date(d)) {
            value.resize(10);
            value[9] = value[7];
            value[8] = value[6];
            value[7] = '-';
            value[6] = value[5];
            value[5] = value[4];
            value[4] = '-';
            parsed_date_ = d;
            have_parsed_date_ = true;
            return true;
          }
        }
      }
      auto parsed = model::parse_datetime(value, step.text);
      if (!parsed) {
        error = std::move(parsed).error();
        error.message += " (expected " + step.text + ")";
        return false;
      }
      write_iso(*parsed, type == FieldType::timestamp, value);
      parsed_date_ = parsed->date;
      have_parsed_date_ = true;
      return true;
    }
    case StepKind::default_value:
      if (value.empty()) value = step.text;
      return true;
    case StepKind::pattern:
      if (!value.empty() && !std::regex_match(value, *step.regex)) {
        error = field_error(Errc::validation, "pattern.mismatch", "value does not match the pattern " + step.text);
        return false;
      }
      return true;
    case StepKind::split: {
      std::size_t start = 0;
      for (std::size_t i = 0; i < step.index && start != std::string::npos; ++i) {
        start = value.find(step.text, start);
        if (start != std::string::npos) start += step.text.size();
      }
      if (start == std::string::npos) {
        value.clear();
        return true;
      }
      const auto end = value.find(step.text, start);
      part_.assign(value, start, end == std::string::npos ? std::string::npos : end - start);
      value.swap(part_);
      return true;
    }
    case StepKind::lookup: {
      if (value.empty()) return true;
      const auto found = step.table->find(step.key_column, value, step.value_column);
      if (found) {
        value.assign(*found);
        return true;
      }
      if (step.lookup_keep_unknown) return true;
      error = field_error(Errc::lookup, "lookup.unknown_code",
                          "unknown code " + quoted_code(value) + " (not in " + step.table->path() + ")");
      return false;
    }
  }
  return true;
}

bool RecordBuilder::validate_type(const model::FieldDef& def, std::string& value, Error& error) const {
  // A <date> step already parsed and checked a date; otherwise the value must be canonical.
  auto ok = model::check_field(def, value, options_.today, have_parsed_date_ ? &parsed_date_ : nullptr);
  if (ok) return true;
  error = std::move(ok).error();
  return false;
}

const std::vector<RecordBuilder::FastField>& RecordBuilder::plan_for(const RecordSpec& spec) {
  for (const auto& [key, plan] : plans_) {
    if (key == &spec) return plan;
  }
  std::vector<FastField> plan;
  std::size_t ordinal = 0;
  const auto& defs = model::entity_def(spec.entity).fields;
  for (const FieldSpec& field : spec.fields) {
    FastField f;
    f.ordinal = ordinal;
    ordinal += field.sources.size();
    f.def = &defs[field.target];
    f.required = field.required;
    const Source& source = field.sources.front();
    f.source = &source;
    bool eligible = field.sources.size() == 1 && source.steps.empty() && field.expect.empty() &&
                    (source.kind == Source::Kind::position || source.kind == Source::Kind::column);
    bool seen_case = false;
    bool seen_date = false;
    for (const Step& step : field.steps) {
      if (seen_date) eligible = false;  // a date conversion must come last
      switch (step.kind) {
        case StepKind::trim:
          break;
        case StepKind::upper:
        case StepKind::lower:
          if (seen_case) eligible = false;
          seen_case = true;
          break;
        case StepKind::default_value:
          break;
        case StepKind::date:
          if (!step.compact_date || (f.def->type != FieldType::date && f.def->type != FieldType::date_of_birth)) {
            eligible = false;
          }
          seen_date = true;
          break;
        default:
          eligible = false;
      }
      f.steps.push_back(&step);
    }
    const FieldType t = f.def->type;
    if (t == FieldType::timestamp) eligible = false;
    if ((t == FieldType::date || t == FieldType::date_of_birth) && !seen_date) eligible = false;
    f.eligible = eligible;
    plan.push_back(std::move(f));
  }
  plans_.emplace_back(&spec, std::move(plan));
  return plans_.back().second;
}

namespace {

bool digits_only(std::string_view s) {
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string_view trim_view(std::string_view v) {
  while (!v.empty() && v.front() == ' ')
    v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ')
    v.remove_suffix(1);
  return v;
}

bool nhs_check_digit_ok(std::string_view v) {
  int sum = 0;
  for (std::size_t i = 0; i < 9; ++i)
    sum += (v[i] - '0') * static_cast<int>(10 - i);
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  return check != 10 && check == v[9] - '0';
}

}  // namespace

bool RecordBuilder::try_fast(const FastField& plan, const Raw& raw_record, std::string& value) {
  std::size_t position = plan.source->position;
  if (plan.source->kind == Source::Kind::column) {
    position = plan.ordinal < raw_record.column_positions.size() ? raw_record.column_positions[plan.ordinal] : 0;
  }
  if (position < 1 || position > raw_record.fields.size()) return false;
  std::string_view v = raw_record.fields[position - 1];
  if (v.size() > mapping_.limits.max_field_bytes || !plain_ascii(v)) return false;
  int case_op = 0;  // 1 upper, -1 lower
  bool defaulted = false;
  bool date = false;
  for (const Step* step : plan.steps) {
    switch (step->kind) {
      case StepKind::trim:
        v = trim_view(v);
        break;
      case StepKind::upper:
        case_op = 1;
        break;
      case StepKind::lower:
        case_op = -1;
        break;
      case StepKind::default_value:
        if (v.empty()) {
          v = step->text;
          defaulted = true;
        }
        break;
      case StepKind::date:
        date = true;
        break;
      default:
        return false;
    }
  }
  if (v.empty()) return !plan.required;  // absent; the general path reports a missing required value
  const auto& def = *plan.def;
  if (date) {
    if (v.size() != 8 || !digits_only(v)) return false;
    const auto num = [&](std::size_t i, std::size_t n) {
      int x = 0;
      for (std::size_t k = 0; k < n; ++k)
        x = x * 10 + (v[i + k] - '0');
      return x;
    };
    const model::Date d{num(0, 4), num(4, 2), num(6, 2)};
    if (!model::is_valid_date(d)) return false;
    if (def.type == FieldType::date_of_birth && !model::check_date_of_birth(d, options_.today)) return false;
    const char iso[10] = {v[0], v[1], v[2], v[3], '-', v[4], v[5], '-', v[6], v[7]};
    value.append(iso, sizeof iso);
    return true;
  }
  // Case changes apply to what came from the file, not to a default the mapping supplied after them.
  if (case_op != 0 && !defaulted) {
    const std::size_t start = value.size();
    value.append(v);
    for (std::size_t i = start; i < value.size(); ++i) {
      char& c = value[i];
      if (case_op > 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (case_op < 0 && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    v = value;
  }
  bool ok = false;
  switch (def.type) {
    case FieldType::text:
      ok = true;
      break;
    case FieldType::enumeration:
      ok = std::find(def.allowed.begin(), def.allowed.end(), v) != def.allowed.end();
      break;
    case FieldType::person_number:
      ok = v.size() == 8 && digits_only(v);
      break;
    case FieldType::assignment_number:
      ok = v.size() >= 10 && v.size() <= 12 && v[8] == '-' && digits_only(v.substr(0, 8)) && digits_only(v.substr(9));
      break;
    case FieldType::nhs_number:
      ok = v.size() == 10 && digits_only(v) && nhs_check_digit_ok(v);
      break;
    case FieldType::ni_number: {
      auto normalised = model::normalise_ni_number(v);
      if (!normalised || *normalised != v) return false;
      ok = true;
      break;
    }
    case FieldType::flag:
      ok = v == "Y" || v == "N";
      break;
    case FieldType::count:
      ok = v.size() <= 18 && digits_only(v);
      break;
    case FieldType::vpd:
      ok = v.size() == 3 && std::all_of(v.begin(), v.end(), [](char c) {
             return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
           });
      break;
    case FieldType::snomed:
      ok = v.size() >= 6 && v.size() <= 18 && digits_only(v);
      break;
    case FieldType::date:
    case FieldType::date_of_birth:
    case FieldType::timestamp:
      ok = false;
      break;
  }
  if (!ok) {
    value.clear();
    return false;
  }
  if (value.empty()) value.append(v);
  return true;
}

bool RecordBuilder::build(const RecordSpec& spec, const Raw& raw_record, std::uint64_t line, const char* line_begin,
                          model::Record& record, std::vector<Error>& errors) {
  record.reset(spec.entity);
  record.record_type = spec.type;
  record.line = line;
  const auto& defs = model::entity_def(spec.entity).fields;
  const std::size_t errors_before = errors.size();

  const auto locate = [&](Error e, const FieldSpec& field, std::string_view raw) {
    e.origin.file = file_;
    e.origin.line = line;
    e.origin.field = field.target_name;
    const bool in_line = line_begin != nullptr && raw.data() != nullptr && raw.data() >= line_begin &&
                         raw.data() <= line_begin + mapping_.limits.max_line_bytes;
    e.origin.column =
        in_line ? static_cast<std::uint32_t>(raw.data() - line_begin) + std::max<std::uint32_t>(e.origin.column, 1) : 0;
    // One bad source value read by several fields (e.g. an unknown local test name feeding antigen,
    // kind and status) is reported once.
    for (std::size_t i = errors_before; i < errors.size(); ++i) {
      if (errors[i].rule == e.rule && errors[i].message == e.message) return;
    }
    errors.push_back(std::move(e));
  };

  const auto& plan = plan_for(spec);
  for (std::size_t f = 0; f < spec.fields.size(); ++f) {
    const FieldSpec& field = spec.fields[f];
    std::string& value = record.values[field.target];
    if (plan[f].eligible) {
      if (try_fast(plan[f], raw_record, value)) continue;
      value.clear();  // the general path below starts again and reports what is wrong
    }
    const auto& def = defs[field.target];
    have_parsed_date_ = false;
    const std::size_t first_ordinal = plan[f].ordinal;
    bool ok = true;
    std::string_view first_raw;
    for (std::size_t s = 0; s < field.sources.size() && ok; ++s) {
      const Source& source = field.sources[s];
      const std::size_t ordinal = first_ordinal + s;
      std::string_view raw;
      switch (source.kind) {
        case Source::Kind::constant:
          raw = source.constant;
          break;
        case Source::Kind::position:
          if (source.position >= 1 && source.position <= raw_record.fields.size()) {
            raw = raw_record.fields[source.position - 1];
          }
          break;
        case Source::Kind::column:
          if (ordinal < raw_record.column_positions.size()) {
            const std::size_t position = raw_record.column_positions[ordinal];
            if (position >= 1 && position <= raw_record.fields.size()) raw = raw_record.fields[position - 1];
          }
          break;
        case Source::Kind::path:
          if (raw_record.fetch != nullptr) raw = (*raw_record.fetch)(source);
          break;
      }
      if (s == 0) first_raw = raw;
      std::string& target = field.sources.size() == 1 ? value : scratch_;
      auto decoded = decode_text(raw, target);
      if (!decoded) {
        locate(std::move(decoded).error(), field, raw);
        ok = false;
        break;
      }
      for (const Step& step : source.steps) {
        if (!apply_step(step, def.type, target, failure_)) {
          locate(std::move(failure_), field, {});
          ok = false;
          break;
        }
      }
      if (!ok || field.sources.size() == 1) break;
      if (field.combine == FieldSpec::Combine::first_non_empty) {
        if (value.empty()) value = scratch_;
      } else {
        if (s > 0) value += field.separator;
        value += scratch_;
      }
    }
    if (!ok) continue;
    for (const Step& step : field.steps) {
      if (!apply_step(step, def.type, value, failure_)) {
        locate(std::move(failure_), field, first_raw);
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    if (value.empty()) {
      if (field.required) {
        locate(field_error(Errc::validation, "field.required", "required field is empty"), field, first_raw);
      }
      continue;
    }
    if (!field.expect.empty() && value != field.expect) {
      locate(field_error(Errc::structure, "header.unexpected_value",
                         quoted_code(value) + " where the interface requires " + quoted_code(field.expect)),
             field, first_raw);
      continue;
    }
    if (!validate_type(def, value, failure_)) locate(std::move(failure_), field, first_raw);
  }
  if (errors.size() == errors_before) check_record_rules(record, line, errors);
  return errors.size() == errors_before;
}

void RecordBuilder::check_record_rules(model::Record& record, std::uint64_t line, std::vector<Error>& errors) const {
  using model::Entity;
  if (record.entity == Entity::assignment) {
    static const std::size_t kStart = *model::field_index(Entity::assignment, "start_date");
    static const std::size_t kEnd = *model::field_index(Entity::assignment, "end_date");
    const std::string_view start = record.values[kStart];
    const std::string_view end = record.values[kEnd];
    if (!start.empty() && !end.empty() && end < start) {  // ISO dates compare as text
      errors.push_back(make_error(Errc::validation, "date.order", "end date is before start date",
                                  Origin{file_, line, 0, "end_date"}));
    }
  } else if (record.entity == Entity::immunisation) {
    static const std::size_t kAntigen = *model::field_index(Entity::immunisation, "antigen");
    static const std::size_t kSnomed = *model::field_index(Entity::immunisation, "snomed_code");
    const std::string_view antigen = record.values[kAntigen];
    const std::string_view snomed = record.values[kSnomed];
    const auto expected = model::antigen_target_disease(antigen);
    if (!snomed.empty() && expected && snomed != *expected) {
      errors.push_back(make_error(Errc::validation, "snomed_code.antigen",
                                  "SNOMED code " + std::string(snomed) + " is not the target disease of " +
                                      std::string(antigen) + " (" + std::string(*expected) + ")",
                                  Origin{file_, line, 0, "snomed_code"}));
    }
  }
}

}  // namespace esrsync::codec
