#pragma once
// ByteSource: where a reader gets its bytes. A file (read(2) into the caller's buffer, never mmap, so
// resident memory stays bounded by the reader's buffer whatever the file size) or an in-memory
// string (tests, fuzzers). Readers own their buffers; a ByteSource only fills them.
//
// Not thread-safe: one reader, one thread (or one strand) at a time.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "esrsync/core/result.hpp"

namespace esrsync::codec {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes into `buffer`. Returns 0 at end of input. Errors are Errc::io.
  Result<std::size_t> read(char* buffer, std::size_t size) {
    auto n = do_read(buffer, size);
    if (n) bytes_read_ += *n;
    return n;
  }
  // The name used in error origins (the file path, or "<memory>").
  [[nodiscard]] virtual const std::string& name() const = 0;
  [[nodiscard]] std::uint64_t bytes_read() const noexcept { return bytes_read_; }

 protected:
  virtual Result<std::size_t> do_read(char* buffer, std::size_t size) = 0;

 private:
  std::uint64_t bytes_read_ = 0;
};

// Opens `path` for reading ("-" is standard input). Errors: Errc::io with rule "file.open".
Result<std::unique_ptr<ByteSource>> open_file_source(const std::string& path);

// A source over a copy of `bytes`, named `name`.
std::unique_ptr<ByteSource> make_memory_source(std::string bytes, std::string name = "<memory>");

}  // namespace esrsync::codec
