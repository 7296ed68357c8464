#include "dualpipe/eplb/plan_formats.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string_view>

#include "dualpipe/eplb/deepseek_policy.h"
#include "dualpipe/eplb/parse_error.h"
#include "dualpipe/eplb/placement.h"
#include "reference_cases.h"

namespace dualpipe::eplb {
namespace {

// A document holding the deepseek plan of `loads` and its per-layer statistics.
PlanDocument deepseek_document(const LoadMatrix& loads, const PlanParameters& parameters) {
  PlanDocument d;
  d.parameters = parameters;
  d.policy = "deepseek";
  const PlanProblem problem = make_plan_problem(loads, parameters);
  d.slots = plan_deepseek(problem);
  d.statistics = placement_statistics(d.slots, problem, lower_bounds(problem));
  return d;
}

// The reference README's example, planned as there.
PlanDocument readme_document() { return deepseek_document(testing::readme_loads(), {16, 4, 2, 8}); }

TEST(FormatPlan, EveryFormatReadsBackToTheSamePhy2log) {
  const PlanDocument d = readme_document();
  for (const std::string name : {"json", "yaml", "csv", "sglang", "trtllm"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(parse_plan_phy2log(format_plan(d, parse_plan_format(name))),
              to_placement(d.slots).phy2log);
  }
}

TEST(FormatPlan, JsonCarriesTheReferenceOutputsParametersAndStatistics) {
  const PlanDocument d = readme_document();
  simdjson::dom::parser parser;
  const std::string text = format_plan(d, PlanFormat::kJson);
  simdjson::dom::element root = parser.parse(text);
  EXPECT_EQ(std::string_view(root["policy"]), "deepseek");
  EXPECT_EQ(int64_t(root["gpus"]), 8);
  const Placement placement = to_placement(d.slots);
  EXPECT_EQ(int64_t(root["log2phy"].at(0).at(5).at(1)), placement.log2phy[0][5][1]);
  EXPECT_EQ(int64_t(root["logcnt"].at(1).at(8)), placement.logcnt[1][8]);
  EXPECT_EQ(root["layers"].get_array().size(), 2u);
  EXPECT_DOUBLE_EQ(double(root["layers"].at(1)["max_gpu_load"]), d.statistics[1].max_gpu_load);
}

TEST(FormatPlan, JsonListsLog2phyAndLogcntOfThePlacementPaddedWithMinusOne) {
  const PlanDocument d = readme_document();
  const Placement placement = to_placement(d.slots);
  simdjson::dom::parser parser;
  const std::string text = format_plan(d, PlanFormat::kJson);
  const simdjson::dom::element root = parser.parse(text);
  auto ints = [](simdjson::dom::array values) {
    std::vector<int> result;
    for (const int64_t value : values) result.push_back(static_cast<int>(value));
    return result;
  };
  bool padded = false;
  for (std::size_t l = 0; l < placement.log2phy.size(); ++l) {
    EXPECT_EQ(ints(root["logcnt"].at(l).get_array()), placement.logcnt[l]);
    for (std::size_t e = 0; e < placement.log2phy[l].size(); ++e) {
      const std::vector<int> slots = ints(root["log2phy"].at(l).at(e).get_array());
      EXPECT_EQ(slots, placement.log2phy[l][e]);
      padded = padded || std::count(slots.begin(), slots.end(), -1) > 0;
    }
  }
  EXPECT_TRUE(padded);
}

TEST(FormatPlan, SglangHoldsOnlyThePhysicalToLogicalMap) {
  simdjson::dom::parser parser;
  const std::string text = format_plan(readme_document(), PlanFormat::kSglang);
  simdjson::dom::object root = parser.parse(text).get_object();
  EXPECT_EQ(root.size(), 1u);
}

TEST(FormatPlan, TrtllmKeysLayersFromTheFirstLayerNumber) {
  PlanDocument d = readme_document();
  d.first_layer = 3;
  const YAML::Node root = YAML::Load(format_plan(d, PlanFormat::kTrtllm));
  EXPECT_EQ(root["num_slots"].as<int>(), 16);
  EXPECT_EQ(root["layer_updates_per_iter"].as<int>(), 0);
  EXPECT_EQ(root["initial_global_assignments"][4].as<std::vector<int>>(),
            to_placement(d.slots).phy2log[1]);
}

TEST(FormatPlan, WritesTheReadmeExampleAsCsvAndTrtllmTextExactly) {
  PlanDocument d = readme_document();
  EXPECT_EQ(format_plan(d, PlanFormat::kCsv),
            "5,6,5,7,8,4,3,4,10,9,10,2,0,1,11,1\n7,10,6,8,6,11,8,9,2,4,5,1,5,0,3,1\n");
  d.first_layer = 1000;  // four-digit keys take the slow number path
  EXPECT_EQ(format_plan(d, PlanFormat::kTrtllm),
            "initial_global_assignments:\n"
            "  1000: [5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1]\n"
            "  1001: [7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1]\n"
            "num_slots: 16\nlayer_updates_per_iter: 0\n");
}

TEST(WritePlan, RefusesLayerNumbersThatAreNegativeOrOverflowAnInt) {
  PlanDocument d = readme_document();
  for (const int first : {-1, std::numeric_limits<int>::max()}) {
    d.first_layer = first;
    std::string written;
    EXPECT_THROW(
        write_plan(d, PlanFormat::kTrtllm, [&](std::string_view piece) { written += piece; }),
        std::invalid_argument);
    EXPECT_EQ(written, "");
  }
  d.first_layer = std::numeric_limits<int>::max() - 1;  // layers max - 1 and max
  EXPECT_NE(format_plan(d, PlanFormat::kTrtllm).find("2147483647:"), std::string::npos);
}

TEST(WritePlan, StreamsFormatPlansTextInPiecesOfAtMost16KiB) {
  // 58 layers x 256 experts into 288 slots.
  LoadMatrix loads(58, 256);
  for (Eigen::Index l = 0; l < loads.rows(); ++l) {
    for (Eigen::Index e = 0; e < loads.cols(); ++e)
      loads(l, e) = static_cast<float>((l * 7919 + e * 104729) % 1000 + 1);
  }
  const PlanDocument d = deepseek_document(loads, {288, 8, 4, 32});
  for (const PlanFormat format : {PlanFormat::kJson, PlanFormat::kYaml, PlanFormat::kCsv}) {
    std::string streamed;
    std::vector<std::size_t> sizes;
    write_plan(d, format, [&](std::string_view piece) {
      streamed += piece;
      sizes.push_back(piece.size());
    });
    EXPECT_EQ(streamed, format_plan(d, format));
    EXPECT_EQ(parse_plan_phy2log(streamed), to_placement(d.slots).phy2log);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      EXPECT_LE(sizes[i], 16u * 1024u);
      if (i + 1 < sizes.size()) {
        EXPECT_GE(sizes[i], 15u * 1024u) << "piece " << i << " of " << sizes.size();
      }
    }
  }
  std::size_t json_pieces = 0;
  write_plan(d, PlanFormat::kJson, [&](std::string_view) { ++json_pieces; });
  EXPECT_GT(json_pieces, 3u);  // about 0.4 MB of JSON
}

TEST(ParsePlanPhy2log, NamesThePositionOfBadIds) {
  EXPECT_THROW(parse_plan_phy2log(""), ParseError);
  EXPECT_THROW(parse_plan_phy2log("{\"phy2log\": [[0, \"a\"]]}"), ParseError);
  EXPECT_THROW(parse_plan_phy2log("{\"phy2log\": [[0, 1.5]]}"), ParseError);
  EXPECT_THROW(parse_plan_phy2log("{\"other\": 1}"), ParseError);
  try {
    parse_plan_phy2log("0,1\n2,x\n");
    FAIL();
  } catch (const ParseError& error) {
    EXPECT_STREQ(error.what(), "line 2, column 3: expected an expert id (an integer >= 0)");
  }
  EXPECT_THROW(parse_plan_format("xml"), std::invalid_argument);
}

std::string plan_error_of(std::string_view content) {
  try {
    parse_plan_phy2log(content);
  } catch (const ParseError& error) {
    return error.what();
  }
  return "no error";
}

TEST(ParsePlanPhy2log, RefusesKeysGivenTwiceNamesJsonErrorsAndSkipsAByteOrderMark) {
  EXPECT_EQ(plan_error_of("{\"phy2log\": [[0]], \"phy2log\": [[1]]}"),
            "$: the key \"phy2log\" appears twice");
  EXPECT_EQ(plan_error_of("phy2log: [[0]]\nphy2log: [[1]]\n"),
            "line 2, column 1: the key \"phy2log\" appears twice");
  EXPECT_EQ(plan_error_of("{\"phy2log\": [[0, 1]\n ]]}").substr(0, 32),
            "line 2, column 3: invalid JSON: ");
  EXPECT_EQ(plan_error_of(std::string_view("0,1\n\0", 5)),
            "line 2, column 1: a NUL byte; expected text");
  EXPECT_EQ(parse_plan_phy2log("\xEF\xBB\xBF"
                               "0,1\n"),
            (std::vector<std::vector<int>>{{0, 1}}));
}

}  // namespace
}  // namespace dualpipe::eplb
