#pragma once
// Record: one canonical record (DOMAIN.md "Canonical model") as decoded from, or about to be encoded
// into, a file. Values are canonical text (ISO dates, normalised NHS/NI numbers, codes), indexed like
// entity_def(entity).fields; an empty string means absent. A Record is reused across a stream of
// records so its strings keep their capacity (no allocation per record on the hot path).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/model/schema.hpp"

namespace esrsync::model {

struct Record {
  Entity entity = Entity::person;
  std::string record_type;  // the mapping's record type, e.g. "PER" (ESR) or "immunisation" (CSV)
  std::uint64_t line = 0;   // 1-based line in the source where the record starts
  std::vector<std::string> values;

  // Clears every value and sizes `values` for `e`, keeping string capacity.
  void reset(Entity e);
  // The value of `field` ("" when absent or when the entity has no such field).
  [[nodiscard]] std::string_view get(std::string_view field) const noexcept;
  // Sets `field`; returns false when the entity has no such field.
  bool set(std::string_view field, std::string_view value);
  // The value of the entity's key field (DOMAIN.md record key used in ACK ERR lines).
  [[nodiscard]] std::string_view key() const noexcept;
};

}  // namespace esrsync::model
