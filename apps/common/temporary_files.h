// Temporary files that must not outlive the process: the staged outputs not yet renamed into place
// are removed when SIGINT, SIGTERM or SIGHUP ends the process.
#pragma once

#include <string>

namespace dualpipe::apps {

// Registers `path` for removal on SIGINT, SIGTERM and SIGHUP (installing the handlers on first
// use; a signal that was ignored stays ignored). After the removal the signal takes its former
// course (by default the process ends by it). Throws std::runtime_error when too many temporaries
// are registered at once (64) or the path is too long.
void remove_on_signal(const std::string& path);

// Forgets `path` (after it was renamed or removed).
void keep_on_signal(const std::string& path);

}  // namespace dualpipe::apps
