#include "esrsync/recon/matcher.hpp"

#include <algorithm>

#include "esrsync/codec/json_lines.hpp"
#include "esrsync/model/names.hpp"

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

}  // namespace

Result<MatchResult> match_person(const model::Record& ref, store::PersonIndex& index) {
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
    const std::string surname = model::fold_name(ref.get("surname"));
    const auto dob = ref.get("date_of_birth");
    const store::PersonKeys* hit = nullptr;
    int hits = 0;
    for (const auto& person : p->persons) {
      if (!dob.empty() && !surname.empty() && person.date_of_birth == dob && person.surname_key == surname) {
        hit = &person;
        ++hits;
      }
    }
    if (hits == 1) return matched(*hit, "match.ni_dob_surname");
  }

  MatchResult m;
  m.rule = "match.none";
  m.kind = store::ReconKind::no_match;
  for (const auto& p : pointers) {
    for (const auto& person : p.persons)
      add_candidate(m.candidates, person.person_number, p.identifier);
  }
  m.detail = m.candidates.empty()
                 ? "no person holds any of the record's identifiers"
                 : "identifiers point at known persons, but no matching rule is satisfied (name or date of birth "
                   "differ, or an identifier is shared)";
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
