// ParseError: a reader's complaint about its input, with the position in the message.
#pragma once

#include <stdexcept>
#include <string>

namespace dualpipe::eplb {

// Thrown by the readers; what() is one line such as "line 3, column 7: expected a number, found 'x'"
// (positions 1-based). Apps prefix the file name.
class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A checked load value: throws ParseError "<where>: ..." unless `value` is finite, non-negative and
// within the float32 range.
float checked_load(double value, const std::string& where);

// Whether checked_load would accept `value` (lets callers build the position text only on error).
bool is_valid_load(double value);

// The shortest decimal text that reads back as exactly `value`.
std::string format_number(float value);
std::string format_number(double value);

}  // namespace dualpipe::eplb
