#!/usr/bin/env bash
# The pure cores (common/, queues/, scheduler/core/, scheduler/simulator/,
# pipelines/engine/, pipelines/jsonata/) take time, randomness,
# storage and launching as injected interfaces (docs/ARCHITECTURE.md). This
# fails when one of them reaches for the real thing.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='#include <(sqlite3\.h|sys/socket\.h|sys/wait\.h|spawn\.h|unistd\.h|thread|random|mpi\.h|spdlog/|httplib\.h|microhttpd\.h)>|system_clock::now|steady_clock::now|std::rand\(|[^_]fork\(|exec[lv]p?\(|getenv\('
dirs=()
for d in common queues scheduler/core scheduler/simulator pipelines/engine pipelines/jsonata; do
  [[ -d $d ]] && dirs+=("$d")
done
if grep -rEn "$pattern" "${dirs[@]}" --include='*.h' --include='*.cpp'; then
  echo "check_core_purity: the lines above break the purity of the cores" >&2
  exit 1
fi
echo "check_core_purity: ok"
