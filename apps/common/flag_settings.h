// flag_settings: every flag of a parsed command line by name, as the ranks of a job compare them.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <utility>
#include <vector>

namespace dualpipe::apps {

// {"--steps", "10"}, ... for every option of `app` but --help, in the order they were added: the
// parsed value in a normal form (so "--steps 010" equals the default 10), a flag's count. Needs
// options whose defaults are captured (show_defaults_in_help); updates those captured strings.
std::vector<std::pair<std::string, std::string>> flag_settings(CLI::App& app);

}  // namespace dualpipe::apps
