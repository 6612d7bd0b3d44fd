#include "esrsync/flow/config.hpp"

#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>

#include "esrsync/mapping/mapping.hpp"

namespace esrsync::flow {
namespace {

namespace fs = std::filesystem;

class Reader {
 public:
  Reader(std::string path, std::vector<Error>& problems) : path_(std::move(path)), problems_(problems) {}

  void problem(const toml::node* node, std::string rule, std::string message) {
    const std::uint32_t line = node != nullptr ? static_cast<std::uint32_t>(node->source().begin.line) : 0;
    problems_.push_back(make_error(Errc::config, std::move(rule), std::move(message), Origin{path_, line}));
  }

  void only_keys(const toml::table& table, std::initializer_list<std::string_view> allowed, std::string_view where) {
    for (const auto& [key, node] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        problem(&node, "config.unknown_key", "unknown key '" + std::string(key.str()) + "' in " + std::string(where));
      }
    }
  }

  const toml::table* table(const toml::table& parent, std::string_view key, bool required) {
    const toml::node* node = parent.get(key);
    if (node == nullptr) {
      if (required) problem(&parent, "config.missing_key", "missing [" + std::string(key) + "]");
      return nullptr;
    }
    if (!node->is_table()) {
      problem(node, "config.type", "'" + std::string(key) + "' must be a table");
      return nullptr;
    }
    return node->as_table();
  }

  std::string text(const toml::table& t, std::string_view key, bool required, std::string_view where,
                   std::string fallback = {}) {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      if (required) problem(&t, "config.missing_key", "missing '" + std::string(key) + "' in " + std::string(where));
      return fallback;
    }
    if (!node->is_string()) {
      problem(node, "config.type", "'" + std::string(key) + "' must be a string");
      return fallback;
    }
    return node->as_string()->get();
  }

  std::string path_value(const toml::table& t, std::string_view key, bool required, std::string_view where,
                         std::string fallback = {}) {
    std::string value = text(t, key, required, where, std::move(fallback));
    if (value.empty()) return value;
    fs::path p(value);
    if (p.is_relative()) p = fs::path(path_).parent_path() / p;
    return p.lexically_normal().string();
  }

  std::int64_t integer(const toml::table& t, std::string_view key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) {
    const toml::node* node = t.get(key);
    if (node == nullptr) return fallback;
    if (!node->is_integer()) {
      problem(node, "config.type", "'" + std::string(key) + "' must be a whole number");
      return fallback;
    }
    const std::int64_t v = node->as_integer()->get();
    if (v < min || v > max) {
      problem(node, "config.value",
              "'" + std::string(key) + "' must be between " + std::to_string(min) + " and " + std::to_string(max));
      return fallback;
    }
    return v;
  }

  double fraction(const toml::table& t, std::string_view key, double fallback) {
    const toml::node* node = t.get(key);
    if (node == nullptr) return fallback;
    if (!node->is_floating_point() && !node->is_integer()) {
      problem(node, "config.type", "'" + std::string(key) + "' must be a number between 0 and 1");
      return fallback;
    }
    const double v =
        node->is_integer() ? static_cast<double>(node->as_integer()->get()) : node->as_floating_point()->get();
    if (v < 0 || v > 1) {
      problem(node, "config.value", "'" + std::string(key) + "' must be between 0 and 1");
      return fallback;
    }
    return v;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<Error>& problems_;
};

void read_flow(Reader& r, const toml::table& t, Config& config) {
  FlowConfig flow;
  flow.line = static_cast<std::uint32_t>(t.source().begin.line);
  r.only_keys(t, {"name", "mapping", "ack_mapping", "source", "sinks"}, "[[flows]]");
  flow.name = r.text(t, "name", true, "[[flows]]");
  flow.mapping = r.path_value(t, "mapping", true, "[[flows]]");
  flow.ack_mapping = r.path_value(t, "ack_mapping", false, "[[flows]]");
  for (const auto& other : config.flows) {
    if (!flow.name.empty() && other.name == flow.name) {
      r.problem(&t, "config.duplicate_flow", "flow '" + flow.name + "' is defined twice");
    }
  }
  if (const auto* source = r.table(t, "source", true)) {
    r.only_keys(*source, {"adapter", "inbox", "pattern", "processed", "quarantine", "acks", "keep_processed_days"},
                "[flows.source]");
    const std::string adapter = r.text(*source, "adapter", true, "[flows.source]");
    if (!adapter.empty() && adapter != "dir") {
      r.problem(source->get("adapter"), "config.value", "unknown source adapter '" + adapter + "' (available: dir)");
    }
    flow.source.inbox = r.path_value(*source, "inbox", true, "[flows.source]");
    flow.source.pattern = r.text(*source, "pattern", false, "[flows.source]", "*");
    flow.source.processed = r.path_value(*source, "processed", true, "[flows.source]");
    flow.source.quarantine = r.path_value(*source, "quarantine", true, "[flows.source]");
    flow.source.acks = r.path_value(*source, "acks", false, "[flows.source]");
    if (flow.source.acks.empty()) flow.source.acks = flow.source.inbox;
    flow.source.keep_processed_days =
        static_cast<int>(r.integer(*source, "keep_processed_days", flow.source.keep_processed_days, 0, 3650));
  }
  if (const toml::node* sinks = t.get("sinks")) {
    if (!sinks->is_array_of_tables()) {
      r.problem(sinks, "config.type", "'sinks' must be an array of tables ([[flows.sinks]])");
    } else {
      for (const auto& node : *sinks->as_array()) {
        const auto& s = *node.as_table();
        r.only_keys(s,
                    {"name", "adapter", "kind", "directory", "mapping", "file_name", "first_seq", "acks", "ack_mapping",
                     "max_attempts", "base_delay_ms", "batch"},
                    "[[flows.sinks]]");
        DirSinkConfig sink;
        sink.name = r.text(s, "name", true, "[[flows.sinks]]");
        const std::string adapter = r.text(s, "adapter", true, "[[flows.sinks]]");
        if (!adapter.empty() && adapter != "dir") {
          r.problem(s.get("adapter"), "config.value", "unknown sink adapter '" + adapter + "' (available: dir)");
        }
        sink.kind = r.text(s, "kind", false, "[[flows.sinks]]", sink.kind);
        if (sink.kind != "changes" && sink.kind != "staff-history") {
          r.problem(s.get("kind"), "config.value", "'kind' is changes or staff-history");
        }
        sink.directory = r.path_value(s, "directory", true, "[[flows.sinks]]");
        sink.mapping = r.path_value(s, "mapping", false, "[[flows.sinks]]");
        sink.file_name = r.text(s, "file_name", false, "[[flows.sinks]]", sink.file_name);
        if (sink.file_name.find("{seq}") == std::string::npos || sink.file_name.find('/') != std::string::npos) {
          r.problem(s.get("file_name"), "config.value", "'file_name' must contain {seq} and no '/'");
        }
        sink.first_seq = r.integer(s, "first_seq", sink.first_seq, 0, 9'999'999);
        sink.acks = r.path_value(s, "acks", false, "[[flows.sinks]]");
        sink.ack_mapping = r.path_value(s, "ack_mapping", !sink.acks.empty(), "[[flows.sinks]] with acks");
        if (!sink.acks.empty() && sink.mapping.empty()) {
          r.problem(s.get("acks"), "config.value",
                    "'acks' needs a 'mapping' (acknowledgements are for ESR-style files)");
        }
        sink.max_attempts = static_cast<int>(r.integer(s, "max_attempts", sink.max_attempts, 1, 1000));
        sink.base_delay_ms = r.integer(s, "base_delay_ms", sink.base_delay_ms, 0, 86'400'000);
        sink.batch = static_cast<int>(r.integer(s, "batch", sink.batch, 1, 100'000));
        flow.sinks.push_back(std::move(sink));
      }
    }
  }
  config.flows.push_back(std::move(flow));
}

}  // namespace

Result<Config> load_config(const std::string& path, std::vector<Error>* problems_out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Error err = make_error(Errc::config, "config.open", "cannot read the configuration file", Origin{path});
    if (problems_out != nullptr) problems_out->push_back(err);
    return fail(std::move(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, problems_out);
}

Result<Config> parse_config(std::string_view text, const std::string& path, std::vector<Error>* problems_out) {
  std::vector<Error> problems;
  Config config;
  config.path = path;
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {  // toml++ reports by exception; converted here (rule 6)
    const auto& where = e.source();
    Error err = make_error(
        Errc::config, "config.syntax", std::string(e.description()),
        Origin{path, static_cast<std::uint64_t>(where.begin.line), static_cast<std::uint32_t>(where.begin.column)});
    if (problems_out != nullptr) problems_out->push_back(err);
    return fail(std::move(err));
  }
  Reader r(path, problems);
  r.only_keys(root, {"store", "esr", "provider", "matching", "flows"}, "the configuration");
  if (const auto* provider = r.table(root, "provider", false)) {
    r.only_keys(*provider, {"code"}, "[provider]");
    config.provider_code = r.text(*provider, "code", true, "[provider]");
  }
  if (const auto* matching = r.table(root, "matching", false)) {
    r.only_keys(*matching, {"auto", "review", "margin"}, "[matching]");
    config.matching.auto_threshold = r.fraction(*matching, "auto", config.matching.auto_threshold);
    config.matching.review_threshold = r.fraction(*matching, "review", config.matching.review_threshold);
    config.matching.margin = r.fraction(*matching, "margin", config.matching.margin);
    if (config.matching.review_threshold > config.matching.auto_threshold) {
      r.problem(matching, "config.value", "[matching] review must not be above auto");
    }
  }
  if (const auto* store = r.table(root, "store", true)) {
    r.only_keys(*store, {"path", "keep_delivered_days", "keep_runs_days", "merge_recent_at"}, "[store]");
    config.store_path = r.path_value(*store, "path", true, "[store]");
    config.keep_delivered_days =
        static_cast<int>(r.integer(*store, "keep_delivered_days", config.keep_delivered_days, 0, 3650));
    config.keep_runs_days = static_cast<int>(r.integer(*store, "keep_runs_days", config.keep_runs_days, 0, 3650));
    config.merge_recent_at = r.integer(*store, "merge_recent_at", config.merge_recent_at, 1, 10'000'000);
  }
  if (const auto* esr = r.table(root, "esr", true)) {
    r.only_keys(*esr, {"vpds", "withdraw_limit_percent", "withdraw_limit_min"}, "[esr]");
    config.withdraw_limit_percent =
        static_cast<int>(r.integer(*esr, "withdraw_limit_percent", config.withdraw_limit_percent, 0, 100));
    config.withdraw_limit_min = r.integer(*esr, "withdraw_limit_min", config.withdraw_limit_min, 1, 100'000'000);
    const toml::node* vpds = esr->get("vpds");
    if (vpds == nullptr || !vpds->is_array() || vpds->as_array()->empty()) {
      r.problem(vpds != nullptr ? vpds : esr, "config.missing_key", "[esr] needs vpds = [\"245\", ...]");
    } else {
      for (const auto& v : *vpds->as_array()) {
        if (!v.is_string() || v.as_string()->get().size() != 3) {
          r.problem(&v, "config.value", "each VPD is a 3-character string");
          continue;
        }
        config.vpds.push_back(v.as_string()->get());
      }
    }
  }
  if (const toml::node* flows = root.get("flows")) {
    if (!flows->is_array_of_tables()) {
      r.problem(flows, "config.type", "'flows' must be an array of tables ([[flows]])");
    } else {
      for (const auto& node : *flows->as_array())
        read_flow(r, *node.as_table(), config);
    }
  } else {
    r.problem(&root, "config.missing_key", "no [[flows]] defined");
  }
  // A sink name used by several flows is one sink (one queue, one DI sequence per VPD): the flows
  // must describe it alike.
  std::map<std::string, const DirSinkConfig*> sinks_by_name;
  for (const auto& flow : config.flows) {
    for (const auto& sink : flow.sinks) {
      const auto [it, first] = sinks_by_name.emplace(sink.name, &sink);
      const DirSinkConfig& a = *it->second;
      if (!first && (a.kind != sink.kind || a.directory != sink.directory || a.mapping != sink.mapping ||
                     a.file_name != sink.file_name || a.first_seq != sink.first_seq || a.acks != sink.acks)) {
        r.problem(&root, "config.duplicate_sink",
                  "sink '" + sink.name +
                      "' is declared by several flows with different settings (one name is one "
                      "sink: declare it alike in each flow)");
      }
    }
  }
  for (const auto& flow : config.flows) {
    for (const auto& sink : flow.sinks) {
      if (sink.kind == "staff-history" && config.provider_code.empty()) {
        r.problem(&root, "config.missing_key",
                  "sink '" + sink.name + "' sends staff histories: set [provider] code (the sending provider)");
      }
    }
  }
  if (problems_out != nullptr) problems_out->insert(problems_out->end(), problems.begin(), problems.end());
  if (!problems.empty()) return fail(problems.front());
  return config;
}

std::size_t check_environment(const Config& config, std::vector<Error>& problems) {
  const std::size_t before = problems.size();
  const auto dir_ok = [&](const std::string& dir, std::uint32_t line, const char* what) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      problems.push_back(make_error(Errc::config, "config.directory",
                                    std::string(what) + " directory " + dir + " does not exist",
                                    Origin{config.path, line}));
    } else if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      problems.push_back(make_error(Errc::config, "config.directory",
                                    std::string(what) + " directory " + dir + " is not writable",
                                    Origin{config.path, line}));
    }
  };
  dir_ok(fs::path(config.store_path).parent_path().string(), 0, "store");
  for (const auto& flow : config.flows) {
    for (const auto& m : {flow.mapping, flow.ack_mapping}) {
      if (!m.empty()) (void)mapping::load_mapping(m, &problems);
    }
    dir_ok(flow.source.inbox, flow.line, "inbox");
    dir_ok(flow.source.processed, flow.line, "processed");
    dir_ok(flow.source.quarantine, flow.line, "quarantine");
    dir_ok(flow.source.acks, flow.line, "acks");
    for (const auto& sink : flow.sinks) {
      dir_ok(sink.directory, flow.line, "sink");
      if (!sink.acks.empty()) dir_ok(sink.acks, flow.line, "sink acks");
      for (const auto& m : {sink.mapping, sink.ack_mapping}) {
        if (!m.empty()) (void)mapping::load_mapping(m, &problems);
      }
    }
  }
  return problems.size() - before;
}

}  // namespace esrsync::flow
