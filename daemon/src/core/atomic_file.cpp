#include "esrsync/core/atomic_file.hpp"

#include "esrsync/core/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace esrsync {
namespace {

Unexpected io_error(const char* rule, const char* what, const std::filesystem::path& path, int err) {
  return fail(Errc::io, rule, std::string(what) + ": " + std::strerror(err), Origin{path.string()});
}

}  // namespace

Status sync_directory(const std::filesystem::path& dir) {
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid() || ::fsync(dir_fd.get()) != 0) {
    return io_error("dir.fsync", "file renamed but its directory could not be synced", dir, errno);
  }
  return {};
}

PendingFile::PendingFile(std::filesystem::path path, std::filesystem::path part, int fd)
    : path_(std::move(path)), part_(std::move(part)), fd_(fd) {}

PendingFile::~PendingFile() {
  if (part_.empty()) return;
  fd_.reset();
  ::unlink(part_.c_str());
}

Result<PendingFile> PendingFile::write(const std::filesystem::path& path, std::string_view content) {
  std::filesystem::path part = path.string() + ".part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return io_error("file.create", "cannot create", part, errno);
  PendingFile file(path, std::move(part), fd);  // from here on, a failure removes the .part
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("file.write", "cannot write", file.part_, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  // Start the disk on it now; commit() waits for it. Only a hint: commit's fsync is what counts.
  (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  return file;
}

Status PendingFile::commit() {
  if (::fsync(fd_.get()) != 0) return io_error("file.fsync", "cannot fsync", part_, errno);
  if (fd_.close() != 0) return io_error("file.write", "cannot close", part_, errno);
  if (::rename(part_.c_str(), path_.c_str()) != 0)
    return io_error("file.rename", "cannot rename into place", path_, errno);
  part_.clear();
  return {};
}

Status write_file_atomically(const std::filesystem::path& path, std::string_view content, DirSync dir_sync) {
  auto file = PendingFile::write(path, content);
  if (!file) return fail(std::move(file).error());
  if (auto ok = file->commit(); !ok) return ok;
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  return dir_sync == DirSync::now ? sync_directory(dir) : Status{};
}

}  // namespace esrsync
