#!/bin/bash
# Map one sample of make_data.py output with bwa mem, call with bcftools, and
# compare (after bcftools norm) with truth.vcf. Prints recall and precision.
# Usage: check_truth.sh DATADIR SAMPLE [THREADS]
set -euo pipefail
d=$1; s=$2; t=${3:-2}
[ -f "$d/ref.fa.bwt" ] || bwa index "$d/ref.fa" 2>/dev/null
[ -f "$d/ref.fa.fai" ] || samtools faidx "$d/ref.fa"
bwa mem -t "$t" -R "@RG\tID:$s\tSM:$s" "$d/ref.fa" "$d/${s}_R1.fq.gz" "$d/${s}_R2.fq.gz" 2>/dev/null |
  samtools sort -@ "$t" -o "$d/$s.bam" -
samtools index "$d/$s.bam"
bcftools mpileup -Ou -f "$d/ref.fa" "$d/$s.bam" 2>/dev/null | bcftools call -mv -Ou 2>/dev/null |
  bcftools norm -f "$d/ref.fa" -Oz -o "$d/$s.vcf.gz" 2>/dev/null
bcftools index -f "$d/$s.vcf.gz"
bcftools norm -f "$d/ref.fa" -Oz -o "$d/truth.norm.vcf.gz" "$d/truth.vcf" 2>/dev/null
bcftools index -f "$d/truth.norm.vcf.gz"
key() { bcftools query -f '%CHROM:%POS:%REF:%ALT\n' "$1" | sort -u; }
truth=$(key "$d/truth.norm.vcf.gz" | wc -l)
called=$(key "$d/$s.vcf.gz" | wc -l)
both=$(comm -12 <(key "$d/truth.norm.vcf.gz") <(key "$d/$s.vcf.gz") | wc -l)
awk -v b="$both" -v t="$truth" -v c="$called" -v s="$s" \
  'BEGIN{printf "%s truth %d called %d matched %d recall %.4f precision %.4f\n", s, t, c, b, b/t, b/c}'
