#include "dualpipe/runtime/data_parallel_gradients.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "communication_error.h"

namespace dualpipe::runtime {

// One bucket's reduction in flight.
struct DataParallelGradients::Pending {
  ReductionGroup* group;
  std::size_t bucket;
  torch::Tensor buffer;                 // the whole bucket (reduced in place when all-reducing)
  torch::Tensor slice;                  // this member's slice (reduce-scatter's output)
  c10::intrusive_ptr<c10d::Work> work;  // null when nothing travels
};

namespace {

// Pipeline ranks that hold `stage` in `s` (DualPipe: two, otherwise one), ascending.
std::vector<int> pipeline_holders(const schedule::Schedule& s, int stage) {
  std::set<int> holders;
  for (int d = 0; d < s.num_directions(); ++d)
    holders.insert(s.stage_rank[static_cast<std::size_t>(d)][static_cast<std::size_t>(stage)]);
  return {holders.begin(), holders.end()};
}

// The bucket's gradients, back to back and padded, as one buffer.
torch::Tensor flatten_gradients(const ReductionGroup& group, const BucketLayout& bucket) {
  std::vector<torch::Tensor> parts;
  for (std::size_t i = bucket.first; i < bucket.end; ++i) {
    const torch::Tensor& p = group.params[i].tensor;
    parts.push_back(p.grad().defined() ? p.grad().reshape({-1})
                                       : torch::zeros({p.numel()}, p.options()));
  }
  if (bucket.padded > bucket.numel) {
    const torch::Tensor& like = group.params[bucket.first].tensor;
    parts.push_back(torch::zeros({bucket.padded - bucket.numel}, like.options()));
  }
  return torch::cat(parts);
}

std::string describe(const ReductionGroup& group) {
  return std::string(group.role == ParameterRole::kDense ? "dense" : "expert") +
         " gradients of stage " + std::to_string(group.stage);
}

}  // namespace

DataParallelGradients::DataParallelGradients(std::vector<LocalStage> stages, MeshLayout layout,
                                             int rank, GroupFactory make_group,
                                             GradientSyncOptions options)
    : stages_(std::move(stages)),
      layout_(std::move(layout)),
      rank_(rank),
      make_group_(std::move(make_group)),
      options_(options),
      scale_(1.0 / layout_.shape().dp) {}

DataParallelGradients::~DataParallelGradients() = default;

void DataParallelGradients::make_groups(const schedule::Schedule& s) {
  const MeshCoordinates me = layout_.coordinates(rank_);
  // In one global order (stage, then role), so every rank makes its groups in the same order.
  for (int stage = 0; stage < s.num_stages; ++stage) {
    for (std::size_t k = 0; k < stages_.size(); ++k) {
      if (stages_[k].stage != stage) continue;
      std::vector<StageParameter> all = stages_[k].module->stage_parameters();
      for (ParameterRole role : {ParameterRole::kDense, ParameterRole::kExpert}) {
        ReductionGroup group;
        group.local_stage = static_cast<int>(k);
        group.stage = stage;
        group.role = role;
        for (const StageParameter& p : all) {
          if (p.role == role) group.params.push_back(p);
        }
        if (group.params.empty()) continue;
        for (int p : pipeline_holders(s, stage)) {
          for (int d = 0; d < layout_.shape().dp; ++d) {
            if (role == ParameterRole::kExpert && d % layout_.shape().ep != me.expert) continue;
            group.ranks.push_back(layout_.rank_of(p, d));
          }
        }
        std::sort(group.ranks.begin(), group.ranks.end());
        group.member = static_cast<int>(std::find(group.ranks.begin(), group.ranks.end(), rank_) -
                                        group.ranks.begin());
        const std::string name = "gradients/stage" + std::to_string(stage) +
                                 (role == ParameterRole::kDense ? "/dense" : "/expert");
        if (group.members() > 1) group.comm = make_group_(name, group.ranks);
        std::vector<int64_t> numels;
        for (const StageParameter& p : group.params) {
          if (p.tensor.scalar_type() != group.params.front().tensor.scalar_type())
            throw std::invalid_argument("the " + describe(group) + " mix element types");
          numels.push_back(p.tensor.numel());
        }
        group.buckets = plan_buckets(numels, group.params.front().tensor.element_size(),
                                     options_.bucket_bytes, group.members());
        groups_.push_back(std::move(group));
      }
    }
  }
}

void DataParallelGradients::prepare(const schedule::Schedule& schedule) {
  if (prepared_) return;
  make_groups(schedule);
  prepared_ = true;
}

void DataParallelGradients::start(ReductionGroup& group) {
  group.reduced.assign(group.buckets.size(), torch::Tensor());
  for (std::size_t b = 0; b < group.buckets.size(); ++b) {
    auto pending = std::make_unique<Pending>();
    pending->group = &group;
    pending->bucket = b;
    pending->buffer = flatten_gradients(group, group.buckets[b]);
    pending->buffer.mul_(scale_);
    const int64_t shard = group.buckets[b].shard_numel();
    pending->slice = pending->buffer.narrow(0, group.member * shard, shard);
    if (group.comm) {
      // Gloo has no reduce-scatter: it all-reduces and keeps this member's slice of the sum.
      const bool scatter = options_.sharded && group.comm->getBackendName() != "gloo";
      pending->work = communicate("reducing the " + describe(group), [&] {
        std::vector<torch::Tensor> whole{pending->buffer};
        if (!scatter) return group.comm->allreduce(whole);
        pending->slice = torch::empty({shard}, pending->buffer.options());
        std::vector<torch::Tensor> out{pending->slice};
        std::vector<std::vector<torch::Tensor>> in{pending->buffer.split(shard)};
        return group.comm->reduce_scatter(out, in);
      });
    }
    pending_.push_back(std::move(pending));
  }
}

void DataParallelGradients::stage_ready(int local_stage) {
  const LocalStage& local = stages_.at(static_cast<std::size_t>(local_stage));
  communicate("summing the replicated gradients of stage " + std::to_string(local.stage), [&] {
    local.module->sum_replicated_gradients();
    return 0;
  });
  for (ReductionGroup& group : groups_) {
    if (group.local_stage == local_stage) start(group);
  }
}

void DataParallelGradients::finish(bool failed) {
  std::vector<std::unique_ptr<Pending>> pending = std::move(pending_);
  pending_.clear();
  for (const std::unique_ptr<Pending>& p : pending) {
    if (p->work)
      communicate("reducing the " + describe(*p->group), [&] { return p->work->wait(); });
  }
  if (failed) return;
  for (const std::unique_ptr<Pending>& p : pending) {
    ReductionGroup& group = *p->group;
    const BucketLayout& bucket = group.buckets[p->bucket];
    group.reduced[p->bucket] = options_.sharded ? p->slice : p->buffer;
    if (options_.sharded) continue;
    for (std::size_t i = bucket.first; i < bucket.end; ++i) {
      torch::Tensor param = group.params[i].tensor;
      const torch::Tensor reduced =
          p->buffer.narrow(0, bucket.offsets[i - bucket.first], param.numel()).view_as(param);
      if (param.grad().defined()) {
        param.mutable_grad().copy_(reduced);
      } else {
        param.mutable_grad() = reduced.clone();
      }
    }
  }
}

void DataParallelGradients::refresh_norm_flags() {
  for (ReductionGroup& group : groups_) {
    std::size_t i = 0;
    for (const StageParameter& p :
         stages_[static_cast<std::size_t>(group.local_stage)].module->stage_parameters()) {
      if (p.role == group.role) group.params.at(i++).counted_in_norm = p.counted_in_norm;
    }
  }
}

double DataParallelGradients::local_squared_norm() const {
  torch::Tensor total;
  for (const ReductionGroup& group : groups_) {
    for (std::size_t b = 0; b < group.buckets.size(); ++b) {
      const BucketLayout& bucket = group.buckets[b];
      const int64_t shard = bucket.shard_numel();
      const int64_t begin = group.member * shard;
      const torch::Tensor mine =
          options_.sharded ? group.reduced[b] : group.reduced[b].narrow(0, begin, shard);
      // Runs of counted parameters inside this rank's slice, each squared and summed once.
      int64_t run_lo = 0;
      int64_t run_hi = 0;
      const auto flush = [&] {
        if (run_hi <= run_lo) return;
        const torch::Tensor part =
            mine.narrow(0, run_lo - begin, run_hi - run_lo).to(torch::kDouble).pow(2).sum();
        total = total.defined() ? total + part : part;
        run_lo = run_hi = 0;
      };
      for (std::size_t i = bucket.first; i < bucket.end; ++i) {
        const int64_t offset = bucket.offsets[i - bucket.first];
        const int64_t lo = std::max(offset, begin);
        const int64_t hi = std::min(offset + group.params[i].tensor.numel(), begin + shard);
        if (!group.params[i].counted_in_norm || hi <= lo) {
          flush();
          continue;
        }
        if (run_hi != lo) {
          flush();
          run_lo = lo;
        }
        run_hi = hi;
      }
      flush();
    }
  }
  return total.defined() ? total.item<double>() : 0.0;
}

}  // namespace dualpipe::runtime
