#include "esrsync/core/atomic_file.hpp"

#include "esrsync/core/unique_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

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

Status write_file_atomically(const std::filesystem::path& path, std::string_view content, DirSync dir_sync) {
  const std::filesystem::path part = path.string() + ".part";
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  UniqueFd fd(::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (!fd.valid()) return io_error("file.create", "cannot create", part, errno);
  const auto cleanup = [&part] { ::unlink(part.c_str()); };
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      cleanup();
      return io_error("file.write", "cannot write", part, err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    const int err = errno;
    cleanup();
    return io_error("file.fsync", "cannot fsync", part, err);
  }
  if (fd.close() != 0) {
    const int err = errno;
    cleanup();
    return io_error("file.write", "cannot close", part, err);
  }
  if (::rename(part.c_str(), path.c_str()) != 0) {
    const int err = errno;
    cleanup();
    return io_error("file.rename", "cannot rename into place", path, err);
  }
  return dir_sync == DirSync::now ? sync_directory(dir) : Status{};
}

}  // namespace esrsync
