#!/usr/bin/python3
"""Orthanc side of bench/dicom_deid_bench.sh: uploads files to a running
Orthanc, then times its REST anonymization two ways and saves what comes out.

usage: dicom_orthanc_anonymize.py PORT LIST OUTDIR REPS

Prints `key value` lines: upload_s, upload_failed, instance_s, study_s,
anonymize_failed, studies (the times are the fastest of REPS runs after one
warm-up run, as for the other tools). The last run's files are left in OUTDIR/instance (one POST
/instances/{id}/anonymize per file: the response is the anonymized file) and
OUTDIR/study (one POST /studies/{id}/anonymize per study, then GET
/instances/{id}/file for each instance of the new study, since that is how a
user gets a whole study out consistently: per-instance calls give every file
its own new Study and Series UIDs).

One persistent HTTP connection (keep-alive): a process or connection per
file would time the client, not Orthanc.
"""
import http.client
import json
import os
import shutil
import sys
import time


class Orthanc:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method, path, body=None):
        kind = "application/dicom" if isinstance(body, bytes) else "application/json"
        self.conn.request(method, path, body=body, headers={"Content-Type": kind})
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {response.status} {data[:200]!r}")
        return data

    def json(self, method, path, body=None):
        return json.loads(self.call(method, path, body))


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def main():
    port, listing, out, reps = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(listing) as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    orthanc = Orthanc(port)

    # Upload is the PACS ingest, not de-identification: timed apart.
    instances, upload_failed = [], 0
    start = time.perf_counter()
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        try:
            instances.append(orthanc.json("POST", "/instances", data)["ID"])
        except RuntimeError:
            upload_failed += 1
    print(f"upload_s {time.perf_counter() - start:.6f}")
    print(f"upload_failed {upload_failed}")
    studies = orthanc.json("GET", "/studies")
    failed = set()

    def per_instance(target):
        fresh(target)
        for n, instance in enumerate(instances):
            try:
                data = orthanc.call("POST", f"/instances/{instance}/anonymize", "{}")
            except RuntimeError:
                failed.add(("instance", instance))
                continue
            with open(os.path.join(target, f"{n:06d}.dcm"), "wb") as f:
                f.write(data)

    created = []

    def per_study(target):
        fresh(target)
        n = 0
        for study in studies:
            try:
                new = orthanc.json("POST", f"/studies/{study}/anonymize", '{"Synchronous": true}')
            except RuntimeError:
                failed.add(("study", study))
                continue
            created.append(new["ID"])
            for instance in orthanc.json("GET", f"/studies/{new['ID']}/instances"):
                data = orthanc.call("GET", f"/instances/{instance['ID']}/file")
                with open(os.path.join(target, f"{n:06d}.dcm"), "wb") as f:
                    f.write(data)
                n += 1

    def drop_created():
        # Untimed: keeps Orthanc's index the same size for every run.
        while created:
            orthanc.call("DELETE", f"/studies/{created.pop()}")

    timings = {"instance": [], "study": []}
    for run in range(reps + 1):  # run 0 is the warm-up
        for kind, work in (("instance", per_instance), ("study", per_study)):
            start = time.perf_counter()
            work(os.path.join(out, kind))
            elapsed = time.perf_counter() - start
            drop_created()
            if run:
                timings[kind].append(elapsed)
    print(f"instance_s {min(timings['instance']):.6f}")
    print(f"study_s {min(timings['study']):.6f}")
    print(f"anonymize_failed {len(failed)}")
    print(f"studies {len(studies)}")


if __name__ == "__main__":
    main()
