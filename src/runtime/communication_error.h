// Failures of a pipeline step's communication: their exception type, and the wrapper that turns a
// c10d error into one naming what was awaited.
#pragma once

#include <stdexcept>
#include <string>
#include <type_traits>

namespace dualpipe::runtime {

// A failure of communication itself (lost peer, timeout): the step cannot go on.
struct CommunicationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The first line of an exception's message, without c10's backtrace.
std::string first_line_of(const std::exception& error);

// `what` as text: a string, or a function that makes one (built only when an error needs it).
template <typename What>
std::string text_of(const What& what) {
  if constexpr (std::is_invocable_v<const What&>) {
    return what();
  } else {
    return std::string(what);
  }
}

// Runs a c10d call, turning its failure into a CommunicationError naming `what`.
template <typename What, typename Call>
auto communicate(const What& what, Call&& call) {
  try {
    return call();
  } catch (const std::exception& error) {
    throw CommunicationError(text_of(what) + ": " + first_line_of(error));
  }
}

}  // namespace dualpipe::runtime
