#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets from the ASL conformance
cases: distinct definitions (definition_fuzz), the JSONPaths and intrinsic
calls written in them (json_path_fuzz, intrinsic_fuzz). Run once when the
cases change; the corpora are checked in.
usage: make_corpus.py CASES_DIR OUT_DIR"""

import hashlib
import json
import os
import sys


def walk(value, paths, calls):
    if isinstance(value, dict):
        for key, v in value.items():
            if key.endswith(".$") and isinstance(v, str):
                (calls if v.startswith("States.") else paths).add(v)
            elif key.endswith("Path") and isinstance(v, str) and v.startswith("$"):
                paths.add(v)
            walk(v, paths, calls)
    elif isinstance(value, list):
        for v in value:
            walk(v, paths, calls)


def write(directory, items, limit):
    os.makedirs(directory, exist_ok=True)
    chosen = sorted(items, key=lambda t: hashlib.sha1(t.encode()).hexdigest())[:limit]
    for text in chosen:
        name = hashlib.sha1(text.encode()).hexdigest()[:16]
        with open(os.path.join(directory, name), "w") as f:
            f.write(text)


def main():
    cases, out = sys.argv[1], sys.argv[2]
    definitions, paths, calls = set(), set(), set()
    for name in sorted(os.listdir(cases)):
        with open(os.path.join(cases, name)) as f:
            case = json.load(f)
        d = case.get("definition")
        if d is None:
            continue
        definitions.add(d if isinstance(d, str) else json.dumps(d, separators=(",", ":")))
        walk(d if not isinstance(d, str) else json.loads(d) if d.startswith("{") else {},
             paths, calls)
    write(os.path.join(out, "definition"), definitions, 120)
    write(os.path.join(out, "json_path"), paths, 150)
    write(os.path.join(out, "intrinsic"), calls, 150)


if __name__ == "__main__":
    main()
