#pragma once
// Outbound files of file-based sinks (issue #4; DOMAIN.md "OH -> ESR return"): each ESR DI_ return
// file is a row here before it is written, holding its VPD, its sequence number (contiguous per
// sink and VPD), its name, its complete content and, line by line, the outbox rows it carries.
//
// The row is the durable intent: it commits (with the outbox rows assigned to it) before the file
// is written, so a crash or an unwritable directory never skips or reuses a sequence number; the
// same bytes are written again until the write succeeds. ESR's acknowledgement is read back into
// the row; its ERR lines point, by line number, at the outbox rows ESR refused.
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

// pending: allocated, not yet written; sent: written to the sink; accepted / partial / rejected:
// the receiver's acknowledgement.
enum class OutboundState : std::uint8_t { pending, sent, accepted, partial, rejected };
[[nodiscard]] std::string_view to_string(OutboundState s) noexcept;

struct OutboundFile {
  std::int64_t id = 0;
  std::string sink;
  std::string vpd;
  std::int64_t seq = 0;
  std::string name;
  std::string content;
  OutboundState state = OutboundState::pending;
  std::int64_t created_ms = 0;
  std::string ack;  // the receiver's acknowledgement, once read
};

class OutboundFiles {
 public:
  static const Migration kMigration;

  OutboundFiles(SqliteDb& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The sequence number the next file for (sink, vpd) takes: one more than the last allocated, or
  // `first` when none was.
  Result<std::int64_t> next_seq(std::string_view sink, std::string_view vpd, std::int64_t first = 1);
  // Records a new pending file and, for each data line (line 2 onwards), the outbox row it
  // carries; returns its id. Errors: store.* (a sequence allocated twice is a constraint error).
  Result<std::int64_t> add(const OutboundFile& file, const std::vector<std::pair<std::uint64_t, std::int64_t>>& lines);
  // Files of `sink` still to be written, in (vpd, seq) order.
  Result<std::vector<OutboundFile>> pending(std::string_view sink);
  Result<std::optional<OutboundFile>> by_name(std::string_view sink, std::string_view name);
  // The outbox row carried on `line` of file `file_id`, if any.
  Result<std::optional<std::int64_t>> item_at(std::int64_t file_id, std::uint64_t line);
  Result<std::vector<std::int64_t>> items(std::int64_t file_id);
  Status set_state(std::int64_t id, OutboundState state, std::string_view ack = {});
  Result<std::vector<OutboundFile>> recent(int limit);

 private:
  Result<std::vector<OutboundFile>> select(std::string_view where_and_order,
                                           std::initializer_list<std::string_view> args);

  SqliteDb& db_;
  const Clock& clock_;
};

}  // namespace esrsync::store
