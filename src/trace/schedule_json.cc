#include "dualpipe/trace/schedule_json.h"

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace dualpipe::trace {
namespace {

namespace od = simdjson::ondemand;
using schedule::Action;
using schedule::Chunk;
using schedule::Op;
using schedule::Schedule;

// Bounds that keep a hostile file from allocating without limit.
constexpr std::int64_t kMaxRanks = 1 << 16;
constexpr std::int64_t kMaxStages = 1 << 16;
constexpr std::int64_t kMaxMicrobatches = 1 << 24;
constexpr std::int64_t kMaxChunks = std::int64_t{1} << 24;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::invalid_argument(path + ": " + problem);
}

// Unwraps a simdjson result, or fails naming `path` and what was expected there.
template <typename T>
T get(simdjson::simdjson_result<T>&& result, const std::string& path, const char* expected) {
  T value;
  if (const simdjson::error_code error = std::move(result).get(value)) {
    std::string problem = std::string("expected ") + expected;
    if (error != simdjson::INCORRECT_TYPE && error != simdjson::NUMBER_ERROR) {
      problem += std::string(" (") + simdjson::error_message(error) + ")";
    }
    fail(path, problem);
  }
  return value;
}

int get_int(od::value value, const std::string& path, std::int64_t max) {
  const std::int64_t number = get(value.get_int64(), path, "an integer");
  if (number < 0 || number > max) {
    fail(path,
         "expected an integer in 0.." + std::to_string(max) + ", got " + std::to_string(number));
  }
  return static_cast<int>(number);
}

// The header fields and the raw programs, before they are checked against each other.
struct ParsedSchedule {
  Schedule schedule;
  std::optional<int> ranks, stages, microbatches, directions;
  bool has_programs = false;
  bool has_placement = false;
};

// The chunk fields of one object ("stage", "microbatch" and the optional "direction").
struct ChunkFields {
  Chunk chunk;
  bool has_stage = false;
  bool has_microbatch = false;
};

// Reads `key` into `fields` when it names a chunk field; false for any other key.
bool read_chunk_field(std::string_view key, od::value value, const std::string& path,
                      ChunkFields& fields) {
  if (key == "stage") {
    fields.chunk.stage = get_int(value, path, kMaxStages);
    fields.has_stage = true;
  } else if (key == "microbatch") {
    fields.chunk.microbatch = get_int(value, path, kMaxMicrobatches);
    fields.has_microbatch = true;
  } else if (key == "direction") {
    fields.chunk.direction = get_int(value, path, 1);
  } else {
    return false;
  }
  return true;
}

Chunk complete_chunk(const ChunkFields& fields, const std::string& path) {
  if (!fields.has_stage) fail(path, "expected \"stage\"");
  if (!fields.has_microbatch) fail(path, "expected \"microbatch\"");
  return fields.chunk;  // "direction" defaults to 0
}

Chunk read_chunk(od::object object, const std::string& path) {
  ChunkFields fields;
  for (auto field_result : object) {
    od::field field = get(std::move(field_result), path, "a field");
    const std::string_view key = get(field.unescaped_key(), path, "a key");
    read_chunk_field(key, field.value(), path + "." + std::string(key), fields);
  }
  return complete_chunk(fields, path);
}

Action read_action(od::value value, const std::string& path) {
  od::object object = get(value.get_object(), path, "an action object");
  std::optional<Op> op;
  ChunkFields fields;
  std::optional<Chunk> forward, backward;
  std::optional<int> peer;
  for (auto field_result : object) {
    od::field field = get(std::move(field_result), path, "a field");
    const std::string_view key = get(field.unescaped_key(), path, "a key");
    const std::string field_path = path + "." + std::string(key);
    if (key == "op") {
      const std::string_view name = get(field.value().get_string(), field_path, "a string");
      try {
        op = schedule::parse_op(std::string(name));
      } catch (const std::invalid_argument& error) {
        fail(field_path, error.what());
      }
    } else if (key == "forward" || key == "backward") {
      (key == "forward" ? forward : backward) =
          read_chunk(get(field.value().get_object(), field_path, "an object"), field_path);
    } else if (key == "peer") {
      peer = get_int(field.value(), field_path, kMaxRanks);
    } else {
      read_chunk_field(key, field.value(), field_path, fields);
    }
  }
  if (!op) fail(path, "expected \"op\"");
  if (*op == Op::kFB) {
    if (!forward) fail(path, "expected \"forward\" in an FB action");
    if (!backward) fail(path, "expected \"backward\" in an FB action");
    return Action::overlapped(*forward, *backward);
  }
  const Chunk chunk = complete_chunk(fields, path);
  if (!schedule::is_communication(*op)) return Action::compute(*op, chunk);
  if (!peer) fail(path, "expected \"peer\" in a communication action");
  return Action::communication(*op, chunk, *peer);
}

void read_programs(od::value value, ParsedSchedule& parsed) {
  od::array ranks = get(value.get_array(), "programs", "an array of programs");
  for (auto rank_result : ranks) {
    const std::string rank_path =
        "programs[" + std::to_string(parsed.schedule.programs.size()) + "]";
    if (parsed.schedule.programs.size() >= kMaxRanks) fail(rank_path, "too many programs");
    od::array actions = get(get(std::move(rank_result), rank_path, "a program").get_array(),
                            rank_path, "an array of actions");
    std::vector<Action>& program = parsed.schedule.programs.emplace_back();
    for (auto action_result : actions) {
      const std::string path = rank_path + "[" + std::to_string(program.size()) + "]";
      program.push_back(read_action(get(std::move(action_result), path, "an action"), path));
    }
  }
  parsed.has_programs = true;
}

void read_placement(od::value value, ParsedSchedule& parsed) {
  od::array directions = get(value.get_array(), "placement", "an array per direction");
  for (auto direction_result : directions) {
    const std::string path = "placement[" + std::to_string(parsed.schedule.stage_rank.size()) + "]";
    if (parsed.schedule.stage_rank.size() >= 2) fail(path, "at most 2 directions are supported");
    od::array stages = get(get(std::move(direction_result), path, "an array").get_array(), path,
                           "an array of ranks");
    std::vector<int>& placement = parsed.schedule.stage_rank.emplace_back();
    for (auto rank_result : stages) {
      const std::string stage_path = path + "[" + std::to_string(placement.size()) + "]";
      if (static_cast<std::int64_t>(placement.size()) >= kMaxStages) {
        fail(stage_path, "too many stages");
      }
      placement.push_back(
          get_int(get(std::move(rank_result), stage_path, "a rank"), stage_path, kMaxRanks - 1));
    }
  }
  parsed.has_placement = true;
}

void read_root(od::document& document, ParsedSchedule& parsed) {
  od::object root = get(document.get_object(), "document", "a JSON object");
  for (auto field_result : root) {
    od::field field = get(std::move(field_result), "document", "a field");
    const std::string_view key = get(field.unescaped_key(), "document", "a key");
    const std::string path(key);
    if (key == "schedule") {
      parsed.schedule.name = std::string(get(field.value().get_string(), path, "a string"));
    } else if (key == "ranks") {
      parsed.ranks = get_int(field.value(), path, kMaxRanks);
    } else if (key == "stages") {
      parsed.stages = get_int(field.value(), path, kMaxStages);
    } else if (key == "microbatches") {
      parsed.microbatches = get_int(field.value(), path, kMaxMicrobatches);
    } else if (key == "directions") {
      parsed.directions = get_int(field.value(), path, 2);
    } else if (key == "placement") {
      read_placement(field.value(), parsed);
    } else if (key == "programs") {
      read_programs(field.value(), parsed);
    }
  }
}

// Where each stage runs, taken from the programs when the file has no "placement".
void infer_placement(Schedule& schedule) {
  for (int rank = 0; rank < schedule.num_ranks; ++rank) {
    const std::vector<Action>& program = schedule.programs[rank];
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& action = program[i];
      for (const Chunk* chunk : {&action.chunk, &action.backward}) {
        if (chunk == &action.backward && action.op != Op::kFB) break;
        int& placed = schedule.stage_rank[chunk->direction][chunk->stage];
        if (placed >= 0 && placed != rank) {
          fail("programs[" + std::to_string(rank) + "][" + std::to_string(i) + "]",
               "stage " + std::to_string(chunk->stage) + " of direction " +
                   std::to_string(chunk->direction) + " already runs on rank " +
                   std::to_string(placed) + " (add \"placement\" to say where stages run)");
        }
        placed = rank;
      }
    }
  }
  for (int d = 0; d < schedule.num_directions(); ++d) {
    for (int stage = 0; stage < schedule.num_stages; ++stage) {
      if (schedule.stage_rank[d][stage] < 0) {
        fail("programs", "stage " + std::to_string(stage) + " of direction " + std::to_string(d) +
                             " appears in no program (add \"placement\")");
      }
    }
  }
}

// Checks the header against itself and every action against the header.
void check_consistency(ParsedSchedule& parsed) {
  if (!parsed.ranks) fail("document", "expected \"ranks\"");
  if (!parsed.stages) fail("document", "expected \"stages\"");
  if (!parsed.microbatches) fail("document", "expected \"microbatches\"");
  if (!parsed.has_programs) fail("document", "expected \"programs\"");
  Schedule& s = parsed.schedule;
  s.num_ranks = *parsed.ranks;
  s.num_stages = *parsed.stages;
  s.num_microbatches = *parsed.microbatches;
  if (s.num_ranks < 1) fail("ranks", "expected at least 1 rank");
  if (s.num_stages < 1) fail("stages", "expected at least 1 stage");
  if (static_cast<int>(s.programs.size()) != s.num_ranks) {
    fail("programs", "expected " + std::to_string(s.num_ranks) + " programs (one per rank), got " +
                         std::to_string(s.programs.size()));
  }
  const int directions =
      parsed.has_placement ? static_cast<int>(s.stage_rank.size()) : parsed.directions.value_or(1);
  if (parsed.directions && *parsed.directions != directions) {
    fail("directions", "says " + std::to_string(*parsed.directions) + " but \"placement\" lists " +
                           std::to_string(directions));
  }
  if (directions < 1) fail("placement", "expected at least one direction");
  if (s.num_microbatches % directions != 0) {
    fail("microbatches", std::to_string(s.num_microbatches) + " do not split evenly over " +
                             std::to_string(directions) + " directions");
  }
  if (std::int64_t{s.num_stages} * s.num_microbatches > kMaxChunks) {
    fail("document",
         "schedule too large: stages x micro-batches exceeds " + std::to_string(kMaxChunks));
  }
  for (int d = 0; d < static_cast<int>(s.stage_rank.size()); ++d) {
    const std::string path = "placement[" + std::to_string(d) + "]";
    if (static_cast<int>(s.stage_rank[d].size()) != s.num_stages) {
      fail(path, "expected " + std::to_string(s.num_stages) + " ranks (one per stage), got " +
                     std::to_string(s.stage_rank[d].size()));
    }
    for (int rank : s.stage_rank[d]) {
      if (rank >= s.num_ranks) fail(path, "rank " + std::to_string(rank) + " out of range");
    }
  }
  const int per_direction = s.num_microbatches / directions;
  for (int rank = 0; rank < s.num_ranks; ++rank) {
    for (std::size_t i = 0; i < s.programs[rank].size(); ++i) {
      const Action& action = s.programs[rank][i];
      const std::string path = "programs[" + std::to_string(rank) + "][" + std::to_string(i) + "]";
      for (const Chunk* chunk : {&action.chunk, &action.backward}) {
        if (chunk == &action.backward && action.op != Op::kFB) break;
        if (chunk->stage >= s.num_stages || chunk->microbatch >= per_direction ||
            chunk->direction >= directions) {
          fail(path, "stage " + std::to_string(chunk->stage) + ", micro-batch " +
                         std::to_string(chunk->microbatch) + ", direction " +
                         std::to_string(chunk->direction) + " is outside the header (" +
                         std::to_string(s.num_stages) + " stages, " +
                         std::to_string(per_direction) + " micro-batches per direction, " +
                         std::to_string(directions) + " directions)");
        }
      }
      if (schedule::is_communication(action.op) && action.peer >= s.num_ranks) {
        fail(path, "peer " + std::to_string(action.peer) + " out of range");
      }
    }
  }
  if (!parsed.has_placement) {
    s.stage_rank.assign(directions, std::vector<int>(s.num_stages, -1));
    infer_placement(s);
  }
}

}  // namespace

schedule::Schedule read_schedule_json(const std::string& json_text) {
  const simdjson::padded_string padded(json_text);
  od::parser parser;
  od::document document = get(parser.iterate(padded), "document", "a JSON document");
  ParsedSchedule parsed;
  read_root(document, parsed);
  const char* trailing = nullptr;
  if (!document.current_location().get(trailing)) {
    fail("document", "unexpected content after the JSON object at byte " +
                         std::to_string(trailing - padded.data()));
  }
  check_consistency(parsed);
  return std::move(parsed.schedule);
}

}  // namespace dualpipe::trace
