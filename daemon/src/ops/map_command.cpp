#include "esrsync/ops/map_command.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/codec/decoder.hpp"
#include "esrsync/codec/json_lines.hpp"
#include "esrsync/core/progress.hpp"
#include "esrsync/mapping/lookup_table.hpp"
#include "esrsync/mapping/mapping.hpp"

namespace esrsync::ops {
namespace {

constexpr std::size_t kFlushBytes = 1 << 20;

void print_error(const Error& e, std::FILE* err) {
  const std::string line = e.to_string() + "\n";
  std::fwrite(line.data(), 1, line.size(), err);
}

void flush(std::string& buffer, std::FILE* out) {
  if (!buffer.empty()) std::fwrite(buffer.data(), 1, buffer.size(), out);
  buffer.clear();
}

}  // namespace

int run_map(const MapOptions& options, std::FILE* out, std::FILE* err) {
  std::vector<Error> problems;
  auto mapping = mapping::load_mapping(options.mapping, &problems);
  if (!mapping) {
    for (const auto& p : problems)
      print_error(p, err);
    return 2;
  }
  std::uint64_t records = 0;
  std::uint64_t rejected = 0;
  std::uint64_t bad_files = 0;
  bool unreadable = false;
  std::string buffer;
  buffer.reserve(kFlushBytes + 4096);
  std::vector<Error> errors;
  model::Record record;
  // Progress on a terminal only (DESIGN.md): never mixed into a log or a pipe. The records on
  // stdout usually go to a file or a pipe while a person watches stderr, so stderr decides; records
  // shown on the terminal are their own progress.
  Progress progress = is_terminal(out) && !options.quiet ? Progress() : Progress::on_terminal(err, err);
  const auto report = [&](const Error& e) {
    progress.clear();  // an error is a line of its own, not the end of the progress line
    print_error(e, err);
  };
  for (const auto& file : options.files) {
    auto source = codec::open_file_source(file);
    if (!source) {
      report(source.error());
      unreadable = true;
      continue;
    }
    auto decoder = codec::make_decoder(**mapping, **source, codec::DecodeOptions{options.today});
    for (;;) {
      const auto next = decoder->next(record, errors);
      if (next == codec::Next::end) break;
      if (next == codec::Next::rejected) {
        ++rejected;
        flush(buffer, out);
        for (const auto& e : errors)
          report(e);
        continue;
      }
      ++records;
      if ((records & 0xFFFF) == 0 && progress.due()) {
        progress.show("map: " + file + ": " + std::to_string(records) + " record(s) so far");
      }
      if (options.quiet) continue;
      codec::append_json_line(record, file, buffer);
      if (buffer.size() >= kFlushBytes) flush(buffer, out);
    }
    flush(buffer, out);
    if (!decoder->file_errors().empty()) {
      ++bad_files;
      for (const auto& e : decoder->file_errors())
        report(e);
    }
  }
  std::fflush(out);
  progress.clear();
  std::fprintf(err, "map: %zu file(s), %llu record(s) decoded, %llu rejected, %llu file(s) with file-level errors\n",
               options.files.size(), static_cast<unsigned long long>(records),
               static_cast<unsigned long long>(rejected), static_cast<unsigned long long>(bad_files));
  if (unreadable) return 2;
  return rejected > 0 || bad_files > 0 ? 1 : 0;
}

int run_check_mappings(const CheckMappingsOptions& options, std::FILE* out, std::FILE* err) {
  namespace fs = std::filesystem;
  std::vector<std::string> definitions = options.mappings;
  std::vector<std::string> tables;
  std::vector<Error> problems;
  for (const auto& dir : options.dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      problems.push_back(make_error(Errc::io, "check.directory", "not a directory", Origin{dir}));
      continue;
    }
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      const auto ext = it->path().extension();
      if (ext == ".xml") definitions.push_back(it->path().string());
      if (ext == ".csv") tables.push_back(it->path().string());
    }
    if (ec) problems.push_back(make_error(Errc::io, "check.directory", ec.message(), Origin{dir}));
  }
  std::sort(definitions.begin(), definitions.end());
  std::sort(tables.begin(), tables.end());
  for (const auto& t : tables) {
    auto table = mapping::LookupTable::load(t);
    if (!table) problems.push_back(std::move(table).error());
  }
  std::size_t valid = 0;
  for (const auto& d : definitions) {
    if (mapping::load_mapping(d, &problems)) ++valid;
  }
  // A table used by several definitions reports the same problem once.
  std::vector<std::string> seen;
  std::size_t printed = 0;
  for (const auto& p : problems) {
    std::string line = p.to_string();
    if (std::find(seen.begin(), seen.end(), line) != seen.end()) continue;
    seen.push_back(line);
    print_error(p, err);
    ++printed;
  }
  std::fprintf(out, "check: %zu mapping definition(s), %zu lookup table(s), %zu valid, %zu problem(s)\n",
               definitions.size(), tables.size(), valid, printed);
  return printed == 0 ? 0 : 1;
}

}  // namespace esrsync::ops
