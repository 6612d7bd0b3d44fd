// The durable outbox: at-least-once delivery bookkeeping, idempotency keys, exponential backoff
// with jitter, dead letters that are kept and retryable, leases, retention. Real SQLite files,
// an injected clock and seed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "esrsync/core/compress.hpp"
#include "esrsync/store/outbox.hpp"
#include "esrsync/store/schema.hpp"
#include "support/capture.hpp"
#include "support/store.hpp"

namespace esrsync::store {
namespace {

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::open_migrated_store(dir_ / "esrsync.db");
    ASSERT_TRUE(db_);
    outbox_.emplace(*db_, policy_, clock_, 7);
  }

  static OutboxEntry change(const std::string& key, const std::string& sink = "esr-di") {
    OutboxEntry e;
    e.sink = sink;
    e.idempotency_key = sink + ":immunisation:" + key + ":h1";
    e.entity = "immunisation";
    e.record_key = key;
    e.payload = "{\"event_id\":\"" + key + "\"}";
    return e;
  }

  test::TempDir dir_;
  ManualClock clock_;
  RetryPolicy policy_{4, 1000, 60'000, 30'000};
  std::optional<SqliteDb> db_;
  std::optional<Outbox> outbox_;
};

TEST_F(OutboxTest, EnqueueClaimDeliver) {
  ASSERT_TRUE(db_->begin());
  EXPECT_TRUE(outbox_->enqueue(change("OHR1")));
  EXPECT_TRUE(outbox_->enqueue(change("OHR2")));
  EXPECT_TRUE(outbox_->enqueue(change("OHR3", "fhir")));
  ASSERT_TRUE(db_->commit());
  auto claimed = outbox_->claim("esr-di", 10);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].record_key, "OHR1");  // oldest first
  EXPECT_EQ((*claimed)[0].payload, "{\"event_id\":\"OHR1\"}");
  ASSERT_TRUE(outbox_->delivered((*claimed)[0].id));
  auto entry = outbox_->get((*claimed)[0].id);
  ASSERT_TRUE(entry && *entry);
  EXPECT_EQ((*entry)->state, OutboxState::delivered);
  EXPECT_EQ((*entry)->attempts, 1);
}

TEST_F(OutboxTest, ABatchIsLeasedAndDeliveredInOneStatementEach) {
  ASSERT_TRUE(db_->begin());
  for (const auto* key : {"OHR1", "OHR2", "OHR3", "OHR4"})
    EXPECT_TRUE(outbox_->enqueue(change(key)));
  EXPECT_TRUE(outbox_->enqueue(change("OHR5", "fhir")));
  ASSERT_TRUE(db_->commit());
  auto first = outbox_->claim("esr-di", 3);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 3u);
  // The three are leased: the next claim gets only the fourth; the other sink's row is untouched.
  auto second = outbox_->claim("esr-di", 10);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().record_key, "OHR4");
  std::vector<std::int64_t> ids;
  for (const auto& e : *first)
    ids.push_back(e.id);
  ASSERT_TRUE(outbox_->delivered_all(ids));
  EXPECT_EQ(*outbox_->count("esr-di", OutboxState::delivered), 3u);
  EXPECT_EQ(*outbox_->count("fhir", OutboxState::pending), 1u);
  // Delivered rows are not pending: a second confirmation is refused.
  EXPECT_FALSE(outbox_->delivered_all(ids));
  EXPECT_TRUE(outbox_->delivered_all({}));
}

// Schema 11 rebuilt the outbox without the unique index on the idempotency key: a store from before
// keeps every row (ids, states, payloads, batches) and loses only that index.
TEST(OutboxUpgrade, RowsSurviveTheRebuildWithoutTheUniqueKey) {
  test::TempDir dir;
  {
    auto db = SqliteDb::open((dir / "esrsync.db").string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->migrate(test::migrations_before(11)));  // the schema before the rebuild
    ASSERT_TRUE(db->exec(
        "INSERT INTO outbox (id, sink, idempotency_key, entity, record_key, payload, state, attempts, created_ms, "
        "next_attempt_ms, settled_ms, last_error, change, batch_id) VALUES "
        "(5, 'oh', 'oh:person:10000001:inserted:h1:f1', 'person', '10000001', '{}', 'delivered', 1, 10, 10, 20, '', "
        "'inserted', NULL), "
        "(9, 'esr-di', 'esr-di:immunisation:E1:inserted:h2:f2', 'immunisation', 'E1', '{\"a\":1}', 'dead', 4, 30, "
        "40, 50, 'ERR 1', 'inserted', 3)"));
  }
  auto db = test::open_migrated_store(dir / "esrsync.db");
  ASSERT_TRUE(db);
  ManualClock clock;
  Outbox outbox(*db, RetryPolicy{}, clock, 1);
  auto rows = outbox.list(std::nullopt, 10);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  std::set<std::int64_t> ids;
  for (const auto& r : *rows) {
    ids.insert(r.id);
    if (r.id == 9) {
      EXPECT_EQ(r.state, OutboxState::dead);
      EXPECT_EQ(r.payload, "{\"a\":1}");
      EXPECT_EQ(r.last_error, "ERR 1");
      EXPECT_EQ(r.batch_id, 3);
      EXPECT_EQ(r.attempts, 4);
    }
  }
  EXPECT_EQ(ids, (std::set<std::int64_t>{5, 9}));
  auto unique = db->prepare("SELECT count(*) FROM pragma_index_list('outbox') WHERE \"unique\" = 1");
  ASSERT_TRUE(unique);
  ASSERT_TRUE(unique->step());
  EXPECT_EQ(unique->column_int64(0), 0);
  auto indexes = db->prepare("SELECT count(*) FROM pragma_index_list('outbox')");
  ASSERT_TRUE(indexes);
  ASSERT_TRUE(indexes->step());
  EXPECT_EQ(indexes->column_int64(0), 4);  // due, leased, batch, settled
  // New rows continue after the old ids.
  ASSERT_TRUE(outbox.enqueue(OutboxEntry{}));
  rows = outbox.list(std::nullopt, 10);
  ASSERT_TRUE(rows);
  std::int64_t newest = 0;
  for (const auto& r : *rows)
    newest = std::max(newest, r.id);
  EXPECT_EQ(newest, 10);
}

TEST_F(OutboxTest, AClaimedRowIsLeasedThenOfferedAgainAfterTheLease) {
  ASSERT_TRUE(outbox_->enqueue(change("OHR1")));
  ASSERT_EQ(outbox_->claim("esr-di", 10)->size(), 1u);
  EXPECT_EQ(outbox_->claim("esr-di", 10)->size(), 0u);  // leased: not offered twice at once
  clock_.advance_ms(policy_.lease_ms);                  // the deliverer died without settling it
  EXPECT_EQ(outbox_->claim("esr-di", 10)->size(), 1u);
}

TEST_F(OutboxTest, RetriesBackOffThenDeadLetterKeepsTheChange) {
  ASSERT_TRUE(outbox_->enqueue(change("OHR1")));
  std::int64_t last_delay = 0;
  for (int attempt = 1; attempt < policy_.max_attempts; ++attempt) {
    auto claimed = outbox_->claim("esr-di", 1);
    ASSERT_EQ(claimed->size(), 1u) << attempt;
    ASSERT_TRUE(outbox_->retry_later((*claimed)[0].id, "directory not writable: Permission denied"));
    auto entry = **outbox_->get((*claimed)[0].id);
    EXPECT_EQ(entry.state, OutboxState::pending);
    EXPECT_EQ(entry.attempts, attempt);
    const std::int64_t delay = entry.next_attempt_ms - clock_.now_ms();
    const std::int64_t nominal = std::min<std::int64_t>(policy_.base_delay_ms << (attempt - 1), policy_.max_delay_ms);
    EXPECT_GE(delay, nominal / 2) << attempt;  // equal jitter: between half and all of the delay
    EXPECT_LE(delay, nominal) << attempt;
    EXPECT_GT(delay, last_delay / 2);
    last_delay = delay;
    EXPECT_EQ(outbox_->claim("esr-di", 1)->size(), 0u);  // not before its time
    clock_.advance_ms(delay);
  }
  auto claimed = outbox_->claim("esr-di", 1);
  ASSERT_EQ(claimed->size(), 1u);
  ASSERT_TRUE(outbox_->retry_later((*claimed)[0].id, "still failing"));
  auto dead = outbox_->list(OutboxState::dead, 10);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].attempts, policy_.max_attempts);
  EXPECT_EQ((*dead)[0].last_error, "still failing");
  EXPECT_EQ((*dead)[0].payload, "{\"event_id\":\"OHR1\"}");  // never dropped
  clock_.advance_ms(10 * policy_.max_delay_ms);
  EXPECT_EQ(outbox_->claim("esr-di", 1)->size(), 0u);  // a dead letter waits for an operator

  EXPECT_EQ(*outbox_->retry_dead(std::nullopt), 1);
  auto again = outbox_->claim("esr-di", 1);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 0);
  ASSERT_TRUE(outbox_->delivered((*again)[0].id));
}

TEST_F(OutboxTest, RejectedIsADeadLetterAtOnceAndRetryableById) {
  ASSERT_TRUE(outbox_->enqueue(change("OHR1")));
  ASSERT_TRUE(outbox_->enqueue(change("OHR2")));
  auto claimed = *outbox_->claim("esr-di", 2);
  ASSERT_TRUE(outbox_->rejected(claimed[0].id, "ESR ACK ERR: person not found"));
  ASSERT_TRUE(outbox_->rejected(claimed[1].id, "ESR ACK ERR: bad code"));
  EXPECT_EQ(outbox_->list(OutboxState::dead, 10)->size(), 2u);
  EXPECT_EQ(*outbox_->retry_dead(claimed[1].id), 1);
  EXPECT_EQ(outbox_->list(OutboxState::dead, 10)->size(), 1u);
  EXPECT_EQ(outbox_->list(OutboxState::pending, 10)->size(), 1u);
}

TEST_F(OutboxTest, SettlingAnUnknownOrSettledIdIsAnError) {
  EXPECT_EQ(outbox_->delivered(999).error().rule, "outbox.unknown_id");
  EXPECT_EQ(outbox_->retry_later(999, "x").error().rule, "outbox.unknown_id");
  ASSERT_TRUE(outbox_->enqueue(change("OHR1")));
  const auto id = (*outbox_->claim("esr-di", 1))[0].id;
  ASSERT_TRUE(outbox_->delivered(id));
  EXPECT_EQ(outbox_->delivered(id).error().rule, "outbox.unknown_id");  // not delivered twice
  EXPECT_EQ(outbox_->rejected(id, "late").error().rule, "outbox.unknown_id");
}

TEST_F(OutboxTest, RetentionPurgesDeliveredNeverDead) {
  ASSERT_TRUE(outbox_->enqueue(change("OHR1")));
  ASSERT_TRUE(outbox_->enqueue(change("OHR2")));
  auto claimed = *outbox_->claim("esr-di", 2);
  ASSERT_TRUE(outbox_->delivered(claimed[0].id));
  ASSERT_TRUE(outbox_->rejected(claimed[1].id, "refused"));
  clock_.advance_ms(1000);
  EXPECT_EQ(*outbox_->purge_delivered(clock_.now_ms()), 1);
  auto left = *outbox_->list(std::nullopt, 10);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].state, OutboxState::dead);
}

TEST_F(OutboxTest, EnqueueRolledBackWithItsTransaction) {
  ASSERT_TRUE(db_->begin());
  ASSERT_TRUE(outbox_->enqueue(change("OHR1")));
  db_->rollback();  // the change it belonged to was not applied: nothing may leave
  EXPECT_EQ(outbox_->list(std::nullopt, 10)->size(), 0u);
}

TEST_F(OutboxTest, SurvivesReopen) {
  ASSERT_TRUE(outbox_->enqueue(change("OHR1")));
  outbox_.reset();
  db_.reset();
  auto reopened = SqliteDb::open((dir_ / "esrsync.db").string());
  ASSERT_TRUE(reopened);
  Outbox outbox(*reopened, policy_, clock_, 7);
  EXPECT_EQ(outbox.claim("esr-di", 10)->size(), 1u);
}

TEST(OutboxBackoff, IsCappedAndJittered) {
  test::TempDir dir;
  auto db = SqliteDb::open((dir / "x.db").string());
  ManualClock clock;
  Outbox outbox(*db, RetryPolicy{50, 1000, 10'000, 1000}, clock, 1);
  std::set<std::int64_t> seen;
  for (int i = 0; i < 50; ++i) {
    const auto d = outbox.backoff_ms(30);  // far past the cap
    EXPECT_GE(d, 5000);
    EXPECT_LE(d, 10'000);
    seen.insert(d);
  }
  EXPECT_GT(seen.size(), 10u);  // jittered, not one fixed value
}

// Batch rows carry many changes: a claim stops before its budget of changes is passed (the first
// row always comes, however large), and counts, retries and purges are in changes, not rows.
TEST_F(OutboxTest, ClaimBudgetAndCountsAreInChanges) {
  ASSERT_TRUE(db_->begin());
  for (const std::int64_t n : {300, 300, 1, 700}) {
    auto e = change("B" + std::to_string(n), "oh");
    e.change = "batch";
    e.changes = n;
    ASSERT_TRUE(outbox_->enqueue(e));
  }
  ASSERT_TRUE(db_->commit());
  EXPECT_EQ(*outbox_->count("oh", OutboxState::pending), 1301U);
  auto first = outbox_->claim("oh", 500, 500);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 1U);  // 300 + 300 would pass 500
  EXPECT_EQ((*first)[0].changes, 300);
  auto second = outbox_->claim("oh", 500, 601);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->size(), 2U);  // 300 + 1; the 700 would pass 601
  auto third = outbox_->claim("oh", 500, 500);
  ASSERT_TRUE(third);
  ASSERT_EQ(third->size(), 1U);  // larger than the budget, taken alone
  EXPECT_EQ((*third)[0].changes, 700);
  EXPECT_TRUE(outbox_->claim("oh", 500, 500)->empty());  // all leased
  ASSERT_TRUE(db_->begin());
  ASSERT_TRUE(outbox_->rejected((*third)[0].id, "sink refused"));
  ASSERT_TRUE(outbox_->delivered_all({(*first)[0].id, (*second)[0].id}));
  ASSERT_TRUE(db_->commit());
  // A delivered batch keeps its keys, not its lines (they are in the sink's file); a dead one keeps
  // them for the retry.
  EXPECT_EQ((*outbox_->get((*first)[0].id))->payload, "");
  EXPECT_EQ((*outbox_->get((*first)[0].id))->record_key, "B300");
  EXPECT_EQ(*batch_lines(**outbox_->get((*third)[0].id)), "{\"event_id\":\"B700\"}");
  auto lines = db_->prepare("SELECT count(*) FROM outbox_payload");
  ASSERT_TRUE(lines && *lines->step());
  EXPECT_EQ(lines->column_int64(0), 2);  // the dead batch and the one still leased
  EXPECT_EQ(*outbox_->count("oh", OutboxState::dead), 700U);
  EXPECT_EQ(*outbox_->count("oh", OutboxState::delivered), 600U);
  EXPECT_EQ(*outbox_->retry_dead(std::nullopt), 700);
  clock_.advance_ms(1);
  EXPECT_EQ(*outbox_->purge_delivered(clock_.now_ms()), 600);
}

TEST_F(OutboxTest, ABatchsLinesAreStoredCompressedAndReadBackWhole) {
  auto e = change("B1", "oh");
  e.change = "batch";
  e.changes = 200;
  e.payload.clear();
  for (int i = 0; i < 200; ++i)
    e.payload +=
        "{\"idempotency_key\":\"oh:immunisation:E" + std::to_string(i) + "\",\"change\":{\"antigen\":\"MMR\"}}\n";
  ASSERT_TRUE(outbox_->enqueue(e));
  auto stored = db_->prepare("SELECT payload FROM outbox_payload");
  ASSERT_TRUE(stored && *stored->step());
  const std::string raw(stored->column_text(0));
  EXPECT_TRUE(is_zstd_frame(raw));
  EXPECT_LT(raw.size() * 4, e.payload.size());
  const auto entry = outbox_->get(1);
  ASSERT_TRUE(entry && *entry);
  EXPECT_EQ(*batch_lines(**entry), e.payload);
  // Claimed without its lines (a round reads none it does not write); get() has them.
  auto claimed = outbox_->claim("oh", 10);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().payload, "");
  EXPECT_EQ(claimed->front().changes, 200);

  // Lines stored before they were compressed are read as they are.
  ASSERT_TRUE(db_->exec("UPDATE outbox_payload SET payload = '{\"plain\":1}' || char(10)"));
  EXPECT_EQ(*batch_lines(**outbox_->get(1)), "{\"plain\":1}\n");

  // Damaged lines are an error naming the entry, never other lines.
  ASSERT_TRUE(db_->exec("DELETE FROM outbox_payload"));
  auto put = db_->prepare("INSERT INTO outbox_payload (id, payload) VALUES (1, ?1)");
  ASSERT_TRUE(put);
  ASSERT_TRUE(put->bind_blob(1, raw.substr(0, raw.size() - 8)));
  ASSERT_TRUE(put->run());
  auto damaged = batch_lines(**outbox_->get(1));
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().rule, "outbox.lines");
  EXPECT_THAT(damaged.error().message, ::testing::HasSubstr("outbox entry 1 cannot be read"));
}

// Schema 18 puts a batch's staged name before its lines (so reading the name does not read the
// lines): pending lines and names survive the rebuild.
TEST(StagedFirstUpgrade, PendingLinesAndNamesSurvive) {
  test::TempDir dir;
  {
    auto db = SqliteDb::open((dir / "esrsync.db").string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->migrate(test::migrations_before(18)));
    ASSERT_TRUE(db->exec(
        "INSERT INTO outbox (id, sink, idempotency_key, entity, record_key, payload, change, created_ms, "
        "next_attempt_ms, changes) VALUES (5, 'oh', 'oh:batch:245-1:1', 'person', '1..2', '', 'batch', 1, 1, 2)"));
    ASSERT_TRUE(
        db->exec("INSERT INTO outbox_payload (id, payload, staged) VALUES (5, 'line1' || char(10) || "
                 "'line2' || char(10), 'esr-oh-5-5.jsonl.0123456789abcdef.part')"));
  }
  auto db = test::open_migrated_store(dir / "esrsync.db");
  ASSERT_TRUE(db);
  ManualClock clock;
  Outbox outbox(*db, RetryPolicy{4, 1000, 60'000, 30'000}, clock, 7);
  auto claimed = outbox.claim("oh", 10);
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().staged, "esr-oh-5-5.jsonl.0123456789abcdef.part");
  EXPECT_EQ(claimed->front().payload, "");  // claimed without its lines
  EXPECT_EQ(*batch_lines(**outbox.get(5)), "line1\nline2\n");
  auto columns = db->prepare("SELECT name FROM pragma_table_info('outbox_payload') ORDER BY cid");
  std::vector<std::string> names;
  while (columns && *columns->step())
    names.emplace_back(columns->column_text(0));
  EXPECT_EQ(names, (std::vector<std::string>{"id", "staged", "payload"}));
}

}  // namespace
}  // namespace esrsync::store
