// CommStreams: the communication stream of one device, on which the MoE exchanges are issued so
// that they run beside the compute stream (the stream current when work is issued). On the CPU
// every operation is a no-op: compute runs on the calling thread and c10d runs communication on
// its own threads.
#pragma once

#include <torch/types.h>

#include <memory>

namespace dualpipe::runtime::moe {

// How an exchange stays race-free on CUDA (token_exchange.cc follows it):
//   1. on the compute stream, make every tensor the communication reads or writes (contiguous
//      copies, zero fills, output buffers), so the caching allocator hands out memory whose
//      earlier users are all ordered before the point where step 2 records its event;
//   2. inside a Scope, issue the communication: it waits for everything issued so far on the
//      compute stream (ProcessGroupNCCL's own stream in turn waits for the communication stream);
//   3. issue the compute that runs alongside, on the compute stream;
//   4. wait for the communication's Work on the compute stream (work->wait() makes the current
//      stream wait) before the compute stream uses its output or drops its input.
class CommStreams {
 public:
  // Streams for `device`; on a CUDA device the communication stream comes from the stream pool.
  explicit CommStreams(torch::Device device);
  ~CommStreams();
  CommStreams(const CommStreams&) = delete;
  CommStreams& operator=(const CommStreams&) = delete;

  torch::Device device() const { return device_; }

  // While alive, the current stream is the communication stream, which on entry waits for all
  // work issued so far on the stream that was current (the compute stream).
  class Scope {
   public:
    explicit Scope(CommStreams& streams);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    struct Guard;
    std::unique_ptr<Guard> guard_;
  };

 private:
  struct CudaState;
  torch::Device device_;
  std::unique_ptr<CudaState> cuda_;
};

}  // namespace dualpipe::runtime::moe
