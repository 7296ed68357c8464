#!/usr/bin/env bash
# Starts N processes of a command on this machine with the environment torchrun gives its workers
# (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), rank 0 hosting the rendezvous store.
# For machines without a working torchrun (Debian 12's python3-torch ships one that fails under
# Python 3.11). Prints every rank's output; exits with the first non-zero exit code.
#   scripts/launch_local.sh N COMMAND [ARGS...]     (MASTER_PORT: default 29517)
set -euo pipefail
n=$1
shift
port=${MASTER_PORT:-29517}
pids=()
for ((rank = 0; rank < n; rank++)); do
  RANK=$rank WORLD_SIZE=$n LOCAL_RANK=$rank MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
    OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  code=0
  wait "$pid" || code=$?
  [[ $status -eq 0 ]] && status=$code
done
exit "$status"
