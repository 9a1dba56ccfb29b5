#!/usr/bin/env python3
"""The run report of pipelines/genomics-secondary.asl.json (issue #6).

usage: report.py OUTDIR SUMMARY_JSON
SUMMARY_JSON is the per-sample Map's result: [{"id", "status", ...}], where a
succeeded sample names its bam, vcf (annotated), stats, flagstat and summary
files (the summary is helix-genomics summary's JSON: reads, mean depth,
variants by type and by consequence) and a failed one carries the error the
pipeline caught. Writes OUTDIR/report.json and OUTDIR/report.html
(self-contained: tables and an inline SVG chart)."""

import html
import json
import os
import sys


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
            with open(s["summary"]) as f:
                sm = json.load(f)
            entry.update({"readsMapped": sm["reads_mapped"],
                          "readsTotal": sm["reads_mapped"] + sm["reads_unmapped"],
                          "meanDepth": round(sm["mean_depth"], 2),
                          "variantsByType": {k: v for k, v in sm["by_type"].items() if v},
                          "variantsByConsequence": sm["by_consequence"]["bcftools_csq"],
                          "snpEffConsequences": sm["by_consequence"]["snpeff"],
                          "vcf": s["vcf"], "summary": s["summary"]})
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


def write_atomically(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def render_html(report):
    rows = []
    for s in report["samples"]:
        if s["status"] == "SUCCEEDED":
            variants = ", ".join(f"{k} {v}" for k, v in sorted(s["variantsByType"].items()))
            csq = ", ".join(f"{k} {v}" for k, v in sorted(s["variantsByConsequence"].items()))
            snpeff = ", ".join(f"{k} {v}" for k, v in sorted(s["snpEffConsequences"].items()))
            rows.append(f"<tr><td>{html.escape(s['id'])}</td><td>SUCCEEDED</td>"
                        f"<td>{s['readsMapped']} / {s['readsTotal']}</td><td>{s['meanDepth']}</td>"
                        f"<td>{html.escape(variants)}</td><td>{html.escape(csq)}</td>"
                        f"<td>{html.escape(snpeff)}</td></tr>")
        else:
            rows.append(f"<tr class=failed><td>{html.escape(s['id'])}</td><td>FAILED</td>"
                        f"<td colspan=5>{html.escape(s['error'])}: {html.escape(s['reason'])}"
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
            "<th>reads mapped</th><th>mean depth</th><th>variants</th>"
            "<th>consequences (bcftools csq)</th><th>effects (snpEff)</th></tr>" + "".join(rows) +
            f"</table><h2>Mean depth</h2><svg width='500' height='{20 + 24 * len(ok)}'>{bars}</svg>\n")


if __name__ == "__main__":
    main()
