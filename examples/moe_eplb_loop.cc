// EPLB in the training loop: train an expert-parallel MoE stage whose router prefers a few experts,
// record how many tokens each expert gets, plan a placement with EPLB, move the experts (weights
// and Adam state) to it between steps, and train on. Prints the max/mean tokens per GPU and the
// step time before and after. Each training step runs its micro-batches as overlapped
// forward/backward pairs (the overlap engine), as DualPipe's steady state would.
//
//   torchrun --nproc-per-node 2 --no-python ./moe_eplb_loop [--device cuda] [--steps 300]
//            [--tokens 256] [--hidden 64] [--ffn-hidden 128] [--seq 32] [--skew 0.3]
//            [--comm-backend auto|nccl|gloo] [--print-every 50]
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dualpipe/eplb/aggregation.h"
#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/eplb/placement.h"
#include "dualpipe/eplb/plan_problem.h"
#include "dualpipe/eplb/policy.h"
#include "dualpipe/eplb/statistics.h"
#include "dualpipe/moe/load_recorder.h"
#include "dualpipe/moe/moe_stage.h"
#include "dualpipe/runtime/launch_environment.h"
#include "dualpipe/runtime/process_group.h"

namespace {

using namespace dualpipe::runtime;
using namespace dualpipe::moe;

struct LoopSettings {
  torch::Device device{torch::kCPU};
  int steps = 300;       // per phase: before and after re-planning
  int microbatches = 4;  // per step
  int64_t hidden = 64;
  int64_t ffn_hidden = 128;
  int64_t experts = 16;
  int64_t top_k = 2;
  int layers = 2;
  int64_t heads = 4;
  int64_t tokens = 256;  // per micro-batch and rank
  int64_t seq = 32;
  double skew = 0.3;  // selection bias of the last expert (the first gets 0, linear in between)
  MessageBackend backend = MessageBackend::kAutomatic;  // gloo lets CUDA ranks share a GPU
  int print_every = 50;                                 // steps between printed losses
};

LoopSettings parse(int argc, char** argv, const LaunchEnvironment& env) {
  LoopSettings s;
  bool cuda = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("flag " + flag + " needs a value");
    const std::string value = argv[i + 1];
    if (flag == "--device" && (value == "cuda" || value == "cpu"))
      cuda = value == "cuda";
    else if (flag == "--comm-backend")
      s.backend = message_backend_named(value);
    else if (flag == "--print-every")
      s.print_every = std::stoi(value);
    else if (flag == "--steps")
      s.steps = std::stoi(value);
    else if (flag == "--tokens")
      s.tokens = std::stoll(value);
    else if (flag == "--hidden")
      s.hidden = std::stoll(value);
    else if (flag == "--ffn-hidden")
      s.ffn_hidden = std::stoll(value);
    else if (flag == "--seq")
      s.seq = std::stoll(value);
    else if (flag == "--skew")
      s.skew = std::stod(value);
    else
      throw std::invalid_argument("unknown flag " + flag +
                                  " (flags: --device cpu|cuda, --steps N, --tokens N, --hidden H, "
                                  "--ffn-hidden F, --seq S, --skew B, --comm-backend "
                                  "auto|nccl|gloo, --print-every N)");
  }
  if (cuda) s.device = cuda_device_of(env, s.backend);
  if (s.steps < 1 || s.print_every < 1 || s.tokens < 1 || s.seq < 1 || s.tokens % s.seq != 0 ||
      s.hidden < 1 || s.hidden % s.heads != 0 || s.ffn_hidden < 1) {
    throw std::invalid_argument("need positive sizes, --seq dividing --tokens and " +
                                std::to_string(s.heads) + " heads dividing --hidden");
  }
  return s;
}

// A regression task with a fixed teacher: y = tanh(x T).
struct Teacher {
  torch::Tensor weight;
  torch::Tensor operator()(const torch::Tensor& x) const { return torch::tanh(x.matmul(weight)); }
};

// One training step: micro-batch 0 forward, then overlapped pairs (forward i+1 | backward i), then
// the last backward; replica gradients are summed and Adam steps. Returns the mean loss (read once,
// at the end, so the host never waits for the GPU in the middle of the step).
double train_step(MoeStage& stage, torch::optim::Adam& adam, const Teacher& teacher,
                  const LoopSettings& s) {
  const Criterion mse = [](const TensorList& out, const TensorList& labels) {
    return torch::mse_loss(out[0], labels[0]);
  };
  std::vector<torch::Tensor> inputs;
  std::vector<torch::Tensor> targets;
  for (int m = 0; m < s.microbatches; ++m) {
    inputs.push_back(
        torch::randn({s.tokens / s.seq, s.seq, s.hidden}, torch::TensorOptions().device(s.device)));
    targets.push_back(teacher(inputs.back()));
  }
  adam.zero_grad();
  ForwardResult previous = run_forward(stage, ForwardPass{{inputs[0]}, &mse, {targets[0]}});
  torch::Tensor loss = previous.loss.detach();
  for (int m = 1; m < s.microbatches; ++m) {
    BackwardPass backward{&stage, previous.loss, {}, {}};
    previous =
        stage.overlapped_forward_backward(ForwardPass{{inputs[m]}, &mse, {targets[m]}}, backward);
    loss = loss + previous.loss.detach();
  }
  run_backward(BackwardPass{&stage, previous.loss, {}, {}});
  stage.sum_replicated_gradients();
  adam.step();
  return loss.item<double>() / s.microbatches;
}

// Max and mean tokens per GPU (summed over layers and the steps of `series`) under `placement`,
// counting each expert's tokens split evenly over its copies.
std::pair<double, double> tokens_per_gpu(const dualpipe::eplb::LoadSeries& series,
                                         const dualpipe::eplb::SlotTable& placement,
                                         const dualpipe::eplb::PlanParameters& parameters) {
  const auto problem =
      dualpipe::eplb::make_plan_problem(dualpipe::eplb::aggregate(series, {}), parameters);
  double max_sum = 0;
  double mean_sum = 0;
  for (const auto& layer : dualpipe::eplb::placement_statistics(placement, problem)) {
    max_sum += layer.max_gpu_load;
    mean_sum += layer.mean_gpu_load;
  }
  return {max_sum, mean_sum};
}

// The middle value (the mean of the two middle ones for an even count).
double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// What a training phase measured: the median step time and the steps whose loss was not finite.
struct PhaseResult {
  double median_ms = 0;
  int non_finite_losses = 0;
};

// Trains `s.steps` steps recording loads.
PhaseResult train_phase(MoeStage& stage, torch::optim::Adam& adam, const Teacher& teacher,
                        const LoopSettings& s, LoadRecorder& recorder, const CommGroup& group,
                        const char* name, int rank) {
  std::vector<double> times;
  int non_finite = 0;
  for (int step = 0; step < s.steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    const double loss = train_step(stage, adam, teacher, s);
    if (s.device.is_cuda()) torch::cuda::synchronize(s.device.index());
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    recorder.end_step(group);
    if (!std::isfinite(loss)) ++non_finite;
    if (rank == 0 && (step % s.print_every == 0 || step + 1 == s.steps)) {
      std::printf("%s step %3d  loss %.5f  %.1f ms\n", name, step, loss, times.back());
    }
  }
  return {median(times), non_finite};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const LaunchEnvironment env = read_launch_environment();
    const LoopSettings s = parse(argc, argv, env);
    const int gpus = env.world_size;
    const auto timeout = std::chrono::minutes(5);
    const CommGroup group = make_expert_group(connect_store(env, timeout), env.all_ranks(),
                                              env.rank, s.device, timeout, s.backend);

    // Two spare slots per GPU: the initial placement copies experts 0.. once more (slot p holds
    // expert p % experts); the planner may give the spares to whichever experts need them.
    const int replicas = static_cast<int>(s.experts) + 2 * gpus;
    const dualpipe::eplb::SlotTable placement =
        dualpipe::eplb::trivial_placement(s.layers, static_cast<int>(s.experts), replicas);
    dualpipe::eplb::PlanParameters parameters;
    parameters.replicas = replicas;
    parameters.gpus = gpus;
    // Planning uniform loads first rejects a shape the planner cannot serve (such as one GPU) now,
    // not after the first training phase.
    dualpipe::eplb::plan(dualpipe::eplb::make_plan_problem(
                             dualpipe::eplb::LoadMatrix::Ones(s.layers, s.experts), parameters),
                         dualpipe::eplb::Policy::kBalanced);
    MoeStageOptions options;
    options.heads = s.heads;
    options.moe.hidden = s.hidden;
    options.moe.ffn_hidden = s.ffn_hidden;
    options.moe.experts = s.experts;
    options.moe.top_k = s.top_k;
    options.num_layers = s.layers;
    const dualpipe::eplb::Placement initial_maps = dualpipe::eplb::to_placement(placement);
    std::vector<ExpertPlacement> per_layer;
    for (int l = 0; l < s.layers; ++l)
      per_layer.push_back(ExpertPlacement::from_plan(initial_maps, l, gpus));
    MoeStage stage(options, group, per_layer);
    // The skew: experts with high ids (which the initial placement does not copy) win the top-k far
    // more often; the bias only steers selection.
    for (MoeTransformerLayer& layer : stage.layers) {
      torch::NoGradGuard no_grad;
      layer->moe->router->selection_bias.copy_(torch::linspace(0.0, s.skew, s.experts));
    }
    stage.to(s.device);
    torch::manual_seed(7);  // the same teacher everywhere
    const Teacher teacher{
        torch::randn({s.hidden, s.hidden}, torch::TensorOptions().device(s.device)) /
        std::sqrt(double(s.hidden))};
    torch::manual_seed(100 + env.rank);  // each rank its own data
    torch::optim::Adam adam(stage.parameters(), torch::optim::AdamOptions(1e-3));

    auto before = std::make_shared<LoadRecorder>(s.layers, s.experts, s.device);
    stage.set_load_recorder(before);
    const PhaseResult before_result =
        train_phase(stage, adam, teacher, s, *before, group, "before", env.rank);

    // Plan from the recorded loads (every rank gets the same sums, so the same plan) and apply it.
    const dualpipe::eplb::SlotTable planned =
        dualpipe::eplb::plan(dualpipe::eplb::make_plan_problem(
                                 dualpipe::eplb::aggregate(before->series(), {}), parameters),
                             dualpipe::eplb::Policy::kBalanced);
    const dualpipe::eplb::Placement planned_maps = dualpipe::eplb::to_placement(planned);
    for (int l = 0; l < s.layers; ++l) {
      stage.layers[static_cast<std::size_t>(l)]->moe->apply_placement(
          ExpertPlacement::from_plan(planned_maps, l, gpus), &adam);
    }

    auto after = std::make_shared<LoadRecorder>(s.layers, s.experts, s.device);
    stage.set_load_recorder(after);
    const PhaseResult after_result =
        train_phase(stage, adam, teacher, s, *after, group, "after", env.rank);

    if (env.rank == 0) {
      const auto [max_before, mean_before] =
          tokens_per_gpu(before->series(), placement, parameters);
      const auto [max_after, mean_after] = tokens_per_gpu(after->series(), planned, parameters);
      std::printf("tokens per GPU (all layers, %d steps):\n", s.steps);
      std::printf("  before re-planning: max %.0f  mean %.0f  max/mean %.3f\n", max_before,
                  mean_before, max_before / mean_before);
      std::printf("  after  re-planning: max %.0f  mean %.0f  max/mean %.3f\n", max_after,
                  mean_after, max_after / mean_after);
      std::printf("replicas moved: %d\n", dualpipe::eplb::replicas_moved(placement, planned));
      std::printf("median step time: before %.2f ms, after %.2f ms, after/before %.3f (%s)\n",
                  before_result.median_ms, after_result.median_ms,
                  after_result.median_ms / before_result.median_ms, s.device.str().c_str());
      std::printf("steps with a non-finite loss (rank 0): before %d, after %d\n",
                  before_result.non_finite_losses, after_result.non_finite_losses);
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "moe_eplb_loop: " << e.what() << std::endl;
    return 2;
  }
}
