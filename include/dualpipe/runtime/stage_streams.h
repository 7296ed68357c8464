// StageStreams: one CUDA stream per local stage of a pipeline, so that the two halves of an
// overlapped pair (the forward of one stage, the backward of another) run side by side on the GPU
// instead of one after the other on one stream.
#pragma once

#include <c10/core/Stream.h>
#include <c10/core/StreamGuard.h>
#include <torch/types.h>

#include <memory>
#include <optional>
#include <vector>

namespace dualpipe::runtime {

// How a compute action uses the stage streams (pipeline.cc follows it):
//   1. on the main stream (the current one), gather the action's inputs (received messages are
//      waited for there);
//   2. open a Fork for the stages the action runs: their streams wait for everything issued so
//      far on the main stream; tensors another stage made on its own stream and hands over are
//      marked as read there (Fork::reads), so the caching allocator does not give their memory
//      back to the giver's stream while the receiver still reads it;
//   3. issue each stage's work with its stream current (a forward's autograd nodes remember that
//      stream, so the micro-batch's backward runs there too);
//   4. closing the Fork makes the main stream wait for the stage streams, so sends and everything
//      after the action see its results.
// Inactive (every call a no-op) on the CPU, in a LibTorch without CUDA, or when not enabled.
class StageStreams {
 public:
  StageStreams(torch::Device device, int num_stages, bool enabled);
  ~StageStreams();
  StageStreams(const StageStreams&) = delete;
  StageStreams& operator=(const StageStreams&) = delete;

  bool active() const { return cuda_ != nullptr; }

  // The stream of local stage `stage` (index into the pipeline's stages); none when inactive.
  std::optional<c10::Stream> stream(int stage) const;

  // Forks the streams of `stages` from the current stream for the lifetime of this object (see
  // above).
  class Fork {
   public:
    Fork(StageStreams& streams, std::vector<int> stages);
    ~Fork();
    Fork(const Fork&) = delete;
    Fork& operator=(const Fork&) = delete;

    // Marks `tensors`, made on another stage's stream, as read on stage `stage`'s stream
    // (record_stream): their memory is reused only after that stream's work so far.
    void reads(int stage, const std::vector<torch::Tensor>& tensors) const;

   private:
    [[maybe_unused]] StageStreams& streams_;  // unused in a LibTorch without CUDA
    std::vector<int> stages_;
    std::optional<c10::Stream> main_;  // the stream current at the fork
  };

  // Makes the stream of local stage `stage` current on this thread while alive (when active).
  class Use {
   public:
    Use(const StageStreams& streams, int stage) {
      if (const std::optional<c10::Stream> stream = streams.stream(stage))
        guard_.reset_stream(*stream);
    }

   private:
    c10::OptionalStreamGuard guard_;
  };

 private:
  struct CudaState;
  std::unique_ptr<CudaState> cuda_;
};

}  // namespace dualpipe::runtime
