// Schedule import/export: the toolkit's JSON format and the CSV action notation of
// torch.distributed.pipelining. Text in, text out; files live in the apps.
#pragma once

#include <string>

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule {

// JSON: {"schedule": name, "ranks": P, "microbatches": N, "stages": S, "directions": D,
//        "placement": [[rank of stage s] per direction], "programs": [[action, ...] per rank]}.
// An action is {"op": "F"|"B"|"I"|"W", "stage": s, "microbatch": m, "direction": d},
// {"op": "FB", "forward": {...}, "backward": {...}} (halves without "op"), or for
// communication {"op": "SEND_F"|..., "stage", "microbatch", "direction", "peer": rank}.
// Micro-batches are numbered within their direction. Reading it lives in the trace library
// (dualpipe/trace/schedule_json.h) because it needs a JSON parser.
std::string write_schedule_json(const Schedule& schedule);

// CSV in torch.distributed.pipelining's notation: line r lists rank r's actions separated by
// commas, each "<stage><op><microbatch>" with op F, B, I, W, SEND_F, RECV_F, SEND_B or RECV_B
// (e.g. "0F1", "1B0", "2I3", "2W3", "3SEND_F1") and an overlapped pair as
// "(<forward>;<backward>)OVERLAP_F_B". Stage ids are global: direction d's stage s is
// d * num_stages + s (DualPipe's direction 1 uses ids S..2S-1; DualPipeV needs no offset).
std::string write_schedule_csv(const Schedule& schedule);

// Reads the CSV above. `num_directions` (1 or 2) says how stage ids map to directions: with 2,
// ids 0..S-1 are direction 0 and S..2S-1 direction 1 (2S = number of stage ids). Placement is
// taken from the rows the stages appear on; stages, micro-batches and ranks from the largest ids.
// Throws std::invalid_argument naming line and field ("line 3, field 5: expected an action like
// 0F1, got 'x'") on malformed text or a stage found on two ranks.
Schedule read_schedule_csv(const std::string& text, int num_directions = 1);

}  // namespace dualpipe::schedule
