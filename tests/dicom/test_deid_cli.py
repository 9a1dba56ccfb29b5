"""helix-deid run on the generated multi-patient set, checked with pydicom
(an implementation independent of DCMTK): no original identifying string in
any output byte, UIDs consistent across files, dates shifted by one offset
per patient, pixels untouched, bad files quarantined with a reason, the same
input and secret give byte-identical output, mapping tables owner-only."""

import datetime
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import pydicom

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
BIN = os.path.join(os.environ.get("HELIX_BUILD_DIR", os.path.join(REPO, "build")), "bin")
SECRET = "test-site-secret-0123456789"
OPTIONS = '["retain_long_modified_dates", "clean_pixel_data"]'


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def run_deid(workdir, name, files, options, *extra):
    listing = os.path.join(workdir, f"{name}.list")
    with open(listing, "w") as f:
        f.write("\n".join(files) + "\n")
    secret = os.path.join(workdir, "secret")
    with open(secret, "w") as f:
        f.write(SECRET + "\n")
    out = os.path.join(workdir, name)
    rules = os.path.join(os.path.dirname(files[0]), "pixel-rules.json")
    subprocess.run([os.path.join(BIN, "helix-deid"), "run", "--secret-file", secret,
                    "--pixel-rules", rules,
                    "--options", options, "--list", listing, "--out", out + "/out",
                    "--quarantine", out + "/q", "--audit", out + "/audit.jsonl",
                    "--maps", out + "/maps", "--name", "s0", *extra],
                   check=True, capture_output=True, text=True)
    return out


@unittest.skipUnless(shutil.which("dump2dcm"), "needs dcmtk's dump2dcm")
class DeidCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="helix-deid-")
        cls.src = os.path.join(cls.dir, "src")
        subprocess.run(["python3", os.path.join(REPO, "scripts/dicom/make_testset.py"), cls.src,
                        "--patients", "3", "--studies", "2", "--instances", "2"], check=True)
        cls.originals = sorted(glob.glob(os.path.join(cls.src, "*.dcm")))
        whole = read_bytes(cls.originals[0])
        cls.bad = os.path.join(cls.dir, "truncated.dcm")
        with open(cls.bad, "wb") as f:
            f.write(whole[: len(whole) - 100])  # cut inside Pixel Data
        cls.foreign = os.path.join(cls.dir, "notes.txt")
        with open(cls.foreign, "w") as f:
            f.write("not DICOM at all\n")
        cls.inputs = cls.originals + [cls.bad, cls.foreign]
        cls.out_dir = run_deid(cls.dir, "a", cls.inputs, OPTIONS, "--threads", "3")
        cls.outputs = sorted(glob.glob(os.path.join(cls.out_dir, "out/*/*/*.dcm")))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def identifying_strings(self):
        values = set()
        for path in self.originals:
            ds = pydicom.dcmread(path)
            for keyword in ("PatientName", "PatientID", "AccessionNumber", "InstitutionName",
                            "ReferringPhysicianName", "StudyDescription", "PatientAddress",
                            "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                            "PatientBirthDate", "StudyDate"):
                value = str(ds.get(keyword, ""))
                if len(value) >= 4:
                    values.add(value)
            values.add(str(ds[0x00091001].value))
            values.update(str(ds.PatientName).split("^"))
        return {v for v in values if len(v) >= 3}

    def test_every_good_file_is_written_and_bad_ones_quarantined(self):
        # The generator's one image with burned-in text no rule covers.
        self.assertEqual(len(self.outputs), len(self.originals) - 1)
        reasons = sorted(glob.glob(os.path.join(self.out_dir, "q/*.reason.txt")))
        self.assertEqual(len(reasons), 3)
        text = "".join(read_bytes(r).decode() for r in reasons)
        self.assertIn("premature end of stream", text)  # the truncation is named
        self.assertIn("cannot read as DICOM", text)
        self.assertIn("no pixel rule matches Modality", text)

    def test_no_identifying_string_in_any_output_byte(self):
        needles = self.identifying_strings()
        for path in self.outputs:
            raw = read_bytes(path)
            for needle in needles:
                self.assertNotIn(needle.encode(), raw, f"{needle!r} left in {path}")
            ds = pydicom.dcmread(path)
            self.assertEqual(ds.PatientIdentityRemoved, "YES")
            self.assertFalse([e for e in ds if e.tag.is_private], "private elements left")

    def test_uids_and_dates_are_consistent_per_patient(self):
        by_patient = {}
        for path in self.originals:
            ds = pydicom.dcmread(path)
            by_patient.setdefault(ds.PatientID, []).append(ds)
        out = [pydicom.dcmread(p) for p in self.outputs]
        studies = {}
        offsets = {}
        for ds in out:
            self.assertEqual(ds.file_meta.MediaStorageSOPInstanceUID, ds.SOPInstanceUID)
            studies.setdefault(ds.PatientID, set()).add(ds.StudyInstanceUID)
        # Two studies per patient stay two studies (the same UID maps the same way).
        self.assertEqual(sorted(len(s) for s in studies.values()), [2, 2, 2])
        self.assertEqual(len(studies), len(by_patient))
        # One offset per patient, applied to every study date; originals are
        # found through the run's UID table (pixels differ where blanked).
        new_uid = {}
        for table in glob.glob(os.path.join(self.out_dir, "maps/*.uids.tsv")):
            with open(table) as f:
                new_uid.update(line.rstrip("\n").split("\t") for line in f)
        originals = {new_uid.get(o.SOPInstanceUID): o for o in sum(by_patient.values(), [])}
        for ds in out:
            original = originals[ds.SOPInstanceUID]
            d0 = datetime.datetime.strptime(original.StudyDate, "%Y%m%d")
            d1 = datetime.datetime.strptime(ds.StudyDate, "%Y%m%d")
            offsets.setdefault(ds.PatientID, set()).add((d0 - d1).days)
            if "BurnedInAnnotation" not in original or original.BurnedInAnnotation != "YES":
                self.assertEqual(original.PixelData, ds.PixelData)  # untouched
        for pseudonym, shifts in offsets.items():
            self.assertEqual(len(shifts), 1, f"{pseudonym} has several offsets {shifts}")
            self.assertGreater(next(iter(shifts)), 0)

    def test_same_input_and_secret_give_identical_bytes(self):
        # Also whatever the number of workers: the first run used 3.
        again = run_deid(self.dir, "b", self.inputs, OPTIONS, "--threads", "1")
        second = sorted(glob.glob(os.path.join(again, "out/*/*/*.dcm")))
        self.assertEqual([os.path.relpath(p, again) for p in second],
                         [os.path.relpath(p, self.out_dir) for p in self.outputs])
        for a, b in zip(self.outputs, second):
            self.assertEqual(read_bytes(a), read_bytes(b))
        for name in ("audit.jsonl", "maps/s0.uids.tsv", "maps/s0.pseudonyms.tsv"):
            self.assertEqual(read_bytes(os.path.join(self.out_dir, name)),
                             read_bytes(os.path.join(again, name)), name)

    def test_a_kept_crafted_uid_cannot_write_outside_the_output_folder(self):
        ds = pydicom.dcmread(self.originals[1])
        ds.SOPInstanceUID = "../../../escaped"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        os.makedirs(os.path.join(self.dir, "crafted"))
        crafted = os.path.join(self.dir, "crafted", "crafted.dcm")
        ds.save_as(crafted, write_like_original=False)
        shutil.copy(os.path.join(self.src, "pixel-rules.json"), os.path.dirname(crafted))
        out = run_deid(self.dir, "c", [crafted], '["retain_uids"]')
        self.assertEqual(glob.glob(os.path.join(self.dir, "**", "escaped*"), recursive=True), [])
        reasons = glob.glob(os.path.join(out, "q/*.reason.txt"))
        self.assertEqual(len(reasons), 1)
        self.assertIn("SOP Instance UID (0008,0018) is not a valid UID", read_bytes(reasons[0]).decode())

    def test_retain_safe_private_keeps_listed_elements_and_verify_agrees(self):
        ds = pydicom.dcmread(self.originals[1])
        ds.add_new(0x70530010, "LO", "Philips PET Private Group")
        ds.add_new(0x70531000, "DS", "1.2345678")  # SUV factor: on the safe list
        ds.add_new(0x70531077, "LO", "not listed 0123456")
        os.makedirs(os.path.join(self.dir, "safe"))
        path = os.path.join(self.dir, "safe", "safe.dcm")
        ds.save_as(path, write_like_original=False)
        shutil.copy(os.path.join(self.src, "pixel-rules.json"), os.path.dirname(path))
        for options, kept in (('["retain_safe_private"]', True), ("[]", False)):
            name = "safe-" + str(kept)
            out = run_deid(self.dir, name, [path], options)
            [written] = glob.glob(os.path.join(out, "out/*/*/*.dcm"))
            result = pydicom.dcmread(written)
            self.assertEqual(0x70531000 in result, kept)
            self.assertNotIn(0x70531077, result)
            if not kept:  # no date option: every date and datetime is gone
                for keyword in ("StudyDate", "SeriesDate", "ContentDate", "PatientBirthDate",
                                "AcquisitionDateTime"):
                    self.assertIn(str(result.get(keyword, "")), ("", "None"), keyword)
                self.assertEqual(result.LongitudinalTemporalInformationModified, "REMOVED")
            if kept:
                self.assertEqual(str(result[0x70531000].value), "1.2345678")
                self.assertEqual(result[0x70530010].value, "Philips PET Private Group")
            verify = subprocess.run(
                [os.path.join(BIN, "helix-deid"), "verify", "--secret-file",
                 os.path.join(self.dir, "secret"), "--options", options, "--list",
                 os.path.join(self.dir, f"{name}.list"), "--dir", os.path.join(out, "out")],
                capture_output=True, text=True)
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)

    def verify(self, name, listing, directory, options=OPTIONS):
        return subprocess.run(
            [os.path.join(BIN, "helix-deid"), "verify", "--secret-file",
             os.path.join(self.dir, "secret"), "--options", options, "--list", listing,
             "--dir", directory], capture_output=True, text=True)

    def test_verify_passes_clean_output_and_names_a_leak(self):
        listing = os.path.join(self.dir, "a.list")
        clean = self.verify("a", listing, os.path.join(self.out_dir, "out"))
        self.assertEqual(clean.returncode, 0, clean.stdout + clean.stderr)
        self.assertEqual(json.loads(clean.stdout)["leaks"], [])
        # An original among the outputs: every identifying value is found.
        leaky = os.path.join(self.dir, "leaky")
        shutil.copytree(os.path.join(self.out_dir, "out"), leaky)
        shutil.copy(self.originals[0], os.path.join(leaky, "original.dcm"))
        found = self.verify("a", listing, leaky)
        self.assertEqual(found.returncode, 3)
        leaks = json.loads(found.stdout)["leaks"]
        self.assertIn("(0010,0020) of input 0 in output original.dcm", leaks)
        self.assertIn("(0020,000D) of input 0 in output original.dcm", leaks)
        for needle in self.identifying_strings():  # tags and inputs named, never values
            self.assertNotIn(needle, found.stdout + found.stderr)

    def test_verify_does_not_count_what_the_deidentifier_writes(self):
        ds = pydicom.dcmread(self.originals[1])
        ds.ProtocolName = "Basic Application"  # removed; also in a code meaning
        os.makedirs(os.path.join(self.dir, "written"))
        path = os.path.join(self.dir, "written", "written.dcm")
        ds.save_as(path, write_like_original=False)
        shutil.copy(os.path.join(self.src, "pixel-rules.json"), os.path.dirname(path))
        out = run_deid(self.dir, "written", [path], OPTIONS)
        result = self.verify("written", os.path.join(self.dir, "written.list"),
                             os.path.join(out, "out"))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_tables_are_owner_only_and_originals_untouched(self):
        for table in glob.glob(os.path.join(self.out_dir, "maps/*.tsv")):
            self.assertEqual(os.stat(table).st_mode & 0o777, 0o600)
        fresh = os.path.join(self.dir, "fresh")
        subprocess.run(["python3", os.path.join(REPO, "scripts/dicom/make_testset.py"), fresh,
                        "--patients", "3", "--studies", "2", "--instances", "2"], check=True)
        for path in self.originals:
            self.assertEqual(read_bytes(path), read_bytes(os.path.join(fresh, os.path.basename(path))))


if __name__ == "__main__":
    unittest.main()
