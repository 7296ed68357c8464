#include "dualpipe/schedule/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "dualpipe/schedule/bubble_formula.h"
#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"

namespace dualpipe::schedule {
namespace {

Action f(int stage, int microbatch = 0) {
  return Action::compute(Op::kF, Chunk{stage, microbatch, 0});
}
Action b(int stage, int microbatch = 0) {
  return Action::compute(Op::kB, Chunk{stage, microbatch, 0});
}
Action message(Op op, int stage, int microbatch, int peer) {
  return Action::communication(op, Chunk{stage, microbatch, 0}, peer);
}

// Stage s on rank s, one direction, `microbatches` micro-batches, the given programs.
Schedule line_schedule(std::vector<std::vector<Action>> programs, int microbatches = 1) {
  Schedule schedule;
  schedule.name = "hand";
  schedule.num_ranks = static_cast<int>(programs.size());
  schedule.num_stages = schedule.num_ranks;
  schedule.num_microbatches = microbatches;
  std::vector<int> placement;
  for (int s = 0; s < schedule.num_stages; ++s) placement.push_back(s);
  schedule.stage_rank = {placement};
  schedule.programs = std::move(programs);
  return schedule;
}

// Two ranks, one micro-batch: F on rank 0, F and B on rank 1, B on rank 0.
Schedule two_rank_schedule() { return line_schedule({{f(0), b(0)}, {f(1), b(1)}}); }

std::string simulation_error(const Schedule& schedule, const CostModel& costs) {
  try {
    simulate(schedule, costs);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

void expect_timing(const ActionTiming& timing, double start, double duration) {
  EXPECT_DOUBLE_EQ(timing.start, start);
  EXPECT_DOUBLE_EQ(timing.duration, duration);
}

TEST(Simulate, GivenDurationsReplaceTheStageCostsOfComputeActions) {
  const Schedule schedule = generate_gpipe(2, 2);
  ActionDurations durations;
  for (const auto& program : schedule.programs) {
    std::vector<double> mine;
    for (std::size_t i = 0; i < program.size(); ++i) mine.push_back(1.0 + static_cast<double>(i));
    durations.push_back(mine);
  }
  const Simulation simulation =
      simulate(schedule, uniform_cost_model(1.0, 2.0, 1.0, 3.0, 0.5), durations);
  for (std::size_t r = 0; r < durations.size(); ++r) {
    for (std::size_t i = 0; i < durations[r].size(); ++i) {
      EXPECT_DOUBLE_EQ(simulation.timed.timing[r][i].duration, durations[r][i]);
    }
  }
  // Rank 1's first forward waits for rank 0's (1 unit) and the transfer (0.5).
  EXPECT_DOUBLE_EQ(simulation.timed.timing[1][0].start, 1.5);
}

TEST(Simulate, RefusesDurationsThatDoNotFitThePrograms) {
  const Schedule schedule = generate_gpipe(2, 2);
  EXPECT_THROW(simulate(schedule, uniform_cost_model(1, 2, 1, 3), ActionDurations{{1.0}}),
               std::invalid_argument);
  ActionDurations negative;
  for (const auto& program : schedule.programs) negative.emplace_back(program.size(), -1.0);
  EXPECT_THROW(simulate(schedule, uniform_cost_model(1, 2, 1, 3), negative), std::invalid_argument);
}

TEST(Simulate, StartsEachActionWhenItsInputArrivesAfterTheTransfer) {
  const Simulation run = simulate(two_rank_schedule(), uniform_cost_model(1, 2, 1, 3, 0.5));
  expect_timing(run.timed.timing[0][0], 0.0, 1.0);  // F s0
  expect_timing(run.timed.timing[1][0], 1.5, 1.0);  // F s1 after 0.5 of transfer
  expect_timing(run.timed.timing[1][1], 2.5, 2.0);  // B s1 right after its own forward
  expect_timing(run.timed.timing[0][1], 5.0, 2.0);  // B s0 after the gradient's transfer
  EXPECT_DOUBLE_EQ(run.summary.step_time, 7.0);
  EXPECT_EQ(run.summary.busy_per_rank, (std::vector<double>{3.0, 3.0}));
  EXPECT_EQ(run.summary.bubble_per_rank, (std::vector<double>{4.0, 4.0}));
  EXPECT_EQ(run.timed.time_unit, "units");
}

TEST(Simulate, ChargesNoTransferBetweenStagesOnTheSameRank) {
  Schedule schedule = line_schedule({{f(0), f(1), b(1), b(0)}});
  schedule.num_stages = 2;
  schedule.stage_rank = {{0, 0}};
  const Simulation run = simulate(schedule, uniform_cost_model(1, 2, 1, 3, 10.0));
  EXPECT_DOUBLE_EQ(run.summary.step_time, 6.0);
  EXPECT_DOUBLE_EQ(run.summary.bubble_per_rank[0], 0.0);
}

TEST(Simulate, StretchesComputeOnASlowRank) {
  CostModel costs = uniform_cost_model(1, 2, 1, 3, 0.5);
  costs.rank_slowdown = {1.0, 2.0};
  const Simulation run = simulate(two_rank_schedule(), costs);
  expect_timing(run.timed.timing[1][0], 1.5, 2.0);
  expect_timing(run.timed.timing[1][1], 3.5, 4.0);
  expect_timing(run.timed.timing[0][1], 8.0, 2.0);
}

TEST(Simulate, AddsTheMessageSizeOverTheBandwidthToEachTransfer) {
  CostModel costs = uniform_cost_model(1, 2, 1, 3, 0.25);
  costs.p2p.bandwidth_bytes_per_unit = 100.0;
  costs.p2p.message_bytes = 25.0;
  const Simulation run = simulate(two_rank_schedule(), costs);
  EXPECT_DOUBLE_EQ(run.timed.timing[1][0].start, 1.5);
}

TEST(Simulate, MakesAReceiveLastUntilItsMessageArrives) {
  const Schedule schedule =
      line_schedule({{f(0), message(Op::kSendF, 0, 0, 1), message(Op::kRecvB, 0, 0, 1), b(0)},
                     {message(Op::kRecvF, 1, 0, 0), f(1), b(1), message(Op::kSendB, 1, 0, 0)}});
  const Simulation run = simulate(schedule, uniform_cost_model(1, 2, 1, 3, 0.5));
  expect_timing(run.timed.timing[0][1], 1.0, 0.0);  // SEND_F takes no time
  expect_timing(run.timed.timing[1][0], 0.0, 1.5);  // RECV_F waits for F s0 and the transfer
  expect_timing(run.timed.timing[1][1], 1.5, 1.0);
  expect_timing(run.timed.timing[0][2], 1.0, 4.0);  // RECV_B until 4.5 + 0.5
  expect_timing(run.timed.timing[0][3], 5.0, 2.0);
  EXPECT_DOUBLE_EQ(run.summary.step_time, 7.0);
  EXPECT_EQ(run.summary.busy_per_rank, (std::vector<double>{3.0, 3.0}));  // messages are not busy
}

TEST(Simulate, SendsAMessageWhenItsSendRunsNotWhenItsProducerEnds) {
  const Schedule schedule = line_schedule(
      {{f(0, 0), f(0, 1), message(Op::kSendF, 0, 0, 1), message(Op::kSendF, 0, 1, 1),
        message(Op::kRecvB, 0, 0, 1), b(0, 0), message(Op::kRecvB, 0, 1, 1), b(0, 1)},
       {message(Op::kRecvF, 1, 0, 0), f(1, 0), b(1, 0), message(Op::kSendB, 1, 0, 0),
        message(Op::kRecvF, 1, 1, 0), f(1, 1), b(1, 1), message(Op::kSendB, 1, 1, 0)}},
      2);
  const Simulation run = simulate(schedule, uniform_cost_model(1, 2, 1, 3, 0.0));
  EXPECT_DOUBLE_EQ(run.timed.timing[1][1].start, 2.0);  // F s1 m0 waits for the SEND at 2
}

TEST(Simulate, ReportsADeadlockInsteadOfWaitingForever) {
  // Rank 0 wants the gradient of s1 before its forward; rank 1 waits for that forward.
  const Schedule schedule = line_schedule({{b(0), f(0)}, {f(1), b(1)}});
  const std::string error = simulation_error(schedule, uniform_cost_model(1, 2, 1, 3));
  EXPECT_NE(error.find("schedule deadlocks"), std::string::npos) << error;
  EXPECT_NE(error.find("rank 0, position 0 (B s0 m0 d0) waits for the backward of s1 m0 d0"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("rank 1, position 0 (F s1 m0 d0) waits for the forward of s0 m0 d0"),
            std::string::npos)
      << error;
}

TEST(Simulate, SaysWhenAwaitedWorkIsInNoProgram) {
  const Schedule schedule = line_schedule({{b(0)}, {f(1), b(1)}});
  const std::string error = simulation_error(schedule, uniform_cost_model(1, 2, 1, 3));
  EXPECT_NE(error.find("waits for the forward of s0 m0 d0, which no rank's program has"),
            std::string::npos)
      << error;
}

TEST(Simulate, ReportsAReceiveWhoseSendIsMissing) {
  const Schedule schedule =
      line_schedule({{f(0), message(Op::kRecvB, 0, 0, 1), b(0)},
                     {message(Op::kRecvF, 1, 0, 0), f(1), b(1), message(Op::kSendB, 1, 0, 0)}});
  const std::string error = simulation_error(schedule, uniform_cost_model(1, 2, 1, 3));
  EXPECT_NE(error.find("SEND of the forward of s0 m0 d0, which no rank's program has"),
            std::string::npos)
      << error;
}

TEST(Simulate, RejectsWorkDoneTwice) {
  const Schedule schedule = line_schedule({{f(0), f(0), b(0)}, {f(1), b(1)}});
  const std::string error = simulation_error(schedule, uniform_cost_model(1, 2, 1, 3));
  EXPECT_NE(error.find("rank 0, position 1 (F s0 m0 d0) repeats the forward of s0 m0 d0"),
            std::string::npos)
      << error;
}

TEST(Simulate, RejectsAnActionOnARankThatDoesNotHoldItsStage) {
  const Schedule schedule = line_schedule({{f(0), b(0)}, {f(0, 0), f(1), b(1)}});
  const std::string error = simulation_error(schedule, uniform_cost_model(1, 2, 1, 3));
  EXPECT_NE(error.find("rank 1, position 0 (F s0 m0 d0) runs stage 0 of direction 0, which is "
                       "placed on rank 0"),
            std::string::npos)
      << error;
}

TEST(Simulate, RejectsAChunkOutsideTheSchedule) {
  const Schedule schedule = line_schedule({{f(0), b(0), f(0, 3)}, {f(1), b(1)}});
  const std::string error = simulation_error(schedule, uniform_cost_model(1, 2, 1, 3));
  EXPECT_NE(error.find("rank 0, position 2"), std::string::npos) << error;
  EXPECT_NE(error.find("outside the schedule"), std::string::npos) << error;
}

TEST(Simulate, RejectsAMalformedHeader) {
  Schedule schedule = two_rank_schedule();
  schedule.stage_rank = {{0, 5}};
  EXPECT_NE(simulation_error(schedule, uniform_cost_model(1, 2, 1, 3)).find("rank 5"),
            std::string::npos);
}

TEST(Simulate, RejectsAHeaderFarLargerThanItsPrograms) {
  Schedule schedule = two_rank_schedule();
  schedule.num_microbatches = 1 << 30;
  EXPECT_NE(simulation_error(schedule, uniform_cost_model(1, 2, 1, 3)).find("for only 4 actions"),
            std::string::npos);
}

TEST(Simulate, RejectsCostsForAnotherNumberOfRanksOrStages) {
  CostModel costs = uniform_cost_model(1, 2, 1, 3);
  costs.rank_slowdown = {1.0, 1.0, 1.0};
  EXPECT_NE(simulation_error(two_rank_schedule(), costs).find("3 ranks"), std::string::npos);
  costs = uniform_cost_model(1, 2, 1, 3);
  costs.stages = {StageCosts{}};
  EXPECT_NE(simulation_error(two_rank_schedule(), costs).find("1 stages"), std::string::npos);
}

TEST(Simulate, Gives1F1BABubbleOfPMinusOneTimesFPlusBOnEveryRank) {
  const double forward = 1.25;
  const double backward = 2.5;
  for (int ranks : {1, 2, 3, 4, 8}) {
    for (int microbatches : {1, ranks, 2 * ranks, 3 * ranks + 1}) {
      const Simulation run = simulate(generate_1f1b(ranks, microbatches),
                                      uniform_cost_model(forward, backward, 1.0, 3.0));
      const double bubble = (ranks - 1) * (forward + backward);
      EXPECT_DOUBLE_EQ(run.summary.step_time, (microbatches + ranks - 1) * (forward + backward))
          << ranks << " ranks, " << microbatches << " micro-batches";
      for (int r = 0; r < ranks; ++r) {
        EXPECT_DOUBLE_EQ(run.summary.bubble_per_rank[r], bubble)
            << "rank " << r << " of " << ranks << ", " << microbatches << " micro-batches";
        EXPECT_DOUBLE_EQ(run.summary.busy_per_rank[r], microbatches * (forward + backward));
      }
    }
  }
}

TEST(Simulate, GivesZB1PThePublishedBubbleOnEveryRank) {
  for (const StageCosts& stage : {StageCosts{1, 2, 1, 3}, StageCosts{1, 2, 0.5, 3},
                                  StageCosts{1.5, 2, 0.5, 3}, StageCosts{1, 2, 0, 3}}) {
    for (int ranks : {2, 4, 8, 16}) {
      CostModel costs;
      costs.default_stage = stage;
      const Simulation run = simulate(generate_zb1p(ranks, 4 * ranks), costs);
      const double published = *published_bubble("zb1p", ranks, stage);
      for (int r = 0; r < ranks; ++r) {
        EXPECT_DOUBLE_EQ(run.summary.bubble_per_rank[r], published)
            << "rank " << r << " of " << ranks << ", W " << stage.weight;
      }
    }
  }
}

// The DualPipe README's formula holds for the busiest-overlapping (middle) ranks when forward,
// input-backward and weight-backward cost the same and max(F, B) <= F&B <= F + B. A rank h away
// from the pipeline's end (half-rank h) runs P/2-2-h fewer overlapped pairs than the middle
// ranks, so it is busier, and idles (P/2-2-h)(F+B-F&B) less.
TEST(Simulate, GivesDualPipeThePublishedBubbleWhenForwardInputAndWeightCostTheSame) {
  for (double overlapped : {2.0, 2.5, 3.0}) {
    const StageCosts stage{1, 2, 1, overlapped};
    CostModel costs;
    costs.default_stage = stage;
    for (int ranks : {2, 4, 6, 8, 16}) {
      for (int microbatches : {2 * ranks, 4 * ranks}) {
        const Simulation run = simulate(generate_dualpipe(ranks, microbatches), costs);
        const double published = *published_bubble("dualpipe", ranks, stage);
        for (int r = 0; r < ranks; ++r) {
          const int half_rank = std::min(r, ranks - 1 - r);
          const int fewer_pairs = std::max(ranks / 2 - 2 - half_rank, 0);
          EXPECT_DOUBLE_EQ(run.summary.bubble_per_rank[r],
                           published - fewer_pairs * (stage.forward + stage.backward - overlapped))
              << "rank " << r << " of " << ranks << ", " << microbatches << " micro-batches, F&B "
              << overlapped;
        }
      }
    }
  }
}

TEST(Simulate, GivesDualPipeVTheBubbleOfDualPipeWithTwiceTheRanks) {
  const CostModel costs = uniform_cost_model(1, 2, 1, 2.5);
  for (int ranks : {1, 2, 4, 8}) {
    const Simulation v_shape = simulate(generate_dualpipev(ranks, 4 * ranks), costs);
    const Simulation doubled = simulate(generate_dualpipe(2 * ranks, 8 * ranks), costs);
    for (int r = 0; r < ranks; ++r) {
      EXPECT_DOUBLE_EQ(v_shape.summary.bubble_per_rank[r], doubled.summary.bubble_per_rank[r])
          << "rank " << r << " of " << ranks;
    }
  }
}

TEST(Simulate, TimesOverlappedPairsWithTheirOwnCost) {
  const Simulation run = simulate(generate_dualpipe(4, 16), uniform_cost_model(1, 2, 1, 2.5));
  int pairs = 0;
  for (std::size_t r = 0; r < run.timed.schedule.programs.size(); ++r) {
    for (std::size_t i = 0; i < run.timed.schedule.programs[r].size(); ++i) {
      if (run.timed.schedule.programs[r][i].op != Op::kFB) continue;
      ++pairs;
      EXPECT_DOUBLE_EQ(run.timed.timing[r][i].duration, 2.5);
    }
  }
  EXPECT_GT(pairs, 0);
}

TEST(Simulate, RunsGeneratedSchedulesWithTheirCommunication) {
  const CostModel costs = uniform_cost_model(1, 2, 1, 2.5, 0.1);
  for (const std::string& name : schedule_names()) {
    const Schedule compute_only = generate_schedule(name, 4, 16);
    const Simulation plain = simulate(compute_only, costs);
    const Simulation with_messages = simulate(with_communication(compute_only), costs);
    // Waiting for a RECV can only delay a rank, and the compute done stays the same.
    EXPECT_GE(with_messages.summary.step_time, plain.summary.step_time - 1e-9) << name;
    EXPECT_EQ(with_messages.summary.busy_per_rank, plain.summary.busy_per_rank) << name;
  }
}

TEST(PeakActivations, EqualRanksFor1F1BOnTheFirstRankAndFewerDownstream) {
  for (int ranks : {2, 4, 8}) {
    const std::vector<int> peaks = peak_activations(generate_1f1b(ranks, 3 * ranks));
    for (int r = 0; r < ranks; ++r) EXPECT_EQ(peaks[r], ranks - r) << "rank " << r;
  }
}

TEST(PeakActivations, EqualRanksPlusOneOnEveryDualPipeRank) {
  for (int ranks : {2, 4, 6, 8, 16}) {
    for (int microbatches : {2 * ranks, 2 * ranks + 2, 4 * ranks}) {
      const std::vector<int> peaks = peak_activations(generate_dualpipe(ranks, microbatches));
      EXPECT_EQ(peaks, std::vector<int>(ranks, ranks + 1))
          << ranks << " ranks, " << microbatches << " micro-batches";
    }
  }
}

TEST(PeakActivations, EqualStagesPlusOneOnEveryDualPipeVRank) {
  for (int ranks : {1, 2, 3, 4, 8}) {
    const std::vector<int> peaks = peak_activations(generate_dualpipev(ranks, 2 * ranks + 2));
    EXPECT_EQ(peaks, std::vector<int>(ranks, 2 * ranks + 1)) << ranks << " ranks";
  }
}

TEST(PeakActivations, CountAnOverlappedPairAtItsHigherLevel) {
  // One F held, then an FB that starts another forward before it finishes the first backward.
  Schedule schedule =
      line_schedule({{f(0, 0), Action::overlapped(Chunk{0, 1, 0}, Chunk{0, 0, 0}), b(0, 1)}}, 2);
  EXPECT_EQ(peak_activations(schedule), std::vector<int>{2});
}

TEST(ParameterCopies, CountTheStagesEachRankHolds) {
  EXPECT_EQ(parameter_copies(generate_1f1b(4, 8)), std::vector<int>(4, 1));
  EXPECT_EQ(parameter_copies(generate_zb1p(4, 8)), std::vector<int>(4, 1));
  EXPECT_EQ(parameter_copies(generate_dualpipe(4, 8)), std::vector<int>(4, 2));
  EXPECT_EQ(parameter_copies(generate_dualpipev(4, 8)), std::vector<int>(4, 2));
  EXPECT_EQ(parameter_copies(generate_interleaved_1f1b(4, 8, 3)), std::vector<int>(4, 3));
}

TEST(Summarize, MeasuresStepTimeFromTheEarliestStartOfAMeasuredRun) {
  TimedSchedule measured;
  measured.schedule = two_rank_schedule();
  measured.time_unit = "ms";
  measured.timing = {{{100.0, 1.0}, {105.0, 2.0}}, {{101.5, 1.0}, {102.5, 2.0}}};
  const ScheduleSummary summary = summarize(measured);
  EXPECT_DOUBLE_EQ(summary.step_time, 7.0);
  EXPECT_EQ(summary.busy_per_rank, (std::vector<double>{3.0, 3.0}));
  EXPECT_EQ(summary.bubble_per_rank, (std::vector<double>{4.0, 4.0}));
  EXPECT_EQ(summary.peak_activations_per_rank, (std::vector<int>{1, 1}));
  EXPECT_EQ(summary.parameter_copies_per_rank, (std::vector<int>{1, 1}));
}

}  // namespace
}  // namespace dualpipe::schedule
