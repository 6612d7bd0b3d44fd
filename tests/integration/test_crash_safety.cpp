// Crash safety (issue #4): `esrsync sync --once` is killed with SIGKILL at random moments while it
// applies a stream of ESR extracts and OH exports and delivers their changes (JSON lines to the OH
// side, DI_ return files to ESR), then started again until a run completes. The end state must
// equal a run that was never interrupted: the same records with the same content, the same files
// applied with the same ACKs, every change delivered (at least once, with its idempotency key, so
// the set of keys is equal), every delivered file complete, and the DI files carrying every event
// exactly once under contiguous sequence numbers.
// ESRSYNC_CRASH_ITERATIONS sets the number of crashed runs (CI: 20; the soak target: 200).

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "esrsync/store/sqlite.hpp"
#include "support/capture.hpp"
#include "support/process.hpp"

namespace esrsync {
namespace {

namespace fs = std::filesystem;
const std::string kSource = ESRSYNC_SOURCE_DIR;

struct Snapshot {
  std::map<std::string, std::string> records;  // entity/key -> hash + withdrawn
  std::map<std::string, std::string> files;    // name -> status and counts
  std::map<std::string, std::string> acks;     // ACK file -> content without its timestamp
  std::set<std::string> delivered_keys;
  std::size_t delivered_lines = 0;
  std::int64_t outbox_rows = 0;       // changes queued: each exactly once, however often the run was killed
  std::int64_t recent_rows = 0;       // record versions waiting to be merged (RecordStore::kDeferredMigration)
  std::vector<std::string> di_lines;  // every data line of every DI file, sorted
  std::size_t di_files = 0;
};

class CrashSafety : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    workload_ = new test::TempDir();  // NOLINT(cppcoreguidelines-owning-memory): one per suite
    // Three FULL extracts of different populations: inserts, updates, withdrawals in bulk; between
    // the second and the third a DELTA (seq 3) changing every 7th person of the second. Changes
    // wait among the store's recent versions up to [store] merge_recent_at = 3000 (below): the
    // second FULL fills them, the DELTA merges those 3,000 before its own, and ~3,000 wait at the end.
    for (const int seq : {1, 2, 4}) {
      const auto r =
          test::run_process({ESRSYNC_BENCH_GEN, "esr-full", "--persons", "1500", "--seed",
                             std::to_string(seq == 4 ? 1 : seq), "--seq", std::to_string(seq), "--bad-every", "97"});
      ASSERT_EQ(r.exit_code, 0);
      test::write_file(
          *workload_ / ("DE_245_OHS_2026080" + std::to_string(seq) + "_000000" + std::to_string(seq) + ".DAT"), r.out);
      if (seq == 2) test::write_file(*workload_ / "DE_245_OHS_20260803_0000003.DAT", delta_of(r.out));
    }
    // Two OH exports about the same population: new events, then some of them again changed.
    for (const auto& [seed, records] : {std::pair{1, 2000}, std::pair{5, 700}}) {
      const auto r = test::run_process({ESRSYNC_BENCH_GEN, "oh-csv", "--records", std::to_string(records), "--seed",
                                        std::to_string(seed), "--persons", "1500"});
      ASSERT_EQ(r.exit_code, 0);
      test::write_file(*workload_ / ("oh_export_" + std::to_string(seed) + ".csv"), r.out);
    }
  }
  // A DELTA (seq 3) of every 7th PER record of `full`, action C, its mobile (field 14) changed.
  static std::string delta_of(const std::string& full) {
    std::istringstream in(full);
    std::string out = "HDR|ESR-OHS|1.0|245|DELTA|3|20260803020000\n";
    std::string line;
    int per = 0;
    int written = 0;
    while (std::getline(in, line)) {
      if (line.rfind("PER|", 0) != 0 || per++ % 7 != 3) continue;
      std::vector<std::string> fields;
      std::istringstream split(line);
      for (std::string f; std::getline(split, f, '|');)
        fields.push_back(f);
      if (fields.size() < 14) continue;
      fields[1] = "C";
      fields[13] = "0770090" + std::to_string(1000 + written);
      std::string changed;
      for (const auto& f : fields)
        changed += (changed.empty() ? "" : "|") + f;
      out += changed + "\n";
      ++written;
    }
    return out + "TRL|" + std::to_string(written) + "\n";
  }
  static void TearDownTestSuite() {
    delete workload_;  // NOLINT(cppcoreguidelines-owning-memory)
    workload_ = nullptr;
  }

  static fs::path prepare(const fs::path& dir) {
    for (const auto* d : {"state", "inbox", "processed", "quarantine", "acks", "out", "oh-inbox", "oh-processed",
                          "oh-quarantine", "oh-acks", "di-out", "di-acks"})
      fs::create_directories(dir / d);
    test::write_file(dir / "esrsync.toml",
                     "[store]\npath = \"state/esrsync.db\"\nmerge_recent_at = 3000\n[esr]\nvpds = "
                     "[\"245\"]\n[[flows]]\nname = \"esr\"\n"
                     "mapping = \"" +
                         kSource + "/mappings/esr/de_extract.xml\"\nack_mapping = \"" + kSource +
                         "/mappings/esr/ack.xml\"\n[flows.source]\nadapter = \"dir\"\ninbox = \"inbox\"\n"
                         "pattern = \"DE_*.DAT\"\nprocessed = \"processed\"\nquarantine = \"quarantine\"\n"
                         "acks = \"acks\"\n[[flows.sinks]]\nname = \"oh\"\nadapter = \"dir\"\ndirectory = \"out\"\n"
                         "base_delay_ms = 0\nbatch = 200\n"
                         "[[flows]]\nname = \"oh\"\nmapping = \"" +
                         kSource + "/mappings/oh/generic_csv.xml\"\nack_mapping = \"" + kSource +
                         "/mappings/esr/ack.xml\"\n[flows.source]\nadapter = \"dir\"\ninbox = \"oh-inbox\"\n"
                         "pattern = \"*.csv\"\nprocessed = \"oh-processed\"\nquarantine = \"oh-quarantine\"\n"
                         "acks = \"oh-acks\"\n[[flows.sinks]]\nname = \"esr-return\"\nadapter = \"dir\"\n"
                         "directory = \"di-out\"\nmapping = \"" +
                         kSource +
                         "/mappings/esr/di_return.xml\"\nfile_name = \"DI_{vpd}_OHS_{seq}.DAT\"\n"
                         "base_delay_ms = 0\nbatch = 300\n");
    for (const auto& e : fs::directory_iterator(workload_->path())) {
      const bool oh = e.path().extension() == ".csv";
      fs::copy_file(e.path(), dir / (oh ? "oh-inbox" : "inbox") / e.path().filename());
    }
    return dir / "esrsync.toml";
  }

  static std::vector<std::string> sync_args(const fs::path& config) {
    return {ESRSYNC_BINARY, "sync", "--once", "--today", "2026-09-01", "--config", config.string()};
  }

  // Starts a sync and kills it with SIGKILL after `delay_us`; true if it was killed mid-run.
  static bool run_and_kill(const fs::path& config, int delay_us) {
    const auto args = sync_args(config);
    const pid_t pid = fork();
    if (pid == 0) {
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      test::exec_or_exit(args);
    }
    usleep(static_cast<useconds_t>(delay_us));  // the crash point: a random moment of the run
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status);
  }

  static Snapshot snapshot(const fs::path& dir) {
    Snapshot s;
    auto db = store::SqliteDb::open((dir / "state/esrsync.db").string());
    EXPECT_TRUE(db) << db.error().to_string();
    auto records = db->prepare("SELECT entity, record_key, content_hash, withdrawn FROM current_record");
    while (*records->step()) {
      s.records[std::string(records->column_text(0)) + "/" + std::string(records->column_text(1))] =
          std::string(records->column_text(2)) + (records->column_int64(3) != 0 ? " withdrawn" : "");
    }
    auto recent = db->prepare("SELECT count(*) FROM canonical_record_recent");
    EXPECT_TRUE(*recent->step());
    s.recent_rows = recent->column_int64(0);
    auto queued = db->prepare("SELECT count(*), count(DISTINCT idempotency_key) FROM outbox");
    EXPECT_TRUE(*queued->step());
    s.outbox_rows = queued->column_int64(0);
    EXPECT_EQ(queued->column_int64(1), s.outbox_rows) << "a change queued twice";
    auto files = db->prepare(
        "SELECT name, status, records_read, accepted, rejected FROM inbound_file WHERE status IN "
        "('applied', 'partial', 'rejected')");
    while (*files->step()) {
      std::ostringstream v;
      v << files->column_text(1) << " " << files->column_int64(2) << " " << files->column_int64(3) << " "
        << files->column_int64(4);
      EXPECT_TRUE(s.files.emplace(std::string(files->column_text(0)), v.str()).second)
          << "a file applied twice: " << files->column_text(0);
    }
    for (const auto* acks : {"acks", "oh-acks"}) {
      for (const auto& e : fs::directory_iterator(dir / acks)) {
        std::string text = test::read_file(e.path());
        // ACK|name|status|read|accepted|rejected|timestamp: drop the timestamp.
        const auto first_line_end = text.find('\n');
        const auto ts = text.rfind('|', first_line_end);
        s.acks[e.path().filename().string()] = text.substr(0, ts) + text.substr(first_line_end);
      }
    }
    // DI files: complete (TRL counts the lines), numbered 1..N with the header agreeing.
    std::set<std::string> di_names;
    for (const auto& e : fs::directory_iterator(dir / "di-out")) {
      if (!e.path().filename().string().ends_with(".part")) di_names.insert(e.path().filename().string());
    }
    for (const auto& name : di_names) {
      ++s.di_files;
      char expected[40];
      std::snprintf(expected, sizeof expected, "DI_245_OHS_%07zu.DAT", s.di_files);
      EXPECT_EQ(name, expected) << "DI sequence numbers must be contiguous";
      std::istringstream lines(test::read_file(dir / "di-out" / name));
      std::vector<std::string> body;
      std::string header;
      std::string trailer;
      for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("HDR|"))
          header = line;
        else if (line.starts_with("TRL|"))
          trailer = line;
        else
          body.push_back(line);
      }
      EXPECT_THAT(header, ::testing::StartsWith("HDR|OHS-ESR|1.0|245|DELTA|" + std::to_string(s.di_files) + "|"));
      EXPECT_EQ(trailer, "TRL|" + std::to_string(body.size())) << name;
      s.di_lines.insert(s.di_lines.end(), body.begin(), body.end());
    }
    std::sort(s.di_lines.begin(), s.di_lines.end());
    for (const auto& e : fs::directory_iterator(dir / "out")) {
      const std::string name = e.path().filename().string();
      if (name.ends_with(".part")) continue;  // an unfinished write is never a delivered file
      const std::string text = test::read_file(e.path());
      EXPECT_TRUE(text.empty() || text.back() == '\n') << "incomplete delivered file " << name;
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) {
        const auto start = line.find("\"idempotency_key\":\"") + 19;
        EXPECT_EQ(line.rfind("{\"idempotency_key\":\"", 0), 0u) << name;
        s.delivered_keys.insert(line.substr(start, line.find('"', start) - start));
        ++s.delivered_lines;
      }
    }
    return s;
  }

  static test::TempDir* workload_;
};

test::TempDir* CrashSafety::workload_ = nullptr;

TEST_F(CrashSafety, KilledAtRandomPointsEndsAsIfNeverInterrupted) {
  test::TempDir reference_dir;
  const auto reference_config = prepare(reference_dir.path());
  // A clean run (again until nothing is waiting: a held file waits for its gap).
  const auto clean = test::run_process(sync_args(reference_config), std::chrono::seconds(120));
  ASSERT_NE(clean.exit_code, 2) << clean.err;
  const Snapshot reference = snapshot(reference_dir.path());
  ASSERT_GT(reference.records.size(), 3000u);
  ASSERT_EQ(reference.files.size(), 6u);
  ASSERT_GT(reference.recent_rows, 0) << "record changes should wait at the end";
  // The DELTA changed about 1 person in 7 (its changes then merged by the last FULL).
  ASSERT_THAT(reference.files.at("DE_245_OHS_20260803_0000003.DAT"), ::testing::StartsWith("partial 21"));
  ASSERT_GT(reference.di_lines.size(), 2000u);
  ASSERT_EQ(reference.delivered_lines, reference.delivered_keys.size());

  // How long a whole run takes, to spread the kills over it: the fastest of three, so that a run
  // slowed down by other work on the machine does not stretch the window past most runs' end.
  std::int64_t run_us = std::numeric_limits<std::int64_t>::max();
  for (int t = 0; t < 3; ++t) {
    test::TempDir timing;
    const auto c = prepare(timing.path());
    const auto started = std::chrono::steady_clock::now();
    (void)test::run_process(sync_args(c), std::chrono::seconds(120));
    run_us = std::min<std::int64_t>(
        run_us,
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
  }

  const char* env = std::getenv("ESRSYNC_CRASH_ITERATIONS");
  const int iterations = env != nullptr ? std::atoi(env) : 20;
  std::mt19937 rng(20260801);
  int kills = 0;
  for (int i = 0; i < iterations; ++i) {
    test::TempDir dir;
    const auto config = prepare(dir.path());
    // Up to three crashes per iteration at random points, then a run to completion.
    // Each restart has less left to do, so each later crash point is drawn from a shorter window.
    for (int crash = 0; crash < 3; ++crash) {
      const auto window = static_cast<std::uint32_t>(run_us >> crash) + 1;
      if (run_and_kill(config, static_cast<int>(rng() % window))) ++kills;
    }
    const auto finish = test::run_process(sync_args(config), std::chrono::seconds(120));
    ASSERT_NE(finish.exit_code, 2) << "iteration " << i << ": " << finish.err;
    const Snapshot after = snapshot(dir.path());
    EXPECT_EQ(after.records, reference.records) << "iteration " << i;
    EXPECT_EQ(after.outbox_rows, reference.outbox_rows) << "iteration " << i << ": a change queued twice or lost";
    EXPECT_EQ(after.recent_rows, reference.recent_rows) << "iteration " << i;
    EXPECT_EQ(after.files, reference.files) << "iteration " << i;
    EXPECT_EQ(after.acks, reference.acks) << "iteration " << i;
    EXPECT_EQ(after.di_lines, reference.di_lines) << "iteration " << i << ": DI events lost or sent twice";
    std::vector<std::string> missing;
    std::vector<std::string> extra;
    std::set_difference(reference.delivered_keys.begin(), reference.delivered_keys.end(), after.delivered_keys.begin(),
                        after.delivered_keys.end(), std::back_inserter(missing));
    std::set_difference(after.delivered_keys.begin(), after.delivered_keys.end(), reference.delivered_keys.begin(),
                        reference.delivered_keys.end(), std::back_inserter(extra));
    EXPECT_TRUE(missing.empty()) << "iteration " << i << ": " << missing.size() << " change(s) never delivered, e.g. "
                                 << missing.front();
    EXPECT_TRUE(extra.empty()) << "iteration " << i << ": " << extra.size() << " unexpected change(s), e.g. "
                               << (extra.empty() ? "" : extra.front());
    if (HasFailure()) break;
  }
  // The kills must really have landed mid-run, or this test proves nothing.
  EXPECT_GE(kills, iterations) << "too few runs were actually interrupted";
  std::printf(
      "crash safety: %d iterations, %d runs killed mid-way, %zu records (%lld changes waiting to be merged), %zu "
      "changes delivered, %zu DI lines in %zu files\n",
      iterations, kills, reference.records.size(), static_cast<long long>(reference.recent_rows),
      reference.delivered_keys.size(), reference.di_lines.size(), reference.di_files);
}

}  // namespace
}  // namespace esrsync
