#pragma once
// Inter-provider staff history (DOMAIN.md "Inter-provider staff history"; issue #5 item 5): what
// one person's history is, read from the store, for `esrsync export --format fhir` and for the
// transfer sink. Blocking; the store's thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/core/clock.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/model/record.hpp"
#include "esrsync/store/sqlite.hpp"

namespace esrsync::flow {

struct StaffHistory {
  model::Record person;               // ESR's canonical person
  std::vector<model::Record> events;  // the person's live immunisation events, oldest first
};

// Nothing when ESR never sent the person (or withdrew them).
Result<std::optional<StaffHistory>> load_staff_history(store::SqliteDb& db, std::string_view person_number,
                                                       const Clock& clock);

}  // namespace esrsync::flow
