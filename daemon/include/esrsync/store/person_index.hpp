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
  bool operator==(const PersonKeys&) const = default;
};

// One immunisation event of a person, as the derived status and the staff history need it.
struct PersonEvent {
  std::string event_key;  // "<provider>:<event_id>", the canonical record key
  std::string antigen;
  std::string kind;    // vaccination, serology, screening
  std::string status;  // COMPLETED, IMMUNE, NON_IMMUNE, ...
  std::string event_date;
};

class PersonIndex {
 public:
  static const Migration kMigration;
  // Blocking for the scored comparison (previous surnames) and the per-person event list.
  static const Migration kEventsMigration;

  explicit PersonIndex(SqliteDb& db) : db_(db) {}

  // Adds or replaces a person's keys (nothing is written when they are unchanged).
  Status put(const PersonKeys& keys);
  Result<bool> empty();
  // A first load into an empty index: the secondary indexes are dropped, rows go in by person
  // number, kBulkRows per statement, and end_bulk() builds the indexes by sorting, once — instead
  // of five random B-tree inserts per person. Inside the caller's transaction (a rollback restores
  // the indexes). Rows still waiting are written before any lookup, and by end_bulk().
  Status begin_bulk();
  Status end_bulk();
  Result<std::optional<PersonKeys>> get(std::string_view person_number);
  // At most this many persons come back from one lookup (a blocking key shared by more people than
  // this is no use for telling them apart).
  static constexpr int kMaxRows = 1000;
  // Persons with this identifier: `column` is employee_number, nhs_number or ni_number.
  Result<std::vector<PersonKeys>> find(std::string_view column, std::string_view value);
  // Blocking keys for the scored comparison: persons born on `date_of_birth` whose folded forenames
  // start with `forenames_prefix` ("" = any); persons with these folded names.
  Result<std::vector<PersonKeys>> find_by_birth(std::string_view date_of_birth, std::string_view forenames_prefix);
  Result<std::vector<PersonKeys>> find_by_name(std::string_view surname_key, std::string_view forenames_key);

  // The person's events (kept in step with the immunisation records applied for them).
  Status put_event(std::string_view person_number, const PersonEvent& event);
  Result<std::vector<PersonEvent>> events(std::string_view person_number);

 private:
  SqliteDb& db_;
  static constexpr std::size_t kBulkRows = 256;
  // Writes the rows a bulk load has waiting.
  Status flush();
  Status write(const PersonKeys& keys);

  bool bulk_ = false;
  std::vector<PersonKeys> waiting_;  // the first `waiting_rows_` wait (the strings reused)
  std::size_t waiting_rows_ = 0;
  Statement* put_ = nullptr;       // run for every person (SqliteDb::cached with a slot)
  Statement* put_rows_ = nullptr;  // kBulkRows persons
};

}  // namespace esrsync::store
