"""Single-object encoding of every record type against python3-avro (an independent Avro implementation) and
the fingerprints the Java build wrote (fingerprints.json, checked against Java by PythonClientSchemasTest)."""
import io
import json
import math
import os
import struct

import avro.io
import avro.schema
import pytest

from sgdscope import encoding
from sgdscope.encoding import Codec, UnreadableRecord

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join(os.path.dirname(HERE), "src", "sgdscope")
EMPTY = 0xC15D213AA4D7A795


def crc64_avro(data):
    """CRC-64-AVRO as the Avro specification's "Schema Fingerprints" gives it."""
    fp = EMPTY
    table = []
    for i in range(256):
        x = i
        for _ in range(8):
            x = (x >> 1) ^ (EMPTY & -(x & 1))
        table.append(x)
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def samples():
    nan, inf = float("nan"), float("inf")
    return {
        "IterationMetrics": {"runId": "é-r00001", "experimentId": "exp", "iteration": 7, "timestampMillis": 1_700_000_000_123,
                             "loss": 2.25, "minibatchLoss": nan, "stepSize": 0.1, "batchSize": 5, "sgNorm": inf,
                             "sgCosPrev": -0.25, "trainAccuracy": None, "gradNormSq": 1e-300, "traceM": -0.0,
                             "traceSigma": None, "sigmaFrobenius": 3.5, "sigmaSpectral": None, "sigmaHalfMuNorm": 0.5,
                             "hessianSpectralNorm": -inf, "probeSeconds": 0.01, "testLoss": None, "testAccuracy": 0.5,
                             "paramDistance": 1.75},
        "IterationFrame": {"experimentId": "exp", "iteration": 3, "timestampMillis": -5, "runIds": ["a", "b", "c"],
                           "loss": [1.0, nan, -0.0], "minibatchLoss": [1.0, 2.0, 3.0], "stepSize": [0.1] * 3,
                           "batchSize": [5, 5, 1_000_000], "sgNorm": [1.0, inf, 2.0], "sgCosPrev": [None, 0.5, nan],
                           "trainAccuracy": None, "gradNormSq": None, "traceM": [1.0, 2.0, 3.0], "traceSigma": None,
                           "sigmaFrobenius": None, "sigmaSpectral": None, "sigmaHalfMuNorm": None,
                           "hessianSpectralNorm": None, "probeSeconds": None, "testLoss": None, "testAccuracy": None,
                           "paramDistance": [0.0, 2.5, None]},
        "RunStarted": {"runId": "e-r00000", "experimentId": "e", "runIndex": 0, "seed": -(2 ** 63), "startedAtMillis": 1,
                       "plannedIterations": 400,
                       "dataset": {"name": "gauss-10", "samples": 100, "inputDimension": 50, "classes": 10,
                                   "randomLabelFraction": 0.0, "standardized": True, "seed": 2 ** 63 - 1, "source": None},
                       "model": {"layers": [50, 10, 30, 10], "activation": "relu", "loss": "softmax_cross_entropy",
                                 "parameterCount": 1150, "initialization": "he-normal"},
                       "optimizer": {"name": "sgd", "learningRate": 0.1, "batchSize": 5, "sampling": "with-replacement"},
                       "precision": "float64", "backend": "pytorch", "device": "cpu", "host": None,
                       "versions": {"torch": "1.13", "ü": "x"}, "settings": {}, "frameKey": "e-r00000",
                       "plannedRuns": 3, "shardIndex": None, "shardCount": None},
        "RunFinished": {"runId": "e-r00000", "experimentId": "e", "status": "DIVERGED", "iterations": 12,
                        "finishedAtMillis": 2, "durationSeconds": 1.5, "finalLoss": nan, "droppedRecords": 3,
                        "message": "loss NaN", "hessianDiagonalMethod": None, "priorSigma": None,
                        "effectiveCurvature": None, "weightedFrobenius": None, "generalizationBound": None,
                        "frameKey": None},
        "SpectrumSnapshot": {"runId": "r", "experimentId": "e", "iteration": 200, "timestampMillis": 9,
                             "precision": "float64", "topK": 2, "hessianEigenvalues": [3.0, -1.0],
                             "hessianResiduals": [1e-9, 2e-9], "secondMomentEigenvalues": [4.0, 1.0],
                             "secondMomentResiduals": [0.0, 0.0], "predictionHessianEigenvalues": [1.0, 0.5],
                             "predictionHessianResiduals": [0.0, 0.0], "principalAngleCosines": [0.9, 0.1],
                             "hessianLayerLoadings": [[0.5, 0.5], [1.0, 0.0]], "davisKahanBounds": [1.0],
                             "hessianFullSpectrum": None, "secondMomentFullSpectrum": [], "probeSeconds": 0.5,
                             "hessianDiagonal": None, "hessianDiagonalMethod": None, "priorSigma": 1.0,
                             "effectiveCurvature": None, "weightedFrobenius": None, "generalizationBound": None,
                             "frameKey": "e-r00000", "hessianMatvecs": 47, "secondMomentMatvecs": None,
                             "predictionHessianMatvecs": 60},
        "QuantileSummary": {"experimentId": "e", "metric": "loss", "iteration": 1, "count": 100, "mean": 1.0, "min": 0.0,
                            "max": 2.0, "p05": 0.1, "p10": 0.2, "p25": 0.5, "p50": 1.0, "p75": 1.5, "p90": 1.8,
                            "p95": 1.9, "normalizedRankError": 0.009, "updatedAtMillis": 3, "nonFinite": 0,
                            "variance": None},
        "DeviationAlert": {"runId": "r", "experimentId": "e", "iteration": 5, "check": "DIVERGENCE", "observed": inf,
                           "bound": 1.0, "severity": "CRITICAL", "message": "diverged", "raisedAtMillis": 4},
    }


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("name", encoding.RECORD_NAMES)
def test_every_record_type_round_trips_through_python_avro_with_the_java_fingerprint(name):
    codec = Codec()
    record = samples()[name]
    message = codec.encode(name, record)
    with open(os.path.join(PACKAGE, "fingerprints.json"), encoding="utf-8") as f:
        java_fingerprint = int(json.load(f)[name], 16)
    assert message[:2] == b"\xc3\x01"
    assert struct.unpack("<Q", message[2:10])[0] == java_fingerprint
    with open(os.path.join(PACKAGE, "schemas", name + ".avsc"), encoding="utf-8") as f:
        schema = avro.schema.parse(f.read())
    decoded = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(message[10:])))
    assert same(decoded, record)
    # the body is byte for byte what python3-avro's own writer makes of the same record
    out = io.BytesIO()
    avro.io.DatumWriter(schema).write(record, avro.io.BinaryEncoder(out))
    assert message[10:] == out.getvalue()
    # and the package's decoder gives the record back
    assert codec.decode(message)[0] == name and same(codec.decode(message)[1], record)


@pytest.mark.parametrize("name", encoding.RECORD_NAMES)
def test_the_java_fingerprints_are_crc64_of_the_canonical_form_of_the_shipped_schemas(name):
    # These schemas have no annotated types, where python3-avro's canonical form would differ from Java's.
    with open(os.path.join(PACKAGE, "schemas", name + ".avsc"), encoding="utf-8") as f:
        text = f.read()
    assert "logicalType" not in text and "avro.java" not in text
    with open(os.path.join(PACKAGE, "fingerprints.json"), encoding="utf-8") as f:
        java = int(json.load(f)[name], 16)
    assert crc64_avro(avro.schema.parse(text).canonical_form.encode("utf-8")) == java


def test_unreadable_bytes_are_one_clear_error():
    codec = Codec()
    with pytest.raises(UnreadableRecord, match="not an Avro single-object"):
        codec.decode(b"\x00\x01garbage!!", "sgd.iterations-0@5")
    with pytest.raises(UnreadableRecord, match="unknown schema fingerprint 0000000000000001"):
        codec.decode(b"\xc3\x01" + struct.pack("<Q", 1) + b"\x00")
    message = codec.encode("IterationMetrics", samples()["IterationMetrics"])
    with pytest.raises(UnreadableRecord, match="left over"):
        codec.decode(message + b"\x00")
    with pytest.raises(ValueError, match="field loss is required"):
        record = dict(samples()["IterationMetrics"])
        del record["loss"]
        codec.encode("IterationMetrics", record)


def random_iteration_metrics(rng):
    """An IterationMetrics dict with the values that stress an encoder: nulls, NaN, infinities, -0.0, subnormals,
    int and long extremes, ids of 1 to 100 characters in several scripts."""
    specials = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 5e-324, -1.7976931348623157e308, 1e-300]

    def double():
        return rng.choice(specials) if rng.random() < 0.3 else rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-30, 30)

    def ident():
        alphabet = "abcXYZ019._-éüß漢字кот😀"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 100)))

    def int32():
        return rng.choice([0, 1, -1, 63, 64, -64, -65, 2 ** 31 - 1, -(2 ** 31), rng.randint(-(2 ** 31), 2 ** 31 - 1)])

    def int64():
        return rng.choice([0, -1, 2 ** 63 - 1, -(2 ** 63), rng.randint(-(2 ** 63), 2 ** 63 - 1),
                           rng.randint(0, 2 ** 42)])

    record = {"runId": ident(), "experimentId": ident(), "iteration": int32(), "timestampMillis": int64(),
              "loss": double(), "minibatchLoss": double(), "stepSize": double(), "batchSize": int32(),
              "sgNorm": double()}
    for name in encoding.ITERATION_METRICS_OPTIONAL:
        record[name] = None if rng.random() < 0.5 else double()
    return record


def test_the_iteration_metrics_writer_writes_what_python_avro_writes_byte_for_byte():
    import random
    rng = random.Random(18)
    codec = Codec()
    with open(os.path.join(PACKAGE, "schemas", "IterationMetrics.avsc"), encoding="utf-8") as f:
        schema = avro.schema.parse(f.read())
    writer = avro.io.DatumWriter(schema)
    for _ in range(2000):
        record = random_iteration_metrics(rng)
        out = io.BytesIO()
        writer.write(record, avro.io.BinaryEncoder(out))
        fast = codec.iteration_metrics.encode_record(record)
        assert fast == codec.encode("IterationMetrics", record)
        assert fast[:10] == codec.encode("IterationMetrics", record)[:10] and fast[10:] == out.getvalue(), record
        assert same(codec.decode(fast)[1], record)


def test_an_iteration_metrics_schema_the_writer_was_not_written_for_is_refused():
    with open(os.path.join(PACKAGE, "schemas", "IterationMetrics.avsc"), encoding="utf-8") as f:
        schema = json.load(f)
    header = b"\xc3\x01" + bytes(8)
    encoding.IterationMetricsWriter(schema, header)  # the shipped schema is accepted
    added = json.loads(json.dumps(schema))
    added["fields"].append({"name": "sharpness", "type": ["null", "double"], "default": None})
    retyped = json.loads(json.dumps(schema))
    retyped["fields"][7]["type"] = "long"
    swapped = json.loads(json.dumps(schema))
    swapped["fields"][4], swapped["fields"][5] = swapped["fields"][5], swapped["fields"][4]
    for changed in (added, retyped, swapped):
        with pytest.raises(ValueError, match="IterationMetricsWriter is written for"):
            encoding.IterationMetricsWriter(changed, header)
    with pytest.raises(ValueError, match="does not fit an Avro int"):
        encoding.codec().iteration_metrics.encode_record(dict(samples()["IterationMetrics"], iteration=2 ** 31))
