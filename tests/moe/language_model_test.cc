#include "dualpipe/moe/language_model.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tensor_compare.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::max_relative_difference;

LanguageModelOptions small_model() {
  LanguageModelOptions o;
  o.hidden = 16;
  o.heads = 2;
  o.layers = 3;
  o.dense_layers = 1;
  o.dense_ffn_hidden = 24;
  o.moe.experts = 4;
  o.moe.top_k = 2;
  o.moe.groups = 2;
  o.moe.top_groups = 1;
  o.moe.ffn_hidden = 8;
  o.moe.shared_ffn_hidden = 8;
  return o;
}

std::vector<ExpertPlacement> placements(const LanguageModelOptions& o, StageUnits units) {
  std::vector<ExpertPlacement> result;
  for (int unit = std::max(units.first, 1 + o.dense_layers);
       unit < std::min(units.end, o.layers + 1); ++unit)
    result.push_back(ExpertPlacement({0, 1, 2, 3, 0}, 4, 1));
  return result;
}

std::shared_ptr<LanguageModelStage> stage(const LanguageModelOptions& o, StageUnits units) {
  auto s = std::make_shared<LanguageModelStage>(o, units, CommGroup(), placements(o, units));
  s->to(torch::kFloat64);
  return s;
}

TEST(PartitionUnits, CountsTheEmbeddingAndTheHeadAsUnits) {
  const std::vector<StageUnits> even = partition_units(6, 4);  // 8 units
  ASSERT_EQ(even.size(), 4u);
  EXPECT_EQ(even[0].first, 0);
  EXPECT_EQ(even[0].end, 2);  // embedding and layer 0
  EXPECT_EQ(even[3].first, 6);
  EXPECT_EQ(even[3].end, 8);                                  // layer 5 and the head
  const std::vector<StageUnits> odd = partition_units(3, 2);  // 5 units: 3 + 2
  EXPECT_EQ(odd[0].end, 3);
  const std::vector<StageUnits> stated = partition_units(6, 3, {2, 4, 2});
  EXPECT_EQ(stated[1].first, 2);
  EXPECT_EQ(stated[1].end, 6);
}

TEST(PartitionUnits, RefusesPartitionsThatDoNotFit) {
  EXPECT_THROW(partition_units(2, 5), std::invalid_argument);
  EXPECT_THROW(partition_units(6, 3, {2, 2, 2}), std::invalid_argument);
  EXPECT_THROW(partition_units(6, 3, {0, 4, 4}), std::invalid_argument);
}

TEST(LanguageModelStage, StagesInSequenceEqualTheWholeModel) {
  const LanguageModelOptions o = small_model();
  const auto whole = stage(o, {0, 5});
  const auto first = stage(o, {0, 2});
  const auto second = stage(o, {2, 5});
  torch::manual_seed(3);
  const torch::Tensor ids = torch::randint(0, 256, {2, 7}, torch::kLong);
  const torch::Tensor expected = whole->forward({ids}).at(0);
  const torch::Tensor got = second->forward(first->forward({ids})).at(0);
  EXPECT_EQ(got.sizes(), (std::vector<int64_t>{2, 7, 256}));
  EXPECT_LE(max_relative_difference({got}, {expected}), 1e-15);
  EXPECT_EQ(first->moe_layers().size(), 0u);  // layer 0 is dense
  EXPECT_EQ(second->moe_layer_indices(), (std::vector<int>{0, 1}));
}

TEST(LanguageModelStage, ALaterPositionNeverChangesAnEarlierOutput) {
  const auto model = stage(small_model(), {0, 5});
  torch::manual_seed(4);
  const torch::Tensor ids = torch::randint(0, 256, {1, 6}, torch::kLong);
  torch::Tensor changed = ids.clone();
  changed[0][5] = (ids[0][5].item<int64_t>() + 1) % 256;
  const torch::Tensor a = model->forward({ids}).at(0);
  const torch::Tensor b = model->forward({changed}).at(0);
  EXPECT_LE(max_relative_difference({a.narrow(1, 0, 5)}, {b.narrow(1, 0, 5)}), 1e-12);
  EXPECT_FALSE(torch::equal(a.narrow(1, 5, 1), b.narrow(1, 5, 1)));
}

TEST(LanguageModelStage, RefusesAPlacementCountThatDiffersFromItsMoeLayers) {
  const LanguageModelOptions o = small_model();
  EXPECT_THROW(LanguageModelStage(o, {2, 5}, CommGroup(), {}), std::invalid_argument);
}

TEST(NextByteLoss, IsTheMeanCrossEntropyOverEveryPosition) {
  const torch::Tensor logits = torch::zeros({1, 2, 256}, torch::kFloat64);
  const torch::Tensor labels = torch::tensor({{65, 66}}, torch::kLong);
  EXPECT_NEAR(next_byte_loss({logits}, {labels}).item<double>(), std::log(256.0), 1e-12);
}

TEST(UpdateRoutingBias, RaisesUnderloadedExpertsAndLowersOverloadedOnes) {
  const auto model = stage(small_model(), {2, 3});
  const std::vector<MoeLayer> layers = model->moe_layers();
  ASSERT_EQ(layers.size(), 1u);
  update_routing_bias(layers, {{10, 0, 5, 5}}, 0.01);
  const torch::Tensor bias = layers[0]->router->selection_bias;
  EXPECT_DOUBLE_EQ(bias[0].item<double>(), -0.01);
  EXPECT_DOUBLE_EQ(bias[1].item<double>(), 0.01);
  EXPECT_DOUBLE_EQ(bias[2].item<double>(), 0.0);
  EXPECT_THROW(update_routing_bias(layers, {}, 0.01), std::invalid_argument);
}

TEST(LanguageModelStage, CheckpointStateCarriesPlacementsAndRoutingBiases) {
  const LanguageModelOptions o = small_model();
  const auto a = stage(o, {2, 5});
  update_routing_bias(a->moe_layers(), {{1, 2, 3, 4}, {4, 3, 2, 1}}, 0.5);
  a->moe_layers()[1]->reset_placement(ExpertPlacement({3, 2, 1, 0, 3}, 4, 1));
  const auto b = stage(o, {2, 5});
  b->load_checkpoint_state(a->checkpoint_state());
  EXPECT_EQ(b->moe_layers()[1]->placement().phy2log(), (std::vector<int>{3, 2, 1, 0, 3}));
  EXPECT_TRUE(torch::equal(b->moe_layers()[0]->router->selection_bias,
                           a->moe_layers()[0]->router->selection_bias));
}

}  // namespace
}  // namespace dualpipe::moe
