#include "reference_cases.h"

#include <simdjson.h>

#include <stdexcept>

namespace dualpipe::eplb::testing {
namespace {

std::vector<int> ints(simdjson::dom::array array) {
  std::vector<int> values;
  for (simdjson::dom::element v : array) values.push_back(static_cast<int>(int64_t(v)));
  return values;
}

std::vector<float> floats(simdjson::dom::array array) {
  std::vector<float> values;
  for (simdjson::dom::element v : array) values.push_back(static_cast<float>(double(v)));
  return values;
}

std::vector<std::vector<int>> int_rows(simdjson::dom::array array) {
  std::vector<std::vector<int>> rows;
  for (simdjson::dom::element row : array) rows.push_back(ints(row));
  return rows;
}

}  // namespace

LoadMatrix readme_loads() {
  LoadMatrix loads(2, 12);
  loads << 90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86,  //
      20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27;
  return loads;
}

std::string eplb_test_data(const std::string& file_name) {
  return std::string(DUALPIPE_SOURCE_DIR) + "/tests/data/eplb/" + file_name;
}

std::vector<ReferenceCase> load_reference_cases() {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(eplb_test_data("reference_plans.json"));
  std::vector<ReferenceCase> cases;
  for (simdjson::dom::element c : root["cases"].get_array()) {
    ReferenceCase rc;
    rc.name = std::string(std::string_view(c["name"]));
    rc.parameters.replicas = static_cast<int>(int64_t(c["replicas"]));
    rc.parameters.groups = static_cast<int>(int64_t(c["groups"]));
    rc.parameters.nodes = static_cast<int>(int64_t(c["nodes"]));
    rc.parameters.gpus = static_cast<int>(int64_t(c["gpus"]));
    std::vector<std::vector<float>> rows;
    for (simdjson::dom::element row : c["loads"].get_array()) rows.push_back(floats(row));
    rc.loads.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows[0].size()));
    for (std::size_t l = 0; l < rows.size(); ++l) {
      for (std::size_t e = 0; e < rows[l].size(); ++e) rc.loads(l, e) = rows[l][e];
    }
    rc.phy2log = int_rows(c["phy2log"]);
    rc.logcnt = int_rows(c["logcnt"]);
    for (simdjson::dom::element layer : c["log2phy"].get_array()) rc.log2phy.push_back(int_rows(layer));
    cases.push_back(std::move(rc));
  }
  return cases;
}

std::vector<SortCase> load_sort_cases() {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(eplb_test_data("torch_sort_orders.json"));
  std::vector<SortCase> cases;
  for (simdjson::dom::element c : root["cases"].get_array()) {
    cases.push_back({floats(c["values"]), ints(c["order"])});
  }
  return cases;
}

}  // namespace dualpipe::eplb::testing
