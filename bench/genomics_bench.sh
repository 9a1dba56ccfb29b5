#!/bin/bash
# Genomics bench (issue #6), so far only the plain sequential baseline:
# generate data, then for each sample bwa mem|sort, index, stats; per contig
# mpileup|call over all BAMs; concat; csq. Prints `metric value unit` lines.
# Usage: bench/genomics_bench.sh [tiny|small] [WORKDIR]
# Snakemake and helix runs are NOT written yet.
set -euo pipefail
size=${1:-small}; w=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")/.." && pwd)
t0=$(date +%s.%N)
python3 "$here/scripts/genomics/make_data.py" --size "$size" --out "$w" >/dev/null
t1=$(date +%s.%N)
cd "$w"
bwa index ref.fa 2>/dev/null; samtools faidx ref.fa
samples=$(ls *_R1.fq.gz | sed 's/_R1.fq.gz//')
for s in $samples; do
  bwa mem -t 2 -R "@RG\tID:$s\tSM:$s" ref.fa "${s}_R1.fq.gz" "${s}_R2.fq.gz" 2>/dev/null |
    samtools sort -@ 2 -m 256M -o "$s.bam" - 2>/dev/null
  samtools index "$s.bam"; samtools stats "$s.bam" > "$s.stats"
done
: > list.txt
for c in $(cut -f1 ref.fa.fai); do
  bcftools mpileup -Ou -f ref.fa -r "$c" $(for s in $samples; do echo "$s.bam"; done) 2>/dev/null |
    bcftools call -mv -Oz -o "call.$c.vcf.gz" 2>/dev/null
  echo "call.$c.vcf.gz" >> list.txt
done
bcftools concat -f list.txt -Oz -o all.vcf.gz 2>/dev/null; bcftools index -f all.vcf.gz
bcftools csq -f ref.fa -g genes.gff3 --phase a --force -Oz -o csq.vcf.gz all.vcf.gz 2>/dev/null
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$(echo $samples | wc -w)" -v v="$(bcftools view -H all.vcf.gz | wc -l)" 'BEGIN{
  printf "genomics.%s.generate_seconds %.2f s\n", "'"$size"'", b-a
  printf "genomics.%s.sequential_seconds %.2f s\n", "'"$size"'", c-b
  printf "genomics.%s.samples %d count\n", "'"$size"'", n
  printf "genomics.%s.variants %d count\n", "'"$size"'", v }'
