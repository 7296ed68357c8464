#include "dualpipe/moe/phase_tape.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::moe {
namespace {

// Records y = tanh(x W) on one compute segment, a fake exchange that doubles it, and
// z = 2y V + x (a skip from the input) on a second compute segment.
struct ToyTape {
  PhaseTape tape;
  torch::Tensor w = torch::randn({3, 3}, torch::dtype(torch::kFloat64).requires_grad(true));
  torch::Tensor v = torch::randn({3, 3}, torch::dtype(torch::kFloat64).requires_grad(true));
  ValueId x, y, sent, z;

  explicit ToyTape(const torch::Tensor& input) {
    x = tape.add_input(input);
    y = tape.new_value();
    sent = tape.new_value();
    z = tape.new_value();
    tape.begin_compute("attn");
    tape.write(y, torch::tanh(tape.read(x).matmul(w)));
    tape.end_compute();
    tape.record_exchange("dispatch", y, sent, tape.value(y).detach() * 2,
                         [](const torch::Tensor& g) {
                           return std::function<torch::Tensor()>([g] { return g * 2; });
                         });
    tape.begin_compute("mlp");
    tape.write(z, tape.read(sent).matmul(v) + tape.read(x));
    tape.end_compute();
  }

  void backward(const torch::Tensor& grad_z) {
    tape.add_grad(z, grad_z);
    for (int s = tape.num_segments() - 1; s >= 0; --s) {
      if (tape.is_exchange(s)) {
        tape.start_backward_exchange(s)();
      } else {
        tape.backward_compute(s);
      }
    }
  }
};

TEST(PhaseTape, BackwardSegmentBySegmentMatchesAutogradOfTheWholeFunction) {
  torch::manual_seed(3);
  const torch::Tensor input = torch::randn({4, 3}, torch::kFloat64);
  const torch::Tensor grad_z = torch::randn({4, 3}, torch::kFloat64);
  ToyTape toy(input.clone().requires_grad_(true));
  EXPECT_EQ(toy.tape.num_segments(), 3);
  EXPECT_TRUE(toy.tape.is_exchange(1));
  EXPECT_EQ(toy.tape.phase_name(2), "mlp");
  toy.backward(grad_z);

  const torch::Tensor x = input.clone().requires_grad_(true);
  const torch::Tensor w = toy.w.detach().clone().requires_grad_(true);
  const torch::Tensor v = toy.v.detach().clone().requires_grad_(true);
  (torch::tanh(x.matmul(w)) * 2).matmul(v).add(x).backward(grad_z);
  EXPECT_TRUE(torch::allclose(toy.w.grad(), w.grad(), 1e-13, 0));
  EXPECT_TRUE(torch::allclose(toy.v.grad(), v.grad(), 1e-13, 0));
  EXPECT_TRUE(torch::allclose(toy.tape.grad(toy.x), x.grad(), 1e-13, 0));
}

TEST(PhaseTape, ReadsOneValueAsOneLeafPerSegment) {
  PhaseTape tape;
  const ValueId x = tape.add_input(torch::ones({2}, torch::requires_grad()));
  tape.begin_compute("attn");
  EXPECT_TRUE(tape.read(x).is_same(tape.read(x)));
  EXPECT_TRUE(tape.read(x).requires_grad());
  tape.end_compute();
}

TEST(PhaseTape, KeepsAValueWrittenAndReadInOneSegmentInsideItsGraph) {
  PhaseTape tape;
  const torch::Tensor input = torch::ones({2}, torch::dtype(torch::kFloat64).requires_grad(true));
  const ValueId x = tape.add_input(input);
  const ValueId y = tape.new_value();
  const ValueId z = tape.new_value();
  tape.begin_compute("attn");
  tape.write(y, tape.read(x) * 3);
  tape.write(z, tape.read(y) * 5);  // y's gradient must include the path through z
  tape.end_compute();
  tape.add_grad(y, torch::ones({2}, torch::kFloat64));
  tape.add_grad(z, torch::ones({2}, torch::kFloat64));
  tape.backward_compute(0);
  EXPECT_TRUE(torch::allclose(tape.grad(x), torch::full({2}, 18.0, torch::kFloat64)));
}

TEST(PhaseTape, SendsZerosBackWhenAnExchangeGotNoGradient) {
  PhaseTape tape;
  const ValueId x = tape.add_input(torch::ones({2}, torch::requires_grad()));
  const ValueId y = tape.new_value();
  torch::Tensor sent_back;
  tape.record_exchange("combine", x, y, torch::ones({2}), [&](const torch::Tensor& g) {
    sent_back = g;
    return std::function<torch::Tensor()>([g] { return g; });
  });
  tape.start_backward_exchange(0)();
  ASSERT_TRUE(sent_back.defined());
  EXPECT_EQ(sent_back.abs().sum().item<double>(), 0.0);
}

TEST(PhaseTape, CarriesEveryValueOfAnExchangeBackThroughItsOwnReverse) {
  PhaseTape tape;
  const ValueId x =
      tape.add_input(torch::ones({2}, torch::dtype(torch::kFloat64).requires_grad(true)));
  const ValueId w =
      tape.add_input(torch::ones({3}, torch::dtype(torch::kFloat64).requires_grad(true)));
  const ValueId x_out = tape.new_value();
  const ValueId w_out = tape.new_value();
  const auto scaled_by = [](double factor) {
    return [factor](const torch::Tensor& g) {
      return std::function<torch::Tensor()>([g, factor] { return g * factor; });
    };
  };
  tape.record_exchange("dispatch", {{x, x_out, tape.value(x).detach(), scaled_by(2.0)},
                                    {w, w_out, tape.value(w).detach(), scaled_by(3.0)}});
  ASSERT_EQ(tape.num_segments(), 1);
  EXPECT_TRUE(tape.value(w_out).requires_grad());
  tape.add_grad(x_out, torch::ones({2}, torch::kFloat64));
  tape.add_grad(w_out, torch::ones({3}, torch::kFloat64));
  tape.start_backward_exchange(0)();
  EXPECT_TRUE(torch::equal(tape.grad(x), torch::full({2}, 2.0, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(tape.grad(w), torch::full({3}, 3.0, torch::kFloat64)));
}

TEST(PhaseTape, RejectsMisnestedSegments) {
  PhaseTape tape;
  const ValueId x = tape.add_input(torch::ones({2}));
  EXPECT_THROW(tape.read(x), std::logic_error);
  tape.begin_compute("attn");
  EXPECT_THROW(tape.begin_compute("mlp"), std::logic_error);
  EXPECT_THROW(tape.record_exchange("dispatch", x, tape.new_value(), torch::ones({2}), {}),
               std::logic_error);
  EXPECT_THROW(tape.read(tape.new_value()), std::logic_error);  // never written
  tape.end_compute();
  EXPECT_THROW(tape.record_exchange("dispatch", {}), std::logic_error);  // carries nothing
}

}  // namespace
}  // namespace dualpipe::moe
