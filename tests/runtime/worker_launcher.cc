#include "worker_launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

extern char** environ;

namespace dualpipe::runtime::testing {

bool JobOutcome::all_succeeded() const {
  if (timed_out) return false;
  for (const WorkerOutcome& w : workers) {
    if (w.exit_code != 0) return false;
  }
  return true;
}

std::string JobOutcome::report() const {
  std::ostringstream text;
  if (timed_out) text << "the job timed out\n";
  for (std::size_t r = 0; r < workers.size(); ++r) {
    text << "--- rank " << r << " exit " << workers[r].exit_code << "\n" << workers[r].output;
  }
  return text.str();
}

namespace {

JobOutcome run_ranks(int world_size, const std::vector<std::vector<std::string>>& commands,
                     std::chrono::seconds deadline) {
  // The job's rendezvous store, hosted here on a free port as torchrun's agent hosts it.
  c10d::TCPStoreOptions options;
  options.port = 0;
  options.isServer = true;
  options.waitWorkers = false;
  options.timeout = std::chrono::seconds(60);
  auto store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", options);

  char directory_template[] = "/tmp/dualpipe-workers-XXXXXX";
  const std::string directory = mkdtemp(directory_template);
  std::vector<pid_t> pids;
  for (int rank = 0; rank < world_size; ++rank) {
    std::vector<std::string> command = commands[static_cast<std::size_t>(rank)];
    const std::string log = directory + "/rank" + std::to_string(rank) + ".log";
    // Everything the child needs is prepared before fork(): it only opens, dups and execs.
    std::vector<std::string> environment = {"RANK=" + std::to_string(rank),
                                            "LOCAL_RANK=" + std::to_string(rank),
                                            "WORLD_SIZE=" + std::to_string(world_size),
                                            "MASTER_ADDR=127.0.0.1",
                                            "MASTER_PORT=" + std::to_string(store->getPort()),
                                            "TORCHELASTIC_USE_AGENT_STORE=True",
                                            "TORCHELASTIC_RESTART_COUNT=0",
                                            "GLOO_SOCKET_IFNAME=lo",
                                            "OMP_NUM_THREADS=1"};
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string variable = *entry;
      const std::string name = variable.substr(0, variable.find('=') + 1);
      bool overridden = false;
      for (std::size_t i = 0; i < 9; ++i)
        overridden = overridden || environment[i].rfind(name, 0) == 0;
      if (!overridden) environment.push_back(variable);
    }
    std::vector<char*> argv;
    for (std::string& part : command) argv.push_back(part.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& variable : environment) envp.push_back(variable.data());
    envp.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    pids.push_back(pid);
  }

  JobOutcome outcome;
  outcome.workers.resize(static_cast<std::size_t>(world_size));
  const auto stop_at = std::chrono::steady_clock::now() + deadline;
  std::size_t running = pids.size();
  while (running > 0) {
    for (std::size_t r = 0; r < pids.size(); ++r) {
      if (pids[r] == 0) continue;
      int status = 0;
      if (waitpid(pids[r], &status, WNOHANG) == pids[r]) {
        outcome.workers[r].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        pids[r] = 0;
        --running;
      }
    }
    if (running > 0 && std::chrono::steady_clock::now() > stop_at) {
      outcome.timed_out = true;
      for (pid_t& pid : pids) {
        if (pid == 0) continue;
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        pid = 0;
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (int rank = 0; rank < world_size; ++rank) {
    const std::string log = directory + "/rank" + std::to_string(rank) + ".log";
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    outcome.workers[static_cast<std::size_t>(rank)].output = text.str();
    std::remove(log.c_str());
  }
  rmdir(directory.c_str());
  return outcome;
}

}  // namespace

JobOutcome run_job(int world_size, const std::vector<std::string>& job_command,
                   std::chrono::seconds deadline) {
  return run_ranks(world_size, std::vector<std::vector<std::string>>(world_size, job_command),
                   deadline);
}

JobOutcome run_job_with(int world_size, const std::vector<std::string>& command, int rank,
                        const std::vector<std::string>& extra, std::chrono::seconds deadline) {
  std::vector<std::vector<std::string>> commands(world_size, command);
  commands.at(static_cast<std::size_t>(rank))
      .insert(commands[rank].end(), extra.begin(), extra.end());
  return run_ranks(world_size, commands, deadline);
}

SilentListener::SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  ::bind(fd_, reinterpret_cast<sockaddr*>(&address), size);
  ::listen(fd_, 16);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
  port_ = ntohs(address.sin_port);
}

SilentListener::~SilentListener() { ::close(fd_); }

JobOutcome run_workers(int world_size, const std::vector<std::string>& args,
                       std::chrono::seconds deadline) {
  std::vector<std::string> command{DUALPIPE_TEST_WORKER};
  command.insert(command.end(), args.begin(), args.end());
  return run_job(world_size, command, deadline);
}

}  // namespace dualpipe::runtime::testing
