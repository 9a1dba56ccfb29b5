"""The DICOM de-identification pipeline (pipelines/dicom-deidentify.asl.json)
run for real by helixd on the generated multi-patient set: folder source,
folder destination, Modified Dates and Clean Pixel Data with the set's
pixel rules. Checked with pydicom and dcmtk, independently of helix-deid:
nothing identifying in any delivered byte or decoded value; UIDs consistent
and references resolving; one date offset per patient; burned-in regions
zero and every other pixel unchanged; bad files quarantined with reasons;
a series whose store fails is rejected alone; no identifying value in the
execution history."""

import datetime
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy
import pydicom

from helixd import BIN, Helixd, UnixHTTPConnection

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
OPTIONS = ["retain_long_modified_dates", "clean_pixel_data"]
DECOMPRESS = {"1.2.840.10008.1.2.5": "dcmdrle", "1.2.840.10008.1.2.4.70": "dcmdjpeg",
              "1.2.840.10008.1.2.4.80": "dcmdjpls"}


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def decoded_text(ds):
    """Every value of a data set (sequences included, Pixel Data not), lowered."""
    parts = []
    for element in ds.iterall():
        if element.tag == 0x7FE00010 or element.VR == "SQ":
            continue
        value = element.value
        parts.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    return "\n".join(parts).lower()


@unittest.skipUnless(shutil.which("dcmftest") and shutil.which("dcmdrle"), "needs dcmtk")
class DicomPipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="helix-dicom-")
        os.chmod(cls.dir, 0o755)
        gen = os.path.join(cls.dir, "gen")
        sh("/usr/bin/python3", os.path.join(REPO, "scripts/dicom/make_testset.py"), gen,
           "--patients", "3", "--studies", "2", "--series", "2", "--instances", "2")
        with open(os.path.join(gen, "manifest.json")) as f:
            cls.manifest = {m["file"]: m for m in json.load(f)["files"]}
        cls.src = os.path.join(cls.dir, "src")
        os.makedirs(os.path.join(cls.src, "extra"))
        for name in cls.manifest:
            shutil.copy(os.path.join(gen, name), cls.src)
        # A file cut inside its pixels (header readable: it joins its series
        # and is quarantined there) and a file that is not DICOM at all.
        first = sorted(cls.manifest)[0]
        with open(os.path.join(gen, first), "rb") as f:
            whole = f.read()
        with open(os.path.join(cls.src, "extra", "truncated.dcm"), "wb") as f:
            f.write(whole[: len(whole) - 100])
        with open(os.path.join(cls.src, "extra", "notes.txt"), "w") as f:
            f.write("not DICOM\n")
        cls.secret = os.path.join(cls.dir, "secret")
        with open(cls.secret, "w") as f:
            f.write("pipeline-test-secret-0123456789\n")
        cls.rules = os.path.join(gen, "pixel-rules.json")
        # The study's own subject code for one patient; the others get the
        # secret's pseudonym.
        cls.pseudonyms = os.path.join(cls.dir, "pseudonyms.csv")
        with open(cls.pseudonyms, "w") as f:
            f.write("PID0001,TRIAL-SUBJ-001\n")
        cls.dest = os.path.join(cls.dir, "dest")
        cls.work = os.path.join(cls.dir, "work")

        # Block one series' delivery: a plain file where its folder must go.
        # helix-deid is deterministic, so a run on one file names the folder.
        probe = os.path.join(cls.dir, "probe")
        cls.blocked_file = sorted(n for n, m in cls.manifest.items()
                                  if m["modality"] == "MR")[0]
        with open(os.path.join(cls.dir, "probe.list"), "w") as f:
            f.write(os.path.join(cls.src, cls.blocked_file) + "\n")
        sh(os.path.join(BIN, "helix-deid"), "run", "--secret-file", cls.secret, "--options",
           json.dumps(OPTIONS), "--list", os.path.join(cls.dir, "probe.list"), "--out",
           probe + "/out", "--quarantine", probe + "/q", "--audit", probe + "/a.jsonl",
           "--maps", probe + "/maps", "--name", "probe")
        series_dir = os.path.dirname(glob.glob(os.path.join(probe, "out/*/*/*.dcm"))[0])
        blocked = os.path.join(cls.dest, os.path.relpath(series_dir, probe + "/out"))
        os.makedirs(os.path.dirname(blocked))
        with open(blocked, "w") as f:
            f.write("in the way\n")
        cls.blocked_series = cls.manifest[cls.blocked_file]["series_uid"]

        cls.d = Helixd()
        cls.env = dict(os.environ, HELIX_ENDPOINT=f"unix://{cls.d.socket}")
        subprocess.run([os.path.join(BIN, "helix"), "apply", os.path.join(REPO, "jobdefs/dicom")],
                       env=cls.env, check=True, capture_output=True)
        cls.input = {"source": {"folder": cls.src}, "destination": {"folder": cls.dest},
                     "options": OPTIONS, "secret_file": cls.secret, "pixel_rules": cls.rules,
                     "work": cls.work, "helix_deid": os.path.join(BIN, "helix-deid"),
                     "tiff": os.path.join(cls.dir, "tiff"), "pseudonyms": cls.pseudonyms}
        cls.result = subprocess.run(
            [os.path.join(BIN, "helix"), "run",
             os.path.join(REPO, "pipelines/dicom-deidentify.asl.json"), "--input",
             json.dumps(cls.input), "--follow"],
            env=cls.env, capture_output=True, text=True, timeout=600)
        cls.outputs = sorted(glob.glob(os.path.join(cls.dest, "*/*/*.dcm")))
        cls.out_ds = {p: pydicom.dcmread(p) for p in cls.outputs}
        # Original SOP UID -> delivered file, through the run's UID tables.
        cls.new_uid = {}
        for table in glob.glob(os.path.join(cls.work, "maps/*.uids.tsv")):
            with open(table) as f:
                for line in f:
                    old, new = line.rstrip("\n").split("\t")
                    cls.new_uid[old] = new
        by_sop = {ds.SOPInstanceUID: p for p, ds in cls.out_ds.items()}
        cls.delivered = {name: by_sop.get(cls.new_uid.get(m["sop_uid"]))
                         for name, m in cls.manifest.items()}

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_execution_succeeds_and_only_the_blocked_series_is_rejected(self):
        self.assertEqual(self.result.returncode, 0, self.result.stdout + self.result.stderr)
        with open(os.path.join(self.work, "summary.json")) as f:
            summary = json.load(f)
        series = {m["series_uid"] for m in self.manifest.values()}
        self.assertEqual(summary["series"], len(series) + 1)  # + the unreadable group
        self.assertEqual(len(summary["series_rejected"]), 1)
        blocked = [n for n, m in self.manifest.items() if m["series_uid"] == self.blocked_series]
        quarantined = [n for n, m in self.manifest.items() if m["expect_quarantine"]]
        self.assertEqual(len(quarantined), 1)
        self.assertEqual(summary["files"], len(self.manifest) + 2)
        self.assertEqual(summary["quarantined"], 3)  # the unknown vendor, truncated, notes.txt
        reasons = " ".join(summary["quarantine_reasons"])
        self.assertIn("no pixel rule matches", reasons)
        self.assertIn("premature end of stream", reasons)
        self.assertIn("cannot read as DICOM", reasons)
        expected = set(self.manifest) - set(blocked) - set(quarantined)
        self.assertEqual(summary["delivered"], len(expected))
        self.assertEqual({n for n, p in self.delivered.items() if p}, expected)
        self.assertEqual(len(self.outputs), len(expected))
        with open(os.path.join(self.work, "rejected", f"{summary['series_rejected'][0]}.json")) as f:
            self.assertIn("Error", json.load(f))

    def test_no_identifying_value_in_any_delivered_byte_or_decoded_value(self):
        needles = set()
        for m in self.manifest.values():
            needles.update(v.lower() for v in m["identifying"] if len(v) >= 5)
        with open(os.path.join(self.dir, "gen", "manifest.json")) as f:
            patients = json.load(f)["patients"]
        for patient in patients.values():
            needles.update(part.lower() for part in patient["name"].split("^") if len(part) >= 4)
        self.assertGreater(len(needles), 50)
        for path, ds in self.out_ds.items():
            with open(path, "rb") as f:
                raw = f.read().lower()
            text = decoded_text(ds)
            for needle in needles:
                self.assertNotIn(needle.encode(), raw, f"{needle!r} in {path}")
                self.assertNotIn(needle, text, f"{needle!r} decoded from {path}")
            self.assertEqual(ds.PatientIdentityRemoved, "YES")
            self.assertFalse([e for e in ds.iterall() if e.tag.is_private], "private left")
        sh("dcmftest", *self.outputs)
        # dcmdump reads each to its end (+E: errors are fatal) and says nothing on stderr.
        dump = subprocess.run(["dcmdump", "+E", *self.outputs], capture_output=True, text=True)
        self.assertEqual((dump.returncode, dump.stderr), (0, ""))

    def test_uids_consistent_and_references_resolve(self):
        sops = {ds.SOPInstanceUID for ds in self.out_ds.values()}
        frames = {}
        for name, path in self.delivered.items():
            if not path:
                continue
            ds, m = self.out_ds[path], self.manifest[name]
            self.assertEqual(ds.StudyInstanceUID, self.new_uid[m["study_uid"]])
            self.assertEqual(ds.SeriesInstanceUID, self.new_uid[m["series_uid"]])
            frames.setdefault(m["study_uid"], set()).add(ds.FrameOfReferenceUID)
            for ref in ds.get("ReferencedImageSequence", []):
                self.assertIn(ref.ReferencedSOPInstanceUID, sops | {
                    self.new_uid.get(o["sop_uid"]) for o in self.manifest.values()})
        for study, uids in frames.items():
            self.assertEqual(len(uids), 1, f"study {study} has several frames of reference")

    def test_a_listed_patient_gets_the_listed_pseudonym(self):
        ids = {}
        for name, path in self.delivered.items():
            if path:
                ids.setdefault(self.manifest[name]["patient_id"], set()).add(
                    str(self.out_ds[path].PatientID))
        self.assertEqual(ids["PID0001"], {"TRIAL-SUBJ-001"})
        others = set().union(*(v for k, v in ids.items() if k != "PID0001"))
        self.assertEqual(len(others), len(ids) - 1)  # one pseudonym each
        self.assertTrue(all(o.startswith("ANON") for o in others))

    def test_one_date_offset_per_patient(self):
        offsets = {}
        for name, path in self.delivered.items():
            if not path:
                continue
            original = pydicom.dcmread(os.path.join(self.src, name))
            ds = self.out_ds[path]
            for keyword in ("StudyDate", "SeriesDate", "ContentDate"):
                d0 = datetime.datetime.strptime(original.get(keyword), "%Y%m%d")
                d1 = datetime.datetime.strptime(ds.get(keyword), "%Y%m%d")
                offsets.setdefault(original.PatientID, set()).add((d0 - d1).days)
        self.assertEqual(len(offsets), 3)
        for patient, shifts in offsets.items():
            self.assertEqual(len(shifts), 1, f"{patient}: {shifts}")
            self.assertGreater(next(iter(shifts)), 0)

    def pixels(self, path):
        """Decoded pixels; compressed files through dcmtk's decoders (Debian's
        pydicom has no JPEG decoder)."""
        tool = DECOMPRESS.get(str(pydicom.dcmread(path, stop_before_pixels=True)
                                  .file_meta.TransferSyntaxUID))
        if tool:
            plain = os.path.join(self.dir, "plain-" + os.path.basename(path))
            sh(tool, path, plain)
            path = plain
        return pydicom.dcmread(path).pixel_array

    def test_burned_in_regions_are_zero_and_every_other_pixel_unchanged(self):
        with open(self.rules) as f:
            rules = json.load(f)["rules"]
        checked = 0
        for name, path in self.delivered.items():
            if not path:
                continue
            m = self.manifest[name]
            before = self.pixels(os.path.join(self.src, name))
            after = self.pixels(path)
            self.assertEqual(before.shape, after.shape)
            mask = numpy.zeros(before.shape[-3 if m["samples_per_pixel"] > 1 else -2:][:2],
                               dtype=bool)
            if m["burned_in"]:
                ds = self.out_ds[path]
                rule = [r for r in rules if r["match"].get("ManufacturerModelName", "").rstrip("*")
                        in ds.ManufacturerModelName][0]
                for region in rule["regions"]:
                    mask[region["y"]:region["y"] + region["height"],
                         region["x"]:region["x"] + region["width"]] = True
                self.assertEqual(ds.BurnedInAnnotation, "NO")
                checked += 1
            frames_before = before if before.ndim > (2 if m["samples_per_pixel"] == 1 else 3) else before[None]
            frames_after = after if after.ndim == frames_before.ndim else after[None]
            for b, a in zip(frames_before, frames_after):
                self.assertTrue((a[mask] == 0).all(), f"{name}: text left in the region")
                self.assertTrue((a[~mask] == b[~mask]).all(), f"{name}: pixels changed outside")
        self.assertGreaterEqual(checked, 3)

    def test_tiff_copies_of_every_delivered_instance(self):
        tiffs = sorted(os.path.relpath(p, os.path.join(self.dir, "tiff"))[:-4]
                       for p in glob.glob(os.path.join(self.dir, "tiff/*/*/*.tif")))
        # Delivered with their series: none of the rejected series.
        self.assertEqual(tiffs, sorted(os.path.relpath(p, self.dest)[:-4] for p in self.outputs))

    def test_history_holds_no_identifying_value(self):
        conn = UnixHTTPConnection(self.d.socket)

        def call(operation, body):
            conn.request("POST", "/", body=json.dumps(body),
                         headers={"X-Amz-Target": "AWSStepFunctions." + operation,
                                  "Content-Type": "application/x-amz-json-1.0"})
            return json.loads(conn.getresponse().read())

        machines = call("ListStateMachines", {})["stateMachines"]
        arn = [m for m in machines if m["name"] == "dicom-deidentify"][0]["stateMachineArn"]
        execution = call("ListExecutions", {"stateMachineArn": arn})["executions"][0]
        history = json.dumps(call("GetExecutionHistory", {
            "executionArn": execution["executionArn"], "maxResults": 1000})).lower()
        conn.close()
        for m in self.manifest.values():
            for value in m["identifying"]:
                if len(value) >= 5:
                    self.assertNotIn(value.lower(), history)
            self.assertNotIn(m["file"], history)


if __name__ == "__main__":
    unittest.main()
