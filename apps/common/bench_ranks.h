// bench_ranks: how the ranks of a bench meet and agree (header-only: only the LibTorch tools use
// it): the rendezvous, reported in one line; the agreement on every flag and on each rank's
// failure before any collective; and the agreed outcome of writing the outputs.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <stdexcept>
#include <string>

#include "dualpipe/runtime/launch_environment.h"
#include "dualpipe/runtime/process_group.h"
#include "dualpipe/runtime/rank_agreement.h"
#include "flag_settings.h"
#include "held_stderr.h"
#include "staged_outputs.h"

namespace dualpipe::apps {

// Joins the rendezvous store of `env` (LibTorch's own messages held back: a failure is one line),
// then agrees with every rank on all flags of `app` and on `failure` (this rank's reason not to go
// on, "" when none). Throws std::invalid_argument with the agreed line, identical on every rank,
// when a rank failed or the flags differ; returns the exchange for later agreements.
inline runtime::StoreExchange join_ranks(const runtime::LaunchEnvironment& env, CLI::App& app,
                                         std::chrono::milliseconds timeout,
                                         const std::string& failure) {
  runtime::StoreExchange exchange;
  exchange.store = with_stderr_held([&] { return runtime::connect_store(env, timeout); });
  exchange.rank = env.rank;
  exchange.size = env.world_size;
  exchange.timeout = timeout;
  const std::string error =
      runtime::agree_on_settings(exchange, app.get_name() + "/flags", flag_settings(app), failure);
  if (!error.empty()) throw std::invalid_argument(error);
  return exchange;
}

// Writes every rank's `outputs` or none: each rank stages its files, the ranks agree that all
// could, then each commits. Throws std::runtime_error with the agreed line otherwise.
inline void commit_on_every_rank(StagedOutputs& outputs, const runtime::StoreExchange& exchange,
                                 const std::string& key) {
  std::string failure;
  try {
    outputs.stage();
  } catch (const std::exception& error) {
    failure = error.what();
  }
  const runtime::Agreement outcome =
      runtime::agree(exchange, key, runtime::RankReport{0, "", failure});
  if (!outcome.error.empty()) throw std::runtime_error(outcome.error);
  outputs.commit();
}

}  // namespace dualpipe::apps
