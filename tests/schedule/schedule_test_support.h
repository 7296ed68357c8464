// Test support shared by the schedule-file reader tests (CSV here, JSON in tests/trace): comparing
// schedules, catching a reader's error message, and the schedules every reader must round-trip.
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"
#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule::testing {

// Expects `actual` to have the shape, placement and programs of `expected` (names not compared).
inline void expect_same_schedule(const Schedule& actual, const Schedule& expected) {
  EXPECT_EQ(actual.num_ranks, expected.num_ranks);
  EXPECT_EQ(actual.num_stages, expected.num_stages);
  EXPECT_EQ(actual.num_microbatches, expected.num_microbatches);
  EXPECT_EQ(actual.stage_rank, expected.stage_rank);
  EXPECT_EQ(actual.programs, expected.programs);
}

// The message of the std::invalid_argument that `read()` throws, or "no error".
template <typename Read>
std::string invalid_argument_message(Read read) {
  try {
    read();
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "no error";
}

// Every generator's schedule of 4 ranks x 8 micro-batches, without and with communication actions.
inline std::vector<Schedule> generated_schedules() {
  std::vector<Schedule> schedules;
  for (const std::string& name : schedule_names()) {
    schedules.push_back(generate_schedule(name, 4, 8));
    schedules.push_back(with_communication(schedules.back()));
  }
  return schedules;
}

}  // namespace dualpipe::schedule::testing
