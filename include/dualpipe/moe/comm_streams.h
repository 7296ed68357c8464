// CommStreams: the communication stream of one device, on which the MoE exchanges are issued so
// that they run beside the compute stream (the stream current when work is issued). On the CPU
// every operation is a no-op: compute runs on the calling thread and c10d runs communication on
// its own threads.
#pragma once

#include <torch/types.h>

#include <memory>

namespace dualpipe::moe {

// How an exchange stays race-free on CUDA (token_exchange.cc follows it):
//   1. on the compute stream, make every tensor the communication reads or writes (contiguous
//      copies, zero fills, output buffers), so the caching allocator hands out memory whose
//      earlier users are all ordered before the point where step 2 records its event;
//   2. inside a Scope, issue the communication: it waits for everything issued so far on the
//      compute stream (ProcessGroupNCCL's own stream in turn waits for the communication stream);
//   3. issue the compute that runs alongside, on the compute stream;
//   4. wait for the communication's Work on the compute stream (work->wait() makes the current
//      stream wait) before the compute stream uses its output or drops its input.
// An exchange whose inputs were ready when an earlier Scope began may instead be issued after the
// compute of step 3, in a Scope that follows the communication stream only
// (Order::kAfterCommunication): its buffers are then made inside the Scope, on the communication
// stream, and the compute stream is marked as a user of its output (mark_used_on_current_stream).
class CommStreams {
 public:
  // Streams for `device`; on a CUDA device the communication stream comes from the stream pool.
  explicit CommStreams(torch::Device device);
  ~CommStreams();
  CommStreams(const CommStreams&) = delete;
  CommStreams& operator=(const CommStreams&) = delete;

  torch::Device device() const { return device_; }

  // What a Scope's communication waits for besides the communication issued before it.
  enum class Order {
    kAfterCompute,        // all work issued so far on the compute stream (the default)
    kAfterCommunication,  // nothing else: its inputs were ready when an earlier Scope began
  };

  // While alive, the current stream is the communication stream, which on entry (with
  // Order::kAfterCompute) waits for all work issued so far on the stream that was current.
  class Scope {
   public:
    explicit Scope(CommStreams& streams, Order order = Order::kAfterCompute);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    struct Guard;
    std::unique_ptr<Guard> guard_;
  };

  // A point on the communication stream that the host can wait for (on the CPU: already passed).
  class HostFence {
   public:
    HostFence();
    ~HostFence();
    HostFence(HostFence&&) noexcept;
    HostFence& operator=(HostFence&&) noexcept;
    // Blocks the host until the communication stream has passed the point.
    void wait() const;

   private:
    friend class CommStreams;
    struct Event;
    std::unique_ptr<Event> event_;
  };

  // The point after all work issued so far on the communication stream.
  HostFence fence() const;

  // Marks the current stream as a user of `tensor`, made on another stream: once the tensor is
  // freed, its memory is not handed out again before the work issued so far on this stream ran.
  void mark_used_on_current_stream(const torch::Tensor& tensor) const;

 private:
  struct CudaState;
  torch::Device device_;
  std::unique_ptr<CudaState> cuda_;
};

}  // namespace dualpipe::moe
