// Domains of numeric flags: each numeric option of the tools accepts only numbers in its range,
// and a value outside it is refused with one line naming the flag ("--steps: expected an integer
// from 1 to 1000000, got 0"), before any conversion can wrap, overflow or let NaN through.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace dualpipe::apps {

// Integers from `min` to `max` (decimal, optional sign, no leading zero). Negative text for a
// non-negative domain is refused rather than wrapped (CLI11 alone turns "-1" into 2^64 - 1 for an
// unsigned flag).
CLI::Validator integer_in(int64_t min, uint64_t max);

// Finite real numbers from `min` to `max` (NaN and infinities are refused).
CLI::Validator real_in(double min, double max);

// The largest value of an int flag (for domains "from 1 up").
inline constexpr uint64_t kIntMax = 2147483647;

// Shortens `text` for a message: at most 40 characters, then "...".
std::string quoted_value(const std::string& text);

}  // namespace dualpipe::apps
