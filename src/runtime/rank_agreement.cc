#include "dualpipe/runtime/rank_agreement.h"

#include <algorithm>
#include <utility>

namespace dualpipe::runtime {
namespace {

constexpr char kSeparator = '\x1f';

std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

// Splits "a<sep>b<sep>c" into its fields.
std::vector<std::string> fields_of(const std::string& text) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t cut; (cut = text.find(kSeparator, start)) != std::string::npos;
       start = cut + 1) {
    fields.push_back(text.substr(start, cut - start));
  }
  fields.push_back(text.substr(start));
  return fields;
}

std::string describe_problem(const std::vector<RankReport>& reports) {
  std::string failures;
  for (std::size_t r = 0; r < reports.size(); ++r) {
    if (reports[r].failure.empty()) continue;
    failures += (failures.empty() ? "" : "; ") + std::string("rank ") + std::to_string(r) + ": " +
                reports[r].failure;
  }
  if (!failures.empty()) return failures;
  // No failure, so the fingerprints differ: list each distinct description with its ranks, in
  // the order of their lowest rank.
  std::vector<std::pair<std::string, std::string>> groups;  // description, ranks
  for (std::size_t r = 0; r < reports.size(); ++r) {
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const auto& g) { return g.first == reports[r].description; });
    if (group == groups.end()) group = groups.insert(groups.end(), {reports[r].description, ""});
    group->second += (group->second.empty() ? "" : ",") + std::to_string(r);
  }
  std::string text = "ranks disagree on the step:";
  for (const auto& [description, ranks] : groups) {
    const bool one = ranks.find(',') == std::string::npos;
    text += std::string(one ? " rank " : " ranks ") + ranks + (one ? " runs " : " run ") +
            description + ";";
  }
  text.pop_back();
  return text;
}

}  // namespace

std::vector<std::string> all_gather_text(const PipelineGroup& group, const std::string& key,
                                         const std::string& text) {
  const std::string mine = key + "/" + std::to_string(group.rank);
  group.store->set(mine, bytes_of(text));  // no reply to wait for
  // Each get waits for its key first (the store's timeout applies), so no separate wait.
  std::vector<std::string> texts;
  for (int r = 0; r < group.size; ++r) {
    if (r == group.rank) {
      texts.push_back(text);
      continue;
    }
    const std::vector<uint8_t> value = group.store->get(key + "/" + std::to_string(r));
    texts.emplace_back(value.begin(), value.end());
  }
  // Every rank has read the keys of two exchanges ago: it wrote this exchange's key after that.
  std::deque<std::string>& written = *group.exchange_keys;
  written.push_back(mine);
  if (written.size() > 2) {
    group.store->deleteKey(written.front());
    written.pop_front();
  }
  return texts;
}

uint64_t fingerprint_of(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash >> 2;
}

Agreement agree(const PipelineGroup& group, const std::string& key, const RankReport& report) {
  const std::string text = std::to_string(report.fingerprint) + kSeparator +
                           (report.changed ? "1" : "0") + kSeparator + report.failure + kSeparator +
                           report.description;
  std::vector<RankReport> reports;
  for (const std::string& received : all_gather_text(group, key, text)) {
    std::vector<std::string> fields = fields_of(received);
    fields.resize(4);
    reports.push_back(RankReport{std::stoull(fields[0].empty() ? "0" : fields[0]), fields[3],
                                 fields[2], fields[1] == "1"});
  }
  Agreement agreement;
  bool problem = false;
  for (const RankReport& r : reports) {
    agreement.any_changed = agreement.any_changed || r.changed;
    problem = problem || !r.failure.empty() || r.fingerprint != reports.front().fingerprint;
  }
  if (problem) agreement.error = describe_problem(reports);
  return agreement;
}

}  // namespace dualpipe::runtime
