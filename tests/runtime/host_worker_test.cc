#include "dualpipe/runtime/host_worker.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>
#include <thread>

namespace dualpipe::runtime {
namespace {

TEST(HostWorker, RunsTheTaskOnAnotherThreadWhileTheCallerGoesOn) {
  HostWorker worker;
  std::thread::id ran_on;
  int value = 0;
  worker.start([&] {
    ran_on = std::this_thread::get_id();
    value = 42;
  });
  worker.wait();
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_EQ(value, 42);
}

TEST(HostWorker, RunsTasksOneAfterAnother) {
  HostWorker worker;
  int runs = 0;
  for (int i = 0; i < 100; ++i) {
    worker.start([&] { ++runs; });
    worker.wait();
  }
  EXPECT_EQ(runs, 100);
}

TEST(HostWorker, RethrowsWhatTheTaskThrewAndStaysUsable) {
  HostWorker worker;
  worker.start([] { throw std::runtime_error("task refuses"); });
  EXPECT_THROW(
      try { worker.wait(); } catch (const std::runtime_error& error) {
        EXPECT_STREQ(error.what(), "task refuses");
        throw;
      },
      std::runtime_error);
  bool ran = false;
  worker.start([&] { ran = true; });
  worker.wait();
  EXPECT_TRUE(ran);
}

TEST(HostWorker, RefusesASecondTaskBeforeTheFirstWasWaitedFor) {
  HostWorker worker;
  worker.start([] {});
  EXPECT_THROW(worker.start([] {}), std::logic_error);
  worker.wait();
  worker.wait();  // nothing left: returns at once
}

TEST(HostWorker, GivesTheTaskTheCallersGradMode) {
  HostWorker worker;
  bool enabled_there = true;
  {
    torch::NoGradGuard no_grad;
    worker.start([&] { enabled_there = torch::GradMode::is_enabled(); });
    worker.wait();
  }
  EXPECT_FALSE(enabled_there);
  worker.start([&] { enabled_there = torch::GradMode::is_enabled(); });
  worker.wait();
  EXPECT_TRUE(enabled_there);
}

}  // namespace
}  // namespace dualpipe::runtime
