// esrsync: subcommand wiring only (STYLE.md rule 1). Each subcommand's work lives in the core
// library so tests and the daemon run exactly the same code.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "esrsync/codec/decoder.hpp"
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
