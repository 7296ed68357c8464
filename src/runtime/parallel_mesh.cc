#include "dualpipe/runtime/parallel_mesh.h"

#include <algorithm>
#include <stdexcept>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>

#include "communication_error.h"
#include "dualpipe/runtime/rank_agreement.h"

namespace dualpipe::runtime {

namespace {

// Every rank of the world, for exchanges through `store` (agree()).
PipelineGroup everyone_of(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world_size,
                          std::chrono::milliseconds timeout) {
  PipelineGroup everyone;
  everyone.rank = rank;
  everyone.size = world_size;
  everyone.timeout = timeout;
  everyone.store = c10::make_intrusive<c10d::PrefixStore>("dualpipe/mesh", store);
  return everyone;
}

// The layout of `world_size` ranks as `shape`, after every rank agreed on both.
MeshLayout agreed_layout(const PipelineGroup& everyone, const MeshShape& shape) {
  const int world_size = everyone.size;
  RankReport report;
  report.description = "world size " + std::to_string(world_size) + ", " + to_string(shape);
  try {
    MeshLayout check(world_size, shape);
  } catch (const std::exception& error) {
    report.failure = error.what();
  }
  report.fingerprint = fingerprint_of(report.description);
  const Agreement agreement = agree(everyone, "shape", report);
  if (!agreement.error.empty()) {
    std::string error = agreement.error;
    const std::string generic = "ranks disagree on the step:";
    if (error.rfind(generic, 0) == 0) error = "ranks disagree:" + error.substr(generic.size());
    throw std::invalid_argument("parallel mesh: " + error);
  }
  return MeshLayout(world_size, shape);
}

std::string joined(const std::vector<int>& ranks) {
  std::string text;
  for (int r : ranks) text += (text.empty() ? "" : ",") + std::to_string(r);
  return text;
}

}  // namespace

ParallelMesh::ParallelMesh(c10::intrusive_ptr<c10d::Store> store, int rank, int world_size,
                           MeshShape shape, torch::Device device, std::chrono::milliseconds timeout,
                           MessageBackend backend)
    : store_(std::move(store)),
      rank_(rank),
      everyone_(everyone_of(store_, rank, world_size, timeout)),
      layout_(agreed_layout(everyone_, shape)),
      coordinates_(layout_.coordinates(rank)),
      device_(device),
      timeout_(timeout),
      backend_(resolve_backend(backend, device)) {
  // Every rank makes its groups family by family in this one order, so no two ranks wait for each
  // other in opposite orders.
  pipeline_ = make_pipeline_group(store_, layout_.pipeline_ranks(coordinates_.data), rank_, device_,
                                  timeout_, backend_);
  data_parallel_ = make_group("data", layout_.data_parallel_ranks(coordinates_.pipeline));
  expert_parallel_ = make_group(
      "expert", layout_.expert_parallel_ranks(coordinates_.pipeline, coordinates_.expert_data));
  expert_data_parallel_ = make_group(
      "expert-data", layout_.expert_data_ranks(coordinates_.pipeline, coordinates_.expert));
}

ParallelMesh ParallelMesh::from_environment(const LaunchEnvironment& env, MeshShape shape,
                                            torch::Device device, std::chrono::milliseconds timeout,
                                            MessageBackend backend) {
  return ParallelMesh(connect_store(env, timeout), env.rank, env.world_size, shape, device, timeout,
                      backend);
}

Agreement ParallelMesh::agree_all(const std::string& key, const RankReport& report) const {
  return agree(everyone_, key, report);
}

std::vector<std::string> ParallelMesh::all_gather_text(const std::string& key,
                                                       const std::string& text) const {
  return runtime::all_gather_text(everyone_, key, text);
}

void ParallelMesh::leave_store() const noexcept { runtime::leave_store(exchange_of(everyone_)); }

GroupHandle ParallelMesh::make_group(const std::string& name, const std::vector<int>& ranks) const {
  const auto me = std::find(ranks.begin(), ranks.end(), rank_);
  if (me == ranks.end()) {
    throw std::invalid_argument("rank " + std::to_string(rank_) + " is not a member of group " +
                                name + " (" + joined(ranks) + ")");
  }
  if (ranks.size() == 1) return {};
  // The members make a group of one name once per object that needs it (a second Trainer on the
  // same mesh makes its own); the count keeps their keys in the store apart.
  std::string prefix = "dualpipe/group/" + name + "/" + joined(ranks);
  prefix += "#" + std::to_string((*groups_made_)[prefix]++);
  return make_communicator(c10::make_intrusive<c10d::PrefixStore>(prefix, store_),
                           static_cast<int>(me - ranks.begin()), static_cast<int>(ranks.size()),
                           device_, timeout_, backend_);
}

}  // namespace dualpipe::runtime
