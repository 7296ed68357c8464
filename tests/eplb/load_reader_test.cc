#include "dualpipe/eplb/load_reader.h"

#include <gtest/gtest.h>

#include "dualpipe/eplb/csv_loads.h"
#include "dualpipe/eplb/json_loads.h"
#include "dualpipe/eplb/npy_loads.h"
#include "dualpipe/eplb/parse_error.h"
#include "dualpipe/eplb/yaml_loads.h"
#include "load_formats_test_util.h"

namespace dualpipe::eplb {
namespace {

TEST(DetectLoadFormat, UsesMagicBytesThenExtensionThenContent) {
  EXPECT_EQ(detect_load_format(std::string_view("\x93NUMPY", 6), "loads.csv"), LoadFormat::kNpy);
  EXPECT_EQ(detect_load_format("1,2", "loads.JSON"), LoadFormat::kJson);
  EXPECT_EQ(detect_load_format("[[1]]", "loads.txt"), LoadFormat::kJson);
  EXPECT_EQ(detect_load_format("loads:\n - [1]", "loads"), LoadFormat::kYaml);
  EXPECT_EQ(detect_load_format("- [1]", "loads"), LoadFormat::kYaml);
  EXPECT_EQ(detect_load_format("1,2\n", "loads"), LoadFormat::kCsv);
  EXPECT_EQ(detect_load_format("1,2\n", "loads.yml"), LoadFormat::kYaml);
}

TEST(ParseLoads, ReadsEveryFormatToTheSameSeries) {
  const LoadSeries series = testing::two_step_series();
  for (const auto& [name, text] :
       {std::pair<std::string, std::string>{"a.csv", format_csv_loads(series)},
        {"a.json", format_json_loads(series)},
        {"a.yaml", format_yaml_loads(series)},
        {"a.npy", format_npy_loads(series)}}) {
    SCOPED_TRACE(name);
    const LoadSeries back = parse_loads(text, name);
    ASSERT_EQ(back.size(), series.size());
    for (std::size_t s = 0; s < series.size(); ++s) EXPECT_EQ(back[s], series[s]);
  }
}

TEST(ParseLoads, TurnsBinaryGarbageIntoAParseError) {
  const std::string garbage("\x01\xff\x00\x7f\x80garbage\xfe", 13);
  EXPECT_THROW(parse_loads(garbage, "loads.bin"), ParseError);
}

TEST(IsTorchSaveFile, KnowsDumpsByTheirNameOrZipMagic) {
  EXPECT_TRUE(is_torch_save_file("anything", "dump.pt"));
  EXPECT_TRUE(is_torch_save_file(std::string("PK\x03\x04rest", 8), "dump.bin"));
  EXPECT_FALSE(is_torch_save_file("1,2\n", "loads.csv"));
}

TEST(SeriesFromValues, ReadsStepsLayersAndExpertsInRowMajorOrder) {
  const double values[] = {5, 0, 3, 9, 1, 1, 7, 2};
  const LoadSeries series = series_from_values(values, 2, 2, 2, "counts");
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[1](1, 0), 7.0f);
  EXPECT_EQ(series[0](1, 0), 3.0f);
}

TEST(SeriesFromValues, NamesTheFirstBadValue) {
  const double values[] = {5, 0, 3, -9};
  try {
    series_from_values(values, 1, 2, 2, "logical_count");
    FAIL() << "no error";
  } catch (const ParseError& error) {
    EXPECT_EQ(std::string(error.what()),
              "logical_count[0][1][1]: negative load; expected a number >= 0");
  }
}

}  // namespace
}  // namespace dualpipe::eplb
