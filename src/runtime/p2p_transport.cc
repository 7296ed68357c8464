#include "dualpipe/runtime/p2p_transport.h"

#include <c10/util/accumulate.h>

#include <stdexcept>

namespace dualpipe::runtime {
namespace {

// Header layout (int64): [status, tensor count, then per tensor: dtype, rank, sizes...].
constexpr int64_t kHeaderLength = 64;
constexpr int64_t kHeaderOk = 1;
constexpr int64_t kHeaderFailed = 2;
constexpr int kHeaderPart = 0;  // payload tensor i travels under part i + 1

int part_tag(int tag, int part) { return tag * (kMaxMessageTensors + 1) + part; }

torch::Tensor encode_header(const std::optional<MessageMeta>& meta) {
  std::vector<int64_t> words(kHeaderLength, 0);
  words[0] = meta ? kHeaderOk : kHeaderFailed;
  if (meta) {
    std::size_t at = 2;
    words[1] = static_cast<int64_t>(meta->size());
    for (const TensorMeta& tensor : *meta) {
      if (at + 2 + tensor.shape.size() > words.size()) {
        throw std::invalid_argument("message layout " + to_string(*meta) +
                                    " is too large to announce");
      }
      words[at++] = static_cast<int64_t>(tensor.dtype);
      words[at++] = static_cast<int64_t>(tensor.shape.size());
      for (int64_t size : tensor.shape) words[at++] = size;
    }
  }
  return torch::tensor(words, torch::kLong);
}

std::optional<MessageMeta> decode_header(const torch::Tensor& header) {
  const torch::Tensor cpu = header.to(torch::kCPU).contiguous();
  const int64_t* words = cpu.data_ptr<int64_t>();
  if (words[0] == kHeaderFailed) return std::nullopt;
  if (words[0] != kHeaderOk || words[1] < 0 || words[1] > kMaxMessageTensors) {
    throw std::runtime_error("received a malformed message header (status " +
                             std::to_string(words[0]) + ")");
  }
  MessageMeta meta;
  int64_t at = 2;
  for (int64_t t = 0; t < words[1]; ++t) {
    if (at + 2 > kHeaderLength || words[at + 1] < 0 || at + 2 + words[at + 1] > kHeaderLength) {
      throw std::runtime_error("received a malformed message header");
    }
    TensorMeta tensor;
    tensor.dtype = static_cast<torch::ScalarType>(words[at]);
    tensor.shape.assign(words + at + 2, words + at + 2 + words[at + 1]);
    at += 2 + words[at + 1];
    meta.push_back(std::move(tensor));
  }
  return meta;
}

}  // namespace

MessageMeta meta_of(const TensorList& tensors) {
  MessageMeta meta;
  for (const torch::Tensor& tensor : tensors) {
    meta.push_back(TensorMeta{tensor.scalar_type(), tensor.sizes().vec()});
  }
  return meta;
}

std::string to_string(const MessageMeta& meta) {
  std::string text = "[";
  for (std::size_t i = 0; i < meta.size(); ++i) {
    if (i > 0) text += ", ";
    text += c10::toString(meta[i].dtype);
    text += ' ';
    for (std::size_t d = 0; d < meta[i].shape.size(); ++d) {
      if (d > 0) text += 'x';
      text += std::to_string(meta[i].shape[d]);
    }
  }
  return text + "]";
}

void TransferWait::wait() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& work : works_) work->wait();
  works_.clear();
  // From pageable memory, an asynchronous copy returns once the host data is staged.
  for (StagedCopy& copy : staged_) copy.device.copy_(copy.host, /*non_blocking=*/true);
  staged_.clear();
}

TensorList PendingReceive::wait() {
  if (transfer_) transfer_->wait();
  transfer_.reset();
  return std::move(tensors_);
}

std::vector<PendingReceive> PendingReceive::split(const std::vector<MessageMeta>& layouts) && {
  if (tensors_.size() != 1) throw std::logic_error("only a one-tensor receive can be split");
  const torch::Tensor buffer = tensors_.front();
  std::vector<PendingReceive> parts;
  int64_t offset = 0;
  for (const MessageMeta& layout : layouts) {
    TensorList views;
    for (const TensorMeta& tensor : layout) {
      const int64_t count = c10::multiply_integers(tensor.shape);
      if (tensor.dtype != buffer.scalar_type() || offset + count > buffer.numel())
        throw std::logic_error("a split receive does not match its buffer");
      views.push_back(buffer.narrow(0, offset, count).view(tensor.shape).detach());
      offset += count;
    }
    parts.emplace_back(std::move(views), transfer_);
  }
  if (offset != buffer.numel()) throw std::logic_error("a split receive does not match its buffer");
  tensors_.clear();
  transfer_.reset();
  return parts;
}

torch::Device P2PTransport::wire_device() const {
  return group_->stages_through_host() ? torch::Device(torch::kCPU) : group_->device;
}

c10::intrusive_ptr<c10d::Work> P2PTransport::send_one(int peer, int tag,
                                                      const torch::Tensor& tensor) {
  std::vector<torch::Tensor> one{tensor.to(wire_device())};
  return group_->sending_to(peer).send(one, peer, tag);
}

c10::intrusive_ptr<c10d::Work> P2PTransport::receive_one(int peer, int tag, torch::Tensor tensor) {
  std::vector<torch::Tensor> one{std::move(tensor)};
  return group_->receiving_from(peer).recv(one, peer, tag);
}

PendingReceive P2PTransport::post_receive(int peer, int tag, const MessageMeta& meta) {
  if (meta.empty() || static_cast<int>(meta.size()) > kMaxMessageTensors) {
    throw std::invalid_argument("a message holds 1 to " + std::to_string(kMaxMessageTensors) +
                                " tensors, not " + std::to_string(meta.size()));
  }
  TensorList tensors;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  std::vector<StagedCopy> staged;
  for (std::size_t i = 0; i < meta.size(); ++i) {
    const auto options = torch::TensorOptions().dtype(meta[i].dtype);
    torch::Tensor buffer = torch::empty(meta[i].shape, options.device(group_->device));
    torch::Tensor wire = buffer;
    if (group_->stages_through_host()) {
      wire = torch::empty(meta[i].shape, options.device(torch::kCPU));
      staged.push_back({wire, buffer});
    }
    works.push_back(receive_one(peer, part_tag(tag, static_cast<int>(i) + 1), wire));
    tensors.push_back(std::move(buffer));
  }
  return PendingReceive(std::move(tensors),
                        std::make_shared<TransferWait>(std::move(works), std::move(staged)));
}

void P2PTransport::post_send(int peer, int tag, const TensorList& tensors) {
  if (tensors.empty() || static_cast<int>(tensors.size()) > kMaxMessageTensors) {
    throw std::invalid_argument("a message holds 1 to " + std::to_string(kMaxMessageTensors) +
                                " tensors, not " + std::to_string(tensors.size()));
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    // A tensor of its own (sharing the memory) travels, so the caller may release its tensor.
    sends_.push_back(
        send_one(peer, part_tag(tag, static_cast<int>(i) + 1), tensors[i].detach().contiguous()));
  }
}

void P2PTransport::send_header(int peer, int tag, const std::optional<MessageMeta>& meta) {
  sends_.push_back(send_one(peer, part_tag(tag, kHeaderPart), encode_header(meta)));
}

std::optional<MessageMeta> P2PTransport::receive_header(int peer, int tag) {
  torch::Tensor header = torch::empty(
      {kHeaderLength}, torch::TensorOptions().dtype(torch::kLong).device(wire_device()));
  receive_one(peer, part_tag(tag, kHeaderPart), header)->wait();
  return decode_header(header);
}

void P2PTransport::release_finished_sends() {
  while (!sends_.empty() && sends_.front()->isCompleted()) sends_.pop_front();
}

void P2PTransport::wait_for_sends() {
  while (!sends_.empty()) {
    c10::intrusive_ptr<c10d::Work> work = sends_.front();
    sends_.pop_front();
    work->wait();
  }
}

}  // namespace dualpipe::runtime
