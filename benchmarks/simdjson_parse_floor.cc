// The floor for reading a Chrome trace: simdjson itself, with nothing else. Loads the file, then
//   (default)  walks it with simdjson On-Demand, visiting every field of every event (the least a
//              reader of all events must do: what trace-view's reader does, minus keeping data);
//   --dom      parses it whole with simdjson's DOM parser (validation plus a tape of every value);
// and prints the size, the number of events and the parse time (file loading excluded).
// trace-view's summary of the same file is measured against this (docs/trace-view.md).
//   build/release/benchmarks/simdjson_parse_floor /tmp/large.json [--dom]
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstring>

namespace {

namespace od = simdjson::ondemand;

// Visits every field of every event; returns the number of events, or -1 for a malformed trace.
long walk_on_demand(const simdjson::padded_string& text) {
  od::parser parser;
  od::document doc;
  if (parser.iterate(text).get(doc)) return -1;
  od::array events;
  if (doc["traceEvents"].get_array().get(events)) return -1;
  long count = 0;
  std::size_t touched = 0;
  for (auto element : events) {
    od::object event;
    if (element.get_object().get(event)) return -1;
    for (auto field : event) {
      od::value value;
      if (field.value().get(value)) return -1;
      // A scalar's text; an object or array is skipped over when the next field is read.
      touched += value.raw_json_token().size();
    }
    ++count;
  }
  return touched > 0 ? count : -1;
}

long parse_dom(const simdjson::padded_string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array events;
  if (parser.parse(text).get(root) || root["traceEvents"].get_array().get(events)) return -1;
  return static_cast<long>(events.size());
}

}  // namespace

int main(int argc, char** argv) {
  const bool dom = argc == 3 && std::strcmp(argv[2], "--dom") == 0;
  if (argc != 2 && !dom) {
    std::fprintf(stderr, "usage: simdjson_parse_floor TRACE.json [--dom]\n");
    return 2;
  }
  simdjson::padded_string text;
  if (simdjson::padded_string::load(argv[1]).get(text)) {
    std::fprintf(stderr, "simdjson_parse_floor: %s: cannot read\n", argv[1]);
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  const long events = dom ? parse_dom(text) : walk_on_demand(text);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (events < 0) {
    std::fprintf(stderr, "simdjson_parse_floor: %s: not a Chrome trace\n", argv[1]);
    return 2;
  }
  std::printf(
      "{\"parser\": \"%s\", \"bytes\": %zu, \"events\": %ld, \"parse_s\": %.4f, "
      "\"parse_mb_per_s\": %.1f}\n",
      dom ? "dom" : "on-demand", text.size(), events, seconds,
      static_cast<double>(text.size()) / 1e6 / seconds);
  return 0;
}
