// A fault for integration tests, loaded into the real esrsync binary with LD_PRELOAD: utimensat()
// fails with EIO for paths containing the text in ESRSYNC_FAULT_UTIMENSAT, and is the C library's
// own for every other path. Used where no real fault can be provoked as root (dating a file that
// was just renamed into a directory esrsync owns).

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern "C" int utimensat(int dirfd, const char* path, const struct timespec times[2], int flags) {
  const char* fault = std::getenv("ESRSYNC_FAULT_UTIMENSAT");
  if (fault != nullptr && *fault != '\0' && std::strstr(path, fault) != nullptr) {
    errno = EIO;
    return -1;
  }
  using Real = int (*)(int, const char*, const struct timespec*, int);
  static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "utimensat"));
  if (real == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return real(dirfd, path, times, flags);
}
