#include <gtest/gtest.h>

#include "esrsync/core/checksum.hpp"
#include "support/capture.hpp"

namespace esrsync {
namespace {

TEST(Checksum, KnownVectors) {
  Sha256 empty;
  EXPECT_EQ(empty.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.update("a");
  abc.update("bc");  // streamed in pieces: same digest
  EXPECT_EQ(abc.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// The one-call form (a context reused per thread) gives what the streaming form gives, call after
// call, for every length around SHA-256's 64-byte blocks.
TEST(Checksum, OneCallEqualsStreaming) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string text;
  for (int n = 0; n < 200; ++n) {
    Sha256 streamed;
    streamed.update(text.substr(0, text.size() / 2));
    streamed.update(text.substr(text.size() / 2));
    EXPECT_EQ(sha256_hex(text), streamed.hex_digest()) << n;
    text += static_cast<char>('a' + n % 26);
  }
}

TEST(Checksum, FileAcrossBlocksEqualsInMemory) {
  test::TempDir dir;
  std::string content;
  for (int i = 0; content.size() < (3u << 20) + 17; ++i)
    content += "PER|A|" + std::to_string(i) + "\n";
  test::write_file(dir / "DE.DAT", content);
  Sha256 memory;
  memory.update(content);
  auto file = sha256_file((dir / "DE.DAT").string());
  ASSERT_TRUE(file);
  EXPECT_EQ(*file, memory.hex_digest());
  test::write_file(dir / "DE2.DAT", content + "x");
  EXPECT_NE(*sha256_file((dir / "DE2.DAT").string()), *file);
}

TEST(Checksum, MissingFileIsALocatedError) {
  auto r = sha256_file("/nonexistent/DE.DAT");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rule, "file.open");
  EXPECT_EQ(r.error().origin.file, "/nonexistent/DE.DAT");
}

}  // namespace
}  // namespace esrsync
