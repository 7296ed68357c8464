#include "staged_outputs.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace dualpipe::apps {
namespace {

std::string temporary_for(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

void remove_all(const std::vector<std::string>& paths) {
  for (const auto& path : paths) std::remove(path.c_str());
}

}  // namespace

void StagedOutputs::commit() const {
  std::vector<std::string> temporaries;
  for (const auto& [path, content] : outputs_) {
    if (path == "-") continue;
    const std::string temporary = temporary_for(path);
    std::FILE* file = std::fopen(temporary.c_str(), "wb");
    if (!file) {
      const int error = errno;
      remove_all(temporaries);
      throw std::runtime_error(path + ": cannot write: " + std::strerror(error));
    }
    temporaries.push_back(temporary);
    const bool written = std::fwrite(content.data(), 1, content.size(), file) == content.size();
    const int write_error = errno;
    if (std::fclose(file) != 0 || !written) {
      remove_all(temporaries);
      throw std::runtime_error(path + ": cannot write: " + std::strerror(written ? errno : write_error));
    }
  }
  for (const auto& [path, content] : outputs_) {
    if (path == "-") continue;
    if (std::rename(temporary_for(path).c_str(), path.c_str()) != 0) {
      const int error = errno;
      remove_all(temporaries);
      throw std::runtime_error(path + ": cannot write: " + std::strerror(error));
    }
  }
  for (const auto& [path, content] : outputs_) {
    if (path == "-") std::cout << content << std::flush;
  }
}

}  // namespace dualpipe::apps
