#!/usr/bin/env bash
# The main job on the embedded default: the genomics secondary-analysis
# pipeline (pipelines/genomics-secondary.asl.json) on generated data. Starts
# a helixd in a temporary state directory, registers jobdefs/genomics, makes
# the example data when it is missing (tiny by default; EXAMPLE_SIZE=small
# for the benchmark size), then `helix run --follow` shows the execution to
# its end. Outputs and the report stay in $EXAMPLE_DIR/out.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${HELIX_BIN:-build/bin}
size=${EXAMPLE_SIZE:-tiny}
dir=${EXAMPLE_DIR:-/tmp/helix-example-$size}
mkdir -p "$dir"
chmod 755 "$dir"
[ -s "$dir/data/ref.fa" ] || python3 scripts/genomics/make_data.py --size "$size" --out "$dir/data"
state=$(mktemp -d /tmp/helix-example-state-XXXXXX)
chmod 755 "$state"
"$BIN/helixd" --state-dir "$state" --port 0 --log-level warn >"$state/helixd.out" 2>"$state/helixd.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 100); do [ -S "$state/helixd.sock" ] && break; sleep 0.05; done
export HELIX_ENDPOINT="unix://$state/helixd.sock"

"$BIN/helix" apply jobdefs/genomics/ >/dev/null
rm -rf "$dir/out"
mkdir -p "$dir/out"
python3 - "$dir" "$PWD" "$BIN/helix-genomics" >"$dir/input.json" <<'PY'
import json, os, sys
d, repo = sys.argv[1], sys.argv[2]
samples = sorted(f[:-9] for f in os.listdir(d + "/data") if f.endswith("_R1.fq.gz"))
print(json.dumps({
    "reference": f"{d}/data/ref.fa", "annotation": f"{d}/data/genes.gff3",
    "samples": [{"id": s, "fastq1": f"{d}/data/{s}_R1.fq.gz", "fastq2": f"{d}/data/{s}_R2.fq.gz"}
                for s in samples],
    "outdir": f"{d}/out", "regions": 4, "queue": "default",
    "report_script": f"{repo}/scripts/genomics/report.py",
    "helix_genomics": os.path.abspath(sys.argv[3])}, indent=2))
PY
"$BIN/helix" run pipelines/genomics-secondary.asl.json --input "@$dir/input.json" --follow
echo "report: $dir/out/report.html"
