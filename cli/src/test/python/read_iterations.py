"""Read every message of sgd.iterations, dumped by a test, with Debian's python3-avro: independently of Java.

Usage: read_iterations.py DUMP IterationFrame.avsc IterationMetrics.avsc

DUMP holds the messages one after another, each as a 4-byte big-endian key length, the key (UTF-8), a
4-byte big-endian value length and the value: Avro single-object encoding (marker C3 01, the 8-byte
little-endian CRC-64-AVRO fingerprint of the writer schema, the body). The topic carries IterationFrame
records (one iteration of a block of runs, a column per quantity) and IterationMetrics records (one
run); the fingerprint tells which, computed here from the .avsc files (schemas/src/test/python/avro_fingerprint.py:
the algorithm of the Avro specification, "Schema Fingerprints"). Prints one JSON object:

  {"messages": M, "frames": F, "records": R,
   "iterations": {runId: [t, ...]},   # every iteration of each run, in the order read
   "keys": {runId: [key, ...]},       # the distinct message keys each run's iterations came under
   "experiments": [experimentId, ...]}
"""
import io
import json
import os
import struct
import sys

import avro.io

# The fingerprints come from the schemas module's avro_fingerprint.py (shared with decode_single_object.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "schemas", "src",
                                "test", "python"))
from avro_fingerprint import load  # noqa: E402


def messages(path):
    with open(path, "rb") as f:
        data = f.read()
    at = 0
    while at < len(data):
        (length,) = struct.unpack(">i", data[at:at + 4])
        key = data[at + 4:at + 4 + length].decode("utf-8")
        at += 4 + length
        (length,) = struct.unpack(">i", data[at:at + 4])
        value = data[at + 4:at + 4 + length]
        at += 4 + length
        yield key, value


def main() -> int:
    frame_fp, frame_schema = load(sys.argv[2])
    metrics_fp, metrics_schema = load(sys.argv[3])
    readers = {frame_fp: ("frame", avro.io.DatumReader(frame_schema)),
               metrics_fp: ("record", avro.io.DatumReader(metrics_schema))}
    counts = {"frame": 0, "record": 0}
    iterations = {}
    keys = {}
    experiments = set()
    total = 0
    for key, value in messages(sys.argv[1]):
        total += 1
        if value[:2] != b"\xc3\x01":
            print("message %d: bad marker %s" % (total, value[:2].hex()), file=sys.stderr)
            return 1
        (fingerprint,) = struct.unpack("<Q", value[2:10])
        if fingerprint not in readers:
            print("message %d: unknown writer schema %016x" % (total, fingerprint), file=sys.stderr)
            return 1
        kind, reader = readers[fingerprint]
        datum = reader.read(avro.io.BinaryDecoder(io.BytesIO(value[10:])))
        counts[kind] += 1
        experiments.add(datum["experimentId"])
        if kind == "frame":
            runs = datum["runIds"]
            for column in ("loss", "minibatchLoss", "stepSize", "batchSize", "sgNorm"):
                if len(datum[column]) != len(runs):
                    print("message %d: column %s has %d values for %d runs" % (total, column, len(datum[column]),
                                                                               len(runs)), file=sys.stderr)
                    return 1
        else:
            runs = [datum["runId"]]
        for run in runs:
            iterations.setdefault(run, []).append(datum["iteration"])
            if key not in keys.setdefault(run, []):
                keys[run].append(key)
    print(json.dumps({"messages": total, "frames": counts["frame"], "records": counts["record"],
                      "iterations": iterations, "keys": keys, "experiments": sorted(experiments)}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
