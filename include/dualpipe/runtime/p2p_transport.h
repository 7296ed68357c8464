// P2PTransport: asynchronous point-to-point messages (lists of tensors) between pipeline ranks.
#pragma once

#include <torch/types.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <torch/csrc/distributed/c10d/Work.hpp>
#include <vector>

#include "dualpipe/runtime/pipeline_stage.h"
#include "dualpipe/runtime/process_group.h"

namespace dualpipe::runtime {

// Element type and shape of one tensor of a message.
struct TensorMeta {
  torch::ScalarType dtype = torch::kFloat;
  std::vector<int64_t> shape;

  friend bool operator==(const TensorMeta& a, const TensorMeta& b) {
    return a.dtype == b.dtype && a.shape == b.shape;
  }
  friend bool operator!=(const TensorMeta& a, const TensorMeta& b) { return !(a == b); }
};

// The layout of a message: one TensorMeta per tensor, in order.
using MessageMeta = std::vector<TensorMeta>;

// Layout of `tensors`.
MessageMeta meta_of(const TensorList& tensors);

// "[Float 2x8x16, Long 2]".
std::string to_string(const MessageMeta& meta);

// Most tensors one message may hold.
inline constexpr int kMaxMessageTensors = 15;

// A received host tensor and the device tensor it is copied to once it has arrived (Gloo
// carrying a CUDA pipeline's messages, see MessageBackend).
struct StagedCopy {
  torch::Tensor host;    // what the communicator receives into
  torch::Tensor device;  // what the pipeline reads
};

// The c10d works of one posted transfer, waited for once however many messages it carries (a
// Gloo receive cannot be waited for twice; on NCCL the first wait already orders the calling
// stream after the transfer, and every message of a transfer is used on that stream). Staged
// receives are copied to the device on the stream current at that first wait.
class TransferWait {
 public:
  explicit TransferWait(std::vector<c10::intrusive_ptr<c10d::Work>> works,
                        std::vector<StagedCopy> staged = {})
      : works_(std::move(works)), staged_(std::move(staged)) {}
  void wait();

 private:
  std::mutex mutex_;
  std::vector<c10::intrusive_ptr<c10d::Work>> works_;  // cleared once waited for
  std::vector<StagedCopy> staged_;                     // cleared once copied
};

// A message whose receive is posted and may not have arrived yet.
class PendingReceive {
 public:
  PendingReceive() = default;
  PendingReceive(TensorList tensors, std::shared_ptr<TransferWait> transfer)
      : tensors_(std::move(tensors)), transfer_(std::move(transfer)) {}

  bool posted() const { return !tensors_.empty(); }
  // Waits for the message and returns its tensors. On CPU (Gloo) this blocks until the data is
  // there; on CUDA (NCCL) it makes the current stream wait, so the caller does not block; on CUDA
  // over Gloo it blocks until the host copy is there, then copies it on the current stream.
  TensorList wait();

  // Splits a posted one-tensor receive (a flat buffer) into receives of messages laid out as
  // `layouts`, in order: views of the buffer that share its transfer. The buffer's element count
  // must be the layouts' total and every tensor of its element type.
  std::vector<PendingReceive> split(const std::vector<MessageMeta>& layouts) &&;

 private:
  TensorList tensors_;
  std::shared_ptr<TransferWait> transfer_;
};

// Posts sends and receives on a PipelineGroup's directional communicators. `tag` must be unique
// among the messages in flight between two ranks (Gloo matches by it; NCCL matches by order,
// which the schedule keeps the same on both sides). Sends never block, except that over Gloo on
// a CUDA device each tensor is first copied to the host (waiting for the current stream); their
// tensors stay alive until they complete.
class P2PTransport {
 public:
  explicit P2PTransport(const PipelineGroup& group) : group_(&group) {}

  // Posts the receives of a message laid out as `meta` from `peer`.
  PendingReceive post_receive(int peer, int tag, const MessageMeta& meta);

  // Posts the sends of `tensors` (made contiguous) to `peer`.
  void post_send(int peer, int tag, const TensorList& tensors);

  // Sends a header announcing the layout of the message that follows, or (nullopt) that no
  // message follows because the sender failed.
  void send_header(int peer, int tag, const std::optional<MessageMeta>& meta);

  // Waits for a header from `peer` (blocking the caller) and returns what it announced.
  std::optional<MessageMeta> receive_header(int peer, int tag);

  // Forgets sends that have completed, releasing their tensors (NCCL reports completion without
  // blocking; Gloo's sends are only known complete after wait_for_sends()).
  void release_finished_sends();

  // Waits until every posted send has completed.
  void wait_for_sends();

  // Sends posted and not yet known to be complete.
  std::size_t sends_in_flight() const { return sends_.size(); }

 private:
  c10::intrusive_ptr<c10d::Work> send_one(int peer, int tag, const torch::Tensor& tensor);
  c10::intrusive_ptr<c10d::Work> receive_one(int peer, int tag, torch::Tensor tensor);
  // Where tensors are while they travel: the CPU when messages are staged through the host,
  // else the pipeline's device.
  torch::Device wire_device() const;

  const PipelineGroup* group_;
  std::deque<c10::intrusive_ptr<c10d::Work>> sends_;
};

}  // namespace dualpipe::runtime
