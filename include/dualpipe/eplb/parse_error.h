// ParseError: a reader's complaint about its input, with the position in the message.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace dualpipe::eplb {

// Thrown by the readers; what() is one line such as "line 3, column 7: expected a number, found
// 'x'" (positions 1-based). Apps prefix the file name.
class ParseError : public std::runtime_error {
 public:
  // what() is `message` with every byte outside printable ASCII shown as \xNN (printable_text), so
  // that input quoted in it stays one visible line.
  explicit ParseError(const std::string& message);
};

// `text` with every byte outside printable ASCII (control bytes, NUL, DEL, bytes >= 0x80) written
// as \xNN and backslashes as \\.
std::string printable_text(std::string_view text);

// `text` without a leading UTF-8 byte order mark (EF BB BF), which text editors may write.
std::string_view without_utf8_bom(std::string_view text);

// Throws ParseError "line L, column C: a NUL byte; expected text" at the first NUL byte of `text`
// (a text format never holds one), before anything else is read.
void check_no_nul_bytes(std::string_view text);

// A checked load value: throws ParseError "<where>: ..." unless `value` is finite, non-negative and
// within the float32 range.
float checked_load(double value, const std::string& where);

// Whether checked_load would accept `value` (lets callers build the position text only on error).
bool is_valid_load(double value);

// The shortest decimal text that reads back as exactly `value`.
std::string format_number(float value);
std::string format_number(double value);

}  // namespace dualpipe::eplb
