#!/usr/bin/env python3
"""The cluster log's batches as Redis wrote them to its append-only file (bench/cluster.sh).

Reads every *.aof file under the folder given (Redis 7's appendonlydir, or one file), finds each
XADD on a stream, and prints one JSON object: batches, entries, payload bytes, and the same for the
batches that hold only client requests (chat, votes, moderator commands: no join, close or node
entry), the traffic of an event once everyone has joined. The payload is ReplicatedBatch.encoded()
(Sources/StellingCore/Replication.swift): "SB1", node u32, sequence u64, count u32, then per entry
a kind u8 and a connection u64 and the kind's fields; integers little endian.
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


def kinds(value):
    """The kinds of a batch's entries (1 request, 2 join, 3 close, 4 node started, 5 node gone); None when unreadable."""
    if value[:3] != b"SB1" or len(value) < 19:
        return None
    count = struct.unpack_from("<I", value, 15)[0]
    at = 19
    found = []

    def data():
        nonlocal at
        length = struct.unpack_from("<I", value, at)[0]
        at += 4 + length

    def optional():
        nonlocal at
        present = value[at]
        at += 1
        if present:
            data()

    try:
        for _ in range(count):
            kind = value[at]
            at += 9
            if kind in (1, 4):
                data()
            elif kind == 2:
                at += 2
                optional(); optional(); optional(); data(); optional()
            elif kind == 5:
                at += 4
            elif kind != 3:
                return None
            found.append(kind)
    except (IndexError, struct.error):
        return None
    return found


def main(folder):
    files = sorted(glob.glob(os.path.join(folder, "**", "*.aof"), recursive=True)) if os.path.isdir(folder) else [folder]
    batches = entries = payload = aof = 0
    largest = 0
    request_batches = request_entries = request_payload = 0
    request_times = []  # (milliseconds of the stream id, node) of each request-only batch
    for name in files:
        with open(name, "rb") as handle:
            data = handle.read()
        aof += len(data)
        for args in commands(data):
            if args and args[0].upper() == b"XADD":
                value = args[-1]
                batches += 1
                payload += len(value)
                found = kinds(value)
                if found is None:
                    continue
                entries += len(found)
                largest = max(largest, len(found))
                if found and all(kind == 1 for kind in found):
                    request_batches += 1
                    request_entries += len(found)
                    request_payload += len(value)
                    # Redis writes XADD with the id it chose (MS-SEQ) into the AOF: args[2].
                    milliseconds = int(args[2].split(b"-")[0]) if len(args) > 2 and b"-" in args[2] else None
                    if milliseconds is not None:
                        request_times.append((milliseconds, struct.unpack_from("<I", value, 3)[0]))
    span = (request_times[-1][0] - request_times[0][0]) if request_times else 0
    nodes = len({node for _, node in request_times})
    print(json.dumps({
        "batches": batches, "entries": entries, "payload_b": payload, "aof_b": aof,
        "entries_per_batch": entries / batches if batches else 0, "largest_batch": largest,
        "payload_b_per_batch": payload / batches if batches else 0,
        "payload_b_per_entry": payload / entries if entries else 0,
        "request_batches": request_batches, "request_entries": request_entries, "request_payload_b": request_payload,
        "request_entries_per_batch": request_entries / request_batches if request_batches else 0,
        "request_payload_b_per_entry": request_payload / request_entries if request_entries else 0,
        # From the first request-only batch to the last (stream ids, Redis' clock), and the XADD rate
        # of one node over that span (its request-only batches a second, averaged over the nodes).
        "request_span_ms": span,
        "request_batches_per_s_per_node": request_batches / nodes / (span / 1000) if span and nodes else 0,
    }))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
