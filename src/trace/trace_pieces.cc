#include "trace_pieces.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "dualpipe/trace/trace_error.h"
#include "parallel_tasks.h"

namespace dualpipe::trace {
namespace {

constexpr std::size_t kLongestSearch = std::size_t{1} << 20;  // for a cut between two events

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::size_t skip_spaces(std::string_view text, std::size_t at) {
  while (at < text.size() && is_space(text[at])) ++at;
  return at;
}

// Where a trace's events are: the events array opens just before `events`; its first event starts
// at `first`; `cuts` hold, for each later piece, the comma before it and its first event's '{'.
struct EventsLayout {
  bool bare_array = false;                                // the whole text is the events array
  std::size_t events = 0;                                 // just past the array's '['
  std::size_t first = 0;                                  // the first event's '{'
  std::vector<std::pair<std::size_t, std::size_t>> cuts;  // (',' position, next '{' position)
};

// Finds "}", spaces, ",", at least one space, "{" from `from` on; returns (',' , '{').
std::optional<std::pair<std::size_t, std::size_t>> next_cut(std::string_view text,
                                                            std::size_t from) {
  const std::size_t limit = std::min(text.size(), from + kLongestSearch);
  for (std::size_t comma = text.find(',', from); comma < limit; comma = text.find(',', comma + 1)) {
    std::size_t before = comma;
    while (before > 0 && is_space(text[before - 1])) --before;
    if (before == 0 || text[before - 1] != '}') continue;
    if (comma + 1 >= text.size() || !is_space(text[comma + 1])) continue;
    const std::size_t next = skip_spaces(text, comma + 1);
    if (next < text.size() && text[next] == '{') return std::make_pair(comma, next);
  }
  return std::nullopt;
}

std::optional<EventsLayout> find_events(std::string_view text, std::size_t piece_bytes) {
  EventsLayout layout;
  const std::size_t start = skip_spaces(text, 0);
  if (start >= text.size()) return std::nullopt;
  if (text[start] == '[') {
    layout.bare_array = true;
    layout.events = start + 1;
  } else {
    std::size_t at = text.find("\"traceEvents\"");
    if (text[start] != '{' || at == std::string_view::npos) return std::nullopt;
    at = skip_spaces(text, at + 13);
    if (at >= text.size() || text[at] != ':') return std::nullopt;
    at = skip_spaces(text, at + 1);
    if (at >= text.size() || text[at] != '[') return std::nullopt;
    layout.events = at + 1;
  }
  layout.first = skip_spaces(text, layout.events);
  if (layout.first >= text.size() || text[layout.first] != '{') return std::nullopt;
  std::size_t from = layout.first + piece_bytes;
  while (from + piece_bytes / 2 < text.size()) {
    const auto cut = next_cut(text, from);
    if (!cut) break;
    layout.cuts.push_back(*cut);
    from = cut->second + piece_bytes;
  }
  return layout;
}

// A piece of text to read as one JSON document: `prefix` + text[begin, end) + `suffix`.
struct Piece {
  std::string_view prefix;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string_view suffix;
  TracePart part = TracePart::kEvents;
};

constexpr int kClosingCandidates = 8;

// What reading one piece gave.
struct PieceResult {
  ProfileTrace trace;
  std::set<TrackId> labelled;
};

// One thread's reusable parser and padded buffer.
class PieceReader {
 public:
  PieceResult read(std::string_view text, const Piece& piece, const std::string& source) {
    const std::size_t size = piece.prefix.size() + (piece.end - piece.begin) + piece.suffix.size();
    buffer_.resize(size + TraceText::kPadding);
    char* at = buffer_.data();
    at = std::copy(piece.prefix.begin(), piece.prefix.end(), at);
    at = std::copy(text.begin() + static_cast<std::ptrdiff_t>(piece.begin),
                   text.begin() + static_cast<std::ptrdiff_t>(piece.end), at);
    std::copy(piece.suffix.begin(), piece.suffix.end(), at);
    PieceResult result;
    read_trace_part(std::string_view(buffer_.data(), size), piece.part, source, parser_,
                    result.trace, &result.labelled);
    return result;
  }

 private:
  simdjson::ondemand::parser parser_;
  std::vector<char> buffer_;
};

// Joins the pieces' findings in text order, as one reading of the whole text would have made them.
class Joiner {
 public:
  // Room for everything `pieces` found (saves regrowing the big vectors).
  void reserve(const std::vector<PieceResult>& pieces) {
    std::size_t activities = 0, launches = 0, annotations = 0;
    for (const PieceResult& piece : pieces) {
      activities += piece.trace.gpu_activities.size();
      launches += piece.trace.launches.size();
      annotations += piece.trace.annotations.size();
    }
    out_.gpu_activities.reserve(activities);
    out_.launches.reserve(launches);
    out_.annotations.reserve(annotations);
  }

  void add(PieceResult& piece) {
    ProfileTrace& part = piece.trace;
    std::vector<std::uint32_t> names(part.names.size());
    for (std::size_t i = 0; i < part.names.size(); ++i) names[i] = name_id(part.names[i]);
    const auto track = [&](TrackId id) {
      return id < 0 ? text_id(part.text_ids[static_cast<std::size_t>(-id - 1)]) : id;
    };
    const auto args_offset = static_cast<std::int32_t>(out_.communication_args.size());
    for (GpuActivity activity : part.gpu_activities) {
      activity.name = names[activity.name];
      activity.device = track(activity.device);
      activity.stream = track(activity.stream);
      if (activity.communication >= 0) activity.communication += args_offset;
      out_.gpu_activities.push_back(activity);
    }
    for (CommunicationArgs& args : part.communication_args) {
      out_.communication_args.push_back(std::move(args));
    }
    for (RuntimeLaunch launch : part.launches) {
      launch.process = track(launch.process);
      launch.thread = track(launch.thread);
      out_.launches.push_back(launch);
    }
    for (CpuAnnotation annotation : part.annotations) {
      annotation.name = names[annotation.name];
      annotation.process = track(annotation.process);
      annotation.thread = track(annotation.thread);
      out_.annotations.push_back(annotation);
    }
    // process_labels records win over process_name ones, as when the text is read whole.
    for (auto& [process, label] : part.process_labels) {
      if (piece.labelled.count(process)) {
        out_.process_labels[track(process)] = std::move(label);
      } else {
        out_.process_labels.emplace(track(process), std::move(label));
      }
    }
    for (auto& [ids, name] : part.thread_names) {
      out_.thread_names[{track(ids.first), track(ids.second)}] = std::move(name);
    }
    if (part.rank) out_.rank = part.rank;
    if (part.world_size) out_.world_size = part.world_size;
  }

  ProfileTrace finish(const std::string& source) {
    out_.source = source;
    sort_by_start(out_);
    return std::move(out_);
  }

 private:
  std::uint32_t name_id(const std::string& name) {
    const auto [it, inserted] =
        name_ids_.emplace(name, static_cast<std::uint32_t>(out_.names.size()));
    if (inserted) out_.names.push_back(name);
    return it->second;
  }
  TrackId text_id(const std::string& text) {
    const auto [it, inserted] =
        text_ids_.emplace(text, -static_cast<TrackId>(out_.text_ids.size()) - 1);
    if (inserted) out_.text_ids.push_back(text);
    return it->second;
  }

  ProfileTrace out_;
  std::unordered_map<std::string, std::uint32_t> name_ids_;
  std::unordered_map<std::string, TrackId> text_ids_;
};

// Reads `pieces` on up to `threads` threads, each with its own reader; rethrows the first failure.
std::vector<PieceResult> read_all(std::string_view text, const std::vector<Piece>& pieces,
                                  const std::string& source, unsigned threads) {
  std::vector<PieceResult> results(pieces.size());
  run_tasks(pieces.size(), threads, [&] {
    return [&, reader = PieceReader()](std::size_t i) mutable {
      results[i] = reader.read(text, pieces[i], source);
    };
  });
  return results;
}

// The ']' that closes the events array: the last one (of the last few in the text) after which
// the text is the rest of the trace — spaces for a bare array, else the remaining top-level fields
// (read into `tail`).
std::optional<std::size_t> find_closing(std::string_view text, const EventsLayout& layout,
                                        const std::string& source, PieceResult& tail) {
  std::size_t at = text.size();
  for (int tried = 0; tried < kClosingCandidates; ++tried) {
    at = text.rfind(']', at - 1);
    if (at == std::string_view::npos || at <= layout.first) return std::nullopt;
    if (layout.bare_array) {
      if (skip_spaces(text, at + 1) == text.size()) return at;
      continue;
    }
    try {
      tail = PieceReader().read(
          text, {"{\"traceEvents\": [", at, text.size(), "", TracePart::kOutsideEvents}, source);
      return at;
    } catch (const TraceFormatError&) {
      // not the closing bracket: try the one before
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ProfileTrace> read_in_pieces(const TraceText& text, const std::string& source,
                                           unsigned threads, std::size_t piece_bytes) {
  const std::string_view all = text.view();
  if (all.size() < 4 * piece_bytes) return std::nullopt;
  const std::optional<EventsLayout> layout = find_events(all, piece_bytes);
  if (!layout) return std::nullopt;
  try {
    PieceResult tail;
    const std::optional<std::size_t> closing = find_closing(all, *layout, source, tail);
    if (!closing) return std::nullopt;
    // Runs of whole events, each read as an array.
    std::vector<Piece> pieces;
    std::size_t begin = layout->first;
    for (const auto& [comma, next] : layout->cuts) {
      if (next >= *closing) break;
      pieces.push_back({"[", begin, comma, "]", TracePart::kEvents});
      begin = next;
    }
    pieces.push_back({"[", begin, *closing, "]", TracePart::kEvents});
    std::vector<PieceResult> results = read_all(all, pieces, source, threads);
    Joiner joiner;
    joiner.reserve(results);
    if (!layout->bare_array) {
      // The top-level fields before the events, with an empty events array.
      PieceResult head =
          PieceReader().read(all, {"", 0, layout->events, "]}", TracePart::kOutsideEvents}, source);
      joiner.add(head);
    }
    for (PieceResult& result : results) joiner.add(result);
    joiner.add(tail);
    ProfileTrace trace = joiner.finish(source);
    if (trace.gpu_activities.empty()) return std::nullopt;  // reading it whole says where
    return trace;
  } catch (const TraceFormatError&) {
    return std::nullopt;
  }
}

}  // namespace dualpipe::trace
