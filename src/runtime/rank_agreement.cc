#include "dualpipe/runtime/rank_agreement.h"

#include <algorithm>
#include <vector>

namespace dualpipe::runtime {
namespace {

constexpr char kSeparator = '\x1f';

std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

// Publishes this rank's report and reads everyone's: (description, failure) per rank.
std::vector<std::pair<std::string, std::string>> exchange_reports(const PipelineGroup& group,
                                                                   const std::string& key,
                                                                   const RankReport& report) {
  group.store->set(key + "/" + std::to_string(group.rank),
                   bytes_of(report.description + kSeparator + report.failure));
  std::vector<std::pair<std::string, std::string>> reports;
  for (int r = 0; r < group.size; ++r) {
    const std::vector<uint8_t> value = group.store->get(key + "/" + std::to_string(r));
    const std::string text(value.begin(), value.end());
    const std::size_t cut = text.find(kSeparator);
    reports.emplace_back(text.substr(0, cut), cut == std::string::npos ? "" : text.substr(cut + 1));
  }
  return reports;
}

std::string describe_problem(const std::vector<std::pair<std::string, std::string>>& reports) {
  std::string failures;
  for (std::size_t r = 0; r < reports.size(); ++r) {
    if (reports[r].second.empty()) continue;
    failures += (failures.empty() ? "" : "; ") + std::string("rank ") + std::to_string(r) + ": " + reports[r].second;
  }
  if (!failures.empty()) return failures;
  // No failure, so the fingerprints differ: list each distinct description with its ranks, in
  // the order of their lowest rank.
  std::vector<std::pair<std::string, std::string>> groups;  // description, ranks
  for (std::size_t r = 0; r < reports.size(); ++r) {
    auto group = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == reports[r].first; });
    if (group == groups.end()) group = groups.insert(groups.end(), {reports[r].first, ""});
    group->second += (group->second.empty() ? "" : ",") + std::to_string(r);
  }
  std::string text = "ranks disagree on the step:";
  for (const auto& [description, ranks] : groups) {
    const bool one = ranks.find(',') == std::string::npos;
    text += std::string(one ? " rank " : " ranks ") + ranks + (one ? " runs " : " run ") + description + ";";
  }
  text.pop_back();
  return text;
}

}  // namespace

uint64_t fingerprint_of(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash >> 2;
}

Agreement agree(const PipelineGroup& group, const std::string& key, const RankReport& report) {
  // [fingerprint, -fingerprint, changed, failed per rank], reduced with MAX: the fingerprints are
  // all equal exactly when max(fingerprint) == -max(-fingerprint).
  const int64_t fingerprint = static_cast<int64_t>(report.fingerprint);
  torch::Tensor words = torch::zeros({3 + group.size}, torch::kLong);
  words[0] = fingerprint;
  words[1] = -fingerprint;
  words[2] = report.changed ? 1 : 0;
  words[3 + group.rank] = report.failure.empty() ? 0 : 1;
  std::vector<torch::Tensor> tensors{words};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::MAX;
  group.control->allreduce(tensors, options)->wait();
  const int64_t* reduced = words.data_ptr<int64_t>();
  Agreement agreement;
  agreement.any_changed = reduced[2] != 0;
  bool failed = reduced[0] != -reduced[1];
  for (int r = 0; r < group.size; ++r) failed = failed || reduced[3 + r] != 0;
  if (failed) agreement.error = describe_problem(exchange_reports(group, key, report));
  return agreement;
}

}  // namespace dualpipe::runtime
