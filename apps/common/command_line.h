// parse_and_run: how every tool turns its command line into an exit code and one-line errors.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <stdexcept>

namespace dualpipe::apps {

// A defect of the toolkit found while running (e.g. a generated schedule its own validator
// rejects), as opposed to bad input: exit code 1.
struct InternalError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses argv into `app`, then returns run(). --help prints CLI11's help and returns 0. Anything
// else that goes wrong is one line "NAME: message" on stderr (NAME is app.get_name(); only the
// first line of a longer message, e.g. without LibTorch's backtrace, control bytes escaped) and
// exit code 2, or "NAME: internal error: message" and exit code 1 for an InternalError: also an
// exception that escapes on another thread, and output that did not reach standard output (e.g.
// a full disk). run() may throw CLI::ParseError for flag rules CLI11 cannot express.
int parse_and_run(CLI::App& app, int argc, char** argv, const std::function<int()>& run);

// Makes --help show the default of every option added to `app` from then on.
void show_defaults_in_help(CLI::App& app);

}  // namespace dualpipe::apps
