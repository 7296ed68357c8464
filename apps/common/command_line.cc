#include "command_line.h"

#include <cstdio>
#include <string>

namespace dualpipe::apps {
namespace {

// Prints "NAME: PREFIXfirst line of what" on stderr; returns exit_code.
int report(const CLI::App& app, const std::string& prefix, const char* what, int exit_code) {
  const std::string message(what);
  std::fprintf(stderr, "%s: %s%s\n", app.get_name().c_str(), prefix.c_str(),
               message.substr(0, message.find('\n')).c_str());
  return exit_code;
}

// A validator that accepts the numbers for which `accept` holds, else names `rule`.
CLI::Validator number_check(bool (*accept)(double), const std::string& rule,
                            const std::string& description) {
  return CLI::Validator(
      [accept, rule](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "expected a number, got " + text;
        return accept(value) ? std::string() : "must be " + rule + ", got " + text;
      },
      description);
}

}  // namespace

CLI::Validator positive_number() {
  return number_check([](double value) { return value > 0; }, "positive", "POSITIVE");
}

CLI::Validator non_negative_number() {
  return number_check([](double value) { return value >= 0; }, "zero or more", "NONNEGATIVE");
}

void show_defaults_in_help(CLI::App& app) {
  app.option_defaults()->always_capture_default();
  app.get_formatter()->column_width(36);
}

int parse_and_run(CLI::App& app, int argc, char** argv, const std::function<int()>& run) {
  try {
    app.parse(argc, argv);
    return run();
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help
    return report(app, "", error.what(), 2);
  } catch (const InternalError& error) {
    return report(app, "internal error: ", error.what(), 1);
  } catch (const std::exception& error) {
    return report(app, "", error.what(), 2);
  }
}

}  // namespace dualpipe::apps
