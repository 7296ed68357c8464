#!/usr/bin/env bash
# Installs every Debian/Ubuntu package the project needs to build, test and run. Idempotent, and
# quiet when everything is already present. Set DUALPIPE_NO_TORCH=1 to skip LibTorch.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libeigen3-dev libcli11-dev libyaml-cpp-dev libsimdjson-dev zlib1g-dev libre2-dev
  libgtest-dev googletest libbenchmark-dev
  clang clang-tidy clang-format
  python3 python3-dev python3-numpy pybind11-dev
)
if [[ "${DUALPIPE_NO_TORCH:-0}" != 1 ]]; then
  packages+=(libtorch-dev libgloo-dev python3-torch)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "deps.sh: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
