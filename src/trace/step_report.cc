#include "dualpipe/trace/step_report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "dualpipe/trace/json_text.h"

namespace dualpipe::trace {
namespace {

constexpr std::size_t kPeerActivities = 3;  // what a waited-for peer did: the longest few
constexpr std::size_t kPathLines = 8;       // critical path steps printed in the text

std::string ms(TimeNs ns) { return json_number(to_ms(ns), 3); }
std::string ms(double value) { return json_number(value, 3); }

std::string fixed(double value, int decimals = 3) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}
std::string fixed(TimeNs ns) { return fixed(to_ms(ns)); }

int rank_of(const std::vector<RankTimeline>& timelines, int t) {
  return timelines[static_cast<std::size_t>(t)].rank;
}

void waits_json(std::ostringstream& out, const std::vector<RankTimeline>& timelines,
                const RankAttribution& a) {
  out << "\"waits\": [";
  for (std::size_t w = 0; w < a.waits.size(); ++w) {
    const PeerWait& wait = a.waits[w];
    out << (w ? ", " : "") << "{\"peer\": " << rank_of(timelines, wait.peer)
        << ", \"ms\": " << ms(wait.time) << ", \"peer_activity\": [";
    for (std::size_t i = 0; i < wait.peer_activity.size(); ++i) {
      out << (i ? ", " : "") << "{\"what\": " << json_quote(wait.peer_activity[i].what)
          << ", \"ms\": " << ms(wait.peer_activity[i].time) << "}";
    }
    out << "]}";
  }
  out << "]";
}

// Steps as rows [rank, start_ms, end_ms, category, phrase index]: a long trace's path has tens of
// thousands of steps, whose phrases repeat.
void path_json(std::ostringstream& out, const std::vector<RankTimeline>& timelines,
               const CriticalPath& path, TimeNs origin) {
  std::map<std::string, std::size_t> phrase_index;
  std::vector<const std::string*> phrases;
  std::ostringstream steps;
  for (std::size_t i = 0; i < path.steps.size(); ++i) {
    const PathStep& step = path.steps[i];
    const auto [it, added] = phrase_index.emplace(step.what, phrases.size());
    if (added) phrases.push_back(&it->first);
    steps << (i ? ",\n    [" : "\n    [") << rank_of(timelines, step.timeline) << ", "
          << ms(step.start - origin) << ", " << ms(step.end - origin) << ", \""
          << category_name(step.category) << "\", " << it->second << "]";
  }
  out << "\"critical_path\": {\"length_ms\": " << ms(path.length())
      << ", \"columns\": [\"rank\", \"start_ms\", \"end_ms\", \"category\", \"what\"], \"what\": [";
  for (std::size_t i = 0; i < phrases.size(); ++i)
    out << (i ? ", " : "") << json_quote(*phrases[i]);
  out << "],\n  \"steps\": [" << steps.str() << "]}";
}

void prediction_json(std::ostringstream& out, const PredictionResult& result) {
  out << "\"prediction\": ";
  if (!result.prediction) {
    out << (result.problem.empty() ? "null" : "{\"problem\": " + json_quote(result.problem) + "}");
    return;
  }
  const StepPrediction& p = *result.prediction;
  out << "{\"p2p_ms\": " << ms(p.p2p_ms) << ", \"messages\": " << p.messages
      << ", \"measured_ms\": " << ms(p.measured_ms) << ", \"simulated_ms\": " << ms(p.simulated_ms)
      << ", \"simulated_with_host_ms\": " << ms(p.simulated_with_host_ms) << ",\n  \"ranks\": [";
  for (std::size_t i = 0; i < p.ranks.size(); ++i) {
    const RankPrediction& r = p.ranks[i];
    out << (i ? ", " : "") << "{\"rank\": " << r.rank << ", \"measured_ms\": " << ms(r.measured_ms)
        << ", \"simulated_ms\": " << ms(r.simulated_ms)
        << ", \"simulated_with_host_ms\": " << ms(r.simulated_with_host_ms) << "}";
  }
  out << "],\n  \"largest_divergences\": [";
  for (std::size_t i = 0; i < p.largest.size(); ++i) {
    const ActionDivergence& d = p.largest[i];
    out << (i ? ",\n    " : "\n    ") << "{\"rank\": " << d.rank
        << ", \"action\": " << json_quote(d.action)
        << ", \"measured_start_ms\": " << ms(d.measured_start_ms)
        << ", \"simulated_start_ms\": " << ms(d.simulated_start_ms)
        << ", \"added_ms\": " << ms(d.added_ms) << ", \"host_gap_ms\": " << ms(d.host_gap_ms)
        << ", \"wait_ms\": " << ms(d.wait_ms) << "}";
  }
  out << "],\n  \"unmodelled\": " << json_quote(p.unmodelled) << "}";
}

}  // namespace

std::string rank_step_json(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                           std::size_t t) {
  const RankAttribution& a = analysis.ranks[t];
  const auto cause = [&a](OtherCause c) {
    return ms(a.other_by_cause[static_cast<std::size_t>(c)]);
  };
  std::ostringstream out;
  out << "\"span_ms\": " << ms(a.span.length()) << ", \"wait_ms\": " << ms(a.wait_kernels)
      << ", \"transfer_ms\": " << ms(a.transfer_kernels)
      << ",\n  \"attribution\": {\"compute_ms\": " << ms(a.of(TimeCategory::kCompute))
      << ", \"transfer_ms\": " << ms(a.of(TimeCategory::kTransfer))
      << ", \"wait_ms\": " << ms(a.of(TimeCategory::kWait))
      << ", \"host_gap_ms\": " << ms(a.of(TimeCategory::kHostGap))
      << ", \"other_ms\": " << ms(a.of(TimeCategory::kOther))
      << ", \"other\": {\"memcpy_memset_ms\": " << cause(OtherCause::kMemory)
      << ", \"unmatched_comm_ms\": " << cause(OtherCause::kUnmatchedCommunication)
      << ", \"queued_ms\": " << cause(OtherCause::kQueued)
      << ", \"after_last_kernel_ms\": " << cause(OtherCause::kAfterLastKernel)
      << ", \"unknown_idle_ms\": " << cause(OtherCause::kUnknownIdle) << "}, ";
  waits_json(out, timelines, a);
  out << "}";
  return out.str();
}

std::string step_json(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                      TimeNs origin) {
  std::ostringstream out;
  const ClockAlignment& clocks = analysis.clocks;
  out << "\"step_ms\": " << ms(analysis.span.length())
      << ",\n\"clocks\": {\"estimated\": " << (clocks.estimated ? "true" : "false")
      << ", \"exchanges\": " << clocks.exchanges << ", \"offsets_ms\": [";
  for (std::size_t t = 0; t < clocks.offsets.size(); ++t) {
    out << (t ? ", " : "") << "{\"rank\": " << timelines[t].rank
        << ", \"offset_ms\": " << ms(clocks.offsets[t]) << "}";
  }
  out << "], \"notes\": [";
  for (std::size_t i = 0; i < clocks.notes.size(); ++i) {
    out << (i ? ", " : "") << json_quote(clocks.notes[i]);
  }
  out << "]},\n\"matching\": {\"exchanges\": " << analysis.matching.groups.size()
      << ", \"unmatched_calls\": " << analysis.matching.unmatched_calls << ", \"notes\": [";
  for (std::size_t i = 0; i < analysis.matching.notes.size(); ++i) {
    out << (i ? ", " : "") << json_quote(analysis.matching.notes[i]);
  }
  out << "]},\n";
  path_json(out, timelines, analysis.path, origin);
  out << ",\n";
  prediction_json(out, analysis.prediction);
  return out.str();
}

std::string rank_step_text(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                           std::size_t t) {
  const RankAttribution& a = analysis.ranks[t];
  std::ostringstream out;
  out << "  step " << fixed(a.span.length()) << " ms: compute "
      << fixed(a.of(TimeCategory::kCompute)) << ", transfer "
      << fixed(a.of(TimeCategory::kTransfer)) << ", waiting " << fixed(a.of(TimeCategory::kWait))
      << ", host gaps " << fixed(a.of(TimeCategory::kHostGap)) << ", other "
      << fixed(a.of(TimeCategory::kOther)) << "\n";
  for (const PeerWait& wait : a.waits) {
    out << "    waiting for rank " << rank_of(timelines, wait.peer) << ": " << fixed(wait.time)
        << " ms; meanwhile it did";
    for (std::size_t i = 0; i < wait.peer_activity.size() && i < kPeerActivities; ++i) {
      out << (i ? ", " : " ") << wait.peer_activity[i].what << " "
          << fixed(wait.peer_activity[i].time) << " ms";
    }
    out << "\n";
  }
  return out.str();
}

std::string step_text(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                      TimeNs origin) {
  std::ostringstream out;
  const ClockAlignment& clocks = analysis.clocks;
  if (timelines.size() > 1) {
    out << "clocks: ";
    if (!clocks.estimated) {
      out << "one clock (" << clocks.exchanges << " matched exchanges agree with it)\n";
    } else {
      out << "offsets estimated from " << clocks.exchanges << " matched exchanges:";
      for (std::size_t t = 0; t < clocks.offsets.size(); ++t) {
        out << (t ? ", " : " ") << "rank " << timelines[t].rank << " " << fixed(clocks.offsets[t])
            << " ms";
      }
      out << "\n";
    }
    for (const std::string& note : clocks.notes) out << "  " << note << "\n";
  }
  for (const std::string& note : analysis.matching.notes) out << "note: " << note << "\n";

  const CriticalPath& path = analysis.path;
  if (!path.steps.empty()) {
    std::vector<std::size_t> longest(path.steps.size());
    for (std::size_t i = 0; i < longest.size(); ++i) longest[i] = i;
    std::stable_sort(longest.begin(), longest.end(), [&](std::size_t x, std::size_t y) {
      return path.steps[x].length() > path.steps[y].length();
    });
    if (longest.size() > kPathLines) longest.resize(kPathLines);
    std::sort(longest.begin(), longest.end());
    out << "critical path " << fixed(path.length()) << " ms in " << path.steps.size()
        << " steps; the longest:\n";
    for (std::size_t i : longest) {
      const PathStep& step = path.steps[i];
      out << "  " << fixed(to_ms(step.start - origin)) << " .. " << fixed(to_ms(step.end - origin))
          << " ms  rank " << rank_of(timelines, step.timeline) << "  " << step.what << " ("
          << fixed(step.length()) << " ms)\n";
    }
  }
  const PredictionResult& result = analysis.prediction;
  if (!result.problem.empty()) out << "measured vs simulated: " << result.problem << "\n";
  if (result.prediction) {
    const StepPrediction& p = *result.prediction;
    out << "measured vs simulated (the toolkit's action annotations; messages " << fixed(p.p2p_ms)
        << " ms each): step measured " << fixed(p.measured_ms) << " ms, simulated "
        << fixed(p.simulated_ms) << " ms, with host gaps " << fixed(p.simulated_with_host_ms)
        << " ms\n";
    for (const ActionDivergence& d : p.largest) {
      if (d.added_ms <= 0) break;
      out << "  rank " << d.rank << " " << d.action << " started " << fixed(d.added_ms)
          << " ms later than simulated (host gap " << fixed(d.host_gap_ms) << " ms, waiting "
          << fixed(d.wait_ms) << " ms before it)\n";
    }
    if (!p.unmodelled.empty()) out << "  " << p.unmodelled << "\n";
  }
  return out.str();
}

}  // namespace dualpipe::trace
