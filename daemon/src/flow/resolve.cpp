#include "esrsync/flow/resolve.hpp"

#include <algorithm>

#include "esrsync/codec/json_lines.hpp"
#include "esrsync/store/outbox.hpp"
#include "esrsync/store/recon_queue.hpp"
#include "esrsync/store/record_store.hpp"

namespace esrsync::flow {
namespace {

bool holds_a_record(store::ReconKind kind) {
  return kind != store::ReconKind::identity_discrepancy && kind != store::ReconKind::status_regression;
}

Result<store::ReconItem> open_item(store::ReconQueue& queue, std::int64_t id) {
  auto item = queue.get(id);
  if (!item) return fail(std::move(item).error());
  if (!*item) return fail(Errc::validation, "recon.no_item", "no reconciliation item " + std::to_string(id));
  if ((*item)->state != store::ReconState::open) {
    return fail(Errc::validation, "recon.not_open",
                "item " + std::to_string(id) + " was " + std::string(to_string((*item)->state)) + " before");
  }
  return std::move(**item);
}

// Runs `body` in a transaction: all of it or none.
template <class Body>
auto in_transaction(store::SqliteDb& db, Body&& body) -> decltype(body()) {
  if (auto ok = db.begin(); !ok) return fail(std::move(ok).error());
  auto result = body();
  if (!result) {
    db.rollback();
    return result;
  }
  if (auto ok = db.commit(); !ok) {
    db.rollback();
    return fail(std::move(ok).error());
  }
  return result;
}

}  // namespace

Result<Resolution> resolve_item(store::SqliteDb& db, const Config& config, std::int64_t id,
                                const std::optional<std::string>& person, std::string_view by, std::string_view reason,
                                const Clock& clock) {
  return in_transaction(db, [&]() -> Result<Resolution> {
    store::ReconQueue queue(db, clock);
    auto item = open_item(queue, id);
    if (!item) return fail(std::move(item).error());
    Resolution out{item->entity, item->record_key, "acknowledged", {}};
    const bool needs_person = item->kind == store::ReconKind::possible_match ||
                              item->kind == store::ReconKind::no_match ||
                              item->kind == store::ReconKind::identifier_conflict;
    if (needs_person && !person) {
      return fail(Errc::validation, "recon.person_required",
                  std::string(to_string(item->kind)) + " is resolved by naming the person (--person N)");
    }
    if (holds_a_record(item->kind)) {
      const auto flow = std::find_if(config.flows.begin(), config.flows.end(),
                                     [&](const FlowConfig& f) { return f.name == item->flow; });
      if (flow == config.flows.end()) {
        return fail(Errc::config, "recon.unknown_flow",
                    "the item came from flow '" + item->flow + "', which is not configured any more");
      }
      auto record = codec::parse_canonical_json(item->payload);
      if (!record) return fail(std::move(record).error());
      const SinkRoles roles = sink_roles(*flow);
      store::RecordStore records(db, clock);
      store::Outbox outbox(db, store::RetryPolicy{}, clock, 1);
      Applier applier(
          db, records, outbox, roles.per_change, flow->name,
          recon::MatchOptions{config.matching.auto_threshold, config.matching.review_threshold, config.matching.margin},
          out.counts);
      applier.set_source(ApplySource{0, "recon:" + std::to_string(id), "recon-" + std::to_string(id)});
      applier.set_transfer_sinks(roles.transfer);
      applier.set_batch_sinks(roles.batched);
      const std::string who = needs_person ? *person : std::string(record->get("person_number"));
      if (auto ok = applier.apply_resolved(*record, who, item->kind == store::ReconKind::event_conflict); !ok) {
        return fail(std::move(ok).error());
      }
      if (auto ok = applier.finish(); !ok) return fail(std::move(ok).error());
      out.decision = "applied to person " + who;
    }
    if (auto ok = queue.decide(id, store::ReconState::resolved, by, out.decision, reason); !ok) {
      return fail(std::move(ok).error());
    }
    if (auto ok = queue.log_decision(store::MatchDecision{0, item->entity, item->record_key, item->source, "human", 1,
                                                          needs_person ? *person : std::string(), std::string(by), 0,
                                                          std::string(reason), id});
        !ok) {
      return fail(std::move(ok).error());
    }
    return out;
  });
}

Status dismiss_item(store::SqliteDb& db, std::int64_t id, std::string_view by, std::string_view reason,
                    const Clock& clock) {
  return in_transaction(db, [&]() -> Status {
    store::ReconQueue queue(db, clock);
    auto item = open_item(queue, id);
    if (!item) return fail(std::move(item).error());
    if (auto ok = queue.decide(id, store::ReconState::dismissed, by, "dismissed: nothing applied", reason); !ok) {
      return ok;
    }
    return queue.log_decision(store::MatchDecision{0, item->entity, item->record_key, item->source, "human.dismiss", 0,
                                                   "", std::string(by), 0, std::string(reason), id});
  });
}

}  // namespace esrsync::flow
