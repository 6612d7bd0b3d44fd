#include "esrsync/recon/matcher.hpp"

#include <algorithm>

#include "esrsync/codec/json_lines.hpp"
#include "esrsync/model/validators.hpp"

namespace esrsync::recon {
namespace {

struct Pointer {
  std::string_view identifier;  // the field that pointed
  std::vector<store::PersonKeys> persons;
};

MatchResult matched(const store::PersonKeys& person, std::string rule) {
  MatchResult m;
  m.matched = true;
  m.person_number = person.person_number;
  m.vpd = person.vpd;
  m.rule = std::move(rule);
  m.score = 1;
  return m;
}

void add_candidate(std::vector<Candidate>& out, const std::string& person_number, std::string_view rule) {
  const auto it =
      std::find_if(out.begin(), out.end(), [&](const Candidate& c) { return c.person_number == person_number; });
  if (it == out.end()) {
    out.push_back(Candidate{person_number, 0, std::string(rule)});
  } else {
    it->rule += "," + std::string(rule);
  }
}

// ISO dates "yyyy-mm-dd": day and month swapped (when that is a date at all).
std::string swapped_dob(std::string_view dob) {
  if (dob.size() != 10) return {};
  std::string out = std::string(dob.substr(0, 5)) + std::string(dob.substr(8, 2)) + "-" + std::string(dob.substr(5, 2));
  return model::parse_iso_date(out) ? out : std::string{};
}

double dob_similarity(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty() || a.size() != b.size()) return 0;
  if (a == b) return 1;
  if (swapped_dob(a) == b) return 0.85;
  int differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    differ += a[i] != b[i] ? 1 : 0;
  return differ == 1 ? 0.85 : 0;
}

}  // namespace

double jaro_winkler(std::string_view a, std::string_view b) noexcept {
  if (a.empty() && b.empty()) return 1;
  if (a.empty() || b.empty()) return 0;
  if (a == b) return 1;
  const std::size_t window = std::max<std::size_t>(std::max(a.size(), b.size()) / 2, 1) - 1;
  std::vector<char> a_match(a.size(), 0);
  std::vector<char> b_match(b.size(), 0);
  std::size_t matches = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t from = i > window ? i - window : 0;
    const std::size_t to = std::min(i + window + 1, b.size());
    for (std::size_t j = from; j < to; ++j) {
      if (b_match[j] != 0 || a[i] != b[j]) continue;
      a_match[i] = b_match[j] = 1;
      ++matches;
      break;
    }
  }
  if (matches == 0) return 0;
  std::size_t transpositions = 0;
  for (std::size_t i = 0, j = 0; i < a.size(); ++i) {
    if (a_match[i] == 0) continue;
    while (b_match[j] == 0)
      ++j;
    if (a[i] != b[j]) ++transpositions;
    ++j;
  }
  const double m = static_cast<double>(matches);
  const double jaro = (m / static_cast<double>(a.size()) + m / static_cast<double>(b.size()) +
                       (m - static_cast<double>(transpositions) / 2) / m) /
                      3;
  std::size_t prefix = 0;
  while (prefix < 4 && prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix])
    ++prefix;
  return jaro + static_cast<double>(prefix) * 0.1 * (1 - jaro);
}

namespace {

// The rule-5 score of a reference (its keys folded once, as the index folds persons') against one
// person.
double score_keys(const store::PersonKeys& me, const store::PersonKeys& p) {
  double sur = jaro_winkler(me.surname_key, p.surname_key);
  if (!p.previous_surname_key.empty()) {
    sur = std::max(sur, 0.97 * jaro_winkler(me.surname_key, p.previous_surname_key));
  }
  if (!me.previous_surname_key.empty()) {
    sur = std::max(sur, 0.97 * jaro_winkler(me.previous_surname_key, p.surname_key));
  }
  const double fore = me.forenames_key.empty() ? 0.5 : jaro_winkler(me.forenames_key, p.forenames_key);
  const double birth = me.date_of_birth.empty() ? 0.5 : dob_similarity(me.date_of_birth, p.date_of_birth);
  // Surname, forenames and date of birth weigh alike: two of them agreeing is a family (twins,
  // siblings, a parent), not a person.
  double total = 0.3 * sur + 0.3 * fore + 0.3 * birth;
  double weights = 0.9;
  const std::string& postcode = me.postcode_key;
  if (!postcode.empty() && !p.postcode_key.empty()) {
    const bool same_outward =
        postcode.size() > 3 && p.postcode_key.size() > 3 &&
        postcode.substr(0, postcode.size() - 3) == p.postcode_key.substr(0, p.postcode_key.size() - 3);
    total += 0.1 * (postcode == p.postcode_key ? 1.0 : same_outward ? 0.6 : 0.0);
    weights += 0.1;
  }
  double s = total / weights;
  // A national number that is not the candidate's speaks against them.
  for (const auto& [mine, theirs] :
       {std::pair{&me.nhs_number, &p.nhs_number}, std::pair{&me.ni_number, &p.ni_number}}) {
    if (!mine->empty() && !theirs->empty() && *mine != *theirs) s *= 0.5;
  }
  return s;
}

}  // namespace

double score(const model::Record& ref, const store::PersonKeys& p) {
  return score_keys(store::PersonKeys::from(ref, ""), p);
}

Result<MatchResult> match_person(const model::Record& ref, store::PersonIndex& index, const MatchOptions& options) {
  const auto me = store::PersonKeys::from(ref, "");  // the reference folded once, as persons are
  std::vector<Pointer> pointers;
  if (const auto pn = ref.get("person_number"); !pn.empty()) {
    auto person = index.get(pn);
    if (!person) return fail(std::move(person).error());
    Pointer p{"person_number", {}};
    if (*person) p.persons.push_back(std::move(**person));
    pointers.push_back(std::move(p));
  }
  for (const std::string_view field : {"employee_number", "nhs_number", "ni_number"}) {
    const auto value = ref.get(field);
    if (value.empty()) continue;
    auto persons = index.find(field, value);
    if (!persons) return fail(std::move(persons).error());
    pointers.push_back(Pointer{field, std::move(*persons)});
  }

  // Rule 6 first: identifiers that each name one person, but not the same one.
  std::vector<Candidate> named;
  for (const auto& p : pointers) {
    if (p.persons.size() == 1) add_candidate(named, p.persons.front().person_number, p.identifier);
  }
  if (named.size() > 1) {
    MatchResult m;
    m.rule = "match.identifier_conflict";
    m.kind = store::ReconKind::identifier_conflict;
    m.detail = "the record's identifiers point at " + std::to_string(named.size()) + " different persons";
    for (const auto& c : named) {
      if (!m.detail.empty()) m.detail += "; ";
      m.detail += c.rule + " -> " + c.person_number;
    }
    m.candidates = std::move(named);
    return m;
  }

  const auto find = [&](std::string_view identifier) -> const Pointer* {
    const auto it =
        std::find_if(pointers.begin(), pointers.end(), [&](const Pointer& p) { return p.identifier == identifier; });
    return it == pointers.end() ? nullptr : &*it;
  };
  if (const auto* p = find("person_number"); p != nullptr && p->persons.size() == 1) {
    return matched(p->persons.front(), "match.person_number");
  }
  if (const auto* p = find("employee_number"); p != nullptr && p->persons.size() == 1) {
    return matched(p->persons.front(), "match.employee_number");
  }
  if (const auto* p = find("nhs_number"); p != nullptr && p->persons.size() == 1) {
    return matched(p->persons.front(), "match.nhs_number");
  }
  if (const auto* p = find("ni_number"); p != nullptr) {
    const store::PersonKeys* hit = nullptr;
    int hits = 0;
    for (const auto& person : p->persons) {
      if (!me.date_of_birth.empty() && !me.surname_key.empty() && person.date_of_birth == me.date_of_birth &&
          person.surname_key == me.surname_key) {
        hit = &person;
        ++hits;
      }
    }
    if (hits == 1) return matched(*hit, "match.ni_dob_surname");
  }

  // Rule 5: candidates from the blocking indexes, scored.
  std::vector<store::PersonKeys> pool;
  const auto gather = [&](Result<std::vector<store::PersonKeys>> found) -> Status {
    if (!found) return fail(std::move(found).error());
    for (auto& k : *found) {
      if (std::none_of(pool.begin(), pool.end(),
                       [&](const store::PersonKeys& p) { return p.person_number == k.person_number; })) {
        pool.push_back(std::move(k));
      }
    }
    return {};
  };
  // Blocking: the same date of birth (or day and month swapped) and forename initial find name
  // changes, surname typos and shortened forenames; the same folded names find date-of-birth typos.
  const std::string initial = me.forenames_key.substr(0, 1);
  for (const auto& value : {me.date_of_birth, swapped_dob(me.date_of_birth)}) {
    if (auto ok = gather(index.find_by_birth(value, initial)); !ok) return fail(std::move(ok).error());
  }
  if (auto ok = gather(index.find_by_name(me.surname_key, me.forenames_key)); !ok) return fail(std::move(ok).error());
  for (const auto& p : pointers) {
    for (const auto& person : p.persons) {
      if (std::none_of(pool.begin(), pool.end(),
                       [&](const store::PersonKeys& k) { return k.person_number == person.person_number; })) {
        pool.push_back(person);
      }
    }
  }
  std::vector<std::pair<double, const store::PersonKeys*>> scored;
  scored.reserve(pool.size());
  for (const auto& p : pool)
    scored.emplace_back(score_keys(me, p), &p);
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second->person_number < b.second->person_number;
  });
  const double best = scored.empty() ? 0 : scored.front().first;
  const double second = scored.size() > 1 ? scored[1].first : 0;
  if (best >= options.auto_threshold && best - second >= options.margin) {
    MatchResult m = matched(*scored.front().second, "match.score");
    m.score = best;
    return m;
  }

  MatchResult m;
  // A review item ranks the candidates worth a look; a no_match item shows the nearest few.
  const bool review = best >= options.review_threshold;
  for (std::size_t i = 0; i < scored.size() && i < 5; ++i) {
    if (review && scored[i].first < options.review_threshold) break;
    if (!review && i >= 3) break;
    const auto* p = scored[i].second;
    std::string why;
    for (const auto& ptr : pointers) {
      for (const auto& person : ptr.persons) {
        if (person.person_number == p->person_number) why += (why.empty() ? "" : ",") + std::string(ptr.identifier);
      }
    }
    m.candidates.push_back(Candidate{p->person_number, scored[i].first, why.empty() ? "score" : why});
  }
  if (review) {
    m.rule = "match.possible";
    m.kind = store::ReconKind::possible_match;
    m.score = best;
    m.detail = best >= options.auto_threshold
                   ? "more than one person scores within " + std::to_string(options.margin) + " of the best"
                   : "the best candidate scores below the automatic threshold";
    return m;
  }
  m.rule = "match.none";
  m.kind = store::ReconKind::no_match;
  m.score = best;
  m.detail = m.candidates.empty() ? "no person holds any of the record's identifiers, and no candidate shares its "
                                    "date of birth or surname"
                                  : "no candidate scores above the review threshold";
  return m;
}

std::string candidates_json(const std::vector<Candidate>& candidates) {
  std::string out = "[";
  for (const auto& c : candidates) {
    if (out.size() > 1) out += ",";
    out += "{\"person_number\":";
    codec::append_json_string(c.person_number, out);
    out += ",\"score\":" + std::to_string(c.score) + ",\"rule\":";
    codec::append_json_string(c.rule, out);
    out += "}";
  }
  return out + "]";
}

}  // namespace esrsync::recon
