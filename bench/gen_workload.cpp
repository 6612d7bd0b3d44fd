// esrsync_bench_gen: deterministic synthetic workloads for the benchmarks (bench/run_*.sh).
//
//   esrsync_bench_gen esr-full --persons N [--seed S] [--vpd 245] [--seq 1] [--date 20260801]
//                              [--bad-every K]
//   esrsync_bench_gen oh-csv   --records N [--seed S] [--persons P] [--date 20260801]
//   esrsync_bench_gen oh-xml   --records N [--seed S] [--persons P] [--date 20260801]
//
// Writes to stdout. The same arguments always give byte-identical output: every person and every
// OH event is derived from its own PRNG stream (xoshiro256** seeded through splitmix64 from
// (--seed, index)), so person i is the same person in an ESR extract and in an OH export made with
// the same --seed, and OH events reference persons 0..P-1 of the ESR extract.
//
// The people are synthetic: names come from built-in lists, NHS numbers start with 9 or 8 (never
// issued to real patients in England), mobiles and postcodes are random but only UK-shaped.
//
// --bad-every K makes every K-th PER/ASG record (1-based, counted over both record types) carry
// exactly one invalid field, so a validator must report exactly floor(records / K) rejected
// records. PER records cycle through: bad NHS check digit, forbidden NI prefix, 31 April date of
// birth, date of birth in the future, bad gender code; ASG records cycle through: 31 April start
// date, end date before start date.
//
// Self-contained on purpose (no esrsync_core): the generator must not share code with what it
// feeds, or a shared bug would go unnoticed.

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using u64 = std::uint64_t;
using u32 = std::uint32_t;
using sv = std::string_view;

// ---------------------------------------------------------------------------------------------
// Random numbers

constexpr u64 splitmix64(u64& state) noexcept {
  u64 z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31U);
}

// A well-mixed 64-bit key for stream `stream`, item `index` under `seed`.
constexpr u64 stream_key(u64 seed, u64 stream, u64 index) noexcept {
  u64 s = seed ^ (stream * 0xd1b54a32d192ed03ULL);
  const u64 a = splitmix64(s);
  u64 t = a ^ (index * 0x9e3779b97f4a7c15ULL);
  return splitmix64(t);
}

class Rng {  // xoshiro256**
 public:
  explicit Rng(u64 seed) noexcept {
    for (auto& word : s_)
      word = splitmix64(seed);
  }
  u64 next() noexcept {
    const u64 result = rotl(s_[1] * 5U, 7) * 9U;
    const u64 t = s_[1] << 17U;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) for n <= 2^32 (multiply-shift; the bias is below 2^-32, irrelevant here).
  u32 below(u32 n) noexcept { return static_cast<u32>(((next() >> 32U) * n) >> 32U); }
  u64 below64(u64 n) noexcept { return next() % n; }
  // Uniform in [lo, hi] (inclusive); hi >= lo.
  int between(int lo, int hi) noexcept { return lo + static_cast<int>(below(static_cast<u32>(hi - lo) + 1U)); }
  bool permille(u32 p) noexcept { return below(1000) < p; }

 private:
  static constexpr u64 rotl(u64 x, int k) noexcept {
    return (x << static_cast<unsigned>(k)) | (x >> static_cast<unsigned>(64 - k));
  }
  std::array<u64, 4> s_{};
};

template <typename T, std::size_t N>
const T& pick(Rng& rng, const std::array<T, N>& items) {
  return items[rng.below(static_cast<u32>(N))];
}

// ---------------------------------------------------------------------------------------------
// Dates as days since 1970-01-01 (H. Hinnant's civil calendar algorithms).

struct Ymd {
  int y;
  int m;
  int d;
};

constexpr int days_from_civil(int y, int m, int d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

constexpr Ymd civil_from_days(int z) noexcept {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  const int d = doy - (153 * mp + 2) / 5 + 1;
  const int m = mp < 10 ? mp + 3 : mp - 9;
  return Ymd{yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

constexpr bool is_leap(int y) noexcept {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr int days_in_month(int y, int m) noexcept {
  constexpr std::array<int, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

// The same day `years` earlier (29 February becomes 28 February in a common year).
constexpr int years_before(int days, int years) noexcept {
  Ymd c = civil_from_days(days);
  c.y -= years;
  if (c.m == 2 && c.d == 29 && !is_leap(c.y)) c.d = 28;
  return days_from_civil(c.y, c.m, c.d);
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(11017).y == 2000 && civil_from_days(11017).m == 3);

// ---------------------------------------------------------------------------------------------
// Buffered output: one fwrite per MiB, no per-field stream calls.

class Out {
 public:
  explicit Out(std::FILE* file) : file_(file), buf_(kCapacity) {}
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;
  ~Out() = default;

  void put(char c) {
    if (len_ == kCapacity) flush();
    buf_[len_++] = c;
  }
  void put(sv s) {
    if (s.empty()) return;  // an empty view may have a null data(): memcpy must not see it
    if (s.size() > kCapacity - len_) {
      flush();
      if (s.size() > kCapacity) {
        write_raw(s.data(), s.size());
        return;
      }
    }
    std::memcpy(buf_.data() + len_, s.data(), s.size());
    len_ += s.size();
  }
  void uint(u64 v) {
    std::array<char, 24> tmp{};
    const auto [end, ec] = std::to_chars(tmp.data(), tmp.data() + tmp.size(), v);
    (void)ec;
    put(sv(tmp.data(), static_cast<std::size_t>(end - tmp.data())));
  }
  // `v` in exactly `width` digits, zero padded (wider if it does not fit).
  void zpad(u64 v, int width) {
    std::array<char, 24> tmp{};
    int n = 0;
    do {
      tmp[static_cast<std::size_t>(n++)] = static_cast<char>('0' + v % 10U);
      v /= 10U;
    } while (v != 0 || n < width);
    while (n > 0)
      put(tmp[static_cast<std::size_t>(--n)]);
  }
  void ymd8(int y, int m, int d) {  // YYYYMMDD
    zpad(static_cast<u64>(y), 4);
    zpad(static_cast<u64>(m), 2);
    zpad(static_cast<u64>(d), 2);
  }
  void date8(int days) {
    const Ymd c = civil_from_days(days);
    ymd8(c.y, c.m, c.d);
  }
  void date_dmy(int days) {  // dd/mm/yyyy
    const Ymd c = civil_from_days(days);
    zpad(static_cast<u64>(c.d), 2);
    put('/');
    zpad(static_cast<u64>(c.m), 2);
    put('/');
    zpad(static_cast<u64>(c.y), 4);
  }
  void date_iso(int days) {  // yyyy-mm-dd
    const Ymd c = civil_from_days(days);
    zpad(static_cast<u64>(c.y), 4);
    put('-');
    zpad(static_cast<u64>(c.m), 2);
    put('-');
    zpad(static_cast<u64>(c.d), 2);
  }
  // RFC 4180: quoted only when it holds a comma, quote, CR or LF; quotes doubled.
  void csv(sv s) {
    if (s.find_first_of(",\"\r\n") == sv::npos) {
      put(s);
      return;
    }
    put('"');
    for (const char c : s) {
      if (c == '"') put('"');
      put(c);
    }
    put('"');
  }
  // XML character data (text content or a double-quoted attribute value).
  void xml(sv s, bool attribute) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      sv rep;
      switch (s[i]) {
        case '&':
          rep = "&amp;";
          break;
        case '<':
          rep = "&lt;";
          break;
        case '>':
          rep = "&gt;";
          break;
        case '"':
          rep = attribute ? sv("&quot;") : sv();
          break;
        case '\'':
          rep = attribute ? sv("&apos;") : sv();
          break;
        default:
          break;
      }
      if (rep.empty()) continue;
      put(s.substr(start, i - start));
      put(rep);
      start = i + 1;
    }
    put(s.substr(start));
  }

  void flush() {
    write_raw(buf_.data(), len_);
    len_ = 0;
  }
  // Flushes and reports a write error (EPIPE, disk full) the way a command-line tool should.
  [[nodiscard]] bool finish() {
    flush();
    return std::fflush(file_) == 0 && !failed_;
  }

 private:
  static constexpr std::size_t kCapacity = std::size_t{1} << 20U;
  void write_raw(const char* data, std::size_t n) {
    if (failed_ || n == 0) return;
    if (std::fwrite(data, 1, n, file_) != n) failed_ = true;
  }
  std::FILE* file_;
  std::vector<char> buf_;
  std::size_t len_ = 0;
  bool failed_ = false;
};

// ---------------------------------------------------------------------------------------------
// Built-in data

struct Name {
  sv text;  // as written (UTF-8, keeps apostrophes, hyphens, accents)
  sv slug;  // ASCII for e-mail addresses
};

constexpr std::array kSurnames{
    Name{"Smith", "smith"},
    Name{"Jones", "jones"},
    Name{"Williams", "williams"},
    Name{"Taylor", "taylor"},
    Name{"Brown", "brown"},
    Name{"Davies", "davies"},
    Name{"Evans", "evans"},
    Name{"Wilson", "wilson"},
    Name{"Thomas", "thomas"},
    Name{"Johnson", "johnson"},
    Name{"Roberts", "roberts"},
    Name{"Robinson", "robinson"},
    Name{"Thompson", "thompson"},
    Name{"Wright", "wright"},
    Name{"Walker", "walker"},
    Name{"White", "white"},
    Name{"Edwards", "edwards"},
    Name{"Hughes", "hughes"},
    Name{"Green", "green"},
    Name{"Hall", "hall"},
    Name{"Lewis", "lewis"},
    Name{"Harris", "harris"},
    Name{"Clarke", "clarke"},
    Name{"Patel", "patel"},
    Name{"Khan", "khan"},
    Name{"Ahmed", "ahmed"},
    Name{"Singh", "singh"},
    Name{"Begum", "begum"},
    Name{"Ali", "ali"},
    Name{"Hussain", "hussain"},
    Name{"Shah", "shah"},
    Name{"Okafor", "okafor"},
    Name{"Adeyemi", "adeyemi"},
    Name{"Mensah", "mensah"},
    Name{"Nowak", "nowak"},
    Name{"Kowalski", "kowalski"},
    Name{"Wiśniewski", "wisniewski"},
    Name{"O'Brien", "obrien"},
    Name{"O'Connor", "oconnor"},
    Name{"D'Souza", "dsouza"},
    Name{"McCarthy", "mccarthy"},
    Name{"MacDonald", "macdonald"},
    Name{"Smith-Jones", "smithjones"},
    Name{"Lloyd-Williams", "lloydwilliams"},
    Name{"Ní Bhriain", "nibhriain"},
    Name{"Ó Súilleabháin", "osuilleabhain"},
    Name{"Müller", "muller"},
    Name{"Núñez", "nunez"},
    Name{"Gonçalves", "goncalves"},
    Name{"Øvergaard", "overgaard"},
    Name{"Fernández", "fernandez"},
    Name{"Chen", "chen"},
    Name{"Wang", "wang"},
    Name{"Nguyen", "nguyen"},
    Name{"Kim", "kim"},
    Name{"Santos", "santos"},
    Name{"Reyes", "reyes"},
    Name{"Murphy", "murphy"},
    Name{"Kelly", "kelly"},
    Name{"Byrne", "byrne"},
    Name{"Zhang", "zhang"},
    Name{"Ivanova", "ivanova"},
    Name{"Papadopoulos", "papadopoulos"},
    Name{"Rossi", "rossi"},
    Name{"Dubois", "dubois"},
    Name{"van der Berg", "vanderberg"},
    Name{"Bowen-Hughes", "bowenhughes"},
    Name{"St John", "stjohn"},
};

constexpr std::array kFemaleForenames{
    Name{"Olivia", "olivia"},
    Name{"Amelia", "amelia"},
    Name{"Isla", "isla"},
    Name{"Ava", "ava"},
    Name{"Mia", "mia"},
    Name{"Zoë", "zoe"},
    Name{"Chloé", "chloe"},
    Name{"Siân", "sian"},
    Name{"Niamh", "niamh"},
    Name{"Aoife", "aoife"},
    Name{"Saoirse", "saoirse"},
    Name{"Renée", "renee"},
    Name{"Anne-Marie", "annemarie"},
    Name{"Mary", "mary"},
    Name{"Sarah", "sarah"},
    Name{"Emma", "emma"},
    Name{"Charlotte", "charlotte"},
    Name{"Sophie", "sophie"},
    Name{"Grace", "grace"},
    Name{"Hannah", "hannah"},
    Name{"Priya", "priya"},
    Name{"Aisha", "aisha"},
    Name{"Fatima", "fatima"},
    Name{"Aaliyah", "aaliyah"},
    Name{"Chiamaka", "chiamaka"},
    Name{"Agnieszka", "agnieszka"},
    Name{"Zsófia", "zsofia"},
    Name{"Ingrid", "ingrid"},
    Name{"Mei", "mei"},
    Name{"Lucía", "lucia"},
    Name{"Maria", "maria"},
    Name{"Joanne", "joanne"},
    Name{"Catherine", "catherine"},
    Name{"Elizabeth", "elizabeth"},
    Name{"Rebecca", "rebecca"},
    Name{"Bethan", "bethan"},
    Name{"Ffion", "ffion"},
    Name{"Eleri", "eleri"},
    Name{"Oluwaseun", "oluwaseun"},
    Name{"Mary-Kate", "marykate"},
};

constexpr std::array kMaleForenames{
    Name{"Oliver", "oliver"},
    Name{"George", "george"},
    Name{"Harry", "harry"},
    Name{"Noah", "noah"},
    Name{"Jack", "jack"},
    Name{"Leo", "leo"},
    Name{"Arthur", "arthur"},
    Name{"Muhammad", "muhammad"},
    Name{"Mohammed", "mohammed"},
    Name{"Jacob", "jacob"},
    Name{"Thomas", "thomas"},
    Name{"James", "james"},
    Name{"William", "william"},
    Name{"Daniel", "daniel"},
    Name{"David", "david"},
    Name{"Michael", "michael"},
    Name{"Christopher", "christopher"},
    Name{"Matthew", "matthew"},
    Name{"Seán", "sean"},
    Name{"Dónal", "donal"},
    Name{"Ciarán", "ciaran"},
    Name{"Rhys", "rhys"},
    Name{"Dafydd", "dafydd"},
    Name{"Gareth", "gareth"},
    Name{"Iain", "iain"},
    Name{"Hamish", "hamish"},
    Name{"Łukasz", "lukasz"},
    Name{"Piotr", "piotr"},
    Name{"Björn", "bjorn"},
    Name{"José", "jose"},
    Name{"João", "joao"},
    Name{"François", "francois"},
    Name{"Chidi", "chidi"},
    Name{"Kwame", "kwame"},
    Name{"Tunde", "tunde"},
    Name{"Rajesh", "rajesh"},
    Name{"Arjun", "arjun"},
    Name{"Vikram", "vikram"},
    Name{"Wei", "wei"},
    Name{"Jean-Luc", "jeanluc"},
    Name{"Mark", "mark"},
    Name{"Paul", "paul"},
    Name{"Stephen", "stephen"},
    Name{"Andrew", "andrew"},
};

constexpr auto kPostcodeAreas =
    std::to_array<sv>({"LS", "M",  "B",  "L",  "S",  "NE", "BS", "CF", "EH", "G",  "SW", "SE", "N",  "E",  "W", "NW",
                       "EC", "OX", "CB", "NG", "LE", "PL", "EX", "BT", "AB", "DD", "YO", "HU", "SO", "PO", "BN"});
constexpr sv kPostcodeUnitLetters = "ABDEFGHJLNPQRSTUWXYZ";

// Organisation (ODS) codes within the VPD; the first ones carry most staff.
constexpr auto kOrgCodes = std::to_array<sv>({"RXX", "RXX", "RXX", "R1H", "R1H", "RRK", "RJ1", "RYJ"});

constexpr auto kDepartments = std::to_array<sv>(
    {"Emergency Medicine", "General Surgery", "General Medicine", "Paediatrics", "Obstetrics & Gynaecology",
     "Radiology", "Outpatients", "Cardiology", "Theatres", "Pharmacy", "Critical Care", "Orthopaedics", "Oncology",
     "Renal Medicine", "Maternity", "Estates", "Medical Records", "Elderly Care"});

constexpr auto kSites =
    std::to_array<sv>({"Royal Infirmary", "General Hospital", "St Thomas' Hospital", "Community Hub",
                       "Children's Hospital", "Queen Elizabeth Hospital", "Treatment Centre"});

struct Role {
  sv staff_group;
  sv title;
  sv occupation_code;
  sv grade;
  bool trainee;
  u32 epp_permille;
  u32 weight;
  bool medical;
};

constexpr std::array kRoles{
    Role{"Medical and Dental", "Foundation Year 1 Doctor", "M10", "FY1", true, 300, 4, true},
    Role{"Medical and Dental", "Foundation Year 2 Doctor", "M11", "FY2", true, 300, 4, true},
    Role{"Medical and Dental", "Core Trainee", "M20", "CT2", true, 400, 4, true},
    Role{"Medical and Dental", "Specialty Registrar", "M30", "ST4", true, 500, 6, true},
    Role{"Medical and Dental", "Specialty Doctor", "M40", "Specialty Doctor", false, 400, 2, true},
    Role{"Medical and Dental", "Consultant", "M50", "Consultant", false, 400, 4, true},
    Role{"Medical and Dental", "Dental Core Trainee", "D20", "DCT1", true, 900, 1, true},
    Role{"Nursing and Midwifery Registered", "Staff Nurse", "N50", "Band 5", false, 20, 14, false},
    Role{"Nursing and Midwifery Registered", "Senior Staff Nurse", "N60", "Band 6", false, 20, 6, false},
    Role{"Nursing and Midwifery Registered", "Ward Sister", "N70", "Band 7", false, 20, 3, false},
    Role{"Nursing and Midwifery Registered", "Midwife", "N61", "Band 6", false, 100, 4, false},
    Role{"Nursing and Midwifery Registered", "Theatre Nurse", "N52", "Band 5", false, 200, 2, false},
    Role{"Allied Health Professionals", "Physiotherapist", "A60", "Band 6", false, 0, 3, false},
    Role{"Allied Health Professionals", "Diagnostic Radiographer", "A50", "Band 5", false, 0, 2, false},
    Role{"Allied Health Professionals", "Occupational Therapist", "A51", "Band 5", false, 0, 2, false},
    Role{"Allied Health Professionals", "Paramedic", "A62", "Band 6", false, 50, 1, false},
    Role{"Additional Clinical Services", "Healthcare Assistant", "H30", "Band 3", false, 0, 10, false},
    Role{"Additional Clinical Services", "Phlebotomist", "H20", "Band 2", false, 0, 3, false},
    Role{"Additional Clinical Services", "Maternity Support Worker", "H31", "Band 3", false, 0, 2, false},
    Role{"Administrative and Clerical", "Medical Secretary", "C40", "Band 4", false, 0, 6, false},
    Role{"Administrative and Clerical", "Ward Clerk", "C20", "Band 2", false, 0, 4, false},
    Role{"Administrative and Clerical", "Receptionist", "C21", "Band 2", false, 0, 4, false},
    Role{"Administrative and Clerical", "Finance Officer", "C50", "Band 5", false, 0, 2, false},
    Role{"Administrative and Clerical", "Project Manager", "C70", "Band 7", false, 0, 2, false},
    Role{"Estates and Ancillary", "Porter", "E20", "Band 2", false, 0, 3, false},
    Role{"Healthcare Scientists", "Biomedical Scientist", "S50", "Band 5", false, 0, 2, false},
};

// Index into kRoles by weight.
std::size_t pick_role(Rng& rng) {
  static const u32 total = [] {
    u32 sum = 0;
    for (const auto& r : kRoles)
      sum += r.weight;
    return sum;
  }();
  u32 x = rng.below(total);
  for (std::size_t i = 0; i < kRoles.size(); ++i) {
    if (x < kRoles[i].weight) return i;
    x -= kRoles[i].weight;
  }
  return kRoles.size() - 1;
}

// NI number prefixes that DOMAIN.md allows (first letter not D F I Q U V; second not D F I Q U V O;
// never BG GB NK KN TN NT ZZ).
struct NiPrefixes {
  std::array<std::array<char, 2>, 26 * 26> items{};
  u32 count = 0;
};

constexpr NiPrefixes make_ni_prefixes() {
  NiPrefixes p;
  constexpr sv bad_first = "DFIQUV";
  constexpr sv bad_second = "DFIQUVO";
  constexpr std::array<sv, 7> never{"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"};
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      if (bad_first.find(a) != sv::npos || bad_second.find(b) != sv::npos) continue;
      bool ok = true;
      for (const sv n : never)
        ok = ok && !(n[0] == a && n[1] == b);
      if (ok) p.items[p.count++] = {a, b};
    }
  }
  return p;
}
constexpr NiPrefixes kNiPrefixes = make_ni_prefixes();
constexpr auto kForbiddenNiPrefixes =
    std::to_array<sv>({"BG", "GB", "NK", "KN", "NT", "ZZ", "DA", "FA", "QQ", "UA", "VB", "AO"});

// NHS number check digit (Modulus 11, weights 10..2); 10 means "never issued".
int nhs_check_digit(const char* nine) noexcept {
  int sum = 0;
  for (int i = 0; i < 9; ++i)
    sum += (nine[i] - '0') * (10 - i);
  const int check = 11 - sum % 11;
  return check == 11 ? 0 : check;
}

// ---------------------------------------------------------------------------------------------
// Identity streams: bijections so that identifiers are unique without a lookup table.

constexpr u64 kEmployeeSpace = 10'000'000;  // E + 7 digits
constexpr u64 kNhsSpace = 100'000'000;      // 8 digits after the leading 9 (or 8)
constexpr u64 kMillion = 1'000'000;

// x -> (x * a + b) mod m, with a coprime to m: a permutation of [0, m).
struct Affine {
  u64 a = 1;
  u64 b = 0;
  u64 m = 1;
  Affine(u64 seed, u64 modulus) : m(modulus) {
    u64 s = seed;
    a = (splitmix64(s) % m) | 1U;
    while (std::gcd(a, m) != 1)
      a += 2;
    b = splitmix64(s) % m;
  }
  [[nodiscard]] u64 operator()(u64 x) const noexcept {
    // m < 2^32 here, so (x mod m) * a fits in 64 bits.
    return ((x % m) * (a % m) + b) % m;
  }
};

struct Person {
  u64 index = 0;
  u64 person_number = 0;
  std::array<char, 16> employee{};
  std::size_t employee_len = 0;
  std::array<char, 9> ni{};  // 2 letters, 6 digits, suffix (may be '\0' = blank)
  std::array<char, 10> nhs{};
  bool has_nhs = false;
  sv title;
  const Name* surname = nullptr;
  const Name* forename1 = nullptr;
  const Name* forename2 = nullptr;
  const Name* previous_surname = nullptr;
  int dob = 0;
  char gender = 'U';
  bool has_email = false;
  u32 email_number = 0;  // 0 = none
  bool has_mobile = false;
  u64 mobile = 0;  // the 9 digits after "07"
  sv postcode_area;
  u32 postcode_district = 1;
  u32 postcode_sector = 0;
  std::array<char, 2> postcode_unit{};
  char consent = 0;  // 'Y', 'N' or 0 (blank)
  std::size_t role = 0;
  u32 provider = 1;  // OHPnn

  [[nodiscard]] sv employee_number() const { return {employee.data(), employee_len}; }
  [[nodiscard]] sv ni_number() const { return {ni.data(), ni[8] == 0 ? std::size_t{8} : std::size_t{9}}; }
  [[nodiscard]] sv nhs_number() const { return has_nhs ? sv(nhs.data(), nhs.size()) : sv(); }
};

struct Assignment {
  u32 number = 1;
  sv org_code;
  std::size_t role = 0;
  sv department;
  sv site;
  int start = 0;
  std::optional<int> end;
  bool lead_employer = false;
  bool primary = true;
  bool epp = false;
};

class World {
 public:
  World(u64 seed, int reference_day)
      : seed_(seed),
        today_(reference_day),
        employee_map_(stream_key(seed, 1, 0), kEmployeeSpace),
        ni_map_(stream_key(seed, 2, 0), u64{kNiPrefixes.count} * kMillion),
        nhs_map_(stream_key(seed, 3, 0), kNhsSpace) {}

  [[nodiscard]] int today() const noexcept { return today_; }
  [[nodiscard]] u64 seed() const noexcept { return seed_; }

  // Person `i` and the PRNG positioned after the person's fields (for their assignments).
  Person make_person(u64 i, Rng& rng) const {
    Person p;
    p.index = i;
    p.person_number = 10'000'000 + i;
    p.role = pick_role(rng);
    const Role& role = kRoles[p.role];

    // Employee number: E + 7 digits, a permutation of the index (8+ digits past 10 million).
    {
      const u64 n = i < kEmployeeSpace ? employee_map_(i) : i;
      std::array<char, 16> tmp{};
      tmp[0] = 'E';
      std::size_t len = 1;
      const int width = i < kEmployeeSpace ? 7 : 8;
      std::array<char, 20> digits{};
      int nd = 0;
      u64 v = n;
      do {
        digits[static_cast<std::size_t>(nd++)] = static_cast<char>('0' + v % 10U);
        v /= 10U;
      } while (v != 0 || nd < width);
      while (nd > 0)
        tmp[len++] = digits[static_cast<std::size_t>(--nd)];
      p.employee = tmp;
      p.employee_len = len;
    }

    // NI number: unique prefix + 6 digits (a permutation over all valid prefixes x 10^6).
    {
      const u64 x = ni_map_(i);
      const auto& prefix = kNiPrefixes.items[static_cast<std::size_t>(x / kMillion)];
      p.ni[0] = prefix[0];
      p.ni[1] = prefix[1];
      u64 digits = x % kMillion;
      for (std::size_t k = 7; k >= 2; --k) {
        p.ni[k] = static_cast<char>('0' + digits % 10U);
        digits /= 10U;
      }
      p.ni[8] = rng.permille(20) ? '\0' : static_cast<char>('A' + rng.below(4));
    }

    // NHS number: 9 + 8 unique digits + check; when that check digit would be 10, the leading
    // 9 becomes 8 (which changes the weighted sum by 10 mod 11, so the check digit is valid).
    {
      u64 x = nhs_map_(i);
      p.nhs[0] = '9';
      for (std::size_t k = 8; k >= 1; --k) {
        p.nhs[k] = static_cast<char>('0' + x % 10U);
        x /= 10U;
      }
      int check = nhs_check_digit(p.nhs.data());
      if (check == 10) {
        p.nhs[0] = '8';
        check = nhs_check_digit(p.nhs.data());
      }
      p.nhs[9] = static_cast<char>('0' + check);
      p.has_nhs = !rng.permille(100);
    }

    const u32 g = rng.below(1000);
    p.gender = g < 480 ? 'M' : g < 980 ? 'F' : g < 990 ? 'X' : 'U';
    const bool female_names = p.gender == 'F' || (p.gender != 'M' && rng.permille(500));
    const auto pick_forename = [&]() -> const Name* {
      return female_names ? &pick(rng, kFemaleForenames) : &pick(rng, kMaleForenames);
    };
    p.surname = &pick(rng, kSurnames);
    p.forename1 = pick_forename();
    if (rng.permille(250)) {
      p.forename2 = pick_forename();
      if (p.forename2 == p.forename1) p.forename2 = nullptr;
    }
    if (rng.permille(p.gender == 'F' ? 80 : 15)) {
      p.previous_surname = &pick(rng, kSurnames);
      if (p.previous_surname == p.surname) p.previous_surname = nullptr;
    }

    // Title.
    const u32 t = rng.below(1000);
    if (t < 30) {
      p.title = "";
    } else if (role.medical && t < 950) {
      p.title = t < 930 ? "Dr" : "Prof";
    } else if (p.gender == 'M') {
      p.title = "Mr";
    } else if (p.gender == 'F') {
      p.title = t < 400 ? "Mrs" : t < 700 ? "Ms" : "Miss";
    } else {
      p.title = "Mx";
    }

    // Date of birth: 18..67 years before the reference day (23..45 for doctors in training).
    {
      const int min_age = role.trainee ? 23 : 18;
      const int max_age = role.trainee ? 45 : 67;
      const int lo = years_before(today_, max_age) + 1;
      const int hi = years_before(today_, min_age);
      p.dob = rng.between(lo, hi);
    }

    p.has_email = !rng.permille(50);
    p.email_number = rng.permille(400) ? 1 + rng.below(99) : 0;
    p.has_mobile = !rng.permille(80);
    p.mobile = 400'000'000 + rng.below64(600'000'000);
    p.postcode_area = pick(rng, kPostcodeAreas);
    p.postcode_district = 1 + rng.below(p.postcode_area.size() == 1 ? 40 : 28);
    p.postcode_sector = rng.below(10);
    p.postcode_unit[0] = kPostcodeUnitLetters[rng.below(static_cast<u32>(kPostcodeUnitLetters.size()))];
    p.postcode_unit[1] = kPostcodeUnitLetters[rng.below(static_cast<u32>(kPostcodeUnitLetters.size()))];
    const u32 c = rng.below(100);
    p.consent = c < 60 ? 'Y' : c < 75 ? 'N' : '\0';
    p.provider = 1 + static_cast<u32>(stream_key(seed_, 4, i) % 5U);
    return p;
  }

  // Latest rotation day (1 February or 1 August) on or before the reference day.
  [[nodiscard]] int last_rotation() const noexcept {
    const Ymd c = civil_from_days(today_);
    if (c.m >= 8) return days_from_civil(c.y, 8, 1);
    if (c.m >= 2) return days_from_civil(c.y, 2, 1);
    return days_from_civil(c.y - 1, 8, 1);
  }

  Assignment make_assignment(const Person& p, u32 number, const Assignment* first, Rng& rng) const {
    Assignment a;
    a.number = number;
    a.org_code = first != nullptr && rng.permille(700) ? first->org_code : pick(rng, kOrgCodes);
    a.role = first == nullptr || rng.permille(500) ? p.role : pick_role(rng);
    const Role& role = kRoles[a.role];
    a.department = pick(rng, kDepartments);
    a.site = pick(rng, kSites);
    const int earliest = std::max(years_before(p.dob, -18), years_before(today_, 35));
    if (role.trainee) {
      // Trainees rotate every six months: this rotation or one of the previous three.
      const Ymd r = civil_from_days(last_rotation());
      const int back = static_cast<int>(rng.below(4));
      int months = r.y * 12 + (r.m - 1) - 6 * back;
      a.start = std::max(earliest, days_from_civil(months / 12, months % 12 + 1, 1));
    } else if (first != nullptr) {
      a.start = rng.between(first->start, today_);
    } else {
      a.start = rng.between(std::min(earliest, today_), today_);
    }
    if (rng.permille(50)) {  // a leaver (possibly a planned one, up to 90 days ahead)
      const int span = std::max(1, today_ + 90 - a.start);
      a.end = a.start + 1 + static_cast<int>(rng.below(static_cast<u32>(span)));
    }
    a.lead_employer = role.trainee && rng.permille(600);
    a.primary = first == nullptr;
    a.epp = rng.permille(role.epp_permille);
    return a;
  }

 private:
  u64 seed_;
  int today_;
  Affine employee_map_;
  Affine ni_map_;
  Affine nhs_map_;
};

// ---------------------------------------------------------------------------------------------
// ESR -> OH FULL extract

enum class Bad : std::uint8_t { none, nhs_check, ni_prefix, april_31, dob_future, end_before_start, gender };
constexpr std::array kBadPerson{Bad::nhs_check, Bad::ni_prefix, Bad::april_31, Bad::dob_future, Bad::gender};
constexpr std::array kBadAssignment{Bad::april_31, Bad::end_before_start};

void put_flag(Out& out, bool v) {
  out.put(v ? 'Y' : 'N');
}

void write_forenames(Out& out, const Person& p) {
  out.put(p.forename1->text);
  if (p.forename2 != nullptr) {
    out.put(' ');
    out.put(p.forename2->text);
  }
}

void write_per(Out& out, const Person& p, Bad bad, u64 bad_serial) {
  out.put("PER|A|");
  out.uint(p.person_number);
  out.put('|');
  out.put(p.employee_number());
  out.put('|');
  if (bad == Bad::ni_prefix) {
    out.put(kForbiddenNiPrefixes[bad_serial % kForbiddenNiPrefixes.size()]);
    out.put(p.ni_number().substr(2));
  } else {
    out.put(p.ni_number());
  }
  out.put('|');
  if (bad == Bad::nhs_check) {
    std::array<char, 10> n = p.nhs;
    n[9] = static_cast<char>('0' + (n[9] - '0' + 1 + static_cast<int>(bad_serial % 9U)) % 10);
    out.put(sv(n.data(), n.size()));
  } else {
    out.put(p.nhs_number());
  }
  out.put('|');
  out.put(p.title);
  out.put('|');
  out.put(p.surname->text);
  out.put('|');
  write_forenames(out, p);
  out.put('|');
  if (p.previous_surname != nullptr) out.put(p.previous_surname->text);
  out.put('|');
  if (bad == Bad::april_31) {
    out.ymd8(civil_from_days(p.dob).y, 4, 31);
  } else if (bad == Bad::dob_future) {
    out.date8(years_before(p.dob, -80));  // 18..67 years old -> 13..62 years ahead
  } else {
    out.date8(p.dob);
  }
  out.put('|');
  if (bad == Bad::gender) {
    constexpr std::array<sv, 4> kBadGenders{"Q", "Male", "0", "f"};
    out.put(kBadGenders[bad_serial % kBadGenders.size()]);
  } else {
    out.put(p.gender);
  }
  out.put('|');
  if (p.has_email) {
    out.put(p.forename1->slug);
    out.put('.');
    out.put(p.surname->slug);
    if (p.email_number != 0) out.uint(p.email_number);
    out.put("@nhs.net");
  }
  out.put('|');
  if (p.has_mobile) {
    out.put("07");
    out.zpad(p.mobile, 9);
  }
  out.put('|');
  out.put(p.postcode_area);
  out.uint(p.postcode_district);
  out.put(' ');
  out.uint(p.postcode_sector);
  out.put(sv(p.postcode_unit.data(), 2));
  out.put('|');
  if (p.consent != 0) out.put(p.consent);
  out.put('\n');
}

void write_asg(Out& out, const Person& p, const Assignment& a, Bad bad) {
  const Role& role = kRoles[a.role];
  out.put("ASG|A|");
  out.uint(p.person_number);
  out.put('|');
  out.uint(p.person_number);
  out.put('-');
  out.uint(a.number);
  out.put('|');
  out.put(a.org_code);
  out.put('|');
  out.put(role.title);
  out.put('|');
  out.put(role.staff_group);
  out.put('|');
  out.put(role.occupation_code);
  out.put('|');
  out.put(a.department);
  out.put('|');
  out.put(a.site);
  out.put('|');
  if (bad == Bad::april_31) {
    out.ymd8(civil_from_days(a.start).y, 4, 31);
  } else {
    out.date8(a.start);
  }
  out.put('|');
  if (bad == Bad::end_before_start) {
    out.date8(a.start - 1 - static_cast<int>(p.index % 400U));
  } else if (a.end) {
    out.date8(*a.end);
  }
  out.put('|');
  put_flag(out, a.lead_employer);
  out.put('|');
  put_flag(out, a.primary);
  out.put('|');
  put_flag(out, role.trainee);
  out.put('|');
  out.put(role.grade);
  out.put('|');
  put_flag(out, a.epp);
  out.put('\n');
}

struct EsrOptions {
  u64 persons = 0;
  u64 seed = 1;
  std::string vpd = "245";
  u64 seq = 1;
  int date = 0;
  u64 bad_every = 0;
};

void generate_esr_full(Out& out, const EsrOptions& o) {
  const World world(o.seed, o.date);
  out.put("HDR|ESR-OHS|1.0|");
  out.put(o.vpd);
  out.put("|FULL|");
  out.uint(o.seq);
  out.put('|');
  out.date8(o.date);
  out.put("020000\n");

  u64 records = 0;
  u64 bad_person = 0;
  u64 bad_assignment = 0;
  const auto next_bad = [&](bool person) {
    ++records;
    if (o.bad_every == 0 || records % o.bad_every != 0) return Bad::none;
    return person ? kBadPerson[bad_person++ % kBadPerson.size()]
                  : kBadAssignment[bad_assignment++ % kBadAssignment.size()];
  };

  for (u64 i = 0; i < o.persons; ++i) {
    Rng rng(stream_key(o.seed, 10, i));
    const Person p = world.make_person(i, rng);
    const Bad per_bad = next_bad(true);
    write_per(out, p, per_bad, bad_person);
    const u32 count = rng.permille(300) ? 2 : 1;
    Assignment first;
    for (u32 n = 1; n <= count; ++n) {
      const Assignment a = world.make_assignment(p, n, n == 1 ? nullptr : &first, rng);
      if (n == 1) first = a;
      write_asg(out, p, a, next_bad(false));
    }
  }
  out.put("TRL|");
  out.uint(records);
  out.put('\n');
}

// ---------------------------------------------------------------------------------------------
// OH exports (CSV and XML): the same events either way.

enum class TestKind : std::uint8_t { vaccine, igg, anti_hbs, igra, history, scar };

struct Test {
  sv name;
  TestKind kind;
  u32 max_dose;  // vaccines only
  u32 weight;
};

constexpr std::array kTests{
    Test{"Measles vaccine (MMR)", TestKind::vaccine, 2, 6},
    Test{"Mumps vaccine (MMR)", TestKind::vaccine, 2, 6},
    Test{"Rubella vaccine (MMR)", TestKind::vaccine, 2, 6},
    Test{"Measles IgG", TestKind::igg, 0, 3},
    Test{"Mumps IgG", TestKind::igg, 0, 3},
    Test{"Rubella IgG", TestKind::igg, 0, 3},
    Test{"Varicella vaccine", TestKind::vaccine, 2, 2},
    Test{"Varicella IgG", TestKind::igg, 0, 3},
    Test{"Chickenpox history", TestKind::history, 0, 3},
    Test{"Hepatitis B vaccine", TestKind::vaccine, 3, 8},
    Test{"Anti-HBs", TestKind::anti_hbs, 0, 5},
    Test{"BCG", TestKind::vaccine, 1, 2},
    Test{"BCG scar", TestKind::scar, 0, 2},
    Test{"IGRA (QuantiFERON)", TestKind::igra, 0, 3},
    Test{"Influenza vaccine", TestKind::vaccine, 1, 10},
    Test{"COVID-19 vaccine", TestKind::vaccine, 3, 8},
    Test{"Pertussis vaccine (dTaP/IPV)", TestKind::vaccine, 1, 2},
};

struct Event {
  u64 record = 0;  // 1-based
  Person person;
  bool has_person_number = true;
  bool has_ni = true;
  bool has_nhs = true;
  std::string surname;    // the OH system's spelling (occasionally needs CSV quoting)
  std::string forenames;  // ditto
  const Test* test = nullptr;
  u32 dose = 0;  // 0 = blank
  int date = 0;
  sv result;
  std::optional<u32> titre;
  u32 provider = 1;
};

class EventSource {
 public:
  EventSource(u64 seed, int date, u64 persons) : world_(seed, date), persons_(persons) {
    for (const auto& t : kTests)
      total_weight_ += t.weight;
  }

  void make(u64 r, Event& e) const {
    Rng rng(stream_key(world_.seed(), 20, r));
    e.record = r + 1;
    const u64 pi = rng.below64(persons_);
    Rng prng(stream_key(world_.seed(), 10, pi));
    e.person = world_.make_person(pi, prng);
    const Person& p = e.person;

    e.has_person_number = !rng.permille(50);
    e.has_ni = !rng.permille(50);
    e.has_nhs = p.has_nhs && !rng.permille(30);

    e.surname.assign(p.surname->text);
    if (rng.permille(1)) e.surname.append(", Jnr");
    e.forenames.assign(p.forename1->text);
    const u32 style = rng.below(1000);
    if (style < 3) {  // entered as "Mary, Jane"
      e.forenames.append(", ");
      const Name& other = p.gender == 'M' ? pick(rng, kMaleForenames) : pick(rng, kFemaleForenames);
      e.forenames.append(p.forename2 != nullptr ? p.forename2->text : other.text);
    } else if (style < 4) {  // a nickname in quotes
      e.forenames.append(" \"");
      const sv nick = p.forename1->slug.substr(0, 3);
      e.forenames.push_back(static_cast<char>(nick[0] - 'a' + 'A'));
      e.forenames.append(nick.substr(1));
      e.forenames.append("\"");
    } else if (p.forename2 != nullptr) {
      e.forenames.push_back(' ');
      e.forenames.append(p.forename2->text);
    }

    u32 x = rng.below(total_weight_);
    e.test = &kTests.back();
    for (const auto& t : kTests) {
      if (x < t.weight) {
        e.test = &t;
        break;
      }
      x -= t.weight;
    }

    const int today = world_.today();
    const int lo = std::max(years_before(p.dob, -16), years_before(today, 15));
    e.date = rng.between(std::min(lo, today), today);

    e.dose = 0;
    e.titre.reset();
    const u32 roll = rng.below(1000);
    switch (e.test->kind) {
      case TestKind::vaccine:
        e.dose = 1 + rng.below(e.test->max_dose);
        e.result = roll < 20 ? "Declined" : "Given";
        break;
      case TestKind::igg:
        e.result = roll < 850 ? "Positive" : roll < 950 ? "Negative" : "Equivocal";
        break;
      case TestKind::anti_hbs:
        if (roll < 800) {
          e.result = "Positive";
          e.titre = 10 + rng.below(991);
        } else {
          e.result = "Negative";
          e.titre = rng.below(10);
        }
        break;
      case TestKind::igra:
        e.result = roll < 950 ? "Negative" : "Positive";
        break;
      case TestKind::history:
        e.result = "Positive";
        break;
      case TestKind::scar:
        e.result = "Seen";
        break;
    }
    e.provider = rng.permille(850) ? p.provider : 1 + rng.below(5);
  }

 private:
  World world_;
  u64 persons_;
  u32 total_weight_ = 0;
};

void put_record_id(Out& out, u64 record) {
  out.put("OHR");
  out.zpad(record, 7);
}

void put_provider(Out& out, u32 provider) {
  out.put("OHP");
  out.zpad(provider, 2);
}

void write_csv_event(Out& out, const Event& e) {
  const Person& p = e.person;
  put_record_id(out, e.record);
  out.put(',');
  out.put(p.employee_number());
  out.put(',');
  if (e.has_person_number) out.uint(p.person_number);
  out.put(',');
  out.csv(e.surname);
  out.put(',');
  out.csv(e.forenames);
  out.put(',');
  out.date_dmy(p.dob);
  out.put(',');
  if (e.has_ni) out.put(p.ni_number());
  out.put(',');
  if (e.has_nhs) out.put(p.nhs_number());
  out.put(',');
  out.csv(e.test->name);
  out.put(',');
  if (e.dose != 0) out.uint(e.dose);
  out.put(',');
  out.date_dmy(e.date);
  out.put(',');
  out.put(e.result);
  out.put(',');
  if (e.titre) out.uint(*e.titre);
  out.put(',');
  put_provider(out, e.provider);
  out.put("\r\n");
}

void write_xml_event(Out& out, const Event& e) {
  const Person& p = e.person;
  out.put("  <Event id=\"");
  put_record_id(out, e.record);
  out.put("\">\n    <Provider>");
  put_provider(out, e.provider);
  out.put("</Provider>\n    <Subject staffId=\"");
  out.xml(p.employee_number(), true);
  out.put('"');
  if (e.has_person_number) {
    out.put(" personNumber=\"");
    out.uint(p.person_number);
    out.put('"');
  }
  out.put(">\n      <Surname>");
  out.xml(e.surname, false);
  out.put("</Surname><Forenames>");
  out.xml(e.forenames, false);
  out.put("</Forenames>\n      <DateOfBirth>");
  out.date_iso(p.dob);
  out.put("</DateOfBirth>");
  if (e.has_ni) {
    out.put("<NINumber>");
    out.put(p.ni_number());
    out.put("</NINumber>");
  }
  if (e.has_nhs) {
    out.put("<NHSNumber>");
    out.put(p.nhs_number());
    out.put("</NHSNumber>");
  }
  out.put("\n    </Subject>\n    <Test>");
  out.xml(e.test->name, false);
  out.put("</Test>\n    <Given date=\"");
  out.date_iso(e.date);
  out.put('"');
  if (e.dose != 0) {
    out.put(" dose=\"");
    out.uint(e.dose);
    out.put('"');
  }
  out.put("/>\n    <Outcome>");
  out.put(e.result);
  out.put("</Outcome>\n");
  if (e.titre) {
    out.put("    <Titre units=\"mIU/mL\">");
    out.uint(*e.titre);
    out.put("</Titre>\n");
  }
  out.put("  </Event>\n");
}

struct OhOptions {
  u64 records = 0;
  u64 seed = 1;
  u64 persons = 0;  // 0 = records / 4
  int date = 0;
};

void generate_oh(Out& out, const OhOptions& o, bool xml) {
  const u64 persons = o.persons != 0 ? o.persons : std::max<u64>(1, o.records / 4);
  const EventSource source(o.seed, o.date, persons);
  if (xml) {
    out.put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OHExport system=\"GenericOH\" version=\"1\">\n");
  } else {
    out.put(
        "Record ID,Staff ID,Person Number,Surname,Forename(s),Date of Birth,NI Number,NHS Number,"
        "Vaccine/Test,Dose,Date Given,Result,Titre (mIU/mL),Provider\r\n");
  }
  Event e;
  for (u64 r = 0; r < o.records; ++r) {
    source.make(r, e);
    if (xml) {
      write_xml_event(out, e);
    } else {
      write_csv_event(out, e);
    }
  }
  if (xml) out.put("</OHExport>\n");
}

// ---------------------------------------------------------------------------------------------
// Command line

constexpr sv kUsage =
    "usage: esrsync_bench_gen esr-full --persons N [--seed S] [--vpd 245] [--seq 1] [--date YYYYMMDD]\n"
    "                                  [--bad-every K]\n"
    "       esrsync_bench_gen oh-csv   --records N [--seed S] [--persons P] [--date YYYYMMDD]\n"
    "       esrsync_bench_gen oh-xml   --records N [--seed S] [--persons P] [--date YYYYMMDD]\n"
    "Writes a deterministic synthetic workload to stdout (same arguments -> same bytes).\n"
    "--date is the extract/reference date (default 20260801); --persons for oh-* is the size of the\n"
    "ESR population the events refer to (default records/4); --bad-every K puts one invalid field\n"
    "in every K-th PER/ASG record (default 0: none).\n";

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "esrsync_bench_gen: %s\n%.*s", message.c_str(), static_cast<int>(kUsage.size()), kUsage.data());
  std::exit(2);
}

u64 parse_u64(sv option, sv text) {
  u64 v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    usage_error(std::string(option) + " wants a non-negative integer, got '" + std::string(text) + "'");
  }
  return v;
}

int parse_date(sv text) {
  const u64 v = parse_u64("--date", text);
  const int y = static_cast<int>(v / 10000U);
  const int m = static_cast<int>(v / 100U % 100U);
  const int d = static_cast<int>(v % 100U);
  if (text.size() != 8 || y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
    usage_error("--date wants a real date YYYYMMDD, got '" + std::string(text) + "'");
  }
  return days_from_civil(y, m, d);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage_error("no mode given");
  const sv mode = argv[1];
  if (mode == "--help" || mode == "-h") {
    std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
    return 0;
  }
  const bool esr = mode == "esr-full";
  if (!esr && mode != "oh-csv" && mode != "oh-xml") usage_error("unknown mode '" + std::string(mode) + "'");

  EsrOptions eo;
  OhOptions oo;
  eo.date = oo.date = days_from_civil(2026, 8, 1);
  bool have_count = false;
  for (int i = 2; i < argc; ++i) {
    const sv opt = argv[i];
    if (opt == "--help" || opt == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    }
    if (i + 1 >= argc) usage_error(std::string(opt) + " needs a value");
    const sv val = argv[++i];
    if (opt == "--seed") {
      eo.seed = oo.seed = parse_u64(opt, val);
    } else if (opt == "--date") {
      eo.date = oo.date = parse_date(val);
    } else if (opt == "--persons") {
      eo.persons = oo.persons = parse_u64(opt, val);
      have_count = have_count || esr;
    } else if (esr && opt == "--vpd") {
      if (val.size() != 3 || val.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != sv::npos) {
        usage_error("--vpd wants 3 upper-case letters or digits");
      }
      eo.vpd = std::string(val);
    } else if (esr && opt == "--seq") {
      eo.seq = parse_u64(opt, val);
    } else if (esr && opt == "--bad-every") {
      eo.bad_every = parse_u64(opt, val);
    } else if (!esr && opt == "--records") {
      oo.records = parse_u64(opt, val);
      have_count = true;
    } else {
      usage_error("unknown option '" + std::string(opt) + "' for " + std::string(mode));
    }
  }
  if (!have_count) usage_error(esr ? "--persons is required" : "--records is required");
  if (esr && eo.persons > 89'999'999) usage_error("--persons: at most 89999999 (8-digit person numbers)");
  if (!esr && oo.persons > 89'999'999) usage_error("--persons: at most 89999999 (8-digit person numbers)");

  Out out(stdout);
  if (esr) {
    generate_esr_full(out, eo);
  } else {
    generate_oh(out, oo, mode == "oh-xml");
  }
  if (!out.finish()) {
    std::fprintf(stderr, "esrsync_bench_gen: write error on stdout: %s\n", std::strerror(errno));
    return 1;
  }
  return 0;
}
