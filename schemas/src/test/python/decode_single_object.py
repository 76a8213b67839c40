"""Decode one Avro single-object encoded message with Debian's python3-avro, independently of Java.

Usage: decode_single_object.py SCHEMA.avsc MESSAGE.bin

Checks the marker (C3 01), computes the CRC-64-AVRO fingerprint of the schema's parsing canonical
form itself (avro_fingerprint.py: algorithm of the Avro specification, "Schema Fingerprints") and compares it with the
message header, then decodes the body with the writer schema. Prints one JSON object:
{"fingerprint_header": hex, "fingerprint_python": hex, "record": {...}}. NaN and infinities are
printed as the strings "NaN", "Infinity", "-Infinity".
"""
import io
import json
import math
import struct
import sys

import avro.io

from avro_fingerprint import load


def plain(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def main() -> int:
    python_fp, schema = load(sys.argv[1])
    with open(sys.argv[2], "rb") as f:
        message = f.read()
    if message[:2] != b"\xc3\x01":
        print("bad marker: " + message[:2].hex(), file=sys.stderr)
        return 1
    (header_fp,) = struct.unpack("<Q", message[2:10])
    reader = avro.io.DatumReader(schema)
    record = reader.read(avro.io.BinaryDecoder(io.BytesIO(message[10:])))
    print(json.dumps({
        "fingerprint_header": format(header_fp, "016x"),
        "fingerprint_python": format(python_fp, "016x"),
        "record": plain(record),
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
