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
//   otherwise                                             -> held for review (no_match), with the
//                                                            persons any identifier pointed at as
//                                                            candidates
//
// The scored comparison of rule 5 (possible_match with ranked candidates) is issue #5's. Values
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

Result<MatchResult> match_person(const model::Record& reference, store::PersonIndex& index);

// Candidates as the JSON array the reconciliation queue keeps.
[[nodiscard]] std::string candidates_json(const std::vector<Candidate>& candidates);

}  // namespace esrsync::recon
