#pragma once
// The reconciliation queue (DOMAIN.md "Matching a record to a person"; DESIGN.md "Reconciliation"):
// records that cannot be matched to a person with confidence, or that contradict what is known,
// are held here with the rule that fired and the candidate persons, until a human decides. A held
// record is not applied and reaches no sink. Every matching decision, automatic or human, is also
// appended to the decision log with its rule, score, actor and time.
//
// Used from the store's thread, inside the caller's transactions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/core/clock.hpp"
#include "esrsync/core/result.hpp"
#include "esrsync/store/sqlite.hpp"

namespace esrsync::store {

enum class ReconKind : std::uint8_t {
  possible_match,
  no_match,
  identifier_conflict,
  identity_discrepancy,
  event_conflict,
  status_regression
};
[[nodiscard]] std::string_view to_string(ReconKind k) noexcept;
[[nodiscard]] std::optional<ReconKind> recon_kind_from(std::string_view s) noexcept;

enum class ReconState : std::uint8_t { open, resolved, dismissed };
[[nodiscard]] std::string_view to_string(ReconState s) noexcept;

struct ReconItem {
  std::int64_t id = 0;
  ReconKind kind = ReconKind::no_match;
  ReconState state = ReconState::open;
  std::string flow;
  std::string entity;
  std::string record_key;  // e.g. "OHP01:OHR0000101" (no personal data)
  std::string payload;     // the held record, canonical JSON
  std::string source;      // "file:line"
  std::string rule;        // what fired, e.g. "match.none"
  std::string detail;      // why, in words an administrator can act on (no personal data)
  std::string candidates;  // JSON array of {"person_number":…, "score":…, "rule":…}, best first
  std::int64_t created_ms = 0;
  std::int64_t decided_ms = 0;
  std::string decided_by;
  std::string decision;
  std::string reason;
};

struct MatchDecision {
  std::int64_t id = 0;
  std::string entity;
  std::string record_key;
  std::string source;
  std::string rule;  // e.g. "match.person_number", or "human" for a resolution
  double score = 0;
  std::string person_number;  // empty when held
  std::string actor;          // "esrsync" for automatic decisions, the operator's name otherwise
  std::int64_t at_ms = 0;
  std::string reason;
  std::int64_t item_id = 0;  // the reconciliation item it created or settled, if any
};

class ReconQueue {
 public:
  static const Migration kMigration;

  ReconQueue(SqliteDb& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Holds a record. An open item of the same kind for the same (entity, record_key) is updated to
  // the newer record instead of adding a second one; returns the item id.
  Result<std::int64_t> hold(const ReconItem& item);
  Result<std::vector<ReconItem>> list(std::optional<ReconState> state, int limit);
  Result<std::optional<ReconItem>> get(std::int64_t id);
  Result<std::uint64_t> count(ReconState state);

  // Settles an open item (resolved or dismissed) with who, what and why. Errors:
  // recon.not_open when the item is unknown or already settled.
  Status decide(std::int64_t id, ReconState state, std::string_view by, std::string_view decision,
                std::string_view reason);

  Status log_decision(const MatchDecision& decision);
  Result<std::vector<MatchDecision>> decisions(std::string_view entity, std::string_view record_key);
  // The latest decisions, newest first.
  Result<std::vector<MatchDecision>> recent_decisions(int limit);

 private:
  SqliteDb& db_;
  const Clock& clock_;
};

}  // namespace esrsync::store
