#include "esrsync/model/schema.hpp"

#include <array>

namespace esrsync::model {
namespace {

using T = FieldType;
using sv = std::string_view;

constexpr std::array<sv, 3> kActions{"A", "C", "D"};
constexpr std::array<sv, 4> kGenders{"M", "F", "X", "U"};
constexpr std::array<sv, 3> kConsent{"Y", "N", "unknown"};
constexpr std::array<sv, 9> kAntigens{"MMR_MEASLES", "MMR_MUMPS", "MMR_RUBELLA", "VARICELLA", "HEPB",
                                      "TB",          "INFLUENZA", "COVID19",     "PERTUSSIS"};
constexpr std::array<sv, 9> kAntigenDiseases{"14189004", "36989005", "36653000",  "38907003", "66071002",
                                             "56717001", "6142004",  "840539006", "27836007"};
constexpr std::array<sv, 3> kKinds{"vaccination", "serology", "screening"};
constexpr std::array<sv, 7> kStatuses{"COMPLETED", "NOT_DONE", "IMMUNE",         "NON_IMMUNE",
                                      "EQUIVOCAL", "DECLINED", "CONTRAINDICATED"};
constexpr std::array<sv, 4> kEvidence{"RECORD", "SEROLOGY", "SELF_DECLARED", "TRANSFERRED"};
constexpr std::array<sv, 2> kClearanceTypes{"STANDARD", "EPP"};
constexpr std::array<sv, 4> kOutcomes{"CLEARED", "CLEARED_WITH_ADJUSTMENTS", "NOT_CLEARED", "PENDING"};
constexpr std::array<sv, 2> kExtractTypes{"FULL", "DELTA"};
constexpr std::array<sv, 3> kAckStatuses{"ACCEPTED", "PARTIAL", "REJECTED"};

constexpr FieldDef E(sv name, std::span<const sv> allowed) {
  return FieldDef{name, T::enumeration, allowed};
}

const std::array kPersonFields{
    E("action", kActions),
    FieldDef{"person_number", T::person_number},
    FieldDef{"employee_number", T::text},
    FieldDef{"ni_number", T::ni_number},
    FieldDef{"nhs_number", T::nhs_number},
    FieldDef{"title", T::text},
    FieldDef{"surname", T::text},
    FieldDef{"forenames", T::text},
    FieldDef{"previous_surname", T::text},
    FieldDef{"date_of_birth", T::date_of_birth},
    E("gender", kGenders),
    FieldDef{"email", T::text},
    FieldDef{"mobile", T::text},
    FieldDef{"postcode", T::text},
    E("transfer_consent", kConsent),
};

const std::array kAssignmentFields{
    E("action", kActions),
    FieldDef{"person_number", T::person_number},
    FieldDef{"assignment_number", T::assignment_number},
    FieldDef{"vpd", T::vpd},
    FieldDef{"org_code", T::text},
    FieldDef{"position_title", T::text},
    FieldDef{"staff_group", T::text},
    FieldDef{"occupation_code", T::text},
    FieldDef{"department", T::text},
    FieldDef{"site", T::text},
    FieldDef{"start_date", T::date},
    FieldDef{"end_date", T::date},
    FieldDef{"lead_employer", T::flag},
    FieldDef{"primary", T::flag},
    FieldDef{"trainee", T::flag},
    FieldDef{"grade", T::text},
    FieldDef{"epp", T::flag},
};

// Person reference fields shared by OH-owned records: any of them may be what the OH system holds,
// and matching (DOMAIN.md "Matching a record to a person") decides which person they mean.
#define ESRSYNC_PERSON_REFERENCE                                                                                \
  FieldDef{"person_number", T::person_number}, FieldDef{"employee_number", T::text},                            \
      FieldDef{"nhs_number", T::nhs_number}, FieldDef{"ni_number", T::ni_number}, FieldDef{"surname", T::text}, \
      FieldDef{"forenames", T::text}, FieldDef{"previous_surname", T::text},                                    \
      FieldDef{"date_of_birth", T::date_of_birth}, FieldDef {                                                   \
    "postcode", T::text                                                                                         \
  }

const std::array kImmunisationFields{
    E("action", kActions),
    FieldDef{"event_id", T::text},
    FieldDef{"provider_code", T::text},
    ESRSYNC_PERSON_REFERENCE,
    E("antigen", kAntigens),
    FieldDef{"snomed_code", T::snomed},
    E("kind", kKinds),
    E("status", kStatuses),
    FieldDef{"event_date", T::date},
    FieldDef{"dose", T::count},
    FieldDef{"result", T::text},
    E("evidence", kEvidence),
    FieldDef{"vaccine_code", T::snomed},
    FieldDef{"vaccine_name", T::text},
};

const std::array kClearanceFields{
    E("action", kActions),
    ESRSYNC_PERSON_REFERENCE,
    FieldDef{"assignment_number", T::assignment_number},
    E("clearance_type", kClearanceTypes),
    E("outcome", kOutcomes),
    FieldDef{"outcome_date", T::date},
    FieldDef{"review_date", T::date},
    FieldDef{"provider_code", T::text},
};
#undef ESRSYNC_PERSON_REFERENCE

const std::array kFileHeaderFields{
    FieldDef{"interface", T::text},   FieldDef{"version", T::text}, FieldDef{"vpd", T::vpd},
    E("extract_type", kExtractTypes), FieldDef{"seq", T::count},    FieldDef{"created", T::timestamp},
};

const std::array kFileTrailerFields{FieldDef{"record_count", T::count}};

const std::array kAckFields{
    FieldDef{"file_name", T::text}, E("status", kAckStatuses),      FieldDef{"records_read", T::count},
    FieldDef{"accepted", T::count}, FieldDef{"rejected", T::count}, FieldDef{"created", T::timestamp},
};

const std::array kAckErrorFields{
    FieldDef{"line", T::count},      FieldDef{"record_type", T::text}, FieldDef{"record_key", T::text},
    FieldDef{"error_code", T::text}, FieldDef{"message", T::text},
};

const std::array<EntityDef, kEntityCount> kEntities{{
    {Entity::person, "person", kPersonFields, "person_number"},
    {Entity::assignment, "assignment", kAssignmentFields, "assignment_number"},
    {Entity::immunisation, "immunisation", kImmunisationFields, "event_id"},
    {Entity::clearance, "clearance", kClearanceFields, "assignment_number"},
    {Entity::file_header, "file_header", kFileHeaderFields, "seq"},
    {Entity::file_trailer, "file_trailer", kFileTrailerFields, "record_count"},
    {Entity::ack, "ack", kAckFields, "file_name"},
    {Entity::ack_error, "ack_error", kAckErrorFields, "line"},
}};

}  // namespace

const EntityDef& entity_def(Entity entity) noexcept {
  return kEntities[static_cast<std::size_t>(entity)];
}

std::optional<Entity> find_entity(std::string_view name) noexcept {
  for (const auto& def : kEntities) {
    if (def.name == name) return def.id;
  }
  return std::nullopt;
}

std::optional<std::size_t> field_index(Entity entity, std::string_view field) noexcept {
  const auto& fields = entity_def(entity).fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field) return i;
  }
  return std::nullopt;
}

std::optional<std::string_view> antigen_target_disease(std::string_view antigen) noexcept {
  for (std::size_t i = 0; i < kAntigens.size(); ++i) {
    if (kAntigens[i] == antigen) return kAntigenDiseases[i];
  }
  return std::nullopt;
}

std::optional<std::string_view> antigen_for_disease(std::string_view snomed) noexcept {
  for (std::size_t i = 0; i < kAntigens.size(); ++i) {
    if (kAntigenDiseases[i] == snomed) return kAntigens[i];
  }
  return std::nullopt;
}

}  // namespace esrsync::model
