#include "sglang_dump.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <vector>

#include "dualpipe/eplb/load_reader.h"
#include "dualpipe/eplb/parse_error.h"
#include "pt_plugin_abi.h"

namespace dualpipe::apps {
namespace {

// The plugin's file name and its folder relative to the installed executable, set by CMake.
constexpr const char* kPluginFile = DUALPIPE_PT_PLUGIN_FILE;
constexpr const char* kInstalledPluginDir = DUALPIPE_PT_PLUGIN_RELATIVE_DIR;

// The plugin's entry points.
struct PtPlugin {
  decltype(&dualpipe_read_pt_loads) read = nullptr;
  decltype(&dualpipe_free_pt_loads) release = nullptr;
};

std::string executable_dir() {
  std::vector<char> buffer(4096);
  const ssize_t length = ::readlink("/proc/self/exe", buffer.data(), buffer.size());
  if (length <= 0 || static_cast<std::size_t>(length) >= buffer.size()) return ".";
  const std::string path(buffer.data(), static_cast<std::size_t>(length));
  return path.substr(0, path.rfind('/'));
}

// Where the plugin may be: $DUALPIPE_PLUGIN_DIR alone when set, else beside the executable and in
// the install tree's plugin folder.
std::vector<std::string> plugin_candidates() {
  const char* override_dir = std::getenv("DUALPIPE_PLUGIN_DIR");
  if (override_dir != nullptr && *override_dir != '\0')
    return {std::string(override_dir) + "/" + kPluginFile};
  const std::string dir = executable_dir();
  return {dir + "/" + kPluginFile, dir + "/" + kInstalledPluginDir + "/" + kPluginFile};
}

// Loads the plugin (kept loaded for the rest of the process). Throws a one-line message when
// absent.
PtPlugin load_plugin() {
  std::string load_error;
  for (const std::string& candidate : plugin_candidates()) {
    if (::access(candidate.c_str(), F_OK) != 0) continue;
    void* handle = ::dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      load_error = std::string(": ") + ::dlerror();
      continue;
    }
    using Version = decltype(&dualpipe_pt_plugin_abi_version);
    const auto version =
        reinterpret_cast<Version>(::dlsym(handle, "dualpipe_pt_plugin_abi_version"));
    PtPlugin plugin{
        reinterpret_cast<decltype(PtPlugin::read)>(::dlsym(handle, "dualpipe_read_pt_loads")),
        reinterpret_cast<decltype(PtPlugin::release)>(::dlsym(handle, "dualpipe_free_pt_loads"))};
    if (version != nullptr && version() == DUALPIPE_PT_PLUGIN_ABI_VERSION && plugin.read &&
        plugin.release) {
      return plugin;
    }
    load_error = ": " + candidate + " is not a compatible plugin";
  }
  throw std::runtime_error("reading .pt needs the LibTorch plugin (" + std::string(kPluginFile) +
                           load_error + "); rebuild with LibTorch or convert to .npy");
}

}  // namespace

dualpipe::eplb::LoadSeries read_sglang_dump(const std::string& path, std::string_view content) {
  auto fail = [&](const std::string& message) { return std::runtime_error(path + ": " + message); };
  PtPlugin plugin;
  try {
    plugin = load_plugin();
  } catch (const std::runtime_error& error) {
    throw fail(error.what());
  }
  int64_t shape[3] = {0, 0, 0};
  double* raw = nullptr;
  char error[512] = "";
  if (plugin.read(content.data(), content.size(), shape, &raw, error, sizeof error) != 0)
    throw fail(error);
  const std::unique_ptr<double, decltype(plugin.release)> values(raw, plugin.release);
  try {
    return dualpipe::eplb::series_from_values(values.get(), shape[0], shape[1], shape[2],
                                              "logical_count");
  } catch (const dualpipe::eplb::ParseError& parse_error) {
    throw fail(parse_error.what());
  }
}

}  // namespace dualpipe::apps
