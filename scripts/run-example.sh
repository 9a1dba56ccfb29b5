#!/usr/bin/env bash
# The main job on the embedded default: a temporary helixd, the definitions
# of jobdefs/, a first job and an array whose children wait for it (N
# children write one line each), followed to the end with the helix CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${HELIX_BIN:-build/bin}
state=$(mktemp -d /tmp/helix-example-XXXXXX)
chmod 755 "$state"
"$BIN/helixd" --state-dir "$state" --port 0 --log-level warn >"$state/helixd.out" 2>"$state/helixd.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 100); do [ -S "$state/helixd.sock" ] && break; sleep 0.05; done
export HELIX_ENDPOINT="unix://$state/helixd.sock"
helix() { "$BIN/helix" "$@"; }

helix apply jobdefs/
first=$(helix submit --definition hello-native --param greeting=hi)
array=$(helix submit --name squares --array-size 4 --depends-on "$first" -- \
  sh -c 'echo "child $AWS_BATCH_JOB_ARRAY_INDEX: $((AWS_BATCH_JOB_ARRAY_INDEX * AWS_BATCH_JOB_ARRAY_INDEX))"')
helix wait "$first" "$array"
helix logs "$first"
for i in 0 1 2 3; do helix logs "$array:$i"; done
helix jobs
