#include "dualpipe/trace/step_prediction.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/simulator.h"
#include "dualpipe/trace/schedule_extraction.h"
#include "dualpipe/trace/statistics.h"

namespace dualpipe::trace {
namespace {

using schedule::ActionTiming;

constexpr double kTolerance = 0.05;  // "within 5%"
constexpr std::size_t kLargest = 5;

// The compute actions of a measured schedule with their timings (ms since the origin).
struct ComputeRun {
  schedule::Schedule schedule;                    // compute-only
  std::vector<std::vector<ActionTiming>> timing;  // aligned with schedule.programs
  double step_start = 0.0;                        // earliest compute start
};

ComputeRun compute_run(const schedule::TimedSchedule& measured) {
  ComputeRun run;
  run.schedule = schedule::without_communication(measured.schedule);
  run.timing.resize(measured.schedule.programs.size());
  bool any = false;
  for (std::size_t r = 0; r < measured.schedule.programs.size(); ++r) {
    for (std::size_t i = 0; i < measured.schedule.programs[r].size(); ++i) {
      if (!schedule::is_compute(measured.schedule.programs[r][i].op)) continue;
      const ActionTiming& t = measured.timing[r][i];
      run.timing[r].push_back(t);
      run.step_start = any ? std::min(run.step_start, t.start) : t.start;
      any = true;
    }
  }
  return run;
}

// Mean transfer time (ms) of the matched sends' and receives' kernels, and how many there were.
std::pair<double, int> mean_transfer(const std::vector<RankTimeline>& timelines,
                                     const std::vector<std::vector<CallSplit>>& splits) {
  double total = 0.0;
  int count = 0;
  for (std::size_t t = 0; t < timelines.size(); ++t) {
    for (std::size_t c = 0; c < timelines[t].calls.size(); ++c) {
      const CommunicationCall& call = timelines[t].calls[c];
      if (call.kind != CallKind::kReceive || !splits[t][c].matched) continue;
      const TimelineKernel& kernel = kernel_of(timelines[t], call);
      total += to_ms(kernel.end - std::clamp(splits[t][c].ready, kernel.start, kernel.end));
      ++count;
    }
  }
  return {count > 0 ? total / count : 0.0, count};
}

// Time of the segments that `counts` in a rank's attribution inside [from, to) (absolute ns).
template <typename Predicate>
TimeNs time_in(const RankAttribution& attribution, TimeNs from, TimeNs to, Predicate counts) {
  TimeNs total = 0;
  const auto first =
      std::upper_bound(attribution.segments.begin(), attribution.segments.end(), from,
                       [](TimeNs t, const TimeSegment& s) { return t < s.end; });
  for (auto s = first; s != attribution.segments.end() && s->start < to; ++s) {
    if (counts(*s)) total += std::min(s->end, to) - std::max(s->start, from);
  }
  return total;
}

// GPU idle time the host caused: nothing launched (host gap) or launched but not yet started.
bool host_idle(const TimeSegment& s) {
  return s.category == TimeCategory::kHostGap || s.cause == OtherCause::kQueued;
}
bool host_gap(const TimeSegment& s) { return s.category == TimeCategory::kHostGap; }
bool waiting(const TimeSegment& s) { return s.category == TimeCategory::kWait; }
bool moving(const TimeSegment& s) { return s.category == TimeCategory::kTransfer; }

std::string fixed(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", value);
  return text;
}

double latest_end(const std::vector<ActionTiming>& timing) {
  double end = 0.0;
  for (const ActionTiming& t : timing) end = std::max(end, t.end());
  return end;
}

}  // namespace

PredictionResult predict_step(const std::vector<RankTimeline>& timelines,
                              const std::vector<std::vector<CallSplit>>& splits,
                              const std::vector<RankAttribution>& attributions) {
  PredictionResult result;
  const TimeNs origin = earliest_gpu_start(timelines);
  const std::optional<schedule::TimedSchedule> measured = extract_schedule(timelines, origin);
  if (!measured) return result;
  const ComputeRun run = compute_run(*measured);
  std::map<int, std::size_t> timeline_of_rank;
  for (std::size_t t = 0; t < timelines.size(); ++t) timeline_of_rank[timelines[t].rank] = t;
  const auto at_ns = [&](double ms) {
    return origin + static_cast<TimeNs>(std::llround(ms * 1e6));
  };

  // Durations: measured GPU windows; the second set adds each action's preceding host gap.
  schedule::ActionDurations gpu(run.timing.size());
  schedule::ActionDurations with_host(run.timing.size());
  std::vector<double> host_before_actions(run.timing.size(), 0.0);
  std::vector<double> transfer_before_actions(run.timing.size(), 0.0);
  std::vector<double> wait_before_actions(run.timing.size(), 0.0);
  for (std::size_t r = 0; r < run.timing.size(); ++r) {
    const auto found = timeline_of_rank.find(static_cast<int>(r));
    double previous_end = run.step_start;
    for (const ActionTiming& t : run.timing[r]) {
      gpu[r].push_back(t.duration);
      double host = 0.0;
      if (found != timeline_of_rank.end() && t.start > previous_end) {
        const RankAttribution& a = attributions[found->second];
        const TimeNs from = at_ns(previous_end);
        const TimeNs to = at_ns(t.start);
        host = to_ms(time_in(a, from, to, host_idle));
        transfer_before_actions[r] += to_ms(time_in(a, from, to, moving));
        wait_before_actions[r] += to_ms(time_in(a, from, to, waiting));
      }
      with_host[r].push_back(t.duration + host);
      host_before_actions[r] += host;
      previous_end = std::max(previous_end, t.end());
    }
  }
  StepPrediction p;
  std::tie(p.p2p_ms, p.messages) = mean_transfer(timelines, splits);
  schedule::CostModel costs = schedule::uniform_cost_model(1.0, 2.0, 1.0, 3.0, p.p2p_ms);
  costs.time_unit = "ms";
  schedule::Simulation simulated;
  schedule::Simulation simulated_with_host;
  try {
    simulated = schedule::simulate(run.schedule, costs, gpu);
    simulated_with_host = schedule::simulate(run.schedule, costs, with_host);
  } catch (const std::invalid_argument& error) {
    result.problem = std::string("the measured schedule cannot be simulated: ") + error.what();
    return result;
  }

  for (std::size_t r = 0; r < run.timing.size(); ++r) {
    RankPrediction rank;
    rank.rank = static_cast<int>(r);
    rank.measured_ms = run.timing[r].empty() ? 0.0 : latest_end(run.timing[r]) - run.step_start;
    rank.simulated_ms = latest_end(simulated.timed.timing[r]);
    rank.simulated_with_host_ms = latest_end(simulated_with_host.timed.timing[r]);
    p.measured_ms = std::max(p.measured_ms, rank.measured_ms);
    p.simulated_ms = std::max(p.simulated_ms, rank.simulated_ms);
    p.simulated_with_host_ms = std::max(p.simulated_with_host_ms, rank.simulated_with_host_ms);
    p.ranks.push_back(rank);
    // Lateness against the simulation, action by action.
    double lateness = 0.0;
    double previous_end = run.step_start;
    const auto found = timeline_of_rank.find(static_cast<int>(r));
    for (std::size_t i = 0; i < run.timing[r].size(); ++i) {
      const ActionTiming& m = run.timing[r][i];
      const double simulated_start = simulated.timed.timing[r][i].start;
      const double late = (m.start - run.step_start) - simulated_start;
      ActionDivergence d;
      d.rank = static_cast<int>(r);
      d.action = schedule::to_string(run.schedule.programs[r][i]);
      d.measured_start_ms = m.start - run.step_start;
      d.simulated_start_ms = simulated_start;
      d.added_ms = std::round((late - lateness) * 1e6) / 1e6;  // to the ns: ties compare equal
      if (found != timeline_of_rank.end() && m.start > previous_end) {
        const RankAttribution& a = attributions[found->second];
        d.host_gap_ms = to_ms(time_in(a, at_ns(previous_end), at_ns(m.start), host_gap));
        d.wait_ms = to_ms(time_in(a, at_ns(previous_end), at_ns(m.start), waiting));
      }
      p.largest.push_back(d);
      lateness = late;
      previous_end = std::max(previous_end, m.end());
    }
  }
  std::sort(p.largest.begin(), p.largest.end(),
            [](const ActionDivergence& a, const ActionDivergence& b) {
              return a.added_ms != b.added_ms ? a.added_ms > b.added_ms
                                              : a.measured_start_ms < b.measured_start_ms;
            });
  if (p.largest.size() > kLargest) p.largest.resize(kLargest);

  if (p.measured_ms > 0 && std::fabs(p.simulated_ms - p.measured_ms) > kTolerance * p.measured_ms) {
    const auto most = std::max_element(host_before_actions.begin(), host_before_actions.end());
    const bool host_explains =
        std::fabs(p.simulated_with_host_ms - p.measured_ms) <= kTolerance * p.measured_ms;
    if (*most > 0) {
      p.unmodelled = "the simulator does not model the host: rank " +
                     std::to_string(most - host_before_actions.begin()) + "'s GPU idled " +
                     fixed(*most) +
                     " ms before its actions waiting for launches; with each "
                     "rank's idle time added to its actions it predicts " +
                     fixed(p.simulated_with_host_ms) + " ms";
    }
    if (!host_explains) {
      std::size_t last = 0;  // the rank that finished last
      for (std::size_t r = 1; r < p.ranks.size(); ++r) {
        if (p.ranks[r].measured_ms > p.ranks[last].measured_ms) last = r;
      }
      p.unmodelled += std::string(p.unmodelled.empty() ? "" : "; ") + "the remaining " +
                      fixed(p.measured_ms - p.simulated_with_host_ms) +
                      " ms: between its "
                      "actions rank " +
                      std::to_string(last) + "'s GPU moved data for " +
                      fixed(transfer_before_actions[last]) + " ms and waited for peers " +
                      fixed(wait_before_actions[last]) +
                      " ms, where the simulator charges one "
                      "mean transfer per message and lets sends run beside compute";
    }
  }
  result.prediction = std::move(p);
  return result;
}

}  // namespace dualpipe::trace
