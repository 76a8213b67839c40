"""Where `run.log`'s time goes (README.md here, "Profile"): the benchmark's loop in one process, with the pieces
of `run.log` timed by `time.perf_counter_ns` around each, and the torch operators it dispatches counted.

Usage: profile_log.py [--iterations 2000] [--zero-grad zero|none] [--bootstrap-servers B] [--threads 2]

Every iteration runs the benchmark's step (zero_grad, forward, loss, backward) and then `run.log(t, ...)` of the
client on PYTHONPATH, with these pieces timed (wall ns, median over the timed iterations after 50 warm-ups):

- `log`: the whole `run.log` call;
- `observe`: `ModelWatch.observe` (||g_t||, cos(g_t, g_{t-1}), ||theta_t - theta_0||, the cadences), of which
  `gradients` is the `GradientTracker.observe` call and `distance` the `DistanceFromStart.distance` call;
- `encode`: `IterationMetricsWriter.encode`; `produce`: `TelemetryProducer.send_bytes` (librdkafka's
  `produce` and `poll(0)`);
- `rest`: log - observe - encode - produce (the arguments, the record dict, Python's calls).

Then, on the last iteration's gradients, micro-benchmarks of the ways to compute the three per-parameter
sums (median of 200 calls each): ||theta_t - theta_0|| by a NumPy difference into a preallocated buffer,
squared in place and summed pairwise (what the client does), with a BLAS dot instead, or by one `torch.dist`
per parameter, NumPy views and dots, torch dots with `.item()` per parameter or one
`torch.stack(...).tolist()`, `torch._foreach_*` where this torch has them, the copy of g_t, the cost of a
NumPy view of a fresh tensor. Without --bootstrap-servers the records go to a closed port (produce only
queues them: the enqueue cost is what is timed; librdkafka's threads still try to connect).
The operator count comes from `torch.profiler.profile` around 20 `run.log` calls (CPU activities).
"""
import argparse
import socket
import statistics
import time

import torch

import sgdscope
from bench import setup
from sgdscope import pytorch as sp


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "127.0.0.1:%d" % s.getsockname()[1]


def timed(table, name, fn):
    """fn wrapped so each call adds its wall ns to table[name] (the last value of that list)."""
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            table[name][-1] += time.perf_counter_ns() - t0
    return wrapper


def median_ns(fn, repeats=200):
    fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1000.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--zero-grad", choices=["zero", "none"], default="zero")
    p.add_argument("--bootstrap-servers")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    X, y, gen, model, optimizer, loss_fn = setup(args.threads)
    set_to_none = args.zero_grad == "none"
    bootstrap = args.bootstrap_servers or closed_port()
    experiment = sgdscope.Experiment(bootstrap, "profile-log", planned_runs=1, planned_iterations=args.iterations,
                                     precision="float32", check_connection=args.bootstrap_servers is not None,
                                     kafka_config={"message.timeout.ms": 600000})
    run = experiment.run(0, seed=2).start()
    names = ("log", "observe", "gradients", "distance", "encode", "produce")
    table = {n: [] for n in names}
    run.watch_model(model)
    watch = run.watch
    watch.observe = timed(table, "observe", watch.observe)
    tracker = watch._gradients
    tracker.observe = timed(table, "gradients", tracker.observe)
    distance = watch._distance
    distance.distance = timed(table, "distance", distance.distance)
    producer = experiment.producer
    producer.iteration_writer.encode = timed(table, "encode", producer.iteration_writer.encode)
    producer.send_bytes = timed(table, "produce", producer.send_bytes)
    log = timed(table, "log", run.log)
    warmup = 50

    def step(t):
        batch = torch.randint(0, X.shape[0], (64,), generator=gen)
        optimizer.zero_grad(set_to_none=set_to_none)
        loss = loss_fn(model(X[batch]), y[batch])
        loss.backward()
        return loss

    for t in range(args.iterations + warmup):
        loss = step(t)
        for n in names:
            table[n].append(0)
        log(t, loss=float(loss), model=model, optimizer=optimizer, batch_size=64)
        optimizer.step()
    med = {n: statistics.median(v[warmup:]) / 1000.0 for n, v in table.items()}
    rest = med["log"] - med["observe"] - med["encode"] - med["produce"]
    print("zero_grad=%s iterations=%d torch %s, p = %d in %d tensors" % (
        args.zero_grad, args.iterations, torch.__version__, sum(q.numel() for q in model.parameters()),
        len(list(model.parameters()))))
    print("run.log pieces, wall µs (median): " + ", ".join("%s %.1f" % (n, med[n]) for n in names)
          + ", rest %.1f" % rest)

    # -- the torch operators run.log dispatches --------------------------------------------------------------
    from torch.profiler import ProfilerActivity, profile
    counts = {}
    for t in range(20):  # each call on fresh gradients: the step runs outside the profiled block
        loss = float(step(t))
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            run.log(args.iterations + warmup + t, loss=loss, model=model, optimizer=optimizer, batch_size=64)
        for e in prof.events():
            counts[e.name] = counts.get(e.name, 0) + 1
        optimizer.step()
    print("torch operators per run.log call: %s" % (", ".join(
        "%s %.1f" % (k, v / 20) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"))

    # -- micro-benchmarks on the current gradients ---------------------------------------------------------
    params = list(model.parameters())
    grads = [q.grad for q in params]
    arrays = [g.numpy().reshape(-1) for g in grads]
    prevs = [a.copy() for a in arrays]
    tprevs = [g.detach().clone() for g in grads]
    import numpy as np
    flat = np.concatenate(arrays)
    flat_prev = flat.copy()
    starts = [start for _, start in distance._pairs]
    param_arrays = [q.detach().numpy().reshape(-1) for q in params]
    start_arrays = [start.numpy().reshape(-1) for start in starts]
    differences = [np.empty_like(a) for a in param_arrays]

    def numpy_distance(dot):
        squared = 0.0
        for a, b, d in zip(param_arrays, start_arrays, differences):
            np.subtract(a, b, out=d)
            if dot:
                squared += float(d.dot(d))
            else:
                np.multiply(d, d, out=d)
                squared += float(np.add.reduce(d))
        return squared

    micro = {
        "||theta - theta_0||: NumPy subtract, square, add.reduce x8 (client)": lambda: numpy_distance(False),
        "||theta - theta_0||: NumPy subtract into a buffer, dot x8": lambda: numpy_distance(True),
        "||theta - theta_0||: torch.dist x8, float each":
            lambda: [float(torch.dist(q.detach(), start)) for q, start in zip(params, starts)],
        "NumPy views of fresh tensors (g.detach().numpy().reshape(-1)) x8":
            lambda: [g.detach().numpy().reshape(-1) for g in grads],
        "NumPy views without detach (g.numpy()) x8": lambda: [g.numpy() for g in grads],
        "NumPy a.dot(a) x8 (float each)": lambda: [float(a.dot(a)) for a in arrays],
        "NumPy a.dot(a), a.dot(q) x8": lambda: [(float(a.dot(a)), float(a.dot(q))) for a, q in zip(arrays, prevs)],
        "NumPy copy q[...] = a x8": lambda: [q.__setitem__(Ellipsis, a) for a, q in zip(arrays, prevs)],
        "NumPy np.copyto(q, a) x8": lambda: [np.copyto(q, a) for a, q in zip(arrays, prevs)],
        "NumPy flat: dot(g,g), dot(g,q), copy (3 calls)":
            lambda: (float(flat.dot(flat)), float(flat.dot(flat_prev)), flat_prev.__setitem__(Ellipsis, flat)),
        "NumPy W1 only: dot, dot, copy (400 kB)":
            lambda: (float(arrays[0].dot(arrays[0])), float(arrays[0].dot(prevs[0])),
                     prevs[0].__setitem__(Ellipsis, arrays[0])),
        "torch.dot(g,g).item() x8": lambda: [torch.dot(g.view(-1), g.view(-1)).item() for g in grads],
        "torch dots x16 stacked, one .tolist()":
            lambda: torch.stack([d for g, q in zip(grads, tprevs)
                                 for d in (torch.dot(g.view(-1), g.view(-1)), torch.dot(g.view(-1), q.view(-1)))]).tolist(),
        "torch copy_ x8": lambda: [q.copy_(g) for g, q in zip(grads, tprevs)],
    }
    if hasattr(torch, "_foreach_norm"):
        micro["torch._foreach_norm + stack + tolist"] = lambda: torch.stack(torch._foreach_norm(grads)).tolist()
    if hasattr(torch, "_foreach_mul"):
        micro["torch._foreach_mul(g, q) (products only)"] = lambda: torch._foreach_mul(grads, tprevs)
    for name, fn in micro.items():
        print("  %-60s %8.1f µs" % (name, median_ns(fn)))
    run.finish() if args.bootstrap_servers else None
    if args.bootstrap_servers:
        experiment.close()


if __name__ == "__main__":
    main()
