# Snakemake version of pipelines/genomics-secondary.asl.json for
# bench/genomics_bench.sh (issue #6). Same job graph: bwa index and snpEff's
# database once; per sample prepare -> align+sort -> index -> [split regions
# -> call per region -> gather -> annotate (bcftools csq, then snpEff)] and
# [QC: samtools stats/flagstat]; then the run report. Every rule runs the very bash script of the matching helix
# job definition (extracted from jobdefs/genomics/NAME.json into DEFS/NAME.sh
# by the bench), with the definition's vCPUs as threads.
# Run from the output directory (snakemake --directory OUT) with
#   --config defs=DIR data=DIR samples="S1 S2 S3" regions=N report=report.py tool=helix-genomics
import json

DEFS = config["defs"]
DATA = config["data"]
SAMPLES = str(config["samples"]).split()
REGIONS = int(config["regions"])
REPORT = config["report"]
TOOL = config["tool"]  # the helix-genomics binary


def run(name):
    """The job definition's script, as the definition runs it: bash -c SCRIPT $0 $1 ..."""
    return f'bash -c "$(cat {DEFS}/{name}.sh)"'


def regions_of(s):
    with open(checkpoints.split_regions.get(s=s).output[0]) as f:
        return json.load(f)


wildcard_constraints:
    s="[^/]+",
    i=r"\d+",


rule all:
    input:
        "report.json",


rule bwa_index:  # genomics-bwa-index, 1 vCPU
    input:
        "ref.fa",
    output:
        "ref.fa.bwt",
        "ref.fa.fai",
    threads: 1
    shell:
        run("genomics-bwa-index") + " {input}"


rule prepare:  # genomics-prepare-sample, 1 vCPU (after IndexReference, as in the ASL)
    input:
        r1=DATA + "/{s}_R1.fq.gz",
        r2=DATA + "/{s}_R2.fq.gz",
        idx="ref.fa.bwt",
    output:
        touch("{s}/prepared.ok"),
    threads: 1
    shell:
        run("genomics-prepare-sample") + " {wildcards.s} {input.r1} {input.r2} ."


rule align:  # genomics-bwa-mem-sort, 2 vCPUs (bwa mem -t / sort -@ `nproc`)
    input:
        r1=DATA + "/{s}_R1.fq.gz",
        r2=DATA + "/{s}_R2.fq.gz",
        ok="{s}/prepared.ok",
    output:
        "{s}/{s}.bam",
    threads: 2
    shell:
        run("genomics-bwa-mem-sort") + " ref.fa {wildcards.s} {input.r1} {input.r2} {output}"


rule index_bam:  # genomics-samtools-index, 1 vCPU
    input:
        "{s}/{s}.bam",
    output:
        "{s}/{s}.bam.bai",
    threads: 1
    shell:
        run("genomics-samtools-index") + " {input}"


rule qc:  # genomics-samtools-stats, 1 vCPU
    input:
        bam="{s}/{s}.bam",
        bai="{s}/{s}.bam.bai",
    output:
        "{s}/{s}.stats",
        "{s}/{s}.flagstat.json",
    threads: 1
    shell:
        run("genomics-samtools-stats") + " {input.bam} {wildcards.s}/{wildcards.s}"


checkpoint split_regions:  # genomics-split-regions, 1 vCPU
    input:
        bai="{s}/{s}.bam.bai",
        fai="ref.fa.fai",
    output:
        "{s}/regions.json",
    threads: 1
    shell:
        run("genomics-split-regions") + f" {TOOL} ref.fa {REGIONS} {{wildcards.s}}/{{wildcards.s}}.bam {{output}}"


rule call_region:  # genomics-bcftools-call-region, 1 vCPU
    input:
        bam="{s}/{s}.bam",
        bai="{s}/{s}.bam.bai",
        regions="{s}/regions.json",
    output:
        "{s}/regions/r{i}.vcf.gz",
    params:
        region=lambda wc: regions_of(wc.s)[int(wc.i)]["region"],
    threads: 1
    shell:
        run("genomics-bcftools-call-region") + " ref.fa {params.region} {input.bam} {output}"


rule gather:  # genomics-bcftools-concat, 1 vCPU
    input:
        lambda wc: [f"{wc.s}/regions/r{r['index']}.vcf.gz" for r in regions_of(wc.s)],
    output:
        "{s}/{s}.calls.vcf.gz",
    threads: 1
    shell:
        run("genomics-bcftools-concat") + " {wildcards.s}/regions {output}"


rule snpeff_build:  # genomics-snpeff-build, 1 vCPU (beside bwa index, as in the ASL)
    input:
        ref="ref.fa",
        gff="genes.gff3",
    output:
        "snpeff/snpEff.config",
    threads: 1
    shell:
        run("genomics-snpeff-build") + " {input.ref} {input.gff} snpeff helix"


rule annotate:  # genomics-bcftools-csq, 1 vCPU
    input:
        vcf="{s}/{s}.calls.vcf.gz",
        fai="ref.fa.fai",
    output:
        "{s}/{s}.csq.vcf.gz",
    threads: 1
    shell:
        run("genomics-bcftools-csq") + " ref.fa genes.gff3 {input.vcf} {output}"


rule snpeff:  # genomics-snpeff-annotate, 1 vCPU
    input:
        vcf="{s}/{s}.csq.vcf.gz",
        config="snpeff/snpEff.config",
    output:
        "{s}/{s}.annotated.vcf.gz",
    threads: 1
    shell:
        run("genomics-snpeff-annotate") + " {input.config} helix {input.vcf} {output}"


rule summary:  # genomics-sample-summary, 1 vCPU (after both branches, as in the ASL)
    input:
        vcf="{s}/{s}.annotated.vcf.gz",
        stats="{s}/{s}.stats",
    output:
        "{s}/{s}.summary.json",
    threads: 1
    shell:
        run("genomics-sample-summary") + f" {TOOL} {{wildcards.s}} {{wildcards.s}}/{{wildcards.s}}.bam {{input.vcf}} {{output}}"


rule report:  # genomics-report, 1 vCPU; the summary the ASL's Map would produce
    input:
        expand("{s}/{s}.summary.json", s=SAMPLES),
    output:
        "report.json",
        "report.html",
    params:
        summary=json.dumps(
            [
                {"id": s, "status": "SUCCEEDED", "bam": f"{s}/{s}.bam",
                 "vcf": f"{s}/{s}.annotated.vcf.gz", "stats": f"{s}/{s}.stats",
                 "flagstat": f"{s}/{s}.flagstat.json", "summary": f"{s}/{s}.summary.json"}
                for s in SAMPLES
            ]
        ),
    threads: 1
    shell:
        run("genomics-report") + " " + REPORT + " . {params.summary:q}"
