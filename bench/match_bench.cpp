// Matching benchmark (issue #5): quality and speed of matching OH records to persons.
//
//   esrsync_bench_match --extract DE_FILE [--records 100000] [--seed 1] [--dir D] [--twins-every 50]
//
// The persons are the PER records of a generated ESR extract (esrsync_bench_gen esr-full), put into
// the person index as a sync would. The generator draws names from short lists (68 surnames, 84
// forenames), far less varied than a real workforce: at 1.5M persons hundreds would share each
// full name, so the bench first makes the names as varied as real ones, deterministically per
// person — a surname ending from a list of 40 ("Smith" -> "Smithfield") and, for half, a middle
// name — giving millions of possible full names. Then deliberate near-duplicates: every K-th
// person gets a "twin" (same surname and date of birth, another forename, no shared numbers) and a
// "namesake" (same names, date of birth one digit off). Then N noisy OH references are generated
// from known persons, deterministically, each with its ground truth:
//
//   person number; employee number only; NHS number only; NI + date of birth + surname written
//   differently (case, accents, apostrophes); names + date of birth, no numbers; a surname typo;
//   day and month swapped; a date of birth one digit off; the maiden name (ESR has it as the
//   previous surname); a shortened forename; and people who are not in the store at all.
//
// Each is matched in process (recon::match_person, the code sync runs) and scored against the
// truth: a confusion table, auto-match precision and recall, the share of true matches that are
// auto-matched or ranked first in a review item, records/s on one core, and peak RSS.
// MATCH_DEBUG=1 also prints each wrong automatic match of a stranger on stderr (synthetic names).
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "esrsync/model/names.hpp"
#include "esrsync/model/validators.hpp"
#include "esrsync/recon/matcher.hpp"
#include "esrsync/store/schema.hpp"

namespace {

using esrsync::model::Record;

struct Person {
  std::string number, employee, ni, nhs, surname, forenames, previous, dob, postcode;
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::size_t at = 0;
  for (;;) {
    const auto bar = line.find('|', at);
    out.push_back(line.substr(at, bar == std::string::npos ? std::string::npos : bar - at));
    if (bar == std::string::npos) return out;
    at = bar + 1;
  }
}

std::string iso(const std::string& compact) {
  return compact.size() == 8 ? compact.substr(0, 4) + "-" + compact.substr(4, 2) + "-" + compact.substr(6, 2) : "";
}

bool valid_date(const std::string& iso_date) {
  return static_cast<bool>(esrsync::model::parse_iso_date(iso_date));
}

Record person_record(const Person& p) {
  Record r;
  r.reset(esrsync::model::Entity::person);
  r.set("person_number", p.number);
  r.set("employee_number", p.employee);
  r.set("ni_number", p.ni);
  r.set("nhs_number", p.nhs);
  r.set("surname", p.surname);
  r.set("forenames", p.forenames);
  r.set("previous_surname", p.previous);
  r.set("date_of_birth", p.dob);
  r.set("postcode", p.postcode);
  return r;
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

enum Noise : int {
  kPersonNumber,
  kEmployeeOnly,
  kNhsOnly,
  kNiDobSurname,
  kNamesDob,
  kSurnameTypo,
  kDobSwapped,
  kDobDigit,
  kMaidenName,
  kShortForename,
  kNotInStore,
  kNoiseCount
};
constexpr std::array<const char*, kNoiseCount> kNoiseNames{
    "person number",         "employee number only", "NHS number only",   "NI+DOB+surname (case/accents)",
    "names+DOB, no numbers", "surname typo",         "day/month swapped", "DOB one digit off",
    "maiden name",           "short forename",       "not in the store"};
// Out of 100.
constexpr std::array<int, kNoiseCount> kNoiseWeights{25, 10, 10, 10, 10, 8, 7, 7, 5, 5, 3};

}  // namespace

int main(int argc, char** argv) {
  std::string extract;
  int records = 100'000;
  std::uint64_t seed = 1;
  int twins_every = 50;
  std::string dir = std::filesystem::temp_directory_path() / "esrsync-bench-match";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--extract") extract = argv[i + 1];
    if (arg == "--records") records = std::stoi(argv[i + 1]);
    if (arg == "--seed") seed = std::stoull(argv[i + 1]);
    if (arg == "--dir") dir = argv[i + 1];
    if (arg == "--twins-every") twins_every = std::stoi(argv[i + 1]);
  }
  if (extract.empty()) {
    std::fprintf(stderr, "usage: esrsync_bench_match --extract DE_FILE [--records N] [--seed S] [--dir D]\n");
    return 2;
  }

  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto db = esrsync::store::SqliteDb::open(dir + "/match.db");
  if (!db || !db->migrate(esrsync::store::schema_migrations())) return 2;
  esrsync::store::PersonIndex index(*db);

  // Persons streamed from the extract into the index, names made varied, near-duplicates added; a
  // deterministic sample of them is kept to make the references from.
  constexpr std::array<const char*, 40> kEndings{"",       "s",      "son",   "ley",   "ton",  "field", "wood",  "ford",
                                                 "worth",  "well",   "by",    "ham",   "more", "combe", "dale",  "er",
                                                 "ington", "bury",   "cott",  "hurst", "land", "ridge", "stone", "way",
                                                 "wick",   "thorne", "brook", "house", "man",  "ling",  "den",   "row",
                                                 "shaw",   "lock",   "gate",  "ey",    "kin",  "ett",   "ock",   "all"};
  std::mt19937_64 rng(seed);
  std::vector<Person> persons;  // the sample
  const std::size_t sample_size = static_cast<std::size_t>(records) * 2;
  std::size_t real_persons = 0;
  std::size_t near_duplicates = 0;
  std::uint64_t next_number = 90'000'000;
  std::string previous_forename = "Alex";
  auto started = std::chrono::steady_clock::now();
  if (!db->begin()) return 2;
  const auto add = [&](const Person& p) {
    return static_cast<bool>(index.put(esrsync::store::PersonKeys::from(person_record(p), "245")));
  };
  std::ifstream in(extract);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("PER|")) continue;
    const auto f = split(line);
    if (f.size() < 16) continue;
    Person p{f[2], f[3], f[4], f[5], f[7], f[8], f[9], iso(f[10]), f[14]};
    const std::uint64_t h = std::hash<std::string>{}(p.number) * 0x9E3779B97F4A7C15ULL;
    p.surname += kEndings[h % kEndings.size()];
    if (!p.previous.empty()) p.previous += kEndings[(h >> 8) % kEndings.size()];
    if (((h >> 16) & 1U) != 0 && p.forenames.find(' ') == std::string::npos) p.forenames += " " + previous_forename;
    if (!add(p)) return 2;
    ++real_persons;
    if (real_persons % static_cast<std::size_t>(twins_every) == 0) {
      Person twin{std::to_string(next_number++), "", "", "", p.surname, previous_forename, "", p.dob, p.postcode};
      Person namesake{std::to_string(next_number++), "", "", "", p.surname, p.forenames, "", p.dob, ""};
      namesake.dob[3] = namesake.dob[3] == '9' ? '8' : static_cast<char>(namesake.dob[3] + 1);  // a year one digit off
      for (const auto* extra : {&twin, &namesake}) {
        if (extra->forenames == p.forenames && extra == &twin) continue;
        if (!valid_date(extra->dob)) continue;
        if (!add(*extra)) return 2;
        ++near_duplicates;
      }
    }
    previous_forename = f[8].substr(0, f[8].find(' '));
    // Reservoir sampling: every person is equally likely to be referenced.
    if (persons.size() < sample_size) {
      persons.push_back(std::move(p));
    } else {
      const std::size_t slot = rng() % real_persons;
      if (slot < sample_size) persons[slot] = std::move(p);
    }
  }
  if (!db->commit()) return 2;
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (persons.empty()) return 2;

  // Noisy references with their truth.
  struct Case {
    Record ref;
    std::string truth;  // "" = not in the store
    Noise noise;
  };
  std::vector<Case> cases;
  cases.reserve(static_cast<std::size_t>(records));
  std::uniform_int_distribution<std::size_t> any_person(0, persons.size() - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  const auto pick_noise = [&]() {
    int roll = percent(rng);
    for (int n = 0; n < kNoiseCount; ++n) {
      if (roll < kNoiseWeights[static_cast<std::size_t>(n)]) return static_cast<Noise>(n);
      roll -= kNoiseWeights[static_cast<std::size_t>(n)];
    }
    return kNamesDob;
  };
  while (cases.size() < static_cast<std::size_t>(records)) {
    Noise noise = pick_noise();
    const Person& p = persons[any_person(rng)];
    Record r;
    r.reset(esrsync::model::Entity::immunisation);
    r.set("surname", p.surname);
    r.set("forenames", p.forenames);
    r.set("date_of_birth", p.dob);
    std::string truth = p.number;
    switch (noise) {
      case kPersonNumber:
        r.set("person_number", p.number);
        break;
      case kEmployeeOnly:
        r.set("employee_number", p.employee);
        break;
      case kNhsOnly:
        if (p.nhs.empty()) continue;
        r.set("nhs_number", p.nhs);
        break;
      case kNiDobSurname: {
        if (p.ni.empty()) continue;
        r.set("ni_number", p.ni);
        std::string written = esrsync::model::fold_name(p.surname);  // no accents, apostrophes or case
        std::transform(written.begin(), written.end(), written.begin(),
                       [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
        r.set("surname", written);
        break;
      }
      case kNamesDob:
        break;
      case kSurnameTypo: {
        std::string s = p.surname;
        if (s.size() < 5) continue;
        const std::size_t at = 2 + rng() % (s.size() - 3);
        if (static_cast<unsigned char>(s[at]) >= 0x80) continue;
        s[at] = s[at] == 'e' ? 'a' : 'e';
        r.set("surname", s);
        break;
      }
      case kDobSwapped: {
        const std::string swapped = p.dob.substr(0, 5) + p.dob.substr(8, 2) + "-" + p.dob.substr(5, 2);
        if (swapped == p.dob || !valid_date(swapped)) continue;
        r.set("date_of_birth", swapped);
        break;
      }
      case kDobDigit: {
        std::string d = p.dob;
        d[9] = d[9] == '1' ? '7' : '1';  // the last digit of the day, mistyped
        if (d == p.dob || !valid_date(d)) continue;
        r.set("date_of_birth", d);
        break;
      }
      case kMaidenName:
        if (p.previous.empty()) continue;
        r.set("surname", p.previous);
        break;
      case kShortForename:
        if (p.forenames.size() < 5) continue;
        r.set("forenames", p.forenames.substr(0, 3));
        break;
      case kNotInStore: {
        // Someone else entirely: names and a date of birth drawn from the same population, so
        // some share a name with a person in the store (the hard case for precision).
        const Person& a = persons[any_person(rng)];
        const Person& b = persons[any_person(rng)];
        const Person& c = persons[any_person(rng)];
        r.set("surname", a.surname);
        r.set("forenames", b.forenames);
        r.set("date_of_birth", c.dob);
        truth.clear();
        break;
      }
      case kNoiseCount:
        break;
    }
    cases.push_back(Case{std::move(r), std::move(truth), noise});
  }

  // Match, timed.
  enum Outcome { kAutoRight, kAutoWrong, kReviewFirst, kReviewLower, kReviewAbsent, kNoMatch, kConflict, kOutcomes };
  constexpr std::array<const char*, kOutcomes> kOutcomeNames{
      "auto, right person",   "auto, WRONG person", "review, truth ranked 1st", "review, truth lower",
      "review, truth absent", "no_match",           "identifier_conflict"};
  std::map<int, std::array<long, kOutcomes>> table;
  std::array<long, kOutcomes> totals{};
  std::array<long, kOutcomes> strangers{};
  started = std::chrono::steady_clock::now();
  for (const auto& c : cases) {
    auto m = esrsync::recon::match_person(c.ref, index);
    if (!m) {
      std::fprintf(stderr, "%s\n", m.error().to_string().c_str());
      return 2;
    }
    Outcome o = kNoMatch;
    if (m->matched) {
      o = m->person_number == c.truth ? kAutoRight : kAutoWrong;
    } else if (m->kind == esrsync::store::ReconKind::identifier_conflict) {
      o = kConflict;
    } else if (m->kind == esrsync::store::ReconKind::possible_match) {
      const auto it = std::find_if(m->candidates.begin(), m->candidates.end(),
                                   [&](const auto& cand) { return cand.person_number == c.truth; });
      o = it == m->candidates.end() ? kReviewAbsent : it == m->candidates.begin() ? kReviewFirst : kReviewLower;
    }
    if (c.truth.empty()) {
      if (m->matched && std::getenv("MATCH_DEBUG") != nullptr) {
        auto k = index.get(m->person_number);
        std::fprintf(stderr, "stranger %s|%s|%s matched %s|%s|%s score %.3f\n",
                     std::string(c.ref.get("surname")).c_str(), std::string(c.ref.get("forenames")).c_str(),
                     std::string(c.ref.get("date_of_birth")).c_str(), (*k)->surname_key.c_str(),
                     (*k)->forenames_key.c_str(), (*k)->date_of_birth.c_str(), m->score);
      }
      ++strangers[static_cast<std::size_t>(o)];
    } else {
      ++table[c.noise][static_cast<std::size_t>(o)];
      ++totals[static_cast<std::size_t>(o)];
    }
  }
  const double match_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::printf("persons in the index: %zu (%zu from the extract + %zu near-duplicates), built in %.1f s\n",
              real_persons + near_duplicates, real_persons, near_duplicates, build_s);
  std::printf("OH records matched: %d in %.2f s = %.0f records/s (one core); peak RSS %.0f MiB\n\n", records, match_s,
              records / match_s, static_cast<double>(peak_rss_kib()) / 1024.0);
  std::printf("| noise | records |");
  for (const auto* name : kOutcomeNames)
    std::printf(" %s |", name);
  std::printf("\n|---|---:|");
  for (int i = 0; i < kOutcomes; ++i)
    std::printf("---:|");
  std::printf("\n");
  for (const auto& [noise, row] : table) {
    long n = 0;
    for (const long v : row)
      n += v;
    std::printf("| %s | %ld |", kNoiseNames[static_cast<std::size_t>(noise)], n);
    for (const long v : row)
      std::printf(" %ld |", v);
    std::printf("\n");
  }
  long stranger_n = 0;
  for (const long v : strangers)
    stranger_n += v;
  std::printf("| %s | %ld |", kNoiseNames[kNotInStore], stranger_n);
  for (const long v : strangers)
    std::printf(" %ld |", v);
  std::printf("\n\n");

  long with_truth = 0;
  for (const long v : totals)
    with_truth += v;
  const long wrong = totals[kAutoWrong] + strangers[kAutoRight] + strangers[kAutoWrong];
  const double precision = static_cast<double>(totals[kAutoRight]) / static_cast<double>(totals[kAutoRight] + wrong);
  const double recall = static_cast<double>(totals[kAutoRight]) / static_cast<double>(with_truth);
  const double first = static_cast<double>(totals[kAutoRight] + totals[kReviewFirst]) / static_cast<double>(with_truth);
  const double rate = records / match_s;
  std::printf("auto-match precision  %.4f%%  (target >= 99.9%%)  %s\n", 100 * precision,
              precision >= 0.999 ? "met" : "NOT MET");
  std::printf("auto-match recall     %.2f%%  (target >= 95%%)    %s\n", 100 * recall,
              recall >= 0.95 ? "met" : "NOT MET");
  std::printf("auto or ranked first  %.2f%%  (target >= 99%%)    %s\n", 100 * first, first >= 0.99 ? "met" : "NOT MET");
  std::printf("speed                 %.0f records/s (target >= 20000, 100k in <= 5 s)  %s\n", rate,
              rate >= 20000 ? "met" : "NOT MET");
  std::printf("peak RSS              %.0f MiB (target <= 512)  %s\n", static_cast<double>(peak_rss_kib()) / 1024.0,
              peak_rss_kib() <= 512 * 1024 ? "met" : "NOT MET");
  return 0;
}
