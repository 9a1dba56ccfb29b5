#!/usr/bin/env python3
"""The run report of pipelines/genomics-secondary.asl.json (issue #6).

usage: report.py OUTDIR SUMMARY_JSON
SUMMARY_JSON is the per-sample Map's result: [{"id", "status", ...}], where a
succeeded sample names its bam, vcf (annotated), stats and flagstat files and
a failed one carries the error the pipeline caught. Writes OUTDIR/report.json
and OUTDIR/report.html (self-contained: tables and an inline SVG chart).
Reads the tools' own outputs (samtools stats/flagstat, bcftools query)."""

import html
import json
import os
import subprocess
import sys


def stats_numbers(path):
    """reads mapped, bases mapped (cigar) and mean depth over the reference."""
    sn = {}
    with open(path) as f:
        for line in f:
            if line.startswith("SN\t"):
                key, value = line.split("\t")[1:3]
                sn[key.rstrip(":")] = float(value)
    return sn


def variant_counts(vcf):
    out = subprocess.run(["bcftools", "query", "-f", "%REF\t%ALT\t%INFO/BCSQ\n", vcf],
                         capture_output=True, text=True, check=True).stdout
    by_type, by_consequence = {}, {}
    for line in out.splitlines():
        ref, alt, bcsq = line.split("\t")
        kind = "SNV" if len(ref) == 1 and all(len(a) == 1 for a in alt.split(",")) else "indel"
        by_type[kind] = by_type.get(kind, 0) + 1
        # BCSQ: one entry per transcript; "@POS" entries point at the record
        # that carries a joint (compound) consequence.
        own = [e.split("|")[0] for e in bcsq.split(",") if e not in (".", "") and e[0] != "@"]
        if bcsq in (".", ""):
            consequence = "intergenic"
        else:
            consequence = own[0] if own else "compound (see the linked record)"
        by_consequence[consequence] = by_consequence.get(consequence, 0) + 1
    return by_type, by_consequence


def cause_text(error):
    cause = error.get("Cause", "") if isinstance(error, dict) else str(error)
    try:  # a failed job's cause is its DescribeJobs entry
        job = json.loads(cause)
        return f"job {job.get('JobName')} {job.get('Status')}: {job.get('StatusReason', '')}"
    except (ValueError, AttributeError):
        return cause[:300]


def main():
    outdir, summary = sys.argv[1], json.loads(sys.argv[2])
    samples = []
    for s in summary:
        entry = {"id": s["id"], "status": s["status"]}
        if s["status"] == "SUCCEEDED":
            sn = stats_numbers(s["stats"])
            by_type, by_consequence = variant_counts(s["vcf"])
            entry.update({"readsMapped": int(sn.get("reads mapped", 0)),
                          "readsTotal": int(sn.get("raw total sequences", 0)),
                          "meanDepth": round(sn.get("bases mapped (cigar)", 0) /
                                             max(1.0, reference_length(s["bam"])), 2),
                          "variantsByType": by_type, "variantsByConsequence": by_consequence,
                          "vcf": s["vcf"]})
        else:
            error = s.get("error", {})
            entry.update({"error": error.get("Error", "") if isinstance(error, dict) else "",
                          "reason": cause_text(error)})
        samples.append(entry)
    report = {"samples": samples,
              "succeeded": sum(1 for s in samples if s["status"] == "SUCCEEDED"),
              "failed": sum(1 for s in samples if s["status"] != "SUCCEEDED")}
    write_atomically(os.path.join(outdir, "report.json"), json.dumps(report, indent=2) + "\n")
    write_atomically(os.path.join(outdir, "report.html"), render_html(report))


def reference_length(bam):
    header = subprocess.run(["samtools", "view", "-H", bam], capture_output=True, text=True,
                            check=True).stdout
    return sum(int(f[3:]) for line in header.splitlines() if line.startswith("@SQ")
               for f in line.split("\t") if f.startswith("LN:"))


def write_atomically(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def render_html(report):
    rows = []
    for s in report["samples"]:
        if s["status"] == "SUCCEEDED":
            variants = ", ".join(f"{k} {v}" for k, v in sorted(s["variantsByType"].items()))
            rows.append(f"<tr><td>{html.escape(s['id'])}</td><td>SUCCEEDED</td>"
                        f"<td>{s['readsMapped']} / {s['readsTotal']}</td><td>{s['meanDepth']}</td>"
                        f"<td>{html.escape(variants)}</td></tr>")
        else:
            rows.append(f"<tr class=failed><td>{html.escape(s['id'])}</td><td>FAILED</td>"
                        f"<td colspan=3>{html.escape(s['error'])}: {html.escape(s['reason'])}"
                        "</td></tr>")
    ok = [s for s in report["samples"] if s["status"] == "SUCCEEDED"]
    top = max([s["meanDepth"] for s in ok] + [1])
    bars = "".join(
        f"<rect x='{120}' y='{10 + 24 * i}' width='{300 * s['meanDepth'] / top:.0f}' height='18' "
        f"fill='#4a7'/><text x='5' y='{24 + 24 * i}'>{html.escape(s['id'])}</text>"
        f"<text x='{125 + 300 * s['meanDepth'] / top:.0f}' y='{24 + 24 * i}'>{s['meanDepth']}x</text>"
        for i, s in enumerate(ok))
    return ("<!doctype html><meta charset=utf-8><title>helix genomics report</title>"
            "<style>body{font-family:sans-serif}td,th{padding:2px 8px}"
            "tr.failed{color:#a00}</style>"
            f"<h1>Genomics secondary analysis</h1><p>{report['succeeded']} succeeded, "
            f"{report['failed']} failed</p><table><tr><th>sample</th><th>status</th>"
            "<th>reads mapped</th><th>mean depth</th><th>variants</th></tr>" + "".join(rows) +
            f"</table><h2>Mean depth</h2><svg width='500' height='{20 + 24 * len(ok)}'>{bars}</svg>\n")


if __name__ == "__main__":
    main()
