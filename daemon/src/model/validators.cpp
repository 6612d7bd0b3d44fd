#include "esrsync/model/validators.hpp"

#include <ctime>

#include <array>
#include <cstddef>
#include <cstdint>

// DOMAIN.md "Validation rules". Everything here runs once or more per record, so the valid path
// avoids heap allocation (normalised identifiers fit std::string's small buffer) and regex.
// Messages name the rule that was broken and never the value (it may be personal data).

namespace esrsync::model {
namespace {

constexpr int kDobMaxAgeYears = 100;
constexpr std::size_t kNhsLength = 10;
constexpr std::size_t kNiLengthNoSuffix = 8;
constexpr std::size_t kNiLengthWithSuffix = 9;

constexpr bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
constexpr bool is_upper(char c) noexcept {
  return c >= 'A' && c <= 'Z';
}
constexpr char to_upper(char c) noexcept {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
constexpr int digit_value(char c) noexcept {
  return c - '0';
}

// ---------------------------------------------------------------------------------------------
// Date patterns

enum class Directive : std::uint8_t { year, month, day, hour, minute, second, percent, invalid };

constexpr Directive directive_of(char c) noexcept {
  switch (c) {
    case 'Y':
      return Directive::year;
    case 'm':
      return Directive::month;
    case 'd':
      return Directive::day;
    case 'H':
      return Directive::hour;
    case 'M':
      return Directive::minute;
    case 'S':
      return Directive::second;
    case '%':
      return Directive::percent;
    default:
      return Directive::invalid;
  }
}

constexpr std::size_t width_of(Directive d) noexcept {
  return d == Directive::year ? 4 : 2;
}

// A pattern is valid when every % sequence is one of the documented directives, each field
// directive appears at most once (a repeated %d would make the parsed value ambiguous), and %Y,
// %m and %d are all present: parse_datetime returns a calendar date, and a pattern without one of
// them could never produce a valid one, so it is rejected when the mapping is loaded instead of
// failing on every record. Time directives are optional (missing parts are 0).
bool pattern_ok(std::string_view format) noexcept {
  std::array<int, 6> seen{};
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') continue;
    if (i + 1 >= format.size()) return false;  // a lone trailing '%'
    const Directive d = directive_of(format[++i]);
    if (d == Directive::invalid) return false;
    if (d == Directive::percent) continue;
    if (++seen[static_cast<std::size_t>(d)] > 1) return false;
  }
  return seen[static_cast<std::size_t>(Directive::year)] == 1 &&
         seen[static_cast<std::size_t>(Directive::month)] == 1 && seen[static_cast<std::size_t>(Directive::day)] == 1;
}

Unexpected format_error() {
  return fail(Errc::validation, "date.format", "date does not match the declared date format");
}
Unexpected calendar_error() {
  return fail(Errc::validation, "date.calendar", "not a real calendar date");
}

// Appends `value` in decimal, zero-padded to at least `width` digits.
void append_padded(std::string& out, int value, std::size_t width) {
  std::array<char, 16> buf{};
  std::size_t n = 0;
  const bool negative = value < 0;
  // Work in unsigned so INT_MIN does not overflow.
  unsigned v = negative ? 0U - static_cast<unsigned>(value) : static_cast<unsigned>(value);
  do {
    buf[n++] = static_cast<char>('0' + v % 10U);
    v /= 10U;
  } while (v != 0U);
  if (negative) out += '-';
  for (std::size_t i = n; i < width; ++i)
    out += '0';
  while (n > 0)
    out += buf[--n];
}

// The date a person born on `dob` reaches `years` years of age. Someone born on 29 February
// reaches an anniversary in a non-leap year on 1 March (the usual UK convention for leap-day
// births), so the anniversary is always a real date and comparisons stay simple.
Date anniversary(const Date& dob, int years) noexcept {
  Date a{dob.year + years, dob.month, dob.day};
  if (a.month == 2 && a.day == 29 && !is_leap_year(a.year)) {
    a.month = 3;
    a.day = 1;
  }
  return a;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Calendar

// ---------------------------------------------------------------------------------------------
// Parsing and formatting by pattern

bool is_valid_date_pattern(std::string_view format) noexcept {
  return pattern_ok(format);
}

Result<DateTime> parse_datetime(std::string_view text, std::string_view format) {
  if (!pattern_ok(format)) {
    return fail(Errc::mapping, "date.pattern",
                "invalid date pattern (allowed: %Y %m %d once each, %H %M %S at most once, %% and literals)");
  }
  DateTime out;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < format.size(); ++i) {
    char lit = format[i];
    if (lit == '%') {
      const Directive d = directive_of(format[++i]);  // pattern_ok guarantees a following char
      if (d != Directive::percent) {
        const std::size_t width = width_of(d);
        if (text.size() - pos < width) return format_error();
        int value = 0;
        for (std::size_t k = 0; k < width; ++k) {
          const char c = text[pos + k];
          if (!is_digit(c)) return format_error();
          value = value * 10 + digit_value(c);
        }
        pos += width;
        switch (d) {
          case Directive::year:
            out.date.year = value;
            break;
          case Directive::month:
            out.date.month = value;
            break;
          case Directive::day:
            out.date.day = value;
            break;
          case Directive::hour:
            out.hour = value;
            break;
          case Directive::minute:
            out.minute = value;
            break;
          case Directive::second:
            out.second = value;
            break;
          case Directive::percent:
          case Directive::invalid:
            break;  // excluded above and by pattern_ok
        }
        continue;
      }
      lit = '%';
    }
    if (pos >= text.size() || text[pos] != lit) return format_error();
    ++pos;
  }
  if (pos != text.size()) return format_error();  // trailing characters
  // No leap seconds: ESR and OH timestamps never carry them.
  if (out.hour > 23 || out.minute > 59 || out.second > 59) return format_error();
  if (!is_valid_date(out.date)) return calendar_error();
  return out;
}

std::string format_datetime(const DateTime& value, std::string_view format) {
  std::string out;
  out.reserve(format.size() + 8);
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    // An invalid pattern is a caller error; emit it literally rather than crash (STYLE.md rule 7:
    // a mapping is operator input).
    if (c != '%' || i + 1 >= format.size()) {
      out += c;
      continue;
    }
    const char next = format[i + 1];
    const Directive d = directive_of(next);
    switch (d) {
      case Directive::year:
        append_padded(out, value.date.year, 4);
        break;
      case Directive::month:
        append_padded(out, value.date.month, 2);
        break;
      case Directive::day:
        append_padded(out, value.date.day, 2);
        break;
      case Directive::hour:
        append_padded(out, value.hour, 2);
        break;
      case Directive::minute:
        append_padded(out, value.minute, 2);
        break;
      case Directive::second:
        append_padded(out, value.second, 2);
        break;
      case Directive::percent:
        out += '%';
        break;
      case Directive::invalid:
        out += '%';
        out += next;
        break;
    }
    ++i;
  }
  return out;
}

std::string to_iso(const Date& d) {
  std::string out;
  out.reserve(10);
  append_padded(out, d.year, 4);
  out += '-';
  append_padded(out, d.month, 2);
  out += '-';
  append_padded(out, d.day, 2);
  return out;
}

std::string to_iso(const DateTime& dt) {
  std::string out = to_iso(dt.date);
  out.reserve(19);
  out += 'T';
  append_padded(out, dt.hour, 2);
  out += ':';
  append_padded(out, dt.minute, 2);
  out += ':';
  append_padded(out, dt.second, 2);
  return out;
}

DateTime utc_from_ms(std::int64_t ms) {
  const auto seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return DateTime{{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday}, tm.tm_hour, tm.tm_min, tm.tm_sec};
}

std::string utc_instant(std::int64_t ms) {
  return to_iso(utc_from_ms(ms)) + "Z";
}

Result<Date> parse_iso_date(std::string_view text) {
  auto r = parse_datetime(text, "%Y-%m-%d");
  if (!r) return fail(std::move(r).error());
  return r->date;
}

Result<DateTime> parse_iso_timestamp(std::string_view text) {
  return parse_datetime(text, "%Y-%m-%dT%H:%M:%S");
}

// ---------------------------------------------------------------------------------------------
// NHS number

Result<std::string> normalise_nhs_number(std::string_view text) {
  std::array<char, kNhsLength> digits{};
  std::size_t n = 0;
  for (const char c : text) {
    if (c == ' ') continue;  // DOMAIN.md: spaces are allowed in input and removed
    if (!is_digit(c) || n == kNhsLength) {
      return fail(Errc::validation, "nhs_number.format", "NHS number must be 10 digits (spaces allowed)");
    }
    digits[n++] = c;
  }
  if (n != kNhsLength) {
    return fail(Errc::validation, "nhs_number.format", "NHS number must be 10 digits (spaces allowed)");
  }
  // Modulus 11: weights 10..2 on the first nine digits; check = 11 - (sum mod 11); 11 -> 0;
  // 10 -> the number is never issued.
  int sum = 0;
  for (std::size_t i = 0; i < kNhsLength - 1; ++i)
    sum += digit_value(digits[i]) * static_cast<int>(10 - i);
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  if (check == 10) {
    return fail(Errc::validation, "nhs_number.check_digit",
                "NHS number check digit computes to 10 (Modulus 11), so the number cannot be valid");
  }
  if (check != digit_value(digits[kNhsLength - 1])) {
    return fail(Errc::validation, "nhs_number.check_digit", "NHS number check digit does not match (Modulus 11)");
  }
  return std::string(digits.data(), digits.size());
}

// ---------------------------------------------------------------------------------------------
// NI number

Result<std::string> normalise_ni_number(std::string_view text) {
  constexpr std::string_view kFormatMessage = "NI number must be 2 letters, 6 digits and an optional suffix letter";
  std::array<char, kNiLengthWithSuffix> buf{};
  std::size_t n = 0;
  for (const char c : text) {
    if (c == ' ') continue;
    if (n == buf.size()) return fail(Errc::validation, "ni_number.format", std::string(kFormatMessage));
    buf[n++] = to_upper(c);
  }
  bool shape = (n == kNiLengthNoSuffix || n == kNiLengthWithSuffix) && is_upper(buf[0]) && is_upper(buf[1]);
  for (std::size_t i = 2; shape && i < kNiLengthNoSuffix; ++i)
    shape = is_digit(buf[i]);
  if (shape && n == kNiLengthWithSuffix) shape = is_upper(buf[kNiLengthNoSuffix]);
  if (!shape) return fail(Errc::validation, "ni_number.format", std::string(kFormatMessage));

  const char first = buf[0];
  const char second = buf[1];
  // TN + date of birth is a temporary reference, not an NI number; reported on its own so the
  // operator knows to ask for the permanent number.
  if (first == 'T' && second == 'N') {
    return fail(Errc::validation, "ni_number.temporary", "temporary NI number (TN prefix) is not accepted");
  }
  constexpr std::string_view kBadFirst = "DFIQUV";
  constexpr std::string_view kBadSecond = "DFIQUVO";
  if (kBadFirst.find(first) != std::string_view::npos) {
    return fail(Errc::validation, "ni_number.prefix", "NI number first letter is not allowed");
  }
  if (kBadSecond.find(second) != std::string_view::npos) {
    return fail(Errc::validation, "ni_number.prefix", "NI number second letter is not allowed");
  }
  // TN is never issued either, but is caught above as a temporary number.
  constexpr std::array<std::string_view, 6> kNeverIssued{"BG", "GB", "NK", "KN", "NT", "ZZ"};
  const std::string_view prefix(buf.data(), 2);
  for (const std::string_view p : kNeverIssued) {
    if (prefix == p) return fail(Errc::validation, "ni_number.prefix", "NI number prefix is never issued");
  }
  if (n == kNiLengthWithSuffix) {
    const char suffix = buf[kNiLengthNoSuffix];
    if (suffix < 'A' || suffix > 'D') {
      return fail(Errc::validation, "ni_number.suffix", "NI number suffix must be A, B, C or D");
    }
  }
  return std::string(buf.data(), n);
}

// ---------------------------------------------------------------------------------------------
// Date rules

// "More than 100 years before today" (DOMAIN.md) is read as: the person's 100th birthday is before
// today. So a person whose 100th birthday is today is accepted, and the day after they are not.
// For a 29 February birth the 100th birthday in a non-leap year is 1 March (see anniversary()):
// born 2000-02-29, accepted up to and including 2100-03-01, rejected from 2100-03-02. When today is
// 29 February and 100 years earlier was not a leap year (today 2000-02-29), the oldest accepted
// date of birth is 1900-03-01 (its 100th birthday is 2000-03-01, not before today), and
// 1900-02-28 is rejected (its 100th birthday, 2000-02-28, has passed).
Status check_date_of_birth(const Date& dob, const Date& today) {
  if (!is_valid_date(dob)) return calendar_error();
  if (dob > today) return fail(Errc::validation, "date_of_birth.future", "date of birth is after today");
  if (anniversary(dob, kDobMaxAgeYears) < today) {
    return fail(Errc::validation, "date_of_birth.too_old", "date of birth is more than 100 years ago");
  }
  return {};
}

Status check_date_order(const Date& start, const Date& end) {
  if (!is_valid_date(start) || !is_valid_date(end)) return calendar_error();
  if (end < start) return fail(Errc::validation, "date.order", "end date is before start date");
  return {};
}

}  // namespace esrsync::model
