"""The genomics secondary-analysis pipeline (pipelines/genomics-secondary.asl.json)
for real on the tiny generated data: bwa, samtools and bcftools run as helix
jobs under a Step Functions execution started with `helix run --follow`.
Checks the calls against the planted truth, the scattered calls against an
unscattered run on the same BAM, the report, and that a sample with a
truncated FASTQ fails alone with a reason while the others finish."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from helixd import BIN, Helixd

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
TOOLS = ("bwa", "samtools", "bcftools")


def sh(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs).stdout


def variant_keys(vcf, ref):
    """CHROM:POS:REF:ALT of every record after left-aligning and splitting."""
    normalised = sh("bcftools", "norm", "-f", ref, "-m", "-any", vcf)
    keys = set()
    for line in normalised.splitlines():
        if not line.startswith("#"):
            chrom, pos, _, ref_allele, alt = line.split("\t")[:5]
            keys.add(f"{chrom}:{pos}:{ref_allele}:{alt}")
    return keys


@unittest.skipUnless(all(shutil.which(t) for t in TOOLS), "needs bwa, samtools and bcftools")
class GenomicsPipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="helix-genomics-")
        os.chmod(cls.dir, 0o755)
        cls.data = os.path.join(cls.dir, "data")
        sh("python3", os.path.join(REPO, "scripts/genomics/make_data.py"), "--size", "tiny",
           "--out", cls.data)
        # A third sample whose R1 is cut short: gzip cannot read it to the end.
        with open(os.path.join(cls.data, "S1_R1.fq.gz"), "rb") as f:
            whole = f.read()
        with open(os.path.join(cls.data, "BAD_R1.fq.gz"), "wb") as f:
            f.write(whole[: len(whole) // 2])
        shutil.copy(os.path.join(cls.data, "S1_R2.fq.gz"), os.path.join(cls.data, "BAD_R2.fq.gz"))
        cls.out = os.path.join(cls.dir, "out")
        os.makedirs(cls.out)
        cls.d = Helixd()
        cls.env = dict(os.environ, HELIX_ENDPOINT=f"unix://{cls.d.socket}")
        subprocess.run([os.path.join(BIN, "helix"), "apply", os.path.join(REPO, "jobdefs/genomics")],
                       env=cls.env, check=True, capture_output=True)
        samples = [{"id": s, "fastq1": os.path.join(cls.data, f"{s}_R1.fq.gz"),
                    "fastq2": os.path.join(cls.data, f"{s}_R2.fq.gz")}
                   for s in ("S1", "S2", "BAD", "S2")]  # S2 listed twice by mistake
        cls.input = os.path.join(cls.dir, "input.json")
        with open(cls.input, "w") as f:
            json.dump({"reference": os.path.join(cls.data, "ref.fa"),
                       "annotation": os.path.join(cls.data, "genes.gff3"),
                       "samples": samples, "outdir": cls.out, "regions": 4, "queue": "default",
                       "report_script": os.path.join(REPO, "scripts/genomics/report.py"),
                       "helix_genomics": os.path.join(BIN, "helix-genomics")}, f)
        # While the pipeline runs, kill S1's alignment job with SIGKILL once
        # (as an admin or a dying node would): the job exits 137 and its
        # retry strategy runs it again; the execution must still succeed.
        cls.killed = []
        stop = threading.Event()

        def kill_one_bwa():
            while not stop.is_set() and not cls.killed:
                found = subprocess.run(["pgrep", "-f", "^bwa mem .*S1_R1"], capture_output=True,
                                       text=True).stdout.split()
                for pid in found:
                    # The job's whole process group (bash, bwa, samtools
                    # sort), so no half of the pipe outlives the attempt.
                    try:
                        group = os.getpgid(int(pid))
                        if group in (os.getpgid(0), os.getpgid(cls.d.proc.pid)):
                            continue
                        os.killpg(group, signal.SIGKILL)
                        cls.killed.append(int(pid))
                        break
                    except ProcessLookupError:
                        pass
                time.sleep(0.01)

        killer = threading.Thread(target=kill_one_bwa)
        killer.start()
        try:
            cls.result = subprocess.run(
                [os.path.join(BIN, "helix"), "run",
                 os.path.join(REPO, "pipelines/genomics-secondary.asl.json"),
                 "--input", "@" + cls.input, "--follow"],
                env=cls.env, capture_output=True, text=True, timeout=600)
        finally:
            stop.set()
            killer.join()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_execution_succeeds_with_every_sample_reported(self):
        self.assertEqual(self.result.returncode, 0, self.result.stdout + self.result.stderr)
        self.assertIn("PerSample: 4 of 4 items done", self.result.stdout)
        with open(os.path.join(self.out, "report.json")) as f:
            report = json.load(f)
        status = sorted((s["id"], s["status"]) for s in report["samples"])
        # The second S2 is refused (whichever item claims the id first runs).
        self.assertEqual(status, [("BAD", "FAILED"), ("S1", "SUCCEEDED"), ("S2", "FAILED"),
                                  ("S2", "SUCCEEDED")])
        twice = [s for s in report["samples"] if s["id"] == "S2" and s["status"] == "FAILED"][0]
        self.assertIn("prepare-S2", twice["reason"])
        # (With a filter, ListJobs ignores jobStatus, as AWS does.)
        jobs = self.d.batch("ListJobs", {"jobQueue": "default", "filters": [
            {"name": "JOB_NAME", "values": ["prepare-S2"]}]})["jobSummaryList"]
        failed = [j for j in jobs if j["status"] == "FAILED"]
        self.assertEqual(len(failed), 1, jobs)
        self.assertIn("sample S2 is listed twice in this run", self.d.log(failed[0]["jobId"]))
        good = [s for s in report["samples"] if s["status"] == "SUCCEEDED"]
        for s in good:
            # From helix-genomics summary (BAM index, VCF): tiny data is ~30x,
            # every read maps; both annotators' consequences are counted.
            self.assertEqual(s["readsMapped"], s["readsTotal"])
            self.assertGreater(s["meanDepth"], 25)
            self.assertLess(s["meanDepth"], 35)
            self.assertGreater(s["variantsByType"]["SNV"], 0)
            self.assertGreater(s["variantsByConsequence"].get("missense", 0), 0)
            self.assertGreater(s["snpEffConsequences"].get("missense_variant", 0), 0)
        with open(os.path.join(self.out, "report.html")) as f:
            page = f.read()
        for sample in ("S1", "S2", "BAD"):
            self.assertIn(f"<td>{sample}</td>", page)

    def test_a_killed_job_is_retried_and_the_pipeline_succeeds(self):
        self.assertEqual(len(self.killed), 1, "no bwa of S1 was seen running to kill")
        self.assertEqual(self.result.returncode, 0, self.result.stdout + self.result.stderr)
        jobs = self.d.batch("ListJobs", {"jobQueue": "default", "jobStatus": "SUCCEEDED",
                                         "filters": [{"name": "JOB_NAME",
                                                      "values": ["align-S1"]}]})["jobSummaryList"]
        self.assertEqual(len(jobs), 1, jobs)
        attempts = self.d.describe(jobs[0]["jobId"])["attempts"]
        self.assertEqual(len(attempts), 2, attempts)
        self.assertEqual(attempts[0]["container"]["exitCode"], 137)
        self.assertEqual(attempts[1]["container"]["exitCode"], 0)
        # The retried alignment is whole: the calls check below uses it.
        self.assertTrue(os.path.exists(os.path.join(self.out, "S1", "S1.bam")))

    def test_the_truncated_sample_fails_alone_with_a_reason(self):
        with open(os.path.join(self.out, "report.json")) as f:
            bad = [s for s in json.load(f)["samples"] if s["id"] == "BAD"][0]
        self.assertEqual(bad["error"], "States.TaskFailed")
        self.assertIn("prepare-BAD", bad["reason"])
        self.assertFalse(os.path.exists(os.path.join(self.out, "BAD", "BAD.bam")))

    def test_calls_match_the_truth(self):
        ref = os.path.join(self.data, "ref.fa")
        truth = variant_keys(os.path.join(self.data, "truth.vcf"), ref)
        for sample in ("S1", "S2"):
            vcf = os.path.join(self.out, sample, f"{sample}.annotated.vcf.gz")
            # htslib reads every record; the index is there.
            records = sh("bcftools", "view", "-H", vcf).count("\n")
            self.assertGreater(records, 0)
            self.assertTrue(os.path.exists(vcf + ".csi"))
            called = variant_keys(vcf, ref)
            recall = len(truth & called) / len(truth)
            precision = len(truth & called) / len(called)
            self.assertGreaterEqual(recall, 0.99, sample)
            self.assertGreaterEqual(precision, 0.99, sample)
            # Both annotators: bcftools csq's BCSQ, then snpEff's ANN on every
            # record, from the database the pipeline built offline.
            self.assertIn("BCSQ", sh("bcftools", "view", "-h", vcf))
            annotated = sh("bcftools", "query", "-f", "%INFO/ANN\n", vcf).splitlines()
            self.assertEqual(len(annotated), records)
            self.assertTrue(all(a.startswith(tuple("ACGT")) for a in annotated), annotated[:3])
            self.assertTrue(any("|missense_variant|" in a for a in annotated))

    def test_scattered_calls_equal_unscattered_calls(self):
        ref = os.path.join(self.data, "ref.fa")
        bam = os.path.join(self.out, "S1", "S1.bam")
        whole = os.path.join(self.dir, "S1.whole.vcf.gz")
        pileup = subprocess.Popen(["bcftools", "mpileup", "-Ou", "-f", ref, bam],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        subprocess.run(["bcftools", "call", "-mv", "-Oz", "-o", whole], stdin=pileup.stdout,
                       check=True, stderr=subprocess.DEVNULL)
        pileup.wait()
        pileup.stdout.close()
        scattered = os.path.join(self.out, "S1", "S1.calls.vcf.gz")
        self.assertEqual(variant_keys(scattered, ref), variant_keys(whole, ref))
        with open(os.path.join(self.out, "S1", "regions.json")) as f:
            regions = json.load(f)
        self.assertGreaterEqual(len(regions), 4)


if __name__ == "__main__":
    unittest.main()
