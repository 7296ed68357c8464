// Uses the installed LibTorch libraries: one pipeline's stage slots and an expert placement.
#include <iostream>

#include "dualpipe/moe/expert_placement.h"
#include "dualpipe/runtime/pipeline.h"

int main() {
  const auto slots = dualpipe::runtime::local_stage_slots("dualpipe", 4, 1);
  const auto placement = dualpipe::moe::ExpertPlacement({0, 1, 2, 0}, 3, 2);
  std::cout << "slots of rank 1: " << slots.size()
            << ", copies of expert 0: " << placement.copies(0) << '\n';
  return slots.size() == 2 && placement.copies(0) == 2 ? 0 : 1;
}
