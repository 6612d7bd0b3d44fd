#pragma once
// The per-antigen status derived from a person's whole event history (DOMAIN.md: "the per-antigen
// status shown to ESR is derived from the whole history (most recent serology wins over older
// doses; a NON_IMMUNE result after an IMMUNE one is flagged for review)"; issue #5 item 4).
//
// Per antigen, in order:
//   the most recent serology result decides: IMMUNE, NON_IMMUNE or EQUIVOCAL — unless it is not
//   IMMUNE and a dose was completed after it: VACCINATED (a re-test is due);
//   otherwise the most recent screening: SCREENED (COMPLETED) or its status;
//   otherwise completed doses: VACCINATED with their count;
//   otherwise the latest DECLINED / CONTRAINDICATED / NOT_DONE.
// `flagged` when a NON_IMMUNE serology follows an IMMUNE one. Same-date events are ordered by key.
// Pure function.

#include <string>
#include <vector>

#include "esrsync/store/person_index.hpp"

namespace esrsync::recon {

struct AntigenStatus {
  std::string antigen;
  std::string status;    // IMMUNE, NON_IMMUNE, EQUIVOCAL, VACCINATED, SCREENED, DECLINED, ...
  std::string basis;     // the event key that decided it
  std::string as_of;     // that event's date
  int doses = 0;         // completed vaccinations
  bool flagged = false;  // NON_IMMUNE after IMMUNE
};

// `events` in any order; the result is sorted by antigen.
[[nodiscard]] std::vector<AntigenStatus> derive_status(std::vector<store::PersonEvent> events);

}  // namespace esrsync::recon
