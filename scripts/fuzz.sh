#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and
# runs each for SECONDS (default 30) from its checked-in seed corpus. New
# inputs go to a scratch directory, so the checked-in corpus only changes
# when someone copies a finding in. Exits non-zero on any crash, leak,
# sanitizer report or timeout; the reproducer is left in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHELIX_FUZZ=ON -DHELIX_BUILD_TESTS=OFF -DHELIX_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target definition_fuzz json_path_fuzz intrinsic_fuzz dicom_deid_fuzz
for target in definition json_path intrinsic dicom_deid; do
  scratch="build-fuzz/corpus-$target"
  mkdir -p "$scratch"
  echo "== fuzz $target for ${seconds}s"
  (cd build-fuzz && "./bin/${target}_fuzz" -max_total_time="$seconds" -timeout=10 \
     -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
     "corpus-$target" "../tests/fuzz/corpus/$target" 2>&1 | tail -n 40)
done
