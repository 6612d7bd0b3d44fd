#include "esrsync/model/fields.hpp"

#include <algorithm>

namespace esrsync::model {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string quoted_code(std::string_view v) {
  std::string out = "'";
  for (const char c : v.substr(0, 64))
    out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (v.size() > 64) out += "...";
  out += "'";
  return out;
}

Status check_field(const FieldDef& def, std::string& value, const Date& today, const Date* parsed_date) {
  switch (def.type) {
    case FieldType::text:
      return {};
    case FieldType::enumeration:
      if (std::find(def.allowed.begin(), def.allowed.end(), value) == def.allowed.end()) {
        std::string allowed;
        for (const auto a : def.allowed) {
          if (!allowed.empty()) allowed += ", ";
          allowed += a;
        }
        return fail(Errc::validation, "enum.value", quoted_code(value) + " is not one of " + allowed);
      }
      return {};
    case FieldType::person_number:
      if (value.size() != 8 || !all_digits(value)) {
        return fail(Errc::validation, "person_number.format", "person number must be 8 digits");
      }
      return {};
    case FieldType::assignment_number: {
      const auto dash = value.find('-');
      if (dash != 8 || !all_digits(std::string_view(value).substr(0, 8)) || value.size() < 10 || value.size() > 12 ||
          !all_digits(std::string_view(value).substr(9))) {
        return fail(Errc::validation, "assignment_number.format",
                    "assignment number must be 8 digits, '-', and 1 to 3 digits (e.g. 12345678-2)");
      }
      return {};
    }
    case FieldType::nhs_number:
    case FieldType::ni_number: {
      auto normalised = def.type == FieldType::nhs_number ? normalise_nhs_number(value) : normalise_ni_number(value);
      if (!normalised) return fail(std::move(normalised).error());
      value = std::move(*normalised);
      return {};
    }
    case FieldType::date:
    case FieldType::date_of_birth: {
      // A <date> step already parsed and checked it; otherwise the value must be canonical ISO.
      auto date = parsed_date != nullptr ? Result<Date>(*parsed_date) : parse_iso_date(value);
      if (!date) {
        Error e = std::move(date).error();
        e.message += " (canonical dates are yyyy-mm-dd; declare the source's <date format=...>)";
        return fail(std::move(e));
      }
      if (def.type == FieldType::date_of_birth) {
        if (auto in_range = check_date_of_birth(*date, today); !in_range) return in_range;
      }
      return {};
    }
    case FieldType::timestamp: {
      auto ts = parse_iso_timestamp(value);
      if (!ts) return fail(std::move(ts).error());
      return {};
    }
    case FieldType::flag:
      if (value != "Y" && value != "N") {
        return fail(Errc::validation, "flag.value", quoted_code(value) + " is not Y or N");
      }
      return {};
    case FieldType::count:
      if (!all_digits(value) || value.size() > 18) {
        return fail(Errc::validation, "count.format", "must be a non-negative whole number");
      }
      return {};
    case FieldType::vpd:
      if (value.size() != 3 || !std::all_of(value.begin(), value.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
          })) {
        return fail(Errc::validation, "vpd.format", "VPD must be 3 letters or digits");
      }
      return {};
    case FieldType::snomed:
      if (value.size() < 6 || value.size() > 18 || !all_digits(value)) {
        return fail(Errc::validation, "snomed.format", "SNOMED CT concept id must be 6 to 18 digits");
      }
      return {};
  }
  return {};
}

}  // namespace esrsync::model
