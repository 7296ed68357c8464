// Uses the installed libraries: replicates experts for one layer and labels a pipeline action.
#include <iostream>

#include "dualpipe/eplb/replication.h"
#include "dualpipe/render/svg_document.h"
#include "dualpipe/schedule/annotation.h"
#include "dualpipe/trace/kernel_classifier.h"

int main() {
  const auto copies = dualpipe::eplb::replicate({90, 132, 40, 61}, 6);
  std::cout << "copies:";
  for (int c : copies) std::cout << ' ' << c;
  std::cout << "\nlabel: "
            << dualpipe::schedule::annotation_label(
                   dualpipe::schedule::Action::overlapped({1, 3, 0}, {2, 0, 1}))
            << '\n';
  const bool comm = dualpipe::trace::KernelClassifier().classify("ncclDevKernel_SendRecv") ==
                    dualpipe::trace::KernelKind::kCommunication;
  dualpipe::render::SvgDocument svg(10, 10);
  return comm && !svg.str().empty() ? 0 : 1;
}
