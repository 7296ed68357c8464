// A DeepSeek-V3-shaped MoE language model trained on real text with the whole toolkit: pipeline
// (any schedule) x data x expert parallelism, ZeRO-1, recomputation, checkpoints, the routing bias
// balancing experts without an auxiliary loss, and EPLB re-planning the expert placement in
// process every K steps (experts and their optimizer state moved). Run under torchrun:
//
//   torchrun --nproc-per-node 4 --no-python ./train_moe_lm --pp 2 --dp 2 --ep 2
//       --schedule dualpipe --steps 200 --out out/lm
//
// Writes OUT/loss.svg, OUT/trace.rank<r>.json (one profiled step per rank) and OUT/sample.txt.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>

#include "dualpipe/moe/language_model.h"
#include "dualpipe/moe/load_recorder.h"
#include "dualpipe/runtime/launch_environment.h"
#include "dualpipe/runtime/memory_probe.h"
#include "dualpipe/runtime/profile_capture.h"
#include "dualpipe/runtime/trainer.h"
#include "dualpipe/schedule/generators.h"
#include "lm/byte_corpus.h"
#include "lm/expert_plans.h"
#include "lm/loss_chart.h"
#include "lm/one_process_reference.h"
#include "lm/plain_training.h"

namespace {

using namespace dualpipe::runtime;
namespace moe = dualpipe::moe;

// Everything the command line sets.
struct RunSettings {
  MeshShape mesh{1, 1, 1};
  std::string schedule = "1f1b";
  int steps = 100;
  int microbatches = 4;  // per replica and step
  int64_t microbatch_rows = 4;
  int64_t sequence = 64;
  moe::LanguageModelOptions model;
  int slots = 0;  // expert slots per MoE layer; 0: experts + ep
  std::string units_per_stage;
  double lr = 3e-3;
  double weight_decay = 0.01;
  double clip_norm = 1.0;
  double bias_rate = 0.001;  // routing-bias step of the auxiliary-loss-free balancing
  bool zero = false;
  bool recompute = false;
  int replan_every = 0;
  int log_every = 10;
  int save_every = 0;
  std::string checkpoints = "checkpoints";
  std::string resume;
  std::string corpus = "/usr/share/common-licenses";
  std::string out = "out/lm";
  std::string device = "cpu";
  std::string dtype = "float32";
  std::string backend = "auto";
  bool check = false;
  int sample_bytes = 160;
  bool plain = false;        // time the plain LibTorch loop instead (one process)
  bool overlap = true;       // MoE stages' overlapped pairs through the overlap engine
  double peak_tflops = 0.0;  // the device's peak, for model FLOPs utilization; 0: not printed
  std::string prompt = "The licensor grants ";
  uint64_t seed = 7;
  int timeout_s = 300;
};

torch::Dtype dtype_of(const std::string& name) {
  if (name == "float64") return torch::kFloat64;
  if (name == "bfloat16") return torch::kBFloat16;
  return torch::kFloat32;
}

// The sum of `value` over every rank (through the store).
double world_sum(const ParallelMesh& mesh, const std::string& key, double value) {
  std::ostringstream text;
  text.precision(17);
  text << value;
  double sum = 0.0;
  for (const std::string& v : mesh.all_gather_text(key, text.str())) sum += std::stod(v);
  return sum;
}

// The held-out loss of this rank's stages, averaged over every replica's micro-batches.
double held_out_loss(Trainer& trainer, const lm::ByteCorpus& corpus, const RunSettings& s,
                     const std::vector<moe::MoeLayer>& layers,
                     const std::shared_ptr<moe::LoadRecorder>& recorder, int64_t index,
                     torch::Device device) {
  for (moe::MoeLayer layer : layers) layer->set_load_recorder(nullptr);  // count training only
  const lm::TokenBatch batch = corpus.held_out_batch(
      index * s.mesh.dp + trainer.mesh().coordinates().data, s.microbatches * s.microbatch_rows);
  StepResult result;
  {
    torch::NoGradGuard no_grad;
    result = trainer.pipeline().step(StepInput{{batch.inputs.to(device)},
                                               {batch.labels.to(device)},
                                               s.microbatches,
                                               moe::next_byte_loss,
                                               false});
  }
  for (moe::MoeLayer layer : layers) layer->set_load_recorder(recorder);
  const double sum = result.losses.defined() ? result.losses.sum().item<double>() : 0.0;
  const double count = result.losses.defined() ? static_cast<double>(result.losses.numel()) : 0.0;
  const std::string key = "held-out/" + std::to_string(index);
  return world_sum(trainer.mesh(), key + "/sum", sum) /
         world_sum(trainer.mesh(), key + "/count", count);
}

// Greedy continuation of `prompt` by the trained model: every replica runs the same forward-only
// steps; the byte comes from the first rank that holds a last stage.
std::string greedy_sample(Trainer& trainer, const RunSettings& s, torch::Device device) {
  std::string text = s.prompt;
  const int64_t rows = s.microbatches * s.microbatch_rows;
  for (int i = 0; i < s.sample_bytes; ++i) {
    std::string window = text.substr(text.size() > static_cast<std::size_t>(s.sequence)
                                         ? text.size() - static_cast<std::size_t>(s.sequence)
                                         : 0);
    const auto used = static_cast<int64_t>(window.size());
    window.resize(static_cast<std::size_t>(s.sequence), ' ');
    torch::Tensor ids = torch::empty({1, s.sequence}, torch::kLong);
    for (int64_t t = 0; t < s.sequence; ++t)
      ids[0][t] =
          static_cast<int64_t>(static_cast<unsigned char>(window[static_cast<std::size_t>(t)]));
    StepInput input{{ids.expand({rows, s.sequence}).contiguous().to(device)},
                    {},
                    s.microbatches,
                    nullptr,
                    true};
    StepResult result;
    {
      torch::NoGradGuard no_grad;
      result = trainer.pipeline().step(input);
    }
    std::string mine;
    if (!result.outputs.empty())
      mine = std::to_string(result.outputs[0][0][0][used - 1].argmax().item<int64_t>());
    for (const std::string& answer :
         trainer.mesh().all_gather_text("sample/" + std::to_string(i), mine)) {
      if (!answer.empty()) {
        text += static_cast<char>(std::stoi(answer));
        break;
      }
    }
  }
  return text;
}

// Every MoE layer's phy2log, gathered from the ranks that hold it (after loading a checkpoint).
std::vector<std::vector<int>> gather_placements(const ParallelMesh& mesh,
                                                const std::vector<moe::MoeLayer>& local,
                                                int num_layers) {
  std::ostringstream mine;
  for (const moe::MoeLayer& layer : local) {
    mine << layer->options().layer;
    for (int expert : layer->placement().phy2log()) mine << ' ' << expert;
    mine << '\n';
  }
  std::vector<std::vector<int>> phy2log(static_cast<std::size_t>(num_layers));
  for (const std::string& text : mesh.all_gather_text("placements", mine.str())) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream in(line);
      int layer = 0;
      in >> layer;
      std::vector<int>& row = phy2log.at(static_cast<std::size_t>(layer));
      row.clear();
      for (int expert = 0; in >> expert;) row.push_back(expert);
    }
  }
  return phy2log;
}

// The largest peak, held-at-step-start, activation, parameter and optimizer-state bytes of any
// rank (rank 0 prints): on a CUDA device those of the measured training steps (`steps`), else the
// process's resident peak and no step-start or activation figures (-1).
void report_memory(const ParallelMesh& mesh, const Trainer& trainer,
                   const std::optional<LargestStepMemory>& steps, bool leader) {
  const MemoryUsage usage = trainer.memory();
  const double values[] = {static_cast<double>(steps ? steps->step_peak : peak_resident_bytes()),
                           steps ? static_cast<double>(steps->at_start) : -1.0,
                           steps ? static_cast<double>(steps->activations) : -1.0,
                           static_cast<double>(usage.parameters),
                           static_cast<double>(usage.optimizer_state)};
  const char* names[] = {"peak_bytes", "step_start_bytes", "activation_bytes", "parameter_bytes",
                         "optimizer_state_bytes"};
  std::string line = std::string("memory: ") + (steps ? "device" : "resident");
  for (int i = 0; i < 5; ++i) {
    double largest = values[i];
    for (const std::string& v :
         mesh.all_gather_text(std::string("memory/") + names[i], std::to_string(values[i])))
      largest = std::max(largest, std::stod(v));
    line += std::string(" ") + names[i] + " " + std::to_string(static_cast<int64_t>(largest));
  }
  if (leader) std::printf("%s\n", line.c_str());
}

// --plain: the same model trained by a plain LibTorch loop in this one process.
int run_plain(const RunSettings& s, const lm::ByteCorpus& corpus, torch::Device device,
              double flops_per_token) {
  lm::PlainRun run;
  run.steps = s.steps;
  run.microbatches = s.microbatches;
  run.rows = s.microbatch_rows;
  run.lr = s.lr;
  run.weight_decay = s.weight_decay;
  run.clip_norm = s.clip_norm;
  run.device = device;
  run.dtype = dtype_of(s.dtype);
  run.seed = s.seed;
  const double tokens_per_s = lm::plain_tokens_per_second(s.model, corpus, run);
  std::printf("plain tokens_per_s %.0f", tokens_per_s);
  if (s.peak_tflops > 0)
    std::printf(" mfu %.3f", tokens_per_s * flops_per_token / (s.peak_tflops * 1e12));
  std::printf("\n");
  return 0;
}

// What happened, in a few lines (rank 0).
void print_summary(const std::vector<lm::LossPoint>& points, const std::vector<int>& replans,
                   const std::vector<std::pair<double, double>>& balance, const std::string& out,
                   const std::string& sample) {
  if (!points.empty()) {
    std::printf("summary: train loss %.2f -> %.2f, held-out loss %.2f -> %.2f over %d steps\n",
                points.front().train, points.back().train, points.front().held_out,
                points.back().held_out, points.back().step);
  }
  for (std::size_t i = 0; i < replans.size(); ++i) {
    std::printf(
        "summary: expert placement re-planned at step %d, max/mean tokens per GPU %.3f -> %.3f\n",
        replans[i], balance[i].first, balance[i].second);
  }
  std::printf("summary: wrote %s/loss.svg, %s/sample.txt, %s/trace.rank<r>.json\n", out.c_str(),
              out.c_str(), out.c_str());
  std::printf("sample: %s\n", sample.c_str());
}

void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

int run(RunSettings s) {
  const LaunchEnvironment env = read_launch_environment();
  const MessageBackend backend = message_backend_named(s.backend);
  const torch::Device device =
      s.device == "cuda" ? cuda_device_of(env, backend) : torch::Device(torch::kCPU);
  if (s.check) s.dtype = "float64";
  // Read before the mesh connects: a rank that fails here then leaves no other mid-connection.
  const lm::ByteCorpus corpus(s.corpus, s.sequence);
  const ParallelMesh mesh = ParallelMesh::from_environment(
      env, s.mesh, device, std::chrono::seconds(s.timeout_s), backend);
  moe::check_options(s.model);
  const double flops_per_token = moe::training_flops_per_token(s.model, s.sequence);
  if (s.plain) return run_plain(s, corpus, device, flops_per_token);
  const int num_stages =
      dualpipe::schedule::generate_schedule(s.schedule, s.mesh.pp, 2 * s.mesh.pp).num_stages;
  std::vector<int> units_per_stage;
  for (std::stringstream in(s.units_per_stage); in.good();) {
    std::string part;
    std::getline(in, part, ',');
    if (!part.empty()) units_per_stage.push_back(std::stoi(part));
  }
  const std::vector<moe::StageUnits> partition =
      moe::partition_units(s.model.layers, num_stages, units_per_stage);
  if (s.slots == 0) s.slots = static_cast<int>(s.model.moe.experts) + s.mesh.ep;
  const int moe_layers = s.model.num_moe_layers();
  lm::ExpertPlans plans(moe_layers, static_cast<int>(s.model.moe.experts), s.slots, s.mesh.ep,
                        static_cast<int>(s.model.moe.groups));

  // This rank's stages, every MoE layer counting its tokens into one recorder.
  auto recorder =
      std::make_shared<moe::LoadRecorder>(std::max(moe_layers, 1), s.model.moe.experts, device);
  std::vector<LocalStage> stages;
  std::vector<std::shared_ptr<moe::LanguageModelStage>> lm_stages;
  std::vector<moe::MoeLayer> local_moe;
  for (const auto& [direction, stage] :
       local_stage_slots(s.schedule, s.mesh.pp, mesh.coordinates().pipeline)) {
    const moe::StageUnits units = partition[static_cast<std::size_t>(stage)];
    std::vector<moe::ExpertPlacement> placements;
    for (int unit = units.first; unit < units.end; ++unit) {
      const int layer = unit - 1 - s.model.dense_layers;
      if (unit >= 1 && unit <= s.model.layers && layer >= 0)
        placements.push_back(plans.placement(layer));
    }
    auto module = std::make_shared<moe::LanguageModelStage>(s.model, units, mesh.expert_parallel(),
                                                            placements);
    module->to(device, dtype_of(s.dtype));
    module->set_overlap(s.overlap);
    for (moe::MoeLayer layer : module->moe_layers()) {
      layer->set_load_recorder(recorder);
      local_moe.push_back(layer);
    }
    lm_stages.push_back(module);
    stages.push_back(LocalStage{direction, stage, module, s.recompute});
  }
  TrainerOptions options;
  options.num_microbatches = s.microbatches;
  options.zero = s.zero;
  options.clip_norm = s.clip_norm;
  options.measure_memory = device.is_cuda();
  const double lr = s.lr;
  const double weight_decay = s.weight_decay;
  PipelineOptions pipeline;
  pipeline.schedule = s.schedule;
  Trainer trainer(
      mesh, stages, pipeline,
      [lr, weight_decay](std::vector<torch::Tensor> flat) {
        return std::make_unique<torch::optim::AdamW>(
            flat, torch::optim::AdamWOptions(lr).weight_decay(weight_decay));
      },
      options);
  if (!s.resume.empty()) {
    trainer.load(s.resume);
    plans.restore(gather_placements(mesh, local_moe, moe_layers));
  }
  std::vector<int> all(static_cast<std::size_t>(mesh.layout().world_size()));
  std::iota(all.begin(), all.end(), 0);
  const GroupHandle everyone = mesh.make_group("loads", all);
  std::unique_ptr<lm::OneProcessReference> reference;
  if (s.check) {
    std::vector<std::vector<int>> phy2log;
    for (int layer = 0; layer < moe_layers; ++layer)
      phy2log.push_back(plans.placement(layer).phy2log());
    reference = std::make_unique<lm::OneProcessReference>(
        s.model, partition, phy2log, torch::kFloat64, s.lr, s.weight_decay, s.clip_norm);
  }

  const bool leader = mesh.rank() == 0;
  const int replica = mesh.coordinates().data;
  const int64_t rows = s.microbatches * s.microbatch_rows;
  std::vector<lm::LossPoint> points;
  std::vector<int> replans;
  std::vector<std::pair<double, double>>
      balance_changes;  // max/mean tokens per GPU at each re-plan
  double interval_loss = 0.0;
  double interval_count = 0.0;
  double interval_seconds = 0.0;
  int interval_steps = 0;  // timed steps of the interval (the profiled step is not timed)
  double worst_check = 0.0;
  bool check_losses_equal = true;
  std::string trace;
  std::optional<LargestStepMemory> memory;  // of the second-half steps, on a CUDA device
  const int second_half = s.steps / 2;  // warm by then: its peak memory and step times are reported
  std::vector<double> step_ms;  // ms of this rank's second-half steps, the profiled one left out
  for (int step = static_cast<int>(trainer.steps()); step < s.steps; ++step) {
    const lm::TokenBatch batch = corpus.training_batch(step, replica, rows, s.seed);
    const StepInput input{{batch.inputs.to(device)},
                          {batch.labels.to(device)},
                          s.microbatches,
                          moe::next_byte_loss,
                          false};
    const bool profile = step == s.steps - 1;
    std::unique_ptr<ProfileCapture> capture;
    if (profile) capture = std::make_unique<ProfileCapture>(device.is_cuda());
    const auto start = std::chrono::steady_clock::now();
    const TrainStepResult result = trainer.step(input);
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!profile || interval_steps == 0) {  // the profiler slows its step: time it only when alone
      interval_seconds += seconds;
      ++interval_steps;
    }
    if (!profile && step >= second_half) step_ms.push_back(seconds * 1e3);
    if (result.memory && step >= second_half) {
      if (!memory) memory.emplace();
      memory->add(*result.memory);
    }
    if (capture) trace = capture->finish(mesh.rank(), mesh.layout().world_size());
    recorder->end_step(everyone);
    const lm::ExpertTokens& tokens = recorder->steps().back();
    for (const auto& module : lm_stages) {
      std::vector<std::vector<int64_t>> own;
      for (int layer : module->moe_layer_indices())
        own.push_back(tokens[static_cast<std::size_t>(layer)]);
      moe::update_routing_bias(module->moe_layers(), own, s.bias_rate);
    }
    if (result.step.losses.defined()) {
      interval_loss += result.step.losses.sum().item<double>();
      interval_count += static_cast<double>(result.step.losses.numel());
    }
    if (reference && step < 3) {
      std::vector<lm::TokenBatch> batches;
      for (int d = 0; d < s.mesh.dp; ++d)
        batches.push_back(corpus.training_batch(step, d, rows, s.seed));
      const std::vector<double> expected = reference->step(batches, s.microbatches);
      reference->update_routing_bias(tokens, s.bias_rate);
      for (std::size_t i = 0; i < result.step.microbatches.size(); ++i) {
        const double want = expected[static_cast<std::size_t>(replica * s.microbatches +
                                                              result.step.microbatches[i])];
        const double got = result.step.losses[static_cast<int64_t>(i)].item<double>();
        check_losses_equal = check_losses_equal && std::abs(got - want) <= 1e-12 * std::abs(want);
      }
      for (std::size_t k = 0; k < lm_stages.size(); ++k) {
        worst_check = std::max(worst_check, lm::max_relative_difference(
                                                *lm_stages[k], reference->stage(stages[k].stage),
                                                mesh.coordinates().expert));
      }
    }
    if ((step + 1) % s.log_every == 0 || step + 1 == s.steps) {
      const std::string key = "log/" + std::to_string(step);
      const double train = world_sum(mesh, key + "/loss", interval_loss) /
                           world_sum(mesh, key + "/count", interval_count);
      const double held_out = held_out_loss(trainer, corpus, s, local_moe, recorder, step, device);
      const double tokens_per_s = static_cast<double>(s.mesh.dp * rows * s.sequence) *
                                  interval_steps / std::max(interval_seconds, 1e-9);
      if (leader) {
        std::printf("step %d train_loss %.3f val_loss %.3f tokens_per_s %.0f expert_balance %.3f",
                    step + 1, train, held_out, tokens_per_s, plans.balance(tokens));
        if (s.peak_tflops > 0)
          std::printf(" mfu %.3f", tokens_per_s * flops_per_token /
                                       (s.peak_tflops * 1e12 * mesh.layout().world_size()));
        std::printf("\n");
        std::fflush(stdout);
      }
      points.push_back({step + 1, train, held_out});
      interval_loss = interval_count = interval_seconds = 0.0;
      interval_steps = 0;
    }
    if (s.replan_every > 0 && (step + 1) % s.replan_every == 0 && step + 1 < s.steps &&
        moe_layers > 0) {
      lm::ExpertTokens window(
          static_cast<std::size_t>(moe_layers),
          std::vector<int64_t>(static_cast<std::size_t>(s.model.moe.experts), 0));
      const auto& history = recorder->steps();
      for (std::size_t k = history.size() - static_cast<std::size_t>(std::min<int>(
                                                s.replan_every, static_cast<int>(history.size())));
           k < history.size(); ++k)
        for (std::size_t l = 0; l < window.size(); ++l)
          for (std::size_t e = 0; e < window[l].size(); ++e) window[l][e] += history[k][l][e];
      const double before = plans.balance(window);
      const int moved = plans.replan(window);
      trainer.move_parameters([&](torch::optim::Optimizer& state) {
        for (moe::MoeLayer layer : local_moe)
          layer->apply_placement(plans.placement(layer->options().layer), &state);
      });
      replans.push_back(step + 1);
      balance_changes.emplace_back(before, plans.balance(window));
      if (leader)
        std::printf(
            "re-planned at step %d: max/mean tokens per GPU %.3f -> %.3f, %d slots changed\n",
            step + 1, before, plans.balance(window), moved);
    }
    if (s.save_every > 0 && (step + 1) % s.save_every == 0) trainer.save(s.checkpoints);
  }
  if (reference) {
    double largest = worst_check;
    for (const std::string& v : mesh.all_gather_text("check/diff", std::to_string(worst_check)))
      largest = std::max(largest, std::stod(v));
    const bool equal = world_sum(mesh, "check/losses", check_losses_equal ? 0 : 1) == 0;
    if (leader)
      std::printf("check: losses %s, max_rel_param_diff %.3g\n", equal ? "equal" : "differ",
                  largest);
  }
  report_memory(mesh, trainer, memory, leader);
  if (!step_ms.empty()) {
    std::sort(step_ms.begin(), step_ms.end());
    const double median =
        world_sum(mesh, "timing/median", step_ms[step_ms.size() / 2]) / mesh.layout().world_size();
    if (leader)
      std::printf("timing: step_ms_median %.2f over the last %zu steps (mean over ranks)\n", median,
                  step_ms.size());
  }
  write_file(s.out + "/trace.rank" + std::to_string(mesh.rank()) + ".json", trace);
  const std::string sample = s.sample_bytes > 0 ? greedy_sample(trainer, s, device) : "";
  if (leader) {
    write_file(s.out + "/loss.svg", lm::loss_chart_svg(points, replans));
    write_file(s.out + "/sample.txt", sample + "\n");
    print_summary(points, replans, balance_changes, s.out, sample);
  }
  mesh.leave_store();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Trains a DeepSeek-V3-shaped MoE language model on real text with pipeline x data "
      "x expert parallelism.",
      "train_moe_lm"};
  app.option_defaults()->always_capture_default();
  RunSettings s;
  s.model.moe.experts = 8;
  s.model.moe.top_k = 2;
  s.model.moe.groups = 4;
  s.model.moe.top_groups = 2;
  s.model.moe.ffn_hidden = 64;
  s.model.moe.shared_ffn_hidden = 64;
  auto* mesh = app.add_option_group("Mesh and schedule");
  mesh->add_option("--pp", s.mesh.pp, "pipeline ranks")->check(CLI::PositiveNumber);
  mesh->add_option("--dp", s.mesh.dp, "data-parallel replicas")->check(CLI::PositiveNumber);
  mesh->add_option("--ep", s.mesh.ep, "expert-parallel ranks (divides dp)")
      ->check(CLI::PositiveNumber);
  mesh->add_option("--schedule", s.schedule, "pipeline schedule")
      ->check(CLI::IsMember(dualpipe::schedule::schedule_names()));
  mesh->add_option("--units-per-stage", s.units_per_stage,
                   "units per stage, comma-separated (embedding and head count as units)");
  auto* model = app.add_option_group("Model");
  model->add_option("--layers", s.model.layers, "decoder layers")->check(CLI::PositiveNumber);
  model->add_option("--dense-layers", s.model.dense_layers, "leading dense layers")
      ->check(CLI::NonNegativeNumber);
  model->add_option("--hidden", s.model.hidden, "hidden size")->check(CLI::PositiveNumber);
  model->add_option("--heads", s.model.heads, "attention heads")->check(CLI::PositiveNumber);
  model->add_option("--dense-ffn-hidden", s.model.dense_ffn_hidden, "dense feed-forward width");
  model->add_option("--experts", s.model.moe.experts, "routed experts")->check(CLI::PositiveNumber);
  model->add_option("--topk", s.model.moe.top_k, "experts per token")->check(CLI::PositiveNumber);
  model->add_option("--groups", s.model.moe.groups, "expert groups")->check(CLI::PositiveNumber);
  model->add_option("--top-groups", s.model.moe.top_groups, "groups a token may use")
      ->check(CLI::PositiveNumber);
  model->add_option("--expert-hidden", s.model.moe.ffn_hidden, "routed expert width")
      ->check(CLI::PositiveNumber);
  model->add_option("--shared-hidden", s.model.moe.shared_ffn_hidden,
                    "shared expert width (0: none)");
  model->add_option("--slots", s.slots, "expert slots per MoE layer (0: experts + ep)");
  auto* train = app.add_option_group("Training");
  train->add_option("--steps", s.steps, "training steps")->check(CLI::PositiveNumber);
  train->add_option("--microbatches", s.microbatches, "micro-batches per step and replica")
      ->check(CLI::PositiveNumber);
  train->add_option("--microbatch-size", s.microbatch_rows, "sequences per micro-batch")
      ->check(CLI::PositiveNumber);
  train->add_option("--seq", s.sequence, "bytes per sequence")->check(CLI::PositiveNumber);
  train->add_option("--lr", s.lr, "AdamW learning rate");
  train->add_option("--clip-norm", s.clip_norm, "global gradient norm clip (0: none)");
  train->add_option("--bias-rate", s.bias_rate, "routing-bias step per training step");
  train
      ->add_option_function<std::string>(
          "--zero", [&](const std::string& v) { s.zero = v == "on"; }, "ZeRO-1: on or off")
      ->check(CLI::IsMember({"on", "off"}));
  train
      ->add_option_function<std::string>(
          "--recompute", [&](const std::string& v) { s.recompute = v == "on"; },
          "activation recomputation: on or off")
      ->check(CLI::IsMember({"on", "off"}));
  train->add_option("--replan-every", s.replan_every, "steps between EPLB re-plans (0: never)");
  train->add_option("--seed", s.seed, "data seed");
  train->add_flag("--check", s.check, "compare the first 3 steps with one process (float64)");
  train->add_flag("--plain", s.plain, "time the same model in a plain LibTorch loop (one process)");
  train
      ->add_option_function<std::string>(
          "--overlap", [&](const std::string& v) { s.overlap = v == "on"; },
          "MoE stages overlap a pair's all-to-all with compute: on or off")
      ->check(CLI::IsMember({"on", "off"}));
  auto* io = app.add_option_group("Data, checkpoints and output");
  io->add_option("--corpus", s.corpus, "text file or folder");
  io->add_option("--save-every", s.save_every, "steps between checkpoints (0: none)");
  io->add_option("--checkpoints", s.checkpoints, "checkpoint folder");
  io->add_option("--resume", s.resume, "checkpoint folder to resume from");
  io->add_option("--log-every", s.log_every, "steps between log lines")->check(CLI::PositiveNumber);
  io->add_option("--out", s.out, "folder for loss.svg, traces and sample.txt");
  io->add_option("--sample-bytes", s.sample_bytes, "bytes of greedy sample text at the end");
  io->add_option("--prompt", s.prompt, "the sample's prompt");
  auto* dev = app.add_option_group("Device");
  dev->add_option("--device", s.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  dev->add_option("--dtype", s.dtype, "float32, float64 or bfloat16")
      ->check(CLI::IsMember({"float32", "float64", "bfloat16"}));
  dev->add_option("--comm-backend", s.backend, "auto, nccl or gloo")
      ->check(CLI::IsMember({"auto", "nccl", "gloo"}));
  dev->add_option("--peak-tflops", s.peak_tflops,
                  "the device's peak TFLOP/s, for model FLOPs utilization (0: not printed)")
      ->check(CLI::NonNegativeNumber);
  dev->add_option("--timeout", s.timeout_s, "seconds any wait may take")
      ->check(CLI::PositiveNumber);
  try {
    app.parse(argc, argv);
    return run(s);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const std::exception& error) {
    std::string message = error.what();
    std::cerr << "train_moe_lm: " << message.substr(0, message.find('\n')) << std::endl;
    return 2;
  }
}
