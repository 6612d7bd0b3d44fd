#pragma once
// Progress of long work (a large extract, thousands of batch files delivered) as one line on a
// terminal, rewritten in place at most once an interval (DESIGN.md: long work shows progress on a
// terminal and none when stdout is not a TTY). A disabled Progress writes nothing. The line is
// never ended: clear() erases it before anything else is printed.

#include <chrono>
#include <cstdio>
#include <functional>
#include <string_view>

namespace esrsync {

// True when `stream` is a terminal (a person is watching it, not a file or a pipe).
[[nodiscard]] bool is_terminal(std::FILE* stream) noexcept;

class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  Progress() = default;  // disabled
  // Shows on `out` (nullptr: disabled), each line cut to `width` columns so it never wraps (a
  // wrapped line cannot be rewritten in place).
  explicit Progress(std::FILE* out, std::size_t width = 80,
                    std::chrono::milliseconds interval = std::chrono::seconds(1), Now now = &Clock::now);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  // On `err` when both `err` and `out` are terminals (disabled otherwise), cut to the terminal's
  // width. A command whose output is data to keep (`map`) passes `err` twice: progress while its
  // output goes to a file.
  [[nodiscard]] static Progress on_terminal(std::FILE* out, std::FILE* err);

  [[nodiscard]] bool enabled() const noexcept { return out_ != nullptr; }
  // Shows `line` now, in place of the one shown (a new step of the work).
  void show(std::string_view line);
  // True at most once an interval since a line was last shown: the caller then builds its line and
  // shows it (building it only when it will be shown).
  [[nodiscard]] bool due();
  // Erases the line shown, if any.
  void clear();

 private:
  std::FILE* out_ = nullptr;
  std::size_t width_ = 80;
  std::chrono::milliseconds interval_{1000};
  Now now_;
  Clock::time_point last_{};
  bool shown_ = false;
};

}  // namespace esrsync
