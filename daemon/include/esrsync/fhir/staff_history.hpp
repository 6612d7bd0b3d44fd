#pragma once
// A person's staff history as a FHIR R4 Bundle (DOMAIN.md "Other formats": FHIR R4, UK Core;
// "Inter-provider staff history"; issue #5 item 5): a Bundle of type `collection` holding
//
//   Patient       the person: an identifier per known number (NHS number under
//                 https://fhir.nhs.uk/Id/nhs-number), name, birth date, gender
//   Immunization  each vaccination: status completed / not-done (with statusReason), vaccineCode
//                 (dm+d SNOMED CT concept where the lookup knows one, else the local name as text),
//                 occurrenceDateTime, protocolApplied.targetDisease (SNOMED CT) and
//                 doseNumberPositiveInt, performer (the OH provider)
//   Observation   each serology or screening result: the test, its value, the canonical status as
//                 an interpretation (with the HL7 POS/NEG/IND code alongside), effectiveDateTime
//
// `meta.source` names the sending provider (urn:esrsync:provider:<code>). Reading a bundle gives
// immunisation records with the Patient's identifiers and names as the person reference, tagged
// evidence = TRANSFERRED and provider_code = the sending provider, ready for matching like any
// other inbound OH record. Identifiers esrsync adds beyond the NHS number use `urn:esrsync:`
// systems (documented in docs/fhir.md). Pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/core/result.hpp"
#include "esrsync/model/record.hpp"
#include "esrsync/model/validators.hpp"

namespace esrsync::fhir {

inline constexpr std::string_view kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";
inline constexpr std::string_view kPersonNumberSystem = "urn:esrsync:esr-person-number";
inline constexpr std::string_view kNiNumberSystem = "urn:esrsync:ni-number";
inline constexpr std::string_view kSenderPrefix = "urn:esrsync:provider:";

struct BundleOptions {
  std::string sender;     // the sending OH provider's code
  std::string timestamp;  // the bundle's instant, ISO 8601 with zone, e.g. 2026-11-23T15:55:32Z
};

// `person` is a canonical person record; `events` canonical immunisation records of that person.
[[nodiscard]] std::string to_bundle(const model::Record& person, const std::vector<model::Record>& events,
                                    const BundleOptions& options);

struct ParsedEvent {
  std::uint64_t entry = 0;  // 1-based entry number in the bundle (the location errors name)
  model::Record record;     // when errors is empty
  std::vector<Error> errors;
};

struct ParsedBundle {
  std::vector<ParsedEvent> events;
  std::vector<Error> file_errors;  // not a staff-history bundle at all: apply nothing
};

// `file` names the source in errors; `today` is for the date-of-birth rule.
[[nodiscard]] ParsedBundle parse_bundle(std::string_view json, const std::string& file, const model::Date& today);

}  // namespace esrsync::fhir
