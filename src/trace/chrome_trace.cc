#include "dualpipe/trace/chrome_trace.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "dualpipe/trace/json_text.h"
#include "dualpipe/trace/trace_error.h"
#include "json_diagnosis.h"
#include "trace_pieces.h"

namespace dualpipe::trace {
namespace {

namespace od = simdjson::ondemand;

static_assert(TraceText::kPadding >= simdjson::SIMDJSON_PADDING,
              "TraceText must pad as much as simdjson reads past the end");

// The content of a JSON string as it appears in the input (escapes not decoded yet).
struct RawString {
  std::string_view content;
  bool present = false;
  bool escaped = false;
};

// What an event is, as far as its "ph" and "cat" tell.
enum class EventRole { kUnknown, kIgnored, kGpuActivity, kLaunch, kAnnotation, kMetadata };

// The fields of one event that any role needs, collected in whatever order they come.
struct EventFields {
  RawString ph;
  RawString cat;
  RawString name;
  TrackId pid = 0;
  TrackId tid = 0;
  TimeNs ts = 0;
  TimeNs dur = 0;
  bool has_ts = false;
  bool has_dur = false;
  std::int64_t correlation = -1;
  RawString arg_name;    // args.name (metadata events)
  RawString arg_labels;  // args.labels (process_labels metadata)
  // Communication args of NCCL kernels.
  RawString collective;   // args "Collective name"
  RawString group_name;   // args "Process Group Name"
  RawString group_ranks;  // args "Process Group Ranks", e.g. "[0, 1]"
  std::int64_t peer = -1;
  std::int64_t elements = -1;
};

bool equals(const RawString& s, std::string_view text) { return s.present && s.content == text; }

std::string_view trim_right(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' ||
                            token.back() == '\t')) {
    token.remove_suffix(1);
  }
  return token;
}

// Microseconds as written ("123", "123.456", "-5", "1.5e3") to nanoseconds; nullopt when the
// text is not a number or out of range.
std::optional<TimeNs> parse_microseconds(std::string_view text) {
  const bool negative = !text.empty() && text[0] == '-';
  std::size_t pos = negative ? 1 : 0;
  const std::size_t digits_begin = pos;
  std::uint64_t whole = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    whole = whole * 10 + static_cast<std::uint64_t>(text[pos] - '0');
    ++pos;
  }
  const std::size_t whole_digits = pos - digits_begin;
  if (whole_digits == 0) return std::nullopt;
  std::uint64_t fraction_ns = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t fraction_begin = pos;
    std::uint64_t scale = 100;
    bool round_up = false;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      const std::uint64_t digit = static_cast<std::uint64_t>(text[pos] - '0');
      if (pos - fraction_begin < 3) {
        fraction_ns += digit * scale;
        scale /= 10;
      } else if (pos - fraction_begin == 3) {
        round_up = digit >= 5;
      }
      ++pos;
    }
    if (pos == fraction_begin) return std::nullopt;
    if (round_up) ++fraction_ns;
  }
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    // Rare exponent form: go through double (enough precision for such inputs).
    const std::string copy(text);
    char* end = nullptr;
    const double value = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size() || !std::isfinite(value) || std::fabs(value) > 9e15) {
      return std::nullopt;
    }
    return static_cast<TimeNs>(std::llround(value * 1000.0));
  }
  constexpr std::uint64_t kMaxMicroseconds = 9'000'000'000'000'000;  // int64 ns limit
  if (pos != text.size() || whole_digits > 16 || whole > kMaxMicroseconds) return std::nullopt;
  const auto ns = static_cast<TimeNs>(whole * 1000 + fraction_ns);
  return negative ? -ns : ns;
}

// Reads one JSON document of a trace with simdjson On-Demand, keeping only what timelines need.
class Reader {
 public:
  // `text` is followed by at least TraceText::kPadding readable bytes.
  // With `cpu_operators`, the trace is one recorded without a GPU: its CPU operators (category
  // cpu_op) and its c10d annotations ("gloo:...") stand for the device activity.
  Reader(std::string_view text, const std::string& source, od::parser& parser, ProfileTrace& out,
         std::set<TrackId>* labelled, bool cpu_operators = false)
      : text_(text),
        source_(source),
        parser_(parser),
        out_(out),
        labelled_(labelled),
        cpu_operators_(cpu_operators) {}

  // Reads the document as `part` says.
  void read(TracePart part) {
    simdjson::error_code error =
        parser_.iterate(text_.data(), text_.size(), text_.size() + TraceText::kPadding).get(doc_);
    if (error) fail_stage1(error);
    od::json_type root_type;
    if ((error = doc_.type().get(root_type))) fail_current(error, "a JSON object or array");
    const bool events_only = part == TracePart::kEvents;
    if (root_type == od::json_type::array) {
      od::array events;
      if ((error = doc_.get_array().get(events))) fail_current(error, "an array of events");
      read_events(events, 0);
    } else if (root_type == od::json_type::object && !events_only) {
      read_root_object();
    } else {
      fail(0,
           "not a Chrome trace: expected a JSON object with \"traceEvents\" or an array of "
           "events");
    }
    const char* trailing = nullptr;
    if (!doc_.current_location().get(trailing)) {
      fail_at(trailing, "unexpected content after the JSON document");
    }
    if (part == TracePart::kWhole) {
      require_gpu_activity(out_, source_, events_offset_);
      sort_by_start(out_);
    }
  }

 private:
  [[noreturn]] void fail(std::size_t offset, const std::string& problem) const {
    throw TraceFormatError(source_, offset, problem);
  }
  [[noreturn]] void fail_at(const char* where, const std::string& problem) const {
    fail(offset_of(where), problem);
  }
  std::size_t offset_of(const char* where) const {
    if (where < text_.data() || where > text_.data() + text_.size()) return text_.size();
    return static_cast<std::size_t>(where - text_.data());
  }
  std::size_t current_offset() {
    const char* where = nullptr;
    if (doc_.current_location().get(where)) return text_.size();
    return offset_of(where);
  }
  // A simdjson error met while reading `expected`.
  [[noreturn]] void fail_current(simdjson::error_code error, const std::string& expected) {
    std::size_t offset = current_offset();
    std::string problem;
    switch (error) {
      case simdjson::INCORRECT_TYPE: problem = "wrong type: expected " + expected; break;
      case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      case simdjson::EMPTY:
      case simdjson::TAPE_ERROR:
        fail_if_unbalanced();
        problem = std::string("not valid JSON while reading ") + expected + " (" +
                  simdjson::error_message(error) + ")";
        break;
      default:
        problem = std::string("not valid JSON while reading ") + expected + " (" +
                  simdjson::error_message(error) + ")";
    }
    fail(offset, problem);
  }
  // Errors found while indexing the whole text, before any value is read.
  [[noreturn]] void fail_stage1(simdjson::error_code error) const {
    if (error == simdjson::UTF8_ERROR) {
      fail(first_invalid_utf8(text_), "not valid UTF-8");
    }
    if (error == simdjson::UNCLOSED_STRING) {
      fail(last_opening_quote(text_), "unterminated string (truncated JSON?)");
    }
    if (error == simdjson::EMPTY) fail(0, "empty input: expected a Chrome trace (JSON)");
    fail(0, std::string("not valid JSON (") + simdjson::error_message(error) + ")");
  }
  // Explains brackets and braces that do not pair up; returns when they pair up.
  void fail_if_unbalanced() const {
    if (const std::optional<JsonProblem> problem = unbalanced_brackets(text_)) {
      fail(problem->offset, problem->what);
    }
  }

  template <typename T>
  T get(simdjson::simdjson_result<T>&& result, const char* expected) {
    T value;
    if (const simdjson::error_code error = std::move(result).get(value)) {
      fail_current(error, expected);
    }
    return value;
  }

  void read_root_object() {
    od::object root = get(doc_.get_object(), "a JSON object");
    bool found_events = false;
    for (auto field_result : root) {
      od::field field = get(std::move(field_result), "a field of the top-level object");
      const od::raw_json_string key = field.key();
      if (key.unsafe_is_equal("traceEvents")) {
        const std::size_t offset = current_offset();
        od::array events = get(field.value().get_array(), "an array for \"traceEvents\"");
        read_events(events, offset);
        found_events = true;
      } else if (key.unsafe_is_equal("distributedInfo")) {
        read_distributed_info(field.value());
      }
    }
    if (!found_events) {
      fail(0, "not a Chrome trace: the top-level object has no \"traceEvents\" array");
    }
  }

  void read_distributed_info(od::value& value) {
    od::object info = get(value.get_object(), "an object for \"distributedInfo\"");
    for (auto field_result : info) {
      od::field field = get(std::move(field_result), "a field of \"distributedInfo\"");
      const bool is_rank = field.key().unsafe_is_equal("rank");
      if (is_rank || field.key().unsafe_is_equal("world_size")) {
        const char* what = is_rank ? "an integer for \"rank\"" : "an integer for \"world_size\"";
        const std::int64_t value = get(field.value().get_int64(), what);
        if (value < (is_rank ? 0 : 1) || value > 1'000'000) {
          fail(current_offset(), is_rank ? "rank out of range" : "world_size out of range");
        }
        (is_rank ? out_.rank : out_.world_size) = static_cast<int>(value);
      }
    }
  }

  void read_events(od::array& events, std::size_t offset) {
    events_offset_ = offset;
    for (auto element : events) {
      od::value value = get(std::move(element), "an event");
      const std::size_t event_offset = current_offset();
      od::object event = get(value.get_object(), "an event object");
      read_event(event, event_offset);
    }
  }

  EventRole role_of(const EventFields& f) const {
    if (!f.ph.present) return EventRole::kUnknown;
    if (equals(f.ph, "M")) return EventRole::kMetadata;
    if (!equals(f.ph, "X")) return EventRole::kIgnored;
    if (!f.cat.present) return EventRole::kUnknown;
    const std::string_view cat = f.cat.content;
    if (cat == "kernel" || cat == "gpu_memcpy" || cat == "gpu_memset" || cat == "Kernel" ||
        cat == "Memcpy" || cat == "Memset") {
      return EventRole::kGpuActivity;
    }
    if (cat == "cuda_runtime" || cat == "cuda_driver" || cat == "Runtime")
      return EventRole::kLaunch;
    if (cpu_operators_ && (cat == "cpu_op" || (cat == "user_annotation" && f.name.present &&
                                               f.name.content.substr(0, 5) == "gloo:"))) {
      return EventRole::kGpuActivity;
    }
    if (cat == "user_annotation") return EventRole::kAnnotation;
    return EventRole::kIgnored;
  }

  void read_event(od::object& event, std::size_t event_offset) {
    EventFields f;
    for (auto field_result : event) {
      od::field field = get(std::move(field_result), "a field of an event");
      const od::raw_json_string key = field.key();
      od::value& value = field.value();
      const char first = *key.raw();
      if (first == 'p') {
        if (key.unsafe_is_equal("ph")) {
          f.ph = string_of(value, "\"ph\"");
          if (role_of(f) == EventRole::kIgnored) return;
        } else if (key.unsafe_is_equal("pid")) {
          f.pid = track_id_of(value, "\"pid\"");
        }
      } else if (first == 'c' && key.unsafe_is_equal("cat")) {
        f.cat = string_of(value, "\"cat\"");
        if (role_of(f) == EventRole::kIgnored) return;
      } else if (first == 'n' && key.unsafe_is_equal("name")) {
        f.name = string_of(value, "\"name\"");
      } else if (first == 't') {
        if (key.unsafe_is_equal("ts")) {
          f.ts = time_of(value, "\"ts\"");
          f.has_ts = true;
        } else if (key.unsafe_is_equal("tid")) {
          f.tid = track_id_of(value, "\"tid\"");
        }
      } else if (first == 'd' && key.unsafe_is_equal("dur")) {
        f.dur = time_of(value, "\"dur\"");
        f.has_dur = true;
      } else if (first == 'a' && key.unsafe_is_equal("args")) {
        read_args(value, f);
      }
    }
    keep(f, event_offset);
  }

  void read_args(od::value& value, EventFields& f) {
    od::object args = get(value.get_object(), "an object for \"args\"");
    for (auto field_result : args) {
      od::field field = get(std::move(field_result), "a field of \"args\"");
      const od::raw_json_string key = field.key();
      if (key.unsafe_is_equal("correlation")) {
        f.correlation = integer_of(field.value(), "\"correlation\"");
      } else if (key.unsafe_is_equal("name")) {
        f.arg_name = string_of(field.value(), "args \"name\"");
      } else if (key.unsafe_is_equal("labels")) {
        f.arg_labels = string_of(field.value(), "args \"labels\"");
      } else {
        read_communication_arg(key, field.value(), f);
      }
    }
  }

  // The communication args PyTorch writes for NCCL kernels; other args are skipped.
  void read_communication_arg(const od::raw_json_string& key, od::value& value, EventFields& f) {
    switch (*key.raw()) {
      case 'C':
        if (key.unsafe_is_equal("Collective name"))
          f.collective = string_of(value, "\"Collective name\"");
        break;
      case 'I':
        if (key.unsafe_is_equal("In msg nelems"))
          f.elements = integer_of(value, "\"In msg nelems\"");
        break;
      case 'P':
        if (key.unsafe_is_equal("Process Group Name")) {
          f.group_name = string_of(value, "\"Process Group Name\"");
        } else if (key.unsafe_is_equal("Process Group Ranks")) {
          f.group_ranks = string_of(value, "\"Process Group Ranks\"");
        }
        break;
      case 'S':
      case 'D':
        if (key.unsafe_is_equal("Src Rank") || key.unsafe_is_equal("Dst Rank"))
          f.peer = integer_of(value, "a rank");
        break;
      default: break;
    }
  }

  std::int64_t integer_of(od::value& value, const char* what) {
    const std::string_view token = token_of(value);
    std::int64_t number = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), number);
    if (error != std::errc() || end != token.data() + token.size()) {
      fail_at(token.data(), std::string("wrong type: expected an integer for ") + what);
    }
    return number;
  }

  std::string_view token_of(od::value& value) { return trim_right(value.raw_json_token()); }

  RawString string_of(od::value& value, const char* what) {
    return string_token(token_of(value), what);
  }

  RawString string_token(std::string_view token, const char* what) const {
    if (token.size() < 2 || token.front() != '"' || token.back() != '"') {
      fail_at(token.data(), std::string("wrong type: expected a string for ") + what);
    }
    RawString s;
    s.content = token.substr(1, token.size() - 2);
    s.present = true;
    s.escaped = s.content.find('\\') != std::string_view::npos;
    return s;
  }

  TimeNs time_of(od::value& value, const char* what) {
    const std::string_view token = token_of(value);
    const std::optional<TimeNs> time = parse_microseconds(token);
    if (!time) {
      fail_at(token.data(),
              std::string("wrong type: expected a number of microseconds for ") + what);
    }
    return *time;
  }

  TrackId track_id_of(od::value& value, const char* what) {
    const std::string_view token = token_of(value);
    if (!token.empty() && token.front() == '"') {
      const std::string text = decode(string_token(token, what), token.data());
      TrackId id = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
      if (error == std::errc() && end == text.data() + text.size() && !text.empty()) return id;
      return text_id(text);
    }
    TrackId id = 0;
    const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), id);
    if (error != std::errc() || end != token.data() + token.size()) {
      fail_at(token.data(), std::string("wrong type: expected an integer or a string for ") + what);
    }
    return id;
  }

  TrackId text_id(const std::string& text) {
    const auto [it, inserted] =
        text_ids_.emplace(text, -static_cast<TrackId>(text_ids_.size()) - 1);
    if (inserted) out_.text_ids.push_back(text);
    return it->second;
  }

  std::string decode(const RawString& s, const char* where) const {
    if (!s.escaped) return std::string(s.content);
    std::size_t bad = 0;
    std::optional<std::string> text = json_unescape(s.content, bad);
    if (!text) fail(offset_of(where) + 1 + bad, "invalid escape sequence in a string");
    return *std::move(text);
  }

  std::uint32_t name_id(const RawString& s) {
    std::string_view key = s.content;
    if (s.escaped) key = decoded_.emplace_back(decode(s, s.content.data() - 1));
    const auto [it, inserted] =
        name_ids_.emplace(key, static_cast<std::uint32_t>(out_.names.size()));
    if (inserted) out_.names.emplace_back(key);
    return it->second;
  }

  void require_ts(const EventFields& f, std::size_t event_offset) const {
    if (!f.has_ts) fail(event_offset, "event has no \"ts\" (expected a start time)");
    if (f.dur < 0) fail(event_offset, "event has a negative \"dur\"");
  }

  // GPU activities and annotations are spans: without a duration their end is unknown.
  void require_span(const EventFields& f, std::size_t event_offset) const {
    require_ts(f, event_offset);
    if (!f.has_dur) {
      fail(event_offset, "\"" + std::string(f.cat.content) +
                             "\" event has no \"dur\" (expected its duration in microseconds)");
    }
  }

  // Index of the event's communication args in out_.communication_args, -1 when it has none.
  std::int32_t communication_args(const EventFields& f) {
    if (!f.collective.present) return -1;
    CommunicationArgs args;
    args.collective = decode(f.collective, f.collective.content.data() - 1);
    if (f.group_ranks.present) {
      const std::string ranks = decode(f.group_ranks, f.group_ranks.content.data() - 1);
      args.group_ranks = ranks_of(ranks);
      args.group = ranks;
    }
    if (f.group_name.present) args.group = decode(f.group_name, f.group_name.content.data() - 1);
    if (f.peer >= 0 && f.peer <= 1'000'000) args.peer = static_cast<int>(f.peer);
    args.elements = f.elements;
    out_.communication_args.push_back(std::move(args));
    return static_cast<std::int32_t>(out_.communication_args.size() - 1);
  }

  // "[0, 1, 5]" -> {0, 1, 5}; anything unreadable ends the list.
  static std::vector<int> ranks_of(const std::string& text) {
    std::vector<int> ranks;
    const char* at = text.c_str();
    const char* const end = at + text.size();
    while (at < end) {
      while (at < end && (*at < '0' || *at > '9')) ++at;
      int rank = 0;
      const auto [next, error] = std::from_chars(at, end, rank);
      if (error != std::errc()) break;
      ranks.push_back(rank);
      at = next;
    }
    return ranks;
  }

  void keep(const EventFields& f, std::size_t event_offset) {
    switch (role_of(f)) {
      case EventRole::kGpuActivity: {
        require_span(f, event_offset);
        GpuActivity activity;
        activity.start = f.ts;
        activity.duration = f.dur;
        activity.device = f.pid;
        activity.stream = f.tid;
        activity.correlation = f.correlation;
        activity.name = name_id(f.name);
        activity.communication = communication_args(f);
        const std::string_view cat = f.cat.content;
        activity.category = cat == "gpu_memcpy" || cat == "Memcpy"   ? ActivityCategory::kMemcpy
                            : cat == "gpu_memset" || cat == "Memset" ? ActivityCategory::kMemset
                                                                     : ActivityCategory::kKernel;
        out_.gpu_activities.push_back(activity);
        break;
      }
      case EventRole::kLaunch:
        if (f.correlation < 0) break;
        require_ts(f, event_offset);
        out_.launches.push_back(RuntimeLaunch{f.ts, f.pid, f.tid, f.correlation});
        break;
      case EventRole::kAnnotation:
        require_span(f, event_offset);
        out_.annotations.push_back(CpuAnnotation{f.ts, f.dur, f.pid, f.tid, name_id(f.name)});
        break;
      case EventRole::kMetadata: keep_metadata(f); break;
      default: break;
    }
  }

  void keep_metadata(const EventFields& f) {
    if (equals(f.name, "process_labels") && f.arg_labels.present) {
      out_.process_labels[f.pid] = decode(f.arg_labels, f.arg_labels.content.data() - 1);
      if (labelled_ != nullptr) labelled_->insert(f.pid);
    } else if (equals(f.name, "process_name") && f.arg_name.present) {
      out_.process_labels.emplace(f.pid, decode(f.arg_name, f.arg_name.content.data() - 1));
    } else if (equals(f.name, "thread_name") && f.arg_name.present) {
      out_.thread_names[{f.pid, f.tid}] = decode(f.arg_name, f.arg_name.content.data() - 1);
    }
  }

  std::string_view text_;
  const std::string& source_;
  od::parser& parser_;
  ProfileTrace& out_;
  std::set<TrackId>* labelled_;  // processes named by process_labels (they win over process_name)
  bool cpu_operators_;
  od::document doc_;
  std::size_t events_offset_ = 0;
  std::unordered_map<std::string_view, std::uint32_t> name_ids_;  // views into text_ / decoded_
  std::deque<std::string> decoded_;                               // names that had escapes
  std::unordered_map<std::string, TrackId> text_ids_;
};

}  // namespace

void require_gpu_activity(const ProfileTrace& trace, const std::string& source,
                          std::size_t events_offset) {
  if (trace.gpu_activities.empty()) {
    throw TraceFormatError(source, events_offset,
                           "no GPU kernels, memcpys or memsets in this trace (expected \"X\" "
                           "events of category kernel, gpu_memcpy or gpu_memset)");
  }
}

void sort_by_start(ProfileTrace& trace) {
  const auto by_start = [](const auto& a, const auto& b) { return a.start < b.start; };
  std::stable_sort(trace.gpu_activities.begin(), trace.gpu_activities.end(), by_start);
  std::stable_sort(trace.launches.begin(), trace.launches.end(), by_start);
  std::stable_sort(trace.annotations.begin(), trace.annotations.end(), by_start);
}

void read_trace_part(std::string_view text, TracePart part, const std::string& source,
                     simdjson::ondemand::parser& parser, ProfileTrace& out,
                     std::set<TrackId>* labelled, bool cpu_operators) {
  Reader(text, source, parser, out, labelled, cpu_operators).read(part);
}

std::string ProfileTrace::id_text(TrackId id) const {
  if (id < 0 && static_cast<std::size_t>(-id) <= text_ids.size()) {
    return text_ids[static_cast<std::size_t>(-id - 1)];
  }
  return std::to_string(id);
}

}  // namespace dualpipe::trace
