// Test support: one process of a multi-process runtime test, started by worker_launcher with a
// torchrun-like environment. `runtime_test_worker <scenario> [key=value ...]` runs the scenario and
// exits 0 when this rank saw what it should (expected errors are printed as "CAUGHT: <message>"),
// 1 otherwise ("FAILED: <why>").
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dualpipe/runtime/launch_environment.h"
#include "dualpipe/runtime/mlp_stage.h"
#include "dualpipe/runtime/p2p_transport.h"
#include "dualpipe/runtime/pipeline.h"
#include "dualpipe/runtime/process_group.h"
#include "dualpipe/runtime/rank_agreement.h"
#include "dualpipe/runtime/sequential_step.h"
#include "dualpipe/schedule/action.h"
#include "dualpipe/schedule/generators.h"

namespace dualpipe::runtime {
namespace {

constexpr int64_t kHidden = 8;
constexpr int64_t kSequence = 3;
constexpr int64_t kMicrobatchSize = 2;
constexpr uint64_t kSeed = 1234;
constexpr auto kTimeout = std::chrono::seconds(30);

using Args = std::map<std::string, std::string>;

std::string arg(const Args& args, const std::string& key, const std::string& fallback) {
  auto found = args.find(key);
  return found == args.end() ? fallback : found->second;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, separator);) parts.push_back(part);
  return parts;
}

[[noreturn]] void fail(const std::string& why) {
  std::cout << "FAILED: " << why << std::endl;
  std::exit(1);
}

void expect(bool condition, const std::string& why) {
  if (!condition) fail(why);
}

torch::Tensor mse(const TensorList& outputs, const TensorList& labels) {
  return torch::mse_loss(outputs.at(0), labels.at(0));
}

// The model and data every rank of a pipeline check builds identically.
struct Problem {
  std::string schedule;
  int ranks = 0;
  int microbatches = 0;
  int stages = 0;
  int64_t sequence = kSequence;
  int64_t hidden = kHidden;

  torch::Tensor data(uint64_t seed) const {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
    return torch::randn({microbatches * kMicrobatchSize, sequence, hidden}, generator,
                        torch::kDouble);
  }
  std::shared_ptr<MlpStage> stage(int s) const {
    return make_mlp_stage(kHidden, stages, stages, s, kSeed, torch::kDouble);
  }
  StepInput input(bool return_outputs) const {
    StepInput in;
    in.inputs = {data(7)};
    in.labels = {data(8)};
    in.num_microbatches = microbatches;
    in.criterion = mse;
    in.return_outputs = return_outputs;
    return in;
  }
};

Problem make_problem(const std::string& schedule, int ranks, int microbatches) {
  Problem p{schedule, ranks, microbatches};
  p.stages = schedule::generate_schedule(schedule, ranks, microbatches).num_stages;
  return p;
}

PipelineOptions options_for(const std::string& schedule) {
  PipelineOptions options;
  options.schedule = schedule;
  return options;
}

// An MLP stage that counts how often the pipeline calls its overlapped forward/backward hook.
class CountingStage : public PipelineStage {
 public:
  CountingStage(std::shared_ptr<MlpStage> inner, std::shared_ptr<int> calls)
      : inner_(register_module("inner", std::move(inner))), calls_(std::move(calls)) {}
  TensorList forward(const TensorList& inputs) override { return inner_->forward(inputs); }
  ForwardResult overlapped_forward_backward(const ForwardPass& forward_pass,
                                            const BackwardPass& backward_pass) override {
    ++*calls_;
    return PipelineStage::overlapped_forward_backward(forward_pass, backward_pass);
  }

 private:
  std::shared_ptr<MlpStage> inner_;
  std::shared_ptr<int> calls_;
};

std::vector<LocalStage> local_stages(
    const Problem& p, int rank, const std::shared_ptr<int>& hook_calls = std::make_shared<int>()) {
  std::vector<LocalStage> stages;
  for (const auto& [direction, stage] : local_stage_slots(p.schedule, p.ranks, rank)) {
    stages.push_back(
        {direction, stage, std::make_shared<CountingStage>(p.stage(stage), hook_calls)});
  }
  return stages;
}

// Largest |a - b| over largest |b| across all parameters of two stages.
double relative_grad_difference(PipelineStage& mine, PipelineStage& reference) {
  const auto a = mine.parameters();
  const auto b = reference.parameters();
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    expect(a[i].grad().defined(), "a parameter got no gradient");
    const double scale = b[i].grad().abs().max().item<double>();
    worst = std::max(worst, (a[i].grad() - b[i].grad()).abs().max().item<double>() / scale);
  }
  return worst;
}

std::string label_of(const Problem& p, const std::string& what) {
  return p.schedule + " (" + std::to_string(p.ranks) + " ranks, " + std::to_string(p.microbatches) +
         " micro-batches): " + what;
}

// One training step through the pipeline against the sequential step on the full model; every FB
// action of this rank must have gone through the stages' hook (`hook_calls` counts them).
void check_training_step(Pipeline& pipeline, const Problem& p, const StepInput& input,
                         const std::shared_ptr<int>& hook_calls = nullptr) {
  std::vector<std::shared_ptr<PipelineStage>> model;
  for (int s = 0; s < p.stages; ++s) model.push_back(p.stage(s));
  const StepResult expected = sequential_step(model, input, 0);
  for (const LocalStage& l : pipeline.stages()) l.module->zero_grad();
  const int calls_before = hook_calls ? *hook_calls : 0;
  const StepResult got = pipeline.step(input);
  if (hook_calls) {
    int pairs = 0;
    for (const schedule::Action& a :
         pipeline.schedule_for(p.microbatches).programs[pipeline.group().rank])
      pairs += a.op == schedule::Op::kFB;
    expect(*hook_calls - calls_before == pairs,
           label_of(p, "the overlapped hook ran " + std::to_string(*hook_calls - calls_before) +
                           " times for " + std::to_string(pairs) + " FB actions"));
  }

  // Losses: exactly those of the micro-batches whose last stage is here, bit for bit.
  const schedule::Schedule& s = pipeline.schedule_for(p.microbatches);
  std::vector<int> owned;
  const int per_direction = s.microbatches_per_direction();
  for (int d = 0; d < s.num_directions(); ++d) {
    if (s.stage_rank[d][s.num_stages - 1] != pipeline.group().rank) continue;
    for (int m = 0; m < per_direction; ++m) owned.push_back(d * per_direction + m);
  }
  expect(got.microbatches == owned, label_of(p, "returned losses of the wrong micro-batches"));
  for (std::size_t i = 0; i < owned.size(); ++i) {
    expect(torch::equal(got.losses[static_cast<int64_t>(i)], expected.losses[owned[i]]),
           label_of(p, "loss of micro-batch " + std::to_string(owned[i]) +
                           " differs from the sequential step"));
  }
  for (const LocalStage& l : pipeline.stages()) {
    const double difference =
        relative_grad_difference(*l.module, *model[static_cast<std::size_t>(l.stage)]);
    expect(difference <= 1e-12,
           label_of(p, "gradients of stage " + std::to_string(l.stage) + " differ by " +
                           std::to_string(difference) + " (relative)"));
  }
}

void check_forward_only_step(Pipeline& pipeline, const Problem& p) {
  torch::NoGradGuard no_grad;
  std::vector<std::shared_ptr<PipelineStage>> model;
  for (int s = 0; s < p.stages; ++s) model.push_back(p.stage(s));
  const StepInput input = p.input(/*return_outputs=*/true);
  const StepResult expected = sequential_step(model, input, 0);
  const StepResult got = pipeline.step(input);
  for (std::size_t i = 0; i < got.microbatches.size(); ++i) {
    const int g = got.microbatches[i];
    expect(torch::equal(got.outputs[i].at(0), expected.outputs[static_cast<std::size_t>(g)].at(0)),
           label_of(p, "forward-only output of micro-batch " + std::to_string(g) + " differs"));
    expect(torch::equal(got.losses[static_cast<int64_t>(i)], expected.losses[g]),
           label_of(p, "forward-only loss of micro-batch " + std::to_string(g) + " differs"));
  }
}

// Runs `body`, which must throw; prints the message for the launcher to check.
void expect_error(const std::function<void()>& body) {
  try {
    body();
  } catch (const std::exception& error) {
    std::cout << "CAUGHT: " << error.what() << std::endl;
    return;
  }
  fail("the step did not fail");
}

// Every schedule: two training steps (layouts learned, then reused), a step with another sequence
// length (layouts learned again), a forward-only step, and a run with declared layouts.
void pipeline_check(const PipelineGroup& group, const Args& args) {
  for (const std::string& name : split(arg(args, "schedules", ""), ',')) {
    const int microbatches = std::stoi(arg(args, "microbatches", std::to_string(2 * group.size)));
    Problem p = make_problem(name, group.size, microbatches);
    {
      auto hook_calls = std::make_shared<int>(0);
      Pipeline pipeline(local_stages(p, group.rank, hook_calls), group, options_for(name));
      check_training_step(pipeline, p, p.input(false), hook_calls);
      check_training_step(pipeline, p, p.input(false), hook_calls);
      Problem longer = p;
      longer.sequence = kSequence + 2;
      check_training_step(pipeline, longer, longer.input(false));
      check_forward_only_step(pipeline, p);
    }
    // Declared layouts, and overlapped pairs with their backward on a helper thread.
    PipelineOptions declared = options_for(name);
    declared.activation_layout = {
        TensorMeta{torch::kDouble, {kMicrobatchSize, kSequence, kHidden}}};
    declared.concurrent_pairs = true;
    Pipeline pipeline(local_stages(p, group.rank), group, declared);
    check_training_step(pipeline, p, p.input(false));
    check_training_step(pipeline, p, p.input(false));
    // The same schedule handed over as IR (compute actions only) instead of by name.
    Pipeline fixed(local_stages(p, group.rank), group,
                   schedule::generate_schedule(name, group.size, microbatches), options_for(name));
    check_training_step(fixed, p, p.input(false));
    expect_error([&] { fixed.schedule_for(microbatches + group.size); });
    std::cout << "OK " << label_of(p, "matches the sequential step") << std::endl;
  }
}

void mismatched_microbatches(const PipelineGroup& group, const Args& args) {
  const std::string name = arg(args, "schedule", "dualpipe");
  const int microbatches = 2 * group.size + (group.rank == group.size - 1 ? 2 : 0);
  Problem p = make_problem(name, group.size, microbatches);
  Pipeline pipeline(local_stages(p, group.rank), group, options_for(name));
  expect_error([&] { pipeline.step(p.input(false)); });
}

void mismatched_layout(const PipelineGroup& group, const Args& args) {
  const std::string name = arg(args, "schedule", "1f1b");
  Problem p = make_problem(name, group.size, 2 * group.size);
  PipelineOptions options = options_for(name);
  options.activation_layout = {TensorMeta{
      torch::kDouble, {kMicrobatchSize, kSequence + (group.rank == 1 ? 1 : 0), kHidden}}};
  Pipeline pipeline(local_stages(p, group.rank), group, options);
  expect_error([&] { pipeline.step(p.input(false)); });
}

// Rank 0's inputs have the wrong feature size, so its first forward throws mid-step.
void stage_error(const PipelineGroup& group, const Args& args) {
  const std::string name = arg(args, "schedule", "1f1b");
  Problem p = make_problem(name, group.size, 2 * group.size);
  Pipeline pipeline(local_stages(p, group.rank), group, options_for(name));
  StepInput input = p.input(false);
  if (group.rank == 0)
    input.inputs = {
        torch::randn({p.microbatches * kMicrobatchSize, kSequence, kHidden + 1}, torch::kDouble)};
  expect_error([&] { pipeline.step(input); });
  // The pipeline stays usable: the next, correct step succeeds.
  check_training_step(pipeline, p, p.input(false));
}

// The criterion throws in the second step, when layouts are cached and messages carry no headers.
void criterion_error(const PipelineGroup& group, const Args& args) {
  const std::string name = arg(args, "schedule", "dualpipe");
  Problem p = make_problem(name, group.size, 2 * group.size);
  Pipeline pipeline(local_stages(p, group.rank), group, options_for(name));
  pipeline.step(p.input(false));
  StepInput input = p.input(false);
  input.criterion = [](const TensorList&, const TensorList&) -> torch::Tensor {
    throw std::runtime_error("criterion refuses");
  };
  expect_error([&] { pipeline.step(input); });
}

// The last rank dies before the step; the others must fail instead of hanging.
void lost_peer(const PipelineGroup& group, const Args&) {
  Problem p = make_problem("1f1b", group.size, 2 * group.size);
  Pipeline pipeline(local_stages(p, group.rank), group, options_for("1f1b"));
  if (group.rank == group.size - 1) _exit(3);
  expect_error([&] { pipeline.step(p.input(false)); });
}

// The last rank stays alive but silent for longer than the group's timeout; the others must give
// up with a timeout error (the launcher passes timeout_ms=...).
void silent_peer(const PipelineGroup& group, const Args&) {
  Problem p = make_problem("1f1b", group.size, 2 * group.size);
  Pipeline pipeline(local_stages(p, group.rank), group, options_for("1f1b"));
  if (group.rank == group.size - 1) {
    std::this_thread::sleep_for(group.timeout * 4);
    _exit(3);
  }
  const auto start = std::chrono::steady_clock::now();
  expect_error([&] { pipeline.step(p.input(false)); });
  const auto waited = std::chrono::steady_clock::now() - start;
  expect(waited < group.timeout * 3,
         "gave up only after " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()) +
             " ms");
}

// Sub-groups: the world splits into pipelines of two ranks; each exchanges over its own group.
void sub_groups(const LaunchEnvironment& env, const Args&) {
  auto store = connect_store(env, kTimeout);
  const int base = env.rank - env.rank % 2;
  PipelineGroup group =
      make_pipeline_group(store, {base, base + 1}, env.rank, torch::kCPU, kTimeout);
  expect(group.size == 2 && group.rank == env.rank % 2, "wrong rank or size in the sub-group");
  P2PTransport transport(group);
  const int peer = 1 - group.rank;
  PendingReceive incoming = transport.post_receive(peer, 0, {TensorMeta{torch::kLong, {1}}});
  transport.post_send(peer, 0, {torch::full({1}, env.rank, torch::kLong)});
  const torch::Tensor got = incoming.wait().at(0);
  transport.wait_for_sends();
  expect(got.item<int64_t>() == (env.rank ^ 1), "received a message from outside the sub-group");
  std::cout << "OK sub-group " << base << "," << base + 1 << std::endl;
}

// Headers and multi-tensor messages of several dtypes travel intact in both directions (on the
// group's device; a CUDA tensor is sent while the kernels that write it may still be running).
void p2p_messages(const PipelineGroup& group, const Args&) {
  P2PTransport transport(group);
  const TensorList sent = {
      torch::arange(6, torch::kDouble).reshape({2, 3}).to(group.device) + group.rank,
      torch::full({4}, group.rank, torch::TensorOptions(torch::kLong).device(group.device))};
  const int peer = 1 - group.rank;
  transport.send_header(peer, 1, meta_of(sent));
  transport.post_send(peer, 1, sent);
  transport.send_header(peer, 2, std::nullopt);
  const std::optional<MessageMeta> layout = transport.receive_header(peer, 1);
  expect(layout && *layout == meta_of(sent), "the header did not announce the layout");
  const TensorList got = transport.post_receive(peer, 1, *layout).wait();
  expect(!transport.receive_header(peer, 2).has_value(), "a failed header arrived as a layout");
  transport.wait_for_sends();
  expect(transport.sends_in_flight() == 0, "sends still in flight after waiting");
  expect(got[0].device() == group.device && got[1].device() == group.device,
         "a message arrived on another device than the group's");
  expect(torch::equal(got[0].cpu(), torch::arange(6, torch::kDouble).reshape({2, 3}) + peer),
         "double tensor changed");
  expect(torch::equal(got[1].cpu(), torch::full({4}, peer, torch::kLong)), "long tensor changed");
  std::cout << "OK p2p" << std::endl;
}

// Agreement: equal reports pass; one rank's different fingerprint or failure reaches every rank.
void agreement(const PipelineGroup& group, const Args&) {
  RankReport same{fingerprint_of("same"), "the same step", "", false};
  const Agreement ok = agree(group, "check/ok", same);
  expect(ok.error.empty() && !ok.any_changed, "equal reports did not agree: " + ok.error);
  RankReport changed = same;
  changed.changed = group.rank == 0;
  expect(agree(group, "check/changed", changed).any_changed, "a change on rank 0 was not seen");
  RankReport different = same;
  if (group.rank == 1) different = RankReport{fingerprint_of("other"), "another step", "", false};
  std::cout << "CAUGHT: " << agree(group, "check/different", different).error << std::endl;
  RankReport failed = same;
  if (group.rank == 0) failed.failure = "no inputs";
  std::cout << "CAUGHT: " << agree(group, "check/failed", failed).error << std::endl;
}

// Settings: one rank's different value, and one rank's failure, reach every rank named.
void settings(const PipelineGroup& group, const Args&) {
  const StoreExchange exchange = exchange_of(group);
  const Settings steps{{"--steps", group.rank == 1 ? "3" : "2"}, {"--seed", "7"}};
  std::cout << "CAUGHT: " << agree_on_settings(exchange, "check/settings", steps, "") << std::endl;
  const std::string failure = group.rank == 2 ? "plan.json: cannot open" : "";
  std::cout << "CAUGHT: " << agree_on_settings(exchange, "check/failure", {}, failure) << std::endl;
}

// The last rank leaves before an exchange; the others name it and the exchange's key.
void exchange_lost_peer(const PipelineGroup& group, const Args&) {
  if (group.rank == group.size - 1) _exit(3);
  try {
    all_gather_text(group, "check/lost", "x");
  } catch (const std::exception& error) {
    std::cout << "CAUGHT: " << error.what() << std::endl;
    return;
  }
  fail("the exchange with a lost peer succeeded");
}

// The group a scenario runs on: every rank of the job. On the CPU (the launch environment's
// default device, as the GPUs are hidden: see main); with device=cuda on the GPUs over Gloo
// through host memory, ranks sharing GPUs when there are fewer GPUs than ranks.
PipelineGroup group_of(const LaunchEnvironment& env, const Args& args,
                       std::chrono::milliseconds timeout) {
  if (arg(args, "device", "cpu") != "cuda") return pipeline_group_from_environment(env, timeout);
  return make_pipeline_group(connect_store(env, timeout), env.all_ranks(), env.rank,
                             cuda_device_of(env, MessageBackend::kGloo), timeout,
                             MessageBackend::kGloo);
}

int run(int argc, char** argv) {
  if (argc < 2) fail("usage: runtime_test_worker <scenario> [key=value ...]");
  const std::string scenario = argv[1];
  Args args;
  for (int i = 2; i < argc; ++i) {
    const std::string text = argv[i];
    args[text.substr(0, text.find('='))] = text.substr(text.find('=') + 1);
  }
  torch::set_num_threads(1);
  const LaunchEnvironment env = read_launch_environment();
  if (scenario == "sub-groups") {
    sub_groups(env, args);
    return 0;
  }
  const std::chrono::milliseconds timeout(
      std::stoi(arg(args, "timeout_ms", std::to_string(kTimeout.count() * 1000))));
  const PipelineGroup group = group_of(env, args, timeout);
  const std::map<std::string, void (*)(const PipelineGroup&, const Args&)> scenarios = {
      {"pipeline-check", pipeline_check},
      {"mismatched-microbatches", mismatched_microbatches},
      {"mismatched-layout", mismatched_layout},
      {"stage-error", stage_error},
      {"criterion-error", criterion_error},
      {"lost-peer", lost_peer},
      {"silent-peer", silent_peer},
      {"p2p", p2p_messages},
      {"agreement", agreement},
      {"settings", settings},
      {"exchange-lost-peer", exchange_lost_peer}};
  auto found = scenarios.find(scenario);
  if (found == scenarios.end()) fail("unknown scenario " + scenario);
  found->second(group, args);
  return 0;
}

}  // namespace
}  // namespace dualpipe::runtime

int main(int argc, char** argv) {
  // Scenarios run on the CPU unless one asks for device=cuda: hiding the GPUs before CUDA starts
  // makes the CPU the launch environment's default device on GPU machines too.
  bool on_cuda = false;
  for (int i = 2; i < argc; ++i) on_cuda = on_cuda || std::string(argv[i]) == "device=cuda";
  if (!on_cuda) setenv("CUDA_VISIBLE_DEVICES", "", 1);
  try {
    return dualpipe::runtime::run(argc, argv);
  } catch (const std::exception& error) {
    std::cout << "FAILED: " << error.what() << std::endl;
    return 1;
  }
}
