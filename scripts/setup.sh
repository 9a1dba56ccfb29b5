#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12's apt, then builds
# helix into build/ (Release with debug info). Run as root or with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format clang libclang-rt-14-dev
  nlohmann-json3-dev libspdlog-dev libcli11-dev libexpected-dev
  libsqlite3-dev sqlite3 libssl-dev libmicrohttpd-dev libcpp-httplib-dev
  libhwloc-dev hwloc
  openmpi-bin libopenmpi-dev
  umoci crun runc busybox-static
  libgtest-dev libgmock-dev libbenchmark-dev
  awscli python3 python3-boto3 jq
  libdcmtk-dev dcmtk orthanc libtiff-dev libgdcm-tools python3-pydicom python3-numpy
  bwa samtools bcftools tabix snpeff snakemake libhts-dev zlib1g-dev
)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"

cmake --preset default
cmake --build build -j"$(nproc)"
