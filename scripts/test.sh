#!/usr/bin/env bash
# Runs every test of the build in build/ (unit, integration, CLI). Pass a
# build directory to test another build (e.g. build-asan).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --timeout 600
