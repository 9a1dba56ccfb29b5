#!/bin/bash
# Genomics bench (issue #6): the secondary-analysis pipeline on generated data,
# run three ways on the same machine, one after the other, each in its own
# output directory:
#   sequential  a plain shell loop, one command after another
#   snakemake   Debian's snakemake --cores $CORES with bench/genomics.smk
#   helix       a private helixd; helix run pipelines/genomics-secondary.asl.json --follow
# All three run the same commands: each step is the bash script of its job
# definition in jobdefs/genomics (extracted once from the JSON), with the same
# parameters and thread counts (nproc inside the script: the machine for the
# first two, the attempt's cpuset for helix). Same job graph too: bwa index
# once beside snpEff's database build; per sample prepare, bwa mem|sort, index,
# split regions (helix-genomics), bcftools call per region, concat, bcftools
# csq, snpEff, samtools stats/flagstat, the sample summary (helix-genomics);
# then the report.
# Each way indexes its own copy of ref.fa (bwa index writes next to it).
#
# Prints `metric value unit` lines. cpu_bound_vs_sequential_ratio is the best
# ratio any scheduler could reach on $CORES CPUs: the sequential run's CPU
# seconds / CORES / its wall time (bwa mem -t 2 | sort already keeps ~1.9 of
# 2 CPUs busy, so overlapping samples gains only the single-threaded steps).
# helix's overhead per task is taken from helix's own job records
# (DescribeJobs); see the python below for the definition.
#
# Usage: bench/genomics_bench.sh [tiny|small] [WORKDIR]
#   WORKDIR given: kept afterwards; else a temp dir, removed on exit.
#   REGIONS (default 5: one per contig of the small data); CORES (default 2):
#   snakemake's --cores and the CPUs the overhead analysis assumes -- helixd
#   schedules on the machine's own CPUs, so run it on a CORES-CPU machine.
set -euo pipefail
size=${1:-small}
regions=${REGIONS:-5}
cores=${CORES:-2}
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${HELIX_BIN:-$repo/build/bin}
if [ -n "${2:-}" ]; then w=$2; mkdir -p "$w"; keep=1; else w=$(mktemp -d /tmp/genomics-bench.XXXXXX); keep=0; fi
w=$(cd "$w" && pwd)
chmod 755 "$w"
hpid=""
cleanup() {
  if [ -n "$hpid" ] && kill -0 "$hpid" 2>/dev/null; then
    kill -TERM "$hpid"
    for _ in $(seq 200); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$hpid" 2>/dev/null && kill -KILL "$hpid"
    wait "$hpid" 2>/dev/null || true
  fi
  if [ "$keep" = 0 ]; then rm -rf "$w"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now() { date +%s.%N; }
log() { echo "# $*" >&2; }

# --- data, generated once --------------------------------------------------
t0=$(now)
python3 "$repo/scripts/genomics/make_data.py" --size "$size" --out "$w/data" >/dev/null
gen_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}')
samples=$(cd "$w/data" && ls -- *_R1.fq.gz | sed 's/_R1.fq.gz//' | sort -V | tr '\n' ' ')
log "data ($size) in ${gen_s}s: samples $samples"

# The job definitions' scripts: DEFS/NAME.sh, run as `bash -c SCRIPT ARGS...`
# exactly as helix runs them (the ARGS arrive as $0 $1 ...).
defs=$w/defs
mkdir -p "$defs"
for f in "$repo"/jobdefs/genomics/*.json; do
  jq -r '.containerProperties.command[2]' "$f" > "$defs/$(jq -r .jobDefinitionName "$f").sh"
done
def() { local name=$1; shift; bash -c "$(cat "$defs/genomics-$name.sh")" "$@"; }

# Each way gets its own output dir holding its own ref.fa and genes.gff3.
newout() { mkdir -p "$w/$1"; cp "$w/data/ref.fa" "$w/data/genes.gff3" "$w/$1/"; }
summary() {  # the per-sample summary the ASL's Map hands to the report
  local sep="" s
  printf '['
  for s in $samples; do
    printf '%s{"id":"%s","status":"SUCCEEDED","bam":"%s/%s.bam","vcf":"%s/%s.annotated.vcf.gz","stats":"%s/%s.stats","flagstat":"%s/%s.flagstat.json","summary":"%s/%s.summary.json"}' \
      "$sep" "$s" "$s" "$s" "$s" "$s" "$s" "$s" "$s" "$s" "$s" "$s"
    sep=,
  done
  printf ']'
}

# --- (a) sequential ---------------------------------------------------------
newout seq
t0=$(now)
(
  cd "$w/seq"
  d=$w/data
  def bwa-index ref.fa
  def snpeff-build ref.fa genes.gff3 snpeff helix
  for s in $samples; do
    def prepare-sample "$s" "$d/${s}_R1.fq.gz" "$d/${s}_R2.fq.gz" .
    def bwa-mem-sort ref.fa "$s" "$d/${s}_R1.fq.gz" "$d/${s}_R2.fq.gz" "$s/$s.bam"
    def samtools-index "$s/$s.bam"
    def split-regions "$bin/helix-genomics" ref.fa "$regions" "$s/$s.bam" "$s/regions.json"
    jq -r '.[] | "\(.index) \(.region)"' "$s/regions.json" | while read -r i r; do
      def bcftools-call-region ref.fa "$r" "$s/$s.bam" "$s/regions/r$i.vcf.gz"
    done
    def bcftools-concat "$s/regions" "$s/$s.calls.vcf.gz"
    def bcftools-csq ref.fa genes.gff3 "$s/$s.calls.vcf.gz" "$s/$s.csq.vcf.gz"
    def snpeff-annotate snpeff/snpEff.config helix "$s/$s.csq.vcf.gz" "$s/$s.annotated.vcf.gz"
    def samtools-stats "$s/$s.bam" "$s/$s"
    def sample-summary "$bin/helix-genomics" "$s" "$s/$s.bam" "$s/$s.annotated.vcf.gz" "$s/$s.summary.json"
  done
  def report "$repo/scripts/genomics/report.py" . "$(summary)"
  times > "$w/seq.times"  # line 2: the tools' CPU time, user and sys, as 1m2.345s
) > "$w/seq.log" 2>&1 || { cat "$w/seq.log" >&2; exit 1; }
seq_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}')
# CPU seconds of the whole job: the floor for any schedule on $cores CPUs is that / $cores.
seq_cpu=$(tail -1 "$w/seq.times" | tr 'ms' '  ' | awk '{printf "%.2f", $1 * 60 + $2 + $3 * 60 + $4}')
log "sequential: ${seq_s}s"

# --- (b) snakemake ----------------------------------------------------------
newout smk
t0=$(now)
snakemake --snakefile "$repo/bench/genomics.smk" --directory "$w/smk" --cores "$cores" --quiet \
  --config defs="$defs" data="$w/data" samples="$samples" regions="$regions" \
  report="$repo/scripts/genomics/report.py" tool="$bin/helix-genomics" > "$w/smk.log" 2>&1 || { cat "$w/smk.log" >&2; exit 1; }
smk_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}')
log "snakemake: ${smk_s}s ($(snakemake --version))"

# --- (c) helix --------------------------------------------------------------
newout helix
st=$w/helixd
mkdir -p "$st"
chmod 755 "$st"
t0=$(now)
"$bin/helixd" --state-dir "$st" --port 0 --log-level warn > "$st/helixd.stdout" 2> "$st/helixd.stderr" &
hpid=$!
for _ in $(seq 300); do grep -q '^listening on ' "$st/helixd.stdout" 2>/dev/null && break; sleep 0.05; done
grep -q '^listening on ' "$st/helixd.stdout" || { log "helixd did not start"; cat "$st/helixd.stderr" >&2; exit 1; }
export HELIX_ENDPOINT=unix://$st/helixd.sock
"$bin/helix" apply "$repo/jobdefs/genomics" > "$w/helix-apply.log"
setup_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}')
jq -n --arg d "$w/data" --arg o "$w/helix" --arg s "$samples" --argjson n "$regions" \
  --arg rep "$repo/scripts/genomics/report.py" --arg tool "$bin/helix-genomics" '{
    reference: "\($o)/ref.fa", annotation: "\($o)/genes.gff3", outdir: $o, regions: $n,
    queue: "default", report_script: $rep, helix_genomics: $tool,
    samples: [$s | split(" ")[] | select(. != "") |
              {id: ., fastq1: "\($d)/\(.)_R1.fq.gz", fastq2: "\($d)/\(.)_R2.fq.gz"}]}' > "$w/input.json"
t0=$(now)
"$bin/helix" run "$repo/pipelines/genomics-secondary.asl.json" --input "@$w/input.json" --follow \
  > "$w/helix.log" 2>&1 || { cat "$w/helix.log" >&2; exit 1; }
t1=$(now)
helix_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')
log "helix: ${helix_s}s (helixd start + apply ${setup_s}s, not counted)"

# helix's job records: every job of the run, with its attempts.
ids=$("$bin/helix" --output json jobs --queue default | jq -r '(if type == "array" then . else (.jobSummaryList // .jobs) end)[].jobId')
# shellcheck disable=SC2086
"$bin/helix" --output json describe $ids > "$w/helix-jobs.json"

# Overhead per task, from the job records (times in ms; the run's start and end
# from this script's clock). For each job: ready = when it could have started
# (its dependencies in the pipeline's graph had stopped -- the previous state's
# job; for a Map item, the item's admission under MaxConcurrency -- and enough
# of the $cores CPUs were free, judged from the other jobs' [startedAt,
# stoppedAt) and vCPUs); overhead = startedAt - ready: the state machine's
# transition, SubmitJob, scheduling and launch, i.e. time a task could have
# been running its tool but was not. helix_overhead_per_task_ms is the mean
# over jobs. helix_idle_per_task_ms is a cross-check: wall time during which no
# tool ran at all (the union of the attempts' run intervals subtracted from
# the run's wall time, including helix run's start and --follow's exit), over
# the number of jobs.
overhead=$(python3 - "$w/helix-jobs.json" "$t0" "$t1" "$cores" <<'EOF'
import json, re, sys
jobs = json.load(open(sys.argv[1]))
jobs = jobs["jobs"] if isinstance(jobs, dict) else jobs
t0, t1, cores = float(sys.argv[2]) * 1000, float(sys.argv[3]) * 1000, int(sys.argv[4])
def vcpus(j):
    for r in j.get("container", {}).get("resourceRequirements", []):
        if r["type"] == "VCPU":
            return float(r["value"])
    return 1.0
J = {}  # job name -> its first attempt's start, last attempt's stop, vCPUs, every attempt's run
for j in jobs:
    runs = [(a["startedAt"], a["stoppedAt"]) for a in j.get("attempts", [])] or [(j["startedAt"], j["stoppedAt"])]
    J[j["jobName"]] = dict(started=runs[0][0], stopped=runs[-1][1], vcpus=vcpus(j), runs=runs)
def done(*names):
    return max(J[n]["stopped"] for n in names)
samples = sorted({n.split("-", 1)[1] for n in J if n.startswith("align-")}, key=lambda s: (len(s), s))
sample_done = {s: done(f"summary-{s}") for s in samples}
deps = {"bwa-index": t0, "snpeff-build": t0}  # job name -> when its dependencies were done
for k, s in enumerate(samples):  # PerSample MaxConcurrency 2: item k waits for a free slot
    if k < 2:
        deps[f"prepare-{s}"] = done("bwa-index", "snpeff-build")
    else:
        deps[f"prepare-{s}"] = sorted(sample_done[x] for x in samples[:k])[k - 2]
    deps[f"align-{s}"] = done(f"prepare-{s}")
    deps[f"index-{s}"] = done(f"align-{s}")
    deps[f"regions-{s}"] = done(f"index-{s}")
    deps[f"qc-{s}"] = done(f"index-{s}")
    calls = sorted((n for n in J if re.fullmatch(f"call-{re.escape(s)}-\\d+", n)), key=lambda n: int(n.rsplit("-", 1)[1]))
    for k2, n in enumerate(calls):  # CallRegions MaxConcurrency 4
        deps[n] = done(f"regions-{s}") if k2 < 4 else max(done(f"regions-{s}"), sorted(J[c]["stopped"] for c in calls[:k2])[k2 - 4])
    deps[f"gather-{s}"] = done(*calls)
    deps[f"annotate-{s}"] = done(f"gather-{s}")
    deps[f"snpeff-{s}"] = done(f"annotate-{s}")
    deps[f"summary-{s}"] = done(f"snpeff-{s}", f"qc-{s}")
deps["report"] = max(sample_done.values())
def occupied(name, t):
    return sum(J[o]["vcpus"] for o in J if o != name and any(a <= t < b for a, b in J[o]["runs"]))
def cpu_free_from(name, ready):
    """start of the last stretch before name started in which its vCPUs fitted beside the
    jobs that actually ran (helix's choice of which ready job goes first is policy, not overhead)"""
    need, start = J[name]["vcpus"], J[name]["started"]
    cands = sorted({ready} | {b for o in J if o != name for _, b in J[o]["runs"] if ready < b <= start})
    for c in cands:
        points = [c] + [a for o in J if o != name for a, _ in J[o]["runs"] if c <= a < start]
        if all(occupied(name, p) + need <= cores for p in points):
            return c
    return start
over = {n: max(0, J[n]["started"] - cpu_free_from(n, deps[n])) for n in J if n in deps}
missing = sorted(set(J) - set(deps))
runs = sorted(r for n in J for r in J[n]["runs"])
busy, cur_s, cur_e = 0, None, None
for s, e in runs:
    if cur_e is None or s > cur_e:
        if cur_e is not None: busy += cur_e - cur_s
        cur_s, cur_e = s, e
    else:
        cur_e = max(cur_e, e)
busy += cur_e - cur_s
n = len(J)
tool = sum(e - s for n_ in J for s, e in J[n_]["runs"])
worst = max(over, key=over.get)
print(f"helix_tasks {n} count")
print(f"helix_overhead_per_task_ms {sum(over.values()) / len(over):.1f} ms")
print(f"helix_overhead_max_ms {over[worst]:.0f} ms")
print(f"helix_idle_per_task_ms {(t1 - t0 - busy) / n:.1f} ms")
print(f"helix_tool_seconds {tool / 1000:.2f} s")
print(f"# worst overhead: {worst}; jobs not in the graph: {missing or 'none'}")
print("# per job (ms): " + ", ".join(f"{k}={v:.0f}" for k, v in sorted(over.items(), key=lambda kv: J[kv[0]]["started"])))
EOF
)

# --- same calls? --------------------------------------------------------------
# Per sample, the annotated records (no header: it carries command lines and
# paths), left-aligned and split by bcftools norm, must be identical.
same=1
for s in $samples; do
  for way in seq smk helix; do
    bcftools norm -f "$w/data/ref.fa" -m -any "$w/$way/$s/$s.annotated.vcf.gz" 2>/dev/null |
      bcftools view -H | md5sum | cut -d' ' -f1 > "$w/$way/$s.calls.md5"
  done
  cmp -s "$w/seq/$s.calls.md5" "$w/smk/$s.calls.md5" && cmp -s "$w/seq/$s.calls.md5" "$w/helix/$s.calls.md5" || same=0
done
nvar=0
for s in $samples; do nvar=$((nvar + $(bcftools view -H "$w/helix/$s/$s.annotated.vcf.gz" | wc -l))); done

awk -v g="$gen_s" -v a="$seq_s" -v b="$smk_s" -v c="$helix_s" -v u="$setup_s" -v n="$(wc -w <<< "$samples")" -v cpu="$seq_cpu" \
    -v v="$nvar" -v same="$same" -v size="$size" -v cores="$cores" -v r="$regions" 'BEGIN{
  printf "size %s name\ncores %d count\nsamples %d count\nregions %d count\n", size, cores, n, r
  printf "generate_seconds %.2f s\n", g
  printf "sequential_seconds %.2f s\n", a
  printf "sequential_cpu_seconds %.2f s\n", cpu
  printf "cpu_bound_vs_sequential_ratio %.3f ratio\n", cpu / cores / a
  printf "snakemake_seconds %.2f s\n", b
  printf "helix_seconds %.2f s\n", c
  printf "helix_setup_seconds %.2f s\n", u
  printf "helix_vs_sequential_ratio %.3f ratio\n", c / a
  printf "helix_vs_snakemake_ratio %.3f ratio\n", c / b
  printf "variants %d count\n", v
  printf "calls_identical %d bool\n", same }'
echo "$overhead"
