#pragma once
// Validators for every rule of DOMAIN.md "Validation rules". Pure functions: no I/O, no globals,
// safe from any thread. Each failure is an Error with code Errc::validation (Errc::encoding for
// byte-level text errors) and a stable rule id; the caller fills in Error::origin (file, line,
// field). Messages never echo the offending value, which may be personal data.
//
// Rule ids:
//   nhs_number.format       not 10 digits after removing spaces
//   nhs_number.check_digit  Modulus 11 check digit wrong, or computes to 10 (never issued)
//   ni_number.format        not 2 letters + 6 digits + optional suffix
//   ni_number.prefix        first/second letter not allowed, or prefix never issued (BG GB NK KN NT ZZ)
//   ni_number.temporary     temporary number (TN prefix)
//   ni_number.suffix        suffix not A, B, C or D
//   date.format             text does not match the declared date format
//   date.calendar           not a real calendar date (e.g. 31 April, 29 February in a non-leap year)
//   date_of_birth.future    date of birth after today
//   date_of_birth.too_old   date of birth more than 100 years before today
//   date.order              end date before start date

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "esrsync/core/result.hpp"

namespace esrsync::model {

struct Date {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
  auto operator<=>(const Date&) const = default;
};

struct DateTime {
  Date date;
  int hour = 0;
  int minute = 0;
  int second = 0;
  auto operator<=>(const DateTime&) const = default;
};

// Inline: every decoded date goes through them.
[[nodiscard]] inline bool is_leap_year(int year) noexcept {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}
// 0 for a month outside 1..12.
[[nodiscard]] inline int days_in_month(int year, int month) noexcept {
  constexpr int kDays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && is_leap_year(year) ? 29 : kDays[month];
}
// Year 1..9999, a real calendar date.
[[nodiscard]] inline bool is_valid_date(const Date& d) noexcept {
  return d.year >= 1 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
         d.day <= days_in_month(d.year, d.month);
}

// Parses `text` by a strftime-like `format`: %Y (4 digits), %m, %d, %H, %M, %S (2 digits each),
// %% and literal characters; every other % sequence is a format error (Errc::mapping,
// rule "date.pattern"). The text must match the whole format. Missing time parts are 0.
// Errors: date.format, date.calendar (and a time outside 00:00:00..23:59:59 is date.format).
Result<DateTime> parse_datetime(std::string_view text, std::string_view format);
// True when `format` is a valid pattern for parse_datetime/format_datetime.
[[nodiscard]] bool is_valid_date_pattern(std::string_view format) noexcept;
// The inverse: formats `value` by `format` (same directives). `format` must be valid.
[[nodiscard]] std::string format_datetime(const DateTime& value, std::string_view format);

// Canonical text forms: yyyy-mm-dd and yyyy-mm-ddThh:mm:ss.
[[nodiscard]] std::string to_iso(const Date& d);
[[nodiscard]] std::string to_iso(const DateTime& dt);
// The UTC calendar time of a Unix time in milliseconds (for timestamps esrsync writes).
[[nodiscard]] DateTime utc_from_ms(std::int64_t ms);
// "yyyy-mm-ddThh:mm:ssZ": an ISO 8601 instant in UTC (FHIR instant, JSON output).
[[nodiscard]] std::string utc_instant(std::int64_t ms);
Result<Date> parse_iso_date(std::string_view text);           // date.format / date.calendar
Result<DateTime> parse_iso_timestamp(std::string_view text);  // date.format / date.calendar

// NHS number: spaces removed, 10 digits, Modulus 11 (weights 10..2; 11 -> 0; 10 -> invalid).
// Returns the normalised 10-digit string.
Result<std::string> normalise_nhs_number(std::string_view text);

// NI number: spaces removed, upper-cased, then the DOMAIN.md rules. Suffix may be blank.
// Returns the normalised form (e.g. "AB123456C" or "AB123456").
Result<std::string> normalise_ni_number(std::string_view text);

// Date of birth: not after `today`, not more than 100 years before `today` (a person born exactly
// 100 years ago today is accepted).
Status check_date_of_birth(const Date& dob, const Date& today);

// end_date before start_date is an error (equal is fine).
Status check_date_order(const Date& start, const Date& end);

}  // namespace esrsync::model
