#!/usr/bin/env python3
"""Deterministic genomics test data for issue #6 (no simulator needed).

Writes into OUTDIR:
  ref.fa            several contigs; each holds copies of a repeat unit
  genes.gff3        genes with mRNA/exon/CDS features (forward and reverse strand)
  truth.vcf         planted SNVs and small indels (het and hom), shared by all samples
  SAMPLE_R1.fq.gz / SAMPLE_R2.fq.gz   paired reads at ~COVERAGE x, Illumina-like
                    substitution errors rising along the read, phred+33 qualities

Same --seed and --size always give byte-identical files (random.Random, gzip mtime=0).
Usage: make_data.py --size tiny|small --out DIR [--seed N]
"""
import argparse
import gzip
import os
import random

SIZES = {
    # contigs, contig length, samples, coverage
    "tiny": dict(contigs=3, length=20_000, samples=2, coverage=30),
    "small": dict(contigs=5, length=600_000, samples=3, coverage=30),
}
READ_LEN = 100
INSERT_MEAN, INSERT_SD = 350, 30
BASES = "ACGT"
COMP = str.maketrans("ACGTN", "TGCAN")


def revcomp(s):
    return s.translate(COMP)[::-1]


def make_reference(rng, n, length):
    repeat = "".join(rng.choice(BASES) for _ in range(300))
    contigs = []
    for i in range(n):
        seq = [rng.choice(BASES) for _ in range(length)]
        # two diverged (2%) copies of a shared repeat per contig
        for k in range(2):
            start = (k + 1) * length // 3
            for j, b in enumerate(repeat):
                seq[start + j] = b if rng.random() > 0.02 else rng.choice(BASES)
        contigs.append((f"chr{i + 1}", "".join(seq)))
    return contigs


def make_genes(rng, contigs):
    feats = []
    gid = 0
    for name, seq in contigs:
        pos = 1000
        while pos + 3000 < len(seq):
            gid += 1
            strand = "+" if gid % 2 else "-"
            cds_len = 3 * rng.randint(150, 500)
            start, end = pos, pos + cds_len - 1
            g = f"gene{gid}"
            # Ensembl-style IDs and biotypes: bcftools csq requires them, snpEff accepts them
            t = f"transcript:{g}.t1"
            bt = "biotype=protein_coding"
            feats.append((name, "gene", start, end, strand, f"ID=gene:{g};Name={g};{bt}"))
            feats.append((name, "mRNA", start, end, strand, f"ID={t};Parent=gene:{g};{bt}"))
            feats.append((name, "exon", start, end, strand, f"Parent={t}"))
            feats.append((name, "CDS", start, end, strand, f"ID=CDS:{g};Parent={t}"))
            pos = end + rng.randint(1500, 4000)
    return feats


def make_variants(rng, contigs):
    variants = []
    for name, seq in contigs:
        pos = 200
        while True:
            pos += rng.randint(250, 600)  # spaced so reads resolve each one
            if pos + 50 >= len(seq):
                break
            ref_base = seq[pos - 1]
            kind = rng.random()
            if kind < 0.8:
                alt = rng.choice([b for b in BASES if b != ref_base])
                ref = ref_base
            elif kind < 0.9:
                ins = "".join(rng.choice(BASES) for _ in range(rng.randint(1, 5)))
                ref, alt = ref_base, ref_base + ins
            else:
                dl = rng.randint(1, 5)
                ref, alt = seq[pos - 1 : pos + dl], ref_base
            gt = "1/1" if rng.random() < 0.3 else "0/1"
            variants.append((name, pos, ref, alt, gt))
    return variants


def haplotypes(seq, name, variants):
    """Two haplotype strings; a het variant goes on haplotype 0 only."""
    haps = []
    for h in range(2):
        out, last = [], 0
        for c, pos, ref, alt, gt in variants:
            if c != name or (gt == "0/1" and h == 1):
                continue
            out.append(seq[last : pos - 1])
            out.append(alt)
            last = pos - 1 + len(ref)
        out.append(seq[last:])
        haps.append("".join(out))
    return haps


def error_read(rng, s):
    quals, out = [], []
    for i, b in enumerate(s):
        p = 0.001 + 0.009 * i / len(s)  # 0.1% → 1% along the read
        if rng.random() < p:
            b = rng.choice([x for x in BASES if x != b])
            quals.append(chr(33 + 12))
        else:
            quals.append(chr(33 + (37 if i < 70 else 30)))
        out.append(b)
    return "".join(out), "".join(quals)


def write_reads(rng, sample, contigs, variants, coverage, outdir):
    f1 = gzip.GzipFile(os.path.join(outdir, f"{sample}_R1.fq.gz"), "wb", mtime=0)
    f2 = gzip.GzipFile(os.path.join(outdir, f"{sample}_R2.fq.gz"), "wb", mtime=0)
    n = 0
    for name, seq in contigs:
        haps = haplotypes(seq, name, variants)
        pairs = len(seq) * coverage // (2 * READ_LEN)
        for _ in range(pairs):
            hap = haps[rng.randrange(2)]
            ins = max(2 * READ_LEN, int(rng.gauss(INSERT_MEAN, INSERT_SD)))
            start = rng.randrange(0, len(hap) - ins)
            frag = hap[start : start + ins]
            if rng.random() < 0.5:
                frag = revcomp(frag)
            r1, q1 = error_read(rng, frag[:READ_LEN])
            r2, q2 = error_read(rng, revcomp(frag)[:READ_LEN])
            n += 1
            f1.write(f"@{sample}.{n}/1\n{r1}\n+\n{q1}\n".encode())
            f2.write(f"@{sample}.{n}/2\n{r2}\n+\n{q2}\n".encode())
    f1.close()
    f2.close()
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=6)
    a = ap.parse_args()
    cfg = SIZES[a.size]
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    contigs = make_reference(rng, cfg["contigs"], cfg["length"])
    with open(os.path.join(a.out, "ref.fa"), "w") as f:
        for name, seq in contigs:
            f.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                f.write(seq[i : i + 60] + "\n")
    with open(os.path.join(a.out, "genes.gff3"), "w") as f:
        f.write("##gff-version 3\n")
        for name, seq in contigs:
            f.write(f"##sequence-region {name} 1 {len(seq)}\n")
        for c, t, s, e, strand, attrs in make_genes(rng, contigs):
            phase = "0" if t == "CDS" else "."
            f.write(f"{c}\thelix\t{t}\t{s}\t{e}\t.\t{strand}\t{phase}\t{attrs}\n")
    variants = make_variants(rng, contigs)
    with open(os.path.join(a.out, "truth.vcf"), "w") as f:
        f.write("##fileformat=VCFv4.2\n")
        for name, seq in contigs:
            f.write(f"##contig=<ID={name},length={len(seq)}>\n")
        f.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ttruth\n")
        for c, pos, ref, alt, gt in variants:
            f.write(f"{c}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT\t{gt}\n")
    for i in range(cfg["samples"]):
        sample = f"S{i + 1}"
        pairs = write_reads(random.Random(a.seed * 1000 + i), sample, contigs, variants,
                            cfg["coverage"], a.out)
        print(f"{sample} {pairs} pairs")
    print(f"{len(variants)} truth variants in {len(contigs)} contigs")


if __name__ == "__main__":
    main()
