#include "dualpipe/runtime/pipeline.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>

#include "activation_layouts.h"
#include "communication_error.h"
#include "dualpipe/runtime/data_parallel_gradients.h"
#include "dualpipe/runtime/microbatch.h"
#include "dualpipe/schedule/generators.h"
#include "prepared_schedule.h"
#include "step_run.h"

namespace dualpipe::runtime {

using schedule::Action;
using schedule::Op;

// What a step needs before it can run, or why it cannot (in report.failure).
struct StepPlan {
  const PreparedSchedule* prepared = nullptr;
  std::vector<TensorList> input_microbatches;  // when this rank holds a first stage
  std::vector<TensorList> label_microbatches;  // when it holds a last stage and got labels
  RankReport report;
};

Pipeline::Pipeline(std::vector<LocalStage> stages, PipelineGroup group, PipelineOptions options)
    : stages_(std::move(stages)),
      group_(std::move(group)),
      options_(std::move(options)),
      weight_grads_(std::make_shared<WeightGradStore>()),
      transport_(group_),
      layouts_(std::make_unique<ActivationLayouts>(options_.activation_layout)),
      key_prefix_("pipeline" + std::to_string((*group_.pipelines_made)++) + "/") {
  for (const LocalStage& stage : stages_) {
    if (!stage.module)
      throw std::invalid_argument("stage " + std::to_string(stage.stage) + " has no module");
    stage.module->to(group_.device);
    attach_weight_grad_store(*stage.module, weight_grads_);
  }
  if (options_.concurrent_pairs.value_or(group_.device.is_cuda()))
    pair_worker_ = std::make_unique<HostWorker>(group_.device);
  const bool streams_can_help =
      stages_.size() > 1 && std::none_of(stages_.begin(), stages_.end(), [](const LocalStage& s) {
        return s.module->orders_own_streams();
      });
  if (options_.stage_streams.value_or(true) && streams_can_help)
    stage_streams_ = std::make_unique<StageStreams>(group_.device, static_cast<int>(stages_.size()),
                                                    /*enabled=*/true);
}

Pipeline::Pipeline(std::vector<LocalStage> stages, PipelineGroup group, schedule::Schedule fixed,
                   PipelineOptions options)
    : Pipeline(std::move(stages), std::move(group), std::move(options)) {
  fixed_schedule_ = std::move(fixed);
}

Pipeline::~Pipeline() {
  for (const LocalStage& stage : stages_) attach_weight_grad_store(*stage.module, nullptr);
}

const schedule::Schedule& Pipeline::schedule_for(int num_microbatches) {
  return prepare(num_microbatches).schedule;
}

const PreparedSchedule& Pipeline::prepare(int num_microbatches) {
  auto found = schedules_.find(num_microbatches);
  if (found != schedules_.end()) return *found->second;
  schedule::Schedule compute;
  if (fixed_schedule_) {
    if (num_microbatches != fixed_schedule_->num_microbatches) {
      throw std::invalid_argument("this pipeline runs a fixed schedule of " +
                                  std::to_string(fixed_schedule_->num_microbatches) +
                                  " micro-batches, not " + std::to_string(num_microbatches));
    }
    compute = *fixed_schedule_;
  } else {
    compute = schedule::generate_schedule(options_.schedule, group_.size, num_microbatches,
                                          options_.virtual_stages);
  }
  if (compute.num_ranks != group_.size) {
    throw std::invalid_argument("schedule " + compute.name + " has " +
                                std::to_string(compute.num_ranks) + " ranks, the process group " +
                                std::to_string(group_.size));
  }
  auto prepared =
      std::make_unique<PreparedSchedule>(prepare_schedule(compute, group_.rank, stages_));
  return *schedules_.emplace(num_microbatches, std::move(prepared)).first->second;
}

Agreement Pipeline::agree_or_throw(const std::string& key, const RankReport& report,
                                   int64_t index) const {
  try {
    return agree(group_, key, report);
  } catch (const std::exception& error) {
    throw std::runtime_error("pipeline step " + std::to_string(index) + ": rank " +
                             std::to_string(group_.rank) +
                             " lost contact with the other ranks: " + first_line_of(error));
  }
}

// NCCL sets up the connection of two ranks at their first message, blocking both until the other
// arrives. Doing that for every channel the schedule uses, in one global order, cannot deadlock
// however the schedule interleaves its messages later.
void Pipeline::connect_channels(const schedule::Schedule& s) {
  std::set<std::pair<int, int>> channels;  // (sender, receiver)
  for (std::size_t r = 0; r < s.programs.size(); ++r) {
    for (const Action& action : s.programs[r]) {
      if (action.op == Op::kSendF || action.op == Op::kSendB)
        channels.emplace(static_cast<int>(r), action.peer);
    }
  }
  const torch::Tensor token = torch::zeros({1}, torch::TensorOptions().device(group_.device));
  for (const auto& [sender, receiver] : channels) {
    if (sender == group_.rank) {
      transport_.post_send(receiver, 0, {token});
      transport_.wait_for_sends();
    } else if (receiver == group_.rank) {
      transport_.post_receive(sender, 0, meta_of({token})).wait();
    }
  }
}

std::string Pipeline::input_signature(const StepInput& input) const {
  return to_string(meta_of(input.inputs)) + to_string(meta_of(input.labels));
}

StepPlan Pipeline::plan_step(const StepInput& input) {
  StepPlan plan;
  const bool training = torch::GradMode::is_enabled();
  const std::string rank = "rank " + std::to_string(group_.rank);
  try {
    plan.prepared = &prepare(input.num_microbatches);
    const int last_stage = plan.prepared->schedule.num_stages - 1;
    const auto holds = [&](int stage) {
      return std::any_of(stages_.begin(), stages_.end(),
                         [&](const LocalStage& l) { return l.stage == stage; });
    };
    if (holds(0)) {
      if (input.inputs.empty())
        throw std::invalid_argument(rank + " holds a first stage but got no inputs");
      plan.input_microbatches =
          split_microbatches(input.inputs, input.num_microbatches, options_.batch_dim);
    }
    if (holds(last_stage)) {
      if (training && !input.criterion) {
        throw std::invalid_argument(rank +
                                    " holds a last stage but got no criterion to train with");
      }
      if (!input.labels.empty()) {
        plan.label_microbatches =
            split_microbatches(input.labels, input.num_microbatches, options_.batch_dim);
      }
    }
    plan.report.description = plan.prepared->description;
  } catch (const std::exception& error) {
    plan.report.failure = first_line_of(error);
    plan.report.description =
        "a step of " + std::to_string(input.num_microbatches) + " micro-batches";
  }
  plan.report.description += training ? ", training" : ", forward only";
  if (!options_.activation_layout.empty()) {
    plan.report.description += ", activations " + to_string(options_.activation_layout);
  }
  plan.report.fingerprint = fingerprint_of(plan.report.description);
  plan.report.changed = input_signature(input) != last_input_signature_;
  return plan;
}

StageStreams& Pipeline::streams_for(const PreparedSchedule& prepared) {
  return stage_streams_ && options_.stage_streams.value_or(prepared.has_pairs) ? *stage_streams_
                                                                               : one_stream_;
}

StepResult Pipeline::step(const StepInput& input) {
  const int64_t index = step_index_++;
  const std::string name = "pipeline step " + std::to_string(index);
  const std::string key = key_prefix_ + "step" + std::to_string(index);

  // 1. Local checks, then agreement of all ranks on the step.
  StepPlan plan = plan_step(input);
  const Agreement start = agree_or_throw(key + "/start", plan.report, index);
  if (!start.error.empty()) throw std::runtime_error(name + ": " + start.error);
  const PreparedSchedule& prepared = *plan.prepared;
  last_input_signature_ = input_signature(input);
  if (start.any_changed || !layouts_->valid()) layouts_->forget();
  layouts_->declare_all(prepared.schedule.num_directions(), prepared.schedule.num_stages);
  if (!channels_connected_) {
    try {
      connect_channels(prepared.schedule);
    } catch (const std::exception& error) {
      throw std::runtime_error(name + ": rank " + std::to_string(group_.rank) +
                               " cannot reach its peers: " + first_line_of(error));
    }
    channels_connected_ = true;
  }

  // 2. Run this rank's program. Only communication failures stop it early.
  const bool training = torch::GradMode::is_enabled();
  GradientSync* sync = training ? gradient_sync_for(prepared.schedule) : nullptr;
  const StepContext context{stages_,
                            group_,
                            options_,
                            *weight_grads_,
                            pair_worker_.get(),
                            transport_,
                            *layouts_,
                            streams_for(prepared),
                            sync};
  StepRun run(context, prepared, input, training, !layouts_->valid());
  StepState& state = run.state();
  state.input_microbatches = std::move(plan.input_microbatches);
  state.label_microbatches = std::move(plan.label_microbatches);
  try {
    run.run();
  } catch (const std::exception& error) {
    abandon_step(sync);
    throw std::runtime_error(name + ": rank " + std::to_string(group_.rank) + ": " +
                             first_line_of(error));
  }
  if (state.failure.empty() && state.training && weight_grads_->pending_groups() != 0) {
    state.failure = std::to_string(weight_grads_->pending_groups()) +
                    " deferred weight gradients were never replayed by a W";
  }

  // 3. Agree on the outcome, then let the gradient reductions finish.
  plan.report.failure = state.failure;
  const Agreement end = agree_or_throw(key + "/end", plan.report, index);
  if (!end.error.empty()) {
    abandon_step(sync);
    throw std::runtime_error(name + " failed: " + end.error);
  }
  if (sync != nullptr) {
    try {
      sync->finish(/*failed=*/false);
    } catch (const std::exception& error) {
      abandon_step(nullptr);
      throw std::runtime_error(name + ": rank " + std::to_string(group_.rank) + ": " +
                               first_line_of(error));
    }
  }
  layouts_->mark_valid();
  return state.result();
}

void Pipeline::abandon_step(GradientSync* sync) {
  weight_grads_->clear();
  layouts_->forget();
  if (sync == nullptr) return;
  try {
    sync->finish(/*failed=*/true);
  } catch (const std::exception&) {
    // The step already failed; its reductions' own failure adds nothing to report.
  }
}

void Pipeline::set_gradient_sync(std::shared_ptr<GradientSync> sync) {
  gradient_sync_ = std::move(sync);
}

GradientSync* Pipeline::gradient_sync_for(const schedule::Schedule& s) {
  if (!gradient_sync_ && s.num_directions() > 1) {
    // Replicated stages over this pipeline alone: its ranks are a mesh of pp ranks x dp 1, and
    // the copies' groups are made through the pipeline's store.
    const PipelineGroup& group = group_;
    const std::string pipeline_prefix = key_prefix_;
    GroupFactory make_group = [group, pipeline_prefix](const std::string& name,
                                                       const std::vector<int>& ranks) {
      const auto me = std::find(ranks.begin(), ranks.end(), group.rank);
      std::string prefix = pipeline_prefix + name;
      for (int r : ranks) prefix += "/" + std::to_string(r);
      return make_communicator(c10::make_intrusive<c10d::PrefixStore>(prefix, group.store),
                               static_cast<int>(me - ranks.begin()), static_cast<int>(ranks.size()),
                               group.device, group.timeout, group.backend);
    };
    gradient_sync_ = std::make_shared<DataParallelGradients>(
        stages_, MeshLayout(group_.size, MeshShape{group_.size, 1, 1}), group_.rank, make_group);
  }
  if (gradient_sync_) gradient_sync_->prepare(s);
  return gradient_sync_.get();
}

std::vector<torch::Tensor> Pipeline::parameters() const {
  std::vector<torch::Tensor> result;
  for (const LocalStage& l : stages_) {
    for (const torch::Tensor& p : l.module->parameters()) result.push_back(p);
  }
  return result;
}

std::vector<std::pair<int, int>> local_stage_slots(const std::string& schedule_name, int num_ranks,
                                                   int rank, int virtual_stages) {
  const schedule::Schedule s =
      schedule::generate_schedule(schedule_name, num_ranks, 2 * num_ranks, virtual_stages);
  std::vector<std::pair<int, int>> slots;
  for (int d = 0; d < s.num_directions(); ++d) {
    for (int stage = 0; stage < s.num_stages; ++stage) {
      if (s.stage_rank[static_cast<std::size_t>(d)][static_cast<std::size_t>(stage)] == rank)
        slots.emplace_back(d, stage);
    }
  }
  return slots;
}

}  // namespace dualpipe::runtime
