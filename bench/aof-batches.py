#!/usr/bin/env python3
"""The cluster log's batches as Redis wrote them to its append-only file (bench/cluster.sh).

Reads every *.aof file under the folder given (Redis 7's appendonlydir, or one file), finds each
XADD on a stream, and prints one JSON object: batches, entries (the count in each batch's
header, docs/SCALING.md; the payload starts with "SB1", node u32, sequence u64, count u32, little
endian), payload bytes, and the AOF's bytes per batch.
"""
import glob
import json
import os
import struct
import sys


def commands(data):
    """The RESP arrays of an AOF, one list of byte strings each."""
    at = 0
    while at < len(data):
        if data[at:at + 1] != b"*":
            return
        end = data.index(b"\r\n", at)
        count = int(data[at + 1:end])
        at = end + 2
        args = []
        for _ in range(count):
            end = data.index(b"\r\n", at)
            length = int(data[at + 1:end])
            at = end + 2
            args.append(data[at:at + length])
            at += length + 2
        yield args


def main(folder):
    files = sorted(glob.glob(os.path.join(folder, "**", "*.aof"), recursive=True)) if os.path.isdir(folder) else [folder]
    batches = entries = payload = aof = 0
    largest = 0
    for name in files:
        with open(name, "rb") as handle:
            data = handle.read()
        aof += len(data)
        for args in commands(data):
            if args and args[0].upper() == b"XADD":
                value = args[-1]
                batches += 1
                payload += len(value)
                if value[:3] == b"SB1" and len(value) >= 19:
                    count = struct.unpack_from("<I", value, 15)[0]
                    entries += count
                    largest = max(largest, count)
    print(json.dumps({
        "batches": batches, "entries": entries, "payload_b": payload, "aof_b": aof,
        "entries_per_batch": entries / batches if batches else 0, "largest_batch": largest,
        "payload_b_per_batch": payload / batches if batches else 0,
        "payload_b_per_entry": payload / entries if entries else 0,
    }))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
