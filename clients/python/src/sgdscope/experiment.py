"""Experiments and runs: what a training loop opens, logs into and closes."""
import math
import platform
import re
import socket

import time

from . import __version__
from .encoding import ITERATION_METRICS_OPTIONAL
from .producer import ITERATIONS, RUNS, SPECTRA, TelemetryProducer

_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
#: Frames cover at most this many runs: the streams apps keep the runs under one frame key in one store
#: entry, which must stay under the 1 MiB a changelog record may take (README.md, "Telemetry producer").
MAX_FRAME_RUNS = 1000
_FRAME_COLUMNS = ("loss", "minibatchLoss", "stepSize", "batchSize", "sgNorm")
_OPTIONAL = ITERATION_METRICS_OPTIONAL
_SNAKE = {"minibatch_loss": "minibatchLoss", "step_size": "stepSize", "batch_size": "batchSize", "sg_norm": "sgNorm",
          "sg_cos_prev": "sgCosPrev", "train_accuracy": "trainAccuracy", "grad_norm_sq": "gradNormSq",
          "trace_m": "traceM", "trace_sigma": "traceSigma", "sigma_frobenius": "sigmaFrobenius",
          "sigma_spectral": "sigmaSpectral", "sigma_half_mu_norm": "sigmaHalfMuNorm",
          "hessian_spectral_norm": "hessianSpectralNorm", "probe_seconds": "probeSeconds", "test_loss": "testLoss",
          "test_accuracy": "testAccuracy", "param_distance": "paramDistance", "loss": "loss"}


def require_id(kind, value):
    """The id if it is 1-100 of A-Z a-z 0-9 . _ - and not . or .. (the rule of the Java side's Ids)."""
    if not isinstance(value, str) or not _ID.match(value) or value in (".", ".."):
        raise ValueError("%s %r must be 1 to 100 of A-Z a-z 0-9 . _ - (and not . or ..)" % (kind, value))
    return value


def run_id(experiment_id, index):
    """The run id the Java trainer gives run ``index`` of an experiment: ``<experiment>-r<5 digits>``."""
    return "%s-r%05d" % (experiment_id, index)


_time = time.time


def _now_ms():
    return int(_time() * 1000)


class Experiment:
    """A group of runs of one configuration, published to one Kafka cluster (a context manager).

    ``dataset``, ``model`` and ``optimizer`` describe every run (RunStarted's DatasetSpec, ModelSpec and
    OptimizerSpec, as dicts with the schema's field names; missing ones get neutral values). ``kafka_config``
    holds librdkafka properties passed through unchanged (``security.protocol``, ``sasl.*``, ``ssl.*``, ...).
    Closing flushes, then ``summary()`` says how many records were sent, dropped and failed.
    ``check_connection=False`` skips the start-up check that the broker answers and has the topics.
    """

    def __init__(self, bootstrap_servers, experiment_id, *, planned_runs=None, planned_iterations=0,
                 dataset=None, model=None, optimizer=None, precision="float64", backend="pytorch", device=None,
                 settings=None, versions=None, kafka_config=None, max_block_seconds=0.25,
                 connect_timeout_seconds=15.0, queue_kbytes=None, check_connection=True):
        self.experiment_id = require_id("experiment id", experiment_id)
        self.planned_runs = planned_runs
        self.planned_iterations = int(planned_iterations)
        self.dataset = _dataset(dataset or {})
        self.model = _model(model or {})
        self.optimizer = _optimizer(optimizer or {})
        self.precision = precision
        self.backend = backend
        self.device = device
        self.settings = {str(k): str(v) for k, v in (settings or {}).items()}
        self.versions = {"sgdscope-python": __version__, "python": platform.python_version()}
        self.versions.update(versions or {})
        self.producer = TelemetryProducer(bootstrap_servers, kafka_config, max_block_seconds=max_block_seconds,
                                          connect_timeout_seconds=connect_timeout_seconds, queue_kbytes=queue_kbytes,
                                          check_connection=check_connection)
        self._closed = False

    def run(self, index, *, seed=0, planned_iterations=None, frame_key=None):
        """A run of this experiment with id ``<experiment>-r<index>``; RunStarted is sent on entering it."""
        return Run(self, index, seed, self.planned_iterations if planned_iterations is None else planned_iterations,
                   frame_key)

    def run_group(self, indices, *, seeds=None, planned_iterations=None):
        """Runs published together as IterationFrames (slices of at most 1,000 runs, one frame key each)."""
        return RunGroup(self, list(indices), seeds, planned_iterations)

    def started_record(self, run):
        return {
            "runId": run.run_id, "experimentId": self.experiment_id, "runIndex": run.index, "seed": int(run.seed),
            "startedAtMillis": _now_ms(), "plannedIterations": int(run.planned_iterations),
            "dataset": self.dataset, "model": self.model, "optimizer": self.optimizer,
            "precision": self.precision, "backend": self.backend, "device": self.device,
            "host": socket.gethostname(), "versions": self.versions, "settings": self.settings,
            "frameKey": run.frame_key, "plannedRuns": self.planned_runs, "shardIndex": None, "shardCount": None,
        }

    def summary(self):
        """One line: records sent, dropped (queue full) and failed (not delivered), by type."""
        c = self.producer.counts

        def by_type(table):
            return ", ".join("%s %d" % kv for kv in sorted(table.items())) or "none"

        return ("Telemetry: %d records sent (%s), %d dropped (producer queue full), %d failed"
                % (c.total(c.sent), by_type(c.sent), c.total(c.dropped), c.total(c.failed)))

    def dropped(self):
        """Records lost so far: dropped for a full queue plus failed deliveries."""
        c = self.producer.counts
        return c.total(c.dropped) + c.total(c.failed)

    def close(self):
        if not self._closed:
            self._closed = True
            self.producer.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.close()
        return False


class Run:
    """One training run: RunStarted on entry, iterations and spectra while open, RunFinished on exit.

    The RunFinished is sent once the run's records are acknowledged (so it never overtakes them) and says
    COMPLETED, FAILED (an exception left the block), CANCELLED (KeyboardInterrupt) or DIVERGED
    (:meth:`diverged`, or a non-finite loss logged), with ``droppedRecords`` the run's records lost.
    """

    def __init__(self, experiment, index, seed, planned_iterations, frame_key=None):
        self.experiment = experiment
        self.index = int(index)
        self.run_id = require_id("run id", run_id(experiment.experiment_id, self.index))
        self.seed = seed
        self.planned_iterations = planned_iterations
        self.frame_key = frame_key
        self.iterations = 0
        self.last_loss = None
        #: f(θ_T) after the last update, for RunFinished.finalLoss (the streams apps close the last step with it);
        #: set it before the run ends, or it stays null (a DIVERGED run reports the last loss logged instead)
        self.final_loss = None
        self.status = None
        self.message = None
        self.watch = None
        self._runs = [self.run_id]
        self._wire_for = None
        self._key = None
        self._prefix = None
        self._started = time.monotonic()
        self._finished = False

    # -- life cycle --------------------------------------------------------------------------------------
    def start(self):
        e = self.experiment
        e.producer.send(RUNS, self.run_id + "/started", "RunStarted", e.started_record(self), "run_started", [self.run_id])
        return self

    def diverged(self, message=None):
        """Marks the run DIVERGED: its RunFinished will say so."""
        self.status = "DIVERGED"
        self.message = message

    def finish(self, status=None, message=None):
        if self._finished:
            return
        self._finished = True
        e = self.experiment
        e.producer.flush()
        status = status or self.status or "COMPLETED"
        c = e.producer.counts
        record = {
            "runId": self.run_id, "experimentId": e.experiment_id, "status": status, "iterations": self.iterations,
            "finishedAtMillis": _now_ms(), "durationSeconds": time.monotonic() - self._started,
            "finalLoss": self.last_loss if status == "DIVERGED" else self.final_loss, "droppedRecords": c.dropped_by_run.get(self.run_id, 0),
            "message": message or self.message, "hessianDiagonalMethod": None, "priorSigma": None,
            "effectiveCurvature": None, "weightedFrobenius": None, "generalizationBound": None,
            "frameKey": self.frame_key,
        }
        e.producer.send(RUNS, self.run_id + "/finished", "RunFinished", record, "run_finished", [self.run_id])
        e.producer.flush()

    def __enter__(self):
        return self.start()

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.finish()
        elif issubclass(kind, KeyboardInterrupt):
            self.finish("CANCELLED", "interrupted")
        else:
            self.finish("FAILED", ("%s: %s" % (kind.__name__, value))[:1000])
        return False

    # -- telemetry ---------------------------------------------------------------------------------------
    def log(self, iteration, *, loss, minibatch_loss=None, step_size=None, batch_size=None, sg_norm=None,
            model=None, optimizer=None, **optional):
        """Publishes the IterationMetrics of ``iteration`` (θ_t before the update); returns the record.

        ``loss`` is f(θ_t) on the training set (Eq. 3); ``minibatch_loss`` defaults to it. With ``model``
        (a torch module whose ``.grad`` holds g_t, i.e. after ``backward()`` and before ``step()``), ||g_t||,
        cos(g_t, g_{t-1}) and, on the cadences of :meth:`watch_model`, the moments, L and a SpectrumSnapshot are
        computed (:mod:`sgdscope.pytorch`); ``step_size`` defaults to ``optimizer``'s first ``lr``. Any other
        IterationMetrics field may be given by its snake_case name (``train_accuracy=``, ``test_loss=``, ...).
        """
        if model is not None:
            if self.watch is None:
                self.watch_model(model)
            values = self.watch.observe(iteration, model, loss)
        else:
            values = {}
        if step_size is None and optimizer is not None:
            step_size = optimizer.param_groups[0]["lr"]
        if sg_norm is not None:
            values["sgNorm"] = float(sg_norm)
        for name, value in optional.items():
            if name not in _SNAKE:
                raise TypeError("log() got an unknown field %r (fields: %s)" % (name, ", ".join(sorted(_SNAKE))))
            values[_SNAKE[name]] = None if value is None else float(value)
        if "sgNorm" not in values:
            raise TypeError("log() needs sg_norm= or model= (whose parameters' .grad give ||g_t||)")
        if step_size is None or batch_size is None:
            raise TypeError("log() needs step_size= (or optimizer=) and batch_size=")
        loss = float(loss)
        iteration = int(iteration)
        now = int(_time() * 1000)
        minibatch_loss = loss if minibatch_loss is None else float(minibatch_loss)
        step_size = float(step_size)
        batch_size = int(batch_size)
        norm = values.pop("sgNorm")
        optional_values = list(map(values.get, _OPTIONAL))
        record = {"runId": self.run_id, "experimentId": self.experiment.experiment_id, "iteration": iteration,
                  "timestampMillis": now, "loss": loss, "minibatchLoss": minibatch_loss, "stepSize": step_size,
                  "batchSize": batch_size, "sgNorm": norm}
        record.update(zip(_OPTIONAL, optional_values))
        self.iterations = iteration + 1
        self.last_loss = loss
        if not (math.isfinite(loss) and math.isfinite(norm)):
            self.status = "DIVERGED"
        producer = self.experiment.producer
        if self._wire_for != self.frame_key or self._prefix is None:  # the key and the id prefix, once per run
            self._wire_for = self.frame_key
            self._key = (self.frame_key or self.run_id).encode("utf-8")
            self._prefix = producer.iteration_writer.prefix(self.run_id, self.experiment.experiment_id)
        message = producer.iteration_writer.encode(self._prefix, iteration, now, loss, minibatch_loss, step_size,
                                                   batch_size, norm, optional_values)
        producer.send_bytes(ITERATIONS, self._key, message, "iteration", self._runs)
        if self.watch is not None:
            spectrum = self.watch.take_spectrum()
            if spectrum is not None:
                self.publish_spectrum(iteration, spectrum)
            self.watch.after_publish(iteration, record, spectrum)
        return record

    def publish_spectrum(self, iteration, spectrum):
        """Publishes a SpectrumSnapshot from a dict of its fields (runId, experimentId, iteration, timestamp added)."""
        record = dict(spectrum)
        record.update(runId=self.run_id, experimentId=self.experiment.experiment_id, iteration=int(iteration),
                      timestampMillis=_now_ms())
        self.experiment.producer.send(SPECTRA, self.run_id, "SpectrumSnapshot", record, "spectrum", [self.run_id])
        return record

    def watch_model(self, model, **options):
        """Sets how :meth:`log` watches ``model``: see :class:`sgdscope.pytorch.ModelWatch` for the options."""
        from .pytorch import ModelWatch
        self.watch = ModelWatch(model, **options)
        return self.watch


class RunGroup:
    """Runs that advance in lockstep, published as IterationFrames: one per slice of <= 1,000 runs and iteration.

    Each slice's frame key is its first run's id, named by every RunStarted and RunFinished of the slice, so a
    run's start, iterations and finish share a partition (docs/design.md, README.md "Topics").
    """

    def __init__(self, experiment, indices, seeds, planned_iterations):
        if not indices:
            raise ValueError("a run group needs at least one run")
        self.experiment = experiment
        self.runs = []
        for i, index in enumerate(indices):
            seed = 0 if seeds is None else seeds[i]
            self.runs.append(experiment.run(index, seed=seed, planned_iterations=planned_iterations))
        self.slices = []
        for at in range(0, len(self.runs), MAX_FRAME_RUNS):
            members = self.runs[at:at + MAX_FRAME_RUNS]
            for run in members:
                run.frame_key = members[0].run_id
            self.slices.append(members)

    def __enter__(self):
        for run in self.runs:
            run.start()
        return self

    def set_final_losses(self, losses):
        """f(θ_T) of each run after its last update (RunFinished.finalLoss), one per run."""
        for run, loss in zip(self.runs, losses):
            run.final_loss = None if loss is None else float(loss)

    def __exit__(self, kind, value, tb):
        for run in self.runs:
            run.__exit__(kind, value, tb)
        return False

    def log(self, iteration, *, loss, sg_norm, step_size, batch_size, minibatch_loss=None, active=None, **optional):
        """Publishes one IterationFrame per slice: column i is run i's value (sequences of len(runs) each).

        ``active`` (booleans, one per run) leaves runs that ended out of this and later frames.
        Optional columns (``sg_cos_prev=``, ``train_accuracy=``, ...) hold None for a run without a value.
        """
        n = len(self.runs)
        columns = {"loss": loss, "minibatchLoss": loss if minibatch_loss is None else minibatch_loss, "sgNorm": sg_norm,
                   "stepSize": step_size if hasattr(step_size, "__len__") else [step_size] * n,
                   "batchSize": batch_size if hasattr(batch_size, "__len__") else [batch_size] * n}
        for name, value in optional.items():
            if name not in _SNAKE or _SNAKE[name] not in _OPTIONAL:
                raise TypeError("log() got an unknown frame column %r" % name)
            columns[_SNAKE[name]] = value
        for name, column in columns.items():
            if column is not None and len(column) != n:
                raise ValueError("column %s has %d values for %d runs" % (name, len(column), n))
        keep = [True] * n if active is None else [bool(a) for a in active]
        at = 0
        now = _now_ms()
        for members in self.slices:
            idx = [at + i for i in range(len(members)) if keep[at + i]]
            at += len(members)
            if not idx:
                continue
            frame = {"experimentId": self.experiment.experiment_id, "iteration": int(iteration),
                     "timestampMillis": now, "runIds": [self.runs[i].run_id for i in idx]}
            for name in _FRAME_COLUMNS:
                cast = int if name == "batchSize" else float
                frame[name] = [cast(columns[name][i]) for i in idx]
            for name in _OPTIONAL:
                column = columns.get(name)
                frame[name] = None if column is None else [None if column[i] is None else float(column[i]) for i in idx]
            runs = frame["runIds"]
            self.experiment.producer.send(ITERATIONS, members[0].run_id, "IterationFrame", frame, "iteration", runs)
            for i in idx:
                run = self.runs[i]
                run.iterations = int(iteration) + 1
                run.last_loss = float(columns["loss"][i])
                if not (math.isfinite(run.last_loss) and math.isfinite(float(columns["sgNorm"][i]))):
                    run.status = "DIVERGED"


def _dataset(d):
    out = {"name": "custom", "samples": 0, "inputDimension": 0, "classes": 0, "randomLabelFraction": 0.0,
           "standardized": False, "seed": 0, "source": None}
    out.update(d)
    return out


def _model(d):
    out = {"layers": [], "activation": "unknown", "loss": "unknown", "parameterCount": 0, "initialization": "pytorch-default"}
    out.update(d)
    return out


def _optimizer(d):
    out = {"name": "sgd", "learningRate": 0.0, "batchSize": 0, "sampling": "unknown"}
    out.update(d)
    return out



