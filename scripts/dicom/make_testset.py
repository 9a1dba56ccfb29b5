#!/usr/bin/env python3
"""Deterministic multi-patient DICOM test set for the de-identifier (#7).

Writes PATIENTS x STUDIES x INSTANCES small 16x16 MONOCHROME2 CT images with
identifying values in the attributes PS3.15 Annex E covers, through DCMTK's
dump2dcm (no hand-written DICOM encoding). Same arguments, same bytes.
usage: make_testset.py OUTDIR [--patients N] [--studies N] [--instances N]
"""
import argparse
import os
import subprocess
import tempfile


def dump_text(p, s, i):
    pid = f"PID{p:04d}"
    study = f"1.2.826.0.1.3680043.99.{p}.{s}"
    series = f"{study}.1"
    sop = f"{series}.{i + 1}"
    pixels = "\\".join(f"{(p * 31 + s * 7 + i + x) % 4096:04x}" for x in range(256))
    return f"""(0002,0001) OB 00\\01
(0002,0002) UI =CTImageStorage
(0002,0003) UI [{sop}]
(0002,0010) UI =LittleEndianExplicit
(0008,0016) UI =CTImageStorage
(0008,0018) UI [{sop}]
(0008,0020) DA [2019{(p % 12) + 1:02d}{(s % 28) + 1:02d}]
(0008,0030) TM [1015{i:02d}]
(0008,0050) SH [ACC{p:03d}{s:02d}]
(0008,0060) CS [CT]
(0008,0080) LO [Saint Example Hospital {p}]
(0008,0090) PN [Referring^Doctor{p}]
(0008,1030) LO [Chest study of Patient{p}]
(0010,0010) PN [Doe{p}^Jane]
(0010,0020) LO [{pid}]
(0010,0030) DA [19{50 + p % 40:02d}0{1 + p % 9}15]
(0010,0040) CS [{'F' if p % 2 else 'M'}]
(0010,1040) LO [{p} Example Street, Springfield]
(0020,000d) UI [{study}]
(0020,000e) UI [{series}]
(0020,0010) SH [STUDY{s}]
(0020,0011) IS [1]
(0020,0013) IS [{i + 1}]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 16
(0028,0011) US 16
(0028,0100) US 16
(0028,0101) US 12
(0028,0102) US 11
(0028,0103) US 0
(0009,0010) LO [HELIXTEST]
(0009,1001) LO [private note for {pid}]
(7fe0,0010) OW {pixels}
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--patients", type=int, default=3)
    parser.add_argument("--studies", type=int, default=2)
    parser.add_argument("--instances", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for p in range(1, args.patients + 1):
            for s in range(1, args.studies + 1):
                for i in range(args.instances):
                    dump = os.path.join(tmp, "in.dump")
                    with open(dump, "w") as f:
                        f.write(dump_text(p, s, i))
                    out = os.path.join(args.outdir, f"p{p:03d}_s{s:02d}_i{i:03d}.dcm")
                    subprocess.run(["dump2dcm", "--write-file", dump, out], check=True)


if __name__ == "__main__":
    main()
