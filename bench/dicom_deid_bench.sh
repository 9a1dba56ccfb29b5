#!/bin/bash
# DICOM de-identification bench (issue #7): files/s and MB/s of helix-deid on
# the generated multi-patient set, beside gdcmanon --dumb (GDCM, Debian),
# Orthanc's REST /anonymize and a plain copy of the same files (the I/O
# bound), in one run; then an independent leak check of every tool's output
# (bench/dicom_leak_check.py, pydicom), which also counts images whose
# burned-in text is still there. Prints `metric value unit` lines
# (and `# ` comment lines that say what was measured).
#
# Usage: bench/dicom_deid_bench.sh [--files DIR] [--reps N] [--cpu N|none]
#   --files DIR  use DIR/*.dcm with DIR/manifest.json and DIR/pixel-rules.json
#                (a folder written by scripts/dicom/make_testset.py) instead
#                of generating a 600-file set
#   --reps N     timed runs of copy, helix and gdcmanon, the fastest is
#                reported (default 7); Orthanc's runs take seconds each, so it
#                gets at most 3
#   --cpu N      CPU every timed tool is pinned to (default 1 when there are
#                two or more; "none" pins nothing)
#
# Timing: each tool runs once untimed first (warm page cache, loaded
# libraries), then N times interleaved with the others (drift hits all
# alike); each run is wall clock around the whole command, process start
# included, into an empty output folder after a `sync`. The fastest run is
# reported, not the median: the dev VM is shared (builds, fuzzers), and the
# least disturbed run is the closest to each tool's own cost (medians moved
# 2-4x between runs of this script, the fastest much less). MB is input
# bytes, 10^6. files/s counts input files, so a quarantined file counts.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
deid=${HELIX_BUILD_DIR:-$here/build}/bin/helix-deid
# pydicom and numpy are Debian's (python3-pydicom); a pyenv python3 earlier
# on PATH lacks them (docs/dicom-notes.md).
py=/usr/bin/python3
files=""; reps=7; cpu=""
while [ $# -gt 0 ]; do
  case $1 in
    --files) files=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    *) echo "usage: $0 [--files DIR] [--reps N] [--cpu N|none]" >&2; exit 2 ;;
  esac
done
# One fixed CPU for every timed tool keeps them comparable and the runs
# steadier: on the 2-core dev VM vCPU0 runs ~1.7x slower than vCPU1, and a
# process left free can land on either. cp, helix-deid and gdcmanon use one
# thread; Orthanc and its client are pinned to the same CPU below.
if [ -z "$cpu" ]; then cpu=$([ "$(nproc)" -ge 2 ] && echo 1 || echo none); fi
pin=(); [ "$cpu" = none ] || pin=(taskset -c "$cpu")
for tool in "$deid" /usr/bin/gdcmanon /usr/sbin/Orthanc "$py"; do
  [ -x "$tool" ] || { echo "$0: needs $tool" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/helix-dicom-bench.XXXXXX")
orthanc_pid=""
cleanup() {
  # Orthanc by its own PID only; it exits cleanly on SIGTERM.
  if [ -n "$orthanc_pid" ]; then
    kill "$orthanc_pid" 2>/dev/null || true
    wait "$orthanc_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 25 patients x 2 studies x 4 series x 3 instances = 600 files (about 4 MB:
# the generator's images are small, so this measures per-file cost).
if [ -z "$files" ]; then
  files=$tmp/set
  "$py" "$here/scripts/dicom/make_testset.py" "$files" \
    --patients 25 --studies 2 --series 4 --instances 3 >/dev/null
fi
for need in manifest.json pixel-rules.json; do
  [ -f "$files/$need" ] || { echo "$0: $files/$need missing" >&2; exit 2; }
done
# Every tool reads the same folder holding only the .dcm files: gdcmanon
# takes a folder, and cp -r of the set folder would also copy the manifest.
mkdir "$tmp/in"
find "$files" -maxdepth 1 -name '*.dcm' -exec cp -t "$tmp/in" {} +
find "$tmp/in" -name '*.dcm' | sort > "$tmp/list"
count=$(wc -l < "$tmp/list")
bytes=$(find "$tmp/in" -name '*.dcm' -printf '%s\n' | awk '{s += $1} END {print s}')
[ "$count" -gt 0 ] || { echo "$0: no .dcm files in $files" >&2; exit 2; }

# --- the tools, each writing into the folder given as $1 -----------------
copy() { "${pin[@]}" cp -r "$tmp/in" "$1"; }

# What the pipeline's test runs: Basic Profile plus retain_long_modified_dates
# (dates shifted per patient) and clean_pixel_data with the set's rules (the
# generator's one image with burned-in text no rule covers is quarantined).
printf 'bench-site-secret-0123456789\n' > "$tmp/secret"
helix() {
  "${pin[@]}" "$deid" run --secret-file "$tmp/secret" --pixel-rules "$files/pixel-rules.json" \
    --options '["retain_long_modified_dates", "clean_pixel_data"]' --list "$tmp/list" \
    --out "$1/out" --quarantine "$1/q" --audit "$1/audit.jsonl" --maps "$1/maps" \
    --name bench > "$1.summary"
}
# The same on every CPU of the machine (helix-deid's --threads default is
# the CPUs it may use): what a node gives a de-identification job, and
# what the pipeline's Map over series does across processes.
helixall() {
  "$deid" run --secret-file "$tmp/secret" --pixel-rules "$files/pixel-rules.json" \
    --options '["retain_long_modified_dates", "clean_pixel_data"]' --list "$tmp/list" \
    --out "$1/out" --quarantine "$1/q" --audit "$1/audit.jsonl" --maps "$1/maps" \
    --name bench > "$1.summary"
}

# gdcmanon --dumb over the folder (gdcmanon writes one output per input into
# the -o folder), told what a quick de-identification script would say:
# replace Patient's Name (0010,0010) and Patient ID (0010,0020) with
# ANONYMOUS; remove Patient's Birth Date (0010,0030), Other Patient IDs
# (0010,1000), Patient's Address (0010,1040), Patient's Telephone Numbers
# (0010,2154), Patient Comments (0010,4000); empty Accession Number
# (0008,0050), Institution Name (0008,0080), Referring Physician's Name
# (0008,0090), Study ID (0020,0010). Tags are hex. It touches nothing else:
# UIDs, dates, descriptions, sequences and private tags stay.
gdcm_tags=(--replace 10,10=ANONYMOUS --replace 10,20=ANONYMOUS --remove 10,30 --remove 10,1000
           --remove 10,1040 --remove 10,2154 --remove 10,4000 --empty 8,50 --empty 8,80
           --empty 8,90 --empty 20,10)
gdcm() { "${pin[@]}" gdcmanon --dumb --continue -i "$tmp/in" -o "$1" "${gdcm_tags[@]}" >/dev/null; }

# Wall-clock seconds of one run of tool $1 into a fresh $tmp/out.$1.
timed() {
  rm -rf "$tmp/out.$1"; sync
  local t0 t1
  t0=$(date +%s.%N); "$1" "$tmp/out.$1"; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
fastest() { sort -g | head -1; }

cat "$tmp"/in/*.dcm > /dev/null
declare -A runs=()
for tool in copy helix helixall gdcm; do timed "$tool" > /dev/null; done  # warm-up
for ((r = 0; r < reps; r++)); do
  for tool in copy helix helixall gdcm; do runs[$tool]+="$(timed "$tool") "; done
done
for tool in copy helix helixall gdcm; do
  declare "s_$tool=$(echo "${runs[$tool]}" | tr ' ' '\n' | grep . | fastest)"
done
helix_written=$(find "$tmp/out.helix/out" -name '*.dcm' | wc -l)
helix_quarantined=$(find "$tmp/out.helix/q" -name '*.reason.txt' | wc -l)

# --- Orthanc: Debian's, from a config in the temporary folder -----------
# Free ports from the kernel (bind to port 0; both held at once so they
# differ). Orthanc listens on all interfaces whatever the config says; the
# client talks to 127.0.0.1 only. TCP_NODELAY=1: without it each message
# waits ~92 ms on loopback (docs/dicom-notes.md).
read -r http_port dicom_port < <("$py" -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
mkdir "$tmp/orthanc"
cat > "$tmp/orthanc/orthanc.json" <<EOF
{
  "Name": "helix-bench", "DicomAet": "HELIXBENCH",
  "StorageDirectory": "$tmp/orthanc/db", "IndexDirectory": "$tmp/orthanc/db",
  "HttpPort": $http_port, "DicomPort": $dicom_port,
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false, "Plugins": [],
  "StorageCompression": false, "HttpCompressionEnabled": false, "SaveJobs": false
}
EOF
# Orthanc and its client (Python, one keep-alive connection, little work per
# request) both on the bench CPU: all of the measured work on one CPU, as for
# the other tools; request and response alternate, so they hardly compete.
TCP_NODELAY=1 "${pin[@]}" /usr/sbin/Orthanc "$tmp/orthanc/orthanc.json" \
  > "$tmp/orthanc/log" 2>&1 &
orthanc_pid=$!
for ((i = 0; i < 100; i++)); do
  curl -sf "http://127.0.0.1:$http_port/system" > /dev/null && break
  kill -0 "$orthanc_pid" 2>/dev/null || { cat "$tmp/orthanc/log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "http://127.0.0.1:$http_port/system" > /dev/null ||
  { echo "$0: Orthanc did not answer in 10 s" >&2; cat "$tmp/orthanc/log" >&2; exit 1; }
"${pin[@]}" "$py" "$here/bench/dicom_orthanc_anonymize.py" "$http_port" "$tmp/list" \
  "$tmp/out.orthanc" "$(( reps < 3 ? reps : 3 ))" > "$tmp/orthanc/result"
kill "$orthanc_pid"; wait "$orthanc_pid" || true; orthanc_pid=""
orthanc() { awk -v k="$1" '$1 == k {print $2}' "$tmp/orthanc/result"; }

# --- leak check, independent of helix -------------------------------------
"$py" "$here/bench/dicom_leak_check.py" "$files/manifest.json" "$tmp/out.copy" \
  "$tmp/out.helix/out" "$tmp/out.gdcm" "$tmp/out.orthanc/study" "$tmp/out.orthanc/instance" \
  > "$tmp/leaks"
leaks() { awk -v d="$1" '$1 == d {print $3}' "$tmp/leaks"; }
burned() { awk -v d="$1" '$1 == d {print $6}' "$tmp/leaks"; }

# --- report ---------------------------------------------------------------
awk -v n="$count" -v b="$bytes" -v reps="$reps" -v cpu="$cpu" \
    -v copy="$s_copy" -v helix="$s_helix" -v gdcm="$s_gdcm" -v helixall="$s_helixall" \
    -v cpus="$(nproc)" \
    -v up="$(orthanc upload_s)" -v inst="$(orthanc instance_s)" -v study="$(orthanc study_s)" \
    -v studies="$(orthanc studies)" -v ofail="$(orthanc anonymize_failed)" \
    -v upfail="$(orthanc upload_failed)" -v hw="$helix_written" -v hq="$helix_quarantined" \
    -v lc="$(leaks "$tmp/out.copy")" -v lh="$(leaks "$tmp/out.helix/out")" \
    -v lg="$(leaks "$tmp/out.gdcm")" -v ls="$(leaks "$tmp/out.orthanc/study")" \
    -v li="$(leaks "$tmp/out.orthanc/instance")" \
    -v bc="$(burned "$tmp/out.copy")" -v bh="$(burned "$tmp/out.helix/out")" \
    -v bg="$(burned "$tmp/out.gdcm")" -v bs="$(burned "$tmp/out.orthanc/study")" 'BEGIN {
  mb = b / 1e6
  printf "# %d files, %.2f MB; fastest of %d timed runs (Orthanc: %d) per tool after a warm-up; CPU pin: %s\n", n, mb, reps, (reps < 3 ? reps : 3), cpu
  printf "# orthanc_anonymize: per study (POST /studies/{id}/anonymize, then GET each new instance file; %d studies); orthanc_instance_anonymize: POST /instances/{id}/anonymize per file; upload timed apart\n", studies
  printf "dicom_files %d files\n", n
  printf "dicom_input_mb %.3f MB\n", mb
  printf "plain_copy_seconds %.4f s\n", copy
  printf "plain_copy_files_per_s %.1f files/s\n", n / copy
  printf "plain_copy_mb_per_s %.2f MB/s\n", mb / copy
  printf "helix_deid_seconds %.4f s\n", helix
  printf "helix_deid_files_per_s %.1f files/s\n", n / helix
  printf "helix_deid_mb_per_s %.2f MB/s\n", mb / helix
  printf "# helix_deid_all_cpus: the same run unpinned, on all %d CPUs (--threads default)\n", cpus
  printf "helix_deid_all_cpus_files_per_s %.1f files/s\n", n / helixall
  printf "helix_deid_written %d files\n", hw
  printf "helix_deid_quarantined %d files\n", hq
  printf "gdcmanon_dumb_seconds %.4f s\n", gdcm
  printf "gdcmanon_dumb_files_per_s %.1f files/s\n", n / gdcm
  printf "gdcmanon_dumb_mb_per_s %.2f MB/s\n", mb / gdcm
  printf "orthanc_anonymize_seconds %.4f s\n", study
  printf "orthanc_anonymize_files_per_s %.1f files/s\n", n / study
  printf "orthanc_anonymize_mb_per_s %.2f MB/s\n", mb / study
  printf "orthanc_instance_anonymize_files_per_s %.1f files/s\n", n / inst
  printf "orthanc_upload_files_per_s %.1f files/s\n", n / up
  printf "orthanc_failed %d files\n", upfail + ofail
  printf "# ratios: helix files/s over the other tool files/s (targets: vs gdcmanon >= 1, vs copy >= 0.5)\n"
  printf "helix_vs_gdcmanon_ratio %.3f x\n", gdcm / helix
  printf "helix_vs_orthanc_ratio %.3f x\n", study / helix
  printf "helix_vs_copy_ratio %.3f x\n", copy / helix
  printf "helix_all_cpus_vs_gdcmanon_ratio %.3f x\n", gdcm / helixall
  printf "# leaks: output files holding an identifying value of manifest.json (bench/dicom_leak_check.py); the copy is the control\n"
  printf "plain_copy_leaking_files %d files\n", lc
  printf "helix_leaking_files %d files\n", lh
  printf "gdcmanon_leaking_files %d files\n", lg
  printf "orthanc_leaking_files %d files\n", ls
  printf "orthanc_instance_leaking_files %d files\n", li
  printf "# burned-in text: outputs whose text boxes (manifest regions) keep the original pixels; not in the counts above\n"
  printf "plain_copy_burned_in_text_files %d files\n", bc
  printf "helix_burned_in_text_files %d files\n", bh
  printf "gdcmanon_burned_in_text_files %d files\n", bg
  printf "orthanc_burned_in_text_files %d files\n", bs
}'
# Unreadable or unlinked outputs weaken the check: say so when there are any.
awk '$4 > 0 || $5 > 0 {printf "# leak check %s: %d outputs, %d unreadable, %d unlinked\n", $1, $2, $4, $5}' "$tmp/leaks"
