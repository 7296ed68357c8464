#include "dualpipe/moe/phase_program.h"

#include "dualpipe/schedule/annotation.h"

namespace dualpipe::moe {

void PhaseProgram::add_compute(const std::string& name, ComputePiece piece) {
  if (steps_.empty() || steps_.back().communication) steps_.push_back(Step{name, false, {}, {}});
  steps_.back().name = name;
  steps_.back().pieces.push_back(std::move(piece));
}

void PhaseProgram::add_exchange(const std::string& name, ExchangePiece piece) {
  steps_.push_back(Step{name, true, {}, std::move(piece)});
}

std::vector<Phase> PhaseProgram::forward_phases() const {
  std::vector<Phase> phases;
  for (const Step& step : steps_) {
    Phase phase;
    phase.name = step.name;
    phase.pass = 'F';
    phase.communication = step.communication;
    phase.label = schedule::phase_label(step.name, 'F');
    if (step.communication) {
      phase.start = [tape = tape_, exchange = step.exchange] { return exchange(*tape); };
    } else {
      phase.compute = [tape = tape_, name = step.name, pieces = step.pieces] {
        tape->begin_compute(name);
        for (const ComputePiece& piece : pieces) piece(*tape);
        tape->end_compute();
      };
    }
    phases.push_back(std::move(phase));
  }
  return phases;
}

std::vector<Phase> backward_phases(const std::shared_ptr<PhaseTape>& tape) {
  std::vector<Phase> phases;
  for (int segment = tape->num_segments() - 1; segment >= 0; --segment) {
    Phase phase;
    phase.name = tape->phase_name(segment);
    phase.pass = 'B';
    phase.communication = tape->is_exchange(segment);
    phase.label = schedule::phase_label(phase.name, 'B');
    if (phase.communication) {
      phase.start = [tape, segment] { return tape->start_backward_exchange(segment); };
    } else {
      phase.compute = [tape, segment] { tape->backward_compute(segment); };
    }
    phases.push_back(std::move(phase));
  }
  return phases;
}

}  // namespace dualpipe::moe
