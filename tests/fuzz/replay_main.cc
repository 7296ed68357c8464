// Replays a fuzz target over a seed corpus: every regular file under the given directories (or the
// given files) is passed once to LLVMFuzzerTestOneInput. Used where libFuzzer is unavailable.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int replay_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int replayed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path root(argv[i]);
    if (std::filesystem::is_directory(root)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (entry.is_regular_file()) replayed += replay_file(entry.path());
      }
    } else if (std::filesystem::is_regular_file(root)) {
      replayed += replay_file(root);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  // An empty corpus would make this test pass without exercising anything.
  if (replayed == 0) {
    std::fprintf(stderr, "replay: no corpus files found\n");
    return 2;
  }
  std::printf("replayed %d inputs\n", replayed);
  return 0;
}
