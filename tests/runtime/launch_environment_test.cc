#include "dualpipe/runtime/launch_environment.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

namespace dualpipe::runtime {
namespace {

class LaunchEnvironmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                             "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"}) {
      unsetenv(name);
    }
  }
};

TEST_F(LaunchEnvironmentTest, DefaultsToASingleProcess) {
  const LaunchEnvironment env = read_launch_environment();
  EXPECT_EQ(env.rank, 0);
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.master_addr, "127.0.0.1");
}

TEST_F(LaunchEnvironmentTest, ReadsTorchrunVariables) {
  setenv("RANK", "3", 1);
  setenv("WORLD_SIZE", "4", 1);
  setenv("LOCAL_RANK", "1", 1);
  setenv("MASTER_ADDR", "node7", 1);
  setenv("MASTER_PORT", "29600", 1);
  const LaunchEnvironment env = read_launch_environment();
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 4);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "node7");
  EXPECT_EQ(env.master_port, 29600);
}

TEST_F(LaunchEnvironmentTest, DetectsTorchrunsAgentStore) {
  EXPECT_FALSE(read_launch_environment().use_agent_store);
  setenv("TORCHELASTIC_USE_AGENT_STORE", "True", 1);
  setenv("TORCHELASTIC_RESTART_COUNT", "2", 1);
  const LaunchEnvironment env = read_launch_environment();
  EXPECT_TRUE(env.use_agent_store);
  EXPECT_EQ(env.restart_count, 2);
}

TEST_F(LaunchEnvironmentTest, RejectsMalformedAndInconsistentValues) {
  setenv("RANK", "two", 1);
  EXPECT_THROW(read_launch_environment(), std::invalid_argument);
  setenv("RANK", "4", 1);
  setenv("WORLD_SIZE", "4", 1);
  EXPECT_THROW(read_launch_environment(), std::invalid_argument);
}

TEST(LaunchEnvironment, ListsTheRanksOfEveryProcess) {
  LaunchEnvironment env;
  env.world_size = 3;
  EXPECT_EQ(env.all_ranks(), (std::vector<int>{0, 1, 2}));
  env.world_size = 1;
  EXPECT_EQ(env.all_ranks(), (std::vector<int>{0}));
}

}  // namespace
}  // namespace dualpipe::runtime
