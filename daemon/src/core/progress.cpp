#include "esrsync/core/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <string>

namespace esrsync {

bool is_terminal(std::FILE* stream) noexcept {
  return stream != nullptr && ::isatty(::fileno(stream)) == 1;
}

Progress::Progress(std::FILE* out, std::size_t width, std::chrono::milliseconds interval, Now now)
    : out_(out), width_(width < 2 ? 2 : width), interval_(interval), now_(std::move(now)) {}

Progress::~Progress() {
  clear();
}

Progress Progress::on_terminal(std::FILE* out, std::FILE* err) {
  if (!is_terminal(out) || !is_terminal(err)) return Progress();
  winsize size{};
  const std::size_t columns =
      ::ioctl(::fileno(err), TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? std::size_t{size.ws_col} : 80;
  return Progress(err, columns);
}

void Progress::show(std::string_view line) {
  if (out_ == nullptr) return;
  // One column short of the width (a line filling the last column wraps on some terminals), and
  // never inside a UTF-8 sequence.
  if (line.size() > width_ - 1) {
    std::size_t cut = width_ - 1;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80)
      --cut;
    line = line.substr(0, cut);
  }
  std::string text = "\r";
  text.append(line);
  text.append("\033[K");  // erase what a longer line before it left
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
  shown_ = true;
  last_ = now_();
}

bool Progress::due() {
  return out_ != nullptr && now_() - last_ >= interval_;
}

void Progress::clear() {
  if (out_ == nullptr || !shown_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
  shown_ = false;
}

}  // namespace esrsync
