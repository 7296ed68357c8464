#include "rank_file.h"

namespace dualpipe::apps {

std::string rank_file_path(const std::string& path, int rank) {
  if (rank == 0) return path;
  const std::size_t dot = path.rfind('.');
  const std::size_t slash = path.rfind('/');
  const std::string suffix = ".rank" + std::to_string(rank);
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return path + suffix;
  return path.substr(0, dot) + suffix + path.substr(dot);
}

}  // namespace dualpipe::apps
