// Change detection, withdrawal on FULL extracts, the append-only history and the inbound file
// ledger, on a real SQLite store with the full schema.

#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/core/key_set.hpp"
#include "esrsync/store/payload.hpp"
#include "esrsync/store/record_store.hpp"
#include "esrsync/store/schema.hpp"
#include "support/capture.hpp"
#include "support/store.hpp"

namespace esrsync::store {
namespace {

using ::testing::ElementsAre;

class RecordStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::open_migrated_store(dir_ / "esrsync.db");
    ASSERT_TRUE(db_);
    records_.emplace(*db_, clock_);
    ledger_.emplace(*db_, clock_);
  }
  Change apply(const std::string& key, const std::string& hash, std::int64_t file, const std::string& vpd = "245") {
    auto c =
        records_->apply("person", key, vpd, "{\"person_number\":\"" + key + "\",\"h\":\"" + hash + "\"}", hash, file);
    EXPECT_TRUE(c) << c.error().to_string();
    return *c;
  }

  test::TempDir dir_;
  ManualClock clock_;
  std::optional<SqliteDb> db_;
  std::optional<RecordStore> records_;
  std::optional<FileLedger> ledger_;
};

TEST_F(RecordStoreTest, SchemaIsAtTheNewestVersion) {
  EXPECT_EQ(*db_->schema_version(), static_cast<int>(schema_migrations().size()));
}

TEST_F(RecordStoreTest, UnchangedContentIsNoChange) {
  EXPECT_EQ(apply("10000001", "h1", 1), Change::inserted);
  EXPECT_EQ(apply("10000001", "h1", 2), Change::unchanged);
  EXPECT_EQ(apply("10000001", "h2", 3), Change::updated);
  auto stored = **records_->get("person", "10000001");
  EXPECT_EQ(stored.content_hash, "h2");
  EXPECT_EQ(stored.last_file_id, 3);
  const auto history = *records_->history("person", "10000001");
  ASSERT_EQ(history.size(), 2u);  // unchanged leaves no history row
  EXPECT_EQ(std::get<0>(history[0]), Change::inserted);
  EXPECT_EQ(std::get<0>(history[1]), Change::updated);
  EXPECT_EQ(std::get<2>(history[1]), 3);
  // The same key again in file 3 with other content: the last one wins.
  EXPECT_EQ(*records_->apply("person", "10000001", "245", "{}", "h3", 3), Change::updated);
  EXPECT_EQ((**records_->get("person", "10000001")).content_hash, "h3");
  // Unchanged content writes nothing: last_file_id stays where the last change put it.
  EXPECT_EQ(*records_->apply("person", "10000001", "245", "{}", "h3", 4), Change::unchanged);
  EXPECT_EQ((**records_->get("person", "10000001")).last_file_id, 3);
}

TEST_F(RecordStoreTest, FullExtractWithdrawsWhatItNoLongerCarries) {
  apply("10000001", "a", 1);
  apply("10000002", "b", 1);
  apply("10000003", "c", 1);
  apply("20000001", "x", 1, "999");  // another VPD is not touched
  ASSERT_TRUE(records_->apply("assignment", "10000001-1", "245", "{}", "s1", 1));
  ASSERT_TRUE(records_->apply("assignment", "10000002-1", "245", "{}", "s2", 1));
  ASSERT_TRUE(records_->apply("immunisation", "P1:E1", "245", "{}", "i1", 1));  // not compared
  // FULL extract, file 2, carries persons 1 and 3 and assignment 2-1 only.
  apply("10000001", "a", 2);
  apply("10000003", "c2", 2);
  std::map<std::string, KeySet, std::less<>> seen;
  seen["person"].add("10000001");
  seen["person"].add("10000003");
  seen["assignment"].add("10000002-1");
  for (auto& [entity, keys] : seen)
    keys.seal();
  auto withdrawn = records_->withdraw_unseen("245", seen, 2);
  ASSERT_TRUE(withdrawn);
  // Both entities in one pass, in key order.
  using Gone = std::pair<std::string, std::string>;
  EXPECT_THAT(*withdrawn, ElementsAre(Gone{"assignment", "10000001-1"}, Gone{"person", "10000002"}));
  EXPECT_TRUE((**records_->get("person", "10000002")).withdrawn);
  EXPECT_TRUE((**records_->get("assignment", "10000001-1")).withdrawn);
  EXPECT_FALSE((**records_->get("assignment", "10000002-1")).withdrawn);
  EXPECT_FALSE((**records_->get("immunisation", "P1:E1")).withdrawn);
  EXPECT_FALSE((**records_->get("person", "20000001")).withdrawn);
  EXPECT_THAT(*records_->withdraw_unseen("245", seen, 2), ElementsAre());  // idempotent
  EXPECT_EQ(*records_->count_live("person", "245"), 2);
  EXPECT_EQ(*records_->count_live("assignment", "245"), 1);
  EXPECT_FALSE(*records_->has_live("clearance", "245"));
  // It comes back in a later extract: an update, even with the same content.
  EXPECT_EQ(apply("10000002", "b", 3), Change::updated);
  EXPECT_FALSE((**records_->get("person", "10000002")).withdrawn);
}

TEST_F(RecordStoreTest, DeleteActionWithdraws) {
  apply("10000001", "a", 1);
  EXPECT_EQ(*records_->withdraw("person", "10000001", 2), Change::withdrawn);
  EXPECT_EQ(*records_->withdraw("person", "10000001", 3), Change::unchanged);
  EXPECT_EQ(*records_->withdraw("person", "99999999", 3), Change::unchanged);
  const auto history = *records_->history("person", "10000001");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(std::get<0>(history[1]), Change::withdrawn);
}

TEST_F(RecordStoreTest, RolledBackFileLeavesNoTrace) {
  ASSERT_TRUE(db_->begin());
  apply("10000001", "a", 1);
  db_->rollback();
  EXPECT_FALSE(*records_->get("person", "10000001"));
  EXPECT_TRUE(records_->history("person", "10000001")->empty());
}

TEST_F(RecordStoreTest, LedgerFindsDuplicatesAndSequence) {
  EXPECT_FALSE(*ledger_->last_applied_seq("245", "ESR-OHS"));
  FileRow row{0, "DE_245_OHS_20260801_0000001.DAT", "sum1", "245", "ESR-OHS", 1};
  const auto id = *ledger_->add(row);
  // Still processing: not yet a duplicate of anything.
  EXPECT_FALSE(*ledger_->applied_by_checksum("sum1"));
  ASSERT_TRUE(ledger_->finish(id, FileStatus::partial, 9, 3, 6, ""));
  EXPECT_EQ((*ledger_->applied_by_checksum("sum1"))->name, "DE_245_OHS_20260801_0000001.DAT");
  EXPECT_EQ((*ledger_->applied_by_seq("245", "ESR-OHS", 1))->accepted, 3);
  EXPECT_FALSE(*ledger_->applied_by_seq("245", "OHS-ESR", 1));
  EXPECT_EQ(**ledger_->last_applied_seq("245", "ESR-OHS"), 1);
  const auto rejected = *ledger_->add(FileRow{0, "DE_245_OHS_20260802_0000005.DAT", "sum2", "245", "ESR-OHS", 5,
                                              FileStatus::rejected, 0, 0, 0, "TRL count"});
  EXPECT_GT(rejected, id);
  EXPECT_EQ(**ledger_->last_applied_seq("245", "ESR-OHS"), 1);  // a rejected file never counts
  const auto recent = *ledger_->recent(10);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].status, FileStatus::rejected);
  EXPECT_EQ(recent[0].reason, "TRL count");
  EXPECT_EQ(ledger_->finish(12345, FileStatus::applied, 0, 0, 0, "").error().rule, "ledger.unknown_id");
}

// Schema 15 rebuilds the history with its CHECK written as comparisons (an IN list made SQLite build
// a temporary B-tree for every insert): the rows survive, and the rule still holds.
TEST(HistoryUpgrade, RowsSurviveTheRebuildAndTheCheckStillHolds) {
  test::TempDir dir;
  {
    auto db = SqliteDb::open((dir / "esrsync.db").string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->migrate(test::migrations_before(15)));
    ASSERT_TRUE(db->exec(
        "INSERT INTO change_history (id, entity, record_key, change, content_hash, payload, file_id, at_ms) VALUES "
        "(7, 'person', '10000001', 'inserted', 'h1', '', 1, 10), (8, 'person', '10000001', 'updated', 'h2', '{}', 2, "
        "20)"));
  }
  auto db = test::open_migrated_store(dir / "esrsync.db");
  ASSERT_TRUE(db);
  ManualClock clock;
  RecordStore records(*db, clock);
  const auto history = records.history("person", "10000001");
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ(std::get<0>((*history)[0]), Change::inserted);
  EXPECT_EQ(std::get<1>((*history)[1]), "h2");
  EXPECT_EQ(std::get<2>((*history)[1]), 2);
  const auto bad = db->exec(
      "INSERT INTO change_history (entity, record_key, change, content_hash, payload, file_id, at_ms) VALUES "
      "('person', '10000001', 'renamed', 'h3', '', 3, 30)");
  EXPECT_FALSE(bad);
  auto plan = db->prepare(
      "EXPLAIN INSERT INTO change_history (entity, record_key, change, content_hash, payload, file_id, at_ms) "
      "VALUES ('person', 'k', 'inserted', 'h', '', 1, 1)");
  ASSERT_TRUE(plan);
  bool ephemeral = false;
  for (auto row = plan->step(); row && *row; row = plan->step())
    ephemeral = ephemeral || plan->column_text(1) == "OpenEphemeral";
  EXPECT_FALSE(ephemeral);  // no temporary B-tree per insert
}

// A change of content only rewrites the row in place (its indexes untouched); a change of VPD or a
// withdrawn record coming back takes the full path. Either way the stored state is the new one.
TEST_F(RecordStoreTest, ContentChangesInPlaceAndVpdOrStateChangesInFull) {
  EXPECT_EQ(apply("10000001", "h1", 1), Change::inserted);
  EXPECT_EQ(apply("10000001", "h2", 2), Change::updated);
  EXPECT_EQ((**records_->get("person", "10000001")).content_hash, "h2");
  EXPECT_EQ((**records_->get("person", "10000001")).last_file_id, 2);
  EXPECT_EQ(apply("10000001", "h3", 3, "246"), Change::updated);
  EXPECT_EQ((**records_->get("person", "10000001")).vpd, "246");
  EXPECT_EQ(*records_->withdraw("person", "10000001", 4), Change::withdrawn);
  EXPECT_EQ(apply("10000001", "h3", 5, "246"), Change::updated);  // back, same content
  EXPECT_FALSE((**records_->get("person", "10000001")).withdrawn);
  // The VPD index agrees: the live key is found under its new VPD only.
  std::map<std::string, KeySet, std::less<>> none;
  none["person"].seal();
  EXPECT_THAT(*records_->withdraw_unseen("245", none, 6), ElementsAre());
  EXPECT_THAT(*records_->withdraw_unseen("246", none, 6),
              ElementsAre(std::pair<std::string, std::string>{"person", "10000001"}));
  // Tried as new first: an existing key falls back to the lookup and is an update.
  auto again = records_->apply("person", "10000001", "246", "{}", "h4", 7, true);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, Change::updated);
  auto fresh = records_->apply("person", "10000002", "246", "{}", "h5", 7, true);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(*fresh, Change::inserted);
}

// Payloads are kept packed (store/payload.hpp) in the record and in the history, and read back as
// the JSON that went in; the version an update replaced is handed back as JSON too.
TEST_F(RecordStoreTest, PayloadsAreStoredPackedAndReadBackAsJson) {
  const std::string first = R"({"entity":"person","fields":{"person_number":"10000001","surname":"Okafor"}})";
  const std::string second = R"({"entity":"person","fields":{"person_number":"10000001","surname":"Okafor-Reed"}})";
  ASSERT_TRUE(records_->apply("person", "10000001", "245", first, "h1", 1));
  std::string packed;
  pack_payload(second, packed);  // as the decoding thread hands it over
  std::string previous;
  EXPECT_EQ(*records_->apply("person", "10000001", "245", packed, "h2", 2, false, &previous), Change::updated);
  EXPECT_EQ(previous, first);
  EXPECT_EQ((**records_->get("person", "10000001")).payload, second);
  EXPECT_EQ((*records_->with_prefix("person", "1000000")).at(0).payload, second);
  auto stored = db_->prepare("SELECT payload FROM canonical_record");
  ASSERT_TRUE(stored && *stored->step());
  EXPECT_TRUE(is_packed_payload(stored->column_blob(0)));
  auto history = db_->prepare("SELECT payload FROM change_history WHERE change = 'updated'");
  ASSERT_TRUE(history && *history->step());
  EXPECT_EQ(*unpack_payload(history->column_blob(0)), first);  // the replaced version, packed
}

// A store written before payloads were packed holds plain JSON: it is read, replaced and withdrawn
// as before, with no migration rewriting it.
TEST_F(RecordStoreTest, APayloadStoredAsPlainJsonIsReadAsItIs) {
  const std::string plain = R"({"entity":"person","fields":{"person_number":"10000001","surname":"Ahmed"}})";
  ASSERT_TRUE(
      db_->exec("INSERT INTO canonical_record (entity, record_key, vpd, content_hash, payload, updated_ms) "
                "VALUES ('person', '10000001', '245', 'h1', '" +
                plain + "', 0)"));
  EXPECT_EQ((**records_->get("person", "10000001")).payload, plain);
  std::string previous;
  EXPECT_EQ(*records_->apply("person", "10000001", "245", "{}", "h2", 2, false, &previous), Change::updated);
  EXPECT_EQ(previous, plain);
  EXPECT_EQ(*records_->withdraw("person", "10000001", 3), Change::withdrawn);
  auto history = db_->prepare("SELECT payload FROM change_history ORDER BY id");
  ASSERT_TRUE(history);
  std::vector<std::string> payloads;
  while (*history->step())
    payloads.push_back(*unpack_payload(history->column_blob(0)));
  EXPECT_THAT(payloads, ElementsAre(plain, "{}"));
}

// A stored payload damaged on disk is an error naming the rule, never some other content.
TEST_F(RecordStoreTest, ADamagedStoredPayloadIsAnError) {
  apply("10000001", "h1", 1);
  ASSERT_TRUE(db_->exec("UPDATE canonical_record SET payload = x'0128b52ffd00'"));
  auto got = records_->get("person", "10000001");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().rule, "store.payload");
  auto changed = records_->apply("person", "10000001", "245", "{}", "h2", 2, false, nullptr);
  EXPECT_TRUE(changed) << "the replaced version is kept as it was, not read";
  std::string previous;
  ASSERT_TRUE(db_->exec("UPDATE canonical_record SET payload = x'0128b52ffd00'"));
  auto read = records_->apply("person", "10000001", "245", "{\"a\":1}", "h3", 3, false, &previous);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().rule, "store.payload");
}

// Schema 17 clusters the records by key (a table without rowid): the rows survive the copy, are
// found by the primary key, and a key prefix is read as a range of it, not a walk of the entity.
TEST(ClusteredUpgrade, RecordsSurviveAndAreFoundByTheirKey) {
  test::TempDir dir;
  {
    auto db = SqliteDb::open((dir / "esrsync.db").string());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->migrate(test::migrations_before(17)));
    ASSERT_TRUE(db->exec(
        "INSERT INTO canonical_record (entity, record_key, vpd, content_hash, payload, withdrawn, last_file_id, "
        "updated_ms) VALUES ('person', '10000001', '245', 'h1', '{\"p\":1}', 0, 1, 10), "
        "('assignment', '10000001-1', '245', 'h2', '{\"a\":1}', 0, 1, 10), "
        "('assignment', '10000001-2', '245', 'h3', '{\"a\":2}', 1, 2, 20)"));
  }
  auto db = test::open_migrated_store(dir / "esrsync.db");
  ASSERT_TRUE(db);
  ManualClock clock;
  RecordStore records(*db, clock);
  EXPECT_EQ((**records.get("person", "10000001")).payload, "{\"p\":1}");
  auto assignments = records.with_prefix("assignment", "10000001-");
  ASSERT_TRUE(assignments);
  ASSERT_EQ(assignments->size(), 2u);
  EXPECT_TRUE((*assignments)[1].withdrawn);
  EXPECT_EQ((*assignments)[1].last_file_id, 2);
  EXPECT_EQ(*records.apply("assignment", "10000001-1", "245", "{}", "h2", 3), Change::unchanged);
  EXPECT_EQ(*records.apply("assignment", "10000001-1", "245", "{}", "h4", 3), Change::updated);
  const auto plan = [&](const std::string& sql) {
    auto stmt = db->prepare("EXPLAIN QUERY PLAN " + sql);
    std::string out;
    while (stmt && *stmt->step())
      out += std::string(stmt->column_text(3)) + "\n";
    return out;
  };
  EXPECT_THAT(plan("SELECT payload FROM canonical_record WHERE entity = 'person' AND record_key = '1'"),
              ::testing::HasSubstr("PRIMARY KEY"));
  // RecordStore::withdraw_unseen's scan: the VPD index alone, already in key order.
  const auto scan = plan(
      "SELECT entity, record_key FROM canonical_record WHERE vpd = '245' AND withdrawn = 0 ORDER BY record_key, "
      "entity");
  EXPECT_THAT(scan, ::testing::HasSubstr("COVERING INDEX canonical_record_vpd"));
  EXPECT_THAT(scan, ::testing::Not(::testing::HasSubstr("TEMP B-TREE")));
  // RecordStore::with_prefix's query.
  EXPECT_THAT(plan("SELECT record_key FROM canonical_record WHERE +entity = 'assignment' AND record_key >= '1-' AND "
                   "record_key < '1.' ORDER BY record_key"),
              ::testing::HasSubstr("PRIMARY KEY (record_key>? AND record_key<?)"));
}

// A file's content changes wait among the recent versions; every read sees them; the records' own
// rows are rewritten only when they are merged (RecordStore::kDeferredMigration).
class DeferredChangesTest : public RecordStoreTest {
 protected:
  // What canonical_record itself holds for (person, key): "hash payload".
  std::string in_place(const std::string& key) {
    auto stmt = db_->prepare("SELECT content_hash, payload FROM canonical_record WHERE record_key = ?1");
    EXPECT_TRUE(stmt);
    EXPECT_TRUE(stmt->bind(1, key));
    if (!*stmt->step()) return "none";
    auto json = unpack_payload(stmt->column_blob(1));
    return std::string(stmt->column_text(0)) + " " + (json ? *json : json.error().to_string());
  }
  std::int64_t waiting() {
    auto stmt = db_->prepare("SELECT count(*) FROM canonical_record_recent");
    EXPECT_TRUE(stmt && *stmt->step());
    return stmt->column_int64(0);
  }
  std::string payload(const std::string& key, const std::string& hash) {
    return "{\"person_number\":\"" + key + "\",\"h\":\"" + hash + "\"}";
  }
  void in_file(const std::function<void()>& body, std::int64_t merge_at = RecordStore::kMergeAtRows) {
    ASSERT_TRUE(db_->begin());
    auto merged = records_->begin_file(merge_at);
    ASSERT_TRUE(merged) << merged.error().to_string();
    last_merged_ = *merged;
    body();
    records_->end_file();
    ASSERT_TRUE(db_->commit());
  }
  std::int64_t last_merged_ = -1;
};

TEST_F(DeferredChangesTest, ADeltaChangeWaitsAndEveryReadSeesIt) {
  in_file([&] { apply("10000001", "h1", 1); });
  in_file([&] {
    EXPECT_EQ(apply("10000001", "h2", 2), Change::updated);
    EXPECT_EQ(apply("10000001", "h2", 2), Change::unchanged);  // compared with the recent version
    EXPECT_EQ(apply("10000001", "h3", 2), Change::updated);
    EXPECT_EQ((**records_->get("person", "10000001")).content_hash, "h3");
  });
  EXPECT_EQ(in_place("10000001"), "h1 " + payload("10000001", "h1"));  // not rewritten
  EXPECT_EQ(waiting(), 1);
  // Outside a file, and in another RecordStore (another process), the recent version is read.
  RecordStore other(*db_, clock_);
  for (RecordStore* store : {&*records_, &other}) {
    const auto stored = **store->get("person", "10000001");
    EXPECT_EQ(stored.content_hash, "h3");
    EXPECT_EQ(stored.payload, payload("10000001", "h3"));
    EXPECT_EQ(stored.last_file_id, 2);
  }
  EXPECT_EQ(*records_->apply("person", "10000001", "245", payload("10000001", "h3"), "h3", 3), Change::unchanged);
  // The history kept each replaced version, the recent one included.
  const auto history = *records_->history("person", "10000001");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(std::get<1>(history[2]), "h3");
  auto replaced = db_->prepare("SELECT payload FROM change_history ORDER BY id");
  std::vector<std::string> versions;
  while (*replaced->step())
    versions.push_back(replaced->column_blob(0).empty() ? "" : *unpack_payload(replaced->column_blob(0)));
  EXPECT_THAT(versions, ElementsAre("", payload("10000001", "h1"), payload("10000001", "h2")));
  auto view = db_->prepare("SELECT content_hash, last_file_id FROM current_record WHERE record_key = '10000001'");
  ASSERT_TRUE(*view->step());
  EXPECT_EQ(view->column_text(0), "h3");
  EXPECT_EQ(view->column_int64(1), 2);
}

TEST_F(DeferredChangesTest, ChangesWaitUpToTheLimitThenAreWrittenInPlace) {
  in_file([&] {
    for (const char* key : {"10000001", "10000002", "10000003"})
      apply(key, "a", 1);
  });
  in_file(
      [&] {
        for (const char* key : {"10000001", "10000002", "10000003"})
          EXPECT_EQ(apply(key, "b", 2), Change::updated);
        EXPECT_EQ(apply("10000001", "c", 2), Change::updated);  // waiting already: replaced there
      },
      2);
  EXPECT_EQ(waiting(), 2);
  EXPECT_EQ(in_place("10000001"), "a " + payload("10000001", "a"));
  EXPECT_EQ(in_place("10000003"), "b " + payload("10000003", "b"));
  EXPECT_EQ((**records_->get("person", "10000001")).content_hash, "c");
  EXPECT_EQ((**records_->get("person", "10000002")).content_hash, "b");
}

TEST_F(DeferredChangesTest, StoreMergeWritesWhatWaitsIntoTheRecords) {
  in_file([&] {
    for (const char* key : {"10000001", "10000002", "10000003"})
      apply(key, "a", 1);
  });
  in_file([&] {
    apply("10000001", "b", 2);
    apply("10000003", "b", 2);
  });
  EXPECT_EQ(waiting(), 2);
  ASSERT_TRUE(db_->begin());
  auto merged = records_->merge_recent();
  ASSERT_TRUE(db_->commit());
  ASSERT_TRUE(merged);
  EXPECT_EQ(*merged, 2);
  EXPECT_EQ(waiting(), 0);
  EXPECT_EQ(in_place("10000001"), "b " + payload("10000001", "b"));
  EXPECT_EQ(in_place("10000002"), "a " + payload("10000002", "a"));
  EXPECT_EQ(in_place("10000003"), "b " + payload("10000003", "b"));
  EXPECT_EQ((**records_->get("person", "10000003")).last_file_id, 2);
}

TEST_F(DeferredChangesTest, AFileMergesFirstWhenTooManyWait) {
  in_file([&] {
    for (const char* key : {"10000001", "10000002", "10000003"})
      apply(key, "a", 1);
  });
  in_file([&] { apply("10000001", "b", 2); }, 2);
  EXPECT_EQ(last_merged_, 0);
  in_file([&] { apply("10000002", "b", 3); }, 2);
  EXPECT_EQ(last_merged_, 0);
  EXPECT_EQ(waiting(), 2);
  in_file([&] { apply("10000003", "b", 4); }, 2);  // two wait: merged, then this one waits
  EXPECT_EQ(last_merged_, 2);
  EXPECT_EQ(waiting(), 1);
  EXPECT_EQ(in_place("10000002"), "b " + payload("10000002", "b"));
  EXPECT_EQ(in_place("10000003"), "a " + payload("10000003", "a"));
}

TEST_F(DeferredChangesTest, AWithdrawalOrAVpdChangeTakesTheRecentVersionWithIt) {
  in_file([&] {
    apply("10000001", "a", 1);
    apply("10000002", "a", 1);
  });
  in_file([&] {
    apply("10000001", "b", 2);
    apply("10000002", "b", 2);
  });
  in_file([&] {
    EXPECT_EQ(*records_->withdraw("person", "10000001", 3), Change::withdrawn);
    EXPECT_EQ(apply("10000002", "c", 3, "999"), Change::updated);  // another VPD: the whole record
  });
  EXPECT_EQ(waiting(), 0);
  EXPECT_EQ(in_place("10000001"), "b " + payload("10000001", "b"));  // withdrawn as it last was
  EXPECT_TRUE((**records_->get("person", "10000001")).withdrawn);
  EXPECT_EQ(in_place("10000002"), "c " + payload("10000002", "c"));
  // The withdrawal's history row keeps the version it withdrew: the recent one.
  auto last = db_->prepare("SELECT payload FROM change_history WHERE change = 'withdrawn'");
  ASSERT_TRUE(*last->step());
  EXPECT_EQ(*unpack_payload(last->column_blob(0)), payload("10000001", "b"));
  // Coming back: compared with the version it was withdrawn as, written whole.
  in_file([&] { EXPECT_EQ(apply("10000001", "b", 4), Change::updated); });
  EXPECT_FALSE((**records_->get("person", "10000001")).withdrawn);
  EXPECT_EQ(waiting(), 0);
}

TEST_F(DeferredChangesTest, AssignmentsByPrefixReadTheirRecentVersions) {
  in_file([&] {
    for (const char* key : {"10000001-1", "10000001-2"})
      EXPECT_EQ(*records_->apply("assignment", key, "245", "{\"a\":1}", "a", 1), Change::inserted);
  });
  in_file(
      [&] { EXPECT_EQ(*records_->apply("assignment", "10000001-2", "245", "{\"a\":2}", "b", 2), Change::updated); });
  const auto both = *records_->with_prefix("assignment", "10000001-");
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].payload, "{\"a\":1}");
  EXPECT_EQ(both[1].payload, "{\"a\":2}");
  EXPECT_EQ(both[1].content_hash, "b");
  EXPECT_EQ(both[1].last_file_id, 2);
}

TEST_F(DeferredChangesTest, ARolledBackFileOrMergeLeavesWhatWaitedAsItWas) {
  in_file([&] {
    apply("10000001", "a", 1);
    apply("10000002", "a", 1);
  });
  in_file([&] { apply("10000001", "b", 2); });
  // A file abandoned: its change and its merge are undone.
  ASSERT_TRUE(db_->begin());
  ASSERT_TRUE(records_->begin_file(1));
  EXPECT_EQ(waiting(), 0);
  apply("10000002", "x", 3);
  db_->rollback();
  records_->end_file();
  EXPECT_EQ(waiting(), 1);
  EXPECT_EQ((**records_->get("person", "10000001")).content_hash, "b");
  EXPECT_EQ((**records_->get("person", "10000002")).content_hash, "a");
  EXPECT_EQ(in_place("10000001"), "a " + payload("10000001", "a"));
}

TEST_F(DeferredChangesTest, ARecentVersionWithoutItsRecordIsAnErrorAtTheMerge) {
  ASSERT_TRUE(db_->exec(
      "INSERT INTO canonical_record_recent (record_key, entity, content_hash, payload, last_file_id, updated_ms) "
      "VALUES ('10000009', 'person', 'h', x'00', 1, 0)"));
  ASSERT_TRUE(db_->begin());
  auto merged = records_->merge_recent();
  db_->rollback();
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error().rule, "store.recent");
  EXPECT_THAT(merged.error().message, ::testing::HasSubstr("person 10000009 has no record to merge into"));
  EXPECT_EQ(waiting(), 1);  // nothing was lost
}

// A first load in key order: records above every stored key are inserted kAppendRows per statement.
class AppendedInsertsTest : public DeferredChangesTest {
 protected:
  // A likely-new person (a first load's apply).
  Change add(const std::string& key, const std::string& hash, std::int64_t file) {
    auto c = records_->apply("person", key, "245", payload(key, hash), hash, file, true);
    EXPECT_TRUE(c) << c.error().to_string();
    return c ? *c : Change::unchanged;
  }
  std::int64_t count(const std::string& sql) {
    auto stmt = db_->prepare(sql);
    EXPECT_TRUE(stmt && *stmt->step());
    return stmt->column_int64(0);
  }
  static std::string key(std::size_t i) { return std::to_string(10000000 + i); }
};

TEST_F(AppendedInsertsTest, AFirstLoadInKeyOrderIsWrittenInGroupsWithItsHistoryInOrder) {
  constexpr std::size_t kRecords = 2 * RecordStore::kAppendRows + 10;  // two groups and the rest
  in_file([&] {
    for (std::size_t i = 0; i < kRecords; ++i)
      EXPECT_EQ(add(key(i), "h" + std::to_string(i), 1), Change::inserted);
    // The two groups are written; the rest waits until something reads, or the file ends.
    EXPECT_EQ(count("SELECT count(*) FROM canonical_record"), 2 * RecordStore::kAppendRows);
    ASSERT_TRUE(records_->flush_appended());
  });
  EXPECT_EQ(count("SELECT count(*) FROM canonical_record"), kRecords);
  EXPECT_EQ(count("SELECT count(*) FROM change_history WHERE change = 'inserted' AND payload = x''"), kRecords);
  // History rows in the file's order, and every record as given.
  auto order = db_->prepare("SELECT record_key, content_hash, file_id FROM change_history ORDER BY id");
  ASSERT_TRUE(order);
  for (std::size_t i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(*order->step());
    EXPECT_EQ(order->column_text(0), key(i));
    EXPECT_EQ(order->column_text(1), "h" + std::to_string(i));
    EXPECT_EQ(order->column_int64(2), 1);
  }
  for (const std::size_t i : {std::size_t{0}, RecordStore::kAppendRows, kRecords - 1}) {
    auto stored = records_->get("person", key(i));
    ASSERT_TRUE(stored && *stored);
    EXPECT_EQ((*stored)->payload, payload(key(i), "h" + std::to_string(i)));
    EXPECT_EQ((*stored)->vpd, "245");
    EXPECT_FALSE((*stored)->withdrawn);
  }
}

TEST_F(AppendedInsertsTest, EveryReadAndEveryOtherWriteSeesTheRecordsWaiting) {
  in_file([&] {
    EXPECT_EQ(add("10000001", "a", 1), Change::inserted);
    EXPECT_EQ(add("10000002", "b", 1), Change::inserted);
    EXPECT_EQ(count("SELECT count(*) FROM canonical_record"), 0);  // waiting
    // A read writes them first.
    EXPECT_EQ((**records_->get("person", "10000002")).content_hash, "b");
    EXPECT_EQ(add("10000003", "c", 1), Change::inserted);
    EXPECT_EQ(*records_->count_live("person", "245"), 3);
    EXPECT_EQ(add("10000004", "d", 1), Change::inserted);
    EXPECT_EQ(records_->with_prefix("person", "1000000")->size(), 4u);
    // A key listed again (not above the last one): looked up, an update after the waiting insert.
    EXPECT_EQ(add("10000005", "e", 1), Change::inserted);
    EXPECT_EQ(add("10000005", "e2", 1), Change::updated);
    EXPECT_EQ(add("10000005", "e2", 1), Change::unchanged);
    // Out of order: tried as new the usual way.
    EXPECT_EQ(add("10000000", "z", 1), Change::inserted);
    EXPECT_EQ(add("10000006", "f", 1), Change::inserted);
    EXPECT_EQ(*records_->withdraw("person", "10000006", 1), Change::withdrawn);
    EXPECT_EQ(add("10000007", "g", 1), Change::inserted);
    ASSERT_TRUE(records_->flush_appended());
  });
  EXPECT_EQ(count("SELECT count(*) FROM canonical_record"), 8);
  const auto history = *records_->history("person", "10000005");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(std::get<0>(history[0]), Change::inserted);
  EXPECT_EQ(std::get<0>(history[1]), Change::updated);
  EXPECT_EQ(std::get<0>(records_->history("person", "10000006")->back()), Change::withdrawn);
}

TEST_F(AppendedInsertsTest, OnlyKeysAboveEveryStoredOneAreAppended) {
  in_file([&] {
    add("10000005", "a", 1);
    add("20000000", "b", 1);
    ASSERT_TRUE(records_->flush_appended());
  });
  in_file([&] {
    // Below the store's greatest key: looked up (an existing one is unchanged, not inserted twice).
    EXPECT_EQ(add("10000005", "a", 2), Change::unchanged);
    EXPECT_EQ(add("10000006", "c", 2), Change::inserted);
    EXPECT_EQ(count("SELECT count(*) FROM canonical_record"), 3);  // written at once
    // Above it: waits to be appended.
    EXPECT_EQ(add("30000000", "d", 2), Change::inserted);
    EXPECT_EQ(count("SELECT count(*) FROM canonical_record"), 3);
    // A record inserted another way raises the bound: the same key after it is looked up.
    ASSERT_EQ(*records_->apply("person", "40000000", "245", payload("40000000", "e"), "e", 2), Change::inserted);
    EXPECT_EQ(add("40000000", "e2", 2), Change::updated);
    ASSERT_TRUE(records_->flush_appended());
  });
  EXPECT_EQ(count("SELECT count(*) FROM canonical_record"), 5);
  EXPECT_EQ((**records_->get("person", "40000000")).content_hash, "e2");
}

// Were a key appended there after all (written behind the store's back), the insert fails with
// SQLite's UNIQUE error: the file is rolled back, never half applied.
TEST_F(AppendedInsertsTest, AnAppendedKeyThatExistsAfterAllIsAnErrorNotAReplacement) {
  ASSERT_TRUE(db_->begin());
  ASSERT_TRUE(records_->begin_file());
  EXPECT_EQ(add("10000001", "a", 1), Change::inserted);  // the bound is read: the store is empty
  ASSERT_TRUE(db_->exec(
      "INSERT INTO canonical_record (entity, record_key, vpd, content_hash, payload, last_file_id, updated_ms) "
      "VALUES ('person', '10000002', '245', 'other', x'00', 9, 0)"));
  EXPECT_EQ(add("10000002", "b", 1), Change::inserted);  // above the bound: waits
  const auto flushed = records_->flush_appended();
  ASSERT_FALSE(flushed);
  EXPECT_THAT(flushed.error().message, ::testing::HasSubstr("UNIQUE"));
  db_->rollback();
  records_->end_file();
  EXPECT_EQ(count("SELECT count(*) FROM canonical_record"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM change_history"), 0);
}

TEST_F(AppendedInsertsTest, AnAbandonedFileLeavesNothingOfWhatWaited) {
  ASSERT_TRUE(db_->begin());
  ASSERT_TRUE(records_->begin_file());
  for (std::size_t i = 0; i < RecordStore::kAppendRows + 3; ++i)
    add(key(i), "h", 1);
  db_->rollback();
  records_->end_file();
  EXPECT_EQ(count("SELECT count(*) FROM canonical_record"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM change_history"), 0);
  // Nothing waits for the next file either.
  in_file([&] {
    add("20000000", "x", 2);
    ASSERT_TRUE(records_->flush_appended());
  });
  EXPECT_EQ(count("SELECT count(*) FROM canonical_record"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM change_history"), 1);
}

}  // namespace
}  // namespace esrsync::store
