#include "dualpipe/trace/schedule_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../schedule/schedule_test_support.h"
#include "dualpipe/schedule/schedule_io.h"

namespace dualpipe::trace {
namespace {

using schedule::Schedule;

std::string error_of(const std::string& json) {
  return schedule::testing::invalid_argument_message([&] { read_schedule_json(json); });
}

// A one-rank, one-stage schedule with `programs` spliced in.
std::string tiny(const std::string& programs) {
  return R"({"schedule":"t","ranks":1,"microbatches":1,"stages":1,"programs":)" + programs + "}";
}

TEST(ReadScheduleJson, RoundTripsEveryGeneratorWithAndWithoutCommunication) {
  for (const Schedule& schedule : schedule::testing::generated_schedules()) {
    SCOPED_TRACE(schedule.name);
    const Schedule back = read_schedule_json(schedule::write_schedule_json(schedule));
    schedule::testing::expect_same_schedule(back, schedule);
    EXPECT_EQ(back.name, schedule.name);
  }
}

TEST(ReadScheduleJson, InfersPlacementAndDirectionsWhenTheFileOmitsThem) {
  const std::string json = R"({"schedule":"x","ranks":2,"microbatches":2,"stages":2,
    "directions":2, "programs":[
      [{"op":"F","stage":0,"microbatch":0,"direction":0},{"op":"F","stage":1,"microbatch":0,"direction":1}],
      [{"op":"FB","forward":{"stage":0,"microbatch":0,"direction":1},
                  "backward":{"stage":1,"microbatch":0,"direction":0}}]]})";
  const Schedule schedule = read_schedule_json(json);
  EXPECT_EQ(schedule.stage_rank, (std::vector<std::vector<int>>{{0, 1}, {1, 0}}));
  EXPECT_EQ(schedule.programs[1][0], schedule::Action::overlapped({0, 0, 1}, {1, 0, 0}));
}

TEST(ReadScheduleJson, IgnoresUnknownKeysAndKeyOrder) {
  const Schedule schedule = read_schedule_json(
      R"({"programs":[[{"microbatch":0,"stage":0,"op":"F","note":1},{"op":"B","stage":0,"microbatch":0}]],
          "extra":{"a":[1,2]},"stages":1,"microbatches":1,"ranks":1})");
  EXPECT_EQ(schedule.programs[0].size(), 2u);
  EXPECT_EQ(schedule.name, "");
}

TEST(ReadScheduleJson, NamesWhereAnActionIsMalformed) {
  EXPECT_EQ(error_of(tiny(R"([[{"stage":0,"microbatch":0}]])")), "programs[0][0]: expected \"op\"");
  EXPECT_EQ(error_of(tiny(R"([[{"op":"X","stage":0,"microbatch":0}]])")),
            "programs[0][0].op: unknown action op 'X' (expected F, B, I, W, FB, SEND_F, RECV_F, "
            "SEND_B or RECV_B)");
  EXPECT_EQ(error_of(tiny(R"([[{"op":"F","stage":-1,"microbatch":0}]])")),
            "programs[0][0].stage: expected an integer in 0..65536, got -1");
  EXPECT_EQ(error_of(tiny(R"([[{"op":"F","stage":"0","microbatch":0}]])")),
            "programs[0][0].stage: expected an integer");
  EXPECT_EQ(error_of(tiny(R"([[{"op":"FB","forward":{"stage":0,"microbatch":0}}]])")),
            "programs[0][0]: expected \"backward\" in an FB action");
  EXPECT_EQ(error_of(tiny(R"([[{"op":"SEND_F","stage":0,"microbatch":0}]])")),
            "programs[0][0]: expected \"peer\" in a communication action");
  EXPECT_EQ(error_of(tiny(R"([[{"op":"F","stage":1,"microbatch":0}]])")),
            "programs[0][0]: stage 1, micro-batch 0, direction 0 is outside the header (1 stages, "
            "1 micro-batches per direction, 1 directions)");
}

TEST(ReadScheduleJson, RejectsMissingOrInconsistentHeaderFields) {
  EXPECT_EQ(error_of(R"({"ranks":1,"stages":1,"programs":[[]]})"),
            "document: expected \"microbatches\"");
  EXPECT_EQ(error_of(R"({"ranks":2,"microbatches":1,"stages":1,"programs":[[]]})"),
            "programs: expected 2 programs (one per rank), got 1");
  EXPECT_EQ(error_of(R"({"ranks":1,"microbatches":3,"stages":1,"directions":2,"programs":[[]]})"),
            "microbatches: 3 do not split evenly over 2 directions");
  EXPECT_EQ(error_of(R"({"ranks":1,"microbatches":2,"stages":1,"placement":[[0]],"directions":2,
                         "programs":[[]]})"),
            "directions: says 2 but \"placement\" lists 1");
  EXPECT_EQ(
      error_of(R"({"ranks":1,"microbatches":1,"stages":2,"placement":[[0]],"programs":[[]]})"),
      "placement[0]: expected 2 ranks (one per stage), got 1");
  EXPECT_EQ(error_of(R"({"ranks":1,"microbatches":1,"stages":2,"programs":[[]]})"),
            "programs: stage 0 of direction 0 appears in no program (add \"placement\")");
  EXPECT_EQ(error_of(R"({"ranks":0,"microbatches":1,"stages":1,"programs":[]})"),
            "ranks: expected at least 1 rank");
}

TEST(ReadScheduleJson, RejectsAStageSeenOnTwoRanksWithoutPlacement) {
  EXPECT_EQ(error_of(R"({"ranks":2,"microbatches":1,"stages":1,"programs":[
                [{"op":"F","stage":0,"microbatch":0}],[{"op":"B","stage":0,"microbatch":0}]]})"),
            "programs[1][0]: stage 0 of direction 0 already runs on rank 0 (add \"placement\" to "
            "say where stages run)");
}

TEST(ReadScheduleJson, RejectsBrokenJson) {
  EXPECT_NE(error_of("").find("document: expected"), std::string::npos);
  EXPECT_NE(error_of("[1,2]").find("document: expected a JSON object"), std::string::npos);
  EXPECT_NE(error_of(tiny("[[{\"op\":\"F\",\"stage\":0,")).find("programs[0][0]"),
            std::string::npos);
  EXPECT_EQ(error_of(tiny("[[]]") + " {}"),
            "document: unexpected content after the JSON object at byte 71");
  EXPECT_EQ(error_of(R"({"ranks":1e400,"microbatches":1,"stages":1,"programs":[[]]})"),
            "ranks: expected an integer");
}

}  // namespace
}  // namespace dualpipe::trace
