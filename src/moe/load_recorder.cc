#include "dualpipe/moe/load_recorder.h"

#include <stdexcept>
#include <string>

namespace dualpipe::moe {

LoadRecorder::LoadRecorder(int num_layers, int64_t num_experts, torch::Device device)
    : num_layers_(num_layers), num_experts_(num_experts), device_(device) {
  if (num_layers < 1 || num_experts < 1)
    throw std::invalid_argument("load recorder: need layers and experts");
  current_ = torch::zeros({num_layers_, num_experts_},
                          torch::TensorOptions(torch::kInt64).device(device_));
}

void LoadRecorder::add(int layer, const torch::Tensor& tokens_per_expert) {
  if (layer < 0 || layer >= num_layers_ || tokens_per_expert.numel() != num_experts_) {
    throw std::invalid_argument("load recorder: layer " + std::to_string(layer) + " with " +
                                std::to_string(tokens_per_expert.numel()) +
                                " counts does not fit " + std::to_string(num_layers_) +
                                " layers of " + std::to_string(num_experts_) + " experts");
  }
  current_[layer].add_(
      tokens_per_expert.detach().reshape({num_experts_}).to(current_.device(), torch::kInt64));
}

void LoadRecorder::end_step(const CommGroup& group) {
  if (group) {
    std::vector<torch::Tensor> buffer{current_};
    group->allreduce(buffer)->wait();
  }
  const torch::Tensor counts = current_.cpu().contiguous();
  const int64_t* data = counts.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> step(static_cast<std::size_t>(num_layers_));
  for (int layer = 0; layer < num_layers_; ++layer) {
    step[static_cast<std::size_t>(layer)].assign(data + layer * num_experts_,
                                                 data + (layer + 1) * num_experts_);
  }
  steps_.push_back(std::move(step));
  current_.zero_();
}

eplb::LoadSeries LoadRecorder::series() const {
  eplb::LoadSeries series;
  for (const auto& step : steps_) {
    eplb::LoadMatrix loads(num_layers_, num_experts_);
    for (int layer = 0; layer < num_layers_; ++layer) {
      for (int64_t e = 0; e < num_experts_; ++e) {
        loads(layer, e) =
            static_cast<float>(step[static_cast<std::size_t>(layer)][static_cast<std::size_t>(e)]);
      }
    }
    series.push_back(std::move(loads));
  }
  return series;
}

}  // namespace dualpipe::moe
