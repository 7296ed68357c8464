#include "dualpipe/trace/timeline_loading.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dualpipe/trace/trace_error.h"
#include "synthetic_trace.h"
#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

// Writes rank `rank`'s synthetic trace to a file of this test; returns its path.
std::string written(int rank) {
  testing::SyntheticTrace trace(rank, 4);
  trace.compute(rank * 10.0, 100, 0);
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("loading_" + std::to_string(::getpid()) + "_" + std::to_string(rank) + ".json"))
          .string();
  std::ofstream(path) << trace.json();
  return path;
}

TEST(LoadTimelines, ReadsFilesSideBySideIntoRankOrder) {
  const std::vector<std::string> paths = {written(2), written(0), written(3), written(1)};
  for (unsigned threads : {1u, 4u}) {
    const std::vector<RankTimeline> timelines = load_timelines(paths, KernelClassifier(), threads);
    ASSERT_EQ(timelines.size(), 4u);
    for (int rank = 0; rank < 4; ++rank) {
      EXPECT_EQ(timelines[static_cast<std::size_t>(rank)].rank, rank);
      EXPECT_EQ(timelines[static_cast<std::size_t>(rank)].gpu_start(), testing::us(rank * 10.0));
    }
  }
  for (const std::string& path : paths) std::filesystem::remove(path);
}

TEST(LoadTimelines, ReportsTheFirstBadFileInTheOrderGiven) {
  const std::string good = written(0);
  try {
    load_timelines({good, testing::data_path("missing.json"), "/"}, KernelClassifier(), 3);
    FAIL() << "accepted";
  } catch (const TraceFormatError& error) {
    EXPECT_NE(std::string(error.what()).find("missing.json"), std::string::npos) << error.what();
  }
  std::filesystem::remove(good);
}

TEST(LoadTimelines, RefusesTwoFilesOfOneRank) {
  const std::string path = written(1);
  EXPECT_THROW(load_timelines({path, path}, KernelClassifier()), std::invalid_argument);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace dualpipe::trace
