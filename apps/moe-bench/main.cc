// moe-bench: times one overlapped forward/backward pair of an expert-parallel MoE stage against
// forward-then-backward, across the processes of a torchrun launch (NCCL on GPUs, Gloo on CPUs).
#include <torch/cuda.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_ranks.h"
#include "command_line.h"
#include "device_flags.h"
#include "dualpipe/eplb/json_loads.h"
#include "dualpipe/eplb/placement.h"
#include "dualpipe/eplb/plan_formats.h"
#include "dualpipe/moe/load_recorder.h"
#include "dualpipe/moe/moe_stage.h"
#include "dualpipe/runtime/launch_environment.h"
#include "dualpipe/runtime/process_group.h"
#include "dualpipe/runtime/profile_capture.h"
#include "input_file.h"
#include "median.h"
#include "moe_bench_flags.h"
#include "rank_file.h"
#include "staged_outputs.h"

namespace {

using dualpipe::apps::median;
using dualpipe::runtime::BackwardPass;
using dualpipe::runtime::ForwardPass;
using dualpipe::runtime::ForwardResult;
using dualpipe::runtime::StoreExchange;
using namespace dualpipe::moe;

using dualpipe::apps::dtype_named;
using dualpipe::apps::MoeBenchFlags;

// One placement per layer: rows 0..layers-1 of a plan file, or one slot per expert.
std::vector<ExpertPlacement> load_placements(const MoeBenchFlags& flags, int ranks) {
  std::vector<ExpertPlacement> placements;
  if (flags.placement.empty()) {
    for (int l = 0; l < flags.layers; ++l)
      placements.push_back(ExpertPlacement::identity(static_cast<int>(flags.experts), ranks));
    return placements;
  }
  const dualpipe::apps::InputFile file(flags.placement);
  try {
    const auto plan = dualpipe::eplb::placement_from_phy2log(
        dualpipe::eplb::parse_plan_phy2log(file.text()), static_cast<int>(flags.experts));
    if (plan.num_layers() < flags.layers) {
      throw std::invalid_argument("the plan has " + std::to_string(plan.num_layers()) +
                                  " layers, the stage " + std::to_string(flags.layers));
    }
    for (int l = 0; l < flags.layers; ++l)
      placements.push_back(ExpertPlacement::from_plan(plan, l, ranks));
  } catch (const std::exception& e) {
    throw std::invalid_argument(flags.placement + ": " + e.what());
  }
  return placements;
}

void synchronize(torch::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// The largest of `value` over the group's ranks.
double max_over_ranks(const CommGroup& group, double value, torch::Device device) {
  std::vector<torch::Tensor> buffer{
      torch::full({1}, value, torch::TensorOptions(torch::kFloat64).device(device))};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::MAX;
  group->allreduce(buffer, options)->wait();
  return buffer[0].item<double>();
}

// Two micro-batches of inputs and one output gradient, [batch, seq, hidden].
struct Microbatches {
  torch::Tensor first;
  torch::Tensor second;
  torch::Tensor grad;
};

// Runs micro-batch `first` forward and returns the backward that the pair under test takes.
BackwardPass forward_first(MoeStage& stage, const Microbatches& mb, bool overlapped) {
  stage.set_overlap(overlapped);
  const ForwardResult first =
      dualpipe::runtime::run_forward(stage, ForwardPass{{mb.first}, nullptr, {}});
  return BackwardPass{&stage, torch::Tensor(), first.outputs, {mb.grad}};
}

// The pair under test: forward of `second` with the backward of `first`.
ForwardResult run_pair(MoeStage& stage, const Microbatches& mb, const BackwardPass& backward) {
  return stage.overlapped_forward_backward(ForwardPass{{mb.second}, nullptr, {}}, backward);
}

// Runs the backward of the pair's forward and clears the gradients.
void finish_pair(MoeStage& stage, const Microbatches& mb, const ForwardResult& pair) {
  dualpipe::runtime::run_backward(BackwardPass{&stage, torch::Tensor(), pair.outputs, {mb.grad}});
  stage.zero_grad();
}

// Times `steps` pairs (after `warmup` untimed ones); returns milliseconds per pair, slowest rank.
std::vector<double> time_pairs(MoeStage& stage, const Microbatches& mb, bool overlapped,
                               const MoeBenchFlags& flags, const CommGroup& group,
                               torch::Device device, LoadRecorder* recorder) {
  std::vector<double> times;
  for (int i = 0; i < flags.bench.warmup + flags.bench.steps; ++i) {
    const BackwardPass backward = forward_first(stage, mb, overlapped);
    synchronize(device);
    max_over_ranks(group, 0.0, device);  // start together
    const auto start = std::chrono::steady_clock::now();
    const ForwardResult pair = run_pair(stage, mb, backward);
    synchronize(device);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    finish_pair(stage, mb, pair);
    if (recorder != nullptr) recorder->end_step(group);
    const double slowest = max_over_ranks(group, ms, device);
    if (i >= flags.bench.warmup) times.push_back(slowest);
  }
  return times;
}

// Outputs and every gradient of one pair on fresh gradients.
std::vector<torch::Tensor> pair_results(MoeStage& stage, const Microbatches& mb, bool overlapped) {
  stage.zero_grad();
  const Microbatches with_grad{mb.first.detach().requires_grad_(true), mb.second, mb.grad};
  const ForwardResult pair =
      run_pair(stage, with_grad, forward_first(stage, with_grad, overlapped));
  std::vector<torch::Tensor> tensors{pair.outputs.at(0).detach().to(torch::kFloat64),
                                     with_grad.first.grad().to(torch::kFloat64)};
  for (const torch::Tensor& p : stage.parameters()) {
    if (p.grad().defined()) tensors.push_back(p.grad().to(torch::kFloat64));
  }
  finish_pair(stage, mb, pair);
  return tensors;
}

double max_relative_difference(const std::vector<torch::Tensor>& a,
                               const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return 1.0;
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double scale = b[i].abs().max().item<double>();
    const double diff = (a[i] - b[i]).abs().max().item<double>();
    worst = std::max(worst, scale > 0 ? diff / scale : diff);
  }
  return worst;
}

// Profiles one pair with the PyTorch profiler; returns its Chrome trace (with rank information).
// The ranks start the pair together, after the profiler runs on each, so that the trace shows no
// wait for a late peer that a training step would not have.
std::string profile_pair(MoeStage& stage, const Microbatches& mb, bool overlapped,
                         torch::Device device, const StoreExchange& exchange,
                         const std::string& barrier_key) {
  const BackwardPass backward = forward_first(stage, mb, overlapped);
  synchronize(device);
  dualpipe::runtime::ProfileCapture capture(device.is_cuda());
  dualpipe::runtime::all_gather_text(exchange, barrier_key, "");  // a barrier, through the store
  const ForwardResult pair = run_pair(stage, mb, backward);
  synchronize(device);
  std::string trace = capture.finish(exchange.rank, exchange.size);
  finish_pair(stage, mb, pair);
  return trace;
}

std::string number(double value) {
  std::ostringstream text;
  text.precision(6);
  text << value;
  return text.str();
}

// The stage the bench runs, from its flags.
MoeStageOptions stage_options(const MoeBenchFlags& flags) {
  MoeStageOptions options;
  options.heads = flags.heads;
  options.moe.hidden = flags.hidden;
  options.moe.ffn_hidden = flags.ffn_hidden;
  options.moe.experts = flags.experts;
  options.moe.top_k = flags.top_k;
  options.moe.groups = flags.groups;
  options.moe.top_groups = flags.top_groups;
  options.moe.shared_ffn_hidden = flags.shared_ffn_hidden;
  options.moe.expert_products =
      flags.expert_gemm == "per-block" ? BlockProducts::kOnePerBlock : BlockProducts::kFastest;
  options.num_layers = flags.layers;
  options.seed = flags.bench.seed;
  return options;
}

// "grouped" when both of the experts' linears run as one grouped GEMM here, else "per-block".
std::string expert_gemm_used(const MoeBenchFlags& flags, torch::Device device) {
  const auto options = torch::TensorOptions(device).dtype(dtype_named(flags.bench.dtype));
  const auto grouped = [&](int64_t in, int64_t out) {
    return uses_grouped_gemm(torch::empty({1, in}, options), {torch::empty({out, in}, options)});
  };
  const bool both = flags.expert_gemm == "grouped" && grouped(flags.hidden, 2 * flags.ffn_hidden) &&
                    grouped(flags.ffn_hidden, flags.hidden);
  return both ? "grouped" : "per-block";
}

// Rank 0's JSON line: sizes, settings, pair times (median and min, milliseconds) and the check.
std::string result_line(const MoeBenchFlags& flags, int ranks, torch::Device device, int slots,
                        const std::vector<double>& sequential,
                        const std::vector<double>& overlapped, const std::string& check) {
  std::ostringstream line;
  line << "{\"bench\": \"moe\", \"ranks\": " << ranks << ", \"device\": \"" << device.str()
       << "\", \"dtype\": \"" << flags.bench.dtype << "\", \"hidden\": " << flags.hidden
       << ", \"ffn_hidden\": " << flags.ffn_hidden << ", \"experts\": " << flags.experts
       << ", \"slots\": " << slots << ", \"top_k\": " << flags.top_k
       << ", \"tokens\": " << flags.tokens << ", \"seq\": " << flags.seq
       << ", \"layers\": " << flags.layers << ", \"steps\": " << flags.bench.steps
       << ", \"pair_order\": \"" << flags.pair_order << "\", \"weight_phases\": \""
       << flags.weight_phases << "\", \"expert_gemm\": \"" << expert_gemm_used(flags, device)
       << "\""
       << ", \"pair_ms_sequential_median\": " << number(median(sequential))
       << ", \"pair_ms_sequential_min\": "
       << number(*std::min_element(sequential.begin(), sequential.end()));
  if (!overlapped.empty()) {
    line << ", \"pair_ms_overlapped_median\": " << number(median(overlapped))
         << ", \"pair_ms_overlapped_min\": "
         << number(*std::min_element(overlapped.begin(), overlapped.end()))
         << ", \"overlapped_over_sequential\": " << number(median(overlapped) / median(sequential));
  }
  line << check << "}";
  return line.str();
}

int run(CLI::App& app, const MoeBenchFlags& flags) {
  const dualpipe::runtime::LaunchEnvironment env = dualpipe::runtime::read_launch_environment();
  const torch::ScalarType dtype = dtype_named(flags.bench.dtype);
  // This rank's checks; a failure is agreed with the other ranks, so that none waits for it.
  std::string failure;
  dualpipe::apps::DevicePlacement placement;
  std::vector<ExpertPlacement> placements;
  try {
    dualpipe::apps::check_moe_bench_flags(flags, env.world_size);
    placement = dualpipe::apps::place_rank(flags.bench.device, flags.bench.comm_backend, env);
    placements = load_placements(flags, env.world_size);
  } catch (const std::exception& error) {
    failure = error.what();
  }
  const auto timeout = std::chrono::milliseconds(1000LL * flags.bench.timeout_s);
  const StoreExchange exchange = dualpipe::apps::join_ranks(env, app, timeout, failure);
  const torch::Device device = placement.device;
  const CommGroup group = dualpipe::apps::with_stderr_held([&] {
    return make_expert_group(exchange.store, env.all_ranks(), env.rank, device, timeout,
                             placement.backend);
  });

  MoeStage stage(stage_options(flags), group, placements);
  stage.to(device, dtype);
  stage.set_pair_order(flags.pair_order == "backward" ? PairOrder::kBackwardFirst
                                                      : PairOrder::kForwardFirst);
  if (flags.weight_phases != "off") {
    dualpipe::runtime::attach_weight_grad_store(
        stage, std::make_shared<dualpipe::runtime::WeightGradStore>());
    stage.set_weight_phases(flags.weight_phases == "on" ? all_weight_phases()
                                                        : WeightPhaseNames{flags.weight_phases});
  }

  torch::manual_seed(flags.bench.seed + 1000 + static_cast<uint64_t>(env.rank));
  const auto make = [&] {
    return torch::randn({flags.tokens / flags.seq, flags.seq, flags.hidden},
                        torch::TensorOptions(dtype).device(device));
  };
  const Microbatches mb{make(), make(), make()};
  const bool overlap = flags.overlap == "on";
  dualpipe::apps::StagedOutputs outputs;  // written at the end, all or nothing
  if (!flags.bench.profile.empty()) {
    finish_pair(stage, mb, run_pair(stage, mb, forward_first(stage, mb, overlap)));  // warm-up
    outputs.add(dualpipe::apps::rank_file_path(flags.bench.profile, env.rank),
                profile_pair(stage, mb, overlap, device, exchange, "moe-bench/profile"));
  }
  if (!flags.profile_sequential.empty()) {
    outputs.add(dualpipe::apps::rank_file_path(flags.profile_sequential, env.rank),
                profile_pair(stage, mb, false, device, exchange, "moe-bench/profile-sequential"));
  }
  std::shared_ptr<LoadRecorder> recorder;
  if (!flags.record_loads.empty()) {
    recorder = std::make_shared<LoadRecorder>(flags.layers, flags.experts, device);
    stage.set_load_recorder(recorder);
  }
  const std::vector<double> sequential =
      time_pairs(stage, mb, false, flags, group, device, recorder.get());
  const std::vector<double> overlapped =
      overlap ? time_pairs(stage, mb, true, flags, group, device, recorder.get())
              : std::vector<double>();
  std::string check;
  if (flags.check) {
    // A second sequential pair gives the run-to-run noise (atomics in CUDA kernels); the overlapped
    // pair should differ from the sequential one by no more than that (0 on the CPU).
    const std::vector<torch::Tensor> reference = pair_results(stage, mb, false);
    const double diff = max_relative_difference(pair_results(stage, mb, true), reference);
    const double noise = max_relative_difference(pair_results(stage, mb, false), reference);
    check = ", \"check\": {\"max_rel_grad_diff\": " + number(max_over_ranks(group, diff, device)) +
            ", \"rerun_rel_grad_diff\": " + number(max_over_ranks(group, noise, device)) + "}";
  }
  if (recorder && env.rank == 0) {
    outputs.add(flags.record_loads, dualpipe::eplb::format_json_loads(recorder->series()));
  }
  if (env.rank == 0) {
    outputs.add("-", result_line(flags, env.world_size, device, placements.front().num_slots(),
                                 sequential, overlapped, check) +
                         "\n");
  }
  dualpipe::apps::commit_on_every_rank(outputs, exchange, "moe-bench/outputs");
  dualpipe::runtime::leave_store(exchange);  // the last use of the store
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"times an overlapped MoE forward/backward pair against forward-then-backward",
               "moe-bench"};
  MoeBenchFlags flags;
  dualpipe::apps::add_moe_bench_flags(app, flags);
  return dualpipe::apps::parse_and_run(app, argc, argv, [&] { return run(app, flags); });
}
