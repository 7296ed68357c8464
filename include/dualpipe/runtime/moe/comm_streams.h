// CommStreams: the compute and communication streams of one device and the event that orders
// communication after the compute it depends on. On the CPU every operation is a no-op: compute
// runs on the calling thread and c10d runs communication on its own threads.
#pragma once

#include <torch/types.h>

#include <memory>

namespace dualpipe::runtime::moe {

class CommStreams {
 public:
  // Streams for `device`; on a CUDA device the communication stream comes from the stream pool
  // and the compute stream is whatever stream is current when work is issued.
  explicit CommStreams(torch::Device device);
  ~CommStreams();
  CommStreams(const CommStreams&) = delete;
  CommStreams& operator=(const CommStreams&) = delete;

  torch::Device device() const { return device_; }

  // Marks the compute work issued so far as what communication must wait for until clear_ready(),
  // so that compute issued in between can run alongside that communication.
  void mark_ready();
  void clear_ready();

  // While alive, the current stream is the communication stream; on entry that stream waits for
  // the mark (or, without one, for all compute issued so far).
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
