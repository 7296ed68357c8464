#include "cost_profile.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace dualpipe::apps {
namespace {

using schedule::CostModel;
using schedule::StageCosts;

constexpr double kLargestSlowdown = 1e6;
constexpr std::size_t kLongestTimeUnit = 32;

// Reads one profile, remembering its name for messages.
class ProfileReader {
 public:
  explicit ProfileReader(std::string source) : source_(std::move(source)) {}

  CostModel read(const YAML::Node& root) {
    if (!root.IsMap()) fail(root, "expected a mapping with the keys stage, stages, p2p, ...");
    check_keys(root, {"name", "time_unit", "stage", "stages", "p2p", "rank_slowdown"});
    CostModel costs;
    if (root["time_unit"]) costs.time_unit = time_unit(root["time_unit"]);
    if (!root["stage"]) fail(root, "missing key 'stage' (the costs of every stage)");
    costs.default_stage = read_default_stage(root["stage"]);
    if (root["stages"]) costs.stages = read_stages(root["stages"], costs.default_stage);
    if (root["p2p"]) read_p2p(root["p2p"], costs.p2p);
    if (root["rank_slowdown"]) costs.rank_slowdown = read_slowdowns(root["rank_slowdown"]);
    try {
      schedule::check_cost_model(costs);
    } catch (const std::invalid_argument& error) {
      fail(root, error.what());
    }
    return costs;
  }

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
    std::string where = source_;
    if (!mark.is_null()) {
      where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    }
    throw std::invalid_argument(where + ": " + message);
  }

 private:
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    fail(node.Mark(), message);
  }

  // Every key of `map` must be a distinct scalar from `allowed`.
  void check_keys(const YAML::Node& map, std::initializer_list<const char*> allowed) const {
    std::set<std::string> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar()) fail(entry.first, "expected a key name");
      const std::string& key = entry.first.Scalar();
      bool known = false;
      std::string expected;
      for (const char* name : allowed) {
        known = known || key == name;
        expected += std::string(expected.empty() ? "" : ", ") + name;
      }
      if (!known) fail(entry.first, "unknown key '" + key + "' (expected one of " + expected + ")");
      if (!seen.insert(key).second) fail(entry.first, "duplicate key '" + key + "'");
    }
  }

  std::string text(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key + ": expected a text value");
    return node.Scalar();
  }

  // A short printable name ("ms", "us"): it is repeated in every drawing and report.
  std::string time_unit(const YAML::Node& node) const {
    const std::string unit = text(node, "time_unit");
    if (unit.size() > kLongestTimeUnit) {
      fail(node, "time_unit: at most " + std::to_string(kLongestTimeUnit) + " characters, got " +
                     std::to_string(unit.size()));
    }
    for (const char c : unit) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        fail(node, "time_unit: expected printable characters");
      }
    }
    return unit;
  }

  // A finite number from 0 to `largest` (by default kLargestDuration: no sum of durations over a
  // schedule can then overflow).
  double number(const YAML::Node& node, const std::string& key,
                double largest = kLargestDuration) const {
    if (!node.IsScalar()) fail(node, key + ": expected a number");
    const std::string& scalar = node.Scalar();
    double value = 0.0;
    const char* first = scalar.data();
    const char* last = first + scalar.size();
    if (first != last && *first == '+') ++first;
    const auto [end, error] = std::from_chars(first, last, value);
    if (error != std::errc() || end != last || first == last) {
      fail(node, key + ": expected a number, got '" + scalar + "'");
    }
    if (!std::isfinite(value) || value < 0.0) {
      fail(node, key + ": expected a finite number >= 0, got '" + scalar + "'");
    }
    if (value > largest) {
      fail(node, key + ": " + scalar + " is out of range (at most " + shown(largest) + ")");
    }
    return value;
  }

  StageCosts read_default_stage(const YAML::Node& node) const {
    if (!node.IsMap())
      fail(node, "stage: expected a mapping of forward, backward, weight, overlapped");
    check_keys(node, {"forward", "backward", "weight", "overlapped"});
    if (!node["forward"] || !node["backward"]) {
      fail(node, "stage: needs at least forward and backward");
    }
    StageCosts costs;
    costs.forward = number(node["forward"], "stage.forward");
    costs.backward = number(node["backward"], "stage.backward");
    costs.weight = node["weight"] ? number(node["weight"], "stage.weight") : 0.0;
    costs.overlapped = node["overlapped"] ? number(node["overlapped"], "stage.overlapped")
                                          : costs.forward + costs.backward;
    return costs;
  }

  std::vector<StageCosts> read_stages(const YAML::Node& node, const StageCosts& fallback) const {
    if (!node.IsSequence()) fail(node, "stages: expected a list with one mapping per stage");
    const double fallback_serial = fallback.forward + fallback.backward;
    const double overlap_ratio =
        fallback_serial > 0.0 ? fallback.overlapped / fallback_serial : 1.0;
    std::vector<StageCosts> stages;
    for (std::size_t s = 0; s < node.size(); ++s) {
      const YAML::Node entry = node[s];
      const std::string where = "stages[" + std::to_string(s) + "]";
      if (!entry.IsMap()) fail(entry, where + ": expected a mapping");
      check_keys(entry, {"forward", "backward", "weight", "overlapped"});
      StageCosts costs = fallback;
      if (entry["forward"]) costs.forward = number(entry["forward"], where + ".forward");
      if (entry["backward"]) costs.backward = number(entry["backward"], where + ".backward");
      if (entry["weight"]) costs.weight = number(entry["weight"], where + ".weight");
      costs.overlapped = entry["overlapped"] ? number(entry["overlapped"], where + ".overlapped")
                                             : (costs.forward + costs.backward) * overlap_ratio;
      stages.push_back(costs);
    }
    if (stages.empty()) fail(node, "stages: expected at least one stage (or leave the key out)");
    return stages;
  }

  void read_p2p(const YAML::Node& node, schedule::P2PCosts& p2p) const {
    if (!node.IsMap()) fail(node, "p2p: expected a mapping of latency, bandwidth, message_bytes");
    check_keys(node, {"latency", "bandwidth", "message_bytes"});
    if (node["latency"]) p2p.latency = number(node["latency"], "p2p.latency");
    if (node["bandwidth"])
      p2p.bandwidth_bytes_per_unit = number(node["bandwidth"], "p2p.bandwidth");
    if (node["message_bytes"])
      p2p.message_bytes = number(node["message_bytes"], "p2p.message_bytes");
    if (p2p.bandwidth_bytes_per_unit > 0.0 &&
        !(p2p.latency + p2p.message_bytes / p2p.bandwidth_bytes_per_unit <= kLargestDuration)) {
      fail(node["bandwidth"], "p2p.bandwidth: a message of " + shown(p2p.message_bytes) +
                                  " bytes would take more than " + shown(kLargestDuration) +
                                  " time units");
    }
  }

  std::vector<double> read_slowdowns(const YAML::Node& node) const {
    if (!node.IsSequence()) fail(node, "rank_slowdown: expected a list with one factor per rank");
    std::vector<double> factors;
    for (std::size_t r = 0; r < node.size(); ++r) {
      const std::string where = "rank_slowdown[" + std::to_string(r) + "]";
      const double factor = number(node[r], where, kLargestSlowdown);
      if (factor <= 0.0) fail(node[r], where + ": expected a factor > 0");
      factors.push_back(factor);
    }
    return factors;
  }

  static std::string shown(double value) {
    std::ostringstream text;
    text << value;
    return text.str();
  }

  std::string source_;
};

}  // namespace

schedule::CostModel parse_cost_profile(const std::string& yaml_text, const std::string& source) {
  ProfileReader reader(source);
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& error) {
    reader.fail(error.mark, "malformed YAML: " + error.msg);
  }
  try {
    return reader.read(root);
  } catch (const YAML::Exception& error) {
    reader.fail(error.mark, error.msg);
  }
}

}  // namespace dualpipe::apps
