#pragma once
// Every staff-history transfer decision (DOMAIN.md "Inter-provider staff history": "sent only where
// transfer_consent is Y; a refusal or unknown consent is recorded with its reason and nothing
// leaves"): one row per trainee rotation seen, with what was decided and why. Written in the
// transaction that applied the assignment. Used from the store's thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/core/clock.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/store/sqlite.hpp"

namespace esrsync::store {

struct TransferRow {
  std::int64_t id = 0;
  std::string person_number;
  std::string assignment_number;  // the new assignment
  std::string from_org;
  std::string to_org;
  std::string decision;  // queued (for the sinks), refused (consent N), no_consent (unknown)
  std::string reason;
  std::int64_t at_ms = 0;
};

class TransferLog {
 public:
  static const Migration kMigration;

  TransferLog(SqliteDb& db, const Clock& clock) : db_(db), clock_(clock) {}
  Status add(const TransferRow& row);
  Result<std::vector<TransferRow>> recent(int limit);

 private:
  SqliteDb& db_;
  const Clock& clock_;
};

}  // namespace esrsync::store
