// DualPipe and DualPipeV against the step orders recorded from deepseek-ai/DualPipe's own step()
// (tests/data/schedule/README.md says how they were recorded).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dualpipe/schedule/generators.h"
#include "dualpipe/schedule/validator.h"

namespace dualpipe::schedule {
namespace {

// One recorded (ranks, micro-batches) pair: per rank, the reference's step tokens.
struct ReferenceCase {
  int ranks = 0;
  int microbatches = 0;
  std::vector<std::vector<std::string>> steps;
};

std::vector<ReferenceCase> load_reference(const std::string& file_name) {
  std::ifstream in(std::string(DUALPIPE_SOURCE_DIR) + "/tests/data/schedule/" + file_name);
  if (!in) throw std::runtime_error("cannot open " + file_name);
  std::vector<ReferenceCase> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) == 0) {
      ReferenceCase c;
      std::sscanf(line.c_str(), "# %*s P=%d N=%d", &c.ranks, &c.microbatches);
      cases.push_back(c);
      continue;
    }
    std::istringstream tokens(line.substr(line.find(':') + 1));
    std::vector<std::string>& steps = cases.back().steps.emplace_back();
    for (std::string token; tokens >> token;) steps.push_back(token);
  }
  return cases;
}

// The reference's token for a chunk: "<a>.<m>", where a is the direction (DualPipe) or which of
// the rank's two stages (DualPipeV: 0 = stage r, 1 = stage 2P-1-r).
std::string chunk_token(const Schedule& schedule, int rank, const Chunk& chunk) {
  const bool is_v = schedule.num_directions() == 1;
  const int slot = is_v ? (chunk.stage == rank ? 0 : 1) : chunk.direction;
  return std::to_string(slot) + "." + std::to_string(chunk.microbatch);
}

std::string step_token(const Schedule& schedule, int rank, const Action& action) {
  if (action.op == Op::kFB) {
    return "FB" + chunk_token(schedule, rank, action.chunk) + ":" +
           chunk_token(schedule, rank, action.backward);
  }
  return op_name(action.op) + chunk_token(schedule, rank, action.chunk);
}

void expect_matches_reference(const Schedule& schedule, const ReferenceCase& expected) {
  ASSERT_EQ(schedule.programs.size(), expected.steps.size());
  for (int rank = 0; rank < schedule.num_ranks; ++rank) {
    std::vector<std::string> actual;
    for (const Action& action : schedule.programs[rank]) {
      actual.push_back(step_token(schedule, rank, action));
    }
    EXPECT_EQ(actual, expected.steps[rank]) << "rank " << rank;
  }
}

TEST(DualPipeGenerator, MatchesTheReferenceStepOrderForEveryRecordedSize) {
  const std::vector<ReferenceCase> cases = load_reference("dualpipe_reference.txt");
  ASSERT_GE(cases.size(), 20u);
  for (const ReferenceCase& expected : cases) {
    SCOPED_TRACE("P=" + std::to_string(expected.ranks) +
                 " N=" + std::to_string(expected.microbatches));
    const Schedule schedule = generate_dualpipe(expected.ranks, expected.microbatches);
    expect_matches_reference(schedule, expected);
    // The token drops the stage; the placement is what pins it.
    for (int rank = 0; rank < schedule.num_ranks; ++rank) {
      for (const Action& action : schedule.programs[rank]) {
        EXPECT_EQ(schedule.rank_of(action.chunk), rank);
      }
    }
  }
}

TEST(DualPipeVGenerator, MatchesTheReferenceStepOrderForEveryRecordedSize) {
  const std::vector<ReferenceCase> cases = load_reference("dualpipev_reference.txt");
  ASSERT_GE(cases.size(), 30u);
  for (const ReferenceCase& expected : cases) {
    SCOPED_TRACE("P=" + std::to_string(expected.ranks) +
                 " N=" + std::to_string(expected.microbatches));
    expect_matches_reference(generate_dualpipev(expected.ranks, expected.microbatches), expected);
  }
}

TEST(DualPipeVGenerator, RunsOnEachRankTheFirstHalfOfDualPipeWithTwiceTheRanks) {
  for (int ranks = 1; ranks <= 6; ++ranks) {
    for (int microbatches : {2 * ranks, 2 * ranks + 3, 5 * ranks}) {
      const Schedule v = generate_dualpipev(ranks, microbatches);
      const Schedule dual = generate_dualpipe(2 * ranks, 2 * microbatches);
      for (int rank = 0; rank < ranks; ++rank) {
        ASSERT_EQ(v.programs[rank].size(), dual.programs[rank].size());
        for (std::size_t i = 0; i < v.programs[rank].size(); ++i) {
          EXPECT_EQ(step_token(v, rank, v.programs[rank][i]),
                    step_token(dual, rank, dual.programs[rank][i]));
        }
      }
    }
  }
}

TEST(DualPipeGenerator, PlacesDirectionOneMirrored) {
  const Schedule schedule = generate_dualpipe(4, 8);
  EXPECT_EQ(schedule.num_stages, 4);
  EXPECT_EQ(schedule.num_microbatches, 8);
  EXPECT_EQ(schedule.microbatches_per_direction(), 4);
  EXPECT_EQ(schedule.stage_rank, (std::vector<std::vector<int>>{{0, 1, 2, 3}, {3, 2, 1, 0}}));
}

TEST(DualPipeVGenerator, FoldsTwiceAsManyStagesIntoAV) {
  const Schedule schedule = generate_dualpipev(3, 6);
  EXPECT_EQ(schedule.num_stages, 6);
  EXPECT_EQ(schedule.stage_rank, (std::vector<std::vector<int>>{{0, 1, 2, 2, 1, 0}}));
}

TEST(DualPipeGenerator, MiddleRanksDoNotOverlapTheirFirstSteadyPair) {
  const Schedule schedule = generate_dualpipe(8, 32);
  for (int rank = 0; rank < 8; ++rank) {
    const std::vector<Action>& program = schedule.programs[rank];
    int first_pair = 0;
    while (program[first_pair].op != Op::kFB) ++first_pair;
    const bool middle = rank == 3 || rank == 4;
    // Middle ranks run F then B where the others start with an overlapped pair.
    EXPECT_EQ(program[first_pair - 1].op == Op::kB && program[first_pair - 2].op == Op::kF, middle)
        << "rank " << rank;
  }
}

TEST(DualPipeGenerator, ProducesValidSchedulesUnderBothP2PModes) {
  for (int ranks : {2, 4, 6, 8, 10}) {
    for (int microbatches : {2 * ranks, 2 * ranks + 2, 6 * ranks}) {
      const Schedule schedule = generate_dualpipe(ranks, microbatches);
      for (P2PMode mode : {P2PMode::kBlocking, P2PMode::kAsynchronous}) {
        const std::vector<Violation> violations = validate(schedule, mode);
        EXPECT_TRUE(violations.empty())
            << ranks << "x" << microbatches << ": " << to_string(violations.front());
      }
    }
  }
}

TEST(DualPipeVGenerator, ProducesValidSchedules) {
  for (int ranks = 1; ranks <= 9; ++ranks) {
    for (int microbatches : {2 * ranks, 2 * ranks + 1, 7 * ranks}) {
      const std::vector<Violation> violations = validate(generate_dualpipev(ranks, microbatches));
      EXPECT_TRUE(violations.empty())
          << ranks << "x" << microbatches << ": " << to_string(violations.front());
    }
  }
}

TEST(DualPipeGenerator, RejectsOddRanksOddMicrobatchesAndTooFewMicrobatches) {
  EXPECT_THROW(generate_dualpipe(3, 12), std::invalid_argument);
  EXPECT_THROW(generate_dualpipe(4, 9), std::invalid_argument);
  EXPECT_THROW(generate_dualpipe(4, 6), std::invalid_argument);
  EXPECT_THROW(generate_dualpipe(0, 6), std::invalid_argument);
  EXPECT_THROW(generate_dualpipe(4, -8), std::invalid_argument);
  try {
    generate_dualpipe(4, 6);
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "dualpipe: needs an even number of micro-batches >= 2 x ranks (8), got 6");
  }
}

TEST(DualPipeVGenerator, RejectsTooFewMicrobatchesButAcceptsOddCounts) {
  EXPECT_THROW(generate_dualpipev(4, 7), std::invalid_argument);
  EXPECT_THROW(generate_dualpipev(0, 7), std::invalid_argument);
  EXPECT_NO_THROW(generate_dualpipev(3, 7));
}

}  // namespace
}  // namespace dualpipe::schedule
