#!/usr/bin/env python3
"""Trains the paper's Gauss-10 experiment in PyTorch and publishes every iteration of every run to sgdscope.

Gauss-10 (Table 2, §A.1): n = 100 samples, d = 50, k = 10 blobs N(c_j, I), centres uniform in [-10, 10]^d,
features standardised with the training set's statistics (as sgdscope's trainer does by default); the
net 50-10-30-10 with ReLU, He-normal weights, zero biases, float64; SGD with lr 0.1 on minibatches of 5
drawn with replacement. The data come from numpy's generator with --data-seed: the same construction as
the Java trainer's GaussK, not the same numbers.

Usage:
  PYTHONPATH=clients/python/src /usr/bin/python3 examples/pytorch/train_gauss10.py \
      --bootstrap-servers 127.0.0.1:9092 --experiment g10-torch --runs 10 --iterations 400

Each run publishes RunStarted, an IterationMetrics per iteration (loss on the training set, minibatch loss,
||g_t||, cos(g_t, g_{t-1}), training accuracy; every --moments-every iterations the moments of Eq. 4-7 and L
on the training set), a SpectrumSnapshot every --spectrum-every iterations and RunFinished. --frames trains
the runs in lockstep and publishes one IterationFrame per iteration instead (no curvature, as the Java
ensemble engine). Exit codes: 0 done, 1 Kafka failure, 2 bad arguments.
"""
import argparse
import math
import os
import re
import sys
import time

PROG = os.path.basename(sys.argv[0])
np = torch = sgdscope = sp = None  # imported once the arguments are checked: a bad one is reported at once


def _import_libraries():
    global np, torch, sgdscope, sp
    import numpy
    import torch as torch_module
    import sgdscope as client
    from sgdscope import pytorch as helper
    np, torch, sgdscope, sp = numpy, torch_module, client, helper


def gauss_k(n, d, k, seed):
    """The blobs of §A.1, standardised: (X [n, d] float64, y [n] int64)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10.0, 10.0, size=(k, d))
    labels = np.arange(n) % k
    X = centres[labels] + rng.standard_normal((n, d))
    order = rng.permutation(n)
    X, labels = X[order], labels[order]
    std = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return torch.from_numpy(X), torch.from_numpy(labels.astype(np.int64))


def net(layers, seed):
    """50-10-30-10 ReLU net, He-normal weights N(0, 2 / fan_in), zero biases, float64."""
    gen = torch.Generator().manual_seed(seed)
    modules = []
    for i, (a, b) in enumerate(zip(layers[:-1], layers[1:])):
        linear = torch.nn.Linear(a, b).double()
        with torch.no_grad():
            linear.weight.copy_(torch.randn(b, a, generator=gen, dtype=torch.float64) * math.sqrt(2.0 / a))
            linear.bias.zero_()
        modules.append(linear)
        if i < len(layers) - 2:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def kafka_config(path):
    """librdkafka properties from a file of key=value lines (# comments)."""
    config = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "=" not in line:
                raise ValueError("%s line %d is not key=value: %s" % (path, number, line))
            key, value = line.split("=", 1)
            config[key.strip()] = value.strip()
    return config


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1, got %s" % text)
    return value


def non_negative(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0, got %s" % text)
    return value


def iteration_list(text):
    try:
        values = sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError("must be iterations separated by commas, got %r" % text) from None
    if not values or values[0] < 0:
        raise argparse.ArgumentTypeError("must be iterations >= 0 separated by commas, got %r" % text)
    return values


def arguments(argv):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--bootstrap-servers", required=True, help="Kafka bootstrap servers, host:port[,...]")
    p.add_argument("--experiment", required=True, help="experiment id: 1-100 of A-Z a-z 0-9 . _ -")
    p.add_argument("--runs", type=positive, default=10)
    p.add_argument("--iterations", type=positive, default=400)
    p.add_argument("--seed", type=int, default=1, help="run r is initialised and sampled with seed + r")
    p.add_argument("--data-seed", type=int, default=42)
    p.add_argument("--moments-every", type=non_negative, default=10, help="0 = off")
    p.add_argument("--spectrum-every", type=non_negative, default=0, help="0 = off")
    p.add_argument("--top-k", type=positive, default=5)
    p.add_argument("--snapshot-at", type=iteration_list, default=[], help="t1,t2,...: write snapshot folders")
    p.add_argument("--snapshot-dir", help="where --snapshot-at writes")
    p.add_argument("--frames", action="store_true", help="train in lockstep, publish IterationFrames")
    p.add_argument("--kafka-config", help="file of librdkafka properties (key=value), e.g. security.protocol")
    p.add_argument("--connect-timeout", type=float, default=15.0, help="seconds to wait for the broker (15)")
    args = p.parse_args(argv)
    if args.snapshot_at and not args.snapshot_dir:
        p.error("--snapshot-at needs --snapshot-dir")
    if args.frames and (args.moments_every or args.spectrum_every or args.snapshot_at):
        args.moments_every = args.spectrum_every = 0
        if args.snapshot_at:
            p.error("--frames publishes no curvature: --snapshot-at is for per-run publishing")
    if not re.match(r"^[A-Za-z0-9._-]{1,100}$", args.experiment) or args.experiment in (".", ".."):
        p.error("experiment id %r must be 1 to 100 of A-Z a-z 0-9 . _ - (and not . or ..)" % args.experiment)
    if args.kafka_config:
        try:
            args.kafka_config = kafka_config(args.kafka_config)
        except (OSError, ValueError) as e:
            p.error("--kafka-config: %s" % e)
    return args


class Progress:
    """One line every second: runs done, iterations, iterations per second, the last loss."""

    def __init__(self, runs, iterations):
        self.runs, self.iterations = runs, iterations
        self.start = self.last = time.monotonic()
        self.done_iterations = 0

    def tick(self, runs_done, loss, count=1, force=False):
        self.done_iterations += count
        now = time.monotonic()
        if force or now - self.last >= 1.0:
            self.last = now
            rate = self.done_iterations / max(now - self.start, 1e-9)
            print("runs %d/%d done | %d run-iterations | %.0f it/s | loss %.6g"
                  % (runs_done, self.runs, self.done_iterations, rate, loss), flush=True)


def train_per_run(args, experiment, X, y, progress):
    loss_fn = torch.nn.functional.cross_entropy
    n = X.shape[0]
    for r in range(args.runs):
        seed = args.seed + r
        model = net([50, 10, 30, 10], seed)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        gen = torch.Generator().manual_seed(seed + 1_000_003)
        with experiment.run(r, seed=seed) as run:
            run.watch_model(model, probe=(X, y), moments_every=args.moments_every, spectrum_every=args.spectrum_every,
                            top_k=args.top_k, snapshot_at=args.snapshot_at, snapshot_dir=args.snapshot_dir)
            for t in range(args.iterations):
                with torch.no_grad():
                    out = model(X)
                    full_loss = float(loss_fn(out, y))                      # f(θ_t), Eq. 3
                    accuracy = float((out.argmax(1) == y).double().mean())
                batch = torch.randint(0, n, (5,), generator=gen)            # with replacement
                optimizer.zero_grad()
                minibatch_loss = loss_fn(model(X[batch]), y[batch])
                minibatch_loss.backward()
                run.log(t, loss=full_loss, minibatch_loss=float(minibatch_loss), model=model, optimizer=optimizer,
                        batch_size=5, train_accuracy=accuracy)
                if not math.isfinite(full_loss):
                    break
                optimizer.step()                                            # θ_{t+1} = θ_t − η g_t, Eq. 8
                progress.tick(r, full_loss)
            with torch.no_grad():
                run.final_loss = float(loss_fn(model(X), y))                # f(θ_T) for RunFinished
        progress.tick(r + 1, full_loss, count=0, force=True)


def train_frames(args, experiment, X, y, progress):
    loss_fn = torch.nn.functional.cross_entropy
    n = X.shape[0]
    models = [net([50, 10, 30, 10], args.seed + r) for r in range(args.runs)]
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.1) for m in models]
    gens = [torch.Generator().manual_seed(args.seed + r + 1_000_003) for r in range(args.runs)]
    previous = [None] * args.runs
    with experiment.run_group(range(args.runs), seeds=[args.seed + r for r in range(args.runs)]) as group:
        for t in range(args.iterations):
            cols = {"loss": [], "minibatch_loss": [], "sg_norm": [], "sg_cos_prev": [], "train_accuracy": []}
            for r, (model, optimizer) in enumerate(zip(models, optimizers)):
                with torch.no_grad():
                    out = model(X)
                    cols["loss"].append(float(loss_fn(out, y)))
                    cols["train_accuracy"].append(float((out.argmax(1) == y).double().mean()))
                batch = torch.randint(0, n, (5,), generator=gens[r])
                optimizer.zero_grad()
                mb = loss_fn(model(X[batch]), y[batch])
                mb.backward()
                g = sp.flat_gradient(list(model.parameters()))
                cols["minibatch_loss"].append(float(mb))
                cols["sg_norm"].append(sp.gradient_norm(g))
                cols["sg_cos_prev"].append(sp.gradient_cosine(g, previous[r]))
                previous[r] = g
                optimizer.step()
            group.log(t, step_size=0.1, batch_size=5, **cols)
            progress.tick(0 if t + 1 < args.iterations else args.runs, float(np.median(cols["loss"])), count=args.runs,
                          force=t + 1 == args.iterations)
        with torch.no_grad():
            group.set_final_losses([float(loss_fn(m(X), y)) for m in models])  # f(θ_T) for RunFinished


def main(argv=None):
    args = arguments(sys.argv[1:] if argv is None else argv)
    _import_libraries()
    torch.set_num_threads(1)
    X, y = gauss_k(100, 50, 10, args.data_seed)
    try:
        experiment = sgdscope.Experiment(
            args.bootstrap_servers, args.experiment, planned_runs=args.runs, planned_iterations=args.iterations,
            dataset={"name": "gauss-k", "samples": 100, "inputDimension": 50, "classes": 10, "standardized": True,
                     "seed": args.data_seed, "source": "numpy"},
            model=sp.model_spec(net([50, 10, 30, 10], 0), initialization="he-normal"),
            optimizer={"name": "sgd", "learningRate": 0.1, "batchSize": 5, "sampling": "with-replacement"},
            precision="float64", device="cpu", versions={"torch": torch.__version__},
            settings={"moments-every": args.moments_every, "spectrum-every": args.spectrum_every,
                      "frames": args.frames, "script": "examples/pytorch/train_gauss10.py"},
            kafka_config=args.kafka_config, connect_timeout_seconds=args.connect_timeout)
    except (sgdscope.TelemetryError, ValueError) as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 1
    print("%s: experiment %s, %d runs x %d iterations, Gauss-10, layers [50, 10, 30, 10], batch 5, lr 0.1, float64%s"
          % (PROG, args.experiment, args.runs, args.iterations, ", frames" if args.frames else ""), flush=True)
    progress = Progress(args.runs, args.iterations)
    try:
        with experiment:
            if args.frames:
                train_frames(args, experiment, X, y, progress)
            else:
                train_per_run(args, experiment, X, y, progress)
    except sgdscope.TelemetryError as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(experiment.summary(), flush=True)
        return 130
    elapsed = time.monotonic() - progress.start
    print("Training: %d iterations in %.1f s" % (progress.done_iterations, elapsed))
    print(experiment.summary(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
