"""The DICOM pipeline from PACS to PACS: pipelines/dicom-deidentify.asl.json
run by helixd with a source Orthanc holding the generated set and a second,
research Orthanc as the destination (both real, on loopback, started and
stopped by this test). The pipeline queries the source for one patient
(C-FIND), retrieves each series (C-GET and, in a second run, C-MOVE),
de-identifies, verifies and stores (C-STORE). The research PACS must then
hold exactly that patient's de-identified instances, with nothing
identifying in any of them, checked through Orthanc's REST API."""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import pydicom

from helixd import BIN, Helixd

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
sys.path.insert(0, os.path.join(REPO, "tests/dicom"))
from orthanc_server import ORTHANC, Orthanc, free_port, stop_all  # noqa: E402

OPTIONS = ["retain_long_modified_dates", "clean_pixel_data"]
PATIENT = "PID0001"


@unittest.skipUnless(os.path.exists(ORTHANC), "needs Debian's orthanc (/usr/sbin/Orthanc)")
class DicomPacsPipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="helix-dicom-pacs-")
        os.chmod(cls.dir, 0o755)
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.src = os.path.join(cls.dir, "src")
        subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts/dicom/make_testset.py"),
                        cls.src, "--patients", "2", "--studies", "2", "--series", "2",
                        "--instances", "2"], check=True, capture_output=True)
        with open(os.path.join(cls.src, "manifest.json")) as f:
            cls.manifest = json.load(f)["files"]
        move_port = free_port()
        servers = []
        cls.addClassCleanup(stop_all, servers)
        cls.source = Orthanc(os.path.join(cls.dir, "source"), "SOURCE", move_port)
        servers.append(cls.source)
        cls.research = {}
        for name in ("GET", "MOVE"):
            cls.research[name] = Orthanc(os.path.join(cls.dir, "research-" + name),
                                         "RESEARCH" + name, move_port)
            servers.append(cls.research[name])
        for entry in cls.manifest:
            with open(os.path.join(cls.src, entry["file"]), "rb") as f:
                assert cls.source.rest("/instances", f.read())["Status"] == "Success"
        cls.secret = os.path.join(cls.dir, "secret")
        with open(cls.secret, "w") as f:
            f.write("pacs-pipeline-secret-0123456789\n")

        cls.d = Helixd()
        cls.addClassCleanup(cls.d.close)
        env = dict(os.environ, HELIX_ENDPOINT=f"unix://{cls.d.socket}")
        subprocess.run([os.path.join(BIN, "helix"), "apply", os.path.join(REPO, "jobdefs/dicom")],
                       env=env, check=True, capture_output=True)
        cls.results = {}
        for name, move in (("GET", ""), ("MOVE", move_port)):
            source = {"port": cls.source.dicom_port, "aec": "SOURCE", "patient_id": PATIENT}
            if move:
                source["move_port"] = move
            pipeline_input = {
                "source": {"pacs": source},
                "destination": {"pacs": {"port": cls.research[name].dicom_port,
                                         "aec": "RESEARCH" + name}},
                "options": OPTIONS, "secret_file": cls.secret,
                "pixel_rules": os.path.join(cls.src, "pixel-rules.json"),
                "work": os.path.join(cls.dir, "work-" + name),
                "helix_deid": os.path.join(BIN, "helix-deid")}
            cls.results[name] = subprocess.run(
                [os.path.join(BIN, "helix"), "run",
                 os.path.join(REPO, "pipelines/dicom-deidentify.asl.json"), "--input",
                 json.dumps(pipeline_input), "--follow"],
                env=env, capture_output=True, text=True, timeout=600)

    def expected_sops(self, work):
        """The new SOP UIDs of the patient's instances that are not to be
        quarantined, through the run's own UID tables."""
        new_uid = {}
        for table in glob.glob(os.path.join(work, "maps/*.uids.tsv")):
            with open(table) as f:
                new_uid.update(line.rstrip("\n").split("\t") for line in f)
        wanted = [e for e in self.manifest
                  if e["patient_id"] == PATIENT and not e["expect_quarantine"]]
        self.assertTrue(wanted)
        return {new_uid[e["sop_uid"]] for e in wanted}

    def check_research_pacs(self, name):
        result = self.results[name]
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        research = self.research[name]
        held = research.sop_uids()
        self.assertEqual(held, self.expected_sops(os.path.join(self.dir, "work-" + name)))
        studies = {e["study_uid"] for e in self.manifest if e["patient_id"] == PATIENT}
        self.assertEqual(research.rest("/statistics")["CountStudies"], len(studies))
        needles = {v.lower() for e in self.manifest for v in e["identifying"] if len(v) >= 5}
        for instance in research.rest("/instances"):
            raw = research.rest(f"/instances/{instance}/file", raw=True)
            lowered = raw.lower()
            for needle in needles:
                self.assertNotIn(needle.encode(), lowered, f"{needle!r} in the research PACS")
            path = os.path.join(self.dir, f"{name}-{instance}.dcm")
            with open(path, "wb") as f:
                f.write(raw)
            ds = pydicom.dcmread(path)
            self.assertEqual(ds.PatientIdentityRemoved, "YES")
            self.assertNotEqual(ds.PatientID, PATIENT)

    def test_c_get_run_delivers_exactly_the_patients_deidentified_instances(self):
        self.check_research_pacs("GET")

    def test_c_move_run_delivers_the_same(self):
        self.check_research_pacs("MOVE")
        # Same secret, same input: both research PACS hold the same UIDs.
        self.assertEqual(self.research["MOVE"].sop_uids(), self.research["GET"].sop_uids())

    def test_only_the_queried_patient_was_retrieved(self):
        with open(os.path.join(self.dir, "work-GET", "summary.json")) as f:
            summary = json.load(f)
        mine = [e for e in self.manifest if e["patient_id"] == PATIENT]
        self.assertEqual(summary["files"], len(mine))
        self.assertEqual(summary["series"], len({e["series_uid"] for e in mine}))
        self.assertEqual(summary["series_rejected"], [])


if __name__ == "__main__":
    unittest.main()
