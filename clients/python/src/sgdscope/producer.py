"""The Kafka side of the client: one idempotent producer that never holds training up for long."""
import time

import confluent_kafka

from .encoding import codec

RUNS = "sgd.runs"
ITERATIONS = "sgd.iterations"
SPECTRA = "sgd.spectra"
QUANTILES = "sgd.quantiles"
ALERTS = "sgd.alerts"
DEAD_LETTERS = "sgd.dlq"
TELEMETRY_TOPICS = (RUNS, ITERATIONS, SPECTRA)
#: records queued between two ``poll(0)`` calls (they serve failed deliveries' reports and client errors)
POLL_EVERY = 64

#: Settings of the Java trainer's producer (README.md, "Telemetry producer"); kafka_config overrides them.
DEFAULT_CONFIG = {
    # The Java client's partitioner (murmur2 of the key): a run's iterations must land in the partition Kafka
    # Streams (Java) puts its RunStarted/RunFinished after repartitioning by the same key, or the streams apps
    # never meet them in one task. librdkafka's default (consistent_random, CRC32) would split them.
    "partitioner": "murmur2_random",
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 20,
    "batch.size": 262144,
    "compression.type": "lz4",
    "queue.buffering.max.kbytes": 32768,
    "queue.buffering.max.messages": 1000000,
    # only failures call back into Python (a record is counted sent when queued): a callback per delivered
    # record cost more than encoding it
    "delivery.report.only.error": True,
}


class TelemetryError(RuntimeError):
    """Kafka cannot take the telemetry: unreachable, a topic missing, a record refused. One line."""


class Counts:
    """Records dropped (the producer's queue stayed full) and failed (taken, then not delivered), by type and run."""

    def __init__(self):
        self.sent = {}
        self.dropped = {}
        self.failed = {}
        self.dropped_by_run = {}

    def add(self, table, kind, runs, n=1):
        table[kind] = table.get(kind, 0) + n
        if table is not self.sent:
            for run in runs:
                self.dropped_by_run[run] = self.dropped_by_run.get(run, 0) + 1

    def total(self, table):
        return sum(table.values())


class TelemetryProducer:
    """Publishes encoded records; iterations and spectra wait at most ``max_block_seconds`` for queue room.

    A record of type ``iteration`` or ``spectrum`` that still does not fit is dropped and counted (a frame
    once per run it covers, as the Java trainer counts); ``run_started`` and ``run_finished`` are retried for
    ``control_timeout_seconds`` and never dropped for a full queue.
    """

    def __init__(self, bootstrap_servers, kafka_config=None, *, max_block_seconds=0.25,
                 connect_timeout_seconds=15.0, control_timeout_seconds=30.0, queue_kbytes=None, check_connection=True):
        if not bootstrap_servers:
            raise TelemetryError("no bootstrap servers given")
        config = dict(DEFAULT_CONFIG)
        if queue_kbytes is not None:
            config["queue.buffering.max.kbytes"] = int(queue_kbytes)
        config.update(kafka_config or {})
        config["bootstrap.servers"] = bootstrap_servers
        self.bootstrap_servers = bootstrap_servers
        self.max_block_seconds = max_block_seconds
        self.control_timeout_seconds = control_timeout_seconds
        self.counts = Counts()
        self._codec = codec()
        #: IterationMetrics' own writer (:class:`sgdscope.encoding.IterationMetricsWriter`)
        self.iteration_writer = self._codec.iteration_metrics
        self._errors = []
        self._callback_runs = self._callback_kind = self._callback = None
        self._unpolled = 0
        config["error_cb"] = self._errors.append
        try:
            self._producer = confluent_kafka.Producer(config)
        except confluent_kafka.KafkaException as e:
            raise TelemetryError("Kafka client configuration refused: %s" % e.args[0].str()) from None
        if check_connection:
            self._check_connection(connect_timeout_seconds)

    def _check_connection(self, timeout):
        try:
            metadata = self._producer.list_topics(timeout=timeout)
        except confluent_kafka.KafkaException as e:
            detail = "; ".join(sorted({err.str() for err in self._errors})) or e.args[0].str()
            raise TelemetryError("Kafka at %s did not answer within %g s: %s" % (self.bootstrap_servers, timeout, detail)) from None
        missing = [t for t in TELEMETRY_TOPICS if t not in metadata.topics or metadata.topics[t].error is not None]
        if missing:
            raise TelemetryError("Kafka at %s has no topic %s: start `sgdscope streams` (or `sgdscope demo --hold`) "
                                 "first, which creates the sgd.* topics" % (self.bootstrap_servers, ", ".join(missing)))

    def send(self, topic, key, name, record, kind, runs):
        """Encodes and queues one record; returns False when it was dropped (counted)."""
        value = self._codec.encode(name, record)
        return self.send_bytes(topic, key, value, kind, runs)

    def send_bytes(self, topic, key, value, kind, runs):
        """Queues one encoded record; returns False when it was dropped (counted).

        The common case, room in the queue, is a ``produce`` call and a count: the delivery callback is made once
        per (kind, runs) list in a row, and ``poll(0)`` (which serves only failures' reports here) runs every
        :data:`POLL_EVERY` records instead of after each (bench/pytorch-client/RESULTS.md).
        """
        if runs is not self._callback_runs or kind != self._callback_kind:
            self._callback_runs, self._callback_kind = runs, kind
            self._callback = lambda err, msg, kind=kind, runs=runs: self._delivered(err, kind, runs)
        try:
            self._producer.produce(topic, value, key, on_delivery=self._callback)
        except BufferError:
            if not self._wait_for_room(topic, key, value, kind, runs):
                return False
        except confluent_kafka.KafkaException as e:
            raise TelemetryError("Kafka refused a %s record: %s" % (kind, e.args[0].str())) from None
        sent = self.counts.sent
        sent[kind] = sent.get(kind, 0) + (len(runs) if kind == "iteration" else 1)
        self._unpolled += 1
        if self._unpolled >= POLL_EVERY:
            self._unpolled = 0
            self._producer.poll(0)
        return True

    def _wait_for_room(self, topic, key, value, kind, runs):
        """The queue was full: retries, polling, for up to max_block_seconds (control records:
        control_timeout_seconds, then TelemetryError); False when the record is dropped (counted)."""
        control = kind in ("run_started", "run_finished")
        deadline = time.monotonic() + (self.control_timeout_seconds if control else self.max_block_seconds)
        while True:
            now = time.monotonic()
            if now >= deadline:
                if control:
                    raise TelemetryError("Kafka at %s took no %s for %g s (the producer's queue stayed full)"
                                         % (self.bootstrap_servers, kind, self.control_timeout_seconds)) from None
                self.counts.add(self.counts.dropped, kind, runs, len(runs) if kind == "iteration" else 1)
                return False
            self._producer.poll(min(0.05, deadline - now))
            try:
                self._producer.produce(topic, value, key, on_delivery=self._callback)
                return True
            except BufferError:
                continue
            except confluent_kafka.KafkaException as e:
                raise TelemetryError("Kafka refused a %s record: %s" % (kind, e.args[0].str())) from None

    def _delivered(self, err, kind, runs):
        if err is not None:
            self._errors.append(err)
            self.counts.add(self.counts.failed, kind, runs, len(runs) if kind == "iteration" else 1)

    def flush(self, timeout=30.0):
        """Waits until every queued record is acknowledged or failed; raises if some are still queued."""
        left = self._producer.flush(timeout)
        if left:
            raise TelemetryError("%d records not acknowledged by Kafka at %s within %g s"
                                 % (left, self.bootstrap_servers, timeout))

    def close(self, timeout=30.0):
        self.flush(timeout)
