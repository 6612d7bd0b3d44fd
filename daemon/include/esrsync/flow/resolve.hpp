#pragma once
// A human decision on a reconciliation item (DOMAIN.md: "resolving an item releases the held
// records to flow on"; issue #5). In one transaction: the item is settled with who, what and why,
// the decision is logged, and a held record goes through the same Applier a file's records go
// through (store, history, outbox for the item's flow's sinks), so the next delivery sends it
// exactly once. An item can be settled once; a second attempt is refused (recon.not_open).
//
//   possible_match, no_match, identifier_conflict   resolve needs the person; the record is applied
//                                                    to that person
//   event_conflict                                   resolve accepts the new version over the stored
//   identity_discrepancy, status_regression          nothing is held: resolve acknowledges
//   any kind                                         dismiss: settled, nothing applied
//
// Blocking; the store's thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "esrsync/core/clock.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/flow/applier.hpp"
#include "esrsync/flow/config.hpp"
#include "esrsync/store/sqlite.hpp"

namespace esrsync::flow {

struct Resolution {
  std::string entity;
  std::string record_key;
  std::string decision;  // e.g. "applied to person 10000002"
  ApplyCounts counts;
};

// Errors: recon.not_open, recon.no_item, recon.person_required, recon.unknown_person,
// recon.unknown_flow (the item's flow is no longer configured), store.*.
Result<Resolution> resolve_item(store::SqliteDb& db, const Config& config, std::int64_t id,
                                const std::optional<std::string>& person, std::string_view by, std::string_view reason,
                                const Clock& clock);
Status dismiss_item(store::SqliteDb& db, std::int64_t id, std::string_view by, std::string_view reason,
                    const Clock& clock);

}  // namespace esrsync::flow
