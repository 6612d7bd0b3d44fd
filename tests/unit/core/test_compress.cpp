// zstd frames for a batch's lines: what goes in comes out, and a damaged frame is an error.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "esrsync/core/compress.hpp"

namespace esrsync {
namespace {

std::string lines(int n) {
  std::string text;
  for (int i = 0; i < n; ++i)
    text += R"({"idempotency_key":"oh:person:)" + std::to_string(10000000 + i) +
            R"(:inserted:abc","entity":"person","change":{"surname":"Example"}})" + "\n";
  return text;
}

TEST(Compress, WhatGoesInComesOut) {
  for (const std::string& text : {std::string(), std::string("x"), lines(1), lines(5000)}) {
    const std::string frame = zstd_compress(text);
    EXPECT_TRUE(is_zstd_frame(frame));
    auto back = zstd_decompress(frame);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, text);
  }
  EXPECT_LT(zstd_compress(lines(5000)).size() * 4, lines(5000).size());  // JSON lines compress well
}

TEST(Compress, TextIsNotAFrame) {
  EXPECT_FALSE(is_zstd_frame(lines(1)));
  EXPECT_FALSE(is_zstd_frame(""));
  auto r = zstd_decompress(lines(1));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rule, "zstd.frame");
}

TEST(Compress, ADamagedOrTruncatedFrameIsAnErrorNotOtherText) {
  const std::string frame = zstd_compress(lines(500));
  std::string damaged = frame;
  damaged[damaged.size() / 2] = static_cast<char>(damaged[damaged.size() / 2] ^ 0x20);
  auto r = zstd_decompress(damaged);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rule, "zstd.frame");
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("damaged"));

  auto cut = zstd_decompress(std::string_view(frame).substr(0, frame.size() - 10));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().rule, "zstd.frame");
}

TEST(Compress, AFrameOverTheLimitIsRefusedBeforeAllocating) {
  auto r = zstd_decompress(zstd_compress(lines(100)), 1000);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, ::testing::HasSubstr("over the limit of 1000"));
}

}  // namespace
}  // namespace esrsync
