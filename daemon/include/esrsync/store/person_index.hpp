#pragma once
// The identifiers of every person ESR sent, indexed for matching OH records to persons (DOMAIN.md
// "Matching a record to a person"): person number, employee number, NHS number, NI number, date of
// birth and normalised names. Maintained in the transaction that applies each PER record, so the
// index always agrees with the canonical records. Candidates come from these indexes, never from
// a scan of every person.
//
// Used from the store's thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/core/result.hpp"
#include "esrsync/model/record.hpp"
#include "esrsync/store/sqlite.hpp"

namespace esrsync::store {

struct PersonKeys {
  std::string person_number;
  std::string vpd;
  std::string employee_number;
  std::string nhs_number;
  std::string ni_number;
  std::string date_of_birth;  // ISO
  std::string surname_key;    // model::fold_name of the surname
  std::string previous_surname_key;
  std::string forenames_key;
  std::string postcode_key;  // upper case, no spaces

  // From a canonical person record (or a person reference inside an OH record).
  static PersonKeys from(const model::Record& person, std::string_view vpd);
};

class PersonIndex {
 public:
  static const Migration kMigration;

  explicit PersonIndex(SqliteDb& db) : db_(db) {}

  Status put(const PersonKeys& keys);
  Result<std::optional<PersonKeys>> get(std::string_view person_number);
  // Persons with this identifier. `column` is one of employee_number, nhs_number, ni_number.
  Result<std::vector<PersonKeys>> find(std::string_view column, std::string_view value);

 private:
  SqliteDb& db_;
};

}  // namespace esrsync::store
