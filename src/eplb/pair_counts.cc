#include "pair_counts.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "gpu_assignment.h"

namespace dualpipe::eplb::detail {
namespace {

// Lighter experts tried as receivers of a copy besides those at the maximum.
constexpr int kLightReceivers = 8;
// Moves allowed per copy: ample for convergence, a bound against pathological inputs.
constexpr int kMovesPerCopy = 4;

// The value of a choice of counts: the largest pair and how many pairs reach it.
struct PairedValue {
  double max_load = 0.0;
  long long pairs_at_max = 0;
  bool operator<(const PairedValue& other) const {
    if (max_load != other.max_load) return max_load < other.max_load;
    return pairs_at_max < other.pairs_at_max;
  }
};

// The copies of one expert: `count` items of load `value`.
struct CopyGroup {
  double value;
  long long count;
  int expert;
};

// Walks the groups (sorted by value, largest first) pairing rank k with rank N-1-k of the N
// items, k < N/2; calls on_pair(top group, bottom group, pair value, number of such pairs).
template <typename OnPair>
void fold_pairs(const std::vector<CopyGroup>& groups, OnPair on_pair) {
  std::vector<long long> start(groups.size() + 1, 0);
  for (std::size_t g = 0; g < groups.size(); ++g) start[g + 1] = start[g] + groups[g].count;
  const long long items = start.back();
  std::size_t top = 0, bottom = groups.size() - 1;
  for (long long k = 0; k < items / 2;) {
    while (start[top + 1] <= k) ++top;
    while (start[bottom] > items - 1 - k) --bottom;
    const long long n = std::min({start[top + 1] - k, items - k - start[bottom], items / 2 - k});
    on_pair(groups[top], groups[bottom], groups[top].value + groups[bottom].value, n);
    k += n;
  }
}

bool heavier(const CopyGroup& a, const CopyGroup& b) {
  return a.value > b.value || (a.value == b.value && a.expert < b.expert);
}

std::vector<CopyGroup> sorted_groups(const std::vector<double>& loads,
                                     const std::vector<int>& copies) {
  std::vector<CopyGroup> groups;
  groups.reserve(loads.size());
  for (std::size_t e = 0; e < loads.size(); ++e) {
    groups.push_back({loads[e] / copies[e], copies[e], static_cast<int>(e)});
  }
  std::sort(groups.begin(), groups.end(), heavier);
  return groups;
}

PairedValue value_of(const std::vector<CopyGroup>& groups) {
  PairedValue result;
  fold_pairs(groups, [&](const CopyGroup&, const CopyGroup&, double value, long long n) {
    if (value > result.max_load) result = {value, 0};
    if (value == result.max_load) result.pairs_at_max += n;
  });
  return result;
}

// `groups` with one copy moved from expert `from` to expert `to`, still sorted, in `out`.
void with_move(const std::vector<CopyGroup>& groups, const std::vector<double>& loads,
               const std::vector<int>& copies, int from, int to, std::vector<CopyGroup>& out) {
  CopyGroup changed[2] = {{loads[from] / (copies[from] - 1), copies[from] - 1, from},
                          {loads[to] / (copies[to] + 1), copies[to] + 1, to}};
  if (heavier(changed[1], changed[0])) std::swap(changed[0], changed[1]);
  out.clear();
  int next = 0;
  for (const CopyGroup& g : groups) {
    if (g.expert == from || g.expert == to) continue;
    while (next < 2 && heavier(changed[next], g)) out.push_back(changed[next++]);
    out.push_back(g);
  }
  while (next < 2) out.push_back(changed[next++]);
}

// The experts worth giving a copy: those in pairs at the maximum and those with heavier copies
// (lighter copies of theirs shift the pairing), and the experts whose next copy would be lightest
// (extra small partners for the heavy copies).
std::vector<int> receivers(const std::vector<CopyGroup>& groups, const std::vector<double>& loads,
                           const std::vector<int>& copies, int max_copies, double max_load) {
  std::vector<int> result;
  double lightest_top = 0.0;
  fold_pairs(groups, [&](const CopyGroup& top, const CopyGroup& bottom, double value, long long) {
    if (value < max_load) return;
    result.push_back(bottom.expert);
    lightest_top = top.value;
  });
  for (const CopyGroup& g : groups) {
    if (g.value < lightest_top) break;
    result.push_back(g.expert);
  }
  std::vector<int> light(loads.size());
  std::iota(light.begin(), light.end(), 0);
  const auto next_copy = [&](int e) { return loads[e] / (copies[e] + 1); };
  const std::size_t keep = std::min<std::size_t>(kLightReceivers, light.size());
  std::partial_sort(light.begin(), light.begin() + keep, light.end(), [&](int a, int b) {
    return next_copy(a) < next_copy(b) || (next_copy(a) == next_copy(b) && a < b);
  });
  result.insert(result.end(), light.begin(), light.begin() + keep);
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  result.erase(
      std::remove_if(result.begin(), result.end(), [&](int e) { return copies[e] >= max_copies; }),
      result.end());
  return result;
}

}  // namespace

double paired_max_load(const std::vector<double>& loads, const std::vector<int>& copies) {
  return value_of(sorted_groups(loads, copies)).max_load;
}

std::vector<int> improve_paired_copies(const std::vector<double>& loads, std::vector<int> copies,
                                       int max_copies) {
  std::vector<CopyGroup> groups = sorted_groups(loads, copies);
  std::vector<CopyGroup> moved;
  PairedValue current = value_of(groups);
  const long long total_copies = std::accumulate(copies.begin(), copies.end(), 0LL);
  const long long max_moves = kMovesPerCopy * total_copies;
  long long work = work_budget(static_cast<std::size_t>(total_copies) + loads.size());
  std::vector<int> donors;
  for (long long move = 0; move < max_moves && work > 0; ++move) {
    donors.clear();
    for (int e = 0; e < static_cast<int>(copies.size()); ++e) {
      if (copies[e] >= 2) donors.push_back(e);
    }
    PairedValue best = current;
    std::pair<int, int> best_move{-1, -1};
    for (int to : receivers(groups, loads, copies, max_copies, current.max_load)) {
      for (int from : donors) {
        if (from == to || work <= 0) continue;
        work -= static_cast<long long>(groups.size());
        with_move(groups, loads, copies, from, to, moved);
        const PairedValue value = value_of(moved);
        if (value < best) {
          best = value;
          best_move = {from, to};
        }
      }
    }
    if (best_move.first < 0) break;
    with_move(groups, loads, copies, best_move.first, best_move.second, moved);
    groups.swap(moved);
    --copies[best_move.first];
    ++copies[best_move.second];
    current = best;
  }
  return copies;
}

}  // namespace dualpipe::eplb::detail
