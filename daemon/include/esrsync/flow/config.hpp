#pragma once
// The configuration file (TOML; DESIGN.md "Configuration"): the store, the VPDs this installation
// accepts, and the flows. Unknown keys are errors, every problem is reported with file:line, and
// relative paths are taken relative to the configuration file. The reference for every key is
// docs/configuration.md; systemd/esrsync.toml and sample-data/esrsync.toml are examples.
//
// Loaded at start-up or by `esrsync check --config` (blocking file reads).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "esrsync/core/result.hpp"
#include "esrsync/store/record_store.hpp"

namespace esrsync::flow {

struct DirSourceConfig {
  std::string inbox;             // where files arrive
  std::string pattern;           // which file names to take, e.g. "DE_*.DAT" (glob: * and ?)
  std::string processed;         // applied (or duplicate) files move here
  std::string quarantine;        // rejected files move here, with a .reason file
  std::string acks;              // where .ACK files are written
  int keep_processed_days = 30;  // processed files are deleted this many days after they were processed
};

// A directory sink. Without a mapping it writes each batch of changes as JSON lines. With a mapping
// that has a header and trailer (the ESR DI return), it writes ESR-style files: one per VPD per
// batch, named from `file_name`, with sequence numbers contiguous per VPD starting at `first_seq`;
// the receiver's .ACK files for them are read back from `acks`, and ERR lines become dead letters.
// kind "staff-history": the sink receives no changes; it sends a trainee's staff history (a FHIR
// Bundle, fhir/staff_history.hpp) when an ESR extract shows their new assignment at another
// organisation and they consented (DOMAIN.md "Inter-provider staff history"), one file per
// transfer named staff_history_<person>_<to org>_<id>.json.
struct DirSinkConfig {
  std::string name;
  std::string kind = "changes";                             // changes | staff-history
  std::string directory;                                    // delivered changes are written here
  std::string mapping;                                      // the outbound layout ("" = JSON lines)
  std::string file_name = "DI_{vpd}_OHS_{date}_{seq}.DAT";  // {vpd}, {date} (YYYYMMDD), {seq} (7 digits)
  std::int64_t first_seq = 1;
  std::string acks;         // where the receiver's .ACK files arrive ("" = none read back)
  std::string ack_mapping;  // their layout (required with acks)
  int max_attempts = 8;
  std::int64_t base_delay_ms = 5000;
  int batch = 500;
};

struct FlowConfig {
  std::string name;
  std::string mapping;      // the inbound file layout
  std::string ack_mapping;  // the acknowledgement layout ("" = no ACK files written)
  DirSourceConfig source;
  std::vector<DirSinkConfig> sinks;
  std::uint32_t line = 0;  // where the flow is defined
};

// Thresholds of the scored comparison (DOMAIN.md matching rule 5; recon/matcher.hpp).
struct MatchingConfig {
  double auto_threshold = 0.92;
  double review_threshold = 0.70;
  double margin = 0.05;
};

struct Config {
  std::string path;
  std::string store_path;
  int keep_delivered_days = 30;  // [store] keep_delivered_days: delivered outbox rows kept this long
  int keep_runs_days = 365;      // [store] keep_runs_days: the run log's rows kept this long
  // [store] merge_recent_at: a file finding this many record changes waiting (store::RecordStore)
  // merges them into their records first.
  std::int64_t merge_recent_at = store::RecordStore::kMergeAtRows;
  std::vector<std::string> vpds;
  // [esr] withdraw_limit_percent / withdraw_limit_min: a FULL extract that would withdraw more than
  // this share of its VPD's live persons and assignments, and at least this many, is held for an
  // operator instead of applied (0 %: no limit).
  int withdraw_limit_percent = 10;
  std::int64_t withdraw_limit_min = 100;
  MatchingConfig matching;
  std::string provider_code;  // [provider] code: this installation's OH provider (sends staff histories)
  std::vector<FlowConfig> flows;
};

// Parses and checks the file. On failure returns the first problem; every problem found is
// appended to `problems` when given. Rules: config.open, config.syntax, config.unknown_key,
// config.missing_key, config.type, config.value, config.duplicate_flow.
Result<Config> load_config(const std::string& path, std::vector<Error>* problems = nullptr);
// The same from text already read; `path` names it in errors and anchors relative paths.
Result<Config> parse_config(std::string_view text, const std::string& path, std::vector<Error>* problems = nullptr);

// Everything `check --config` verifies beyond the file itself: each mapping loads, each directory
// exists and is writable, the store's directory exists. Appends problems; returns how many.
std::size_t check_environment(const Config& config, std::vector<Error>& problems);

}  // namespace esrsync::flow
