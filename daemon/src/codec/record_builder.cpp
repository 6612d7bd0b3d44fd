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
    : mapping_(mapping),
      options_(options),
      encoding_(raw_encoding),
      today_number_(options.today.year * 10000 + options.today.month * 100 + options.today.day) {}

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
    f.target = field.target;
    ordinal += field.sources.size();
    const model::FieldDef& def = defs[field.target];
    f.type = def.type;
    f.allowed = def.allowed;
    f.required = field.required;
    const Source& source = field.sources.front();
    f.column = source.kind == Source::Kind::column;
    f.position = source.position;
    bool eligible = field.sources.size() == 1 && source.steps.empty() && field.expect.empty() &&
                    (source.kind == Source::Kind::position || source.kind == Source::Kind::column);
    // Compiled to: trim, default, trim again, case, date (a date conversion must come last, at most
    // one default and one case change). Trimming is idempotent, so any run of trims before the
    // default is one trim, any after it another.
    bool seen_case = false;
    for (const Step& step : field.steps) {
      if (f.date) eligible = false;
      switch (step.kind) {
        case StepKind::trim:
          (f.has_default ? f.trim_after : f.trim) = true;
          break;
        case StepKind::upper:
        case StepKind::lower:
          if (seen_case) eligible = false;
          seen_case = true;
          f.case_op = step.kind == StepKind::upper ? 1 : -1;
          break;
        case StepKind::default_value:
          if (f.has_default) eligible = false;
          f.has_default = true;
          f.default_text = step.text;
          break;
        case StepKind::date:
          if (!step.compact_date || (def.type != FieldType::date && def.type != FieldType::date_of_birth)) {
            eligible = false;
          }
          f.date = true;
          break;
        default:
          eligible = false;
      }
    }
    if (def.type == FieldType::timestamp) eligible = false;
    if ((def.type == FieldType::date || def.type == FieldType::date_of_birth) && !f.date) eligible = false;
    if (eligible) {
      const bool simple = !f.has_default && !f.trim_after && f.case_op == 0;
      if (!simple || (f.date && f.trim)) {
        f.fn = &fast_steps;
      } else if (f.date) {
        f.fn = def.type == FieldType::date_of_birth ? &fast_date<true> : &fast_date<false>;
      } else {
        f.fn = f.trim ? simple_for<true>(def.type) : simple_for<false>(def.type);
      }
    }
    plan.push_back(f);
  }
  plans_.emplace_back(&spec, std::move(plan));
  return plans_.back().second;
}

namespace {

// Every byte an ASCII digit; eight at a time (a byte is a digit when its high nibble is 3 and
// adding 6 leaves it 3).
[[gnu::always_inline]] inline bool digits_only(std::string_view s) {
  constexpr std::uint64_t kHigh = 0xF0F0F0F0F0F0F0F0ULL;
  constexpr std::uint64_t kThrees = 0x3030303030303030ULL;
  constexpr std::uint64_t kSixes = 0x0606060606060606ULL;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, 8);
    if ((w & kHigh) != kThrees || ((w + kSixes) & kHigh) != kThrees) return false;
  }
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
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

bool upper_letter(char c) {
  return c >= 'A' && c <= 'Z';
}

// An NI number already in canonical form (upper case, no spaces) that model::normalise_ni_number
// accepts unchanged; anything else is left to it (it reports the rule broken).
bool canonical_ni_ok(std::string_view v) {
  if (v.size() != 8 && v.size() != 9) return false;
  if (!upper_letter(v[0]) || !upper_letter(v[1]) || !digits_only(v.substr(2, 6))) return false;
  if (v.size() == 9 && (v[8] < 'A' || v[8] > 'D')) return false;
  constexpr std::uint32_t kBadFirst = (1U << ('D' - 'A')) | (1U << ('F' - 'A')) | (1U << ('I' - 'A')) |
                                      (1U << ('Q' - 'A')) | (1U << ('U' - 'A')) | (1U << ('V' - 'A'));
  constexpr std::uint32_t kBadSecond = kBadFirst | (1U << ('O' - 'A'));
  if ((kBadFirst >> (v[0] - 'A')) & 1U) return false;
  if ((kBadSecond >> (v[1] - 'A')) & 1U) return false;
  const auto prefix = static_cast<unsigned>((v[0] << 8) | v[1]);
  constexpr auto p = [](char a, char b) { return static_cast<unsigned>((a << 8) | b); };
  switch (prefix) {
    case p('T', 'N'):
    case p('B', 'G'):
    case p('G', 'B'):
    case p('N', 'K'):
    case p('K', 'N'):
    case p('N', 'T'):
    case p('Z', 'Z'):
      return false;
    default:
      return true;
  }
}

bool one_of(std::string_view v, std::span<const std::string_view> allowed) {
  for (const std::string_view a : allowed) {
    if (same_short(a, v)) return true;
  }
  return false;
}

// The canonical type check of the fast path, without allocating; accepts only values
// model::check_field accepts unchanged (dates are checked where they are parsed).
template <FieldType kType>
bool type_ok(std::string_view v, std::span<const std::string_view> allowed) {
  if constexpr (kType == FieldType::text) {
    return true;
  } else if constexpr (kType == FieldType::enumeration) {
    return one_of(v, allowed);
  } else if constexpr (kType == FieldType::person_number) {
    return v.size() == 8 && digits_only(v);
  } else if constexpr (kType == FieldType::assignment_number) {
    return v.size() >= 10 && v.size() <= 12 && v[8] == '-' && digits_only(v.substr(0, 8)) && digits_only(v.substr(9));
  } else if constexpr (kType == FieldType::nhs_number) {
    return v.size() == 10 && digits_only(v) && nhs_check_digit_ok(v);
  } else if constexpr (kType == FieldType::ni_number) {
    return canonical_ni_ok(v);
  } else if constexpr (kType == FieldType::flag) {
    return v.size() == 1 && (v[0] == 'Y' || v[0] == 'N');
  } else if constexpr (kType == FieldType::count) {
    return v.size() <= 18 && digits_only(v);
  } else if constexpr (kType == FieldType::vpd) {
    return v.size() == 3 && std::all_of(v.begin(), v.end(), [](char c) {
             return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
           });
  } else if constexpr (kType == FieldType::snomed) {
    return v.size() >= 6 && v.size() <= 18 && digits_only(v);
  } else {
    return false;  // dates and timestamps
  }
}

bool type_ok(FieldType type, std::string_view v, std::span<const std::string_view> allowed) {
  switch (type) {
    case FieldType::text:
      return type_ok<FieldType::text>(v, allowed);
    case FieldType::enumeration:
      return type_ok<FieldType::enumeration>(v, allowed);
    case FieldType::person_number:
      return type_ok<FieldType::person_number>(v, allowed);
    case FieldType::assignment_number:
      return type_ok<FieldType::assignment_number>(v, allowed);
    case FieldType::nhs_number:
      return type_ok<FieldType::nhs_number>(v, allowed);
    case FieldType::ni_number:
      return type_ok<FieldType::ni_number>(v, allowed);
    case FieldType::flag:
      return type_ok<FieldType::flag>(v, allowed);
    case FieldType::count:
      return type_ok<FieldType::count>(v, allowed);
    case FieldType::vpd:
      return type_ok<FieldType::vpd>(v, allowed);
    case FieldType::snomed:
      return type_ok<FieldType::snomed>(v, allowed);
    case FieldType::date:
    case FieldType::date_of_birth:
    case FieldType::timestamp:
      return false;
  }
  return false;
}

}  // namespace

bool RecordBuilder::plain_ascii_within_limit(std::string_view v) const {
  return v.size() <= mapping_.limits.max_field_bytes && plain_ascii(v);
}

[[gnu::always_inline]] inline bool RecordBuilder::fast_source(const FastField& plan, const Raw& raw_record,
                                                              std::string_view& v) const {
  std::size_t position = plan.position;
  if (plan.column) {
    position = plan.ordinal < raw_record.column_positions.size() ? raw_record.column_positions[plan.ordinal] : 0;
  }
  if (position - 1 >= raw_record.fields.size()) return false;  // position 0 wraps round
  v = raw_record.fields[position - 1];
  return raw_record.plain_ascii ? v.size() <= mapping_.limits.max_field_bytes : plain_ascii_within_limit(v);
}

// The commonest fields (a value, perhaps trimmed, checked against its type) as one routine per
// combination, chosen when the plan is compiled: no flag is tested per record.
template <bool kTrim, FieldType kType>
bool RecordBuilder::fast_simple(const RecordBuilder& self, const FastField& plan, const Raw& raw_record,
                                model::FieldValues& values) {
  std::string_view v;
  if (!self.fast_source(plan, raw_record, v)) return false;
  if constexpr (kTrim) v = trim_view(v);
  if (v.empty()) return !plan.required;  // absent; the general path reports a missing required value
  if (!type_ok<kType>(v, plan.allowed)) return false;
  self.put(values, plan.target, v);
  return true;
}

template <bool kTrim>
RecordBuilder::FastFn RecordBuilder::simple_for(FieldType type) {
  switch (type) {
    case FieldType::text:
      return &fast_simple<kTrim, FieldType::text>;
    case FieldType::enumeration:
      return &fast_simple<kTrim, FieldType::enumeration>;
    case FieldType::person_number:
      return &fast_simple<kTrim, FieldType::person_number>;
    case FieldType::assignment_number:
      return &fast_simple<kTrim, FieldType::assignment_number>;
    case FieldType::nhs_number:
      return &fast_simple<kTrim, FieldType::nhs_number>;
    case FieldType::ni_number:
      return &fast_simple<kTrim, FieldType::ni_number>;
    case FieldType::flag:
      return &fast_simple<kTrim, FieldType::flag>;
    case FieldType::count:
      return &fast_simple<kTrim, FieldType::count>;
    case FieldType::vpd:
      return &fast_simple<kTrim, FieldType::vpd>;
    case FieldType::snomed:
      return &fast_simple<kTrim, FieldType::snomed>;
    case FieldType::date:
    case FieldType::date_of_birth:
    case FieldType::timestamp:
      break;
  }
  return &fast_steps;
}

// A yyyymmdd date (of birth when `dob`) written as yyyy-mm-dd.
[[gnu::always_inline]] inline bool RecordBuilder::put_compact_date(bool dob, std::string_view v, std::size_t index,
                                                                   model::FieldValues& values) const {
  if (v.size() != 8 || !digits_only(v)) return false;
  const auto num = [&](std::size_t i, std::size_t n) {
    int x = 0;
    for (std::size_t k = 0; k < n; ++k)
      x = x * 10 + (v[i + k] - '0');
    return x;
  };
  const model::Date d{num(0, 4), num(4, 2), num(6, 2)};
  if (!model::is_valid_date(d)) return false;
  if (dob) {
    // Born after the start of the year 99 years ago and not after today: within the 100 years
    // for certain; anything nearer the edges is decided by the validator itself.
    const int number = d.year * 10000 + d.month * 100 + d.day;
    const bool clearly_ok = number <= today_number_ && d.year > options_.today.year - 100;
    if (!clearly_ok && !model::check_date_of_birth(d, options_.today)) return false;
  }
  char* out = values.prepare(index, 10);
  model::copy_short(out, v.data(), 4);
  out[4] = '-';
  out[5] = v[4];
  out[6] = v[5];
  out[7] = '-';
  out[8] = v[6];
  out[9] = v[7];
  return true;
}

// A field holding only a yyyymmdd date.
template <bool kDob>
bool RecordBuilder::fast_date(const RecordBuilder& self, const FastField& plan, const Raw& raw_record,
                              model::FieldValues& values) {
  std::string_view v;
  if (!self.fast_source(plan, raw_record, v)) return false;
  if (v.empty()) return !plan.required;
  return self.put_compact_date(kDob, v, plan.target, values);
}

bool RecordBuilder::fast_steps(const RecordBuilder& self, const FastField& plan, const Raw& raw_record,
                               model::FieldValues& values) {
  return self.try_fast(plan, raw_record, values);
}

// Sets values[index] when the field is one the fast path accepts; otherwise returns false (the
// value is then empty).
bool RecordBuilder::try_fast(const FastField& plan, const Raw& raw_record, model::FieldValues& values) const {
  const std::size_t index = plan.target;
  std::string_view v;
  if (!fast_source(plan, raw_record, v)) return false;
  if (plan.trim) v = trim_view(v);
  bool defaulted = false;
  if (plan.has_default && v.empty()) {
    v = plan.default_text;
    defaulted = true;
  }
  if (plan.trim_after) v = trim_view(v);
  if (v.empty()) return !plan.required;  // absent; the general path reports a missing required value
  if (plan.date) return put_compact_date(plan.type == FieldType::date_of_birth, v, plan.target, values);
  // Case changes apply to what came from the file, not to a default the mapping supplied after them.
  bool written = false;
  if (plan.case_op != 0 && !defaulted) {
    char* out = values.prepare(index, v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      char c = v[i];
      if (plan.case_op > 0 && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (plan.case_op < 0 && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      out[i] = c;
    }
    v = std::string_view(out, v.size());
    written = true;
  }
  if (!type_ok(plan.type, v, plan.allowed)) {
    values.clear(index);
    return false;
  }
  if (!written) put(values, index, v);
  return true;
}

bool RecordBuilder::build(const RecordSpec& spec, const Raw& raw_record, std::uint64_t line, const char* line_begin,
                          model::Record& record, std::vector<Error>& errors) {
  const auto& defs = model::entity_def(spec.entity).fields;
  record.entity = spec.entity;  // as record.reset() would, keeping record_type when it is the same
  record.values.reset(defs.size());
  if (!same_short(record.record_type, spec.type)) record.record_type = spec.type;
  record.line = line;
  adopted_ = raw_record.line;
  adopted_base_ = adopted_.empty() ? 0 : record.values.adopt(adopted_);
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

  // The general path: every source kind, step and check, with located errors. Leaves the field's
  // value (complete, or as far as it got) in value_.
  const auto general = [&](const FieldSpec& field, std::size_t first_ordinal) {
    std::string& value = value_;
    value.clear();
    const auto& def = defs[field.target];
    have_parsed_date_ = false;
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
    if (!ok) return;
    for (const Step& step : field.steps) {
      if (!apply_step(step, def.type, value, failure_)) {
        locate(std::move(failure_), field, first_raw);
        ok = false;
        break;
      }
    }
    if (!ok) return;
    if (value.empty()) {
      if (field.required) {
        locate(field_error(Errc::validation, "field.required", "required field is empty"), field, first_raw);
      }
      return;
    }
    if (!field.expect.empty() && value != field.expect) {
      locate(field_error(Errc::structure, "header.unexpected_value",
                         quoted_code(value) + " where the interface requires " + quoted_code(field.expect)),
             field, first_raw);
      return;
    }
    if (!validate_type(def, value, failure_)) locate(std::move(failure_), field, first_raw);
  };

  const auto& plan = plan_for(spec);
  const FastField* const fast = plan.data();
  for (std::size_t f = 0, n = plan.size(); f < n; ++f) {
    if (fast[f].fn != nullptr && fast[f].fn(*this, fast[f], raw_record, record.values)) continue;
    const FieldSpec& field = spec.fields[f];
    general(field, fast[f].ordinal);  // starts again, and reports what is wrong
    record.values.set(field.target, value_);
  }
  adopted_ = {};  // a view of the decoder's buffer: not kept past this record
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
