// In-process decode benchmark: the exact decode + validate path of `esrsync map` and the sync
// pipeline, with no output, so the numbers measure the data plane alone.
//   esrsync_bench_decode --mapping M [--today yyyy-mm-dd] FILE
// prints: records=N rejected=R file_errors=F seconds=S records_per_s=X mb_per_s=Y

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "esrsync/codec/byte_source.hpp"
#include "esrsync/codec/decoder.hpp"
#include "esrsync/mapping/mapping.hpp"

int main(int argc, char** argv) {
  std::string mapping_path;
  std::string file;
  esrsync::model::Date today = esrsync::codec::today_local();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mapping" && i + 1 < argc) {
      mapping_path = argv[++i];
    } else if (arg == "--today" && i + 1 < argc) {
      auto d = esrsync::model::parse_iso_date(argv[++i]);
      if (!d) return 2;
      today = *d;
    } else {
      file = arg;
    }
  }
  if (mapping_path.empty() || file.empty()) {
    std::fprintf(stderr, "usage: esrsync_bench_decode --mapping M [--today yyyy-mm-dd] FILE\n");
    return 2;
  }
  auto mapping = esrsync::mapping::load_mapping(mapping_path);
  if (!mapping) {
    std::fprintf(stderr, "%s\n", mapping.error().to_string().c_str());
    return 2;
  }
  auto source = esrsync::codec::open_file_source(file);
  if (!source) {
    std::fprintf(stderr, "%s\n", source.error().to_string().c_str());
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  auto decoder = esrsync::codec::make_decoder(**mapping, **source, esrsync::codec::DecodeOptions{today});
  esrsync::model::Record record;
  std::vector<esrsync::Error> errors;
  std::uint64_t records = 0;
  std::uint64_t rejected = 0;
  for (;;) {
    const auto next = decoder->next(record, errors);
    if (next == esrsync::codec::Next::end) break;
    if (next == esrsync::codec::Next::record) {
      ++records;
    } else {
      ++rejected;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto bytes = static_cast<double>(decoder->bytes_read());
  // records: valid records, including a delimited file's header and trailer records.
  std::printf("records=%llu rejected=%llu file_errors=%zu seconds=%.3f records_per_s=%.0f mb_per_s=%.1f\n",
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(rejected),
              decoder->file_errors().size(), seconds, static_cast<double>(records + rejected) / seconds,
              bytes / seconds / 1e6);
  return 0;
}
