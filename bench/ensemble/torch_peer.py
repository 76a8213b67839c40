#!/usr/bin/python3
"""PyTorch peer of sgdscope's ensemble trainer (BatchedMlp): R runs of SGD on Gauss-10, trained together.

Run it with OMP_WAIT_POLICY=PASSIVE in the environment (libgomp's default spinning slows PyTorch several
times on this 2-core machine whenever anything else wants a core) and, for speed, with LD_LIBRARY_PATH
pointing at a folder where libblas.so.3 / liblapack.so.3 are OpenBLAS (Debian's python3-torch calls the
system libblas.so.3). bench/ensemble/peer.sh sets both up and runs this script:

    bench/ensemble/peer.sh 1000                    # = OMP_WAIT_POLICY=PASSIVE LD_LIBRARY_PATH=<openblas> \
                                                   #   /usr/bin/python3 bench/ensemble/torch_peer.py 1000
Usage: /usr/bin/python3 torch_peer.py R [--iterations 400] [--dtype float32|float64] [--repeats 1]
       [--grad manual|autograd] [--chunk 250] [--workers 2] [--first-layer-grad scatter|bmm]

What it computes (see PEER.md):
  data   Gauss-10 (Sec. A.1): n = 100, d = 50, k = 10 blobs, 10 samples each, centres uniform in [-10, 10]^d
         (make_blobs' default, as sgdscope's GaussK), unit-variance noise, shuffled, every feature
         standardised with the training set's mean and population std; fixed seed.
  model  ReLU MLP [50, 10, 30, 10] (p = 1150), no ReLU on the logits, softmax cross-entropy averaged over
         the rows, relu'(0) = 0; He-normal init (W ~ N(0, 2 / fan_in), b = 0), every run its own.
  SGD    batch m = 5 drawn uniformly with replacement per run per iteration, constant lr 0.1, T steps.
  per (t, run), at theta_t before the step, into preallocated [T, R] tensors: full-data loss f(theta_t),
         training accuracy, minibatch loss, ||g_t|| over all 1150 parameters, cos(g_t, g_{t-1}) (NaN at t = 0).

How it is tuned:
  * Layout as BatchedMlp: weights [R, out, in], activations transposed [R, width, n], so each layer is one
    batched product W h^T. The bias is folded in as an extra weight column against a constant row of ones
    in the layer input, so a layer is one plain bmm into a preallocated output (cheaper per run than
    baddbmm in torch 1.13) and one backward bmm gives dW and db together. All runs share X, so the
    full-data first layer of all of them is ONE product [R*10, 51] x [51, n] (the transposed form of
    X @ W0 stacked [d, R*10]), and the first layer's gradient is one [R*10, n] x [n, 51] product of dz0
    scattered to its samples' columns (--first-layer-grad bmm: R small products instead).
  * The minibatch rows are rows of the training set and theta_t is the same, so the minibatch forward is
    not recomputed: its logits and activations are gathered from the full-data pass, and its loss is the
    mean of the gathered per-sample losses (identical numbers).
  * Gradients by hand (manual backprop with bmm on the gathered [R, width, m] activations). Autograd on
    the minibatch forward (--grad autograd) was measured too and is slower (PEER.md), so manual is the
    default.
  * Runs are independent, so they are processed in chunks of --chunk runs (each chunk's whole state,
    ~40 kB per run in float32, stays in cache for all T steps instead of streaming 100s of MB per step), by
    --workers Python threads (torch releases the GIL in its kernels; PyTorch 1.13's bmm on these shapes
    loops over the batch on one core, so two workers keep both cores busy). torch.set_num_threads(2);
    peer.sh sets OPENBLAS_NUM_THREADS=1 (with 2, OpenBLAS's spinning threads doubled the CPU time of the
    first-layer products and gained nothing while the two workers already fill both cores).
  * Runs that go NaN just carry NaN in their own rows; nothing is checked inside the loop.
Minibatch indices come from one generator per chunk (seeded from --seed and the chunk number), so results
do not depend on --workers; they depend on --chunk only through which random stream a run draws from.
"""
import argparse
import math
import statistics
import threading
import time

import numpy as np
import torch

LAYERS = [50, 10, 30, 10]
N, D, K = 100, 50, 10


def gauss10(seed):
    """Gauss-10 training set: X [n, d] standardised, y [n] (balanced, shuffled)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10.0, 10.0, size=(K, D))
    y = np.repeat(np.arange(K), N // K)
    x = centres[y] + rng.standard_normal((N, D))
    order = rng.permutation(N)
    x, y = x[order], y[order]
    x = (x - x.mean(0)) / x.std(0)                      # population std (divisor n)
    return x, y


def he_normal(runs, seed, dtype):
    """Per layer W [R, out, in] ~ N(0, 2 / fan_in) and b [R, out] = 0, drawn in float64 then cast."""
    g = torch.Generator().manual_seed(seed)
    params = []
    for fan_in, fan_out in zip(LAYERS[:-1], LAYERS[1:]):
        w = torch.randn(runs, fan_out, fan_in, generator=g, dtype=torch.float64) * math.sqrt(2.0 / fan_in)
        params += [w.to(dtype), torch.zeros(runs, fan_out, dtype=dtype)]
    return params


class Chunk:
    """Buffers for `size` runs, allocated once per worker and reused for every chunk it trains.

    Each layer's weights and bias live in one array [R, out, in + 1] (bias = last column) and every layer
    input carries a constant row of ones ([R, in + 1, n]), so a layer is one plain bmm (cheaper per run
    than baddbmm in torch 1.13) and one bmm of the backward gives dW and db together.
    """

    def __init__(self, size, x, y, m, dtype, scatter_first=True):
        self.size, self.m, self.scatter_first = size, m, scatter_first
        h0, h1, k = LAYERS[1], LAYERS[2], LAYERS[3]
        ones = torch.ones(N, 1, dtype=dtype)
        self.xa = torch.cat([x, ones], 1)                             # [n, d + 1]
        self.xat = self.xa.t().contiguous()                           # [d + 1, n]
        self.y = y
        self.y_full = y.view(1, 1, N).expand(size, 1, N)              # gather index for z_y
        self.params = [torch.empty(size, o, i + 1, dtype=dtype) for i, o in zip(LAYERS[:-1], LAYERS[1:])]
        self.grads = [torch.empty_like(p) for p in self.params]
        self.prev = [torch.empty_like(p) for p in self.params]
        self.tmp = [torch.empty_like(p) for p in self.params]
        self.z0 = torch.empty(size * h0, N, dtype=dtype)              # first layer of all runs, [R*h0, n]
        self.a0 = torch.ones(size, h0 + 1, N, dtype=dtype)            # relu(z0) and a row of ones
        self.a1 = torch.ones(size, h1 + 1, N, dtype=dtype)
        self.z2 = torch.empty(size, k, N, dtype=dtype)                # logits [R, k, n]
        self.s0 = torch.empty(size * h0, N, dtype=dtype)              # dz0 scattered to its columns
        self.minus_ones = torch.full((size, 1, m), -1.0, dtype=dtype)

    def load(self, params, lo, hi):
        for l, mine in enumerate(self.params):
            mine[:, :, :-1].copy_(params[2 * l][lo:hi])
            mine[:, :, -1].copy_(params[2 * l + 1][lo:hi])

    # ---- one SGD step for all runs of the chunk; writes the 5 metrics of step t into out[:, lo:hi] ----
    def step(self, t, idx, lr, out, manual):
        w0, w1, w2 = self.params
        R, m = self.size, self.m
        h0, h1, k = LAYERS[1], LAYERS[2], LAYERS[3]
        # full-data forward at theta_t; first layer: one [R*h0, d+1] x [d+1, n] product for all runs
        torch.mm(w0.view(R * h0, D + 1), self.xat, out=self.z0)
        torch.clamp_min(self.z0.view(R, h0, N), 0, out=self.a0[:, :h0])
        torch.bmm(w1, self.a0, out=self.a1[:, :h1])
        self.a1.relu_()                                               # the row of ones stays
        z2 = torch.bmm(w2, self.a1, out=self.z2)
        top = z2.amax(1, keepdim=True)                                # [R, 1, n]
        lse = torch.sub(z2, top).exp_().sum(1).log_().add_(top.squeeze(1))
        zy = z2.gather(1, self.y_full).squeeze(1)                     # [R, n]
        losses = lse.sub_(zy)                                         # per-sample losses [R, n]
        loss, acc, mb_loss, gnorm, cosine = out
        torch.mean(losses, 1, out=loss[t])
        torch.mean(zy.ge_(top.squeeze(1)), 1, out=acc[t])             # true logit is the largest
        torch.mean(losses.gather(1, idx), 1, out=mb_loss[t])
        # stochastic gradient of the minibatch loss (the minibatch rows are columns idx of the full pass)
        g = self._manual_gradient(idx) if manual else self._autograd_gradient(idx)
        norms = [torch.linalg.vector_norm(gi.view(R, -1), dim=1) for gi in g]
        torch.sqrt(sum(v * v for v in norms), out=gnorm[t])
        if t > 0:
            dot = sum(torch.mul(gi, pi, out=tmp).view(R, -1).sum(1) for gi, pi, tmp in zip(g, self.prev, self.tmp))
            torch.div(dot, gnorm[t] * gnorm[t - 1], out=cosine[t])
        else:
            cosine[t].fill_(float("nan"))
        torch._foreach_add_(self.params, g, alpha=-lr)
        self.grads, self.prev = self.prev, self.grads

    def _manual_gradient(self, idx):
        w0, w1, w2 = self.params
        gw0, gw1, gw2 = self.grads
        R, m = self.size, self.m
        h0, h1, k = LAYERS[1], LAYERS[2], LAYERS[3]
        cols = idx.unsqueeze(1)                                       # [R, 1, m]
        dz = torch.softmax(self.z2.gather(2, cols.expand(R, k, m)), 1)   # [R, k, m]
        dz.scatter_add_(1, self.y[idx].unsqueeze(1), self.minus_ones)  # softmax - onehot(y)
        dz.mul_(1.0 / m)
        g1 = self.a1.gather(2, cols.expand(R, h1 + 1, m))             # [R, h1 + 1, m], last row ones
        torch.bmm(dz, g1.transpose(1, 2), out=gw2)                    # dW2 and db2
        dz = torch.bmm(w2[:, :, :h1].transpose(1, 2), dz).mul_(g1[:, :h1] > 0)   # [R, h1, m]
        g0 = self.a0.gather(2, cols.expand(R, h0 + 1, m))             # [R, h0 + 1, m]
        torch.bmm(dz, g0.transpose(1, 2), out=gw1)
        dz = torch.bmm(w1[:, :, :h0].transpose(1, 2), dz).mul_(g0[:, :h0] > 0)   # [R, h0, m]
        if self.scatter_first:
            # all runs share X: scatter dz0 into the columns of its samples, then one [R*h0, n] x [n, d+1]
            s0 = self.s0.zero_()
            s0.view(R, h0, N).scatter_add_(2, cols.expand(R, h0, m), dz)
            torch.mm(s0, self.xa, out=gw0.view(R * h0, D + 1))
        else:
            torch.bmm(dz, self.xa[idx], out=gw0)                      # [R, h0, m] x [R, m, d+1]
        return self.grads

    def _autograd_gradient(self, idx):
        R, m = self.size, self.m
        ps = [p.detach().requires_grad_(True) for p in self.params]
        h = self.xa[idx].transpose(1, 2)                              # [R, d+1, m]
        with torch.enable_grad():
            for l in range(3):
                h = torch.bmm(ps[l][:, :, :-1], h[:, :LAYERS[l]]) + ps[l][:, :, -1:]
                if l < 2:
                    h = torch.relu(h)
            ce = torch.nn.functional.cross_entropy(h, self.y[idx], reduction="sum") / m   # sum over runs
            gs = torch.autograd.grad(ce, ps)
        for mine, gi in zip(self.grads, gs):
            mine.copy_(gi)
        return self.grads


def train(params, x, y, iterations, lr, m, chunk, workers, seed, manual, scatter_first, dtype):
    runs = params[0].shape[0]
    out = [torch.empty(iterations, runs, dtype=dtype) for _ in range(5)]
    bounds = [(lo, min(lo + chunk, runs)) for lo in range(0, runs, chunk)]
    buffers = {}
    for lo, hi in bounds:
        size = hi - lo
        for w in range(workers):
            if (w, size) not in buffers:
                buffers[(w, size)] = Chunk(size, x, y, m, dtype, scatter_first)

    def train_chunk(ch, c, lo, hi, gen):
        views = [o[:, lo:hi] for o in out]
        for t in range(iterations):
            idx = torch.randint(0, N, (hi - lo, m), generator=gen)
            ch.step(t, idx, lr, views, manual)

    wall, cpu = train_chunks(bounds, workers, buffers, params, seed, train_chunk)
    return wall, cpu, out


def train_chunks(bounds, workers, buffers, params, seed, train):
    """Trains the chunks of runs on `workers` threads, each taking the next chunk from a shared queue: loads chunk c's
    runs (bounds[c] = (lo, hi)) into that thread's buffer of its size and calls train(ch, c, lo, hi, gen), gen the
    chunk's minibatch generator. Returns the wall and process CPU seconds it took."""
    todo = list(range(len(bounds)))
    lock = threading.Lock()

    def worker(w):
        while True:
            with lock:
                if not todo:
                    return
                c = todo.pop(0)
            lo, hi = bounds[c]
            ch = buffers[(w, hi - lo)]
            ch.load(params, lo, hi)
            train(ch, c, lo, hi, torch.Generator().manual_seed(seed * 1_000_003 + c))

    start, cpu = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(1, workers)]
    for th in threads:
        th.start()
    worker(0)
    for th in threads:
        th.join()
    return time.perf_counter() - start, time.process_time() - cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", type=int)
    ap.add_argument("--iterations", type=int, default=400)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--grad", choices=["manual", "autograd"], default="manual")
    ap.add_argument("--chunk", type=int, default=250, help="runs per chunk (0 = all runs in one chunk)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--first-layer-grad", choices=["scatter", "bmm"], default="scatter")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(2)
    dtype = getattr(torch, a.dtype)
    xs, ys = gauss10(a.seed)
    x = torch.tensor(xs, dtype=dtype)
    y = torch.tensor(ys, dtype=torch.int64)
    params = he_normal(a.runs, a.seed + 1, dtype)
    chunk = a.runs if a.chunk <= 0 else min(a.chunk, a.runs)
    times, cpus = [], []
    with torch.no_grad():
        for _ in range(a.repeats):
            seconds, cpu, out = train(params, x, y, a.iterations, a.lr, a.batch, chunk, a.workers, a.seed,
                                      a.grad == "manual", a.first_layer_grad == "scatter", dtype)
            times.append(seconds)
            cpus.append(cpu)
    loss, acc, mb_loss, gnorm, cosine = out
    final = loss[-1]
    finite = torch.isfinite(final)
    extra = f" all=[{','.join(f'{s:.3f}' for s in times)}]" if a.repeats > 1 else ""
    print(f"RESULT runs={a.runs} seconds={statistics.median(times):.3f} dtype={a.dtype} iterations={a.iterations} "
          f"grad={a.grad} chunk={chunk} workers={a.workers} cpu_seconds={statistics.median(cpus):.3f}{extra}")
    print(f"CHECK median_final_loss={final[finite].median().item():.6g} nonfinite_runs={int((~finite).sum())} "
          f"median_loss_t0={loss[0].median().item():.6g} median_final_accuracy={acc[-1][finite].median().item():.4g} "
          f"median_gradnorm_t0={gnorm[0].median().item():.4g} median_cos_t1={cosine[1].nanmedian().item():.4g}")


if __name__ == "__main__":
    main()
