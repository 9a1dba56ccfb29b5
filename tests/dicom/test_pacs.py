"""helix-deid's PACS subcommands against real PACS: two Debian Orthanc
servers on loopback, one the source PACS (holding the generated set,
uploaded through its REST API), one the research PACS. Checked through
Orthanc's REST API and pydicom, independently of DCMTK's networking:
pacs-find finds exactly the series each query should (patient, modality,
accession, study date range), pacs-get retrieves exactly a series'
instances by C-GET and by C-MOVE, as the PACS holds them, into a list that
`helix-deid run` takes, pacs-store delivers every file, and network
failures exit 4 naming where they happened."""

import glob
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import pydicom

from orthanc_server import ORTHANC, Orthanc, free_port, stop_all

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BIN = os.path.join(os.environ.get("HELIX_BUILD_DIR", os.path.join(REPO, "build")), "bin")
SECRET = "test-site-secret-0123456789"
ILE, ELE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"


@unittest.skipUnless(os.path.exists(ORTHANC), "needs Debian's orthanc (/usr/sbin/Orthanc)")
@unittest.skipUnless(shutil.which("dcmcjpls"), "the generator needs dcmtk's tools")
class PacsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="helix-pacs-")
        cls.addClassCleanup(shutil.rmtree, cls.dir)
        cls.src = os.path.join(cls.dir, "src")
        subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts/dicom/make_testset.py"),
                        cls.src, "--patients", "2", "--studies", "2", "--series", "2",
                        "--instances", "2"], check=True)
        with open(os.path.join(cls.src, "manifest.json")) as f:
            cls.files = json.load(f)["files"]
        for entry in cls.files:  # the query keys the manifest leaves out
            ds = pydicom.dcmread(os.path.join(cls.src, entry["file"]), stop_before_pixels=True)
            entry["accession"], entry["study_date"] = ds.AccessionNumber, ds.StudyDate
        cls.move_port = free_port()
        servers = []
        cls.addClassCleanup(stop_all, servers)
        cls.source = Orthanc(os.path.join(cls.dir, "source"), "SOURCE", cls.move_port)
        servers.append(cls.source)
        cls.research = Orthanc(os.path.join(cls.dir, "research"), "RESEARCH", cls.move_port)
        servers.append(cls.research)
        # A research PACS that takes nothing compressed, deflated or big endian.
        cls.picky = Orthanc(os.path.join(cls.dir, "picky"), "PICKY", cls.move_port,
                            AcceptedTransferSyntaxes=[ILE, ELE])
        servers.append(cls.picky)
        for entry in cls.files:  # every generated transfer syntax must be taken
            with open(os.path.join(cls.src, entry["file"]), "rb") as f:
                answer = cls.source.rest("/instances", f.read())
            assert answer["Status"] == "Success", (entry["file"], answer)
        assert cls.source.rest("/statistics")["CountInstances"] == len(cls.files)

    def helix(self, *args):
        return subprocess.run([os.path.join(BIN, "helix-deid"), *args],
                              capture_output=True, text=True)

    def peer(self, pacs, aec=None):
        return ["--port", str(pacs.dicom_port), "--aec", aec or pacs.aet]

    def series_of(self, entries):
        return {e["series_uid"] for e in entries}

    def find(self, *query):
        work = tempfile.mkdtemp(dir=self.dir)
        done = self.helix("pacs-find", *self.peer(self.source), "--work", work, *query)
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(os.path.join(work, "series.json")) as f:
            plan = json.load(f)
        self.assertEqual(json.loads(done.stdout), {"series": len(plan)})
        refs = []
        for item in plan:
            with open(os.path.join(work, "series", f"{item['index']}.pacs.json")) as f:
                refs.append(json.load(f))
        return work, plan, refs

    def test_find_every_series(self):
        work, plan, refs = self.find()
        self.assertEqual({r["series_uid"] for r in refs}, self.series_of(self.files))
        self.assertEqual(len(refs), len(self.series_of(self.files)))
        for item, ref in zip(plan, refs):
            entries = [e for e in self.files if e["series_uid"] == ref["series_uid"]]
            self.assertEqual(item["files"], len(entries))
            self.assertEqual(ref["study_uid"], entries[0]["study_uid"])
            self.assertEqual(ref["modality"], entries[0]["modality"])
        with open(os.path.join(work, "series.json")) as f:
            text = f.read()
        for entry in self.files:  # UIDs stay out of what the history records
            self.assertNotIn(entry["study_uid"], text)
            self.assertNotIn(entry["series_uid"], text)

    def test_find_by_patient_modality_accession_and_date_range(self):
        dates = sorted({e["study_date"] for e in self.files})
        accession = self.files[-1]["accession"]
        cases = [
            (["--patient-id", "PID0001"], [e for e in self.files if e["patient_id"] == "PID0001"]),
            (["--modality", "MR"], [e for e in self.files if e["modality"] == "MR"]),
            (["--accession", accession], [e for e in self.files if e["accession"] == accession]),
            (["--study-date", f"{dates[1]}-{dates[2]}"],
             [e for e in self.files if dates[1] <= e["study_date"] <= dates[2]]),
            (["--patient-id", "PID0002", "--modality", "US"],
             [e for e in self.files if e["patient_id"] == "PID0002" and e["modality"] == "US"]),
        ]
        for query, expected in cases:
            with self.subTest(query=query):
                self.assertTrue(0 < len(self.series_of(expected)) < len(self.series_of(self.files)))
                _, _, refs = self.find(*query)
                self.assertEqual({r["series_uid"] for r in refs}, self.series_of(expected))
        _, _, refs = self.find("--patient-id", "NOBODY")
        self.assertEqual(refs, [])

    def assert_retrieved(self, work, index, ref):
        with open(os.path.join(work, "series", f"{index}.list")) as f:
            listed = f.read().split()
        expected = {e["sop_uid"]: e for e in self.files if e["series_uid"] == ref["series_uid"]}
        self.assertEqual(sorted(os.path.basename(p)[:-4] for p in listed), sorted(expected))
        for path in listed:
            self.assertTrue(path.startswith(os.path.join(work, "retrieved", str(index)) + "/"))
            entry = expected[os.path.basename(path)[:-4]]
            got = pydicom.dcmread(path)
            original = pydicom.dcmread(os.path.join(self.src, entry["file"]))
            # As the PACS holds it: same transfer syntax, same pixel bytes,
            # same public elements. (Orthanc re-encodes sequences with
            # explicit lengths, so a private sequence in implicit VR can
            # come back as UN: private elements are not compared.)
            self.assertEqual(got.file_meta.TransferSyntaxUID, entry["transfer_syntax"])
            self.assertEqual(got.PixelData, original.PixelData)
            public = lambda ds: [e for e in ds if not e.tag.is_private]
            self.assertEqual(public(got), public(original), path)
        self.assertEqual(glob.glob(os.path.join(work, "retrieved", str(index), "*.tmp")), [])
        return listed

    def retrieve_all(self, *how):
        work, _, refs = self.find()
        for index, ref in enumerate(refs):
            done = self.helix("pacs-get", *self.peer(self.source), "--work", work,
                              "--index", str(index), *how)
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertEqual(json.loads(done.stdout), {"retrieved": ref["instances"]})
            self.assert_retrieved(work, index, ref)
        return work, refs

    def test_get_retrieves_each_series_exactly_and_run_reads_its_list(self):
        work, refs = self.retrieve_all()
        secret = os.path.join(self.dir, "secret")
        with open(secret, "w") as f:
            f.write(SECRET + "\n")
        out = os.path.join(work, "run")
        done = self.helix("run", "--secret-file", secret, "--list",
                          os.path.join(work, "series", "0.list"), "--out", out + "/out",
                          "--quarantine", out + "/q", "--audit", out + "/audit.jsonl",
                          "--maps", out + "/maps", "--name", "s0")
        self.assertEqual(done.returncode, 0, done.stderr)
        counts = json.loads(done.stdout)
        self.assertEqual(counts["deidentified"] + counts["quarantined"], refs[0]["instances"])
        self.assertEqual(len(glob.glob(out + "/out/*/*/*.dcm")), counts["deidentified"])

    def test_move_retrieves_each_series_exactly(self):
        self.retrieve_all("--move-port", str(self.move_port), "--move-aet", "HELIX")

    def test_move_to_a_destination_the_pacs_cannot_reach(self):
        work, _, _ = self.find("--modality", "CT")
        done = self.helix("pacs-get", *self.peer(self.source), "--work", work, "--index", "0",
                          "--move-port", str(free_port()))
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("must know AE HELIX", done.stderr)

    def test_store_delivers_every_file_to_the_research_pacs(self):
        start = time.monotonic()
        done = self.helix("pacs-store", *self.peer(self.research), "--from", self.src)
        elapsed = time.monotonic() - start
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout), {"stored": len(self.files)})
        self.assertEqual(self.research.rest("/statistics")["CountInstances"], len(self.files))
        self.assertEqual(self.research.sop_uids(), {e["sop_uid"] for e in self.files})
        # Each file kept its transfer syntax (the PACS accepts them all).
        syntax = {e["sop_uid"]: e["transfer_syntax"] for e in self.files}
        for instance in self.research.rest("/instances?expand"):
            meta = self.research.rest(f"/instances/{instance['ID']}/metadata?expand")
            self.assertEqual(meta["TransferSyntax"],
                             syntax[instance["MainDicomTags"]["SOPInstanceUID"]])
        print(f"\npacs-store: {len(self.files)} files in {elapsed * 1000:.0f} ms "
              f"(process start included)")

    def test_store_decodes_what_the_pacs_does_not_take(self):
        done = self.helix("pacs-store", *self.peer(self.picky), "--from", self.src)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(self.picky.sop_uids(), {e["sop_uid"] for e in self.files})
        by_sop = {e["sop_uid"]: e for e in self.files}
        decoded = 0
        for instance in self.picky.rest("/instances"):
            stored = pydicom.dcmread(io.BytesIO(self.picky.rest(f"/instances/{instance}/file",
                                                                raw=True)))
            entry = by_sop[stored.SOPInstanceUID]
            # Little endian as sent, explicit unless the file was implicit.
            self.assertEqual(stored.file_meta.TransferSyntaxUID,
                             ILE if entry["transfer_syntax"] == ILE else ELE)
            original = pydicom.dcmread(os.path.join(self.src, entry["file"]))
            try:
                expected = original.pixel_array  # pydicom decodes RLE, not JPEG
            except Exception:
                continue
            self.assertTrue((stored.pixel_array == expected).all(), entry["file"])
            decoded += entry["transfer_syntax"] not in (ILE, ELE)
        self.assertGreater(decoded, 0)  # big endian, deflated and RLE at least

    def test_network_failures_exit_4_naming_where(self):
        port = free_port()  # nothing listens there
        done = self.helix("pacs-store", "--port", str(port), "--aec", "RESEARCH",
                          "--from", self.src)
        self.assertEqual(done.returncode, 4, done.stderr)
        self.assertIn(f"127.0.0.1:{port}", done.stderr)
        self.assertIn("association", done.stderr)
        for command in (["pacs-store", "--from", self.src],
                        ["pacs-find", "--work", os.path.join(self.dir, "wrong-ae")]):
            with self.subTest(command=command[0]):
                done = self.helix(command[0], *self.peer(self.research, aec="NOT_RESEARCH"),
                                  *command[1:])
                self.assertEqual(done.returncode, 4, done.stderr)
                self.assertIn("NOT_RESEARCH", done.stderr)
                self.assertIn(f"127.0.0.1:{self.research.dicom_port}", done.stderr)

    def test_bad_arguments_exit_2(self):
        work = os.path.join(self.dir, "bad")
        for args in (["pacs-find", *self.peer(self.source), "--work", work, "--study-date", "2019"],
                     ["pacs-find", "--aec", "SOURCE", "--work", work],  # no --port
                     ["pacs-find", *self.peer(self.source, aec="A" * 17), "--work", work],
                     ["pacs-get", *self.peer(self.source), "--work", work, "--index", "99"],
                     ["pacs-store", *self.peer(self.source), "--from", work + "/missing"]):
            with self.subTest(args=args):
                self.assertEqual(self.helix(*args).returncode, 2)


if __name__ == "__main__":
    unittest.main()
