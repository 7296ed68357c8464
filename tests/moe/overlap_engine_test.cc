#include "dualpipe/moe/overlap_engine.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "dualpipe/moe/phased_stage.h"
#include "tensor_compare.h"
#include "test_stages.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::max_relative_difference;

Phase fake_phase(const std::string& name, char pass, bool communication,
                 std::vector<std::string>* log) {
  Phase phase;
  phase.name = name;
  phase.pass = pass;
  phase.communication = communication;
  phase.label = name + "(" + pass + ")";
  const std::string label = phase.label;
  if (communication) {
    phase.start = [log, label] {
      log->push_back("start " + label);
      return std::function<void()>([log, label] { log->push_back("wait " + label); });
    };
  } else {
    phase.compute = [log, label] { log->push_back(label); };
  }
  return phase;
}

// The phases of a stage of `layers` MoE layers: attn, dispatch, mlp, combine per layer and the
// final weighted sum; backward in reverse.
std::vector<Phase> moe_phases(int layers, char pass, std::vector<std::string>* log) {
  std::vector<Phase> phases;
  for (int l = 0; l < layers; ++l) {
    phases.push_back(fake_phase("attn", pass, false, log));
    phases.push_back(fake_phase("dispatch", pass, true, log));
    phases.push_back(fake_phase("mlp", pass, false, log));
    phases.push_back(fake_phase("combine", pass, true, log));
  }
  phases.push_back(fake_phase("combine", pass, false, log));
  if (pass == 'B') std::reverse(phases.begin(), phases.end());
  return phases;
}

TEST(Interleaving, HidesEveryCommunicationOfAnMoEPairUnderCompute) {
  std::vector<std::string> log;
  const std::vector<Phase> forward = moe_phases(2, 'F', &log);
  const std::vector<Phase> backward = moe_phases(2, 'B', &log);
  const std::vector<PairStep> steps = interleaving(forward, backward);
  ASSERT_EQ(steps.size(), 10u);  // the forward's first compute and the backward's last run alone
  EXPECT_EQ(steps.front().forward, 0);
  EXPECT_EQ(steps.front().backward, -1);
  EXPECT_EQ(steps.back().forward, -1);
  EXPECT_EQ(steps.back().backward, 8);
  for (std::size_t i = 1; i + 1 < steps.size(); ++i) {
    const Phase& f = forward[static_cast<std::size_t>(steps[i].forward)];
    const Phase& b = backward[static_cast<std::size_t>(steps[i].backward)];
    EXPECT_NE(f.communication, b.communication) << "step " << i;
  }
}

TEST(Interleaving, PairsPhasesLikeDeepSeekV3WhenTheBackwardStarts) {
  std::vector<std::string> log;
  const std::vector<Phase> forward = moe_phases(2, 'F', &log);
  const std::vector<Phase> backward = moe_phases(2, 'B', &log);
  std::vector<std::string> pairs;
  for (const PairStep& step : interleaving(forward, backward, PairOrder::kBackwardFirst)) {
    std::string pair;
    if (step.forward >= 0) pair += forward[static_cast<std::size_t>(step.forward)].label;
    pair += "|";
    if (step.backward >= 0) pair += backward[static_cast<std::size_t>(step.backward)].label;
    pairs.push_back(pair);
  }
  // The backward's sum of its last combine runs alone, the forward's last sum at the end; each
  // exchange between runs beside a whole attention or expert phase.
  const std::vector<std::string> expected{
      "|combine(B)",        "attn(F)|combine(B)", "dispatch(F)|mlp(B)", "mlp(F)|dispatch(B)",
      "combine(F)|attn(B)", "attn(F)|combine(B)", "dispatch(F)|mlp(B)", "mlp(F)|dispatch(B)",
      "combine(F)|attn(B)", "combine(F)|",
  };
  EXPECT_EQ(pairs, expected);
}

TEST(Interleaving, KeepsEachQueueInOrderWhenShapesDiffer) {
  std::vector<std::string> log;
  const std::vector<Phase> forward = moe_phases(1, 'F', &log);
  const std::vector<Phase> backward = moe_phases(3, 'B', &log);
  for (const PairOrder order : {PairOrder::kForwardFirst, PairOrder::kBackwardFirst}) {
    int next_forward = 0;
    int next_backward = 0;
    for (const PairStep& step : interleaving(forward, backward, order)) {
      if (step.forward >= 0) {
        EXPECT_EQ(step.forward, next_forward++);
      }
      if (step.backward >= 0) {
        EXPECT_EQ(step.backward, next_backward++);
      }
    }
    EXPECT_EQ(next_forward, 5);
    EXPECT_EQ(next_backward, 13);
  }
}

TEST(RunInterleaved, StartsEachCommunicationBeforeTheComputeItHidesUnder) {
  std::vector<std::string> log;
  run_interleaved(moe_phases(1, 'F', &log), moe_phases(1, 'B', &log));
  const std::vector<std::string> expected{
      "attn(F)",          "start dispatch(F)", "combine(B)",
      "wait dispatch(F)", "start combine(B)",  "mlp(F)",
      "wait combine(B)",  "start combine(F)",  "mlp(B)",
      "wait combine(F)",  "start dispatch(B)", "combine(F)",
      "wait dispatch(B)", "attn(B)",
  };
  EXPECT_EQ(log, expected);
}

// A backward of one MoE layer whose mlp(B) phase hands its weight gradients to `store`.
std::vector<Phase> backward_with_mlp_weights(
    std::vector<std::string>& log, const std::shared_ptr<runtime::WeightGradStore>& store) {
  std::vector<Phase> backward = moe_phases(1, 'B', &log);
  for (Phase& phase : backward) {
    if (phase.communication || phase.name != "mlp") continue;
    phase.compute = [&log, store] {
      log.push_back("mlp(B)");
      store->run_or_defer([&log] { log.push_back("mlp weight gradients"); });
    };
  }
  return backward;
}

TEST(RunInterleaved, RunsDeferredWeightGradientsAtTheStartOfTheNextStepsCompute) {
  std::vector<std::string> log;
  auto store = std::make_shared<runtime::WeightGradStore>();
  const std::vector<Phase> backward = backward_with_mlp_weights(log, store);
  run_interleaved(moe_phases(1, 'F', &log), backward, store.get(),
                  {PairOrder::kForwardFirst, all_weight_phases()});
  const std::vector<std::string> expected{
      "attn(F)",          "start dispatch(F)", "combine(B)",
      "wait dispatch(F)", "start combine(B)",  "mlp(F)",
      "wait combine(B)",  "start combine(F)",  "mlp(B)",
      "wait combine(F)",  "start dispatch(B)", "mlp weight gradients",
      "combine(F)",       "wait dispatch(B)",  "attn(B)",
  };
  EXPECT_EQ(log, expected);
  EXPECT_EQ(store->pending_groups(), 0u);
}

TEST(RunInterleaved, ComputesWeightGradientsInPlaceForPhasesNotNamed) {
  std::vector<std::string> log;
  auto store = std::make_shared<runtime::WeightGradStore>();
  const std::vector<Phase> backward = backward_with_mlp_weights(log, store);
  run_interleaved(moe_phases(1, 'F', &log), backward, store.get());  // defers attn's only
  const std::vector<std::string> expected{
      "attn(F)",          "start dispatch(F)",
      "combine(B)",       "wait dispatch(F)",
      "start combine(B)", "mlp(F)",
      "wait combine(B)",  "start combine(F)",
      "mlp(B)",           "mlp weight gradients",
      "wait combine(F)",  "start dispatch(B)",
      "combine(F)",       "wait dispatch(B)",
      "attn(B)",
  };
  EXPECT_EQ(log, expected);
  EXPECT_EQ(store->pending_groups(), 0u);
}

TEST(RunInterleaved, BackwardFirstPutsTheExpertsWeightGradientsBesideDispatchB) {
  std::vector<std::string> log;
  auto store = std::make_shared<runtime::WeightGradStore>();
  const std::vector<Phase> backward = backward_with_mlp_weights(log, store);
  run_interleaved(moe_phases(1, 'F', &log), backward, store.get(),
                  {PairOrder::kBackwardFirst, {"mlp"}});
  const std::vector<std::string> expected{
      "combine(B)",       "start combine(B)",  "attn(F)",
      "wait combine(B)",  "start dispatch(F)", "mlp(B)",
      "wait dispatch(F)", "start dispatch(B)", "mlp weight gradients",
      "mlp(F)",           "wait dispatch(B)",  "start combine(F)",
      "attn(B)",          "wait combine(F)",   "combine(F)",
  };
  EXPECT_EQ(log, expected);
  EXPECT_EQ(store->pending_groups(), 0u);
}

// A phase-structured toy stage: y = tanh(x W1), a fake exchange doubling y, z = y' W2 + x.
class ToyStage : public PhasedStage {
 public:
  ToyStage() {
    w1 = register_parameter("w1", torch::randn({4, 4}, torch::kFloat64));
    w2 = register_parameter("w2", torch::randn({4, 4}, torch::kFloat64));
  }

  std::vector<ValueId> append_phases(PhaseProgram& program,
                                     const std::vector<ValueId>& inputs) override {
    PhaseTape& tape = program.tape();
    const ValueId x = inputs.at(0);
    const ValueId y = tape.new_value();
    const ValueId sent = tape.new_value();
    const ValueId z = tape.new_value();
    program.add_compute(
        "attn", [this, x, y](PhaseTape& t) { t.write(y, torch::tanh(t.read(x).matmul(w1))); });
    program.add_exchange("dispatch", [y, sent](PhaseTape& t) {
      const torch::Tensor doubled = t.value(y).detach() * 2;
      return std::function<void()>([&t, y, sent, doubled] {
        t.record_exchange("dispatch", y, sent, doubled, [](const torch::Tensor& g) {
          return std::function<torch::Tensor()>([g] { return g * 2; });
        });
      });
    });
    program.add_compute("mlp", [this, x, sent, z](PhaseTape& t) {
      t.write(z, t.read(sent).matmul(w2) + t.read(x));
    });
    return {z};
  }

  torch::Tensor reference(const torch::Tensor& x) const {
    return (torch::tanh(x.matmul(w1)) * 2).matmul(w2) + x;
  }

  torch::Tensor w1;
  torch::Tensor w2;
};

TEST(OverlapEngine, BackwardThroughAutogradMatchesThePlainFunction) {
  torch::manual_seed(5);
  ToyStage stage;
  const torch::Tensor x = torch::randn({3, 4}, torch::dtype(torch::kFloat64).requires_grad(true));
  const torch::Tensor y = stage.forward({x}).at(0);
  EXPECT_TRUE(y.requires_grad());
  y.pow(2).sum().backward();
  const std::vector<torch::Tensor> phased{stage.w1.grad().clone(), stage.w2.grad().clone(),
                                          x.grad().clone()};
  stage.zero_grad();
  const torch::Tensor x2 = x.detach().clone().requires_grad_(true);
  const torch::Tensor reference = stage.reference(x2);
  EXPECT_LE(max_relative_difference({y}, {reference}), 1e-14);
  reference.pow(2).sum().backward();
  EXPECT_LE(max_relative_difference(phased, {stage.w1.grad(), stage.w2.grad(), x2.grad()}), 1e-13);
}

TEST(OverlapEngine, ForwardWithoutGradModeJustComputes) {
  ToyStage stage;
  const torch::Tensor x = torch::randn({3, 4}, torch::kFloat64);
  torch::NoGradGuard no_grad;
  const torch::Tensor y = stage.forward({x}).at(0);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_LE(max_relative_difference({y}, {stage.reference(x)}), 1e-14);
}

struct PairOutcome {
  std::vector<torch::Tensor> tensors;  // forward outputs, loss, parameter and input gradients
};

// Runs forward(mb0), then the pair (forward mb1 | backward mb0) overlapped or not, and collects
// the pair's forward results and all gradients. With `use_loss`, mb0's backward starts from a loss.
PairOutcome run_pair(ToyStage& stage, bool overlap, bool use_loss) {
  torch::manual_seed(9);
  const torch::Tensor x0 = torch::randn({3, 4}, torch::dtype(torch::kFloat64).requires_grad(true));
  const torch::Tensor x1 = torch::randn({3, 4}, torch::dtype(torch::kFloat64).requires_grad(true));
  const torch::Tensor grad0 = torch::randn({3, 4}, torch::kFloat64);
  const runtime::Criterion criterion = [](const runtime::TensorList& outputs,
                                          const runtime::TensorList& labels) {
    return (outputs[0] - labels[0]).pow(2).sum();
  };
  stage.zero_grad();
  stage.set_overlap(overlap);
  runtime::ForwardPass first;
  first.inputs = {x0};
  if (use_loss) {
    first.criterion = &criterion;
    first.labels = {grad0};
  }
  const runtime::ForwardResult result0 = runtime::run_forward(stage, first);
  runtime::ForwardPass second;
  second.inputs = {x1};
  second.criterion = &criterion;
  second.labels = {grad0};
  const runtime::ForwardResult result1 =
      stage.overlapped_forward_backward(second, testing::backward_of(stage, result0, grad0));
  return {{result1.outputs.at(0).detach(), result1.loss.detach(), stage.w1.grad().clone(),
           stage.w2.grad().clone(), x0.grad().clone()}};
}

TEST(OverlapEngine, OverlappedPairMatchesForwardThenBackward) {
  torch::manual_seed(1);
  ToyStage stage;
  for (bool use_loss : {false, true}) {
    const PairOutcome sequential = run_pair(stage, false, use_loss);
    const PairOutcome overlapped = run_pair(stage, true, use_loss);
    EXPECT_LE(max_relative_difference(overlapped.tensors, sequential.tensors), 1e-12)
        << "loss: " << use_loss;
  }
}

}  // namespace
}  // namespace dualpipe::moe
