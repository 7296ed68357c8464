#include "dualpipe/schedule/schedule_io.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "dualpipe/schedule/json_quote.h"

namespace dualpipe::schedule {
namespace {

// Upper bounds that keep a hostile file from allocating without limit.
constexpr int kMaxStageIds = 1 << 16;
constexpr int kMaxMicrobatches = 1 << 20;
constexpr std::int64_t kMaxChunks = std::int64_t{1} << 24;

// --- JSON writing -----------------------------------------------------------------------------

std::string json_chunk_fields(const Chunk& chunk) {
  return "\"stage\":" + std::to_string(chunk.stage) +
         ",\"microbatch\":" + std::to_string(chunk.microbatch) +
         ",\"direction\":" + std::to_string(chunk.direction);
}

std::string json_action(const Action& action) {
  if (action.op == Op::kFB) {
    return "{\"op\":\"FB\",\"forward\":{" + json_chunk_fields(action.chunk) + "},\"backward\":{" +
           json_chunk_fields(action.backward) + "}}";
  }
  std::string text =
      "{\"op\":\"" + std::string(op_name(action.op)) + "\"," + json_chunk_fields(action.chunk);
  if (is_communication(action.op)) text += ",\"peer\":" + std::to_string(action.peer);
  return text + "}";
}

template <typename T, typename Format>
std::string json_list(const std::vector<T>& items, Format format) {
  std::string text = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text += ',';
    text += format(items[i]);
  }
  return text + "]";
}

// --- CSV --------------------------------------------------------------------------------------

std::string csv_chunk(const Schedule& schedule, const char* op, const Chunk& chunk) {
  return std::to_string(chunk.direction * schedule.num_stages + chunk.stage) + op +
         std::to_string(chunk.microbatch);
}

std::string csv_action(const Schedule& schedule, const Action& action) {
  if (action.op == Op::kFB) {
    return "(" + csv_chunk(schedule, "F", action.chunk) + ";" +
           csv_chunk(schedule, "B", action.backward) + ")OVERLAP_F_B";
  }
  return csv_chunk(schedule, op_name(action.op), action.chunk);
}

// Where a CSV field came from, for error messages.
struct FieldPosition {
  int line = 0;   // 1-based
  int field = 0;  // 1-based
};

[[noreturn]] void csv_error(const FieldPosition& at, const std::string& what) {
  throw std::invalid_argument("line " + std::to_string(at.line) + ", field " +
                              std::to_string(at.field) + ": " + what);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// A parsed "<stage id><op><micro-batch>" before stage ids are split into directions.
struct RawChunk {
  int stage_id = 0;
  Op op = Op::kF;
  int microbatch = 0;
};

// A parsed field: one action, or nothing (an empty field or an FSDP op the IR does not model).
struct RawAction {
  Op op = Op::kF;
  RawChunk first;
  RawChunk second;  // FB only: the backward half
};

bool read_int(std::string_view& text, int& value) {
  const char* first = text.data();
  const auto [end, error] = std::from_chars(first, first + text.size(), value);
  if (error != std::errc() || end == first) return false;
  text.remove_prefix(static_cast<std::size_t>(end - first));
  return true;
}

std::optional<RawChunk> parse_raw_chunk(std::string_view text) {
  RawChunk chunk;
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  if (!read_int(text, chunk.stage_id)) return std::nullopt;
  // Longest op name first: "SEND_F" must not be read as a bare "S...".
  static constexpr std::pair<const char*, Op> kOps[] = {
      {"SEND_F", Op::kSendF}, {"RECV_F", Op::kRecvF}, {"SEND_B", Op::kSendB},
      {"RECV_B", Op::kRecvB}, {"F", Op::kF},          {"B", Op::kB},
      {"I", Op::kI},          {"W", Op::kW}};
  bool found = false;
  for (const auto& [name, op] : kOps) {
    const std::string_view op_text(name);
    if (text.substr(0, op_text.size()) == op_text) {
      chunk.op = op;
      text.remove_prefix(op_text.size());
      found = true;
      break;
    }
  }
  if (!found || text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  if (!read_int(text, chunk.microbatch) || !text.empty()) return std::nullopt;
  return chunk;
}

void check_raw_chunk(const RawChunk& chunk, const FieldPosition& at) {
  if (chunk.stage_id >= kMaxStageIds) {
    csv_error(at, "stage id " + std::to_string(chunk.stage_id) + " is too large (at most " +
                      std::to_string(kMaxStageIds - 1) + ")");
  }
  if (chunk.microbatch >= kMaxMicrobatches) {
    csv_error(at, "micro-batch " + std::to_string(chunk.microbatch) + " is too large (at most " +
                      std::to_string(kMaxMicrobatches - 1) + ")");
  }
}

std::optional<RawAction> parse_field(std::string_view text, const FieldPosition& at) {
  text = trim(text);
  if (text.empty() || text.find("UNSHARD") != std::string_view::npos ||
      text.find("RESHARD") != std::string_view::npos ||
      text.find("REDUCE_GRAD") != std::string_view::npos) {
    return std::nullopt;  // idle slot or FSDP bookkeeping: no pipeline action
  }
  const std::string expected = "expected an action like 0F1, 2I3 or (0F1;1B0)OVERLAP_F_B, got '" +
                               std::string(text.substr(0, 40)) + "'";
  RawAction action;
  constexpr std::string_view kPairSuffix = ")OVERLAP_F_B";
  if (text.front() == '(') {
    const std::size_t semicolon = text.find(';');
    if (text.size() < kPairSuffix.size() + 1 ||
        text.substr(text.size() - kPairSuffix.size()) != kPairSuffix ||
        semicolon == std::string_view::npos) {
      csv_error(at, expected);
    }
    const auto forward = parse_raw_chunk(trim(text.substr(1, semicolon - 1)));
    const auto backward = parse_raw_chunk(
        trim(text.substr(semicolon + 1, text.size() - kPairSuffix.size() - semicolon - 1)));
    if (!forward || !backward || forward->op != Op::kF || backward->op != Op::kB) {
      csv_error(at, "expected an overlapped pair like (0F1;1B0)OVERLAP_F_B, got '" +
                        std::string(text.substr(0, 40)) + "'");
    }
    check_raw_chunk(*forward, at);
    check_raw_chunk(*backward, at);
    action.op = Op::kFB;
    action.first = *forward;
    action.second = *backward;
    return action;
  }
  const auto chunk = parse_raw_chunk(text);
  if (!chunk) csv_error(at, expected);
  check_raw_chunk(*chunk, at);
  action.op = chunk->op;
  action.first = *chunk;
  return action;
}

// Parsed fields of all lines, with where each came from.
struct RawSchedule {
  std::vector<std::vector<std::pair<RawAction, FieldPosition>>> rows;
  int max_stage_id = -1;
  int max_microbatch = -1;
};

RawSchedule parse_rows(const std::string& text) {
  RawSchedule raw;
  std::string_view rest(text);
  int line = 0;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view row = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    ++line;
    raw.rows.emplace_back();
    int field = 0;
    std::size_t begin = 0;
    while (begin <= row.size()) {
      const std::size_t comma = std::min(row.find(',', begin), row.size());
      const FieldPosition at{line, ++field};
      if (const auto action = parse_field(row.substr(begin, comma - begin), at)) {
        raw.rows.back().emplace_back(*action, at);
        for (const RawChunk* chunk : {&action->first, &action->second}) {
          if (chunk == &action->second && action->op != Op::kFB) break;
          raw.max_stage_id = std::max(raw.max_stage_id, chunk->stage_id);
          raw.max_microbatch = std::max(raw.max_microbatch, chunk->microbatch);
        }
      }
      begin = comma + 1;
    }
  }
  while (!raw.rows.empty() && raw.rows.back().empty()) raw.rows.pop_back();
  return raw;
}

}  // namespace

std::string write_schedule_json(const Schedule& schedule) {
  const auto int_list = [](int value) { return std::to_string(value); };
  std::string text =
      "{\"schedule\":" + json_quote(schedule.name) +
      ",\"ranks\":" + std::to_string(schedule.num_ranks) +
      ",\"microbatches\":" + std::to_string(schedule.num_microbatches) +
      ",\"stages\":" + std::to_string(schedule.num_stages) +
      ",\"directions\":" + std::to_string(schedule.num_directions()) + ",\"placement\":" +
      json_list(schedule.stage_rank,
                [&](const std::vector<int>& ranks) { return json_list(ranks, int_list); }) +
      ",\"programs\":[\n";
  for (std::size_t rank = 0; rank < schedule.programs.size(); ++rank) {
    text += json_list(schedule.programs[rank], json_action);
    text += rank + 1 < schedule.programs.size() ? ",\n" : "\n";
  }
  return text + "]}\n";
}

std::string write_schedule_csv(const Schedule& schedule) {
  std::string text;
  for (const std::vector<Action>& program : schedule.programs) {
    for (std::size_t i = 0; i < program.size(); ++i) {
      if (i > 0) text += ',';
      text += csv_action(schedule, program[i]);
    }
    text += '\n';
  }
  return text;
}

Schedule read_schedule_csv(const std::string& text, int num_directions) {
  if (num_directions != 1 && num_directions != 2) {
    throw std::invalid_argument("CSV schedules have 1 or 2 directions, not " +
                                std::to_string(num_directions));
  }
  const RawSchedule raw = parse_rows(text);
  if (raw.rows.empty() || raw.max_stage_id < 0) {
    throw std::invalid_argument("line 1, field 1: expected at least one action");
  }
  const int stage_ids = raw.max_stage_id + 1;
  if (stage_ids % num_directions != 0) {
    throw std::invalid_argument("stage ids 0.." + std::to_string(raw.max_stage_id) +
                                " do not split into " + std::to_string(num_directions) +
                                " directions");
  }
  Schedule schedule;
  schedule.num_ranks = static_cast<int>(raw.rows.size());
  schedule.num_stages = stage_ids / num_directions;
  const int microbatches = raw.max_microbatch + 1;
  if (std::int64_t{stage_ids} * microbatches > kMaxChunks) {
    throw std::invalid_argument("schedule too large: " + std::to_string(stage_ids) +
                                " stage ids x " + std::to_string(microbatches) + " micro-batches");
  }
  schedule.num_microbatches = microbatches * num_directions;
  schedule.stage_rank.assign(num_directions, std::vector<int>(schedule.num_stages, -1));
  std::vector<FieldPosition> first_seen(stage_ids);

  const auto to_chunk = [&](const RawChunk& raw_chunk, int rank, const FieldPosition& at) {
    const Chunk chunk{raw_chunk.stage_id % schedule.num_stages, raw_chunk.microbatch,
                      raw_chunk.stage_id / schedule.num_stages};
    int& placed = schedule.stage_rank[chunk.direction][chunk.stage];
    if (placed >= 0 && placed != rank) {
      csv_error(at, "stage id " + std::to_string(raw_chunk.stage_id) + " already appears on line " +
                        std::to_string(first_seen[raw_chunk.stage_id].line) +
                        "; a stage runs on one rank");
    }
    if (placed < 0) first_seen[raw_chunk.stage_id] = at;
    placed = rank;
    return chunk;
  };
  for (int rank = 0; rank < schedule.num_ranks; ++rank) {
    std::vector<Action>& program = schedule.programs.emplace_back();
    for (const auto& [raw_action, at] : raw.rows[rank]) {
      Action action;
      action.op = raw_action.op;
      action.chunk = to_chunk(raw_action.first, rank, at);
      if (raw_action.op == Op::kFB) action.backward = to_chunk(raw_action.second, rank, at);
      program.push_back(action);
    }
  }
  for (int id = 0; id < stage_ids; ++id) {
    if (schedule.stage_rank[id / schedule.num_stages][id % schedule.num_stages] < 0) {
      throw std::invalid_argument("stage id " + std::to_string(id) + " appears on no line");
    }
  }
  // Peers follow from the placement: the rank of the stage after (F) or before (B).
  for (std::vector<Action>& program : schedule.programs) {
    for (Action& action : program) {
      if (!is_communication(action.op)) continue;
      const bool towards_next = action.op == Op::kSendF || action.op == Op::kRecvB;
      Chunk other = action.chunk;
      other.stage += towards_next ? 1 : -1;
      action.peer =
          other.stage >= 0 && other.stage < schedule.num_stages ? schedule.rank_of(other) : -1;
    }
  }
  return schedule;
}

}  // namespace dualpipe::schedule
