#include "esrsync/flow/transfer.hpp"

#include <algorithm>

#include "esrsync/codec/json_lines.hpp"
#include "esrsync/store/person_index.hpp"
#include "esrsync/store/record_store.hpp"

namespace esrsync::flow {

Result<std::optional<StaffHistory>> load_staff_history(store::SqliteDb& db, std::string_view person_number,
                                                       const Clock& clock) {
  store::RecordStore records(db, clock);
  auto stored = records.get("person", person_number);
  if (!stored) return fail(std::move(stored).error());
  if (!*stored || (*stored)->withdrawn) return std::optional<StaffHistory>{};
  auto person = codec::parse_canonical_json((*stored)->payload);
  if (!person) return fail(std::move(person).error());
  StaffHistory history{std::move(*person), {}};
  auto events = store::PersonIndex(db).events(person_number);
  if (!events) return fail(std::move(events).error());
  for (const auto& e : *events) {
    auto event = records.get("immunisation", e.event_key);
    if (!event) return fail(std::move(event).error());
    if (!*event || (*event)->withdrawn) continue;
    auto record = codec::parse_canonical_json((*event)->payload);
    if (!record) return fail(std::move(record).error());
    history.events.push_back(std::move(*record));
  }
  std::stable_sort(history.events.begin(), history.events.end(), [](const model::Record& a, const model::Record& b) {
    return a.get("event_date") < b.get("event_date");
  });
  return std::optional<StaffHistory>(std::move(history));
}

}  // namespace esrsync::flow
