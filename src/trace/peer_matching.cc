#include "dualpipe/trace/peer_matching.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <tuple>

namespace dualpipe::trace {
namespace {

// Calls in issue order, keyed by what must agree between the members of one exchange.
using PairKey = std::tuple<int, int, std::string>;  // sender, receiver, group
using CollectiveKey =
    std::tuple<std::string, std::string, std::vector<int>>;  // group, name, members

class Matcher {
 public:
  explicit Matcher(const std::vector<RankTimeline>& timelines) : timelines_(timelines) {
    result_.group_of.resize(timelines.size());
    for (std::size_t t = 0; t < timelines.size(); ++t) {
      index_of_rank_[timelines[t].rank] = static_cast<int>(t);
      result_.group_of[t].assign(timelines[t].calls.size(), -1);
    }
  }

  PeerMatching run() {
    queue_calls();
    for (auto& [key, sends] : sends_) match_pair(key, sends, receives_[key]);
    for (const auto& [key, receives] : receives_) {
      if (sends_.count(key)) continue;
      (index_of_rank_.count(std::get<0>(key)) ? missing_ : absent_members_) +=
          static_cast<int>(receives.size());
    }
    for (auto& [key, per_timeline] : collectives_) match_collective(key, per_timeline);
    result_.unmatched_calls = missing_ + absent_members_;
    if (absent_members_ > 0) {
      result_.notes.push_back(std::to_string(absent_members_) +
                              " communication kernels exchange with ranks whose traces are not "
                              "given (their waits cannot be told from transfers)");
    }
    if (missing_ > 0) {
      result_.notes.push_back(std::to_string(missing_) +
                              " communication kernels have no counterpart in the peer's trace");
    }
    if (result_.size_mismatches > 0) {
      result_.notes.push_back(std::to_string(result_.size_mismatches) +
                              " matched sends and receives differ in message size");
    }
    return std::move(result_);
  }

 private:
  void queue_calls() {
    const int traced = static_cast<int>(timelines_.size());
    for (int t = 0; t < traced; ++t) {
      const RankTimeline& timeline = timelines_[static_cast<std::size_t>(t)];
      const bool whole_world = !timeline.world_size || *timeline.world_size <= traced;
      for (std::uint32_t c = 0; c < timeline.calls.size(); ++c) {
        const CommunicationCall& call = timeline.calls[c];
        if (call.kind == CallKind::kSend) {
          sends_[{timeline.rank, call.peer, call.group}].push_back({t, c});
        } else if (call.kind == CallKind::kReceive) {
          receives_[{call.peer, timeline.rank, call.group}].push_back({t, c});
        } else if (!call.members.empty() || whole_world) {
          collectives_[{call.group, call.collective, call.members}][t].push_back(c);
        } else {
          ++absent_members_;  // a collective of unknown group in a world larger than the traces
        }
      }
    }
  }

  void match_pair(const PairKey& key, const std::vector<CallRef>& sends,
                  const std::vector<CallRef>& receives) {
    if (!index_of_rank_.count(std::get<1>(key))) {
      absent_members_ += static_cast<int>(sends.size());
      return;
    }
    const std::size_t pairs = std::min(sends.size(), receives.size());
    missing_ += static_cast<int>(sends.size() - pairs);
    for (std::size_t i = 0; i < pairs; ++i) {
      const std::int64_t sent = call(sends[i]).elements;
      const std::int64_t received = call(receives[i]).elements;
      if (sent >= 0 && received >= 0 && sent != received) ++result_.size_mismatches;
      add_group(CallKind::kSend, {sends[i], receives[i]});
    }
    // Receives left over are counted when their key is visited (no sends) or here.
    missing_ += static_cast<int>(receives.size() - pairs);
  }

  void match_collective(const CollectiveKey& key,
                        std::map<int, std::vector<std::uint32_t>>& per_timeline) {
    std::vector<int> members;  // timeline indices
    const std::vector<int>& ranks = std::get<2>(key);
    if (ranks.empty()) {
      for (std::size_t t = 0; t < timelines_.size(); ++t) members.push_back(static_cast<int>(t));
    } else {
      for (int rank : ranks) {
        const auto found = index_of_rank_.find(rank);
        if (found == index_of_rank_.end()) {
          for (const auto& [t, calls] : per_timeline) {
            absent_members_ += static_cast<int>(calls.size());
          }
          return;
        }
        members.push_back(found->second);
      }
    }
    std::size_t instances = SIZE_MAX;
    for (int member : members) instances = std::min(instances, per_timeline[member].size());
    for (std::size_t k = 0; k < instances; ++k) {
      std::vector<CallRef> calls;
      for (int member : members) calls.push_back({member, per_timeline[member][k]});
      add_group(CallKind::kCollective, std::move(calls));
    }
    for (int member : members) {
      missing_ += static_cast<int>(per_timeline[member].size() - instances);
    }
  }

  const CommunicationCall& call(const CallRef& ref) const {
    return timelines_[static_cast<std::size_t>(ref.timeline)].calls[ref.call];
  }

  void add_group(CallKind kind, std::vector<CallRef> calls) {
    const auto index = static_cast<std::int32_t>(result_.groups.size());
    for (const CallRef& ref : calls) {
      result_.group_of[static_cast<std::size_t>(ref.timeline)][ref.call] = index;
    }
    result_.groups.push_back({kind, std::move(calls)});
  }

  const std::vector<RankTimeline>& timelines_;
  PeerMatching result_;
  std::map<int, int> index_of_rank_;
  std::map<PairKey, std::vector<CallRef>> sends_;
  std::map<PairKey, std::vector<CallRef>> receives_;
  std::map<CollectiveKey, std::map<int, std::vector<std::uint32_t>>> collectives_;
  int missing_ = 0;         // calls whose counterpart the peer's trace lacks
  int absent_members_ = 0;  // calls with a member whose trace is not given
};

}  // namespace

const TimelineKernel& kernel_of(const RankTimeline& timeline, const CommunicationCall& call) {
  return timeline.streams[call.stream].kernels[call.kernel];
}

PeerMatching match_calls(const std::vector<RankTimeline>& timelines) {
  return Matcher(timelines).run();
}

std::vector<std::vector<CallSplit>> split_calls(const std::vector<RankTimeline>& timelines,
                                                const PeerMatching& matching) {
  std::vector<std::vector<CallSplit>> splits(timelines.size());
  for (std::size_t t = 0; t < timelines.size(); ++t) splits[t].resize(timelines[t].calls.size());
  for (const CallGroup& group : matching.groups) {
    CallSplit split;
    split.matched = true;
    split.ready = INT64_MIN;
    for (const CallRef& ref : group.calls) {
      const RankTimeline& timeline = timelines[static_cast<std::size_t>(ref.timeline)];
      const TimeNs start = kernel_of(timeline, timeline.calls[ref.call]).start;
      if (start > split.ready) {
        split.ready = start;
        split.waited_for = ref.timeline;
      }
    }
    for (const CallRef& ref : group.calls)
      splits[static_cast<std::size_t>(ref.timeline)][ref.call] = split;
  }
  return splits;
}

}  // namespace dualpipe::trace
