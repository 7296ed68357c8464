#include "staged_outputs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace dualpipe::apps {
namespace {

std::string temporary_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

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

// Streams `writer`'s text into a new file `temporary`.
void write_file(const std::string& path, const std::string& temporary,
                const StagedOutputs::Writer& writer) {
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw write_error(path, errno);
  try {
    writer([&](std::string_view piece) { write_all(fd, piece, path); });
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw write_error(path, errno);
}

}  // namespace

void StagedOutputs::add(std::string path, std::string content) {
  add(std::move(path), [content = std::move(content)](const Sink& sink) { sink(content); });
}

void StagedOutputs::add(std::string path, Writer writer) {
  outputs_.emplace_back(std::move(path), std::move(writer));
}

void StagedOutputs::commit() const {
  std::vector<std::string> temporaries;
  auto remove_temporaries = [&] {
    for (const auto& temporary : temporaries) std::remove(temporary.c_str());
  };
  try {
    for (const auto& [path, writer] : outputs_) {
      if (path == "-") continue;
      temporaries.push_back(temporary_for(path));
      write_file(path, temporaries.back(), writer);
    }
    std::size_t renamed = 0;
    for (const auto& [path, writer] : outputs_) {
      if (path == "-") continue;
      if (std::rename(temporaries[renamed].c_str(), path.c_str()) != 0)
        throw write_error(path, errno);
      ++renamed;
    }
  } catch (...) {
    remove_temporaries();
    throw;
  }
  for (const auto& [path, writer] : outputs_) {
    if (path == "-")
      writer([](std::string_view piece) { write_all(STDOUT_FILENO, piece, "standard output"); });
  }
}

}  // namespace dualpipe::apps
