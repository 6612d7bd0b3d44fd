// esrsync: subcommand wiring only (STYLE.md rule 1). Each subcommand's work lives in the core
// library so tests and the daemon run exactly the same code.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "esrsync/codec/decoder.hpp"
#include "esrsync/ops/admin_command.hpp"
#include "esrsync/ops/map_command.hpp"
#include "esrsync/ops/sync_command.hpp"

namespace {

// --today lets tests and reproductions pin the date the date-of-birth rule compares against.
esrsync::model::Date parse_today(const std::string& text) {
  if (text.empty()) return esrsync::codec::today_local();
  auto date = esrsync::model::parse_iso_date(text);
  if (!date) throw CLI::ValidationError("--today", "must be a date yyyy-mm-dd");
  return *date;
}

// Who an operator's decision is recorded as, unless --by says: the login behind sudo, else the user.
std::string default_actor() {
  for (const char* var : {"SUDO_USER", "USER", "LOGNAME"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return v;
  }
  return "operator";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esrsync: ESR <-> occupational health integration"};
  app.require_subcommand(1);

  esrsync::ops::MapOptions map;
  std::string map_today;
  auto* map_cmd = app.add_subcommand("map", "Dry run: decode files through a mapping, print canonical JSON lines");
  map_cmd->add_option("--mapping,-m", map.mapping, "Mapping definition (XML)")->required();
  map_cmd->add_option("files", map.files, "Input files ('-' for standard input)")->required();
  map_cmd->add_option("--today", map_today, "Date for the date-of-birth range rule (yyyy-mm-dd; default today)");
  map_cmd->add_flag("--quiet,-q", map.quiet, "Print errors and the summary only");

  esrsync::ops::CheckMappingsOptions check;
  std::string check_config;
  auto* check_cmd = app.add_subcommand("check", "Validate the configuration, or mapping definitions and lookup tables");
  check_cmd->add_option("--config,-c", check_config, "Configuration file to check (with its mappings and directories)");
  check_cmd->add_option("--mapping,-m", check.mappings, "A mapping definition to check (repeatable)");
  check_cmd->add_option("--mappings", check.dirs, "A directory of mappings and lookups to check (repeatable)");

  esrsync::ops::SyncCommandOptions sync;
  std::string sync_today;
  bool once = false;
  auto* sync_cmd = app.add_subcommand("sync", "Run every flow (or one) once to completion and exit");
  sync_cmd->add_flag("--once", once, "Run once and exit (required: the daemon is `esrsync run`)")->required();
  sync_cmd->add_option("--config,-c", sync.config, "Configuration file")->required();
  sync_cmd->add_option("--flow", sync.flow, "Run only this flow");
  sync_cmd->add_flag("--json", sync.json, "Print the report as JSON");
  sync_cmd->add_option("--today", sync_today, "Date for the date-of-birth range rule (yyyy-mm-dd; default today)");

  esrsync::ops::AdminOptions admin;
  const auto admin_options = [&admin](CLI::App* cmd) {
    cmd->add_option("--config,-c", admin.config, "Configuration file (names the store)")->required();
    cmd->add_flag("--json", admin.json, "Print JSON");
  };
  auto* queue_cmd = app.add_subcommand("queue", "The outbox: changes waiting for delivery, and dead letters");
  queue_cmd->require_subcommand(1);
  std::string queue_state;
  int queue_limit = 100;
  auto* queue_list = queue_cmd->add_subcommand("list", "List queued changes (no payloads)");
  admin_options(queue_list);
  queue_list->add_option("--state", queue_state, "pending, dead or delivered (default: all)");
  queue_list->add_option("--limit", queue_limit, "At most this many (default 100)");
  std::int64_t queue_id = 0;
  auto* queue_show = queue_cmd->add_subcommand("show", "Show one queued change, with its payload");
  admin_options(queue_show);
  queue_show->add_option("id", queue_id, "Outbox id")->required();
  std::optional<std::int64_t> retry_id;
  bool retry_all = false;
  auto* queue_retry = queue_cmd->add_subcommand("retry", "Queue dead letters again (one id, or --all)");
  admin_options(queue_retry);
  queue_retry->add_option("id", retry_id, "Outbox id");
  queue_retry->add_flag("--all", retry_all, "Every dead letter");
  int purge_days = 30;
  auto* queue_purge =
      queue_cmd->add_subcommand("purge", "Delete delivered changes older than N days (never dead letters)");
  admin_options(queue_purge);
  queue_purge->add_option("--older-than-days", purge_days, "Default 30");
  int runs_limit = 20;
  auto* runs_cmd = app.add_subcommand("runs", "The last sync runs per flow");
  admin_options(runs_cmd);
  runs_cmd->add_option("--limit", runs_limit, "At most this many (default 20)");
  auto* status_cmd = app.add_subcommand("status", "Last run, queue depths, held files");
  admin_options(status_cmd);
  std::string gap_vpd;
  std::int64_t gap_seq = 0;
  std::string gap_by = "operator";
  auto* gap_cmd =
      app.add_subcommand("release-gap",
                         "Let a held file be applied: despite the missing sequence before it, or a FULL despite "
                         "the withdrawals over the limit ([esr] withdraw_limit_percent)");
  admin_options(gap_cmd);
  gap_cmd->add_option("--vpd", gap_vpd, "The VPD")->required();
  gap_cmd->add_option("--seq", gap_seq, "The held file's sequence number")->required();
  gap_cmd->add_option("--by", gap_by, "Who releases it (recorded)");

  auto* recon_cmd = app.add_subcommand("recon", "The reconciliation queue: records waiting for a human decision");
  recon_cmd->require_subcommand(1);
  std::string recon_state = "open";
  int recon_limit = 100;
  auto* recon_list = recon_cmd->add_subcommand("list", "List items (no personal data)");
  admin_options(recon_list);
  recon_list->add_option("--state", recon_state, "open (default), resolved, dismissed or all");
  recon_list->add_option("--limit", recon_limit, "At most this many (default 100)");
  std::int64_t recon_id = 0;
  auto* recon_show = recon_cmd->add_subcommand("show", "Show one item with its held record and candidates");
  admin_options(recon_show);
  recon_show->add_option("id", recon_id, "Item id")->required();
  std::string recon_person;
  std::string recon_reason;
  std::string recon_by = default_actor();
  auto* recon_resolve = recon_cmd->add_subcommand(
      "resolve",
      "Decide an item: link its held record to a person (--person), accept a conflicting event, or "
      "acknowledge a flag; the record then flows on to the sinks");
  admin_options(recon_resolve);
  recon_resolve->add_option("id", recon_id, "Item id")->required();
  recon_resolve->add_option("--person", recon_person, "The person (ESR person number) the record belongs to");
  recon_resolve->add_option("--reason", recon_reason, "Why (recorded)")->required();
  recon_resolve->add_option("--by", recon_by, "Who decides (recorded; default: the login name)");
  auto* recon_dismiss = recon_cmd->add_subcommand("dismiss", "Close an item without applying its record");
  admin_options(recon_dismiss);
  recon_dismiss->add_option("id", recon_id, "Item id")->required();
  recon_dismiss->add_option("--reason", recon_reason, "Why (recorded)")->required();
  recon_dismiss->add_option("--by", recon_by, "Who decides (recorded; default: the login name)");
  std::string history_entity = "immunisation";
  std::string history_key;
  int history_limit = 50;
  auto* recon_history =
      recon_cmd->add_subcommand("history", "Every matching decision, automatic or human, newest first");
  admin_options(recon_history);
  recon_history->add_option("--key", history_key, "Only this record (e.g. OHP01:OHR0000101)");
  recon_history->add_option("--entity", history_entity, "The record's entity (default immunisation)");
  recon_history->add_option("--limit", history_limit, "At most this many (default 50)");

  std::string export_person;
  std::string export_format = "fhir";
  std::string export_provider;
  auto* export_cmd = app.add_subcommand("export", "A person's staff history as a FHIR R4 Bundle (personal data)");
  export_cmd->add_option("--config,-c", admin.config, "Configuration file (names the store)")->required();
  export_cmd->add_option("--person", export_person, "The ESR person number")->required();
  export_cmd->add_option("--format", export_format,
                         "fhir (the staff history, default) or status (the derived status per antigen)");
  export_cmd->add_flag("--json", admin.json, "With --format status: print JSON");
  export_cmd->add_option("--provider", export_provider, "The sending provider's code (default: [provider] code)");

  int transfers_limit = 50;
  auto* transfers_cmd =
      app.add_subcommand("transfers", "Trainee moves between organisations and whether their staff history was sent");
  admin_options(transfers_cmd);
  transfers_cmd->add_option("--limit", transfers_limit, "At most this many (default 50)");

  auto* store_cmd = app.add_subcommand("store", "The store file itself");
  store_cmd->require_subcommand(1);
  auto* store_compact = store_cmd->add_subcommand(
      "compact",
      "Give the space freed inside the store back to the filesystem (needs free space of about twice the store)");
  admin_options(store_compact);
  auto* store_merge = store_cmd->add_subcommand(
      "merge", "Write the record changes waiting among the recent versions into their records now");
  admin_options(store_merge);

  try {
    app.parse(argc, argv);
    if (map_cmd->parsed()) {
      map.today = parse_today(map_today);
      return esrsync::ops::run_map(map, stdout, stderr);
    }
    if (check_cmd->parsed()) {
      if (!check_config.empty()) return esrsync::ops::run_check_config(check_config, stdout, stderr);
      if (check.mappings.empty() && check.dirs.empty()) {
        throw CLI::ValidationError("check", "give --config FILE, --mapping FILE or --mappings DIR");
      }
      return esrsync::ops::run_check_mappings(check, stdout, stderr);
    }
    if (queue_list->parsed()) return esrsync::ops::run_queue_list(admin, queue_state, queue_limit, stdout, stderr);
    if (queue_show->parsed()) return esrsync::ops::run_queue_show(admin, queue_id, stdout, stderr);
    if (queue_retry->parsed()) {
      if (!retry_all && !retry_id) throw CLI::ValidationError("queue retry", "give an id or --all");
      return esrsync::ops::run_queue_retry(admin, retry_all ? std::nullopt : retry_id, stdout, stderr);
    }
    if (queue_purge->parsed()) return esrsync::ops::run_queue_purge(admin, purge_days, stdout, stderr);
    if (transfers_cmd->parsed()) return esrsync::ops::run_transfers(admin, transfers_limit, stdout, stderr);
    if (store_compact->parsed()) return esrsync::ops::run_store_compact(admin, stdout, stderr);
    if (store_merge->parsed()) return esrsync::ops::run_store_merge(admin, stdout, stderr);
    if (export_cmd->parsed()) {
      return esrsync::ops::run_export(admin, export_person, export_format, export_provider, stdout, stderr);
    }
    if (recon_list->parsed()) return esrsync::ops::run_recon_list(admin, recon_state, recon_limit, stdout, stderr);
    if (recon_show->parsed()) return esrsync::ops::run_recon_show(admin, recon_id, stdout, stderr);
    if (recon_resolve->parsed()) {
      return esrsync::ops::run_recon_resolve(
          admin, recon_id, recon_person.empty() ? std::nullopt : std::optional<std::string>(recon_person), recon_reason,
          recon_by, stdout, stderr);
    }
    if (recon_dismiss->parsed()) {
      return esrsync::ops::run_recon_dismiss(admin, recon_id, recon_reason, recon_by, stdout, stderr);
    }
    if (recon_history->parsed()) {
      return esrsync::ops::run_recon_history(admin, history_entity, history_key, history_limit, stdout, stderr);
    }
    if (runs_cmd->parsed()) return esrsync::ops::run_runs(admin, runs_limit, stdout, stderr);
    if (status_cmd->parsed()) return esrsync::ops::run_status(admin, stdout, stderr);
    if (gap_cmd->parsed()) return esrsync::ops::run_release_gap(admin, gap_vpd, gap_seq, gap_by, stdout, stderr);
    if (sync_cmd->parsed()) {
      sync.today = parse_today(sync_today);
      return esrsync::ops::run_sync_once(sync, stdout, stderr);
    }
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esrsync: %s\n", e.what());
    return 2;
  }
  return 2;
}
