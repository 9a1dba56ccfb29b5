#!/usr/bin/env python3
"""Deterministic multi-patient DICOM test set for the de-identifier (#7).

usage: make_testset.py OUTDIR [--patients N] [--studies N] [--series N] [--instances N]

Writes OUTDIR/pPPP_sSS_rRR_iIII.dcm (patients x studies x series x instances,
series rotating through CT, MR, CR, US and 8-bit secondary capture), with
identifying values in the places PS3.15 Annex E covers (including private
tags and nested sequences), several transfer syntaxes, and burned-in text in
some images. OUTDIR/manifest.json lists what each file holds, and
OUTDIR/pixel-rules.json is the pixel rule set the images are meant for.
Same arguments, same bytes.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
except ImportError:
    # A pyenv or venv python3 ahead on PATH lacks Debian's python3-pydicom;
    # callers run us as plain "python3", so retry once under the system one.
    system = "/usr/bin/python3"
    if os.path.exists(system) and os.path.realpath(sys.executable) != os.path.realpath(system):
        os.execv(system, [system] + sys.argv)
    raise

ROOT = "1.2.826.0.1.3680043.99"
ELE, ILE, EBE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"
DEFLATE, RLE = "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.5"
JPEG_LOSSLESS, JPEG_LS = "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80"
# Encapsulated syntaxes come from DCMTK (checked to give the same bytes twice).
DCMTK = {RLE: ["dcmcrle"], JPEG_LOSSLESS: ["dcmcjpeg", "+e1"], JPEG_LS: ["dcmcjpls"]}
# Half the files stay explicit little endian; file 0 must (tests truncate it).
CYCLE = [ELE, ILE, ELE, EBE, ELE, DEFLATE, ELE, RLE, ELE, JPEG_LOSSLESS, ELE, JPEG_LS]

US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
KINDS = {  # rows x columns kept small so the whole set takes about a second
    "CT": dict(sop="1.2.840.10008.5.1.4.1.1.2", modality="CT", rows=48, cols=48, bits=16,
               stored=16, signed=True, photometric="MONOCHROME2", model="Tomo-3"),
    "MR": dict(sop="1.2.840.10008.5.1.4.1.1.4", modality="MR", rows=40, cols=48, bits=16,
               stored=12, signed=False, photometric="MONOCHROME2", model="Mag-2"),
    "CR": dict(sop="1.2.840.10008.5.1.4.1.1.1", modality="CR", rows=56, cols=48, bits=16,
               stored=12, signed=False, photometric="MONOCHROME1", model="Plate-1"),
    "US": dict(sop="1.2.840.10008.5.1.4.1.1.6.1", modality="US", rows=48, cols=64, bits=8,
               stored=8, signed=False, photometric="RGB", model="Echo-1"),
    "SC": dict(sop="1.2.840.10008.5.1.4.1.1.7", modality="OT", rows=40, cols=48, bits=8,
               stored=8, signed=False, photometric="MONOCHROME2", model="Scan-8"),
}
# Burned-in kinds (US, SC) never follow each other, so with two or more series
# every study keeps a series a de-identifier writes without pixel cleaning.
ROTATION = ["CT", "US", "MR", "SC", "CR"]
# Where each burned-in kind carries its text; the de-identifier gets the same
# rectangles through pixel-rules.json. Other kinds never carry text, except
# the one quarantine image.
BURNED = {"US": (2, 1), "SC": (2, 32)}
RULES = {"rules": [
    {"name": "HelixSim Echo-1 64x48 header",
     "match": {"Modality": "US", "Manufacturer": "HelixSim", "ManufacturerModelName": "Echo-1",
               "Rows": 48, "Columns": 64},
     "regions": [{"x": 0, "y": 0, "width": 64, "height": 8}]},
    {"name": "HelixSim Scan 48x40 footer",
     "match": {"Manufacturer": "HelixSim", "ManufacturerModelName": "Scan-*",
               "Rows": 40, "Columns": 48},
     "regions": [{"x": 0, "y": 32, "width": 48, "height": 8}]},
]}
# 5x7 glyphs, one hex byte per row, for the characters burned in ("DOE0001").
FONT = {"0": "0e11131519110e", "1": "040c040404040e", "2": "0e11010204081f",
        "3": "1f02040201110e", "4": "02060a121f0202", "5": "1f101e0101110e",
        "6": "0608101e11110e", "7": "1f010204080808", "8": "0e11110e11110e",
        "9": "0e11110f01020c", "D": "1c12111111121c",
        "O": "0e11111111110e", "E": "1f10101e10101f"}
GIVEN = ["Jane", "John", "Maria", "Peter", "Alice", "Bruno", "Clara", "David"]


def identifiers(p, s, r, i):
    """Every identifying value of one file, distinct per patient and long
    enough that a byte search for it cannot hit pixel data by chance."""
    given = GIVEN[(p - 1) % len(GIVEN)]
    family = f"Doe{p:04d}"
    day = (datetime.date(2019, 1, 1) + datetime.timedelta(days=37 * p + 45 * (s - 1)))
    day = day.strftime("%Y%m%d")
    # Fixed-width UID components, so no UID is a prefix of another one.
    study = f"{ROOT}.1.{1000 + p}.{100 + s}"
    return {
        "PatientName": f"{family}^{given}", "PatientID": f"PID{p:04d}",
        "OtherPatientIDs": f"OPID{p:04d}X",
        "PatientBirthDate": f"{1940 + p % 50}{1 + p % 12:02d}{1 + p * 7 % 28:02d}",
        "PatientAddress": f"{100 + p} Example Street, Springfield",
        "PatientTelephoneNumbers": f"555-01{p:04d}",
        "PatientComments": f"{given} {family} prefers morning appointments",
        "AccessionNumber": f"ACC{p:04d}{s:02d}", "StudyID": f"SID{p:04d}{s:02d}",
        "StudyDate": day, "SeriesDate": day, "AcquisitionDate": day, "ContentDate": day,
        "AcquisitionDateTime": f"{day}10{s:02d}{i:02d}",
        "InstitutionName": f"Saint Example Hospital {p:04d}",
        "InstitutionAddress": f"{200 + p} Hospital Road, Exampleton",
        "StationName": f"STN{p:04d}R{r:02d}", "DeviceSerialNumber": f"SN-{p:04d}-{r:02d}",
        "ReferringPhysicianName": f"Referrer{p:04d}^Rita",
        "PerformingPhysicianName": f"Performer{p:04d}^Paul",
        "OperatorsName": f"Operator{p:04d}^Otto",
        "StudyDescription": f"Chest study of {family}",
        "SeriesDescription": f"Series {r} for PID{p:04d}",
        "ImageComments": f"Image {i} of {given} {family}",
        "RequestedProcedureID": f"RPID{p:04d}{s:02d}",
        "ScheduledProcedureStepID": f"SPSID{p:04d}{s:02d}",
        "ObserverName": f"Observer{p:04d}^Olga", "PrivateNote": f"private note for PID{p:04d}",
        "StudyInstanceUID": study, "FrameOfReferenceUID": f"{ROOT}.4.{1000 + p}.{100 + s}",
        "SeriesInstanceUID": f"{ROOT}.2.{1000 + p}.{100 + s}.{100 + r}",
        "SOPInstanceUID": f"{ROOT}.3.{1000 + p}.{100 + s}.{100 + r}.{1000 + i}",
    }


def pattern(kind, n, frames):
    """Smooth ramps plus a file-dependent wobble: every file's pixels differ,
    and text burned at full scale stands out from values that never reach it."""
    k = KINDS[kind]
    f, y, x = np.mgrid[0:frames, 0:k["rows"], 0:k["cols"]]
    base = x * 3 + y * 5 + f * 17 + n * 11 + (x * y * 7 + n) % 13
    if kind == "CT":
        return (base * 9 % 3000 - 1000).astype(np.int16)
    if k["bits"] == 16:
        return (base * 13 % 4000).astype(np.uint16)
    if kind == "US":
        return np.stack([(base + c * 70) % 200 for c in range(3)], axis=-1).astype(np.uint8)
    return (base % 200).astype(np.uint8)


def burn(pixels, text, x0, y0, value):
    """Draws text into every frame; returns the [x, y, width, height] it covers."""
    for c, ch in enumerate(text):
        for row, bits in enumerate(bytes.fromhex(FONT[ch])):
            for col in range(5):
                if bits >> (4 - col) & 1:
                    pixels[:, y0 + row, x0 + 6 * c + col] = value
    return [x0, y0, 6 * len(text) - 1, 7]


def code(value, meaning):
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "99HELIX", meaning
    return item


def build(p, s, r, i, kind, n, instances, quarantine):
    k = KINDS[kind]
    ids = identifiers(p, s, r, i)
    multiframe = kind == "US" and i == 2
    sop_class = US_MULTIFRAME if multiframe else k["sop"]
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    for keyword in ("PatientName", "PatientID", "OtherPatientIDs", "PatientBirthDate",
                    "PatientAddress", "PatientTelephoneNumbers", "PatientComments",
                    "AccessionNumber", "StudyID", "StudyDate", "SeriesDate", "AcquisitionDate",
                    "ContentDate", "AcquisitionDateTime", "InstitutionName",
                    "InstitutionAddress", "StationName", "DeviceSerialNumber",
                    "ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName",
                    "StudyDescription", "SeriesDescription", "ImageComments",
                    "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                    "FrameOfReferenceUID"):
        setattr(ds, keyword, ids[keyword])
    ds.SOPClassUID, ds.Modality = sop_class, k["modality"]
    ds.PatientSex = "F" if p % 2 else "M"
    ds.StudyTime, ds.SeriesTime = f"0930{s:02d}", f"10{s:02d}00"
    ds.AcquisitionTime = ds.ContentTime = f"10{s:02d}{i:02d}"
    ds.SeriesNumber, ds.InstanceNumber, ds.AcquisitionNumber = r, i, 1
    ds.PositionReferenceIndicator = ""
    ds.PatientOrientation = ["L", "F"] if kind in ("CR", "US", "SC") else ""
    ds.Manufacturer, ds.ManufacturerModelName = "HelixSim", k["model"]

    request = Dataset()
    request.RequestedProcedureID = ids["RequestedProcedureID"]
    request.ScheduledProcedureStepID = ids["ScheduledProcedureStepID"]
    request.AccessionNumber = ids["AccessionNumber"]
    study_ref = Dataset()
    study_ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    study_ref.ReferencedSOPInstanceUID = ids["StudyInstanceUID"]
    request.ReferencedStudySequence = Sequence([study_ref])
    ds.RequestAttributesSequence = Sequence([request])
    ds.ProcedureCodeSequence = Sequence([code("HLX-CHEST", "Chest imaging")])
    # Person name two sequence levels down, as structured content nests it.
    observer = Dataset()
    observer.RelationshipType, observer.ValueType = "HAS OBS CONTEXT", "PNAME"
    observer.ConceptNameCodeSequence = Sequence([code("HLX-OBS", "Person observer")])
    observer.PersonName = ids["ObserverName"]
    context = Dataset()
    context.ValueType = "CONTAINER"
    context.ConceptNameCodeSequence = Sequence([code("HLX-CTX", "Acquisition context")])
    context.ContentSequence = Sequence([observer])
    ds.AcquisitionContextSequence = Sequence([context])
    if instances > 1:
        # Later instances point at the first, the first at the second: references
        # the de-identifier must keep resolvable after it replaces the UIDs.
        j = 2 if i == 1 else 1
        image_ref = Dataset()
        image_ref.ReferencedSOPClassUID = US_MULTIFRAME if kind == "US" and j == 2 else k["sop"]
        image_ref.ReferencedSOPInstanceUID = identifiers(p, s, r, j)["SOPInstanceUID"]
        ds.ReferencedImageSequence = Sequence([image_ref])
        ids["ReferencedSOPInstanceUID"] = image_ref.ReferencedSOPInstanceUID

    block = ds.private_block(0x0009, "HELIXTEST", create=True)
    block.add_new(0x01, "LO", ids["PrivateNote"])
    item = Dataset()
    item.private_block(0x0009, "HELIXTEST", create=True).add_new(0x10, "PN", ids["PatientName"])
    block.add_new(0x02, "SQ", Sequence([item]))
    # Undefined length lets implicit VR readers recognise an unknown tag as SQ.
    block[0x02].is_undefined_length = True

    if kind == "CT":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.KVP, ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "120", "-1024", "1", "HU"
    elif kind == "MR":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
        ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions = "SE", "NONE", ""
        ds.MRAcquisitionType, ds.RepetitionTime, ds.EchoTime = "2D", "500", "20"
        ds.EchoTrainLength, ds.MagneticFieldStrength = 1, "1.5"
    elif kind == "CR":
        ds.BodyPartExamined, ds.ViewPosition = "CHEST", "PA"
    elif kind == "US":
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
    else:
        ds.ConversionType = "WSD"
    if kind in ("CT", "MR"):
        ds.PixelSpacing, ds.SliceThickness = ["0.7", "0.7"], "5"
        ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        ds.ImagePositionPatient = ["-100", "-100", str(5 * i)]

    frames = 2 if multiframe else 1
    pixels = pattern(kind, n, frames)
    regions = []
    if quarantine:
        # No rule names this vendor, so only quarantine is safe for this image.
        ds.Manufacturer, ds.ManufacturerModelName = "UnknownVendor", "Mystery-9"
        top = (1 << (k["stored"] - (1 if k["signed"] else 0))) - 1
        regions = [burn(pixels, ids["PatientName"].split("^")[0].upper(), 2, 1, top)]
    elif kind in BURNED:
        regions = [burn(pixels, ids["PatientName"].split("^")[0].upper(), *BURNED[kind], 255)]
    if regions:
        ds.BurnedInAnnotation = "YES"
    elif kind != "MR":  # MR leaves it absent, which readers must treat as "NO"
        ds.BurnedInAnnotation = "NO"
    if multiframe:
        ds.NumberOfFrames, ds.FrameTime, ds.FrameIncrementPointer = 2, "33.3", 0x00181063
    ds.Rows, ds.Columns = k["rows"], k["cols"]
    ds.SamplesPerPixel = 3 if k["photometric"] == "RGB" else 1
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = k["photometric"]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = k["bits"], k["stored"], k["stored"] - 1
    ds.PixelRepresentation = 1 if k["signed"] else 0

    manifest = {
        "patient_id": ids["PatientID"], "study_uid": ids["StudyInstanceUID"],
        "series_uid": ids["SeriesInstanceUID"], "sop_uid": ids["SOPInstanceUID"],
        "modality": k["modality"], "bits_allocated": k["bits"],
        "samples_per_pixel": ds.SamplesPerPixel, "burned_in": bool(regions),
        "regions": regions, "expect_quarantine": quarantine,
        "identifying": sorted(set(ids.values())),
    }
    return ds, pixels, manifest


def write(ds, pixels, path, syntax, tmp):
    """Native syntaxes straight from pydicom; encapsulated ones through DCMTK."""
    native = syntax not in DCMTK
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    meta.TransferSyntaxUID = syntax if native else ELE
    # Fixed, so the bytes do not follow the installed pydicom's version.
    meta.ImplementationClassUID, meta.ImplementationVersionName = f"{ROOT}.0.1", "HELIX_TESTSET_1"
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = syntax != EBE, syntax == ILE
    order = ">" if syntax == EBE else "<"  # pydicom writes PixelData bytes as given
    ds.PixelData = pixels.astype(pixels.dtype.newbyteorder(order)).tobytes()
    ds["PixelData"].VR = "OW" if pixels.dtype.itemsize == 2 else "OB"
    staging = path if native else os.path.join(tmp, "native.dcm")
    ds.save_as(staging, write_like_original=False)
    if not native:
        subprocess.run(DCMTK[syntax] + [staging, path], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--patients", type=int, default=3)
    parser.add_argument("--studies", type=int, default=2, help="per patient")
    parser.add_argument("--series", type=int, default=2, help="per study")
    parser.add_argument("--instances", type=int, default=3, help="per series")
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    files, patients = [], {}
    series_index = n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for p in range(1, args.patients + 1):
            ids = identifiers(p, 1, 1, 1)
            patients[ids["PatientID"]] = {"name": ids["PatientName"],
                                          "birth_date": ids["PatientBirthDate"]}
            for s in range(1, args.studies + 1):
                for r in range(1, args.series + 1):
                    kind = ROTATION[series_index % len(ROTATION)]
                    series_index += 1
                    for i in range(1, args.instances + 1):
                        last = (p, s, r, i) == (args.patients, args.studies, args.series,
                                                args.instances)
                        ds, pixels, entry = build(p, s, r, i, kind, n, args.instances, last)
                        syntax = CYCLE[n % len(CYCLE)]
                        # A burned-in image that is compressed makes the
                        # de-identifier decode before it can blank.
                        if entry["burned_in"] and i == 1 and not last:
                            syntax = RLE if kind == "US" else JPEG_LOSSLESS
                        name = f"p{p:03d}_s{s:02d}_r{r:02d}_i{i:03d}.dcm"
                        write(ds, pixels, os.path.join(args.outdir, name), syntax, tmp)
                        files.append(dict(entry, file=name, transfer_syntax=syntax))
                        n += 1
    with open(os.path.join(args.outdir, "manifest.json"), "w") as f:
        json.dump({"files": files, "patients": patients}, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(args.outdir, "pixel-rules.json"), "w") as f:
        json.dump(RULES, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
