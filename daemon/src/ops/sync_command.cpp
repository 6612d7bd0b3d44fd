#include "esrsync/ops/sync_command.hpp"

#include <nlohmann/json.hpp>

#include "esrsync/core/clock.hpp"
#include "esrsync/core/progress.hpp"
#include "esrsync/flow/sync.hpp"
#include "esrsync/ops/table.hpp"

namespace esrsync::ops {
namespace {

void print_errors(const std::vector<Error>& errors, std::FILE* err) {
  for (const auto& e : errors)
    std::fprintf(err, "%s\n", e.to_string().c_str());
}

nlohmann::json to_json(const flow::SyncReport& report) {
  auto files = nlohmann::json::array();
  for (const auto& f : report.files) {
    const auto& r = f.result;
    auto errors = nlohmann::json::array();
    for (const auto& e : r.file_errors)
      errors.push_back(e.to_string());
    auto warnings = nlohmann::json::array();
    for (const auto& w : r.warnings)
      warnings.push_back(w.to_string());
    files.push_back({{"flow", f.flow},
                     {"file", f.file},
                     {"outcome", std::string(flow::to_string(r.outcome))},
                     {"vpd", r.vpd},
                     {"seq", r.seq},
                     {"records_read", r.records_read},
                     {"accepted", r.accepted},
                     {"rejected", r.rejected},
                     {"inserted", r.inserted},
                     {"updated", r.updated},
                     {"unchanged", r.unchanged},
                     {"withdrawn", r.withdrawn},
                     {"repeated_keys", r.repeated_keys},
                     {"queued", r.queued},
                     {"held_for_review", r.held},
                     {"moved_to", f.moved_to},
                     {"file_errors", errors},
                     {"warnings", warnings}});
  }
  auto sinks = nlohmann::json::array();
  for (const auto& s : report.sinks) {
    sinks.push_back({{"flow", s.flow},
                     {"sink", s.sink},
                     {"delivered", s.delivered},
                     {"files_written", s.files},
                     {"refused", s.refused},
                     {"pending", s.pending},
                     {"dead", s.dead},
                     {"last_error", s.last_error}});
  }
  auto problems = nlohmann::json::array();
  for (const auto& e : report.retention_problems)
    problems.push_back(e.to_string());
  return {{"files", files},
          {"sinks", sinks},
          {"purged_delivered", report.purged},
          {"purged_processed_files", report.purged_processed},
          {"purged_runs", report.purged_runs},
          {"retention_problems", problems},
          {"clean", report.clean()}};
}

void print_table(const flow::SyncReport& report, std::FILE* out) {
  Table files({{"flow", 14},
               {"file", 34},
               {"outcome", 9},
               {"read", 7, true},
               {"ok", 7, true},
               {"rej", 5, true},
               {"new", 7, true},
               {"changed", 7, true},
               {"same", 7, true},
               {"gone", 6, true},
               {"review", 6, true},
               {"queued", 6, true}});
  for (const auto& f : report.files) {
    const auto& r = f.result;
    files.add({f.flow, f.file, std::string(flow::to_string(r.outcome)), std::to_string(r.records_read),
               std::to_string(r.accepted), std::to_string(r.rejected), std::to_string(r.inserted),
               std::to_string(r.updated), std::to_string(r.unchanged), std::to_string(r.withdrawn),
               std::to_string(r.held), std::to_string(r.queued)});
  }
  files.print(out);
  if (report.files.empty()) std::fprintf(out, "(no files waiting)\n");
  if (!report.sinks.empty()) {
    Table sinks({{"flow", 14},
                 {"sink", 14},
                 {"delivered", 9, true},
                 {"files", 6, true},
                 {"refused", 8, true},
                 {"pending", 8, true},
                 {"dead", 5, true}});
    for (const auto& s : report.sinks) {
      sinks.add({s.flow, s.sink, std::to_string(s.delivered), std::to_string(s.files), std::to_string(s.refused),
                 std::to_string(s.pending), std::to_string(s.dead)});
    }
    std::fputc('\n', out);
    sinks.print(out);
  }
}

}  // namespace

int run_check_config(const std::string& config_path, std::FILE* out, std::FILE* err) {
  std::vector<Error> problems;
  auto config = flow::load_config(config_path, &problems);
  if (config) flow::check_environment(*config, problems);
  print_errors(problems, err);
  std::fprintf(out, "check: %s: %zu problem(s)\n", config_path.c_str(), problems.size());
  return problems.empty() ? 0 : 1;
}

int run_sync_once(const SyncCommandOptions& options, std::FILE* out, std::FILE* err) {
  std::vector<Error> problems;
  auto config = flow::load_config(options.config, &problems);
  if (config) flow::check_environment(*config, problems);
  if (!problems.empty()) {
    print_errors(problems, err);
    return 2;
  }
  if (!options.flow.empty() &&
      std::none_of(config->flows.begin(), config->flows.end(), [&](const auto& f) { return f.name == options.flow; })) {
    std::fprintf(err, "%s: config.flow: no flow named '%s'\n", options.config.c_str(), options.flow.c_str());
    return 2;
  }
  const SystemClock clock;
  // How far the run is, on a terminal only (DESIGN.md); erased before the report is printed.
  Progress progress = Progress::on_terminal(out, err);
  auto report = flow::sync_once(*config, flow::SyncOptions{options.flow, options.today, &progress}, clock);
  progress.clear();
  if (!report) {
    std::fprintf(err, "%s\n", report.error().to_string().c_str());
    return 2;
  }
  if (options.json) {
    std::fprintf(out, "%s\n", to_json(*report).dump(2).c_str());
  } else {
    print_table(*report, out);
    std::fflush(out);  // the table first, then the details it refers to
    for (const auto& f : report->files) {
      for (const auto& e : f.result.file_errors)
        std::fprintf(err, "%s\n", e.to_string().c_str());
      for (const auto& w : f.result.warnings)
        std::fprintf(err, "warning: %s\n", w.to_string().c_str());
      for (const auto& r : f.result.rejections) {
        std::fprintf(err, "%s:%llu: %s: %s\n", f.file.c_str(), static_cast<unsigned long long>(r.line),
                     r.error_code.c_str(), r.message.c_str());
      }
    }
    for (const auto& e : report->retention_problems)
      std::fprintf(err, "%s\n", e.to_string().c_str());
    for (const auto& s : report->sinks) {
      for (std::size_t at = 0; at < s.last_error.size();) {
        const std::size_t end = std::min(s.last_error.find('\n', at), s.last_error.size());
        std::fprintf(err, "sink %s: %.*s\n", s.sink.c_str(), static_cast<int>(end - at), s.last_error.data() + at);
        at = end + 1;
      }
    }
  }
  return report->clean() ? 0 : 1;
}

}  // namespace esrsync::ops
