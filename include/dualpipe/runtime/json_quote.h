// json_quoted: a string as a JSON string literal, for the runtime's Chrome-trace writers.
#pragma once

#include <cstdio>
#include <string>

namespace dualpipe::runtime {

// `text` in double quotes, with quotes, backslashes and control characters escaped.
inline std::string json_quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace dualpipe::runtime
