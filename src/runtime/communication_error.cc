#include "communication_error.h"

#include <c10/util/Exception.h>

namespace dualpipe::runtime {

std::string first_line_of(const std::exception& error) {
  std::string text = error.what();
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error))
    text = c10_error->what_without_backtrace();
  return text.substr(0, text.find('\n'));
}

}  // namespace dualpipe::runtime
