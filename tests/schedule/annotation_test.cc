#include "dualpipe/schedule/annotation.h"

#include <gtest/gtest.h>

namespace dualpipe::schedule {
namespace {

TEST(AnnotationLabel, RoundTripsEveryKindOfAction) {
  const Action actions[] = {
      Action::compute(Op::kF, {1, 3, 0}),
      Action::compute(Op::kB, {0, 0, 1}),
      Action::compute(Op::kI, {7, 12, 0}),
      Action::compute(Op::kW, {2, 5, 1}),
      Action::overlapped({1, 3, 0}, {2, 0, 1}),
      Action::communication(Op::kSendF, {1, 3, 0}, 2),
      Action::communication(Op::kRecvB, {4, 9, 1}, 3),
  };
  for (const Action& action : actions) {
    const auto parsed = parse_annotation_label(annotation_label(action));
    ASSERT_TRUE(parsed.has_value()) << annotation_label(action);
    EXPECT_EQ(*parsed, action) << annotation_label(action);
  }
}

TEST(AnnotationLabel, LabelsCarryThePrefixAndReadableFields) {
  EXPECT_EQ(annotation_label(Action::overlapped({1, 3, 0}, {2, 0, 1})),
            "dualpipe:FB s1 m3 d0 | s2 m0 d1");
}

TEST(AnnotationLabel, RejectsForeignAndMalformedLabels) {
  EXPECT_FALSE(parse_annotation_label("attn(F)"));
  EXPECT_FALSE(parse_annotation_label("dualpipe:"));
  EXPECT_FALSE(parse_annotation_label("dualpipe:Q s1 m1 d0"));
  EXPECT_FALSE(parse_annotation_label("dualpipe:F s1 m1"));
  EXPECT_FALSE(parse_annotation_label("dualpipe:F s1 m1 d0 trailing"));
  EXPECT_FALSE(parse_annotation_label("dualpipe:FB s1 m1 d0"));
  EXPECT_FALSE(parse_annotation_label("dualpipe:SEND_F s1 m1 d0"));
}

TEST(PhaseLabel, BuildsAndRecognisesDeepSeekNames) {
  EXPECT_EQ(phase_label("dispatch", 'B'), "dispatch(B)");
  EXPECT_TRUE(is_phase_label("mlp(W)"));
  EXPECT_FALSE(is_phase_label("mlp(X)"));
  EXPECT_FALSE(is_phase_label("dualpipe:F s0 m0 d0"));
}

}  // namespace
}  // namespace dualpipe::schedule
