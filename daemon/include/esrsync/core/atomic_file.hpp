#pragma once
// The one way esrsync hands a file on (STYLE.md rule 16; DOMAIN.md "A file is complete only once it
// has its final name"): write `<name>.part` in the same directory, fsync it, rename it over the
// final name, fsync the directory. After a crash at any point there is the old file or the new
// one, never half of one; a leftover `.part` is never a complete file.
//
// Blocking I/O (write, fsync): call from the blocking pool, never from an io thread.

#include <filesystem>
#include <string_view>
#include <utility>

#include "esrsync/core/result.hpp"
#include "esrsync/core/unique_fd.hpp"

namespace esrsync {

// Errors: Errc::io with rule file.create, file.write, file.fsync, file.rename or dir.fsync; the
// message carries the system error (e.g. "No space left on device"). On error the final name is
// untouched and the `.part` file is removed.
//
// DirSync::later leaves the directory fsync to the caller (sync_directory), for a writer that hands
// on several files and syncs their directory once before it tells anyone they are there.
enum class DirSync : bool { now, later };
Status write_file_atomically(const std::filesystem::path& path, std::string_view content,
                             DirSync dir_sync = DirSync::now);
// fsync of a directory: the renames into it are durable. Errors: Errc::io, dir.fsync.
Status sync_directory(const std::filesystem::path& dir);

// The same steps split in two, for a writer handing on several files at once: write() creates
// `<path>.part`, writes it and starts the disk writing it without waiting; commit() waits until it
// is on disk (fsync) and renames it into place. So the disk writes one file while the next is
// being made, instead of the writer waiting on each in turn. The caller syncs the directory after
// its commits. A PendingFile destroyed without a successful commit removes its `.part`. Errors as
// write_file_atomically's.
class PendingFile {
 public:
  static Result<PendingFile> write(const std::filesystem::path& path, std::string_view content);
  PendingFile(PendingFile&& other) noexcept
      : path_(std::move(other.path_)), part_(std::exchange(other.part_, {})), fd_(std::move(other.fd_)) {}
  PendingFile& operator=(PendingFile&&) = delete;
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  ~PendingFile();
  Status commit();

 private:
  PendingFile(std::filesystem::path path, std::filesystem::path part, int fd);
  std::filesystem::path path_;
  std::filesystem::path part_;  // empty once committed (or moved from)
  UniqueFd fd_;
};

}  // namespace esrsync
