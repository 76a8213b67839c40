"""Encodes one record of each type with the Python client's codec (clients/python/src/sgdscope/encoding.py).

Usage: PYTHONPATH=clients/python/src encode_with_client.py OUT_DIR

Writes OUT_DIR/<RecordName>.bin, each a single-object encoded message, for PythonClientEncodingTest to read
with the Java serdes. IterationMetrics records are written by the writer ``Run.log`` uses
(``IterationMetricsWriter``): IterationMetrics.bin, IterationMetricsEdges.bin (extreme values) and
IterationMetricsRandom-<i>.bin (RANDOM_RECORDS records of random values, nulls, NaN and unicode ids).
"""
import os
import random
import sys

from sgdscope.encoding import codec

RECORDS = {
    "IterationMetrics": {"runId": "py-r00003", "experimentId": "py", "iteration": 12, "timestampMillis": 1_700_000_000_000,
                         "loss": 2.5, "minibatchLoss": float("nan"), "stepSize": 0.1, "batchSize": 5, "sgNorm": 3.25,
                         "sgCosPrev": -0.5, "trainAccuracy": None, "gradNormSq": 0.75, "traceM": 9.0, "traceSigma": 8.25,
                         "sigmaFrobenius": 4.0, "sigmaSpectral": 2.0, "sigmaHalfMuNorm": 0.5, "hessianSpectralNorm": 7.5,
                         "probeSeconds": 0.01, "testLoss": None, "testAccuracy": None},
    "IterationFrame": {"experimentId": "py", "iteration": 4, "timestampMillis": 5, "runIds": ["py-r00000", "py-r00001"],
                       "loss": [1.5, float("inf")], "minibatchLoss": [1.0, 2.0], "stepSize": [0.1, 0.1],
                       "batchSize": [5, 7], "sgNorm": [0.5, 0.25], "sgCosPrev": [None, 0.125], "trainAccuracy": None,
                       "gradNormSq": None, "traceM": None, "traceSigma": None, "sigmaFrobenius": None,
                       "sigmaSpectral": None, "sigmaHalfMuNorm": None, "hessianSpectralNorm": None,
                       "probeSeconds": None, "testLoss": None, "testAccuracy": [0.75, None]},
    "RunStarted": {"runId": "py-r00000", "experimentId": "py", "runIndex": 0, "seed": 42, "startedAtMillis": 6,
                   "plannedIterations": 400,
                   "dataset": {"name": "gauss-k", "samples": 100, "inputDimension": 50, "classes": 10,
                               "randomLabelFraction": 0.0, "standardized": True, "seed": 7, "source": None},
                   "model": {"layers": [50, 10, 30, 10], "activation": "relu", "loss": "softmax_cross_entropy",
                             "parameterCount": 1150, "initialization": "he-normal"},
                   "optimizer": {"name": "sgd", "learningRate": 0.1, "batchSize": 5, "sampling": "with-replacement"},
                   "precision": "float64", "backend": "pytorch", "device": "cpu", "host": "h",
                   "versions": {"torch": "1.13"}, "settings": {"frames": "true"}, "frameKey": "py-r00000",
                   "plannedRuns": 2, "shardIndex": None, "shardCount": None},
    "RunFinished": {"runId": "py-r00001", "experimentId": "py", "status": "CANCELLED", "iterations": 30,
                    "finishedAtMillis": 8, "durationSeconds": 1.25, "finalLoss": 0.5, "droppedRecords": 2,
                    "message": "interrupted", "hessianDiagonalMethod": None, "priorSigma": None,
                    "effectiveCurvature": None, "weightedFrobenius": None, "generalizationBound": None,
                    "frameKey": "py-r00000"},
    "SpectrumSnapshot": {"runId": "py-r00003", "experimentId": "py", "iteration": 20, "timestampMillis": 9,
                         "precision": "float64", "topK": 2, "hessianEigenvalues": [3.0, -1.0],
                         "hessianResiduals": [1e-9, 2e-9], "secondMomentEigenvalues": [4.0, 1.0],
                         "secondMomentResiduals": [0.0, 0.0], "predictionHessianEigenvalues": [1.0, 0.5],
                         "predictionHessianResiduals": [0.0, 0.0], "principalAngleCosines": [0.875, 0.125],
                         "hessianLayerLoadings": [[0.25, 0.75], [1.0, 0.0]], "davisKahanBounds": [1.5],
                         "hessianFullSpectrum": None, "secondMomentFullSpectrum": None, "probeSeconds": 0.5,
                         "hessianDiagonal": None, "hessianDiagonalMethod": None, "priorSigma": None,
                         "effectiveCurvature": None, "weightedFrobenius": None, "generalizationBound": None},
}


EDGES = {"runId": "é漢😀-r99999", "experimentId": "é漢😀", "iteration": 2 ** 31 - 1, "timestampMillis": -(2 ** 63),
         "loss": -0.0, "minibatchLoss": float("-inf"), "stepSize": 5e-324, "batchSize": -(2 ** 31),
         "sgNorm": float("inf"), "sgCosPrev": None, "trainAccuracy": None, "gradNormSq": None, "traceM": None,
         "traceSigma": None, "sigmaFrobenius": None, "sigmaSpectral": None, "sigmaHalfMuNorm": None,
         "hessianSpectralNorm": None, "probeSeconds": None, "testLoss": None, "testAccuracy": 1.7976931348623157e308}
RANDOM_RECORDS = 200


def random_record(rng):
    specials = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 5e-324, 1e-300]

    def double():
        return rng.choice(specials) if rng.random() < 0.3 else rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-30, 30)

    def ident():
        return "".join(rng.choice("abcXYZ019._-éü漢😀") for _ in range(rng.randint(1, 100)))

    record = {"runId": ident(), "experimentId": ident(), "iteration": rng.randint(-(2 ** 31), 2 ** 31 - 1),
              "timestampMillis": rng.randint(-(2 ** 63), 2 ** 63 - 1), "loss": double(), "minibatchLoss": double(),
              "stepSize": double(), "batchSize": rng.choice([0, 1, 64, -1, rng.randint(-(2 ** 31), 2 ** 31 - 1)]),
              "sgNorm": double()}
    for name in RECORDS["IterationMetrics"]:
        if name not in record:
            record[name] = None if rng.random() < 0.5 else double()
    return record


def main() -> int:
    out = sys.argv[1]
    fast = codec().iteration_metrics
    for name, record in RECORDS.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(fast.encode_record(record) if name == "IterationMetrics" else codec().encode(name, record))
    with open(os.path.join(out, "IterationMetricsEdges.bin"), "wb") as f:
        f.write(fast.encode_record(EDGES))
    rng = random.Random(18)
    for i in range(RANDOM_RECORDS):
        record = random_record(rng)
        message = fast.encode_record(record)
        assert message == codec().encode("IterationMetrics", record), "the two Python writers differ"
        with open(os.path.join(out, "IterationMetricsRandom-%d.bin" % i), "wb") as f:
            f.write(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
