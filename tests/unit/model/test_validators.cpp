#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "esrsync/model/validators.hpp"

namespace esrsync::model {
namespace {

// Asserts that `r` failed with `code` and `rule`.
template <class R>
::testing::AssertionResult fails_with(const R& r, Errc code, std::string_view rule) {
  if (r.has_value()) return ::testing::AssertionFailure() << "expected failure " << rule << ", got success";
  if (r.error().code != code || r.error().rule != rule) {
    return ::testing::AssertionFailure() << "expected " << rule << " (" << to_string(code) << "), got "
                                         << r.error().rule << " (" << to_string(r.error().code) << ")";
  }
  return ::testing::AssertionSuccess();
}

template <class R>
::testing::AssertionResult fails_validation(const R& r, std::string_view rule) {
  return fails_with(r, Errc::validation, rule);
}

// Independent Modulus 11 for the tests: weights 10..2; 11 -> 0; 10 stays 10 (never issued).
int nhs_check_digit(std::string_view nine) {
  int sum = 0;
  for (std::size_t i = 0; i < 9; ++i)
    sum += (nine[i] - '0') * static_cast<int>(10 - i);
  const int c = 11 - sum % 11;
  return c == 11 ? 0 : c;
}

// ---------------------------------------------------------------------------------------------
// NHS number

TEST(NhsNumber, AcceptsValidCheckDigit) {
  // 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11-2 = 9.
  auto r = normalise_nhs_number("9434765919");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, "9434765919");
  // 401023213 -> 7, 485777345 -> 7 (computed with nhs_check_digit below as a cross-check).
  EXPECT_EQ(nhs_check_digit("401023213"), 7);
  EXPECT_TRUE(normalise_nhs_number("4010232137"));
  EXPECT_TRUE(normalise_nhs_number("4857773457"));
}

TEST(NhsNumber, RemovesSpaces) {
  auto r = normalise_nhs_number("943 476 5919");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "9434765919");
  auto r2 = normalise_nhs_number("  943476 5919 ");
  ASSERT_TRUE(r2);
  EXPECT_EQ(*r2, "9434765919");
}

TEST(NhsNumber, CheckDigitElevenBecomesZero) {
  // 9*10+8*9+7*8+6*7+5*6+4*5+3*4+2*3+1*2 = 330; 330 mod 11 = 0; 11-0 = 11 -> 0.
  EXPECT_EQ(nhs_check_digit("987654321"), 0);
  auto r = normalise_nhs_number("9876543210");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, "9876543210");
  EXPECT_TRUE(fails_validation(normalise_nhs_number("9876543211"), "nhs_number.check_digit"));
  // 400000002: 4*10+2*2 = 44; 44 mod 11 = 0 -> check 0.
  EXPECT_TRUE(normalise_nhs_number("4000000020"));
}

TEST(NhsNumber, CheckDigitTenIsInvalidForEveryFinalDigit) {
  // 1*10+2*9+3*8+4*7+5*6+6*5+7*4+8*3+9*2 = 210; 210 mod 11 = 1; 11-1 = 10: never issued.
  EXPECT_EQ(nhs_check_digit("123456789"), 10);
  for (char last = '0'; last <= '9'; ++last) {
    const std::string n = std::string("123456789") + last;
    EXPECT_TRUE(fails_validation(normalise_nhs_number(n), "nhs_number.check_digit")) << "last digit " << last;
  }
}

TEST(NhsNumber, SearchedPrefixesWithCheckDigitTenAreRejected) {
  // Find prefixes by computation rather than trusting a hand-worked example.
  int found = 0;
  for (int n = 400000000; n < 400000200; ++n) {
    const std::string prefix = std::to_string(n);
    if (nhs_check_digit(prefix) != 10) continue;
    ++found;
    for (char last = '0'; last <= '9'; ++last) {
      EXPECT_TRUE(fails_validation(normalise_nhs_number(prefix + last), "nhs_number.check_digit"));
    }
  }
  EXPECT_GT(found, 5);
}

TEST(NhsNumber, ExactlyOneFinalDigitIsValid) {
  for (int n = 600000000; n < 600000100; ++n) {
    const std::string prefix = std::to_string(n);
    const int check = nhs_check_digit(prefix);
    int valid = 0;
    for (char last = '0'; last <= '9'; ++last) {
      const auto r = normalise_nhs_number(prefix + last);
      if (r) {
        ++valid;
        EXPECT_EQ(last - '0', check);
      } else {
        EXPECT_EQ(r.error().rule, "nhs_number.check_digit");
      }
    }
    EXPECT_EQ(valid, check == 10 ? 0 : 1) << prefix;
  }
}

TEST(NhsNumber, WrongCheckDigitRejected) {
  EXPECT_TRUE(fails_validation(normalise_nhs_number("9434765918"), "nhs_number.check_digit"));
  EXPECT_TRUE(fails_validation(normalise_nhs_number("9434765910"), "nhs_number.check_digit"));
}

TEST(NhsNumber, WrongLengthRejected) {
  EXPECT_TRUE(fails_validation(normalise_nhs_number(""), "nhs_number.format"));
  EXPECT_TRUE(fails_validation(normalise_nhs_number("   "), "nhs_number.format"));
  EXPECT_TRUE(fails_validation(normalise_nhs_number("943476591"), "nhs_number.format"));
  EXPECT_TRUE(fails_validation(normalise_nhs_number("94347659190"), "nhs_number.format"));
  EXPECT_TRUE(fails_validation(normalise_nhs_number("943 476 59190"), "nhs_number.format"));
  EXPECT_TRUE(fails_validation(normalise_nhs_number("99999999999999999999999"), "nhs_number.format"));
}

TEST(NhsNumber, NonDigitsRejected) {
  EXPECT_TRUE(fails_validation(normalise_nhs_number("943476591A"), "nhs_number.format"));
  EXPECT_TRUE(fails_validation(normalise_nhs_number("ABCDEFGHIJ"), "nhs_number.format"));
  EXPECT_TRUE(fails_validation(normalise_nhs_number("943-476-5919"), "nhs_number.format"));
  EXPECT_TRUE(fails_validation(normalise_nhs_number("943\t476\t5919"), "nhs_number.format"));
  EXPECT_TRUE(fails_validation(normalise_nhs_number("+943476591"), "nhs_number.format"));
  // Full-width digits (UTF-8) are not ASCII digits.
  EXPECT_TRUE(fails_validation(normalise_nhs_number("\xEF\xBC\x99"
                                                    "434765919"),
                               "nhs_number.format"));
}

TEST(NhsNumber, MessageDoesNotEchoValue) {
  const auto r = normalise_nhs_number("9434765918");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("9434765918"), std::string::npos);
  EXPECT_EQ(r.error().message.find("943"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// NI number

TEST(NiNumber, AcceptsWithAndWithoutSuffix) {
  auto a = normalise_ni_number("AB123456C");
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(*a, "AB123456C");
  auto b = normalise_ni_number("AB123456");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, "AB123456");
  for (const char* s : {"JG103759A", "JG103759B", "JG103759C", "JG103759D"}) {
    EXPECT_TRUE(normalise_ni_number(s)) << s;
  }
}

TEST(NiNumber, NormalisesCaseAndSpaces) {
  auto r = normalise_ni_number(" ab 12 34 56 c ");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "AB123456C");
  auto r2 = normalise_ni_number("jg103759");
  ASSERT_TRUE(r2);
  EXPECT_EQ(*r2, "JG103759");
}

TEST(NiNumber, ForbiddenFirstLetters) {
  for (const char c : std::string_view("DFIQUV")) {
    const std::string n = std::string(1, c) + "A123456C";
    EXPECT_TRUE(fails_validation(normalise_ni_number(n), "ni_number.prefix")) << n;
    std::string lower = n;
    lower[0] = static_cast<char>(lower[0] - 'A' + 'a');
    EXPECT_TRUE(fails_validation(normalise_ni_number(lower), "ni_number.prefix")) << lower;
  }
}

TEST(NiNumber, ForbiddenSecondLetters) {
  for (const char c : std::string_view("DFIQUVO")) {
    const std::string n = std::string("A") + c + "123456C";
    EXPECT_TRUE(fails_validation(normalise_ni_number(n), "ni_number.prefix")) << n;
  }
}

TEST(NiNumber, AllowedLettersIncludingOFirst) {
  // O is only forbidden as the second letter.
  EXPECT_TRUE(normalise_ni_number("OA123456A"));
  EXPECT_TRUE(normalise_ni_number("AZ123456A"));
  EXPECT_TRUE(normalise_ni_number("ZA123456A"));
}

TEST(NiNumber, NeverIssuedPrefixes) {
  for (const char* p : {"BG", "GB", "NK", "KN", "NT", "ZZ"}) {
    const std::string n = std::string(p) + "123456A";
    EXPECT_TRUE(fails_validation(normalise_ni_number(n), "ni_number.prefix")) << n;
    EXPECT_TRUE(fails_validation(normalise_ni_number(std::string(p) + "123456"), "ni_number.prefix")) << p;
  }
  // Neighbours of the never-issued prefixes are fine.
  EXPECT_TRUE(normalise_ni_number("BH123456A"));
  EXPECT_TRUE(normalise_ni_number("NL123456A"));
  EXPECT_TRUE(normalise_ni_number("ZY123456A"));
}

TEST(NiNumber, TemporaryNumberRejected) {
  // TN + date of birth (ddmmyy) + M/F: a temporary reference.
  EXPECT_TRUE(fails_validation(normalise_ni_number("TN311290M"), "ni_number.temporary"));
  EXPECT_TRUE(fails_validation(normalise_ni_number("TN311290F"), "ni_number.temporary"));
  EXPECT_TRUE(fails_validation(normalise_ni_number("tn 31 12 90 f"), "ni_number.temporary"));
  EXPECT_TRUE(fails_validation(normalise_ni_number("TN311290"), "ni_number.temporary"));
  EXPECT_TRUE(fails_validation(normalise_ni_number("TN123456A"), "ni_number.temporary"));
}

TEST(NiNumber, BadSuffixRejected) {
  EXPECT_TRUE(fails_validation(normalise_ni_number("AB123456E"), "ni_number.suffix"));
  EXPECT_TRUE(fails_validation(normalise_ni_number("AB123456Z"), "ni_number.suffix"));
  EXPECT_TRUE(fails_validation(normalise_ni_number("AB123456e"), "ni_number.suffix"));
}

TEST(NiNumber, WrongShapesRejected) {
  for (const char* s :
       {"", "   ", "A", "AB12345", "AB12345C", "AB1234567", "AB1234567C", "AB123456CD", "1B123456C", "A1123456C",
        "ABC23456C", "AB12345AC", "AB123456-", "AB-123456-C", "AB123456 C D", "AB\t123456C",
        "\xC3\x89"
        "B123456C",
        "AB12345\xC3\xA9"}) {
    EXPECT_TRUE(fails_validation(normalise_ni_number(s), "ni_number.format")) << s;
  }
}

TEST(NiNumber, MessageDoesNotEchoValue) {
  const auto r = normalise_ni_number("QQ123456C");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("QQ"), std::string::npos);
  EXPECT_EQ(r.error().message.find("123456"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Calendar

TEST(DateCalendar, LeapYears) {
  EXPECT_TRUE(is_leap_year(2024));
  EXPECT_TRUE(is_leap_year(2000));
  EXPECT_TRUE(is_leap_year(2400));
  EXPECT_FALSE(is_leap_year(2023));
  EXPECT_FALSE(is_leap_year(1900));
  EXPECT_FALSE(is_leap_year(2100));
}

TEST(DateCalendar, DaysInMonth) {
  EXPECT_EQ(days_in_month(2023, 1), 31);
  EXPECT_EQ(days_in_month(2023, 2), 28);
  EXPECT_EQ(days_in_month(2024, 2), 29);
  EXPECT_EQ(days_in_month(2023, 4), 30);
  EXPECT_EQ(days_in_month(2023, 12), 31);
  EXPECT_EQ(days_in_month(2023, 0), 0);
  EXPECT_EQ(days_in_month(2023, 13), 0);
}

TEST(DateCalendar, ValidDates) {
  EXPECT_TRUE(is_valid_date({2024, 2, 29}));
  EXPECT_TRUE(is_valid_date({2000, 2, 29}));
  EXPECT_FALSE(is_valid_date({2023, 2, 29}));
  EXPECT_FALSE(is_valid_date({1900, 2, 29}));
  EXPECT_FALSE(is_valid_date({2100, 2, 29}));
  EXPECT_FALSE(is_valid_date({2024, 4, 31}));
  EXPECT_TRUE(is_valid_date({2024, 4, 30}));
  EXPECT_FALSE(is_valid_date({2024, 13, 1}));
  EXPECT_FALSE(is_valid_date({2024, 0, 1}));
  EXPECT_FALSE(is_valid_date({2024, 1, 0}));
  EXPECT_FALSE(is_valid_date({2024, 1, 32}));
  EXPECT_FALSE(is_valid_date({0, 1, 1}));
  EXPECT_TRUE(is_valid_date({1, 1, 1}));
  EXPECT_TRUE(is_valid_date({9999, 12, 31}));
  EXPECT_FALSE(is_valid_date({10000, 1, 1}));
  EXPECT_FALSE(is_valid_date({-1, 1, 1}));
}

// ---------------------------------------------------------------------------------------------
// Parsing by pattern

TEST(DateParse, CompactFormat) {
  auto r = parse_datetime("20240229", "%Y%m%d");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->date, (Date{2024, 2, 29}));
  EXPECT_EQ(r->hour, 0);
  EXPECT_EQ(r->minute, 0);
  EXPECT_EQ(r->second, 0);
}

TEST(DateParse, LeapDays) {
  EXPECT_TRUE(parse_datetime("20240229", "%Y%m%d"));
  EXPECT_TRUE(parse_datetime("20000229", "%Y%m%d"));
  EXPECT_TRUE(fails_validation(parse_datetime("20230229", "%Y%m%d"), "date.calendar"));
  EXPECT_TRUE(fails_validation(parse_datetime("19000229", "%Y%m%d"), "date.calendar"));
  EXPECT_TRUE(fails_validation(parse_datetime("21000229", "%Y%m%d"), "date.calendar"));
}

TEST(DateParse, CalendarErrors) {
  EXPECT_TRUE(fails_validation(parse_datetime("20240431", "%Y%m%d"), "date.calendar"));
  EXPECT_TRUE(fails_validation(parse_datetime("20241301", "%Y%m%d"), "date.calendar"));
  EXPECT_TRUE(fails_validation(parse_datetime("20240001", "%Y%m%d"), "date.calendar"));
  EXPECT_TRUE(fails_validation(parse_datetime("20240100", "%Y%m%d"), "date.calendar"));
  EXPECT_TRUE(fails_validation(parse_datetime("20240132", "%Y%m%d"), "date.calendar"));
  EXPECT_TRUE(fails_validation(parse_datetime("00000101", "%Y%m%d"), "date.calendar"));
}

TEST(DateParse, UkSlashFormat) {
  auto r = parse_datetime("31/12/1990", "%d/%m/%Y");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->date, (Date{1990, 12, 31}));
  EXPECT_TRUE(fails_validation(parse_datetime("31/04/1990", "%d/%m/%Y"), "date.calendar"));
  EXPECT_TRUE(fails_validation(parse_datetime("31-12-1990", "%d/%m/%Y"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("1/12/1990", "%d/%m/%Y"), "date.format"));
}

TEST(DateParse, IsoFormat) {
  auto r = parse_datetime("2026-08-01", "%Y-%m-%d");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->date, (Date{2026, 8, 1}));
  EXPECT_TRUE(fails_validation(parse_datetime("2026/08/01", "%Y-%m-%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("2026-8-01", "%Y-%m-%d"), "date.format"));
}

TEST(DateParse, TimestampFormat) {
  auto r = parse_datetime("20260801093015", "%Y%m%d%H%M%S");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->date, (Date{2026, 8, 1}));
  EXPECT_EQ(r->hour, 9);
  EXPECT_EQ(r->minute, 30);
  EXPECT_EQ(r->second, 15);
  EXPECT_TRUE(parse_datetime("20261231235959", "%Y%m%d%H%M%S"));
  EXPECT_TRUE(parse_datetime("20260101000000", "%Y%m%d%H%M%S"));
}

TEST(DateParse, TimeOutOfRangeIsFormatError) {
  EXPECT_TRUE(fails_validation(parse_datetime("20260801240000", "%Y%m%d%H%M%S"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("20260801236000", "%Y%m%d%H%M%S"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("20260801235960", "%Y%m%d%H%M%S"), "date.format"));
}

TEST(DateParse, TrailingGarbageAndShortInput) {
  EXPECT_TRUE(fails_validation(parse_datetime("20240101X", "%Y%m%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("20240101 ", "%Y%m%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("202401011", "%Y%m%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("2024010", "%Y%m%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("", "%Y%m%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("2024-01-0", "%Y-%m-%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("2024-01", "%Y-%m-%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime(" 20240101", "%Y%m%d"), "date.format"));
}

TEST(DateParse, NonDigitsRejected) {
  EXPECT_TRUE(fails_validation(parse_datetime("2024O101", "%Y%m%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("+0240101", "%Y%m%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("2024 1 1", "%Y%m%d"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_datetime("2024-1-01", "%Y%m%d"), "date.format"));
}

TEST(DateParse, PercentLiteral) {
  auto r = parse_datetime("%2024%01%02", "%%%Y%%%m%%%d");
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->date, (Date{2024, 1, 2}));
  EXPECT_TRUE(fails_validation(parse_datetime("x2024%01%02", "%%%Y%%%m%%%d"), "date.format"));
}

TEST(DatePattern, ValidPatterns) {
  for (const char* p :
       {"%Y%m%d", "%d/%m/%Y", "%Y-%m-%d", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M", "%%%Y%m%d"}) {
    EXPECT_TRUE(is_valid_date_pattern(p)) << p;
  }
}

TEST(DatePattern, InvalidPatternsRejected) {
  for (const char* p :
       {"%q", "%Y%m%d%q", "%Y%m%d%", "%y%m%d", "%Y-%b-%d", "", "%Y%m", "%H%M%S", "%Y%Y%m%d", "%Y%m%d%H%H"}) {
    EXPECT_FALSE(is_valid_date_pattern(p)) << p;
    EXPECT_TRUE(fails_with(parse_datetime("20240101", p), Errc::mapping, "date.pattern")) << p;
  }
}

TEST(DatePattern, PatternCheckedBeforeText) {
  // A broken pattern is the mapping's fault, whatever the text.
  EXPECT_TRUE(fails_with(parse_datetime("garbage", "%q"), Errc::mapping, "date.pattern"));
}

TEST(DateFormat, FormatsAllDirectives) {
  const DateTime dt{{2026, 8, 1}, 9, 5, 7};
  EXPECT_EQ(format_datetime(dt, "%Y%m%d"), "20260801");
  EXPECT_EQ(format_datetime(dt, "%d/%m/%Y"), "01/08/2026");
  EXPECT_EQ(format_datetime(dt, "%Y%m%d%H%M%S"), "20260801090507");
  EXPECT_EQ(format_datetime(dt, "%Y-%m-%dT%H:%M:%S"), "2026-08-01T09:05:07");
  EXPECT_EQ(format_datetime(dt, "%%%Y%m%d"), "%20260801");
  EXPECT_EQ(format_datetime(DateTime{{7, 1, 2}, 0, 0, 0}, "%Y%m%d"), "00070102");
}

TEST(DateFormat, RoundTrip) {
  const DateTime dt{{1999, 12, 31}, 23, 59, 58};
  for (const char* p : {"%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H.%M.%S", "%S%M%H%d%m%Y"}) {
    const std::string text = format_datetime(dt, p);
    auto back = parse_datetime(text, p);
    ASSERT_TRUE(back) << p;
    EXPECT_EQ(*back, dt) << p;
  }
  for (const char* p : {"%Y%m%d", "%d/%m/%Y", "%Y-%m-%d"}) {
    const DateTime d{{2024, 2, 29}, 0, 0, 0};
    auto back = parse_datetime(format_datetime(d, p), p);
    ASSERT_TRUE(back) << p;
    EXPECT_EQ(*back, d);
  }
}

TEST(DateIso, ToIso) {
  EXPECT_EQ(to_iso(Date{2024, 2, 29}), "2024-02-29");
  EXPECT_EQ(to_iso(Date{1, 1, 1}), "0001-01-01");
  EXPECT_EQ(to_iso(DateTime{{2026, 8, 1}, 9, 5, 7}), "2026-08-01T09:05:07");
}

TEST(DateIso, ParseIsoDate) {
  auto r = parse_iso_date("2024-02-29");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (Date{2024, 2, 29}));
  EXPECT_TRUE(fails_validation(parse_iso_date("2023-02-29"), "date.calendar"));
  EXPECT_TRUE(fails_validation(parse_iso_date("20240229"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_iso_date("2024-02-29T00:00:00"), "date.format"));
}

TEST(DateIso, ParseIsoTimestamp) {
  auto r = parse_iso_timestamp("2026-08-01T09:05:07");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (DateTime{{2026, 8, 1}, 9, 5, 7}));
  EXPECT_EQ(to_iso(*r), "2026-08-01T09:05:07");
  EXPECT_TRUE(fails_validation(parse_iso_timestamp("2026-08-01 09:05:07"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_iso_timestamp("2026-08-01"), "date.format"));
  EXPECT_TRUE(fails_validation(parse_iso_timestamp("2026-04-31T09:05:07"), "date.calendar"));
  EXPECT_TRUE(fails_validation(parse_iso_timestamp("2026-08-01T25:05:07"), "date.format"));
}

// ---------------------------------------------------------------------------------------------
// Date of birth

TEST(DobRule, PastDateAccepted) {
  EXPECT_TRUE(check_date_of_birth({1990, 12, 31}, {2026, 8, 1}));
}

TEST(DobRule, TodayAccepted) {
  EXPECT_TRUE(check_date_of_birth({2026, 8, 1}, {2026, 8, 1}));
}

TEST(DobRule, FutureRejected) {
  EXPECT_TRUE(fails_validation(check_date_of_birth({2026, 8, 2}, {2026, 8, 1}), "date_of_birth.future"));
  EXPECT_TRUE(fails_validation(check_date_of_birth({2027, 1, 1}, {2026, 8, 1}), "date_of_birth.future"));
}

TEST(DobRule, ExactlyHundredYearsAccepted) {
  EXPECT_TRUE(check_date_of_birth({1926, 8, 1}, {2026, 8, 1}));
  EXPECT_TRUE(check_date_of_birth({1926, 8, 2}, {2026, 8, 1}));
}

TEST(DobRule, HundredYearsAndOneDayRejected) {
  EXPECT_TRUE(fails_validation(check_date_of_birth({1926, 7, 31}, {2026, 8, 1}), "date_of_birth.too_old"));
  // Across a year boundary.
  EXPECT_TRUE(check_date_of_birth({1926, 1, 1}, {2026, 1, 1}));
  EXPECT_TRUE(fails_validation(check_date_of_birth({1925, 12, 31}, {2026, 1, 1}), "date_of_birth.too_old"));
}

// Documented in validators.cpp: the 100th birthday of a 29 February birth in a non-leap year is
// 1 March; a DOB is too old when its 100th birthday is before today.
TEST(DobRule, LeapDayBirthHundredthBirthdayInNonLeapYearIsFirstMarch) {
  // 2100 is not a leap year.
  EXPECT_TRUE(check_date_of_birth({2000, 2, 29}, {2100, 2, 28}));
  EXPECT_TRUE(check_date_of_birth({2000, 2, 29}, {2100, 3, 1}));
  EXPECT_TRUE(fails_validation(check_date_of_birth({2000, 2, 29}, {2100, 3, 2}), "date_of_birth.too_old"));
}

TEST(DobRule, LeapDayBirthHundredthBirthdayInLeapYear) {
  // 1924 and 2024 are both leap years: the anniversary is 29 February itself.
  EXPECT_TRUE(check_date_of_birth({1924, 2, 29}, {2024, 2, 29}));
  EXPECT_TRUE(fails_validation(check_date_of_birth({1924, 2, 29}, {2024, 3, 1}), "date_of_birth.too_old"));
  EXPECT_TRUE(fails_validation(check_date_of_birth({1924, 2, 28}, {2024, 2, 29}), "date_of_birth.too_old"));
  // Today 2124-02-29, born 2024-02-29: exactly 100 years.
  EXPECT_TRUE(check_date_of_birth({2024, 2, 29}, {2124, 2, 29}));
  EXPECT_TRUE(fails_validation(check_date_of_birth({2024, 2, 28}, {2124, 2, 29}), "date_of_birth.too_old"));
}

TEST(DobRule, TodayLeapDayHundredYearsAfterNonLeapYear) {
  // Today 2000-02-29; 1900 had no 29 February. 1900-03-01 turns 100 on 2000-03-01 (accepted);
  // 1900-02-28 turned 100 on 2000-02-28 (rejected).
  EXPECT_TRUE(check_date_of_birth({1900, 3, 1}, {2000, 2, 29}));
  EXPECT_TRUE(fails_validation(check_date_of_birth({1900, 2, 28}, {2000, 2, 29}), "date_of_birth.too_old"));
}

TEST(DobRule, InvalidDobIsCalendarError) {
  EXPECT_TRUE(fails_validation(check_date_of_birth({2023, 2, 29}, {2026, 8, 1}), "date.calendar"));
}

// ---------------------------------------------------------------------------------------------
// Date order

TEST(DateOrder, EndAfterStartAccepted) {
  EXPECT_TRUE(check_date_order({2026, 8, 1}, {2027, 2, 1}));
  EXPECT_TRUE(check_date_order({2026, 8, 1}, {2026, 8, 2}));
}

TEST(DateOrder, EqualDatesAccepted) {
  EXPECT_TRUE(check_date_order({2026, 8, 1}, {2026, 8, 1}));
}

TEST(DateOrder, EndBeforeStartRejected) {
  EXPECT_TRUE(fails_validation(check_date_order({2026, 8, 1}, {2026, 7, 31}), "date.order"));
  EXPECT_TRUE(fails_validation(check_date_order({2026, 8, 1}, {2025, 12, 31}), "date.order"));
  EXPECT_TRUE(fails_validation(check_date_order({2026, 8, 2}, {2026, 8, 1}), "date.order"));
}

TEST(DateOrder, InvalidDateIsCalendarError) {
  EXPECT_TRUE(fails_validation(check_date_order({2026, 4, 31}, {2026, 8, 1}), "date.calendar"));
  EXPECT_TRUE(fails_validation(check_date_order({2026, 8, 1}, {2026, 13, 1}), "date.calendar"));
}

}  // namespace
}  // namespace esrsync::model
