"""The issue's bad inputs, each beside good files of the same series:
truncated inside an undefined-length sequence that never ends, a huge
private sequence, identity under a wrong VR (UN), an unknown transfer
syntax, and an invalid date. Each bad file is quarantined with a reason
that names the problem (or, where it can be read, de-identified without
leaking); the good files go on; nothing is written half; the originals
are untouched."""

import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from test_deid_cli import BIN, REPO, read_bytes, run_deid


def digest(path):
    return hashlib.sha256(read_bytes(path)).hexdigest()


class DeidBadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="helix-deid-bad-")
        cls.src = os.path.join(cls.dir, "src")
        subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts/dicom/make_testset.py"),
                        cls.src, "--patients", "1", "--studies", "1", "--series", "1",
                        "--instances", "3"], check=True, capture_output=True)
        good = sorted(glob.glob(os.path.join(cls.src, "*.dcm")))
        with open(os.path.join(cls.src, "manifest.json")) as f:
            [cls.expected_quarantine] = [e["file"] for e in json.load(f)["files"]
                                         if e["expect_quarantine"]]
        base = pydicom.dcmread(good[0])
        cls.name = str(base.PatientName)

        def variant(name, change, **save):
            ds = pydicom.dcmread(good[0])
            ds.SOPInstanceUID = ds.SOPInstanceUID + ".9" + str(len(name))
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            change(ds)
            path = os.path.join(cls.src, name)
            ds.save_as(path, write_like_original=False)
            return path

        # An undefined-length sequence whose end never comes: the file stops
        # inside its item.
        def open_sequence(ds):
            item = Dataset()
            item.PatientName = cls.name
            ds.OtherPatientIDsSequence = Sequence([item])
            ds.OtherPatientIDsSequence.is_undefined_length = True
        path = variant("never_ends.dcm", open_sequence)
        whole = read_bytes(path)
        with open(path, "wb") as f:
            f.write(whole[: whole.index(b"\xfe\xff\x00\xe0") + 40])

        # 20,000 items in a private sequence (seen in real archives).
        def huge(ds):
            block = ds.private_block(0x0011, "HELIXHUGE", create=True)
            items = []
            for i in range(20000):
                item = Dataset()
                item.add_new(0x00111001, "LO", f"{cls.name} {i}")
                items.append(item)
            block.add_new(0x02, "SQ", Sequence(items))
        cls.huge = variant("huge_private.dcm", huge)

        # Identity under VR UN (a wrong VR) and an impossible date.
        def wrong_vr(ds):
            ds.add_new(0x00081040, "UN", f"Ward of {cls.name}".encode())  # Institutional Dept.
            ds.add_new(0x00321032, "UN", cls.name.encode())  # Requesting Physician
            ds.AcquisitionDate = "20230231"
        cls.wrong_vr = variant("wrong_vr.dcm", wrong_vr)

        # A transfer syntax nobody knows.
        path = variant("unknown_syntax.dcm", lambda ds: None)
        raw = read_bytes(path).replace(b"1.2.840.10008.1.2.1\x00", b"1.2.840.99999.9.9.9\x00", 1)
        with open(path, "wb") as f:
            f.write(raw)

        cls.inputs = sorted(glob.glob(os.path.join(cls.src, "*.dcm")))
        cls.before = {p: digest(p) for p in cls.inputs}
        cls.out = run_deid(cls.dir, "bad", cls.inputs, '["retain_long_modified_dates"]')
        cls.outputs = glob.glob(os.path.join(cls.out, "out/*/*/*.dcm"))
        cls.reasons = {}
        for reason in glob.glob(os.path.join(cls.out, "q/*.reason.txt")):
            source, text = read_bytes(reason).decode().split("\n", 1)
            cls.reasons[os.path.basename(source)] = text

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_unreadable_files_are_quarantined_with_their_reason(self):
        self.assertEqual(sorted(self.reasons), sorted(["never_ends.dcm", "unknown_syntax.dcm",
                                                       self.expected_quarantine]))
        self.assertIn("premature end of stream", self.reasons["never_ends.dcm"])
        self.assertIn("unknown transfer syntax 1.2.840.99999.9.9.9",
                      self.reasons["unknown_syntax.dcm"])
        self.assertIn("Burned In Annotation (0028,0301) is YES",
                      self.reasons[self.expected_quarantine])

    def test_the_rest_of_the_series_goes_on_without_leaking(self):
        # The two good files, the huge and the wrong-VR one.
        self.assertEqual(len(self.outputs), 2 + 2)
        parts = [p for p in self.name.split("^") if len(p) >= 4]
        for path in self.outputs:
            raw = read_bytes(path)
            for part in parts:
                self.assertNotIn(part.encode(), raw, path)
            ds = pydicom.dcmread(path)
            self.assertFalse([e for e in ds.iterall() if e.tag.is_private])
            self.assertNotIn(0x00081040, ds)
            self.assertNotIn(0x00321032, ds)
            self.assertEqual(glob.glob(os.path.join(self.out, "out/*/*/*.tmp")), [])

    def test_an_impossible_date_is_emptied_and_counted(self):
        with open(os.path.join(self.out, "audit.jsonl")) as f:
            lines = [json.loads(line) for line in f]
        counted = [line["invalid_dates"] for line in lines if line["status"] == "deidentified"]
        self.assertEqual(sorted(counted)[-1], 1)

    def test_originals_are_never_modified(self):
        self.assertEqual({p: digest(p) for p in self.inputs}, self.before)


if __name__ == "__main__":
    unittest.main()
