#include "dualpipe/moe/expert_placement.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "dualpipe/eplb/placement.h"

namespace dualpipe::moe {

ExpertPlacement::ExpertPlacement(std::vector<int> phy2log, int num_experts, int num_ranks)
    : phy2log_(std::move(phy2log)), num_ranks_(num_ranks) {
  if (num_experts < 1) throw std::invalid_argument("expert placement: need at least one expert");
  if (num_ranks < 1) throw std::invalid_argument("expert placement: need at least one rank");
  if (phy2log_.empty() || phy2log_.size() % static_cast<std::size_t>(num_ranks) != 0) {
    throw std::invalid_argument("expert placement: " + std::to_string(phy2log_.size()) +
                                " slots do not divide evenly over " + std::to_string(num_ranks) +
                                " ranks");
  }
  log2phy_.assign(static_cast<std::size_t>(num_experts), {});
  for (std::size_t slot = 0; slot < phy2log_.size(); ++slot) {
    const int expert = phy2log_[slot];
    if (expert < 0 || expert >= num_experts) {
      throw std::invalid_argument("expert placement: slot " + std::to_string(slot) +
                                  " holds expert " + std::to_string(expert) +
                                  ", expected one in [0, " + std::to_string(num_experts) + ")");
    }
    log2phy_[static_cast<std::size_t>(expert)].push_back(static_cast<int>(slot));
  }
  for (int expert = 0; expert < num_experts; ++expert) {
    if (log2phy_[static_cast<std::size_t>(expert)].empty()) {
      throw std::invalid_argument("expert placement: expert " + std::to_string(expert) +
                                  " has no slot");
    }
  }
}

ExpertPlacement ExpertPlacement::identity(int num_experts, int num_ranks) {
  std::vector<int> phy2log(static_cast<std::size_t>(std::max(num_experts, 0)));
  std::iota(phy2log.begin(), phy2log.end(), 0);
  return ExpertPlacement(std::move(phy2log), num_experts, num_ranks);
}

ExpertPlacement ExpertPlacement::from_plan(const eplb::Placement& plan, int layer, int num_ranks) {
  if (layer < 0 || layer >= plan.num_layers()) {
    throw std::invalid_argument("expert placement: the plan has " +
                                std::to_string(plan.num_layers()) + " layers, no layer " +
                                std::to_string(layer));
  }
  const std::string where = "expert placement: layer " + std::to_string(layer) + " of the plan: ";
  ExpertPlacement placement(plan.phy2log[static_cast<std::size_t>(layer)], plan.num_experts(),
                            num_ranks);
  if (!plan.logcnt.empty()) {
    const std::vector<int>& counts = plan.logcnt.at(static_cast<std::size_t>(layer));
    for (int expert = 0; expert < placement.num_experts(); ++expert) {
      if (counts.at(static_cast<std::size_t>(expert)) != placement.copies(expert)) {
        throw std::invalid_argument(where + "logcnt of expert " + std::to_string(expert) +
                                    " disagrees with phy2log");
      }
    }
  }
  if (!plan.log2phy.empty()) {
    const auto& rows = plan.log2phy.at(static_cast<std::size_t>(layer));
    for (int expert = 0; expert < placement.num_experts(); ++expert) {
      std::vector<int> slots;
      for (int slot : rows.at(static_cast<std::size_t>(expert))) {
        if (slot >= 0) slots.push_back(slot);
      }
      std::sort(slots.begin(), slots.end());
      if (slots != placement.log2phy_[static_cast<std::size_t>(expert)]) {
        throw std::invalid_argument(where + "log2phy of expert " + std::to_string(expert) +
                                    " disagrees with phy2log");
      }
    }
  }
  return placement;
}

int ExpertPlacement::slot_for(int expert, int64_t occurrence, int source_rank) const {
  const std::vector<int>& slots = log2phy_.at(static_cast<std::size_t>(expert));
  const int64_t n = static_cast<int64_t>(slots.size());
  return slots[static_cast<std::size_t>((occurrence + source_rank) % n)];
}

torch::Tensor ExpertPlacement::log2phy_tensor() const {
  std::size_t max_copies = 0;
  for (const auto& slots : log2phy_) max_copies = std::max(max_copies, slots.size());
  torch::Tensor table =
      torch::full({num_experts(), static_cast<int64_t>(max_copies)}, -1, torch::kInt64);
  auto access = table.accessor<int64_t, 2>();
  for (std::size_t e = 0; e < log2phy_.size(); ++e) {
    for (std::size_t c = 0; c < log2phy_[e].size(); ++c) {
      access[static_cast<int64_t>(e)][static_cast<int64_t>(c)] = log2phy_[e][c];
    }
  }
  return table;
}

torch::Tensor ExpertPlacement::copies_tensor() const {
  torch::Tensor counts = torch::empty({num_experts()}, torch::kInt64);
  for (int e = 0; e < num_experts(); ++e) counts[e] = copies(e);
  return counts;
}

}  // namespace dualpipe::moe
