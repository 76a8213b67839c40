"""Avro single-object encoding of sgdscope's records, with the schemas and fingerprints the Java serde uses.

A message is the marker ``C3 01``, the 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's
parsing canonical form, then the Avro binary body (Avro specification, "Single object encoding"). The
fingerprints come from ``fingerprints.json``, written by the Java build (``PythonClientSchemasTest`` in
``schemas``): python3-avro's canonical form differs from Java's for annotated types, so it is never computed
here. The ``.avsc`` files under ``schemas/`` are copies of ``schemas/src/main/avro`` (the same test fails when
they differ).

Bodies are written by :class:`BodyWriter`, compiled once per schema from its JSON (Avro specification,
"Binary Encoding": zig-zag varints, little-endian IEEE doubles, arrays as one block ended by a zero count,
unions as the branch index then the value); they are read by python3-avro's ``DatumReader``. IterationMetrics,
written once per run and iteration, has a writer of its own for its fixed layout (:class:`IterationMetricsWriter`).
"""
import io
import json
import os
import struct

import avro.io
import avro.schema

MARKER = b"\xc3\x01"
HEADER_LENGTH = 10
_HERE = os.path.dirname(os.path.abspath(__file__))
RECORD_NAMES = ("RunStarted", "RunFinished", "IterationMetrics", "IterationFrame", "SpectrumSnapshot",
                "QuantileSummary", "DeviationAlert")


class UnreadableRecord(ValueError):
    """Bytes that are not a single-object encoded sgdscope record of the current schemas."""


def _pack_double(value):
    return struct.pack("<d", value)


def _varlong(value, out):
    value = (value << 1) ^ (value >> 63)  # zig-zag
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _write_string(value, out):
    data = value.encode("utf-8")
    _varlong(len(data), out)
    out += data


def _compile(schema, named):
    """A function (value, bytearray) -> None writing one value of the JSON schema ``schema``."""
    if isinstance(schema, str):
        if schema in named:
            return named[schema]
        simple = {
            "null": lambda v, out: None,
            "boolean": lambda v, out: out.append(1 if v else 0),
            "int": lambda v, out: _varlong(int(v), out),
            "long": lambda v, out: _varlong(int(v), out),
            "double": lambda v, out: out.extend(_pack_double(float(v))),
            "float": lambda v, out: out.extend(struct.pack("<f", float(v))),
            "string": _write_string,
            "bytes": lambda v, out: (_varlong(len(v), out), out.extend(v)),
        }
        if schema not in simple:
            raise ValueError("unsupported Avro type " + schema)
        return simple[schema]
    if isinstance(schema, list):
        return _compile_union(schema, named)
    kind = schema["type"]
    if kind == "record":
        writers = []
        holder = {}

        def write_record(v, out):
            for name, write in writers:
                try:
                    write(v[name] if name in v else holder["defaults"][name], out)
                except KeyError:
                    raise ValueError("record %s: field %s is required" % (schema["name"], name)) from None

        named[schema["name"]] = write_record
        if "namespace" in schema:
            named[schema["namespace"] + "." + schema["name"]] = write_record
        holder["defaults"] = {f["name"]: f["default"] for f in schema["fields"] if "default" in f}
        for f in schema["fields"]:
            writers.append((f["name"], _compile(f["type"], named)))
        return write_record
    if kind == "enum":
        symbols = {s: i for i, s in enumerate(schema["symbols"])}

        def write_enum(v, out):
            if v not in symbols:
                raise ValueError("%s is not a symbol of %s %s" % (v, schema["name"], list(symbols)))
            _varlong(symbols[v], out)

        named[schema["name"]] = write_enum
        return write_enum
    if kind == "array":
        items = _compile(schema["items"], named)

        def write_array(v, out):
            if len(v):
                _varlong(len(v), out)
                for item in v:
                    items(item, out)
            out.append(0)

        return write_array
    if kind == "map":
        values = _compile(schema["values"], named)

        def write_map(v, out):
            if len(v):
                _varlong(len(v), out)
                for key, item in v.items():
                    _write_string(key, out)
                    values(item, out)
            out.append(0)

        return write_map
    return _compile(kind, named)


def _compile_union(branches, named):
    if len(branches) == 2 and branches[0] == "null":
        other = _compile(branches[1], named)

        def write_nullable(v, out):
            if v is None:
                out.append(0)
            else:
                out.append(2)  # zig-zag of branch 1
                other(v, out)

        return write_nullable
    raise ValueError("only unions [null, T] are supported, not %s" % (branches,))


class BodyWriter:
    """Writes the Avro binary body of one record schema; values are dicts keyed by field name."""

    def __init__(self, schema_json):
        self._write = _compile(schema_json, {})

    def write(self, record, out):
        self._write(record, out)


#: The IterationMetrics layout :class:`IterationMetricsWriter` is written for: (field, Avro type) in schema order.
ITERATION_METRICS_LAYOUT = (
    ("runId", "string"), ("experimentId", "string"), ("iteration", "int"), ("timestampMillis", "long"),
    ("loss", "double"), ("minibatchLoss", "double"), ("stepSize", "double"), ("batchSize", "int"),
    ("sgNorm", "double")) + tuple((name, ["null", "double"]) for name in (
        "sgCosPrev", "trainAccuracy", "gradNormSq", "traceM", "traceSigma", "sigmaFrobenius", "sigmaSpectral",
        "sigmaHalfMuNorm", "hessianSpectralNorm", "probeSeconds", "testLoss", "testAccuracy", "paramDistance"))
#: The nullable double fields of IterationMetrics, in schema order.
ITERATION_METRICS_OPTIONAL = tuple(name for name, kind in ITERATION_METRICS_LAYOUT if isinstance(kind, list))
_INT_MIN, _INT_MAX = -(2 ** 31), 2 ** 31 - 1
_PACK_3D = struct.Struct("<ddd").pack
_PACK_D = struct.Struct("<d").pack
_PACK_PRESENT_D = struct.Struct("<Bd").pack


def _checked_int(name, value):
    if not _INT_MIN <= value <= _INT_MAX:
        raise ValueError("IterationMetrics.%s = %d does not fit an Avro int (32 bits)" % (name, value))
    return value


class IterationMetricsWriter:
    """The single-object encoding of IterationMetrics, the record of every iteration, written for its layout.

    Byte for byte what :class:`BodyWriter` (and python3-avro's ``DatumWriter``) write, with the header, at a
    fraction of the cost: the header and the two ids are encoded once per run (:meth:`prefix`), the three doubles
    after ``timestampMillis`` by one ``struct`` call. The writer refuses a schema whose fields are not
    :data:`ITERATION_METRICS_LAYOUT` (a field added, removed, renamed or retyped), so a schema change fails at
    import, never as silently mis-encoded records.
    """

    def __init__(self, schema_json, header):
        layout = tuple((f["name"], f["type"]) for f in schema_json["fields"])
        if schema_json.get("name") != "IterationMetrics" or layout != ITERATION_METRICS_LAYOUT:
            raise ValueError("IterationMetrics.avsc has the fields %s; encoding.IterationMetricsWriter is written for "
                             "%s: update it with the schema" % ([n for n, _ in layout],
                                                                [n for n, _ in ITERATION_METRICS_LAYOUT]))
        self.header = bytes(header)

    def prefix(self, run_id, experiment_id):
        """The header and the fields runId and experimentId: the bytes every record of one run starts with."""
        out = bytearray(self.header)
        _write_string(run_id, out)
        _write_string(experiment_id, out)
        return bytes(out)

    def encode(self, prefix, iteration, timestamp_millis, loss, minibatch_loss, step_size, batch_size, sg_norm,
               optional):
        """One message: ``prefix`` (of :meth:`prefix`), then the fields in schema order; ``optional`` holds the
        values of :data:`ITERATION_METRICS_OPTIONAL` in order, None for null."""
        out = bytearray(prefix)
        _varlong(_checked_int("iteration", iteration), out)
        _varlong(timestamp_millis, out)
        out += _PACK_3D(loss, minibatch_loss, step_size)
        _varlong(_checked_int("batchSize", batch_size), out)
        out += _PACK_D(sg_norm)
        for v in optional:
            if v is None:
                out.append(0)
            else:
                out += _PACK_PRESENT_D(2, v)  # union branch 1 (zig-zag 2), then the double
        return bytes(out)

    def encode_record(self, record):
        """One message from a dict with the schema's field names (missing optional fields are null)."""
        return self.encode(self.prefix(record["runId"], record["experimentId"]), int(record["iteration"]),
                           int(record["timestampMillis"]), float(record["loss"]), float(record["minibatchLoss"]),
                           float(record["stepSize"]), int(record["batchSize"]), float(record["sgNorm"]),
                           [None if record.get(name) is None else float(record[name])
                            for name in ITERATION_METRICS_OPTIONAL])


class Codec:
    """The current schemas of sgdscope's records, their Java fingerprints, writers and readers."""

    def __init__(self, directory=_HERE):
        with open(os.path.join(directory, "fingerprints.json"), encoding="utf-8") as f:
            hex_fingerprints = json.load(f)
        self.schemas = {}
        self.fingerprints = {}
        self._headers = {}
        self._writers = {}
        self._by_fingerprint = {}
        for name in RECORD_NAMES:
            with open(os.path.join(directory, "schemas", name + ".avsc"), encoding="utf-8") as f:
                text = f.read()
            fingerprint = int(hex_fingerprints[name], 16)
            self.schemas[name] = avro.schema.parse(text)
            self.fingerprints[name] = fingerprint
            self._headers[name] = MARKER + struct.pack("<Q", fingerprint)
            self._writers[name] = BodyWriter(json.loads(text))
            if name == "IterationMetrics":
                self.iteration_metrics = IterationMetricsWriter(json.loads(text), self._headers[name])
            self._by_fingerprint[fingerprint] = (name, avro.io.DatumReader(self.schemas[name]))

    def encode(self, name, record):
        """The single-object encoding of ``record`` (a dict) as the current schema ``name``."""
        out = bytearray(self._headers[name])
        self._writers[name].write(record, out)
        return bytes(out)

    def decode(self, data, where="message"):
        """(record name, dict) of a single-object encoded message; UnreadableRecord if it is none of ours."""
        if data is None or len(data) < HEADER_LENGTH or data[:2] != MARKER:
            raise UnreadableRecord("%s: not an Avro single-object encoded record (%d bytes, header %s, expected c301)"
                                   % (where, 0 if data is None else len(data), (data or b"")[:2].hex()))
        (fingerprint,) = struct.unpack("<Q", data[2:HEADER_LENGTH])
        if fingerprint not in self._by_fingerprint:
            raise UnreadableRecord("%s: unknown schema fingerprint %016x (this client reads %s)"
                                   % (where, fingerprint, ", ".join(RECORD_NAMES)))
        name, reader = self._by_fingerprint[fingerprint]
        buffer = io.BytesIO(data[HEADER_LENGTH:])
        try:
            record = reader.read(avro.io.BinaryDecoder(buffer))
        except Exception as e:  # python3-avro fails in many ways on corrupt bytes
            raise UnreadableRecord("%s: corrupt %s: %s" % (where, name, e)) from e
        if buffer.tell() != len(data) - HEADER_LENGTH:
            raise UnreadableRecord("%s: corrupt %s: bytes left over after the record" % (where, name))
        return name, record


_DEFAULT = None


def codec():
    """The codec of the schemas shipped in this package, made once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Codec()
    return _DEFAULT


__all__ = ["Codec", "BodyWriter", "IterationMetricsWriter", "ITERATION_METRICS_LAYOUT", "ITERATION_METRICS_OPTIONAL",
           "UnreadableRecord", "codec", "MARKER", "HEADER_LENGTH", "RECORD_NAMES"]
