#pragma once
// Matching an OH record to a person (DOMAIN.md "Matching a record to a person"). The record's
// person reference (person number, employee number, NHS number, NI number, names, date of birth)
// is looked up in the person index; the first rule that decides, decides:
//
//   identifiers that point at two different persons      -> identifier_conflict (never applied)
//   1. person_number exact                                -> match
//   2. employee_number exact (one person holds it)        -> match
//   3. valid nhs_number exact                             -> match
//   4. ni_number + date_of_birth + folded surname equal   -> match
//   5. scored comparison of the candidates the indexes give (same date of birth or day/month
//      swapped with the same forename initial, same folded surname and forenames, persons an
//      identifier pointed at):
//      best score >= auto and clear of the runner-up by `margin`  -> match
//      best score >= review                                       -> possible_match, ranked
//      otherwise                                                  -> no_match
//
// Scores (0..1) weigh surname (Jaro-Winkler on folded names; a previous surname counts),
// forenames, date of birth (exact; day and month swapped; one digit off) and postcode (when the
// record has one); an NHS or NI number that differs from the candidate's halves the score. Values
// arrive validated and normalised by the mapping (NHS check digit, NI format), so equality is exact.
// Used from the store's thread (it reads the person index).

#include <string>
#include <vector>

#include "esrsync/core/result.hpp"
#include "esrsync/model/record.hpp"
#include "esrsync/store/person_index.hpp"
#include "esrsync/store/recon_queue.hpp"

namespace esrsync::recon {

struct Candidate {
  std::string person_number;
  double score = 0;
  std::string rule;  // what pointed at this person, e.g. "ni_number"
};

struct MatchResult {
  bool matched = false;
  std::string person_number;  // when matched
  std::string vpd;            // the matched person's VPD
  std::string rule;           // match.person_number ... match.ni_dob_surname, match.none, match.identifier_conflict
  double score = 0;           // 1 for the identifier rules
  store::ReconKind kind = store::ReconKind::no_match;  // when held
  std::string detail;                                  // why it was held (no personal data)
  std::vector<Candidate> candidates;
};

struct MatchOptions {
  double auto_threshold = 0.92;
  double review_threshold = 0.70;
  double margin = 0.05;  // an automatic match must beat the runner-up by at least this much
};

Result<MatchResult> match_person(const model::Record& reference, store::PersonIndex& index,
                                 const MatchOptions& options = {});

// Jaro-Winkler similarity of two strings (0..1), by bytes; used on folded names.
[[nodiscard]] double jaro_winkler(std::string_view a, std::string_view b) noexcept;
// The rule-5 score of `reference` against one person.
[[nodiscard]] double score(const model::Record& reference, const store::PersonKeys& person);

// Candidates as the JSON array the reconciliation queue keeps.
[[nodiscard]] std::string candidates_json(const std::vector<Candidate>& candidates);

}  // namespace esrsync::recon
