#pragma once
// The one way esrsync hands a file on (STYLE.md rule 16; DOMAIN.md "A file is complete only once it
// has its final name"): write `<name>.part` in the same directory, fsync it, rename it over the
// final name, fsync the directory. After a crash at any point there is the old file or the new
// one, never half of one; a leftover `.part` is never a complete file.
//
// Blocking I/O (write, fsync): call from the blocking pool, never from an io thread.

#include <filesystem>
#include <string_view>

#include "esrsync/core/result.hpp"

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

}  // namespace esrsync
