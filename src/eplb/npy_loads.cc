#include "dualpipe/eplb/npy_loads.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dualpipe/eplb/parse_error.h"

namespace dualpipe::eplb {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;

// The parts of the header dictionary the reader needs.
struct NpyHeader {
  char kind = 0;      // 'f' or 'i'
  int item_size = 0;  // bytes
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

// The text after `'key':` in the header dictionary, or throws.
std::string_view value_of(std::string_view header, std::string_view key) {
  const std::string quoted = "'" + std::string(key) + "'";
  std::size_t at = header.find(quoted);
  if (at == std::string_view::npos)
    throw ParseError("npy header: missing '" + std::string(key) + "'");
  at = header.find(':', at + quoted.size());
  if (at == std::string_view::npos)
    throw ParseError("npy header: no value for '" + std::string(key) + "'");
  ++at;
  while (at < header.size() && header[at] == ' ') ++at;
  return header.substr(at);
}

NpyHeader parse_header(std::string_view header) {
  const std::size_t last = header.find_last_not_of(" \n");
  if (header.empty() || header[0] != '{' || last == std::string_view::npos || header[last] != '}') {
    throw ParseError("npy header: not a dictionary closed by '}'");
  }
  NpyHeader result;
  const std::string_view descr = value_of(header, "descr");
  const std::size_t close = descr.find('\'', 1);
  if (descr.empty() || descr[0] != '\'' || close == std::string_view::npos || close < 4) {
    throw ParseError("npy header: 'descr' is not a quoted type string");
  }
  const std::string type(descr.substr(1, close - 1));
  const bool known = type == "<f4" || type == "<f8" || type == "<i4" || type == "<i8" ||
                     type == ">f4" || type == ">f8" || type == ">i4" || type == ">i8" ||
                     type == "=f4" || type == "=f8" || type == "=i4" || type == "=i8";
  if (!known) {
    throw ParseError("npy header: dtype '" + type +
                     "' is not supported; expected float32, float64, int32 or int64");
  }
  result.big_endian = type[0] == '>';
  result.kind = type[1];
  result.item_size = type[2] - '0';
  const std::string_view order = value_of(header, "fortran_order");
  if (order.substr(0, 4) == "True") {
    result.fortran_order = true;
  } else if (order.substr(0, 5) != "False") {
    throw ParseError("npy header: 'fortran_order' is neither True nor False");
  }
  std::string_view shape = value_of(header, "shape");
  if (shape.empty() || shape[0] != '(') throw ParseError("npy header: 'shape' is not a tuple");
  shape = shape.substr(1, shape.find(')') == std::string_view::npos ? 0 : shape.find(')') - 1);
  std::size_t at = 0;
  while (at < shape.size()) {
    while (at < shape.size() && (shape[at] == ' ' || shape[at] == ',')) ++at;
    if (at == shape.size()) break;
    std::int64_t dim = 0;
    std::size_t digits = 0;
    while (at < shape.size() && shape[at] >= '0' && shape[at] <= '9' && digits < 12) {
      dim = dim * 10 + (shape[at++] - '0');
      ++digits;
    }
    if (digits == 0 || (at < shape.size() && shape[at] != ',' && shape[at] != ' ')) {
      throw ParseError("npy header: 'shape' has a dimension that is not a number");
    }
    result.shape.push_back(dim);
  }
  if (result.shape.size() != 2 && result.shape.size() != 3) {
    throw ParseError("npy header: shape has " + std::to_string(result.shape.size()) +
                     " dimensions; expected 2 (layers, experts) or 3 (steps, layers, experts)");
  }
  for (std::int64_t dim : result.shape) {
    if (dim <= 0 || dim > (1 << 24))
      throw ParseError("npy header: shape has an empty or huge dimension");
  }
  return result;
}

double read_item(const char* data, const NpyHeader& header) {
  unsigned char bytes[8];
  std::memcpy(bytes, data, static_cast<std::size_t>(header.item_size));
  const std::uint16_t probe = 1;
  const bool host_little = *reinterpret_cast<const unsigned char*>(&probe) == 1;
  if (header.big_endian == host_little) std::reverse(bytes, bytes + header.item_size);
  if (header.kind == 'f' && header.item_size == 4) {
    float value;
    std::memcpy(&value, bytes, 4);
    return value;
  }
  if (header.kind == 'f') {
    double value;
    std::memcpy(&value, bytes, 8);
    return value;
  }
  if (header.item_size == 4) {
    std::int32_t value;
    std::memcpy(&value, bytes, 4);
    return value;
  }
  std::int64_t value;
  std::memcpy(&value, bytes, 8);
  return static_cast<double>(value);
}

}  // namespace

LoadSeries parse_npy_loads(std::string_view bytes) {
  if (bytes.size() < 10 || bytes.substr(0, kMagicSize) != std::string_view(kMagic, kMagicSize)) {
    throw ParseError("byte 0: not a NumPy .npy file (missing the \\x93NUMPY magic)");
  }
  const auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]));
  };
  const unsigned major = byte(6);
  if (major < 1 || major > 3)
    throw ParseError("byte 6: unsupported .npy version " + std::to_string(major));
  const std::size_t length_size = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + length_size) throw ParseError("byte 8: truncated .npy header");
  std::size_t header_length = byte(8) | (byte(9) << 8);
  if (length_size == 4) header_length |= (byte(10) << 16) | (byte(11) << 24);
  const std::size_t data_start = 8 + length_size + header_length;
  if (bytes.size() < data_start) throw ParseError("byte 8: .npy header longer than the file");
  const NpyHeader header = parse_header(bytes.substr(8 + length_size, header_length));

  const bool three_d = header.shape.size() == 3;
  const std::int64_t steps = three_d ? header.shape[0] : 1;
  const std::int64_t layers = header.shape[three_d ? 1 : 0];
  const std::int64_t experts = header.shape[three_d ? 2 : 1];
  // In double: three dimensions of up to 2^24 may overflow an int64.
  const double needed = static_cast<double>(steps) * static_cast<double>(layers) *
                        static_cast<double>(experts) * header.item_size;
  if (needed != static_cast<double>(bytes.size() - data_start)) {
    throw ParseError("byte " + std::to_string(data_start) + ": " +
                     std::to_string(bytes.size() - data_start) + " data bytes; the shape needs " +
                     (needed < 9e18 ? std::to_string(static_cast<long long>(needed))
                                    : std::string("more than 9e18")));
  }
  LoadSeries series;
  const char* data = bytes.data() + data_start;
  for (std::int64_t s = 0; s < steps; ++s) {
    LoadMatrix loads(layers, experts);
    for (std::int64_t l = 0; l < layers; ++l) {
      for (std::int64_t e = 0; e < experts; ++e) {
        const std::int64_t index =
            header.fortran_order ? s + steps * (l + layers * e) : (s * layers + l) * experts + e;
        const double value = read_item(data + index * header.item_size, header);
        if (is_valid_load(value)) {
          loads(l, e) = static_cast<float>(value);
          continue;
        }
        checked_load(value, "element [" + (three_d ? std::to_string(s) + ", " : std::string()) +
                                std::to_string(l) + ", " + std::to_string(e) + "]");
      }
    }
    series.push_back(std::move(loads));
  }
  return series;
}

std::string format_npy_loads(const LoadSeries& series) {
  const LoadMatrix& first = series.at(0);
  std::string shape = "(" +
                      (series.size() > 1 ? std::to_string(series.size()) + ", " : std::string()) +
                      std::to_string(first.rows()) + ", " + std::to_string(first.cols()) + ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  const std::size_t total = kMagicSize + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes(kMagic, kMagicSize);
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  for (const LoadMatrix& step : series) {
    for (Eigen::Index l = 0; l < step.rows(); ++l) {
      for (Eigen::Index e = 0; e < step.cols(); ++e) {
        const float value = step(l, e);
        char raw[4];
        std::memcpy(raw, &value, 4);  // little-endian hosts only, as the header says
        bytes.append(raw, 4);
      }
    }
  }
  return bytes;
}

}  // namespace dualpipe::eplb
