#include "staged_outputs.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "temporary_files.h"

namespace dualpipe::apps {
namespace {

std::runtime_error write_error(const std::string& path, int error) {
  return std::runtime_error(path + ": cannot write: " + std::strerror(error));
}

// Writes all of `text` to `fd`; throws naming `path` on failure.
void write_all(int fd, std::string_view text, const std::string& path) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) throw write_error(path, written < 0 ? errno : EIO);
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

// Runs `writer` into `fd`, then closes it; throws naming `path`.
void write_and_close(int fd, const StagedOutputs::Writer& writer, const std::string& path) {
  try {
    writer([&](std::string_view piece) { write_all(fd, piece, path); });
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw write_error(path, errno);
}

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return path.substr(0, slash + 1);
}

// `path` with every symbolic link on its last component followed (the link's target may not
// exist yet: then the file is created there).
std::string follow_links(const std::string& path) {
  std::string target = path;
  for (int hops = 0; hops < 40; ++hops) {
    struct stat status {};
    if (::lstat(target.c_str(), &status) != 0 || !S_ISLNK(status.st_mode)) return target;
    std::string link(PATH_MAX, '\0');
    const ssize_t size = ::readlink(target.c_str(), link.data(), link.size());
    if (size < 0) throw write_error(path, errno);
    link.resize(static_cast<std::size_t>(size));
    target = link.front() == '/' ? link : directory_of(target) + link;
  }
  throw write_error(path, ELOOP);
}

}  // namespace

StagedOutputs::~StagedOutputs() { remove_temporaries(); }

void StagedOutputs::add(std::string path, std::string content) {
  add(std::move(path), [content = std::move(content)](const Sink& sink) { sink(content); });
}

void StagedOutputs::add(std::string path, Writer writer) {
  Output output;
  output.path = std::move(path);
  output.writer = std::move(writer);
  outputs_.push_back(std::move(output));
}

void StagedOutputs::remove_temporaries() {
  for (Output& output : outputs_) {
    if (output.temporary.empty()) continue;
    std::remove(output.temporary.c_str());
    keep_on_signal(output.temporary);
    output.temporary.clear();
  }
}

void StagedOutputs::stage() {
  if (staged_) return;
  try {
    for (Output& output : outputs_) {
      output.direct = output.path == "-";
      if (output.direct) continue;
      output.target = follow_links(output.path);
      struct stat status {};
      const bool exists = ::stat(output.target.c_str(), &status) == 0;
      if (exists && S_ISDIR(status.st_mode)) throw write_error(output.path, EISDIR);
      for (const Output& other : outputs_) {
        if (&other != &output && other.target == output.target) {
          throw std::runtime_error(output.path + ": named by two outputs");
        }
      }
      output.direct = exists && !S_ISREG(status.st_mode);
      if (output.direct) continue;
      output.temporary = output.target + ".tmp." + std::to_string(::getpid());
      remove_on_signal(output.temporary);
      const int fd =
          ::open(output.temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd < 0) {
        const int error = errno;
        keep_on_signal(output.temporary);
        output.temporary.clear();
        throw write_error(output.path, error);
      }
      if (exists) {
        // Keep the replaced file's permissions and, where allowed, its owner.
        (void)::fchown(fd, status.st_uid, status.st_gid);
        (void)::fchmod(fd, status.st_mode & 07777);
      }
      write_and_close(fd, output.writer, output.path);
    }
  } catch (...) {
    remove_temporaries();
    throw;
  }
  staged_ = true;
}

void StagedOutputs::commit() {
  stage();
  try {
    for (const Output& output : outputs_) {
      if (!output.direct) continue;
      if (output.path == "-") {
        output.writer(
            [](std::string_view piece) { write_all(STDOUT_FILENO, piece, "standard output"); });
        continue;
      }
      const int fd = ::open(output.target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) throw write_error(output.path, errno);
      write_and_close(fd, output.writer, output.path);
    }
  } catch (...) {
    remove_temporaries();
    throw;
  }
  for (Output& output : outputs_) {
    if (output.temporary.empty()) continue;
    if (std::rename(output.temporary.c_str(), output.target.c_str()) != 0) {
      const int error = errno;
      remove_temporaries();
      throw write_error(output.path, error);
    }
    keep_on_signal(output.temporary);
    output.temporary.clear();
  }
}

}  // namespace dualpipe::apps
