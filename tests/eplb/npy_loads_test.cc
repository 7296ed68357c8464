#include "dualpipe/eplb/npy_loads.h"

#include <gtest/gtest.h>

#include <cstring>

#include "load_formats_test_util.h"

namespace dualpipe::eplb {
namespace {

// A version-1 .npy file with the given header dictionary and raw data.
std::string npy(const std::string& dict, const std::string& data) {
  std::string header = dict;
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size());
  bytes += '\0';
  return bytes + header + data;
}

template <typename T>
std::string raw(std::initializer_list<T> values) {
  std::string bytes;
  for (T v : values) bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
  return bytes;
}

// The message of the ParseError that parse_npy_loads throws, or "no error".
const auto error_of = testing::parse_error_of<parse_npy_loads>;

TEST(ParseNpyLoads, RoundTripsATimeSeriesThroughItsWriter) {
  testing::expect_round_trip(parse_npy_loads, format_npy_loads);
}

TEST(ParseNpyLoads, ReadsInt64AndFloat64AndFortranOrder) {
  const auto ints =
      parse_npy_loads(npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }",
                          raw<std::int64_t>({1, 2, 3, 4})));
  EXPECT_EQ(ints[0](1, 0), 3.0f);
  const auto fortran = parse_npy_loads(
      npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", raw<double>({1, 2, 3, 4})));
  EXPECT_EQ(fortran[0](1, 0), 2.0f);
  const auto int32 = parse_npy_loads(npy(
      "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 3), }", raw<std::int32_t>({5, 6, 7})));
  EXPECT_EQ(int32[0](0, 2), 7.0f);
}

TEST(ParseNpyLoads, ReadsBigEndianFloat32) {
  std::string data = raw<float>({1.5f});
  std::swap(data[0], data[3]);
  std::swap(data[1], data[2]);
  EXPECT_EQ(parse_npy_loads(
                npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 1), }", data))[0](0, 0),
            1.5f);
}

TEST(ParseNpyLoads, RejectsBadHeadersTruncationAndBadValues) {
  EXPECT_NE(error_of("garbage").find("not a NumPy .npy file"), std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 1), }",
                         raw<float>({1, 2})))
                .find("dtype '<c8' is not supported"),
            std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                         raw<float>({1, 2, 3, 4})))
                .find("expected 2"),
            std::string::npos);
  EXPECT_NE(error_of(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                         raw<float>({1, 2, 3})))
                .find("data bytes; the shape needs 16"),
            std::string::npos);
  EXPECT_EQ(error_of(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
                         raw<float>({1, -2}))),
            "element [0, 1]: negative load; expected a number >= 0");
  EXPECT_NE(error_of(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }",
                         raw<double>({1e300})))
                .find("float32"),
            std::string::npos);
}

TEST(ParseNpyLoads, RefusesAHeaderWithoutItsClosingBrace) {
  EXPECT_EQ(error_of(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), ",
                         raw<float>({1, 2}))),
            "npy header: not a dictionary closed by '}'");
}

TEST(ParseNpyLoads, RefusesAShapeLargerThanAnyFileWithoutOverflowing) {
  const std::string huge =
      "{'descr': '<f8', 'fortran_order': False, 'shape': (16777216, 16777216, 16777216), }";
  EXPECT_NE(error_of(npy(huge, raw<double>({1}))).find("the shape needs more than 9e18"),
            std::string::npos);
}

}  // namespace
}  // namespace dualpipe::eplb
