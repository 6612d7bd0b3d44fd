#pragma once
// ByteSources for reader tests: bytes handed out in odd-sized pieces (as a pipe or a slow disk
// might), and a source whose read fails after a number of good bytes.

#include <algorithm>
#include <string>

#include "esrsync/codec/byte_source.hpp"

namespace esrsync::test {

class ChunkedSource final : public codec::ByteSource {
 public:
  ChunkedSource(std::string bytes, std::size_t chunk) : bytes_(std::move(bytes)), chunk_(chunk) {}
  [[nodiscard]] const std::string& name() const override { return name_; }

 protected:
  Result<std::size_t> do_read(char* buffer, std::size_t size) override {
    const std::size_t n = std::min({size, chunk_, bytes_.size() - pos_});
    std::copy_n(bytes_.data() + pos_, n, buffer);
    pos_ += n;
    return n;
  }

 private:
  std::string bytes_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
  std::string name_ = "<chunked>";
};

class FailingSource final : public codec::ByteSource {
 public:
  FailingSource(std::string bytes, std::size_t good, std::string name)
      : bytes_(std::move(bytes)), good_(good), name_(std::move(name)) {}
  [[nodiscard]] const std::string& name() const override { return name_; }

 protected:
  Result<std::size_t> do_read(char* buffer, std::size_t size) override {
    if (pos_ >= good_) return fail(Errc::io, "file.read", "read failed", Origin{name_});
    const std::size_t n = std::min({size, good_ - pos_, bytes_.size() - pos_});
    std::copy_n(bytes_.data() + pos_, n, buffer);
    pos_ += n;
    return n;
  }

 private:
  std::string bytes_;
  std::size_t good_;
  std::size_t pos_ = 0;
  std::string name_;
};

}  // namespace esrsync::test
