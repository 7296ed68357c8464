#include "dualpipe/moe/phase_program.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dualpipe::moe {
namespace {

TEST(PhaseProgram, FusesConsecutiveComputePiecesIntoOnePhaseNamedAfterTheLast) {
  PhaseProgram program(std::make_shared<CommStreams>(torch::kCPU));
  std::vector<std::string> log;
  program.add_compute("combine", [&](PhaseTape&) { log.push_back("weighted sum"); });
  program.add_compute("attn", [&](PhaseTape&) { log.push_back("attention"); });
  program.add_exchange("dispatch", [&](PhaseTape&) {
    log.push_back("start");
    return std::function<void()>([&] { log.push_back("wait"); });
  });
  program.add_compute("mlp", [&](PhaseTape&) { log.push_back("experts"); });
  const std::vector<Phase> phases = program.forward_phases();
  ASSERT_EQ(phases.size(), 3u);
  EXPECT_EQ(phases[0].label, "attn(F)");
  EXPECT_FALSE(phases[0].communication);
  EXPECT_EQ(phases[1].label, "dispatch(F)");
  EXPECT_TRUE(phases[1].communication);
  EXPECT_EQ(phases[2].label, "mlp(F)");
  phases[0].compute();
  phases[1].start()();
  phases[2].compute();
  EXPECT_EQ(log,
            (std::vector<std::string>{"weighted sum", "attention", "start", "wait", "experts"}));
  EXPECT_EQ(program.tape().num_segments(),
            2);  // one per compute phase (this exchange recorded none)
}

TEST(BackwardPhases, RunTheTapeSegmentsInReverseAsBackwardPhases) {
  auto tape = std::make_shared<PhaseTape>();
  const ValueId x =
      tape->add_input(torch::ones({2}, torch::dtype(torch::kFloat64).requires_grad(true)));
  const ValueId y = tape->new_value();
  const ValueId z = tape->new_value();
  tape->begin_compute("attn");
  tape->write(y, tape->read(x) * 2);
  tape->end_compute();
  tape->record_exchange("dispatch", y, z, tape->value(y).detach(), [](const torch::Tensor& g) {
    return std::function<torch::Tensor()>([g] { return g * 10; });
  });
  const std::vector<Phase> phases = backward_phases(tape);
  ASSERT_EQ(phases.size(), 2u);
  EXPECT_EQ(phases[0].label, "dispatch(B)");
  EXPECT_EQ(phases[1].label, "attn(B)");
  tape->add_grad(z, torch::ones({2}, torch::kFloat64));
  phases[0].start()();
  phases[1].compute();
  EXPECT_TRUE(torch::allclose(tape->grad(x), torch::full({2}, 20.0, torch::kFloat64)));
}

}  // namespace
}  // namespace dualpipe::moe
