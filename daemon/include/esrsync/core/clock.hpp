#pragma once
// Time as a seam (STYLE.md rule 21: tests inject time). Milliseconds since the Unix epoch.

#include <chrono>
#include <cstdint>

namespace esrsync {

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] std::int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock tests move by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms = 1'785'000'000'000) : now_(start_ms) {}
  [[nodiscard]] std::int64_t now_ms() const override { return now_; }
  void advance_ms(std::int64_t ms) { now_ += ms; }

 private:
  std::int64_t now_;
};

}  // namespace esrsync
