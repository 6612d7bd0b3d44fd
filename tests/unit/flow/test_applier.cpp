// The checks an OH record meets after matching (DOMAIN.md "Field ownership" and "Matching a record
// to a person"): identity discrepancies are flagged while the OH data is applied, a contradicting
// event is held, a NON_IMMUNE after an IMMUNE is flagged, and a resolution applies a held record
// once. A real SQLite store; each case checks the store, the queue and the outbox.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "esrsync/codec/json_lines.hpp"
#include "esrsync/flow/applier.hpp"
#include "esrsync/flow/resolve.hpp"
#include "esrsync/store/schema.hpp"
#include "support/capture.hpp"
#include "support/store.hpp"

namespace esrsync::flow {
namespace {

using ::testing::HasSubstr;

class ApplierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::open_migrated_store(dir_ / "a.db");
    ASSERT_TRUE(db_);
    records_.emplace(*db_, clock_);
    outbox_.emplace(*db_, store::RetryPolicy{}, clock_, 1);
    applier_.emplace(*db_, *records_, *outbox_, std::vector<std::string>{"esr-return"}, "oh", recon::MatchOptions{},
                     counts_);
    applier_->set_source(ApplySource{1, "export.csv", "test-1"});
    model::Record p;
    p.reset(model::Entity::person);
    for (const auto& [k, v] : {std::pair{"person_number", "10000001"},
                               {"employee_number", "E1"},
                               {"ni_number", "AB123456C"},
                               {"nhs_number", "9434765919"},
                               {"surname", "O'Brien"},
                               {"forenames", "Siobhan"},
                               {"date_of_birth", "1988-03-14"}}) {
      p.set(k, v);
    }
    ASSERT_TRUE(applier_->apply(p, "245"));
  }

  model::Record event(const std::string& id, const std::string& antigen, const std::string& status,
                      const std::string& date, const std::string& result = "Positive") {
    model::Record r;
    r.reset(model::Entity::immunisation);
    for (const auto& [k, v] : {std::pair<const char*, std::string>{"event_id", id},
                               {"provider_code", "OHP01"},
                               {"person_number", "10000001"},
                               {"surname", "O'Brien"},
                               {"date_of_birth", "1988-03-14"},
                               {"antigen", antigen},
                               {"kind", "serology"},
                               {"status", status},
                               {"event_date", date},
                               {"result", result},
                               {"evidence", "SEROLOGY"}}) {
      r.set(k, v);
    }
    r.line = 7;
    return r;
  }
  std::vector<store::ReconItem> items() { return *store::ReconQueue(*db_, clock_).list(std::nullopt, 100); }
  std::size_t queued_for(const std::string& key) {
    const auto all = outbox_->list(std::nullopt, 1000);  // kept alive for the loop
    std::size_t n = 0;
    for (const auto& e : *all)
      n += e.record_key == key ? 1U : 0U;
    return n;
  }

  test::TempDir dir_;
  ManualClock clock_;
  std::optional<store::SqliteDb> db_;
  std::optional<store::RecordStore> records_;
  std::optional<store::Outbox> outbox_;
  ApplyCounts counts_;
  std::optional<Applier> applier_;
};

TEST_F(ApplierTest, IdentityDiscrepancyIsFlaggedAndTheOhDataStillApplied) {
  auto r = event("E1", "MMR_MEASLES", "IMMUNE", "2026-07-12");
  r.set("date_of_birth", "1988-04-14");  // the OH system has another date of birth
  r.set("nhs_number", "9434766281");     // ... and another NHS number; the person number decides
  ASSERT_TRUE(applier_->apply(r, ""));
  EXPECT_EQ(counts_.held, 0u);
  EXPECT_EQ(counts_.flagged, 1u);
  EXPECT_EQ(queued_for("OHP01:E1"), 1u);  // applied and queued
  const auto all = items();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].kind, store::ReconKind::identity_discrepancy);
  EXPECT_THAT(all[0].detail, HasSubstr("date_of_birth, nhs_number"));
  EXPECT_THAT(all[0].detail, ::testing::Not(HasSubstr("1988-04-14")));  // field names, not values
  // ESR's identity is untouched.
  auto person = records_->get("person", "10000001");
  EXPECT_THAT((*person)->payload, HasSubstr("\"date_of_birth\":\"1988-03-14\""));
}

TEST_F(ApplierTest, AContradictingEventIsHeldAndTheStoredVersionStays) {
  auto first = event("E2", "HEPB", "IMMUNE", "2026-07-12", "145");
  ASSERT_TRUE(applier_->apply(first, ""));
  const auto before = (*records_->get("immunisation", "OHP01:E2"))->payload;
  // Same provider and event id, another result: a conflict, not an update.
  auto changed = event("E2", "HEPB", "IMMUNE", "2026-07-12", "8");
  ASSERT_TRUE(applier_->apply(changed, ""));
  EXPECT_EQ(counts_.held, 1u);
  EXPECT_EQ((*records_->get("immunisation", "OHP01:E2"))->payload, before);
  EXPECT_EQ(queued_for("OHP01:E2"), 1u);
  ASSERT_EQ(items().size(), 1u);
  EXPECT_EQ(items()[0].kind, store::ReconKind::event_conflict);
  EXPECT_THAT(items()[0].detail, HasSubstr("different result"));
  // A different status or dose of the same event is an ordinary update.
  auto restated = event("E2", "HEPB", "EQUIVOCAL", "2026-07-12", "145");
  ASSERT_TRUE(applier_->apply(restated, ""));
  EXPECT_EQ(counts_.updated, 1u);
  EXPECT_EQ(queued_for("OHP01:E2"), 2u);

  // A human accepts the new version: applied, queued once.
  Config config;
  // The flow also has a staff-history sink: it takes transfers, never a resolved record.
  FlowConfig oh;
  oh.name = "oh";
  oh.sinks = {DirSinkConfig{"esr-return"}, DirSinkConfig{"histories", "staff-history"}};
  config.flows.push_back(std::move(oh));
  auto done = resolve_item(*db_, config, items()[0].id, std::nullopt, "OH admin", "lab corrected the titre", clock_);
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_THAT((*records_->get("immunisation", "OHP01:E2"))->payload, HasSubstr("\"result\":\"8\""));
  EXPECT_EQ(queued_for("OHP01:E2"), 3u);
  EXPECT_EQ(*outbox_->count("histories", store::OutboxState::pending), 0u);
  auto again = resolve_item(*db_, config, items()[0].id, std::nullopt, "OH admin", "again", clock_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().rule, "recon.not_open");
}

TEST_F(ApplierTest, AHeldRecordOfAFlowNoLongerConfiguredIsNotReleased) {
  auto first = event("E7", "HEPB", "IMMUNE", "2026-07-12", "145");
  ASSERT_TRUE(applier_->apply(first, ""));
  auto changed = event("E7", "HEPB", "IMMUNE", "2026-07-12", "9");
  ASSERT_TRUE(applier_->apply(changed, ""));  // held as event_conflict, from flow "oh"
  Config config;                              // ... which the configuration no longer has
  auto done = resolve_item(*db_, config, items()[0].id, std::nullopt, "OH admin", "accept", clock_);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().rule, "recon.unknown_flow");
  EXPECT_EQ(items()[0].state, store::ReconState::open);  // nothing settled
  EXPECT_EQ(queued_for("OHP01:E7"), 1u);
}

TEST_F(ApplierTest, NonImmuneAfterImmuneIsFlaggedAndKeptInTheHistory) {
  auto first = event("E3", "VARICELLA", "IMMUNE", "2025-01-10");
  ASSERT_TRUE(applier_->apply(first, ""));
  auto later = event("E4", "VARICELLA", "NON_IMMUNE", "2026-02-01", "Negative");
  ASSERT_TRUE(applier_->apply(later, ""));
  EXPECT_EQ(counts_.flagged, 1u);
  EXPECT_EQ(counts_.inserted, 3u);  // the person and both events
  ASSERT_EQ(items().size(), 1u);
  EXPECT_EQ(items()[0].kind, store::ReconKind::status_regression);
  EXPECT_THAT(items()[0].detail, HasSubstr("OHP01:E3"));
  // Another antigen is no regression.
  auto other = event("E5", "MMR_RUBELLA", "NON_IMMUNE", "2026-02-01", "Negative");
  ASSERT_TRUE(applier_->apply(other, ""));
  EXPECT_EQ(counts_.flagged, 1u);
  // Acknowledged by a human: nothing to apply.
  Config config;
  auto done = resolve_item(*db_, config, items()[0].id, std::nullopt, "OH nurse", "booster booked", clock_);
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(done->decision, "acknowledged");
}

TEST_F(ApplierTest, APersonIndexMissingAfterAnUpgradeIsRebuilt) {
  // Persons applied by a store layer that kept no person index (schema before 5).
  ASSERT_TRUE(db_->exec("DELETE FROM person_index"));
  auto e = event("E9", "HEPB", "IMMUNE", "2026-07-12");
  e.set("person_number", "");
  e.set("employee_number", "E1");
  ASSERT_TRUE(reindex_persons_if_empty(*db_));
  ASSERT_TRUE(applier_->apply(e, ""));
  EXPECT_EQ(counts_.held, 0u);
  EXPECT_EQ(queued_for("OHP01:E9"), 1u);
  ASSERT_TRUE(reindex_persons_if_empty(*db_));  // a second call finds the index filled: nothing to do
  EXPECT_FALSE(*store::PersonIndex(*db_).empty());
}

// A JSON-lines sink takes changes in batches: one outbox row per `batch` changes, each line a change
// with its own key, and the last partly filled batch written by finish() (before the commit).
TEST_F(ApplierTest, BatchSinksGetOneRowPerBatchAndTheRestAtFinish) {
  ApplyCounts counts;
  Applier applier(*db_, *records_, *outbox_, {}, "esr", recon::MatchOptions{}, counts);
  applier.set_source(ApplySource{2, "DE.DAT", "245-2"});
  applier.set_batch_sinks({BatchSink{"oh", 2}, BatchSink{"audit", 5}});
  for (int i = 0; i < 5; ++i) {
    model::Record a;
    a.reset(model::Entity::assignment);
    a.set("person_number", "10000001");
    a.set("assignment_number", "10000001-" + std::to_string(i + 1));
    a.set("org_code", "RR8");
    a.line = static_cast<std::uint64_t>(i + 2);
    ASSERT_TRUE(applier.apply(a, "245"));
  }
  const auto before = outbox_->list(std::nullopt, 100);
  // "oh" has two full batches (4 changes); "audit" and the fifth "oh" change wait for finish().
  std::int64_t oh_changes = 0;
  for (const auto& e : *before)
    oh_changes += e.sink == "oh" ? e.changes : 0;
  EXPECT_EQ(oh_changes, 4);
  ASSERT_TRUE(applier.finish());
  ASSERT_TRUE(applier.finish());  // nothing left: no empty row
  std::vector<store::OutboxEntry> oh;
  std::vector<store::OutboxEntry> audit;
  const auto after = outbox_->list(std::nullopt, 100);  // kept alive for the loop
  for (const auto& e : *after) {
    if (e.sink == "oh") oh.push_back(e);
    if (e.sink == "audit") audit.push_back(e);
  }
  ASSERT_EQ(oh.size(), 3U);
  ASSERT_EQ(audit.size(), 1U);
  EXPECT_EQ(oh[0].changes, 2);
  EXPECT_EQ(oh[2].changes, 1);
  EXPECT_EQ(oh[0].change, "batch");
  EXPECT_EQ(oh[0].entity, "assignment");
  EXPECT_EQ(oh[0].record_key, "10000001-1..10000001-2");
  EXPECT_EQ(oh[2].record_key, "10000001-5");
  EXPECT_EQ(oh[0].idempotency_key, "oh:batch:245-2:1");
  EXPECT_EQ(oh[2].idempotency_key, "oh:batch:245-2:3");
  EXPECT_EQ(audit[0].changes, 5);
  EXPECT_EQ(counts.queued, 10U);  // changes, for every sink
  // Each line is the change as a per-change sink would have it, with that sink's key.
  const auto lines = store::batch_lines(audit[0]);
  ASSERT_TRUE(lines) << lines.error().to_string();
  const auto first_line = lines->substr(0, lines->find('\n'));
  const auto line = nlohmann::json::parse(first_line, nullptr, false);
  ASSERT_FALSE(line.is_discarded()) << first_line;
  EXPECT_EQ(line["key"], "10000001-1");
  EXPECT_EQ(line["entity"], "assignment");
  EXPECT_EQ(line["idempotency_key"].get<std::string>().rfind("audit:assignment:10000001-1:inserted:", 0), 0U);
  EXPECT_THAT(line["idempotency_key"].get<std::string>(), ::testing::EndsWith(":245-2:2"));
  EXPECT_EQ(line["change"]["fields"]["org_code"], "RR8");
  EXPECT_EQ(std::count(lines->begin(), lines->end(), '\n'), 5);
}

}  // namespace
}  // namespace esrsync::flow
