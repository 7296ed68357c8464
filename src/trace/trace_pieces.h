// Trace pieces: reading one large trace as independent pieces — the text before the events, runs
// of whole events, and the text after them — on several threads, then joining what they found.
// Internal to the reader (chrome_trace.cc).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "dualpipe/trace/chrome_trace.h"

namespace dualpipe::trace {

// What one JSON document handed to the reader is.
enum class TracePart {
  kWhole,          // a whole trace: every check, GPU activity required, events sorted
  kEvents,         // an array of events and nothing after it
  kOutsideEvents,  // a trace whose events were cut out: its other top-level fields
};

// Reads `text` (followed by at least TraceText::kPadding readable bytes) as `part` into `out`,
// with `parser`. Records in `labelled` (when given) the processes that a process_labels record
// named. Throws TraceFormatError.
// With `cpu_operators`, CPU operators (category cpu_op) and c10d ranges ("gloo:...") are read as
// the activity of a trace recorded without a GPU.
void read_trace_part(std::string_view text, TracePart part, const std::string& source,
                     simdjson::ondemand::parser& parser, ProfileTrace& out,
                     std::set<TrackId>* labelled, bool cpu_operators = false);

// Throws TraceFormatError at `events_offset` when `trace` has no GPU activity.
void require_gpu_activity(const ProfileTrace& trace, const std::string& source,
                          std::size_t events_offset);

// Sorts a trace's activities, launches and annotations by start (stably).
void sort_by_start(ProfileTrace& trace);

// Events per piece: about 1 MB of text (small enough that each thread's parser buffers stay warm).
inline constexpr std::size_t kPieceBytes = std::size_t{1} << 20;

// The trace read in pieces of about `piece_bytes`, `threads` at a time; the same result as reading
// it whole. nullopt when the text is under four pieces, its events array cannot be cut at whole
// events, or any piece fails: then reading it whole gives the result or the precise error.
std::optional<ProfileTrace> read_in_pieces(const TraceText& text, const std::string& source,
                                           unsigned threads, std::size_t piece_bytes = kPieceBytes);

}  // namespace dualpipe::trace
