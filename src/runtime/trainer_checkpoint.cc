// Trainer::save and Trainer::load: checkpoints of a pipeline x data x expert parallel job.
//
// A checkpoint is a directory step-NNNNNNNN under the root the user names, with `latest` in the
// root naming the newest one. Inside:
//   manifest.json                      mesh, schedule, step, loss scaler, every parameter group
//   stage-S-dense.params.pt            stage S's dense parameters, written once (not per copy)
//   stage-S-expert-epE.params.pt       the experts expert rank E holds in stage S
//   <group>.optim-M-of-N.pt            optimizer state of member M of N ranks holding the group:
//                                      slices of its flat state, placed by element offsets
//   stage-S.state.pt                   the stage's own state (e.g. expert placements)
//   rng-rank-R.pt                      the random generators of rank R
// Optimizer state is stored by element ranges of each group's flat parameter vector, so a job
// with another dp (or another schedule over the same stages) finds the ranges it needs.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <simdjson.h>
#include <torch/serialize.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "dualpipe/runtime/trainer.h"
#include "dualpipe/runtime/optimizer_state.h"

namespace dualpipe::runtime {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "dualpipe-checkpoint-1";

// The name of a reduction group's files: the same in every layout with the same stages and ep.
std::string group_stem(const ReductionGroup& group, int expert_rank) {
  return "stage-" + std::to_string(group.stage) +
         (group.role == ParameterRole::kDense ? "-dense"
                                              : "-expert-ep" + std::to_string(expert_rank));
}

// Offset of each bucket in the group's unpadded flat parameter vector.
std::vector<int64_t> bucket_starts(const ReductionGroup& group) {
  std::vector<int64_t> starts;
  int64_t start = 0;
  for (const BucketLayout& bucket : group.buckets) {
    starts.push_back(start);
    start += bucket.numel;
  }
  return starts;
}

std::string shapes_json(const ReductionGroup& group) {
  std::string text = "[";
  for (std::size_t i = 0; i < group.params.size(); ++i) {
    text += i == 0 ? "[" : ",[";
    const auto sizes = group.params[i].tensor.sizes();
    for (std::size_t d = 0; d < sizes.size(); ++d)
      text += (d ? "," : "") + std::to_string(sizes[d]);
    text += "]";
  }
  return text + "]";
}

std::string shapes_of(simdjson::dom::array shapes) {
  std::string text = "[";
  bool first_param = true;
  for (simdjson::dom::element param : shapes) {
    text += first_param ? "[" : ",[";
    first_param = false;
    bool first = true;
    for (simdjson::dom::element size : param.get_array()) {
      text += (first ? "" : ",") + std::to_string(int64_t(size.get_int64()));
      first = false;
    }
    text += "]";
  }
  return text + "]";
}

void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + temporary.string());
  }
  fs::rename(temporary, path);
}

void save_tensors(const std::vector<std::pair<std::string, torch::Tensor>>& named,
                  const fs::path& path) {
  torch::serialize::OutputArchive archive;
  std::string names;
  for (const auto& [name, tensor] : named) {
    names += (names.empty() ? "" : ",") + name;
    archive.write(name, tensor.detach().to(torch::kCPU));
  }
  archive.write("names", c10::IValue(names));
  archive.save_to(path.string());
}

std::vector<std::pair<std::string, torch::Tensor>> load_tensors(const fs::path& path) {
  if (!fs::exists(path)) throw std::runtime_error("missing file " + path.string());
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  c10::IValue names;
  archive.read("names", names);
  std::vector<std::pair<std::string, torch::Tensor>> named;
  std::stringstream in(names.toStringRef());
  for (std::string name; std::getline(in, name, ',');) {
    torch::Tensor tensor;
    archive.read(name, tensor);
    named.emplace_back(name, tensor);
  }
  return named;
}

// One saved slice of a group's optimizer state: element range [begin, begin + length) of the
// group's flat vector, its step count and state tensors.
struct SavedSlice {
  int64_t begin = 0;
  int64_t length = 0;
  ElementwiseState state;
};

std::vector<SavedSlice> load_slices(const fs::path& path) {
  std::vector<SavedSlice> slices;
  std::map<int, SavedSlice> by_index;
  for (const auto& [name, tensor] : load_tensors(path)) {
    const auto slash = name.find('/');
    const int index = std::stoi(name.substr(5, slash - 5));  // "sliceK/..."
    const std::string field = name.substr(slash + 1);
    SavedSlice& slice = by_index[index];
    if (field == "range") {
      slice.begin = tensor[0].item<int64_t>();
      slice.length = tensor[1].item<int64_t>();
      slice.state.step = tensor[2].item<int64_t>();
    } else {
      slice.state.tensors.emplace_back(field, tensor);
    }
  }
  for (auto& entry : by_index) slices.push_back(std::move(entry.second));
  return slices;
}

fs::path resolve_checkpoint(const std::string& root) {
  const fs::path dir(root);
  if (fs::exists(dir / "manifest.json")) return dir;
  if (!fs::exists(dir / "latest"))
    throw std::runtime_error(root + ": no checkpoint (neither manifest.json nor latest)");
  std::ifstream in(dir / "latest");
  std::string name;
  std::getline(in, name);
  if (name.empty() || name.find('/') != std::string::npos)
    throw std::runtime_error((dir / "latest").string() + ": does not name a checkpoint");
  if (!fs::exists(dir / name / "manifest.json"))
    throw std::runtime_error((dir / name / "manifest.json").string() + ": missing");
  return dir / name;
}

// Throws std::runtime_error with `error`, the same on every rank, when any rank failed.
void agree_or_throw(const ParallelMesh& mesh, const std::string& key, const std::string& failure,
                    const std::string& what) {
  RankReport report;
  report.description = what;
  report.fingerprint = fingerprint_of(what);
  report.failure = failure;
  const Agreement agreement = mesh.agree_all(key, report);
  if (!agreement.error.empty()) throw std::runtime_error(what + ": " + agreement.error);
}

torch::Tensor generator_state(at::Generator generator) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_generator_state(at::Generator generator, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

template <typename Body>
std::string failure_of(Body&& body) {
  try {
    body();
  } catch (const std::exception& error) {
    std::string text = error.what();
    return text.substr(0, text.find('\n'));
  }
  return "";
}

}  // namespace

// The files of this rank: parameters and stage state where it holds a group's first copy,
// optimizer slices, its generators. Returns the manifest entries of the groups it wrote.
std::string Trainer::write_checkpoint_files(const std::string& directory) {
  const fs::path dir(directory);
  std::string entries;
  const int expert_rank = mesh_.coordinates().expert;
  torch::optim::Optimizer& optimizer = optimizer_->optimizer();
  for (const ReductionGroup& group : gradients_->groups()) {
    const std::string stem = group_stem(group, expert_rank);
    const bool first_copy = group.member == 0;
    if (first_copy) {
      std::vector<std::pair<std::string, torch::Tensor>> params;
      for (std::size_t i = 0; i < group.params.size(); ++i)
        params.emplace_back("param" + std::to_string(i), group.params[i].tensor);
      save_tensors(params, dir / (stem + ".params.pt"));
      const int parts = options_.zero ? group.members() : 1;
      entries += std::string(entries.empty() ? "" : ",") + "{\"name\":\"" + stem +
                 "\",\"stage\":" + std::to_string(group.stage) +
                 ",\"parts\":" + std::to_string(parts) + ",\"shapes\":" + shapes_json(group) + "}";
      if (group.role == ParameterRole::kDense) {
        const auto state =
            stages_[static_cast<std::size_t>(group.local_stage)].module->checkpoint_state();
        if (!state.empty())
          save_tensors(state, dir / ("stage-" + std::to_string(group.stage) + ".state.pt"));
      }
    }
    if (!options_.zero && !first_copy) continue;  // unsharded: every copy holds the same state
    const std::vector<int64_t> starts = bucket_starts(group);
    std::vector<std::pair<std::string, torch::Tensor>> slices;
    int index = 0;
    for (const MasterSlice& slice : optimizer_->slices()) {
      if (slice.group != &group) continue;
      const BucketLayout& bucket = group.buckets[slice.bucket];
      const int64_t length = std::min(slice.master.numel(), bucket.numel - slice.begin);
      const auto state = elementwise_state(optimizer, slice.master);
      if (length <= 0 || !state) continue;
      const std::string prefix = "slice" + std::to_string(index++) + "/";
      slices.emplace_back(prefix + "range",
                          torch::tensor({starts[slice.bucket] + slice.begin, length, state->step}));
      for (const auto& [name, tensor] : state->tensors)
        slices.emplace_back(prefix + name, tensor.narrow(0, 0, length));
    }
    const int member = options_.zero ? group.member : 0;
    const int members = options_.zero ? group.members() : 1;
    save_tensors(slices, dir / (stem + ".optim-" + std::to_string(member) + "-of-" +
                                std::to_string(members) + ".pt"));
  }
  std::vector<std::pair<std::string, torch::Tensor>> generators{
      {"cpu", generator_state(at::detail::getDefaultCPUGenerator())}};
  if (mesh_.device().is_cuda())
    generators.emplace_back("device",
                            generator_state(at::globalContext().defaultGenerator(mesh_.device())));
  save_tensors(generators, dir / ("rng-rank-" + std::to_string(mesh_.rank()) + ".pt"));
  return entries;
}

std::string Trainer::manifest_json(const std::vector<std::string>& group_entries) {
  std::string groups;
  for (const std::string& entry : group_entries) {
    if (!entry.empty()) groups += (groups.empty() ? "" : ",") + entry;
  }
  const MeshShape& shape = mesh_.shape();
  std::ostringstream out;
  out.precision(17);
  out << "{\n  \"format\": \"" << kFormat << "\",\n  \"step\": " << steps_
      << ",\n  \"mesh\": {\"pp\": " << shape.pp << ", \"dp\": " << shape.dp
      << ", \"ep\": " << shape.ep << "},\n  \"schedule\": \"" << schedule_name_
      << "\",\n  \"zero\": " << (options_.zero ? "true" : "false") << ",\n  \"optimizer\": \""
      << optimizer_kind(optimizer_->optimizer()) << "\",\n  \"loss_scale\": ";
  if (scaler_) {
    out << scaler_->scale() << ",\n  \"loss_scale_good_steps\": " << scaler_->good_steps();
  } else {
    out << "null";
  }
  out << ",\n  \"groups\": [" << groups << "]\n}\n";
  return out.str();
}

void Trainer::save(const std::string& root) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(steps_));
  const fs::path final_dir = fs::path(root) / name;
  const fs::path temporary = fs::path(root) / (std::string(name) + ".tmp");
  const std::string what = "saving checkpoint " + final_dir.string();
  const std::string key = "checkpoint" + std::to_string(checkpoint_exchanges_++);
  const bool leader = mesh_.rank() == 0;

  std::string failure;
  if (leader) {
    failure = failure_of([&] {
      fs::create_directories(root);
      fs::remove_all(temporary);
      fs::create_directories(temporary);
    });
  }
  agree_or_throw(mesh_, key + "/begin", failure, what);
  std::string entries;
  failure = failure_of([&] { entries = write_checkpoint_files(temporary.string()); });
  const std::vector<std::string> all_entries = mesh_.all_gather_text(key + "/groups", entries);
  agree_or_throw(mesh_, key + "/files", failure, what);
  if (leader) {
    failure = failure_of([&] {
      write_atomically(temporary / "manifest.json", manifest_json(all_entries));
      fs::remove_all(final_dir);
      fs::rename(temporary, final_dir);
      write_atomically(fs::path(root) / "latest", std::string(name) + "\n");
      prune_checkpoints(root, name);
    });
  }
  agree_or_throw(mesh_, key + "/end", failure, what);
}

void Trainer::prune_checkpoints(const std::string& root, const std::string& newest) const {
  if (options_.keep_checkpoints <= 0) return;
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(root)) {
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && n.rfind("step-", 0) == 0 && n.find('.') == std::string::npos)
      names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  const auto keep = static_cast<std::size_t>(options_.keep_checkpoints);
  for (std::size_t i = 0; i + keep < names.size(); ++i) {
    if (names[i] != newest) fs::remove_all(fs::path(root) / names[i]);
  }
}

// What load() reads from manifest.json.
struct CheckpointManifest {
  int64_t step = 0;
  MeshShape mesh;
  std::string optimizer;
  std::optional<double> loss_scale;
  int64_t good_steps = 0;
  std::map<std::string, std::string> group_shapes;  // by group name: shapes as JSON
  std::map<std::string, int64_t> group_parts;       // by group name: optimizer state files
};

namespace {

CheckpointManifest read_manifest(const fs::path& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.load(path.string()).get(root))
    throw std::runtime_error(path.string() + ": not a readable JSON file");
  CheckpointManifest m;
  try {
    if (std::string_view(root["format"].get_string()) != kFormat)
      throw std::runtime_error("unknown format");
    m.step = root["step"].get_int64();
    m.mesh.pp = static_cast<int>(int64_t(root["mesh"]["pp"].get_int64()));
    m.mesh.dp = static_cast<int>(int64_t(root["mesh"]["dp"].get_int64()));
    m.mesh.ep = static_cast<int>(int64_t(root["mesh"]["ep"].get_int64()));
    m.optimizer = std::string(std::string_view(root["optimizer"].get_string()));
    if (!root["loss_scale"].is_null()) {
      m.loss_scale = double(root["loss_scale"].get_double());
      m.good_steps = root["loss_scale_good_steps"].get_int64();
    }
    for (simdjson::dom::element group : root["groups"].get_array()) {
      const std::string name(std::string_view(group["name"].get_string()));
      m.group_shapes[name] = shapes_of(group["shapes"].get_array());
      m.group_parts[name] = group["parts"].get_int64();
    }
  } catch (const simdjson::simdjson_error& error) {
    throw std::runtime_error(path.string() + ": " + error.what());
  } catch (const std::runtime_error& error) {
    throw std::runtime_error(path.string() + ": " + error.what());
  }
  return m;
}

}  // namespace

void Trainer::check_compatible(const CheckpointManifest& manifest, const std::string& dir) const {
  if (manifest.mesh.pp != mesh_.shape().pp) {
    throw std::runtime_error(dir + " was saved with pp " + std::to_string(manifest.mesh.pp) +
                             ", this job has pp " + std::to_string(mesh_.shape().pp));
  }
  const int expert_rank = mesh_.coordinates().expert;
  for (const ReductionGroup& group : gradients_->groups()) {
    if (group.role == ParameterRole::kExpert && manifest.mesh.ep != mesh_.shape().ep) {
      throw std::runtime_error(dir + " was saved with ep " + std::to_string(manifest.mesh.ep) +
                               ", this job has ep " + std::to_string(mesh_.shape().ep));
    }
    const std::string stem = group_stem(group, expert_rank);
    auto found = manifest.group_shapes.find(stem);
    if (found == manifest.group_shapes.end())
      throw std::runtime_error(dir + " has no parameters " + stem);
    if (found->second != shapes_json(group)) {
      throw std::runtime_error(dir + ": " + stem + " has shapes " + found->second +
                               ", this model " + shapes_json(group));
    }
    const int64_t parts = manifest.group_parts.at(stem);
    for (int64_t m = 0; m < parts; ++m) {
      const fs::path part = fs::path(dir) / (stem + ".optim-" + std::to_string(m) + "-of-" +
                                             std::to_string(parts) + ".pt");
      if (!fs::exists(part)) throw std::runtime_error("missing file " + part.string());
    }
    if (!fs::exists(fs::path(dir) / (stem + ".params.pt")))
      throw std::runtime_error("missing file " + (fs::path(dir) / (stem + ".params.pt")).string());
  }
  const std::string kind = optimizer_kind(optimizer_->optimizer());
  if (!manifest.optimizer.empty() && manifest.optimizer != kind) {
    throw std::runtime_error(dir + " holds " + manifest.optimizer + " state, this job steps " +
                             (kind.empty() ? std::string("another optimizer") : kind));
  }
}

void Trainer::load_group(const ReductionGroup& group, const std::string& directory) {
  const fs::path dir(directory);
  const std::string stem = group_stem(group, mesh_.coordinates().expert);
  const auto params = load_tensors(dir / (stem + ".params.pt"));
  if (params.size() != group.params.size())
    throw std::runtime_error((dir / (stem + ".params.pt")).string() + ": wrong parameter count");
  {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < params.size(); ++i) group.params[i].tensor.copy_(params[i].second);
  }
  std::vector<SavedSlice> saved;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(stem + ".optim-", 0) != 0) continue;
    for (SavedSlice& slice : load_slices(entry.path())) saved.push_back(std::move(slice));
  }
  if (saved.empty()) return;  // saved before the first optimizer step
  const std::vector<int64_t> starts = bucket_starts(group);
  torch::optim::Optimizer& optimizer = optimizer_->optimizer();
  for (const MasterSlice& slice : optimizer_->slices()) {
    if (slice.group != &group) continue;
    const BucketLayout& bucket = group.buckets[slice.bucket];
    const int64_t begin = starts[slice.bucket] + slice.begin;
    const int64_t length =
        std::max<int64_t>(0, std::min(slice.master.numel(), bucket.numel - slice.begin));
    ElementwiseState state;
    state.step = saved.front().state.step;
    for (const auto& [name, tensor] : saved.front().state.tensors)
      state.tensors.emplace_back(name, torch::zeros_like(slice.master).detach());
    int64_t covered = 0;
    for (const SavedSlice& part : saved) {
      const int64_t lo = std::max(begin, part.begin);
      const int64_t hi = std::min(begin + length, part.begin + part.length);
      if (hi <= lo) continue;
      covered += hi - lo;
      for (std::size_t t = 0; t < state.tensors.size(); ++t) {
        state.tensors[t]
            .second.narrow(0, lo - begin, hi - lo)
            .copy_(part.state.tensors.at(t).second.narrow(0, lo - part.begin, hi - lo));
      }
    }
    if (covered != length) {
      throw std::runtime_error(directory + ": the optimizer state of " + stem + " covers " +
                               std::to_string(covered) + " of elements " + std::to_string(begin) +
                               ".." + std::to_string(begin + length) + " (a shard is missing)");
    }
    set_elementwise_state(optimizer, slice.master, state);
  }
}

void Trainer::load(const std::string& root) {
  const std::string key = "checkpoint" + std::to_string(checkpoint_exchanges_++);
  fs::path dir;
  CheckpointManifest manifest;
  std::string failure = failure_of([&] {
    dir = resolve_checkpoint(root);
    manifest = read_manifest(dir / "manifest.json");
    check_compatible(manifest, dir.string());
  });
  const std::string what = "loading checkpoint " + (dir.empty() ? root : dir.string());
  agree_or_throw(mesh_, key + "/check", failure, what);
  failure = failure_of([&] {
    for (const ReductionGroup& group : gradients_->groups()) {
      if (group.role != ParameterRole::kDense) continue;
      const fs::path state = dir / ("stage-" + std::to_string(group.stage) + ".state.pt");
      if (fs::exists(state))
        stages_[static_cast<std::size_t>(group.local_stage)].module->load_checkpoint_state(
            load_tensors(state));
    }
    for (const ReductionGroup& group : gradients_->groups()) load_group(group, dir.string());
    optimizer_->reload_masters();
    gradients_->refresh_norm_flags();
    const fs::path generators = dir / ("rng-rank-" + std::to_string(mesh_.rank()) + ".pt");
    if (manifest.mesh.pp * manifest.mesh.dp == mesh_.layout().world_size() &&
        fs::exists(generators)) {
      for (const auto& [name, state] : load_tensors(generators)) {
        if (name == "cpu") set_generator_state(at::detail::getDefaultCPUGenerator(), state);
        if (name == "device" && mesh_.device().is_cuda())
          set_generator_state(at::globalContext().defaultGenerator(mesh_.device()), state);
      }
    }
  });
  agree_or_throw(mesh_, key + "/loaded", failure, what);
  steps_ = manifest.step;
  if (scaler_ && manifest.loss_scale)
    scaler_->restore(*manifest.loss_scale, static_cast<int>(manifest.good_steps));
}

}  // namespace dualpipe::runtime
