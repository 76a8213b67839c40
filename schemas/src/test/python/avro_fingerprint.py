"""Avro schema fingerprints for the tests' independent readers (python3-avro, no Java): CRC-64-AVRO of a schema's
parsing canonical form, the algorithm of the Avro specification ("Schema Fingerprints"), computed here.

Imported by decode_single_object.py (next to it) and by cli/src/test/python/read_iterations.py.
"""
import avro.schema

EMPTY = 0xC15D213AA4D7A795


def crc64_avro(data: bytes) -> int:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp)
    fp = EMPTY
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def load(path):
    """The schema of an .avsc file and its fingerprint: (fingerprint, schema)."""
    with open(path, encoding="utf-8") as f:
        schema = avro.schema.parse(f.read())
    return crc64_avro(schema.canonical_form.encode("utf-8")), schema
