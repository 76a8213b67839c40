#!/usr/bin/python3
"""PyTorch peer of CurvatureBench.java (bench/curvature/README.md), in its fastest setting.

Same problem: the MNIST-shaped ReLU net [784, 128, 128, 128, 10] on the X.npy / y.npy / theta.npy the
Java side wrote (n = 10,000, float32, theta flat: per layer W [in, out] row-major then b), 2 threads,
OMP_WAIT_POLICY=PASSIVE (set by run.sh, which says why). Times the median of R runs after
one warm-up (the Lanczos runs once: 60 products already) of: one full-data loss + gradient; one H v by double backward on a graph built once
(create_graph=True); one M v = (1/n) J^T (J v) with J v by the double-vjp trick (faster than forward
mode in torch 1.13) and J^T c by a vjp of the per-sample losses, on a graph built once; top-15 Lanczos of
H_f and M_t, 60 steps, full reorthogonalisation (two Gram-Schmidt passes), same as sgdscope's.
"""
import sys, os, time
import numpy as np
import torch

torch.set_num_threads(2)
folder = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 10
layers = [784, 128, 128, 128, 10]

X = torch.from_numpy(np.load(os.path.join(folder, "X.npy")))
y = torch.from_numpy(np.load(os.path.join(folder, "y.npy")))
flat = torch.from_numpy(np.load(os.path.join(folder, "theta.npy")))
n = X.shape[0]

params = []
offset = 0
for i, o in zip(layers[:-1], layers[1:]):
    params.append(flat[offset:offset + i * o].reshape(i, o).clone().requires_grad_(True)); offset += i * o
    params.append(flat[offset:offset + o].clone().requires_grad_(True)); offset += o
p = offset


def per_sample_losses(ps):
    h = X
    for l in range(len(layers) - 1):
        h = h @ ps[2 * l] + ps[2 * l + 1]
        if l < len(layers) - 2:
            h = torch.relu(h)
    return torch.nn.functional.cross_entropy(h, y, reduction="none")


def flatten(ts):
    return torch.cat([t.reshape(-1) for t in ts])


def split(v):
    out, k = [], 0
    for t in params:
        out.append(v[k:k + t.numel()].view_as(t)); k += t.numel()
    return out


def loss_and_gradient():
    for t in params:
        t.grad = None
    loss = per_sample_losses(params).mean()
    loss.backward()
    return loss.item()


# Graphs built once, reused by every product (the peer's fastest setting).
losses = per_sample_losses(params)
loss = losses.mean()
grads = torch.autograd.grad(loss, params, create_graph=True)
dummy = torch.zeros(n, requires_grad=True)
# J^T u as a function of u, itself differentiable in u: its vjp with v gives J v (double-vjp trick).
jtu = torch.autograd.grad(losses, params, grad_outputs=dummy, create_graph=True)


def hv(v):
    return flatten(torch.autograd.grad(grads, params, grad_outputs=split(v), retain_graph=True))


def mv(v):
    jv = torch.autograd.grad(jtu, dummy, grad_outputs=split(v), retain_graph=True)[0]
    return flatten(torch.autograd.grad(losses, params, grad_outputs=jv.detach(), retain_graph=True)) / n


def lanczos(op, k=15, steps=60, seed=7):
    g = torch.Generator().manual_seed(seed)
    Q = torch.zeros(steps + 1, p)
    q = torch.randn(p, generator=g)
    Q[0] = q / q.norm()
    alpha, beta = [], []
    for j in range(steps):
        w = op(Q[j])
        alpha.append(torch.dot(Q[j], w).item())
        for _ in range(2):
            w = w - Q[:j + 1].t() @ (Q[:j + 1] @ w)
        b = w.norm().item()
        beta.append(b)
        Q[j + 1] = w / b
    T = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    values, vectors = np.linalg.eigh(T)
    order = np.argsort(values)[::-1][:k]
    ritz = Q[:steps].t() @ torch.from_numpy(vectors[:, order].astype(np.float32))
    return values[order], ritz


def timed(work, r):
    work()
    s = []
    for _ in range(r):
        t0 = time.perf_counter(); work(); s.append(time.perf_counter() - t0)
    return sorted(s)[r // 2]


v = torch.randn(p, generator=torch.Generator().manual_seed(1)); v /= v.norm()
t_lg = timed(loss_and_gradient, repeats)
t_hv = timed(lambda: hv(v), repeats)
t_mv = timed(lambda: mv(v), repeats)
result = {}
t_lh = timed(lambda: result.__setitem__("H", lanczos(hv)[0]), 1)
t_lm = timed(lambda: result.__setitem__("M", lanczos(mv)[0]), 1)
print("torch %s, %d threads, OMP_WAIT_POLICY=%s" % (torch.__version__, torch.get_num_threads(),
                                                   os.environ.get("OMP_WAIT_POLICY")))
print("loss %.6f" % loss.item())
print("top-5 H:", list(result["H"][:5]))
print("top-5 M:", list(result["M"][:5]))
for name, t in [("loss+gradient", t_lg), ("Hv", t_hv), ("Mv", t_mv), ("lanczos-H", t_lh), ("lanczos-M", t_lm)]:
    print("RESULT torch %s %.4f s" % (name, t))
