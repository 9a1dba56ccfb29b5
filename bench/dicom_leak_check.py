#!/usr/bin/python3
"""Leak check for bench/dicom_deid_bench.sh, independent of helix (pydicom,
not DCMTK): counts the output files holding any identifying string of the
generator's manifest.

usage: dicom_leak_check.py MANIFEST DIR [DIR...]
prints one line per DIR:
`DIR files leaking unreadable unlinked burned_text first_leak`
(first_leak: FILE:VALUE of the first leaking file, or -)

Needles are the files[].identifying values of length >= 5, matched
case-insensitively. A de-identifier renames its outputs and replaces their
UIDs, so an output's original is not known from its name: names, IDs, UIDs,
addresses and texts are searched as the union over all files (a value moved
into another patient's file still counts). Dates are different: a
date-shifting tool can land one patient's dates on another patient's real
dates by chance, so dates are searched per patient, the output linked to its
original by pixel data (as stored, or decoded without the rows the pixel
rules blank); an output that cannot be linked ("unlinked") is searched for
every patient's dates. Each file is searched twice: its raw bytes, and the
values pydicom decodes from it, because a Deflated transfer syntax hides
every value from a byte search (docs/dicom-notes.md).

burned_text counts outputs of an image with burned-in text (manifest
burned_in) whose text boxes (manifest regions) still hold the original
pixels: identity in the image, which no string search sees. It is counted
apart from the string leaks.
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

import pydicom
from pydicom.multival import MultiValue


def trie_regex(words):
    """One compiled regex for thousands of needles: an alternation nested as
    a trie, so the regex engine walks one branch per position instead of
    trying every needle at every byte (a plain alternation is ~100x slower)."""
    trie = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def pattern(node):
        ends = "" in node
        branches = [re.escape(bytes([ch])) + pattern(child)
                    for ch, child in sorted((k, v) for k, v in node.items() if k != "")]
        if not branches:
            return b""
        body = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
        return b"(?:" + body + b")?" if ends else body

    return re.compile(pattern(trie))


def decoded_text(ds):
    """Every decoded value except pixel data, nested sequences included,
    lower-cased and joined by NULs (so no needle spans two values)."""
    parts = []
    for elem in ds.iterall():
        if elem.tag == 0x7FE00010 or elem.VR == "SQ":
            continue
        value = elem.value
        values = value if isinstance(value, (MultiValue, list, tuple)) else [value]
        for v in values:
            if isinstance(v, bytes):
                parts.append(v)  # UN or private OB: raw, may still hold identity
            elif v is not None:
                parts.append(str(v).encode("utf-8", "replace"))
    for elem in getattr(ds, "file_meta", []) or []:
        parts.append(str(elem.value).encode("utf-8", "replace"))
    return b"\0".join(parts).lower()


def pixel_key(ds):
    """Fingerprint of a file's pixel data as stored: an output whose pixels a
    tool left alone links back to its original without the tool's help."""
    return hashlib.sha1(ds.PixelData).digest() if "PixelData" in ds else None


def first_frame(ds):
    pixels = ds.pixel_array
    return pixels[0] if int(ds.get("NumberOfFrames", 1) or 1) > 1 else pixels


def masked_key(frame, rows_masked):
    """Fingerprint of a decoded first frame without the rows any pixel rule
    covers: links an image whose burned-in text was blanked (and maybe
    transcoded) to its original. The generator's pixels differ per file."""
    keep = [y for y in range(frame.shape[0]) if y not in rows_masked]
    return hashlib.sha1(repr(frame.shape).encode() + frame[keep].astype("<i4").tobytes()).digest()


def text_pixels(frame, regions):
    """The pixels of the manifest's burned-in text boxes ([x, y, w, h])."""
    return b"".join(frame[y:y + h, x:x + w].astype("<i4").tobytes() for x, y, w, h in regions)


def decoded_original(path, scratch):
    """pydicom here has no JPEG decoder; GDCM's gdcmconv (not DCMTK, which
    helix uses) writes a raw copy for it. Only used to link originals."""
    ds = pydicom.dcmread(path, force=True)
    try:
        ds.pixel_array
        return ds
    except Exception:  # noqa: BLE001 - no handler for this transfer syntax
        raw = os.path.join(scratch, "raw.dcm")
        subprocess.run(["gdcmconv", "--raw", path, raw], check=True, capture_output=True)
        return pydicom.dcmread(raw, force=True)


def main():
    manifest, dirs = sys.argv[1], sys.argv[2:]
    with open(manifest) as f:
        files = json.load(f)["files"]
    values = {v.lower() for entry in files for v in entry["identifying"] if len(v) >= 5}
    # DA/DT values only per patient (seen: helix shifted PID0014's study date
    # onto PID0010's real one; 22 of 599 files would count as leaks).
    is_date = re.compile(r"(19|20)\d{6}(\d{6})?").fullmatch
    finder = trie_regex(sorted(v.encode() for v in values if not is_date(v)))
    dates = {}
    for entry in files:
        dates.setdefault(entry["patient_id"], set()).update(
            v.encode() for v in entry["identifying"] if is_date(v))
    all_dates = trie_regex(sorted(set().union(*dates.values())))
    date_finder = {pid: trie_regex(sorted(d)) for pid, d in dates.items()}
    base = os.path.dirname(os.path.abspath(manifest))
    rows_masked = set()
    rules_path = os.path.join(base, "pixel-rules.json")
    if os.path.exists(rules_path):
        with open(rules_path) as f:
            for rule in json.load(f)["rules"]:
                for r in rule["regions"]:
                    rows_masked.update(range(r["y"], r["y"] + r["height"]))
    # pixel fingerprint -> (patient, burned-in text boxes, their pixels)
    owner, owner_masked = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for entry in files:
            path = os.path.join(base, entry["file"])
            ds = pydicom.dcmread(path, force=True)
            if not entry["burned_in"]:
                owner[pixel_key(ds)] = (entry["patient_id"], None, None)
                continue
            # The only pixels a tool should change: linked also when blanked.
            frame = first_frame(decoded_original(path, scratch))
            burned = (entry["patient_id"], entry["regions"], text_pixels(frame, entry["regions"]))
            owner[pixel_key(ds)] = burned
            owner_masked[masked_key(frame, rows_masked)] = burned
    for top in dirs:
        paths = sorted(os.path.join(d, n) for d, _, names in os.walk(top) for n in names
                       if n.endswith(".dcm"))
        leaking = unreadable = unlinked = burned_text = 0
        first = "-"
        for path in paths:
            with open(path, "rb") as f:
                raw = f.read().lower()
            patient, text = None, b""
            try:
                ds = pydicom.dcmread(path, force=True)
                text = decoded_text(ds)
                patient, boxes, burned = owner.get(pixel_key(ds), (None, None, None))
                if patient is not None:
                    burned_text += boxes is not None  # pixels as they were, text and all
                else:
                    frame = first_frame(ds)
                    patient, boxes, burned = owner_masked.get(masked_key(frame, rows_masked),
                                                              (None, None, None))
                    # Changed elsewhere (say transcoded) but the text boxes kept.
                    burned_text += boxes is not None and text_pixels(frame, boxes) == burned
            except Exception:  # noqa: BLE001 - reported (unreadable or unlinked), not fatal
                unreadable += not text
            unlinked += patient is None
            dated = date_finder[patient] if patient else all_dates
            hit = (finder.search(raw) or finder.search(text) or dated.search(raw)
                   or dated.search(text))
            if hit:
                leaking += 1
                if first == "-":
                    first = f"{os.path.relpath(path, top)}:{hit.group(0).decode('utf-8', 'replace')}"
        print(f"{top} {len(paths)} {leaking} {unreadable} {unlinked} {burned_text} "
              f"{first.replace(' ', '_')}")


if __name__ == "__main__":
    main()
