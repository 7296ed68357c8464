// Test support: launches a program (the runtime test worker, pipeline-bench) as a torchrun-like
// job of several processes.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace dualpipe::runtime::testing {

// True when this LibTorch has Gloo, which the multi-process CPU tests need (Debian's LibTorch has
// it; the PyTorch wheel ships no Gloo headers, so there they skip).
#ifdef DUALPIPE_WITH_GLOO
inline constexpr bool kHaveGloo = true;
#else
inline constexpr bool kHaveGloo = false;
#endif

// What one worker process did.
struct WorkerOutcome {
  int exit_code = -1;  // -1 when it was killed (timed out or crashed)
  std::string output;  // its stdout and stderr
};

// What the job did.
struct JobOutcome {
  bool timed_out = false;
  std::vector<WorkerOutcome> workers;  // by rank

  // True when every worker exited with 0.
  bool all_succeeded() const;
  // Every worker's exit code and output, for test failure messages.
  std::string report() const;
};

// Starts `world_size` processes of `command` (program path, then arguments) with RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR and MASTER_PORT set as torchrun sets them, this process hosting the
// rendezvous store like torchrun's agent. Kills them all after `deadline`.
JobOutcome run_job(int world_size, const std::vector<std::string>& command,
                   std::chrono::seconds deadline = std::chrono::seconds(120));

// Like run_job, but rank `rank` gets `extra` appended to its command (e.g. a flag the other ranks
// do not have).
JobOutcome run_job_with(int world_size, const std::vector<std::string>& command, int rank,
                        const std::vector<std::string>& extra,
                        std::chrono::seconds deadline = std::chrono::seconds(120));

// A TCP socket listening on a free port of 127.0.0.1 that never accepts or answers: a store
// that never answers, or a port in use.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// run_job of `runtime_test_worker <args...>`.
JobOutcome run_workers(int world_size, const std::vector<std::string>& args,
                       std::chrono::seconds deadline = std::chrono::seconds(120));

}  // namespace dualpipe::runtime::testing
