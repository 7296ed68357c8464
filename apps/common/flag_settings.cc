#include "flag_settings.h"

namespace dualpipe::apps {

std::vector<std::pair<std::string, std::string>> flag_settings(CLI::App& app) {
  std::vector<std::pair<std::string, std::string>> settings;
  for (CLI::Option* option : app.get_options()) {
    if (option == app.get_help_ptr()) continue;
    if (option->get_expected_max() == 0) {  // a flag: no value
      settings.emplace_back(option->get_name(), std::to_string(option->count()));
      continue;
    }
    option->capture_default_str();  // the bound variable's value now
    settings.emplace_back(option->get_name(), option->get_default_str());
  }
  return settings;
}

}  // namespace dualpipe::apps
