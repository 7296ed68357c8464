#!/usr/bin/env bash
# Builds the project (Release) on a GPU machine against the PyTorch wheel's LibTorch, with
# simdjson and Gloo's headers taken from .deps/root/usr (without Gloo's the multi-process tests
# skip; see docs/performance.md, "Building for the GPU measurements").
# Usage: scripts/gpu/build.sh [targets...]
set -euo pipefail
cd "$(dirname "$0")/../.."
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUALPIPE_WITH_TORCH=ON \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$PWD/.deps/root/usr" -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DDUALPIPE_BUILD_TESTS="${DUALPIPE_GPU_TESTS:-ON}" >/dev/null
if [[ $# -gt 0 ]]; then
  cmake --build build/gpu -j "$(nproc)" --target "$@"
else
  cmake --build build/gpu -j "$(nproc)"
fi
