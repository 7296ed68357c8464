// byte_size_text: a number of bytes as people read it in messages ("1.5 GiB").
#pragma once

#include <cstdio>
#include <string>

namespace dualpipe::apps {

// `bytes` with a binary unit and at most three significant digits: "512 B", "1.5 KiB", "8 EiB".
inline std::string byte_size_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 6) {
    bytes /= 1024.0;
    ++unit;
  }
  char text[64];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%.0f B", bytes);
  } else {
    std::snprintf(text, sizeof text, "%.3g %s", bytes, units[unit]);
  }
  return text;
}

}  // namespace dualpipe::apps
