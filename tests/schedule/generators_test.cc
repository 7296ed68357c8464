#include "dualpipe/schedule/generators.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/validator.h"

namespace dualpipe::schedule {
namespace {

TEST(ScheduleNames, ListsEveryGeneratorOnce) {
  EXPECT_EQ(schedule_names(), (std::vector<std::string>{"dualpipe", "dualpipev", "1f1b", "zb1p",
                                                        "interleaved-1f1b", "gpipe"}));
}

TEST(GenerateSchedule, DispatchesEveryNameToItsGenerator) {
  for (const std::string& name : schedule_names()) {
    const Schedule schedule = generate_schedule(name, 4, 16);
    EXPECT_EQ(schedule.name, name);
    EXPECT_EQ(schedule.num_ranks, 4);
    EXPECT_EQ(schedule.num_microbatches, 16);
  }
  EXPECT_EQ(generate_schedule("interleaved-1f1b", 4, 8, 3).num_stages, 12);
  EXPECT_EQ(generate_schedule("1f1b", 4, 8, 3).num_stages, 4);  // virtual stages unused
}

TEST(GenerateSchedule, RejectsAnUnknownNameListingTheKnownOnes) {
  try {
    generate_schedule("pipedream", 4, 8);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "unknown schedule 'pipedream' (expected one of dualpipe, dualpipev, 1f1b, zb1p, "
                 "interleaved-1f1b, gpipe)");
  }
}

TEST(GenerateSchedule, ErrorsAreOneLineAndNameTheSchedule) {
  try {
    generate_schedule("dualpipe", 5, 20);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "dualpipe: needs an even number of ranks, got 5");
  }
}

TEST(GenerateSchedule, EveryScheduleStaysValidWithDerivedCommunication) {
  for (const std::string& name : schedule_names()) {
    for (int ranks : {2, 4, 6}) {
      const Schedule schedule = with_communication(generate_schedule(name, ranks, 4 * ranks));
      for (P2PMode mode : {P2PMode::kBlocking, P2PMode::kAsynchronous}) {
        const std::vector<Violation> violations = validate(schedule, mode);
        EXPECT_TRUE(violations.empty())
            << name << " " << ranks << ": " << to_string(violations.front());
      }
    }
  }
}

}  // namespace
}  // namespace dualpipe::schedule
