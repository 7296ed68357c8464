#include "input_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "byte_size.h"

namespace dualpipe::apps {
namespace {

std::runtime_error file_error(const std::string& path, const std::string& what) {
  return std::runtime_error(path + ": " + what);
}

std::runtime_error system_error(const std::string& path, const char* what, int error) {
  return file_error(path, std::string(what) + " (" + std::strerror(error) + ")");
}

// Closes a file descriptor when leaving scope (not standard input).
struct ScopedFd {
  int fd;
  ~ScopedFd() {
    if (fd > STDIN_FILENO) ::close(fd);
  }
};

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

// `amount` is "3.00 GiB is more" for a file of known size, "more" for a stream.
std::runtime_error too_large(const std::string& path, const std::string& amount,
                             std::size_t max_bytes) {
  return file_error(
      path, amount + " than the " + byte_size_text(double(max_bytes)) + " this input may have");
}

// Throws when `bytes` (which start at byte `offset` of the input) hold a NUL byte, naming its line
// and column in `all` (the input up to the end of `bytes`).
void refuse_nul(const std::string& path, std::string_view all, std::size_t offset) {
  const std::size_t nul = all.find('\0', offset);
  if (nul == std::string_view::npos) return;
  const std::string_view before = all.substr(0, nul);
  const std::size_t line =
      1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t line_start = before.rfind('\n');
  const std::size_t column = nul - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  throw file_error(path, "line " + std::to_string(line) + ", column " + std::to_string(column) +
                             ": a NUL byte: not a text file");
}

}  // namespace

void check_input_file(const std::string& path, std::size_t max_bytes) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) throw system_error(path, "cannot open", errno);
  if (!S_ISREG(status.st_mode)) {
    throw file_error(path, std::string("not a regular file (") + kind_of(status.st_mode) + ")");
  }
  const auto size = static_cast<std::size_t>(status.st_size);
  if (size > max_bytes) throw too_large(path, byte_size_text(double(size)) + " is more", max_bytes);
}

InputFile::InputFile(const std::string& path, InputLimits limits) {
  const bool standard_input = path == "-";
  const std::string name = standard_input ? "standard input" : path;
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
  const ScopedFd file{standard_input
                          ? STDIN_FILENO
                          : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
  if (file.fd < 0) throw system_error(name, "cannot open", errno);
  struct stat status {};
  if (::fstat(file.fd, &status) != 0) throw system_error(name, "cannot read", errno);
  if (!S_ISREG(status.st_mode)) {
    if (!standard_input) {
      throw file_error(name, std::string("not a regular file (") + kind_of(status.st_mode) + ")");
    }
    if (S_ISDIR(status.st_mode)) throw system_error(name, "cannot read", EISDIR);
    read_stream(file.fd, name, limits);
    return;
  }
  const auto size = static_cast<std::size_t>(status.st_size);
  if (size > limits.max_bytes)
    throw too_large(name, byte_size_text(double(size)) + " is more", limits.max_bytes);
  if (size == 0) return;
  // Mapping costs a few page faults for the whole file where reading it costs one per 4 KiB page.
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (mapping == MAP_FAILED) throw system_error(name, "cannot read", errno);
  const std::string_view bytes(static_cast<const char*>(mapping), size);
  try {
    if (limits.text) refuse_nul(name, bytes, 0);
  } catch (...) {
    ::munmap(mapping, size);
    throw;
  }
  mapping_ = mapping;
  text_ = bytes;
}

void InputFile::read_stream(int fd, const std::string& name, const InputLimits& limits) {
  char chunk[65536];
  while (true) {
    const ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw system_error(name, "cannot read", errno);
    if (got == 0) break;
    if (buffer_.size() + static_cast<std::size_t>(got) > limits.max_bytes) {
      throw too_large(name, "more", limits.max_bytes);
    }
    const std::size_t offset = buffer_.size();
    buffer_.append(chunk, static_cast<std::size_t>(got));
    if (limits.text) refuse_nul(name, buffer_, offset);
  }
  text_ = buffer_;
}

InputFile::~InputFile() {
  if (mapping_ != nullptr) ::munmap(mapping_, text_.size());
}

}  // namespace dualpipe::apps
