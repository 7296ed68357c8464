#include "dualpipe/schedule/annotation.h"

#include <charconv>
#include <cstring>
#include <system_error>

namespace dualpipe::schedule {
namespace {

std::string chunk_fields(const Chunk& chunk) {
  return "s" + std::to_string(chunk.stage) + " m" + std::to_string(chunk.microbatch) + " d" +
         std::to_string(chunk.direction);
}

// Reads `tag` followed by a non-negative int from `text` at `pos`; advances `pos` on success.
bool read_field(const std::string& text, std::size_t& pos, const char* tag, int& value) {
  const std::size_t tag_length = std::strlen(tag);
  if (text.compare(pos, tag_length, tag) != 0) return false;
  const char* first = text.data() + pos + tag_length;
  const char* last = text.data() + text.size();
  const auto [end, error] = std::from_chars(first, last, value);
  if (error != std::errc() || end == first || value < 0) return false;
  pos = static_cast<std::size_t>(end - text.data());
  return true;
}

// Reads "s<stage> m<mb> d<dir>" at `pos`.
bool read_chunk(const std::string& text, std::size_t& pos, Chunk& chunk) {
  return read_field(text, pos, "s", chunk.stage) && read_field(text, pos, " m", chunk.microbatch) &&
         read_field(text, pos, " d", chunk.direction);
}

}  // namespace

std::string annotation_label(const Action& action) {
  std::string label =
      std::string(kAnnotationPrefix) + op_name(action.op) + " " + chunk_fields(action.chunk);
  if (action.op == Op::kFB) label += " | " + chunk_fields(action.backward);
  if (is_communication(action.op)) label += " p" + std::to_string(action.peer);
  return label;
}

std::optional<Action> parse_annotation_label(const std::string& label) {
  const std::size_t prefix_length = std::strlen(kAnnotationPrefix);
  if (label.compare(0, prefix_length, kAnnotationPrefix) != 0) return std::nullopt;
  const std::size_t space = label.find(' ', prefix_length);
  if (space == std::string::npos) return std::nullopt;
  Action action;
  try {
    action.op = parse_op(label.substr(prefix_length, space - prefix_length));
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  std::size_t pos = space + 1;
  if (!read_chunk(label, pos, action.chunk)) return std::nullopt;
  if (action.op == Op::kFB) {
    if (label.compare(pos, 3, " | ") != 0) return std::nullopt;
    pos += 3;
    if (!read_chunk(label, pos, action.backward)) return std::nullopt;
  } else if (is_communication(action.op)) {
    if (!read_field(label, pos, " p", action.peer)) return std::nullopt;
  }
  if (pos != label.size()) return std::nullopt;
  return action;
}

std::string phase_label(const std::string& phase, char pass) {
  return phase + "(" + std::string(1, pass) + ")";
}

bool is_phase_label(const std::string& label) {
  const std::size_t n = label.size();
  return n >= 4 && label[n - 1] == ')' && label[n - 3] == '(' &&
         (label[n - 2] == 'F' || label[n - 2] == 'B' || label[n - 2] == 'W');
}

}  // namespace dualpipe::schedule
