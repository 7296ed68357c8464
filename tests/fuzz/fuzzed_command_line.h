// Shared body of the flag-parser fuzz targets: the fuzzer's bytes become a command line (one
// argument per line), which the tool's flags parse and its own rules check. Bad flags must end in
// CLI::ParseError or std::invalid_argument, never in a crash, a hang or another exception.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualpipe::apps::testing {

// The arguments in `data`, one per line (the program name is not among them).
inline std::vector<std::string> fuzzed_arguments(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> arguments(1);
  for (std::size_t i = 0; i < size && arguments.size() <= 64; ++i) {
    if (data[i] == '\n') {
      arguments.emplace_back();
    } else {
      arguments.back() += static_cast<char>(data[i]);
    }
  }
  return arguments;
}

// Parses the fuzzed command line into `app`, then runs `check` (the tool's rules between flags).
template <typename Check>
int parse_fuzzed_command_line(CLI::App& app, const std::uint8_t* data, std::size_t size,
                              Check check) {
  std::vector<std::string> arguments = fuzzed_arguments(data, size);
  std::vector<std::string> reversed(arguments.rbegin(), arguments.rend());  // CLI11 pops the back
  try {
    app.parse(reversed);
    check();
  } catch (const CLI::ParseError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}

}  // namespace dualpipe::apps::testing
