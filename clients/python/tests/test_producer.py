"""The producer against real librdkafka clients: bounded waits, drop-and-count, one-line errors."""
import socket
import time

import pytest

import sgdscope
from sgdscope.producer import TelemetryError, TelemetryProducer


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_broker_is_a_clear_error_after_a_bounded_wait():
    start = time.monotonic()
    with pytest.raises(TelemetryError) as error:
        sgdscope.Experiment("127.0.0.1:%d" % closed_port(), "exp", connect_timeout_seconds=2.0)
    waited = time.monotonic() - start
    assert 1.5 <= waited < 10.0
    message = str(error.value)
    assert "did not answer within 2 s" in message and "\n" not in message


def test_records_that_find_the_queue_full_are_dropped_counted_and_reported_per_run():
    # No broker: nothing leaves the queue, which holds 5 messages; each send waits at most 50 ms.
    producer = TelemetryProducer("127.0.0.1:%d" % closed_port(), {"queue.buffering.max.messages": 5,
                                                                  "message.timeout.ms": 60000},
                                 max_block_seconds=0.05, check_connection=False)
    start = time.monotonic()
    kept = [producer.send_bytes("sgd.iterations", "r1", b"x", "iteration", ["r1"]) for _ in range(12)]
    elapsed = time.monotonic() - start
    assert kept == [True] * 5 + [False] * 7
    assert elapsed < 7 * 0.05 + 2.0, "each dropped record waited about max_block_seconds, not longer"
    assert producer.counts.dropped == {"iteration": 7}
    assert producer.counts.dropped_by_run == {"r1": 7}
    # a frame covering 3 runs counts once per run, and once against each run
    assert producer.send_bytes("sgd.iterations", "a", b"x", "iteration", ["a", "b", "c"]) is False
    assert producer.counts.dropped["iteration"] == 10
    assert producer.counts.dropped_by_run == {"r1": 7, "a": 1, "b": 1, "c": 1}
    # a RunFinished is never dropped for a full queue: it waits, then fails loudly
    producer.control_timeout_seconds = 0.2
    with pytest.raises(TelemetryError, match="queue stayed full"):
        producer.send_bytes("sgd.runs", "r1/finished", b"x", "run_finished", ["r1"])


def test_a_bad_client_property_is_a_one_line_error():
    with pytest.raises(TelemetryError, match="configuration refused"):
        TelemetryProducer("127.0.0.1:1", {"linger.ms": "soon"}, check_connection=False)


def test_bad_ids_are_refused_before_anything_connects():
    with pytest.raises(ValueError, match="experiment id 'a b'"):
        sgdscope.Experiment("127.0.0.1:1", "a b")


def test_failed_deliveries_are_counted_against_the_run_and_kind_each_record_was_sent_for():
    # No broker and a 300 ms delivery timeout: every queued record fails; the callbacks, made once per run and kind
    # in a row, must still name the right ones when runs and kinds alternate.
    producer = TelemetryProducer("127.0.0.1:%d" % closed_port(), {"message.timeout.ms": 300}, check_connection=False)
    sends = [("iteration", ["a"]), ("iteration", ["a"]), ("iteration", ["b"]), ("spectrum", ["b"]),
             ("iteration", ["a", "b", "c"]), ("iteration", ["a"])]
    for kind, runs in sends:
        assert producer.send_bytes("sgd.iterations", runs[0], b"x", kind, runs)
    producer.flush(10.0)
    assert producer.counts.sent == {"iteration": 7, "spectrum": 1}
    assert producer.counts.failed == {"iteration": 7, "spectrum": 1}
    assert producer.counts.dropped_by_run == {"a": 4, "b": 3, "c": 1}
