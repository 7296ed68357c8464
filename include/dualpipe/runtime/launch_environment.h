// LaunchEnvironment: where this process sits in a torchrun-style launch.
#pragma once

#include <string>
#include <vector>

namespace dualpipe::runtime {

// The variables torchrun (and compatible launchers) set for each process.
struct LaunchEnvironment {
  int rank = 0;                           // RANK: global rank
  int world_size = 1;                     // WORLD_SIZE
  int local_rank = 0;                     // LOCAL_RANK: index on this node (picks the GPU)
  std::string master_addr = "127.0.0.1";  // MASTER_ADDR
  int master_port = 29500;                // MASTER_PORT
  // TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent already hosts the rendezvous store at
  // MASTER_ADDR:MASTER_PORT (workers connect as clients, under "/worker/attempt_<restart_count>").
  bool use_agent_store = false;
  int restart_count = 0;  // TORCHELASTIC_RESTART_COUNT

  // The global ranks of every process of the launch: 0 .. world_size - 1.
  std::vector<int> all_ranks() const;
  // Where the rendezvous store listens, for messages: "MASTER_ADDR:MASTER_PORT".
  std::string store_address() const;
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE and
// TORCHELASTIC_RESTART_COUNT. Missing variables take the single-process defaults above; malformed
// ones (non-numbers, a rank outside the world, a port above 65535) throw std::invalid_argument
// naming the variable.
LaunchEnvironment read_launch_environment();

}  // namespace dualpipe::runtime
