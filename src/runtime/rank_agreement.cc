#include "dualpipe/runtime/rank_agreement.h"

#include <algorithm>
#include <stdexcept>
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

// A timeout as messages show it: "10 s", "2.5 s".
std::string timeout_text(std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s"
                        : std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

// Lists the ranks of each distinct value, in the order of their lowest rank: {value, "0,2"}.
std::vector<std::pair<std::string, std::string>> ranks_by_value(
    const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> groups;
  for (std::size_t r = 0; r < values.size(); ++r) {
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const auto& g) { return g.first == values[r]; });
    if (group == groups.end()) group = groups.insert(groups.end(), {values[r], ""});
    group->second += (group->second.empty() ? "" : ",") + std::to_string(r);
  }
  return groups;
}

// "" when no rank failed; the reason alone when every rank failed alike; else "rank r: reason"
// for each rank that failed.
std::string describe_failures(const std::vector<std::string>& failures) {
  const bool all_alike = std::all_of(failures.begin(), failures.end(),
                                     [&](const std::string& f) { return f == failures.front(); });
  if (all_alike) return failures.front();
  std::string text;
  for (std::size_t r = 0; r < failures.size(); ++r) {
    if (failures[r].empty()) continue;
    text +=
        (text.empty() ? "" : "; ") + std::string("rank ") + std::to_string(r) + ": " + failures[r];
  }
  return text;
}

std::string describe_steps(const std::vector<std::string>& descriptions) {
  std::string text = "ranks disagree on the step:";
  for (const auto& [description, ranks] : ranks_by_value(descriptions)) {
    const bool one = ranks.find(',') == std::string::npos;
    text += std::string(one ? " rank " : " ranks ") + ranks + (one ? " runs " : " run ") +
            description + ";";
  }
  text.pop_back();
  return text;
}

// Length-prefixed fields ("5:hello"), so that values may hold any byte.
void append_field(std::string& text, const std::string& field) {
  text += std::to_string(field.size()) + ":" + field;
}

// Reads the fields append_field wrote; throws std::invalid_argument on malformed text.
std::vector<std::string> read_fields(const std::string& text) {
  std::vector<std::string> fields;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t colon = text.find(':', at);
    if (colon == std::string::npos) throw std::invalid_argument("malformed settings");
    const std::size_t size = std::stoul(text.substr(at, colon - at));
    if (size > text.size() - colon - 1) throw std::invalid_argument("malformed settings");
    fields.push_back(text.substr(colon + 1, size));
    at = colon + 1 + size;
  }
  return fields;
}

// The settings whose values differ between ranks, each with every rank's value.
std::string describe_settings(const std::vector<std::vector<std::string>>& per_rank) {
  std::string text;
  const std::vector<std::string>& first = per_rank.front();
  for (std::size_t i = 1; i < first.size(); i += 2) {
    std::vector<std::string> values;
    for (const std::vector<std::string>& fields : per_rank)
      values.push_back(i < fields.size() ? fields[i] : "(none)");
    const auto groups = ranks_by_value(values);
    if (groups.size() == 1) continue;
    std::string each;
    for (const auto& [value, ranks] : groups) {
      const bool one = ranks.find(',') == std::string::npos;
      each += (each.empty() ? "" : "; ") + std::string(one ? "rank " : "ranks ") + ranks + ": " +
              (value.size() <= 40 ? value : value.substr(0, 40) + "...");
    }
    text += (text.empty() ? "ranks disagree on " : ", ") + first[i - 1] + " (" + each + ")";
  }
  return text.empty() ? "ranks disagree on their settings" : text;
}

}  // namespace

StoreExchange exchange_of(const PipelineGroup& group) {
  return StoreExchange{group.store, group.rank, group.size, group.timeout, group.exchange_keys};
}

std::vector<std::string> all_gather_text(const StoreExchange& exchange, const std::string& key,
                                         const std::string& text) {
  const std::string mine = key + "/" + std::to_string(exchange.rank);
  exchange.store->set(mine, bytes_of(text));  // no reply to wait for
  std::vector<std::string> texts;
  for (int r = 0; r < exchange.size; ++r) {
    if (r == exchange.rank) {
      texts.push_back(text);
      continue;
    }
    const std::string theirs = key + "/" + std::to_string(r);
    try {
      exchange.store->wait({theirs}, exchange.timeout);
    } catch (const std::exception&) {
      throw std::runtime_error("rank " + std::to_string(exchange.rank) + ": rank " +
                               std::to_string(r) + " did not reach '" + key + "' within " +
                               timeout_text(exchange.timeout) +
                               " (it failed, exited or is slower)");
    }
    const std::vector<uint8_t> value = exchange.store->get(theirs);
    texts.emplace_back(value.begin(), value.end());
  }
  // Every rank has read the keys of two exchanges ago: it wrote this exchange's key after that.
  std::deque<std::string>& written = *exchange.written_keys;
  written.push_back(mine);
  if (written.size() > 2) {
    exchange.store->deleteKey(written.front());
    written.pop_front();
  }
  return texts;
}

std::vector<std::string> all_gather_text(const PipelineGroup& group, const std::string& key,
                                         const std::string& text) {
  return all_gather_text(exchange_of(group), key, text);
}

void leave_store(const StoreExchange& exchange) noexcept {
  try {
    if (exchange.rank != 0) {
      exchange.store->set("left/" + std::to_string(exchange.rank), std::vector<uint8_t>{});
      return;
    }
    std::vector<std::string> keys;
    for (int r = 1; r < exchange.size; ++r) keys.push_back("left/" + std::to_string(r));
    if (!keys.empty()) exchange.store->wait(keys, exchange.timeout);
  } catch (const std::exception&) {
    // A rank that failed or exited early: its own error is what the user reads.
  }
}

uint64_t fingerprint_of(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash >> 2;
}

Agreement agree(const StoreExchange& exchange, const std::string& key, const RankReport& report) {
  const std::string text = std::to_string(report.fingerprint) + kSeparator +
                           (report.changed ? "1" : "0") + kSeparator + report.failure + kSeparator +
                           report.description;
  std::vector<RankReport> reports;
  for (const std::string& received : all_gather_text(exchange, key, text)) {
    std::vector<std::string> fields = fields_of(received);
    fields.resize(4);
    reports.push_back(RankReport{std::stoull(fields[0].empty() ? "0" : fields[0]), fields[3],
                                 fields[2], fields[1] == "1"});
  }
  Agreement agreement;
  std::vector<std::string> failures, descriptions;
  bool differ = false;
  for (const RankReport& r : reports) {
    agreement.any_changed = agreement.any_changed || r.changed;
    differ = differ || r.fingerprint != reports.front().fingerprint;
    failures.push_back(r.failure);
    descriptions.push_back(r.description);
  }
  agreement.error = describe_failures(failures);
  if (agreement.error.empty() && differ) agreement.error = describe_steps(descriptions);
  return agreement;
}

Agreement agree(const PipelineGroup& group, const std::string& key, const RankReport& report) {
  return agree(exchange_of(group), key, report);
}

std::string agree_on_settings(const StoreExchange& exchange, const std::string& key,
                              const Settings& settings, const std::string& failure) {
  std::string text;
  append_field(text, failure);
  for (const auto& [name, value] : settings) {
    append_field(text, name);
    append_field(text, value);
  }
  std::vector<std::string> failures;
  std::vector<std::vector<std::string>> per_rank;
  bool differ = false;
  for (const std::string& received : all_gather_text(exchange, key, text)) {
    std::vector<std::string> fields = read_fields(received);
    failures.push_back(fields.empty() ? "" : fields.front());
    if (!fields.empty()) fields.erase(fields.begin());
    differ = differ || (!per_rank.empty() && fields != per_rank.front());
    per_rank.push_back(std::move(fields));
  }
  const std::string failed = describe_failures(failures);
  if (!failed.empty() || !differ) return failed;
  return describe_settings(per_rank);
}

}  // namespace dualpipe::runtime
