#include "dualpipe/schedule/schedule_io.h"

#include <gtest/gtest.h>

#include <string>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"
#include "schedule_test_support.h"

namespace dualpipe::schedule {
namespace {

using testing::expect_same_schedule;

std::string csv_error(const std::string& text, int num_directions = 1) {
  return testing::invalid_argument_message([&] { read_schedule_csv(text, num_directions); });
}

TEST(WriteScheduleJson, WritesHeaderPlacementAndOneLinePerRank) {
  Schedule schedule = generate_1f1b(2, 1);
  schedule.name = "1f1b \"small\"";
  EXPECT_EQ(write_schedule_json(schedule),
            "{\"schedule\":\"1f1b \\\"small\\\"\",\"ranks\":2,\"microbatches\":1,\"stages\":2,"
            "\"directions\":1,\"placement\":[[0,1]],\"programs\":[\n"
            "[{\"op\":\"F\",\"stage\":0,\"microbatch\":0,\"direction\":0},"
            "{\"op\":\"B\",\"stage\":0,\"microbatch\":0,\"direction\":0}],\n"
            "[{\"op\":\"F\",\"stage\":1,\"microbatch\":0,\"direction\":0},"
            "{\"op\":\"B\",\"stage\":1,\"microbatch\":0,\"direction\":0}]\n"
            "]}\n");
}

TEST(WriteScheduleJson, WritesOverlappedPairsAndMessages) {
  Schedule schedule = generate_dualpipe(2, 4);
  schedule.programs = {
      {Action::overlapped({0, 1, 0}, {1, 0, 1}), Action::communication(Op::kSendB, {1, 0, 1}, 1)},
      {}};
  const std::string json = write_schedule_json(schedule);
  EXPECT_NE(json.find("{\"op\":\"FB\",\"forward\":{\"stage\":0,\"microbatch\":1,\"direction\":0},"
                      "\"backward\":{\"stage\":1,\"microbatch\":0,\"direction\":1}}"),
            std::string::npos);
  EXPECT_NE(
      json.find("{\"op\":\"SEND_B\",\"stage\":1,\"microbatch\":0,\"direction\":1,\"peer\":1}"),
      std::string::npos);
  EXPECT_NE(json.find("\"placement\":[[0,1],[1,0]]"), std::string::npos);
}

TEST(WriteScheduleCsv, UsesTorchPipeliningActionNotation) {
  EXPECT_EQ(write_schedule_csv(generate_zb1p(2, 2)),
            "0F0,0F1,0I0,0W0,0I1,0W1\n"
            "1F0,1I0,1F1,1I1,1W0,1W1\n");
  EXPECT_EQ(write_schedule_csv(with_communication(generate_gpipe(2, 1))),
            "0F0,0SEND_F0,0RECV_B0,0B0\n"
            "1RECV_F0,1F0,1B0,1SEND_B0\n");
}

TEST(WriteScheduleCsv, OffsetsDirectionOneAndWritesPairsAsOverlapFB) {
  const std::string csv = write_schedule_csv(generate_dualpipe(2, 4));
  // Rank 0 of DualPipe 2x4: F0.0 F1.0 F0.1 B1.0 FB1.1:0.0 B1.1 I0.1 W0.1; direction 1 is 2..3.
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "0F0,3F0,0F1,3B0,(3F1;0B0)OVERLAP_F_B,3B1,0I1,0W1");
}

TEST(ReadScheduleCsv, RoundTripsEveryGeneratorWithAndWithoutCommunication) {
  for (const Schedule& schedule : testing::generated_schedules()) {
    SCOPED_TRACE(schedule.name);
    expect_same_schedule(read_schedule_csv(write_schedule_csv(schedule), schedule.num_directions()),
                         schedule);
  }
}

TEST(ReadScheduleCsv, AcceptsTorchStyleFilesWithIdleSlotsSpacesAndFsdpOps) {
  const Schedule schedule =
      read_schedule_csv("0UNSHARD,0F0, 0F1 ,,0B0,0B1,0REDUCE_GRAD\r\n,1F0,1B0,1F1,1B1\r\n\r\n");
  expect_same_schedule(schedule, generate_1f1b(2, 2));
  EXPECT_EQ(schedule.name, "");
}

TEST(ReadScheduleCsv, NamesLineAndFieldOfAMalformedAction) {
  EXPECT_EQ(csv_error("0F0,0B0\n1F0,1X0\n"),
            "line 2, field 2: expected an action like 0F1, 2I3 or (0F1;1B0)OVERLAP_F_B, got "
            "'1X0'");
  EXPECT_EQ(csv_error("0F\n"),
            "line 1, field 1: expected an action like 0F1, 2I3 or (0F1;1B0)OVERLAP_F_B, got "
            "'0F'");
  EXPECT_EQ(csv_error("(0F0;1F0)OVERLAP_F_B\n"),
            "line 1, field 1: expected an overlapped pair like (0F1;1B0)OVERLAP_F_B, got "
            "'(0F0;1F0)OVERLAP_F_B'");
  EXPECT_EQ(csv_error("(0F0;1B0\n"),
            "line 1, field 1: expected an action like 0F1, 2I3 or (0F1;1B0)OVERLAP_F_B, got "
            "'(0F0;1B0'");
  EXPECT_EQ(csv_error("0F99999999999\n"),
            "line 1, field 1: expected an action like 0F1, 2I3 or (0F1;1B0)OVERLAP_F_B, got "
            "'0F99999999999'");
}

TEST(ReadScheduleCsv, RejectsAStageOnTwoRanksAndMissingStages) {
  EXPECT_EQ(csv_error("0F0,1F0\n1F0\n"),
            "line 2, field 1: stage id 1 already appears on line 1; a stage runs on one rank");
  EXPECT_EQ(csv_error("0F0\n2F0\n"), "stage id 1 appears on no line");
  EXPECT_EQ(csv_error("\n\n"), "line 1, field 1: expected at least one action");
  EXPECT_EQ(csv_error("0F0,1F0,2F0\n", 2), "stage ids 0..2 do not split into 2 directions");
  EXPECT_EQ(csv_error("0F0\n", 3), "CSV schedules have 1 or 2 directions, not 3");
}

TEST(ReadScheduleCsv, RejectsIdsThatWouldNeedHugeTables) {
  EXPECT_EQ(csv_error("70000F0\n"), "line 1, field 1: stage id 70000 is too large (at most 65535)");
  EXPECT_EQ(csv_error("0F2000000\n"),
            "line 1, field 1: micro-batch 2000000 is too large (at most 1048575)");
  EXPECT_EQ(csv_error("60000F1000000\n"),
            "schedule too large: 60001 stage ids x 1000001 micro-batches");
}

}  // namespace
}  // namespace dualpipe::schedule
