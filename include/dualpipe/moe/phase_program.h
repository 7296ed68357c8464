// PhaseProgram: one micro-batch's forward through a phase-structured stage as a list of phases
// (compute: attention, experts; communication: dispatch, combine), and the backward phases its
// tape yields afterwards.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dualpipe/moe/comm_streams.h"
#include "dualpipe/moe/exchange_log.h"
#include "dualpipe/moe/phase_tape.h"

namespace dualpipe::moe {

// One step of a micro-batch's forward or backward: a compute step or a communication.
struct Phase {
  std::string name;  // "attn", "dispatch", "mlp" or "combine"
  char pass = 'F';   // 'F' forward, 'B' backward
  bool communication = false;
  std::string label;              // profiler annotation, e.g. "dispatch(F)" (schedule::phase_label)
  std::function<void()> compute;  // compute phases: runs it
  std::function<std::function<void()>()> start;  // communication: starts it, returns its wait
};

// A compute piece of a layer: reads and writes values on the micro-batch's tape.
using ComputePiece = std::function<void(PhaseTape&)>;
// A communication of a layer: starts the exchange and returns a function that waits for it and
// records it on the tape.
using ExchangePiece = std::function<std::function<void()>(PhaseTape&)>;

// Builder and owner of one micro-batch's forward phases. Consecutive compute pieces fuse into one
// phase (one tape segment) named after the last piece, so a layer's tail (e.g. the weighted sum
// after combine) joins the next layer's attention.
class PhaseProgram {
 public:
  // A program whose communication runs on `streams`.
  explicit PhaseProgram(std::shared_ptr<CommStreams> streams)
      : tape_(std::make_shared<PhaseTape>()), streams_(std::move(streams)) {}

  PhaseTape& tape() { return *tape_; }
  const std::shared_ptr<PhaseTape>& shared_tape() const { return tape_; }
  const std::shared_ptr<CommStreams>& streams() const { return streams_; }

  // Set: the program's exchanges record what they receive, or (once the log replays) take it from
  // the log instead of communicating (activation recomputation).
  void set_exchange_log(std::shared_ptr<ExchangeLog> log) { exchange_log_ = std::move(log); }
  const std::shared_ptr<ExchangeLog>& exchange_log() const { return exchange_log_; }

  void add_compute(const std::string& name, ComputePiece piece);
  void add_exchange(const std::string& name, ExchangePiece piece);

  // The forward phases, in order. Running them records the tape.
  std::vector<Phase> forward_phases() const;

 private:
  struct Step {
    std::string name;
    bool communication = false;
    std::vector<ComputePiece> pieces;
    ExchangePiece exchange;
  };
  std::shared_ptr<PhaseTape> tape_;
  std::shared_ptr<CommStreams> streams_;
  std::shared_ptr<ExchangeLog> exchange_log_;
  std::vector<Step> steps_;
};

// The backward phases of a micro-batch whose forward phases all ran, in backward order: one per
// tape segment. Seed the tape's output gradients (PhaseTape::add_grad) before running them.
std::vector<Phase> backward_phases(const std::shared_ptr<PhaseTape>& tape);

}  // namespace dualpipe::moe
