#pragma once
// Checking one canonical field value against its type (DOMAIN.md "Validation rules"): the rule
// every decoder applies after a mapping's transforms, so every source validates alike. NHS and NI
// numbers are normalised in place (spaces removed, upper case). Pure functions.

#include <string>
#include <string_view>

#include "esrsync/core/result.hpp"
#include "esrsync/model/schema.hpp"
#include "esrsync/model/validators.hpp"

namespace esrsync::model {

// Errors (Errc::validation unless the type's own validator says otherwise): enum.value,
// person_number.format, assignment_number.format, nhs_number.*, ni_number.*, date.*,
// date_of_birth.*, flag.value, count.format, vpd.format, snomed.format. `parsed_date`: the date
// a <date> step already parsed (the value is then not parsed again).
Status check_field(const FieldDef& def, std::string& value, const Date& today, const Date* parsed_date = nullptr);

// A code or enumerated value quoted for a message, capped at 64 characters and with control
// characters replaced (codes are not personal data, but junk must not flood a report).
[[nodiscard]] std::string quoted_code(std::string_view value);

}  // namespace esrsync::model
