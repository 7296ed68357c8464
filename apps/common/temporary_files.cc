#include "temporary_files.h"

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace dualpipe::apps {
namespace {

// A registered path in a fixed buffer, so that the signal handler touches no allocator.
struct Slot {
  std::atomic<bool> live{false};
  char path[PATH_MAX] = {};
};

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
std::array<Slot, 64> slots;
std::array<struct sigaction, 3> former_actions;
std::mutex registry_mutex;  // serialises registration (not the handler)
bool handlers_installed = false;

void remove_temporaries(int signal_number) {
  for (Slot& slot : slots) {
    if (slot.live.load()) ::unlink(slot.path);
  }
  for (std::size_t i = 0; i < former_actions.size(); ++i) {
    if (kSignals[i] == signal_number) ::sigaction(signal_number, &former_actions[i], nullptr);
  }
  ::raise(signal_number);
}

void install_handlers() {
  for (std::size_t i = 0; i < former_actions.size(); ++i) {
    ::sigaction(kSignals[i], nullptr, &former_actions[i]);
    if (former_actions[i].sa_handler == SIG_IGN) continue;
    struct sigaction action {};
    action.sa_handler = remove_temporaries;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    ::sigaction(kSignals[i], &action, nullptr);
  }
  handlers_installed = true;
}

}  // namespace

void remove_on_signal(const std::string& path) {
  const std::lock_guard<std::mutex> lock(registry_mutex);
  if (path.size() >= PATH_MAX) throw std::runtime_error(path + ": path too long");
  if (!handlers_installed) install_handlers();
  for (Slot& slot : slots) {
    if (slot.live.load()) continue;
    std::memcpy(slot.path, path.c_str(), path.size() + 1);
    slot.live.store(true);
    return;
  }
  throw std::runtime_error(path + ": more than 64 temporary files at once");
}

void keep_on_signal(const std::string& path) {
  const std::lock_guard<std::mutex> lock(registry_mutex);
  for (Slot& slot : slots) {
    if (slot.live.load() && path == slot.path) slot.live.store(false);
  }
}

}  // namespace dualpipe::apps
