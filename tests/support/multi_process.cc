#include "multi_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#ifdef DUALPIPE_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

extern char** environ;

namespace dualpipe::testing {
namespace {

constexpr const char* kRankVariable = "DUALPIPE_TEST_WORKER_RANK";
constexpr const char* kWorldVariable = "DUALPIPE_TEST_WORKER_WORLD";
constexpr const char* kPortVariable = "DUALPIPE_TEST_WORKER_PORT";
constexpr const char* kJobVariable = "DUALPIPE_TEST_WORKER_JOB";
constexpr auto kGroupTimeout = std::chrono::seconds(60);

std::string current_test_name() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

// The number of this run_in_processes call within the current test (a test may launch several
// jobs one after another; a worker runs only the body of the job it was started for).
int next_job_of_test() {
  static std::string test;
  static int job = 0;
  const std::string now = current_test_name();
  if (now != test) {
    test = now;
    job = 0;
  }
  return job++;
}

c10::intrusive_ptr<c10d::TCPStore> make_store(bool server, int port, int world_size) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(port);
  options.isServer = server;
  options.numWorkers = world_size;
  options.waitWorkers = false;
  options.timeout = kGroupTimeout;
  return c10::make_intrusive<c10d::TCPStore>("127.0.0.1", options);
}

pid_t spawn_worker(int rank, int world_size, int port, int job) {
  const std::string filter = "--gtest_filter=" + current_test_name();
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (entry.rfind("DUALPIPE_TEST_WORKER_", 0) != 0) env_text.push_back(entry);
  }
  env_text.push_back(std::string(kRankVariable) + "=" + std::to_string(rank));
  env_text.push_back(std::string(kWorldVariable) + "=" + std::to_string(world_size));
  env_text.push_back(std::string(kPortVariable) + "=" + std::to_string(port));
  env_text.push_back(std::string(kJobVariable) + "=" + std::to_string(job));
  env_text.push_back("OMP_NUM_THREADS=1");
  std::vector<char*> envp;
  for (std::string& entry : env_text) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string program = "/proc/self/exe";
  std::string brief = "--gtest_brief=1";
  std::vector<char*> argv{program.data(), const_cast<char*>(filter.c_str()), brief.data(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0)
    return -1;
  return pid;
}

// Waits for every pid until `deadline`; kills the ones still running after it. Returns the exit
// statuses (-1: killed after the deadline).
std::vector<int> wait_for(const std::vector<pid_t>& pids,
                          std::chrono::steady_clock::time_point deadline) {
  std::vector<int> status(pids.size(), -2);
  std::size_t running = pids.size();
  while (running > 0 && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < pids.size(); ++i) {
      if (status[i] != -2) continue;
      int raw = 0;
      if (waitpid(pids[i], &raw, WNOHANG) == pids[i]) {
        status[i] = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
        --running;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (std::size_t i = 0; i < pids.size(); ++i) {
    if (status[i] != -2) continue;
    kill(pids[i], SIGKILL);
    waitpid(pids[i], nullptr, 0);
    status[i] = -1;
  }
  return status;
}

}  // namespace

runtime::GroupHandle Worker::group(const std::string& name, const std::vector<int>& members) const {
#ifndef DUALPIPE_WITH_GLOO
  (void)members;
  throw std::logic_error("test group " + name + ": this LibTorch has no Gloo");
#else
  const auto position = std::find(members.begin(), members.end(), rank);
  if (position == members.end())
    throw std::invalid_argument("test group " + name + " does not hold this rank");
  auto options = c10d::ProcessGroupGloo::Options::create();
  options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  options->timeout = kGroupTimeout;
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(name, store);
  return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed,
                                                     static_cast<int>(position - members.begin()),
                                                     static_cast<int>(members.size()), options);
#endif
}

runtime::GroupHandle Worker::world() const {
  std::vector<int> everyone(static_cast<std::size_t>(world_size));
  for (int r = 0; r < world_size; ++r) everyone[static_cast<std::size_t>(r)] = r;
  return group("world", everyone);
}

void run_in_processes(int world_size, const std::function<void(const Worker&)>& body,
                      std::chrono::seconds timeout) {
#ifndef DUALPIPE_WITH_GLOO
  GTEST_SKIP() << "multi-process CPU tests need Gloo, which this LibTorch lacks";
#endif
  const int job = next_job_of_test();
  if (const char* rank_text = std::getenv(kRankVariable)) {
    if (std::atoi(std::getenv(kJobVariable)) != job) return;  // another job of this test
    Worker worker;
    worker.rank = std::atoi(rank_text);
    worker.world_size = std::atoi(std::getenv(kWorldVariable));
    worker.store = make_store(false, std::atoi(std::getenv(kPortVariable)), world_size);
    body(worker);
    return;
  }
  const auto store = make_store(true, 0, world_size);  // port 0: the system picks a free one
  std::vector<pid_t> pids;
  for (int rank = 0; rank < world_size; ++rank) {
    const pid_t pid = spawn_worker(rank, world_size, store->getPort(), job);
    ASSERT_GT(pid, 0) << "could not start worker " << rank;
    pids.push_back(pid);
  }
  const std::vector<int> status = wait_for(pids, std::chrono::steady_clock::now() + timeout);
  for (int rank = 0; rank < world_size; ++rank) {
    EXPECT_EQ(status[static_cast<std::size_t>(rank)], 0)
        << "worker " << rank
        << (status[static_cast<std::size_t>(rank)] == -1 ? " timed out" : " failed");
  }
}

}  // namespace dualpipe::testing
