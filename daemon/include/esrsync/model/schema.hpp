#pragma once
// The canonical model (DOMAIN.md "Canonical model"): the entities every mapping maps to and from,
// their fields, and each field's type. A field's type decides the validation applied to it after the
// mapping's transforms have run (DOMAIN.md "Validation rules"), so every mapping validates alike.
//
// The schema is constant data: safe to read from any thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace esrsync::model {

enum class Entity : std::uint8_t {
  person,
  assignment,
  immunisation,
  clearance,
  // File envelope records of the reference ESR interface and its acknowledgements.
  file_header,
  file_trailer,
  ack,
  ack_error,
};

inline constexpr std::size_t kEntityCount = 8;

enum class FieldType : std::uint8_t {
  text,               // any valid UTF-8 (names keep apostrophes, hyphens, accents)
  enumeration,        // one of FieldDef::allowed
  person_number,      // ESR person number: 8 digits
  assignment_number,  // ESR assignment number: 8 digits, '-', 1..3 digits (e.g. 12345678-2)
  nhs_number,         // 10 digits, Modulus 11; spaces removed
  ni_number,          // UK National Insurance number rules; upper case, no spaces
  date,               // canonical ISO yyyy-mm-dd, a real calendar date
  date_of_birth,      // a date, not in the future, not more than 100 years ago
  timestamp,          // canonical ISO yyyy-mm-ddThh:mm:ss
  flag,               // Y or N
  count,              // non-negative decimal integer
  vpd,                // ESR VPD: 3 letters or digits
  snomed,             // SNOMED CT concept id: 6 to 18 digits
};

struct FieldDef {
  std::string_view name;
  FieldType type;
  std::span<const std::string_view> allowed{};  // for FieldType::enumeration
};

struct EntityDef {
  Entity id;
  std::string_view name;
  std::span<const FieldDef> fields;
  std::string_view key_field;  // the field that identifies a record of this entity (for ACK ERR lines)
};

[[nodiscard]] const EntityDef& entity_def(Entity entity) noexcept;
[[nodiscard]] std::optional<Entity> find_entity(std::string_view name) noexcept;
// Index of `field` in entity_def(entity).fields, or nullopt when the entity has no such field.
[[nodiscard]] std::optional<std::size_t> field_index(Entity entity, std::string_view field) noexcept;

// DOMAIN.md "Antigens": canonical antigen code -> SNOMED CT target-disease concept id.
[[nodiscard]] std::optional<std::string_view> antigen_target_disease(std::string_view antigen) noexcept;
// The reverse: the canonical antigen whose target disease is `snomed`.
[[nodiscard]] std::optional<std::string_view> antigen_for_disease(std::string_view snomed) noexcept;

}  // namespace esrsync::model
