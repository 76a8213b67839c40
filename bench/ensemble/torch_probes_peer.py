#!/usr/bin/python3
"""PyTorch peer of sgdscope's ensemble curvature probes: R runs of SGD on Gauss-10 with, every E iterations, the
moments of Eq. 4-7 and L = ||H_f||_2 (8 warm-started Lanczos steps) of every run, batched over the runs.

Run it through bench/ensemble/peer.sh's environment (OMP_WAIT_POLICY=PASSIVE, OpenBLAS as libblas.so.3):

    bench/ensemble/probes_peer.sh 1000 --every 10 --dtype float64     # with the probes
    bench/ensemble/probes_peer.sh 1000 --every 0 --dtype float64      # the same training without them
    bench/ensemble/probes_peer.sh 2 --check                           # self-check against dense float64 references

Usage: torch_probes_peer.py R [--iterations 400] [--every 10] [--dtype float64|float32] [--steps 8]
       [--gram trick|functorch] [--hvp double|jvp] [--chunk 250] [--workers 2] [--gram-chunk 50]
       [--check] [--dump FILE]

Training: exactly torch_peer.py's tuned SGD loop (its Chunk.step: manual backprop with bmm, shared first layer,
chunks of --chunk runs taken in turn by --workers threads), same data, initialisation and metrics.
Probes, at theta_t before the step when t % E == 0 (as sgdscope's CurvatureSettings.momentsAt), for every run of
the chunk at once:
  moments  from each run's n x n Gram matrix G of the per-sample gradients (Eq. 4-7 as GradientMoments.fromGram):
           ||mu||^2 = 1^T G 1 / n^2, Tr M = Tr G / n, Tr Sigma = Tr(C G C) / n, ||Sigma||_F = ||C G C||_F / n,
           ||Sigma||_2 = lambda_max(C G C) / n (torch.linalg.eigvalsh, batched), ||Sigma^{1/2} mu||^2 =
           ||G 1 - mean(G 1)||^2 / n^3 (C = I - 11^T / n).
           --gram trick (default): G = sum_l (D_l D_l^T) o (A_l A_l^T) from the per-sample output signals D_l
           (softmax - onehot, backpropagated) and the layer inputs A_l with their column of ones, 5 bmm per layer
           pair; --gram functorch: per-sample gradients J [R, n, p] by vmap(vmap(grad)) (over runs, over samples),
           G = J J^T by bmm (sub-chunks of --gram-chunk runs bound J's memory).
  L        max(|top|, |bottom|) Ritz value after --steps Lanczos steps (full reorthogonalisation, classical
           Gram-Schmidt twice) in lockstep over the runs, one batched Hessian-vector product per step; the first
           probe starts from a Gaussian vector per run, every later one from the sum of the previous top and
           bottom Ritz vectors (as sgdscope's SpectrumProbe / BatchedLanczos); T_m's eigenproblems by one batched
           torch.linalg.eigh. HVPs: --hvp double (default): double backward of the chunk's summed loss (runs are
           independent, so one graph gives every run's H_r v_r); --hvp jvp: functorch forward-over-reverse
           jvp(grad(f)) vmapped over the runs.
Precision: everything in --dtype (float64 as sgdscope's probes benchmark; the moments' arithmetic from G is always
float64, as in sgdscope).
Prints RESULT (seconds = wall of the training loop, probes included; cpu_seconds = process CPU time) and CHECK.
"""
import argparse
import math
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_peer  # noqa: E402  (the tuned training loop, data and initialisation)
from torch_peer import LAYERS, N, D, K  # noqa: E402

from functorch import grad, jvp, vmap  # noqa: E402


# ---------------------------------------------------------------- the network as a function of one run's parameters
def logits_one(ws, x):
    """Logits [n, k] of one run, ws = (W0, W1, W2) each [out, in + 1] (bias = last column), x [n, d]."""
    h = x
    for l, w in enumerate(ws):
        h = h @ w[:, :-1].t() + w[:, -1]
        if l < len(ws) - 1:
            h = torch.relu(h)
    return h


def loss_one(ws, x, onehot):
    """f(theta) = mean cross-entropy over the rows (Eq. 1), labels as one-hot rows [n, k] (torch 1.13's nll_loss has
    no forward-mode derivative of its backward, which jvp(grad(f)) needs, nor has log_softmax's; and one_hot cannot run under vmap)."""
    z = logits_one(ws, x)
    top = z.max(1, keepdim=True).values.detach()                      # log-sum-exp by elementary ops (their
    lse = (z - top).exp().sum(1).log() + top.squeeze(1)               # forward-mode derivatives exist)
    return (lse - (onehot * z).sum(1)).mean()


def sample_loss(ws, xi, yi):
    """f_i(theta): one sample's loss, yi its one-hot row."""
    return loss_one(ws, xi.unsqueeze(0), yi.unsqueeze(0))


# ---------------------------------------------------------------- Gram matrices
def gram_trick(ws, xa, y):
    """G [R, n, n] = sum_l (D_l D_l^T) o (A_l A_l^T) with A_l = [a_l, 1], from one batched forward/backward."""
    w0, w1, w2 = ws                                                   # [R, out, in + 1]
    R = w0.shape[0]
    ones = xa.new_ones(R, N, 1)
    z0 = torch.matmul(xa, w0.transpose(1, 2))                         # [R, n, h0]
    a1 = torch.cat([torch.relu(z0), ones], 2)
    z1 = torch.bmm(a1, w1.transpose(1, 2))
    a2 = torch.cat([torch.relu(z1), ones], 2)
    z2 = torch.bmm(a2, w2.transpose(1, 2))
    d2 = torch.softmax(z2, 2)
    d2[:, torch.arange(N), y] -= 1                                    # p - onehot(y), per sample (not / n)
    d1 = torch.bmm(d2, w2[:, :, :-1]).mul_(z1 > 0)                    # relu'(0) = 0
    d0 = torch.bmm(d1, w1[:, :, :-1]).mul_(z0 > 0)
    xx = (xa @ xa.t()).expand(R, N, N)                                # a_0i^T a_0j + 1, shared
    g = torch.bmm(d0, d0.transpose(1, 2)).mul_(xx)
    g.addcmul_(torch.bmm(d1, d1.transpose(1, 2)), torch.bmm(a1, a1.transpose(1, 2)))
    g.addcmul_(torch.bmm(d2, d2.transpose(1, 2)), torch.bmm(a2, a2.transpose(1, 2)))
    return g


def gram_functorch(ws, x, y, sub):
    """G = J J^T from per-sample gradients J [R, n, p] by functorch (vmap over runs of vmap over samples of grad)."""
    per_sample = vmap(vmap(grad(sample_loss), in_dims=(None, 0, 0)), in_dims=(0, None, None))
    R = ws[0].shape[0]
    out = ws[0].new_empty(R, N, N)
    for lo in range(0, R, sub):
        hi = min(R, lo + sub)
        gs = per_sample(tuple(w[lo:hi] for w in ws), x, torch.nn.functional.one_hot(y, K).to(x.dtype))             # per layer [r, n, out, in + 1]
        j = torch.cat([g.reshape(hi - lo, N, -1) for g in gs], 2)     # [r, n, p]
        torch.bmm(j, j.transpose(1, 2), out=out[lo:hi])
    return out


def moments_from_gram(g):
    """The six moments of Eq. 4-7 of every run from G [R, n, n], in float64; [6, R]."""
    g = g.to(torch.float64)
    n = g.shape[1]
    rows = g.sum(2)                                                   # G 1
    total = rows.sum(1)
    trace = torch.diagonal(g, dim1=1, dim2=2).sum(1)
    means = rows / n
    grand = total / (n * n)
    c = g - means.unsqueeze(2) - means.unsqueeze(1) + grand.view(-1, 1, 1)   # C G C
    frob = c.square().sum((1, 2))
    ctrace = torch.diagonal(c, dim1=1, dim2=2).sum(1)
    top = torch.linalg.eigvalsh(c)[:, -1]
    spread = (rows - (total / n).unsqueeze(1)).square().sum(1)
    return torch.stack([total / (n * n), trace / n, ctrace / n, frob.sqrt() / n, (top / n).clamp_min(0),
                        (spread / n ** 3).clamp_min(0).sqrt()])


# ---------------------------------------------------------------- Hessian-vector products
def flat(parts):
    return torch.cat([t.reshape(t.shape[0], -1) for t in parts], 1)


def unflat(v, shapes):
    out, at = [], 0
    for s in shapes:
        size = math.prod(s[1:])
        out.append(v[:, at:at + size].view(s))
        at += size
    return out


class Hessian:
    """v [R, p] -> H_r v_r [R, p] for every run r at the chunk's parameters (f = mean loss over all n rows)."""

    def __init__(self, ws, x, y, how):
        self.shapes = [w.shape for w in ws]
        self.how = how
        if how == "double":
            self.ps = [w.detach().clone().requires_grad_(True) for w in ws]
            with torch.enable_grad():
                ls = self._losses(x, y)                               # [R]: every run's f
                self.g = torch.autograd.grad(ls.sum(), self.ps, create_graph=True)
        else:
            self.ws = tuple(w.detach() for w in ws)
            onehot = torch.nn.functional.one_hot(y, K).to(x.dtype)
            grad_f = grad(lambda p: loss_one(p, x, onehot))
            self.fn = vmap(lambda p, v: jvp(grad_f, (p,), (v,))[1], in_dims=(0, 0))

    def _losses(self, x, y):
        h = torch.cat([x, x.new_ones(N, 1)], 1)
        R = self.ps[0].shape[0]
        for l, w in enumerate(self.ps):
            h = torch.matmul(h, w.transpose(1, 2)) if l == 0 else torch.bmm(h, w.transpose(1, 2))
            if l < 2:
                h = torch.cat([torch.relu(h), h.new_ones(R, N, 1)], 2)
        return torch.nn.functional.cross_entropy(h.reshape(R * N, K), y.repeat(R), reduction="none").view(R, N).mean(1)

    def __call__(self, v):
        vs = unflat(v, self.shapes)
        if self.how == "double":
            with torch.enable_grad():
                hv = torch.autograd.grad(self.g, self.ps, grad_outputs=vs, retain_graph=True)
        else:
            hv = self.fn(self.ws, tuple(vs))
        return flat(hv)


def lanczos(op, start, steps, gen):
    """steps Lanczos steps for every run in lockstep; returns (L [R], top vectors [R, p], bottom vectors [R, p])."""
    R, p = start.shape
    m = min(steps, p)
    q = start.new_zeros(m, R, p)
    norms = start.norm(dim=1, keepdim=True)
    fresh = torch.randn(R, p, generator=gen, dtype=start.dtype)
    s = torch.where(norms > 0, start, fresh)
    q[0] = s / s.norm(dim=1, keepdim=True)
    alpha = start.new_zeros(R, m)
    beta = start.new_zeros(R, m)
    for j in range(m):
        w = op(q[j])
        alpha[:, j] = (q[j] * w).sum(1)
        basis = q[:j + 1]
        for _ in range(2):                                            # w -= Q (Q^T w), twice
            c = torch.einsum("jrp,rp->jr", basis, w)
            w = w - torch.einsum("jr,jrp->rp", c, basis)
        b = w.norm(dim=1)
        beta[:, j] = b
        if j + 1 == m:
            break
        stuck = b <= 1e-10 * alpha[:, j].abs().clamp_min(1e-300)
        if bool(stuck.any()):                                         # invariant subspace: a fresh direction
            r = torch.randn(R, p, generator=gen, dtype=w.dtype)
            for _ in range(2):
                r = r - torch.einsum("jr,jrp->rp", torch.einsum("jrp,rp->jr", basis, r), basis)
            beta[:, j] = torch.where(stuck, torch.zeros_like(b), b)
            w = torch.where(stuck.unsqueeze(1), r, w)
            b = w.norm(dim=1)
        q[j + 1] = w / b.unsqueeze(1)
    t = torch.diag_embed(alpha) + torch.diag_embed(beta[:, :m - 1], 1) + torch.diag_embed(beta[:, :m - 1], -1)
    values, vectors = torch.linalg.eigh(t)                            # ascending, batched
    top = torch.einsum("jrp,rj->rp", q, vectors[:, :, -1])           # Ritz vectors Q s
    bottom = torch.einsum("jrp,rj->rp", q, vectors[:, :, 0])
    return torch.maximum(values[:, -1].abs(), values[:, 0].abs()), top, bottom


class Probe:
    """The probes of one chunk of runs: its warm starts and its random stream."""

    def __init__(self, size, p, dtype, seed, a):
        self.warm = torch.zeros(size, p, dtype=dtype)
        self.gen = torch.Generator().manual_seed(seed)
        self.a = a

    def __call__(self, ws, x, xa, y):
        a = self.a
        g = gram_trick(ws, xa, y) if a.gram == "trick" else gram_functorch(ws, x, y, a.gram_chunk)
        moments = moments_from_gram(g)
        norm, top, bottom = lanczos(Hessian(ws, x, y, a.hvp), self.warm, a.steps, self.gen)
        torch.add(top, bottom, out=self.warm)
        return moments, norm


def as_runs(chunk_params):
    """torch_peer's Chunk parameters [R, out, in + 1] are already the per-run (W, b) blocks used here."""
    return tuple(chunk_params)


def train(params, x, y, a, dtype):
    runs = params[0].shape[0]
    out = [torch.empty(a.iterations, runs, dtype=dtype) for _ in range(5)]
    probes_at = [t for t in range(a.iterations) if a.every > 0 and t % a.every == 0]
    probe_out = torch.full((len(probes_at), 7, runs), float("nan"), dtype=torch.float64)
    chunk = runs if a.chunk <= 0 else min(a.chunk, runs)
    bounds = [(lo, min(lo + chunk, runs)) for lo in range(0, runs, chunk)]
    p = sum((i + 1) * o for i, o in zip(LAYERS[:-1], LAYERS[1:]))
    buffers = {}
    for lo, hi in bounds:
        for w in range(a.workers):
            buffers.setdefault((w, hi - lo), torch_peer.Chunk(hi - lo, x, y, a.batch, dtype, True))
    xa = torch.cat([x, x.new_ones(N, 1)], 1)
    def train_chunk(ch, c, lo, hi, gen):
        probe = Probe(hi - lo, p, dtype, a.seed * 7_919 + c, a)
        views = [o[:, lo:hi] for o in out]
        for t in range(a.iterations):
            if a.every > 0 and t % a.every == 0:
                moments, norm = probe(as_runs(ch.params), x, xa, y)
                probe_out[t // a.every, :6, lo:hi] = moments
                probe_out[t // a.every, 6, lo:hi] = norm.to(torch.float64)
            idx = torch.randint(0, N, (hi - lo, a.batch), generator=gen)
            ch.step(t, idx, a.lr, views, True)

    wall, cpu = torch_peer.train_chunks(bounds, a.workers, buffers, params, a.seed, train_chunk)
    return wall, cpu, out, probe_out


# ---------------------------------------------------------------- self-check against dense float64 references
def dense_check(runs, seed, steps):
    """At R runs' theta_0: both Gram paths and both HVP paths against per-sample autograd loops, dense Sigma's
    eigenvalues and Lanczos on the dense Hessian from the same start; exits non-zero on a mismatch."""
    torch.set_default_dtype(torch.float64)
    xs, ys = torch_peer.gauss10(seed)
    x = torch.tensor(xs)
    y = torch.tensor(ys)
    xa = torch.cat([x, x.new_ones(N, 1)], 1)
    params = torch_peer.he_normal(runs, seed + 1, torch.float64)
    ws = tuple(torch.cat([params[2 * l], params[2 * l + 1].unsqueeze(2)], 2) for l in range(3))
    a = argparse.Namespace(gram="trick", gram_chunk=2, hvp="double", steps=steps)
    p = sum(w[0].numel() for w in ws)
    start = torch.randn(runs, p, generator=torch.Generator().manual_seed(5))
    worst = 0.0

    def agree(name, got, want, tol):
        nonlocal worst
        rel = float((got - want).abs().max() / want.abs().max().clamp_min(1e-300))
        worst = max(worst, rel) if tol <= 1e-8 else worst
        print(f"  {name}: max relative difference {rel:.2e} (tolerance {tol:.0e})")
        if not rel <= tol:
            raise SystemExit(f"CHECK FAILED: {name}")

    g_trick = gram_trick(ws, xa, y)
    g_fun = gram_functorch(ws, x, y, 1)
    agree("Gram trick vs functorch per-sample J J^T", g_trick, g_fun, 1e-12)
    mom = moments_from_gram(g_trick)
    hv_double = Hessian(ws, x, y, "double")(start)
    hv_jvp = Hessian(ws, x, y, "jvp")(start)
    agree("HVP double backward vs functorch jvp(grad)", hv_double, hv_jvp, 1e-12)
    norm, _, _ = lanczos(Hessian(ws, x, y, "double"), start.clone(), steps, torch.Generator().manual_seed(1))
    for r in range(runs):
        w_r = tuple(w[r] for w in ws)
        js = []
        for i in range(N):                                            # per-sample gradients, one backward each
            ps = [w.clone().requires_grad_(True) for w in w_r]
            gs = torch.autograd.grad(sample_loss(ps, x[i], torch.nn.functional.one_hot(y[i], K).double()), ps)
            js.append(torch.cat([g.reshape(-1) for g in gs]))
        j = torch.stack(js).numpy()                                   # [n, p]
        mu = j.mean(0)
        sigma = (j - mu).T @ (j - mu) / N                             # Eq. 5
        ev = np.linalg.eigvalsh(sigma)
        want = torch.tensor([mu @ mu, (j * j).sum(1).mean(), np.trace(sigma), np.linalg.norm(sigma),
                             ev[-1], math.sqrt(max(0.0, mu @ sigma @ mu))])
        agree(f"run {r} moments vs dense Sigma", mom[:, r], want, 1e-10)

        def f_flat(theta):
            parts, at = [], 0
            for w in w_r:
                parts.append(theta[at:at + w.numel()].view(w.shape))
                at += w.numel()
            return loss_one(parts, x, torch.nn.functional.one_hot(y, K).double())
        h = torch.autograd.functional.hessian(f_flat, torch.cat([w.reshape(-1) for w in w_r])).numpy()
        q = [start[r].numpy() / np.linalg.norm(start[r].numpy())]     # dense Lanczos, same start
        al, be = [], []
        for k in range(steps):
            w = h @ q[k]
            al.append(q[k] @ w)
            for _ in range(2):
                w = w - np.array(q).T @ (np.array(q) @ w)
            be.append(np.linalg.norm(w))
            q.append(w / be[-1])
        t = np.diag(al) + np.diag(be[:-1], 1) + np.diag(be[:-1], -1)
        tv = np.linalg.eigvalsh(t)
        agree(f"run {r} L ({steps} Lanczos steps) vs dense H", norm[r:r + 1], torch.tensor([max(abs(tv[0]), abs(tv[-1]))]), 1e-10)
        exact = np.abs(np.linalg.eigvalsh(h)).max()
        print(f"  run {r}: L after {steps} steps {float(norm[r]):.6g}, exact ||H_f||_2 {exact:.6g}")
    print(f"CHECK passed runs={runs} worst_relative={worst:.2e}")


def dump(path, runs, seed, every, steps):
    """Writes X, y, theta_0 of every run (sgdscope's layout: per layer [in + 1, out] row-major, bias last row) and
    the peer's first-probe moments and L for sgdscope's side to recompute (bench/ensemble/ProbesCrossCheck.java)."""
    torch.set_default_dtype(torch.float64)
    xs, ys = torch_peer.gauss10(seed)
    x, y = torch.tensor(xs), torch.tensor(ys)
    xa = torch.cat([x, x.new_ones(N, 1)], 1)
    params = torch_peer.he_normal(runs, seed + 1, torch.float64)
    ws = tuple(torch.cat([params[2 * l], params[2 * l + 1].unsqueeze(2)], 2) for l in range(3))
    p = sum(w[0].numel() for w in ws)
    start = torch.randn(runs, p, generator=torch.Generator().manual_seed(5))
    mom = moments_from_gram(gram_trick(ws, xa, y))
    norm, _, _ = lanczos(Hessian(ws, x, y, "double"), start.clone(), steps, torch.Generator().manual_seed(1))
    ours = lambda t: torch.cat([w.transpose(1, 2).reshape(runs, -1) for w in t], 1)   # [R, p] in sgdscope's layout
    theta = ours(ws)
    # the start vector in sgdscope's layout: permute the peer's flat order per layer
    start_ours = ours(unflat(start, [w.shape for w in ws]))
    with open(path, "w") as f:
        f.write(f"{N} {D} {K} {runs} {p} {steps}\n")
        f.write(" ".join(repr(v) for v in x.reshape(-1).tolist()) + "\n")
        f.write(" ".join(str(v) for v in y.tolist()) + "\n")
        for r in range(runs):
            f.write(" ".join(repr(v) for v in theta[r].tolist()) + "\n")
            f.write(" ".join(repr(v) for v in start_ours[r].tolist()) + "\n")
            f.write(" ".join(repr(v) for v in mom[:, r].tolist() + [float(norm[r])]) + "\n")
    print(f"DUMPED {path} runs={runs}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", type=int)
    ap.add_argument("--iterations", type=int, default=400)
    ap.add_argument("--every", type=int, default=10, help="moments and L every E iterations (0 = none)")
    ap.add_argument("--steps", type=int, default=8, help="Lanczos steps per L")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    ap.add_argument("--gram", choices=["trick", "functorch"], default="trick")
    ap.add_argument("--gram-chunk", type=int, default=50, help="runs per functorch per-sample-gradient batch")
    ap.add_argument("--hvp", choices=["double", "jvp"], default="double")
    ap.add_argument("--chunk", type=int, default=250, help="runs per chunk (0 = all runs in one chunk)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--check", action="store_true", help="self-check against dense float64 references, no timing")
    ap.add_argument("--dump", help="write theta_0, data and the first probe for ProbesCrossCheck.java, no timing")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.check:
        dense_check(a.runs, a.seed, a.steps)
        return
    if a.dump:
        dump(a.dump, a.runs, a.seed, a.every, a.steps)
        return
    dtype = getattr(torch, a.dtype)
    xs, ys = torch_peer.gauss10(a.seed)
    x = torch.tensor(xs, dtype=dtype)
    y = torch.tensor(ys, dtype=torch.int64)
    params = torch_peer.he_normal(a.runs, a.seed + 1, dtype)
    with torch.no_grad():
        seconds, cpu, out, probes = train(params, x, y, a, dtype)
    loss = out[0]
    final = loss[-1]
    finite = torch.isfinite(final)
    print(f"RESULT runs={a.runs} seconds={seconds:.3f} dtype={a.dtype} iterations={a.iterations} every={a.every} "
          f"gram={a.gram} hvp={a.hvp} chunk={a.chunk} workers={a.workers} cpu_seconds={cpu:.3f}")
    extra = ""
    if probes.shape[0] > 0:
        last = probes[-1]
        extra = (f" probes={probes.shape[0]} median_last_L={last[6].nanmedian().item():.6g}"
                 f" median_last_trace_sigma={last[2].nanmedian().item():.6g}"
                 f" nonfinite_probe_values={int((~torch.isfinite(probes)).sum())}")
    print(f"CHECK median_final_loss={final[finite].median().item():.6g} nonfinite_runs={int((~finite).sum())}{extra}")


if __name__ == "__main__":
    main()
