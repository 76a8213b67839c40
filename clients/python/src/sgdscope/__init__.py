"""sgdscope's Python client: publish any training loop's SGD telemetry to Kafka, read an experiment back.

- :class:`Experiment`, :class:`Run`, :class:`RunGroup`: RunStarted, IterationMetrics (or IterationFrames),
  SpectrumSnapshots and RunFinished to the ``sgd.*`` topics, Avro single-object encoded as the Java serde
  reads them (:mod:`sgdscope.encoding`).
- :mod:`sgdscope.pytorch`: ||g_t||, cos(g_t, g_{t-1}), the gradient moments, L and top eigenpairs from a
  torch model (needs torch).
- :func:`read_experiment`: an experiment's iterations, quantiles and alerts as pandas DataFrames (needs pandas).
"""
__version__ = "0.1.0"

from .encoding import UnreadableRecord  # noqa: E402
from .experiment import Experiment, Run, RunGroup, run_id  # noqa: E402
from .producer import TelemetryError  # noqa: E402


def read_experiment(bootstrap_servers, experiment, **options):
    """An experiment's records as pandas DataFrames: see :func:`sgdscope.reader.read_experiment`."""
    from .reader import read_experiment as read
    return read(bootstrap_servers, experiment, **options)


__all__ = ["Experiment", "Run", "RunGroup", "TelemetryError", "UnreadableRecord", "read_experiment", "run_id",
           "__version__"]
