#include "dualpipe/moe/load_recorder.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "dualpipe/eplb/json_loads.h"
#include "dualpipe/eplb/load_reader.h"
#include "dualpipe/moe/moe_layer.h"
#include "multi_process.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;

TEST(LoadRecorder, RecordedLoadsEqualTheRoutersCountsOverAllRanks) {
  run_in_processes(2, [](const Worker& worker) {
    const CommGroup world = worker.world();
    MoeLayerOptions options;
    options.hidden = 8;
    options.ffn_hidden = 4;
    options.experts = 6;
    options.top_k = 2;
    options.layer = 1;
    MoeLayer layer(options, world, ExpertPlacement({0, 1, 2, 3, 4, 5, 0, 1}, 6, 2));
    layer->to(torch::kFloat64);
    auto recorder = std::make_shared<LoadRecorder>(2, 6);
    layer->set_load_recorder(recorder);
    torch::manual_seed(worker.rank);
    std::vector<torch::Tensor> expected_steps;
    for (int step = 0; step < 2; ++step) {
      torch::Tensor expected = torch::zeros({6}, torch::kInt64);
      for (int microbatch = 0; microbatch < 3; ++microbatch) {
        const torch::Tensor tokens = torch::randn({5, 8}, torch::kFloat64);
        layer->forward(tokens).sum().backward();
        expected += tokens_per_expert(layer->router->forward(tokens), 6);
      }
      std::vector<torch::Tensor> buffer{expected};
      world->allreduce(buffer)->wait();
      expected_steps.push_back(expected);
      recorder->end_step(world);
    }
    ASSERT_EQ(recorder->steps().size(), 2u);
    for (std::size_t step = 0; step < 2; ++step) {
      const auto& layers = recorder->steps()[step];
      EXPECT_EQ(layers[0], std::vector<int64_t>(6, 0));  // a layer the recorder never saw
      const torch::Tensor recorded = torch::tensor(layers[1]);
      EXPECT_TRUE(torch::equal(recorded, expected_steps[step])) << recorded << expected_steps[step];
      EXPECT_EQ(recorded.sum().item<int64_t>(),
                2 * 3 * 5 * 2);  // ranks x micro-batches x tokens x k
    }
    // What eplb-plan reads back from the recorded series' JSON is what was recorded.
    const eplb::LoadSeries series =
        eplb::parse_loads(eplb::format_json_loads(recorder->series()), "loads.json");
    ASSERT_EQ(series.size(), 2u);
    EXPECT_EQ(series[1](1, 3), static_cast<float>(recorder->steps()[1][1][3]));
    EXPECT_TRUE(series[0].isApprox(recorder->series()[0]));
  });
}

TEST(LoadRecorder, RejectsCountsOfTheWrongShape) {
  LoadRecorder recorder(2, 4);
  EXPECT_THROW(recorder.add(2, torch::zeros({4}, torch::kInt64)), std::invalid_argument);
  EXPECT_THROW(recorder.add(0, torch::zeros({3}, torch::kInt64)), std::invalid_argument);
  EXPECT_THROW(LoadRecorder(0, 4), std::invalid_argument);
}

TEST(LoadRecorder, StartsEachStepFromZero) {
  LoadRecorder recorder(1, 3);
  recorder.add(0, torch::tensor({1, 2, 3}, torch::kInt64));
  recorder.end_step();
  recorder.add(0, torch::tensor({0, 0, 1}, torch::kInt64));
  recorder.end_step();
  EXPECT_EQ(recorder.steps()[1][0], (std::vector<int64_t>{0, 0, 1}));
  EXPECT_EQ(recorder.series()[0](0, 2), 3.0f);
}

}  // namespace
}  // namespace dualpipe::moe
