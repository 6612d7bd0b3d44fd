// Outbox benchmark (issue #4): durable enqueues per second (synchronous=FULL, one commit per batch,
// as a file's changes commit together) and claim + deliver to a directory sink + ack per second:
// each claimed batch of 500 is written as one file (temp + fsync + rename + directory fsync, as
// the directory sink does) and then marked delivered in one transaction.
//   esrsync_bench_outbox [--changes N] [--batch B] [--dir D]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "esrsync/core/atomic_file.hpp"
#include "esrsync/store/outbox.hpp"
#include "esrsync/store/schema.hpp"

int main(int argc, char** argv) {
  int changes = 200'000;
  int batch = 1000;
  std::string dir = std::filesystem::temp_directory_path() / "esrsync-bench-outbox";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--changes") changes = std::stoi(argv[i + 1]);
    if (arg == "--batch") batch = std::stoi(argv[i + 1]);
    if (arg == "--dir") dir = argv[i + 1];
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto db = esrsync::store::SqliteDb::open(dir + "/bench.db");
  if (!db) return 2;
  if (!db->migrate(esrsync::store::schema_migrations())) return 2;
  esrsync::SystemClock clock;
  esrsync::store::Outbox outbox(*db, esrsync::store::RetryPolicy{}, clock, 1);
  const std::string payload(300, 'p');  // about one canonical immunisation record as JSON

  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < changes; i += batch) {
    if (!db->begin()) return 2;
    for (int j = i; j < i + batch && j < changes; ++j) {
      esrsync::store::OutboxEntry e;
      e.sink = "esr-di";
      e.idempotency_key = "esr-di:immunisation:OHR" + std::to_string(j);
      e.entity = "immunisation";
      e.record_key = "OHR" + std::to_string(j);
      e.payload = payload;
      if (!outbox.enqueue(e)) return 2;
    }
    if (!db->commit()) return 2;
  }
  const double enqueue_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  start = std::chrono::steady_clock::now();
  long settled = 0;
  std::filesystem::create_directories(dir + "/sink");
  std::string text;
  for (;;) {
    auto claimed = outbox.claim("esr-di", 500);
    if (!claimed) return 2;
    if (claimed->empty()) break;
    text.clear();
    for (const auto& e : *claimed) {
      text += "{\"idempotency_key\":\"" + e.idempotency_key + "\",\"change\":\"";
      text += e.payload;
      text += "\"}\n";
    }
    if (!esrsync::write_file_atomically(dir + "/sink/batch-" + std::to_string(claimed->front().id) + ".jsonl", text)) {
      return 2;
    }
    if (!db->begin()) return 2;
    for (const auto& e : *claimed) {
      if (!outbox.delivered(e.id)) return 2;
      ++settled;
    }
    if (!db->commit()) return 2;
  }
  const double settle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "changes=%d batch=%d enqueue_s=%.3f enqueues_per_s=%.0f deliver_to_dir_s=%.3f claim_deliver_ack_per_s=%.0f\n",
      changes, batch, enqueue_s, changes / enqueue_s, settle_s, static_cast<double>(settled) / settle_s);
  std::filesystem::remove_all(dir);
  return settled == changes ? 0 : 1;
}
