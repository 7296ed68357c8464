#include "input_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dualpipe::apps {
namespace {

std::runtime_error file_error(const std::string& path, const char* what, int error) {
  return std::runtime_error(path + ": " + what + " (" + std::strerror(error) + ")");
}

// Closes a file descriptor when leaving scope.
struct ScopedFd {
  int fd;
  ~ScopedFd() { ::close(fd); }
};

}  // namespace

InputFile::InputFile(const std::string& path) {
  const ScopedFd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) throw file_error(path, "cannot open", errno);
  struct stat status {};
  if (::fstat(file.fd, &status) != 0) throw file_error(path, "cannot read", errno);
  if (S_ISDIR(status.st_mode)) throw file_error(path, "cannot read", EISDIR);
  // Mapping costs a few page faults for the whole file where reading it costs one per 4 KiB page.
  if (S_ISREG(status.st_mode) && status.st_size > 0) {
    const auto size = static_cast<std::size_t>(status.st_size);
    void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
    if (mapping != MAP_FAILED) {
      mapping_ = mapping;
      text_ = std::string_view(static_cast<const char*>(mapping), size);
      return;
    }
  }
  char chunk[65536];
  while (true) {
    const ssize_t got = ::read(file.fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw file_error(path, "cannot read", errno);
    if (got == 0) break;
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
  text_ = buffer_;
}

InputFile::~InputFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, text_.size());
}

}  // namespace dualpipe::apps
