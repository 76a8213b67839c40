"""One side of the Python client's overhead benchmark (README.md here): a plain PyTorch SGD loop, or the same
loop publishing every iteration's scalars through sgdscope's Python client.

Usage: bench.py plain|publish|interleaved [--bootstrap-servers B] [--iterations 2000] [--batch 64]
                [--dtype float32] [--zero-grad zero|none] [--label L] [--block 20]

The net is the trainer's mnist-mlp3 preset, 784-128-128-128-10 with ReLU (p = 134,794), on synthetic MNIST-sized
data (10,000 samples of 784 features, 10 classes; nothing is downloaded); SGD with lr 0.01, minibatches drawn
with replacement. `publish` adds, per iteration, `run.log(t, loss=..., model=model, ...)`: ||g_t|| and
cos(g_t, g_{t-1}) from the parameters' .grad (in the model's precision), one IterationMetrics encoded and handed to the
idempotent producer (acks=all). After 50 warm-up iterations the loop is timed with time.perf_counter (wall) and
time.process_time (CPU of every thread of the process, librdkafka's included); prints
`RESULT mode=M iterations=N seconds=S us_per_iteration=U cpu_us_per_iteration=C log_us=L log_cpu_us=K` and, for
publish, the client's summary line. log_us and log_cpu_us are the client's own cost measured directly: the wall
(perf_counter) and CPU (process_time) time spent inside `run.log` per iteration, median over blocks of 100
iterations (0 for plain); main_thread_cpu_us is the CPU time of the loop's own thread (time.thread_time), which
leaves out torch's pool threads and librdkafka's. `--label` names the side in the RESULT line (run.sh runs an older commit's client as
`baseline`); `--zero-grad none` calls `optimizer.zero_grad(set_to_none=True)` (PyTorch 2's default) instead of
1.13's in-place zeroing, in both modes. `interleaved` runs plain, logged, floor (the bare NumPy reads of g_t and
g_{t-1} any client needs) and scalar-only (run.log without the model) iterations in alternating blocks of --block in
one process and prints an `INTERLEAVED` line (see `interleaved` below).
"""
import statistics
import argparse
import time

import torch

import sgdscope


def setup(threads, dtype=torch.float32):
    """The benchmark's data, net and optimizer (module docstring): (X, y, generator, model, optimizer, loss_fn)."""
    torch.set_num_threads(threads)
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(10_000, 784, generator=gen, dtype=dtype)
    y = torch.randint(0, 10, (10_000,), generator=gen)
    torch.manual_seed(2)
    layers = [784, 128, 128, 128, 10]
    modules = []
    for i, (a, b) in enumerate(zip(layers[:-1], layers[1:])):
        modules.append(torch.nn.Linear(a, b))
        if i < len(layers) - 2:
            modules.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*modules).to(dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    return X, y, gen, model, optimizer, torch.nn.functional.cross_entropy


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["plain", "publish", "interleaved"])
    p.add_argument("--bootstrap-servers")
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--experiment", default="bench-pytorch-client")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--zero-grad", choices=["zero", "none"], default="zero")
    p.add_argument("--label")
    p.add_argument("--block", type=int, default=20)
    args = p.parse_args()
    if args.mode != "plain" and not args.bootstrap_servers:
        p.error("%s needs --bootstrap-servers" % args.mode)
    if args.block < 1:
        p.error("--block must be at least 1, got %d" % args.block)
    X, y, gen, model, optimizer, loss_fn = setup(args.threads, getattr(torch, args.dtype))
    warmup = 50

    experiment = run = None
    if args.mode != "plain":
        experiment = sgdscope.Experiment(args.bootstrap_servers, args.experiment, planned_runs=1,
                                         planned_iterations=args.iterations + warmup, precision=args.dtype)
        run = experiment.run(0, seed=2).start()

    if args.mode == "interleaved":
        interleaved(args, X, y, gen, model, optimizer, loss_fn, run, warmup)
        run.finish()
        experiment.close()
        print(experiment.summary())
        return

    start = None
    set_to_none = args.zero_grad == "none"
    perf, cpu = time.perf_counter, time.process_time
    log_wall, log_cpu, block_wall, block_cpu = [], [], 0.0, 0.0  # seconds in run.log, per block of 100 iterations
    for t in range(args.iterations + warmup):
        if t == warmup:
            start, cpu_start, main_start = time.perf_counter(), time.process_time(), time.thread_time()
        batch = torch.randint(0, X.shape[0], (args.batch,), generator=gen)
        optimizer.zero_grad(set_to_none=set_to_none)
        loss = loss_fn(model(X[batch]), y[batch])
        loss.backward()
        if run is not None:
            w0, c0 = perf(), cpu()
            run.log(t, loss=float(loss), model=model, optimizer=optimizer, batch_size=args.batch)
            block_cpu += cpu() - c0
            block_wall += perf() - w0
            if t >= warmup and (t - warmup) % 100 == 99:
                log_wall.append(block_wall / 100)
                log_cpu.append(block_cpu / 100)
            if t < warmup or (t - warmup) % 100 == 99:
                block_wall = block_cpu = 0.0
        optimizer.step()
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start  # every thread of the process: torch's and librdkafka's
    main_seconds = time.thread_time() - main_start  # the loop's thread alone (torch's pool and librdkafka's not)
    if run is not None:
        run.finish()
        experiment.close()
        print(experiment.summary())
    log_us = 1e6 * statistics.median(log_wall) if log_wall else 0.0
    log_cpu_us = 1e6 * statistics.median(log_cpu) if log_cpu else 0.0
    print("RESULT mode=%s iterations=%d seconds=%.4f us_per_iteration=%.1f cpu_us_per_iteration=%.1f log_us=%.1f "
          "log_cpu_us=%.1f main_thread_cpu_us=%.1f" % (args.label or args.mode, args.iterations, seconds,
                                                 1e6 * seconds / args.iterations, 1e6 * cpu_seconds / args.iterations,
                                                 log_us, log_cpu_us, 1e6 * main_seconds / args.iterations), flush=True)


def interleaved(args, X, y, gen, model, optimizer, loss_fn, run, warmup):
    """Plain, logged, floor and scalar iterations in blocks of --block in one process, cycling plain, norm floor,
    plain, statistics floor, plain, logged, plain, scalars: the same load, the same caches' history and the same CPU
    frequency hit every kind, so their ratios hold on a busy machine where two processes' times move by tens of
    percent. `scalars` blocks publish the per-iteration scalars alone: `run.log(t, loss=..., sg_norm=1.0, ...)`
    without the model (what a loop that has its scalars pays: the record, its encoding and `produce`).

    The floors are the least any client must do to publish ||g_t|| and cos(g_t, g_{t-1}), written as bare NumPy
    in the loop (no client, no record): `norm floor` reads g_t once (a dot per parameter tensor), `statistics
    floor` what the client's steady state does (both dots per tensor, and with in-place zeroing the copy of g_t
    kept as the next g_{t-1}; with fresh tensors the previous arrays are kept by reference). Prints
    `INTERLEAVED plain_us=P logged_us=L overhead_pct=O log_us=K log_share_pct=S norm_floor_pct=N
    stats_floor_pct=F scalars_pct=C scalars_log_pct=D`: the medians over blocks of the wall µs per iteration of plain
    and logged blocks (a logged block's iterations include their run.log), overhead = L / P - 1, the median over
    logged blocks of the µs inside run.log per iteration as a share of P, each floor's blocks against P, and the
    scalar blocks against P (C) with their µs inside run.log as a share of P (D)."""
    import numpy as np
    set_to_none = args.zero_grad == "none"
    perf = time.perf_counter
    params = list(model.parameters())
    kinds = ("plain", "norm", "plain", "stats", "plain", "logged", "plain", "scalars")
    blocks = {k: [] for k in ("plain", "logged", "norm", "stats", "scalars")}
    log_blocks = {"logged": [], "scalars": []}  # per block, the µs inside run.log per iteration
    kept = [None]  # the statistics floor's g_{t-1} arrays
    copies = [np.empty(p.numel(), dtype=np.float32 if p.dtype == torch.float32 else np.float64) for p in params]
    sink = [0.0]

    def norm_floor():
        gg = 0.0
        for p in params:
            a = p.grad.numpy().reshape(-1)
            gg += float(a.dot(a))
        sink[0] += gg

    def stats_floor():
        arrays = [p.grad.numpy().reshape(-1) for p in params]
        gg = gq = 0.0
        prev = kept[0]
        for i, a in enumerate(arrays):
            gg += float(a.dot(a))
            if prev is not None:
                gq += float(a.dot(prev[i]))
        if set_to_none:
            kept[0] = arrays                      # fresh tensors: kept by reference
        else:
            for a, c in zip(arrays, copies):      # zeroed in place: g_t copied over g_{t-1}
                c[...] = a
            kept[0] = copies
        sink[0] += gg + gq

    floors = {"norm": norm_floor, "stats": stats_floor}
    iterations = args.iterations + warmup
    t = 0
    while t < iterations:
        kind = kinds[(t // args.block) % len(kinds)]
        if kind != "stats":
            kept[0] = None
        first, block_start, in_log = t, perf(), 0.0
        for t in range(first, min(first + args.block, iterations)):
            batch = torch.randint(0, X.shape[0], (args.batch,), generator=gen)
            optimizer.zero_grad(set_to_none=set_to_none)
            loss = loss_fn(model(X[batch]), y[batch])
            loss.backward()
            if kind in log_blocks:
                w0 = perf()
                if kind == "logged":
                    run.log(t, loss=float(loss), model=model, optimizer=optimizer, batch_size=args.batch)
                else:  # publishing alone: scalars the loop has (sg_norm given, not computed)
                    run.log(t, loss=float(loss), sg_norm=1.0, optimizer=optimizer, batch_size=args.batch)
                in_log += perf() - w0
            else:
                float(loss)  # the logged side's float(loss) (a sync on a GPU): not part of the client's cost
                if kind in floors:
                    floors[kind]()
            optimizer.step()
        n = t + 1 - first
        if first >= warmup:
            blocks[kind].append(1e6 * (perf() - block_start) / n)
            if kind in log_blocks:
                log_blocks[kind].append(1e6 * in_log / n)
        t += 1
    # (NaN for a kind with no timed block: a run too short for the cycle, as bench/smoke.sh's)
    plain, logged_us, log_us, norm_us, stats_us, scalars_us, scalar_log_us = (
        statistics.median(v) if v else float("nan") for v in (
        blocks["plain"], blocks["logged"], log_blocks["logged"], blocks["norm"], blocks["stats"], blocks["scalars"],
        log_blocks["scalars"]))
    print("INTERLEAVED mode=%s iterations=%d block=%d plain_us=%.1f logged_us=%.1f overhead_pct=%.2f log_us=%.1f "
          "log_share_pct=%.2f norm_floor_pct=%.2f stats_floor_pct=%.2f scalars_pct=%.2f scalars_log_pct=%.2f" % (
              args.label or args.mode, args.iterations, args.block, plain, logged_us, 100.0 * (logged_us / plain - 1.0),
              log_us, 100.0 * log_us / plain, 100.0 * (norm_us / plain - 1.0), 100.0 * (stats_us / plain - 1.0),
              100.0 * (scalars_us / plain - 1.0), 100.0 * scalar_log_us / plain),
          flush=True)


if __name__ == "__main__":
    main()
