#include "flag_settings.h"

#include <gtest/gtest.h>

#include "command_line.h"

namespace dualpipe::apps {
namespace {

// Every flag of a small tool after parsing `args` (CLI11 takes them back to front).
std::vector<std::pair<std::string, std::string>> settings_after(std::vector<std::string> args) {
  CLI::App app{"test", "tool"};
  show_defaults_in_help(app);
  static int steps;
  static std::string dtype;
  static bool check;
  steps = 10;
  dtype = "float32";
  check = false;
  app.add_option("--steps", steps, "timed steps");
  app.add_option("--dtype", dtype, "precision");
  app.add_flag("--check", check, "compare");
  app.parse(args);
  return flag_settings(app);
}

TEST(FlagSettings, GivesEveryFlagsParsedValueInANormalForm) {
  using Settings = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(settings_after({}),
            (Settings{{"--steps", "10"}, {"--dtype", "float32"}, {"--check", "0"}}));
  // "+10" and the default 10 are the same setting.
  EXPECT_EQ(settings_after({"+10", "--steps"}), settings_after({}));
  EXPECT_EQ(settings_after({"--check", "bfloat16", "--dtype"}),
            (Settings{{"--steps", "10"}, {"--dtype", "bfloat16"}, {"--check", "1"}}));
}

}  // namespace
}  // namespace dualpipe::apps
