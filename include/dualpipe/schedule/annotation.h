// Profiler annotation labels for pipeline actions: the one naming convention shared by the runtime
// (which emits them around every action) and the trace reader (which rebuilds schedules from them).
#pragma once

#include <optional>
#include <string>

#include "dualpipe/schedule/action.h"

namespace dualpipe::schedule {

// Prefix of every label the toolkit emits, so they never collide with user annotations.
inline constexpr const char* kAnnotationPrefix = "dualpipe:";

// Label for an action, e.g. "dualpipe:F s1 m3 d0" or "dualpipe:FB s1 m3 d0 | s2 m0 d1"
// (forward half, then backward half).
std::string annotation_label(const Action& action);

// Inverse of annotation_label; nullopt for any string that is not such a label.
std::optional<Action> parse_annotation_label(const std::string& label);

// DeepSeek-style phase names of one overlapped chunk pair, e.g. "attn(F)", "dispatch(B)", "mlp(W)".
// The phase is one of attn, dispatch, mlp, combine; the pass one of F, B, W.
std::string phase_label(const std::string& phase, char pass);

// True when `label` looks like a phase label ("name(F)", "name(B)" or "name(W)").
bool is_phase_label(const std::string& label);

}  // namespace dualpipe::schedule
