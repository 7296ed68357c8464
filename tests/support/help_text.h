// Checks on a command line's --help text that hold for every CLI11 version the project builds with.
#pragma once

#include <string>

namespace testing_support {

// True when `help` shows `value` as some option's default: "=value" (CLI11 up to 2.3) or
// "[value]" (CLI11 2.4 and later), followed by a space or the end of the line.
inline bool shows_default(const std::string& help, const std::string& value) {
  for (const std::string& form : {"=" + value + " ", "=" + value + "\n", "[" + value + "]"}) {
    if (help.find(form) != std::string::npos) return true;
  }
  return false;
}

}  // namespace testing_support
