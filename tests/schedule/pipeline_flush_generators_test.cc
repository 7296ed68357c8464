// GPipe, 1F1B, ZB1P and interleaved 1F1B: exact orders for small sizes, worked out by hand from
// the schedules' definitions (and, for interleaved 1F1B, from Megatron-LM's warm-up formula).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "dualpipe/schedule/generators.h"
#include "dualpipe/schedule/validator.h"

namespace dualpipe::schedule {
namespace {

// "<stage><op><micro-batch>" per action, space-separated (torch.distributed.pipelining style).
std::string compact(const std::vector<Action>& program) {
  std::string text;
  for (const Action& action : program) {
    if (!text.empty()) text += ' ';
    text += std::to_string(action.chunk.stage) + op_name(action.op) +
            std::to_string(action.chunk.microbatch);
  }
  return text;
}

std::vector<std::string> compact(const Schedule& schedule) {
  std::vector<std::string> programs;
  for (const std::vector<Action>& program : schedule.programs) programs.push_back(compact(program));
  return programs;
}

TEST(GPipeGenerator, RunsAllForwardsThenAllBackwardsInForwardOrder) {
  EXPECT_EQ(compact(generate_gpipe(2, 3)),
            (std::vector<std::string>{"0F0 0F1 0F2 0B0 0B1 0B2", "1F0 1F1 1F2 1B0 1B1 1B2"}));
}

TEST(OneFOneBGenerator, WarmsUpWithOneForwardLessPerRankThenAlternates) {
  EXPECT_EQ(compact(generate_1f1b(3, 4)), (std::vector<std::string>{
                                              "0F0 0F1 0F2 0B0 0F3 0B1 0B2 0B3",
                                              "1F0 1F1 1B0 1F2 1B1 1F3 1B2 1B3",
                                              "2F0 2B0 2F1 2B1 2F2 2B2 2F3 2B3",
                                          }));
}

TEST(OneFOneBGenerator, WithFewerMicrobatchesThanRanksDoesAllForwardsFirst) {
  EXPECT_EQ(compact(generate_1f1b(4, 2))[0], "0F0 0F1 0B0 0B1");
}

TEST(ZeroBubbleH1Generator, DefersRankManyWeightStepsToTheCoolDown) {
  EXPECT_EQ(compact(generate_zb1p(3, 4)), (std::vector<std::string>{
                                              "0F0 0F1 0F2 0I0 0W0 0F3 0I1 0W1 0I2 0W2 0I3 0W3",
                                              "1F0 1F1 1I0 1F2 1I1 1W0 1F3 1I2 1W1 1I3 1W2 1W3",
                                              "2F0 2I0 2F1 2I1 2F2 2I2 2W0 2F3 2I3 2W1 2W2 2W3",
                                          }));
}

TEST(InterleavedOneFOneBGenerator, WalksLocalStagesInRoundsOfRanksMicrobatches) {
  const Schedule schedule = generate_interleaved_1f1b(2, 4, 2);
  EXPECT_EQ(schedule.num_stages, 4);
  EXPECT_EQ(schedule.stage_rank, (std::vector<std::vector<int>>{{0, 1, 0, 1}}));
  EXPECT_EQ(compact(schedule),
            (std::vector<std::string>{
                "0F0 0F1 2F0 2F1 0F2 2B0 0F3 2B1 2F2 0B0 2F3 0B1 2B2 2B3 0B2 0B3",
                "1F0 1F1 3F0 3B0 3F1 3B1 1F2 1B0 1F3 1B1 3F2 3B2 3F3 3B3 1B2 1B3",
            }));
}

TEST(InterleavedOneFOneBGenerator, RejectsOneVirtualStageAndUnevenMicrobatches) {
  EXPECT_THROW(generate_interleaved_1f1b(4, 8, 1), std::invalid_argument);
  EXPECT_THROW(generate_interleaved_1f1b(4, 6, 2), std::invalid_argument);
  EXPECT_NO_THROW(generate_interleaved_1f1b(4, 12, 3));
}

TEST(PipelineFlushGenerators, RejectNonPositiveSizesAndHugeSchedules) {
  EXPECT_THROW(generate_1f1b(0, 4), std::invalid_argument);
  EXPECT_THROW(generate_zb1p(4, 0), std::invalid_argument);
  EXPECT_THROW(generate_gpipe(-1, 4), std::invalid_argument);
  EXPECT_THROW(generate_gpipe(1 << 16, 1 << 16), std::invalid_argument);
}

TEST(PipelineFlushGenerators, ProduceValidSchedulesForManySizes) {
  for (int ranks = 1; ranks <= 8; ++ranks) {
    for (int microbatches : {1, ranks, 2 * ranks + 1, 4 * ranks}) {
      for (const Schedule& schedule :
           {generate_gpipe(ranks, microbatches), generate_1f1b(ranks, microbatches),
            generate_zb1p(ranks, microbatches)}) {
        const std::vector<Violation> violations = validate(schedule);
        EXPECT_TRUE(violations.empty()) << schedule.name << " " << ranks << "x" << microbatches
                                        << ": " << to_string(violations.front());
      }
    }
    for (int v : {2, 3, 4}) {
      for (int rounds : {1, 2, 3}) {
        const std::vector<Violation> violations =
            validate(generate_interleaved_1f1b(ranks, rounds * ranks, v));
        EXPECT_TRUE(violations.empty()) << "interleaved " << ranks << "x" << rounds * ranks << " v"
                                        << v << ": " << to_string(violations.front());
      }
    }
  }
}

}  // namespace
}  // namespace dualpipe::schedule
