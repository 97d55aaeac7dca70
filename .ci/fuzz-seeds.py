#!/usr/bin/env python3
"""Writes the fuzz seed corpus from the project's vectors (testing/vectors), one file per seed.

Usage: fuzz-seeds.py VECTORS_DIR OUT_DIR

Seeds are every pinned wire object we keep as data: the `.hex` vectors (federation, room, client
and hub records), the CBOR of the MIMI content examples (`cbor_hex:` blocks of the `.txt`
vectors) and the JSON directory example. Every target gets the same corpus: libFuzzer keeps the
seeds that reach new code in that target and drops the rest.
"""

import hashlib
import pathlib
import re
import sys


def content_cbor(text):
    """The hex lines after each `cbor_hex:` line, until a blank or non-hex line."""
    blobs, current = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("cbor_hex:"):
            current = [stripped[len("cbor_hex:"):].strip()]
            continue
        if current is not None:
            if stripped and re.fullmatch(r"[0-9a-fA-F]+", stripped):
                current.append(stripped)
                continue
            blobs.append("".join(current))
            current = None
    if current is not None:
        blobs.append("".join(current))
    return [bytes.fromhex(b) for b in blobs if b and len(b) % 2 == 0]


def main():
    vectors, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    seeds = []
    for path in sorted(vectors.rglob("*.hex")):
        raw = path.read_text()
        try:
            seeds.append(bytes.fromhex("".join(raw.split())))
        except ValueError:
            # A log of `<fields> <hex>` lines: each line's last field is one seed.
            for line in raw.splitlines():
                fields = line.split()
                if fields and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", fields[-1]):
                    seeds.append(bytes.fromhex(fields[-1]))
    for path in sorted(vectors.rglob("*.txt")):
        seeds.extend(content_cbor(path.read_text()))
    for path in sorted(vectors.rglob("*.json")):
        seeds.append(path.read_bytes())
    for seed in seeds:
        (out / hashlib.sha256(seed).hexdigest()[:16]).write_bytes(seed)
    print(f"{len(seeds)} seeds from {vectors} in {out}")


if __name__ == "__main__":
    main()
