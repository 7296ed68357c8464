#include "command_line.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

namespace dualpipe::apps {
namespace {

std::string tool_name = "tool";  // for the terminate handler

// The first line of `what`, with control bytes escaped (\xNN) so that none reaches the terminal.
std::string printable_line(const std::string& what) {
  std::string line;
  for (const char c : what.substr(0, what.find('\n'))) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      line += c;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      line += escaped;
    }
  }
  return line;
}

// Prints "NAME: PREFIXfirst line of what" on stderr; returns exit_code.
int report(const std::string& name, const std::string& prefix, const std::string& what,
           int exit_code) {
  std::fprintf(stderr, "%s: %s%s\n", name.c_str(), prefix.c_str(), printable_line(what).c_str());
  return exit_code;
}

// An exception that no handler caught (e.g. on a communication thread) ends the process with one
// line and exit code 2 instead of an abort.
[[noreturn]] void report_uncaught_exception() {
  int code = 1;
  try {
    if (const std::exception_ptr current = std::current_exception())
      std::rethrow_exception(current);
    report(tool_name, "internal error: ", "terminated without an exception", code);
  } catch (const std::exception& error) {
    code = report(tool_name, "", error.what(), 2);
  } catch (...) {
    report(tool_name, "internal error: ", "an exception of unknown type", code);
  }
  std::fflush(stderr);
  ::_exit(code);
}

// Everything the tool printed must have reached standard output (e.g. not a full disk).
void check_standard_output() {
  errno = 0;
  std::cout.flush();
  if (!std::cout.fail() && std::fflush(stdout) == 0 && !std::ferror(stdout)) return;
  throw std::runtime_error(std::string("standard output: cannot write: ") +
                           std::strerror(errno != 0 ? errno : EIO));
}

}  // namespace

void show_defaults_in_help(CLI::App& app) {
  app.option_defaults()->always_capture_default();
  app.get_formatter()->column_width(36);
}

int parse_and_run(CLI::App& app, int argc, char** argv, const std::function<int()>& run) {
  tool_name = app.get_name();
  std::set_terminate(report_uncaught_exception);
  try {
    app.parse(argc, argv);
    const int code = run();
    check_standard_output();
    return code;
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help
    return report(tool_name, "", error.what(), 2);
  } catch (const InternalError& error) {
    return report(tool_name, "internal error: ", error.what(), 1);
  } catch (const std::exception& error) {
    return report(tool_name, "", error.what(), 2);
  }
}

}  // namespace dualpipe::apps
