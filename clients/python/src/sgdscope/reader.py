"""Reading an experiment back from the kept topics into pandas DataFrames.

A consumer of its own, without a consumer group (partitions assigned, nothing committed): every partition of
each topic is read from its start up to the end offset it had when reading began, then it stops, so the
same topic contents give the same frames (as ``sgdscope export`` reads).
"""

import time
from dataclasses import dataclass

import confluent_kafka

from .encoding import codec
from .producer import ALERTS, ITERATIONS, QUANTILES, RUNS, SPECTRA, TelemetryError

_ITERATION_FIELDS = [f.name for f in codec().schemas["IterationMetrics"].fields]
_FRAME_SCALARS = ("experimentId", "iteration", "timestampMillis")


@dataclass(frozen=True)
class ExperimentData:
    """An experiment's records: one DataFrame per kind, columns named as the schemas' fields."""
    iterations: "object"      # one row per run and iteration (IterationMetrics, frames expanded), sorted
    quantiles: "object"       # QuantileSummary: the latest per (metric, iteration) on the compacted topic
    alerts: "object"          # DeviationAlert
    runs_started: "object"    # RunStarted, nested records flattened as outer.inner
    runs_finished: "object"   # RunFinished
    spectra: "object"         # SpectrumSnapshot


def frame_rows(frame):
    """The IterationMetrics rows a frame stands for (dicts, in runIds order)."""
    rows = []
    for i, run in enumerate(frame["runIds"]):
        row = {"runId": run}
        for name in _ITERATION_FIELDS:
            if name == "runId":
                continue
            if name in _FRAME_SCALARS:
                row[name] = frame[name]
            else:
                column = frame.get(name)
                row[name] = None if column is None else column[i]
        rows.append(row)
    return rows


def _flatten(record, prefix=""):
    out = {}
    for key, value in record.items():
        if isinstance(value, dict) and key not in ("versions", "settings"):
            out.update(_flatten(value, prefix + key + "."))
        else:
            out[prefix + key] = value
    return out


def read_topic(consumer, topic, timeout):
    """(partition, offset, key, value) of every message of ``topic`` up to its end offsets now."""
    metadata = consumer.list_topics(topic, timeout=timeout)
    if topic not in metadata.topics or metadata.topics[topic].error is not None:
        raise TelemetryError("Kafka has no topic %s" % topic)
    partitions = sorted(metadata.topics[topic].partitions)
    ends = {}
    for p in partitions:
        low, high = consumer.get_watermark_offsets(confluent_kafka.TopicPartition(topic, p), timeout=timeout)
        if high > low:
            ends[p] = high
    if not ends:
        return []
    consumer.assign([confluent_kafka.TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING) for p in ends])
    out = []
    deadline = time.monotonic() + timeout
    # Positions, not the last offsets seen: a transactional topic (the streams apps write exactly-once) ends
    # with a commit marker no message stands for; the position moves past it.
    while True:
        positions = consumer.position([confluent_kafka.TopicPartition(topic, p) for p in ends])
        if all(tp.offset >= ends[tp.partition] for tp in positions):
            break
        if time.monotonic() > deadline:
            raise TelemetryError("could not read %s to its end within %g s" % (topic, timeout))
        for message in consumer.consume(1000, 0.2):
            if message.error() is not None:
                if message.error().code() == confluent_kafka.KafkaError._PARTITION_EOF:
                    continue
                raise TelemetryError("reading %s: %s" % (topic, message.error().str()))
            p = message.partition()
            if p in ends and message.offset() < ends[p]:
                key = message.key()
                out.append((p, message.offset(), None if key is None else key.decode("utf-8"), message.value()))
    consumer.unassign()
    return out


def read_experiment(bootstrap_servers, experiment, *, kafka_config=None, timeout_seconds=60.0):
    """Reads ``experiment`` from the ``sgd.*`` topics into an :class:`ExperimentData` of pandas DataFrames.

    ``iterations`` has one row per run and iteration whether the runs were published per run or as frames,
    sorted by runId and iteration, one column per IterationMetrics field (None/NaN where not computed).
    Raises :class:`TelemetryError` when Kafka does not answer or the experiment is not on the topics.
    """
    import pandas as pd

    # confluent-kafka 1.7 refuses a Consumer without group.id; with assign() and no commit no group is joined
    config = {"bootstrap.servers": bootstrap_servers, "enable.auto.commit": False, "group.id": "sgdscope-reader-unused",
              "enable.partition.eof": False, "isolation.level": "read_committed"}
    config.update(kafka_config or {})
    consumer = confluent_kafka.Consumer(config)
    try:
        try:
            consumer.list_topics(timeout=min(timeout_seconds, 15.0))
        except confluent_kafka.KafkaException as e:
            raise TelemetryError("Kafka at %s did not answer: %s" % (bootstrap_servers, e.args[0].str())) from None
        c = codec()
        tables = {k: [] for k in ("iterations", "quantiles", "alerts", "started", "finished", "spectra")}
        experiments = set()
        quantiles = {}
        for topic in (RUNS, ITERATIONS, SPECTRA, QUANTILES, ALERTS):
            for partition, offset, key, value in read_topic(consumer, topic, timeout_seconds):
                if value is None:
                    continue
                name, record = c.decode(value, "%s-%d@%d" % (topic, partition, offset))
                experiments.add(record["experimentId"])
                if record["experimentId"] != experiment:
                    continue
                if name == "IterationMetrics":
                    tables["iterations"].append(record)
                elif name == "IterationFrame":
                    tables["iterations"].extend(frame_rows(record))
                elif name == "QuantileSummary":
                    quantiles[key] = record  # compacted topic: the latest value per key counts
                elif name == "DeviationAlert":
                    tables["alerts"].append(record)
                elif name == "RunStarted":
                    tables["started"].append(_flatten(record))
                elif name == "RunFinished":
                    tables["finished"].append(record)
                elif name == "SpectrumSnapshot":
                    tables["spectra"].append(record)
    finally:
        consumer.close()
    if not tables["iterations"] and not tables["started"]:
        there = sorted(experiments)
        raise TelemetryError("experiment %s is not on the topics at %s (there: %s)"
                             % (experiment, bootstrap_servers, ", ".join(there) if there else "none"))
    schema_columns = {name: [f.name for f in c.schemas[name].fields] for name in c.schemas}

    def frame(rows, columns, sort):
        df = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
        return df.sort_values(sort, kind="stable").reset_index(drop=True) if sort and rows else df

    iterations = frame(tables["iterations"], _ITERATION_FIELDS, ["runId", "iteration"])
    for name in _ITERATION_FIELDS:
        if name not in ("runId", "experimentId", "iteration", "timestampMillis", "batchSize"):
            iterations[name] = iterations[name].astype("float64")
    started_columns = list(tables["started"][0].keys()) if tables["started"] else schema_columns["RunStarted"]
    return ExperimentData(
        iterations=iterations,
        quantiles=frame(list(quantiles.values()), schema_columns["QuantileSummary"], ["metric", "iteration"]),
        alerts=frame(tables["alerts"], schema_columns["DeviationAlert"], ["runId", "iteration"]),
        runs_started=frame(tables["started"], started_columns, ["runId"]),
        runs_finished=frame(tables["finished"], schema_columns["RunFinished"], ["runId"]),
        spectra=frame(tables["spectra"], schema_columns["SpectrumSnapshot"], ["runId", "iteration"]),
    )



