"""What :meth:`sgdscope.Run.log` computes from a PyTorch model: the paper's quantities (docs/quantities.md).

Precision: ||g_t|| and cos(g_t, g_{t-1}) (:class:`GradientTracker`) from the parameters' ``.grad``: one dot
product per parameter tensor in the model's precision (float64 for a float64 model), summed over the tensors in
float64; a float64 copy of g_t every iteration would cost more than the rest of the client. Per-sample
gradients and Hessian-vector products run in the model's precision; the Gram matrix, the moments, Lanczos (basis,
tridiagonal eigenproblem) and the principal angles in float64.
Written for PyTorch 2.x (``torch.func``) and 1.13 (``functorch``), whichever exists.

||θ_t − θ_0|| (``paramDistance``, :class:`DistanceFromStart`): θ_0 is copied once per watch (also for the snapshot
folders); per parameter tensor the difference and its squares in the model's precision, summed pairwise, the sum
over the tensors in float64.
"""
import json
import math
import operator
import os
import time

import torch

try:
    import numpy as _np
    _np_empty_like = _np.empty_like
    _np_subtract = _np.subtract
    _np_multiply = _np.multiply
    _np_sum = _np.add.reduce
    _NUMPY_DTYPES = (torch.float32, torch.float64)
    _NUMPY_FLOATS = (_np.dtype("float32"), _np.dtype("float64"))
except ImportError:  # torch without NumPy: every gradient takes the torch path
    _np = None

try:  # PyTorch 2.x
    from torch.func import functional_call as _functional_call, grad as _grad, vmap as _vmap
    _HAS_TORCH_FUNC = True
except ImportError:  # PyTorch 1.13: functorch
    from functorch import grad as _grad, make_functional as _make_functional, vmap as _vmap
    _HAS_TORCH_FUNC = False

F64 = torch.float64
_is = operator.is_


# ---- per iteration --------------------------------------------------------------------------------------------

def flat_gradient(parameters, out=None, dtype=F64):
    """g_t as one vector (of ``dtype``), from each parameter's ``.grad`` (zeros where a parameter has none).

    ``out``: a buffer of p values to fill instead of allocating one (the per-iteration path).
    """
    grads = [p.grad.detach().reshape(-1) if p.grad is not None else torch.zeros(p.numel(), dtype=p.dtype)
             for p in parameters]
    if out is None:
        out = torch.empty(sum(g.numel() for g in grads), dtype=dtype)
    return torch.cat(grads, out=out)


def gradient_norm(g):
    """||g_t||_2 = sqrt(<g_t, g_t>) (Fig. 8, right), in the precision of g."""
    return math.sqrt(float(torch.dot(g, g)))


def gradient_cosine(g, g_prev):
    """cos(g_t, g_{t-1}) = <g_t, g_{t-1}> / (||g_t|| ||g_{t-1}||) (Fig. 8, middle); None at t = 0 or for a zero g."""
    if g_prev is None:
        return None
    a, b = gradient_norm(g), gradient_norm(g_prev)
    if a == 0.0 or b == 0.0:
        return None
    return float(torch.dot(g, g_prev)) / (a * b)



def _numpy_view(g):
    """A flat NumPy view of a CPU float32/float64 contiguous tensor (no copy), else None."""
    if _np is None or g.device.type != "cpu" or g.dtype not in _NUMPY_DTYPES or not g.is_contiguous():
        return None
    return g.detach().numpy().reshape(-1)


_grad_of = operator.attrgetter("grad")
_version_of = operator.attrgetter("_version")


def _fresh_arrays(grads):
    """Flat NumPy views of the .grad tensors of a loop that gives fresh ones every iteration, or None when one of
    them cannot be read that way (None, CUDA, requiring grad, not float32/float64): the general path then."""
    try:
        arrays = [g.numpy().reshape(-1) for g in grads]
    except (AttributeError, TypeError, RuntimeError):
        return None
    for a in arrays:
        if a.dtype not in _NUMPY_FLOATS:
            return None
    return arrays


class GradientTracker:
    """||g_t|| and cos(g_t, g_{t-1}) (Fig. 8) from the parameters' ``.grad``, without concatenating them.

    ||g_t||^2 = sum_i <g_t^i, g_t^i> and <g_t, g_{t-1}> = sum_i <g_t^i, g_{t-1}^i> over the parameter tensors i.
    Precision: each per-parameter dot product is one BLAS dot in the model's precision (float64 for a float64
    model: the products and sums of the dense definition, up to the order of summation); the sum over the
    parameters, the square root and the division are in float64 (Python floats). A float64 copy of g_t would
    double the cost of this path (bench/pytorch-client/RESULTS.md).

    g_{t-1} is kept per parameter: when the training loop gives each iteration fresh ``.grad`` tensors
    (``zero_grad(set_to_none=True)``, PyTorch 2's default) the tensors of t-1 are kept by reference and nothing
    is copied; when it zeroes them in place (``set_to_none=False``, PyTorch 1.13's default) g_t is copied into a
    buffer preallocated per parameter. A kept tensor written in place after :meth:`observe` (``._version``
    moved: gradient clipping after ``log``) is not trusted: its parameter falls back to copies from then on and
    that iteration's cosine is None. CPU tensors of float32/float64 are read through NumPy views (no copy; NumPy's
    dot and copy run in the calling thread, where torch's ``copy_`` wakes its thread pool); other tensors (CUDA,
    half precision, non-contiguous) through torch with one host sync per iteration.

    Both zeroing modes have a steady state that :meth:`observe` checks first, with no torch operator and a few
    Python steps per parameter (bench/pytorch-client/profile_log.py): the same ``.grad`` objects as last time
    (in place: two dots and a copy per parameter), or all of them new while the kept ones are unchanged (fresh:
    a view and two dots per parameter). Anything else (a parameter without a gradient, a switch of mode, a
    written kept tensor, the torch path) takes the general path, which then sets up the steady state again.
    """

    def __init__(self, parameters):
        self.params = list(parameters)
        n = len(self.params)
        self._seen = [None] * n        # the .grad tensor object of the previous observation
        self._seen_array = [None] * n  # its NumPy view
        self._prev = [None] * n        # g_{t-1} of each parameter: an array (ours or a view of a kept tensor)
        self._kept = [None] * n        # (tensor, version) when _prev views a kept .grad tensor
        self._buffers = [None] * n     # preallocated copy targets
        self._copy_only = [False] * n
        self._started = False
        self._previous_norm = 0.0
        self._same = None              # in place: (.grad tensors, [(their arrays, copy buffers)])
        self._fresh = None             # fresh: (kept .grad tensors, their versions, their arrays)

    def observe(self):
        """(||g_t||, cos(g_t, g_{t-1}) or None): None at the first observation, for a zero gradient or when
        g_{t-1} was overwritten; g_t is then kept as the next observation's g_{t-1}."""
        grads = list(map(_grad_of, self.params))
        same = self._same
        if same is not None:
            if all(map(_is, grads, same[0])):     # in-place zeroing: copy g_t over g_{t-1} once read
                gg = gq = 0.0
                for a, buffer in same[1]:
                    gg += float(a.dot(a))
                    gq += float(a.dot(buffer))
                    buffer[...] = a
                return self._finish(gg, gq, False)
            self._same = None
        fresh = self._fresh
        if fresh is not None:
            kept, versions, prevs = fresh
            # fresh tensors: none of them a kept one, the kept ones unwritten since observed
            if not any(map(_is, grads, kept)) and list(map(_version_of, kept)) == versions:
                arrays = _fresh_arrays(grads)
                if arrays is not None and list(map(len, arrays)) == list(map(len, prevs)):
                    gg = gq = 0.0
                    for a, q in zip(arrays, prevs):
                        gg += float(a.dot(a))
                        gq += float(a.dot(q))
                    self._fresh = (grads, list(map(_version_of, grads)), arrays)
                    return self._finish(gg, gq, False)
            self._fresh = None
            for i, (g, version, a) in enumerate(zip(kept, versions, prevs)):  # the general path's state
                self._seen[i], self._seen_array[i], self._prev[i], self._kept[i] = g, a, a, (g, version)
        gg = 0.0
        gq = 0.0
        lost = False
        deferred = None
        for i, p in enumerate(self.params):
            g = grads[i]
            seen = self._seen[i]
            prev = self._prev[i]
            kept = self._kept[i]
            if kept is not None and (kept[0] is g or kept[0]._version != kept[1]):
                prev = None                                     # the kept tensor was written after observe
                lost = True
                self._copy_only[i] = True
            if g is None:
                self._seen[i] = None
                self._prev[i] = None
                self._kept[i] = None
                continue
            if g is seen:
                a = self._seen_array[i]
            else:
                a = _numpy_view(g)
                self._seen_array[i] = a
            if a is None:                                       # torch path (CUDA, half, strided)
                deferred = self._observe_torch(i, g, seen, prev, deferred)
                continue
            gg += float(a.dot(a))
            if type(prev) is _np.ndarray and prev.shape == a.shape:
                gq += float(a.dot(prev))
            if seen is not None and g is not seen and not self._copy_only[i]:
                self._prev[i] = a                               # a fresh tensor every iteration: keep it
                self._kept[i] = (g, g._version)
            else:
                buffer = self._buffers[i]
                if buffer is None or buffer.shape != a.shape or buffer.dtype != a.dtype:
                    buffer = self._buffers[i] = _np_empty_like(a)
                buffer[...] = a
                self._prev[i] = buffer
                self._kept[i] = None
            self._seen[i] = g
        if deferred is not None:
            values = torch.stack([d.to(torch.float64) for d in deferred]).tolist()
            gg += sum(values[0::2])
            gq += sum(values[1::2])
        self._steady_state(grads)
        return self._finish(gg, gq, lost)

    def _steady_state(self, grads):
        """Sets up the fast path the next observation checks first, when every parameter qualifies for it."""
        if _np is None or not all(map(_is, grads, self._seen)) \
                or not all(type(q) is _np.ndarray for q in self._prev):
            return
        if all(k is None for k in self._kept):
            self._same = (grads, list(zip(self._seen_array, self._prev)))
        elif all(k is not None for k in self._kept):
            self._fresh = (grads, [k[1] for k in self._kept], list(self._prev))

    def _finish(self, gg, gq, lost):
        norm = math.sqrt(gg)                                    # ||g_t|| (Fig. 8, right)
        cosine = None
        if self._started and not lost and norm > 0.0 and self._previous_norm > 0.0:
            cosine = gq / (norm * self._previous_norm)          # cos(g_t, g_{t-1}) (Fig. 8, middle)
        self._started = True
        self._previous_norm = norm
        return norm, cosine

    def _observe_torch(self, i, g, seen, prev, deferred):
        flat = g.detach().reshape(-1)
        deferred = [] if deferred is None else deferred
        deferred.append(torch.dot(flat, flat))
        deferred.append(torch.dot(flat, prev) if isinstance(prev, torch.Tensor) and prev.shape == flat.shape
                        else torch.zeros((), dtype=flat.dtype, device=flat.device))
        buffer = self._buffers[i]
        if not isinstance(buffer, torch.Tensor) or buffer.shape != flat.shape or buffer.dtype != flat.dtype \
                or buffer.device != flat.device:
            buffer = self._buffers[i] = torch.empty_like(flat)
        buffer.copy_(flat)
        self._prev[i] = buffer
        self._kept[i] = None
        self._seen[i] = g
        return deferred


class DistanceFromStart:
    """||θ_t − θ_0||_2 of a model's parameters (``paramDistance``; Corollary 4's ||θ − θ_0||^2 / σ^2, Eq. 52).

    θ_0 is one flat copy of the parameters taken when this is made (:attr:`theta0`, also the snapshot folders'
    θ_0); each parameter's start is a view of it. ||θ_t − θ_0||^2 = sum_i ||θ_t^i − θ_0^i||^2 over the parameter
    tensors i. For CPU float32/float64 parameters each term is, through NumPy views (no copy), one subtraction into
    a buffer preallocated per parameter, squared in place and summed by NumPy's pairwise summation, in the calling
    thread: differences and squares in the model's precision, the pairwise sum's error O(log n) roundings; the sum
    over the tensors and the square root in float64. Other parameters (CUDA, half precision) take one
    ``torch.dist`` each. ``torch.dist`` per tensor cost about as much on a quiet machine and, under load, up to
    milliseconds a call waking torch's thread pool (bench/pytorch-client/RESULTS.md).
    """

    def __init__(self, parameters):
        self.params = list(parameters)
        self.theta0 = torch.cat([p.detach().reshape(-1) for p in self.params]).clone()
        self._pairs = []
        at = 0
        for p in self.params:
            n = p.numel()
            self._pairs.append((p, self.theta0[at:at + n].view(p.shape)))
            at += n
        self._arrays = None  # [(parameter, its data pointer, its NumPy view, θ_0's view, buffer)], or None

    def distance(self):
        """||θ_t − θ_0||_2 at the parameters' current values."""
        arrays = self._arrays
        if arrays is None or any(p.data_ptr() != ptr for p, ptr, _, _, _ in arrays):
            arrays = self._arrays = self._views()
        squared = 0.0
        if arrays:
            for _, _, a, b, d in arrays:
                _np_subtract(a, b, out=d)
                _np_multiply(d, d, out=d)
                squared += float(_np_sum(d))
            return math.sqrt(squared)
        for p, start in self._pairs:
            d = float(torch.dist(p.detach(), start))
            squared += d * d
        return math.sqrt(squared)

    def _views(self):
        """The NumPy path's views and buffers when every parameter has one (see :func:`_numpy_view`), else []."""
        arrays = []
        for p, start in self._pairs:
            a = _numpy_view(p)
            b = _numpy_view(start)
            if a is None or b is None or a.dtype != b.dtype:
                return []
            arrays.append((p, p.data_ptr(), a, b, _np_empty_like(a)))
        return arrays


# ---- per-sample gradients and the moments (Eq. 4-7) -------------------------------------------------------------

def per_sample_gradients(model, loss_fn, X, y):
    """J: [n, p], row i the gradient of f(θ; z_i) (in the model's precision), by vmap over grad."""
    names = [name for name, _ in model.named_parameters()]
    params = tuple(p.detach() for p in model.parameters())
    if _HAS_TORCH_FUNC:
        def sample_loss(ps, x, t):
            out = _functional_call(model, dict(zip(names, ps)), (x.unsqueeze(0),))
            return loss_fn(out, t.unsqueeze(0))
    else:
        fmodel, _ = _make_functional(model)

        def sample_loss(ps, x, t):
            return loss_fn(fmodel(ps, x.unsqueeze(0)), t.unsqueeze(0))
    grads = _vmap(_grad(sample_loss), in_dims=(None, 0, 0))(params, X, y)
    return torch.cat([g.reshape(g.shape[0], -1) for g in grads], dim=1)


def gradient_moments(J):
    """The moments of the sample gradients from the n x n Gram matrix G = J J^T, in float64.

    ||μ||^2 = 1^T G 1 / n^2 (Eq. 4); Tr M = Tr G / n (Eq. 7); the non-zero spectrum of Σ = M - μ μ^T (Eq. 5)
    is that of C G C / n, C = I - 1 1^T / n, which gives Tr Σ, ||Σ||_F, ||Σ||_2; μ^T Σ μ = ||G1 - mean(G1)||^2 / n^3
    (α_1 of Thm 1: ||Σ^{1/2} μ|| = sqrt(μ^T Σ μ)).
    """
    J = J.to(F64)
    n = J.shape[0]
    G = J @ J.T
    ones = torch.ones(n, dtype=F64)
    g1 = G @ ones
    mu_sq = float(ones @ g1) / n ** 2                               # Eq. 4
    trace_m = float(torch.trace(G)) / n                             # Eq. 7
    C = torch.eye(n, dtype=F64) - 1.0 / n
    sigma_eigs = torch.linalg.eigvalsh(C @ G @ C / n).clamp(min=0.0)  # Eq. 5, non-zero spectrum of Σ
    centred = g1 - g1.mean()
    mu_sigma_mu = max(float(centred @ centred) / n ** 3, 0.0)       # μ^T Σ μ (Thm 1)
    return {"gradNormSq": mu_sq, "traceM": trace_m, "traceSigma": trace_m - mu_sq,
            "sigmaFrobenius": float(torch.linalg.vector_norm(sigma_eigs)), "sigmaSpectral": float(sigma_eigs.max()),
            "sigmaHalfMuNorm": math.sqrt(mu_sigma_mu)}


def second_moment_eigenpairs(J, k):
    """Top-k eigenpairs of M_t = J^T J / n (Eq. 7), exactly, from the eigenproblem of G / n; float64.

    Returns (values [k] largest first, vectors [p, k] unit norm); a zero eigenvalue gets a zero vector.
    """
    J = J.to(F64)
    n = J.shape[0]
    values, U = torch.linalg.eigh(J @ J.T / n)
    order = torch.argsort(values, descending=True)[:k]
    values, U = values[order].clamp(min=0.0), U[:, order]
    V = J.T @ U                                                     # M (J^T u) = J^T (G/n) u = λ J^T u
    norms = torch.linalg.vector_norm(V, dim=0)
    V = torch.where(norms > 0, V / norms.clamp(min=1e-300), torch.zeros_like(V))
    return values, V


# ---- Hessian-vector products and Lanczos --------------------------------------------------------------------

class HessianOperator:
    """v -> H_f v for f the mean loss on (X, y), by double backward (Pearlmutter's trick); float64 in and out."""

    def __init__(self, model, loss_fn, X, y):
        self.params = [p for p in model.parameters()]
        self.dtype = self.params[0].dtype
        self.sizes = [p.numel() for p in self.params]
        self.p = sum(self.sizes)
        loss = loss_fn(model(X), y)
        self.loss = float(loss)
        self.grads = torch.autograd.grad(loss, self.params, create_graph=True)

    def __call__(self, v):
        parts = torch.split(v.to(self.dtype), self.sizes)
        vs = [part.reshape(p.shape) for part, p in zip(parts, self.params)]
        hv = torch.autograd.grad(self.grads, self.params, grad_outputs=vs, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]).to(F64)


class CountedProducts:
    """An operator v -> A v that counts its products: the matvec counts of SpectrumSnapshot (v4)."""

    def __init__(self, matvec):
        self.matvec = matvec
        self.calls = 0

    def __call__(self, v):
        self.calls += 1
        return self.matvec(v)


def lanczos(matvec, p, k, *, max_steps=300, tol=1e-5, seed=0, start=None):
    """Top-k and bottom eigenpairs of a symmetric operator by Lanczos with full reorthogonalisation, float64.

    Classical Gram-Schmidt against the whole basis, twice, every step; stops when the top-k Ritz pairs and the
    extreme bottom one have residual estimates |β_j s_{j,i}| below tol * max|θ|, or after min(p, max_steps)
    steps. Returns (values [k] largest first, vectors [p, k], residuals [k] = ||A v - θ v|| computed, and
    the smallest Ritz value).
    """
    steps = min(p, max_steps)
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(p, generator=gen, dtype=F64) if start is None else start.to(F64).clone()
    q /= torch.linalg.vector_norm(q)
    Q = torch.zeros(steps + 1, p, dtype=F64)
    Q[0] = q
    alphas, betas = [], []
    for j in range(steps):
        w = matvec(Q[j])
        alphas.append(float(Q[j] @ w))
        basis = Q[:j + 1]
        for _ in range(2):
            w = w - basis.T @ (basis @ w)
        beta = float(torch.linalg.vector_norm(w))
        betas.append(beta)
        last = j + 1 == steps or beta < 1e-12 * max(1.0, abs(alphas[-1]))
        if not last and (j + 1) % 10 == 0 and j + 1 >= k:
            theta, S = _tridiagonal_eig(alphas, betas[:-1])
            scale = max(abs(theta[0]), abs(theta[-1]), 1e-300)
            est = [abs(beta * float(S[-1, i])) for i in list(range(min(k, len(theta)))) + [len(theta) - 1]]
            if max(est) <= tol * scale:
                last = True
        if last:
            break
        Q[j + 1] = w / beta
    m = len(alphas)
    theta, S = _tridiagonal_eig(alphas, betas[:m - 1])
    vectors = Q[:m].T @ S
    top = min(k, m)
    values = theta[:top]
    tops = vectors[:, :top]
    residuals = torch.stack([torch.linalg.vector_norm(matvec(tops[:, i]) - values[i] * tops[:, i]) for i in range(top)])
    return values, tops, residuals, float(theta[-1])


def _tridiagonal_eig(alphas, offdiag):
    """Eigenpairs of the Lanczos tridiagonal matrix, largest first (float64, LAPACK's symmetric solver)."""
    m = len(alphas)
    T = torch.diag(torch.tensor(alphas, dtype=F64))
    if m > 1:
        off = torch.tensor(offdiag, dtype=F64)
        T += torch.diag(off, 1) + torch.diag(off, -1)
    theta, S = torch.linalg.eigh(T)
    return theta.flip(0), S.flip(1)


def principal_angle_cosines(U, V):
    """Cosines of the principal angles between span(U) and span(V): singular values of U^T V (Eq. 13), float64."""
    Uq, _ = torch.linalg.qr(U.to(F64))
    Vq, _ = torch.linalg.qr(V.to(F64))
    return torch.linalg.svdvals(Uq.T @ Vq)


def layer_loadings(vectors, layer_sizes):
    """For each column v, the share of ||v||^2 in each layer (§4.4, Fig. 7)."""
    out = []
    for i in range(vectors.shape[1]):
        v = vectors[:, i]
        total = float(v @ v)
        parts = torch.split(v, layer_sizes)
        out.append([float(part @ part) / total if total > 0 else 0.0 for part in parts])
    return out


def davis_kahan_bounds(hessian_values, hp_spectral):
    """2 sqrt(s) ||H_p||_2 / (λ_s - λ_{s+1}) for s = 1, 2, 3 (Eq. 59, App. B.2.2: without a dense H_p, the first
    term of the min alone); as many as the top eigenvalues allow, +inf for a zero gap."""
    out = []
    for s in range(1, min(3, len(hessian_values) - 1) + 1):
        gap = float(hessian_values[s - 1] - hessian_values[s])
        out.append(2.0 * math.sqrt(s) * hp_spectral / gap if gap > 0 else math.inf)
    return out


def layer_sizes(model):
    """Parameter counts per layer, in parameter order: parameters grouped by the module that holds them."""
    sizes, owners = [], []
    for name, p in model.named_parameters():
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        if owners and owners[-1] == owner:
            sizes[-1] += p.numel()
        else:
            owners.append(owner)
            sizes.append(p.numel())
    return sizes


def curvature(model, loss_fn, X, y, *, top_k, spectrum, max_steps=300, tol=1e-5, seed=0):
    """The moments and L at θ_t on the probe (X, y), and with ``spectrum`` the SpectrumSnapshot fields.

    Returns (IterationMetrics fields, SpectrumSnapshot fields or None).
    """
    start = time.perf_counter()
    J = per_sample_gradients(model, loss_fn, X, y)
    metrics = gradient_moments(J)
    H = HessianOperator(model, loss_fn, X, y)
    k = min(top_k, H.p)
    h_products = CountedProducts(H)
    h_values, h_vectors, h_res, h_min = lanczos(h_products, H.p, k, max_steps=max_steps, tol=tol, seed=seed)
    metrics["hessianSpectralNorm"] = max(abs(float(h_values[0])), abs(h_min))  # L = max |λ(H_f)| (Eq. 6)
    snapshot = None
    if spectrum:
        n = J.shape[0]
        J64 = J.to(F64)
        m_values, m_vectors = second_moment_eigenpairs(J64, k)
        m_res = torch.stack([torch.linalg.vector_norm(J64.T @ (J64 @ m_vectors[:, i]) / n - m_values[i] * m_vectors[:, i])
                             for i in range(k)])

        def hp(v):  # H_p v = M_t v - H_f v (Eq. 12)
            return J64.T @ (J64 @ v) / n - H(v)

        p_products = CountedProducts(hp)
        p_values, _, p_res, p_min = lanczos(p_products, H.p, k, max_steps=max_steps, tol=tol, seed=seed + 1)
        hp_norm = max(abs(float(p_values[0])), abs(p_min))
        snapshot = {
            "precision": str(H.dtype).replace("torch.", ""), "topK": k,
            "hessianEigenvalues": h_values.tolist(), "hessianResiduals": h_res.tolist(),
            "secondMomentEigenvalues": m_values.tolist(), "secondMomentResiduals": m_res.tolist(),
            "predictionHessianEigenvalues": p_values.tolist(), "predictionHessianResiduals": p_res.tolist(),
            "principalAngleCosines": principal_angle_cosines(h_vectors, m_vectors).tolist(),
            "hessianLayerLoadings": layer_loadings(h_vectors, layer_sizes(model)),
            "davisKahanBounds": davis_kahan_bounds(h_values, hp_norm),
            "hessianFullSpectrum": None, "secondMomentFullSpectrum": None, "hessianDiagonal": None,
            "hessianDiagonalMethod": None, "priorSigma": None, "effectiveCurvature": None,
            "weightedFrobenius": None, "generalizationBound": None, "frameKey": None,
            # Products each eigenpair computation took: Lanczos steps plus the k explicit residual checks; M_t's
            # eigenpairs come from the n x n Gram matrix, no products.
            "hessianMatvecs": h_products.calls, "secondMomentMatvecs": None,
            "predictionHessianMatvecs": p_products.calls,
        }
    seconds = time.perf_counter() - start
    metrics["probeSeconds"] = seconds
    if snapshot is not None:
        snapshot["probeSeconds"] = seconds
    return metrics, snapshot


# ---- the watch a Run keeps ---------------------------------------------------------------------------------------

class ModelWatch:
    """Per-run state of :meth:`sgdscope.Run.log` for a torch model: g_{t-1}, cadences, the probe.

    ``probe`` = (X, y): the samples the moments, L and the spectra are computed on (the paper's definitions
    take the whole training set); ``loss_fn`` maps (outputs, targets) to their mean loss (default: softmax
    cross-entropy). Every ``moments_every`` iterations: the moments of Eq. 4-7 and L; every ``spectrum_every``:
    a SpectrumSnapshot with the top ``top_k`` eigenpairs of H_f, M_t and H_p (0 = off). At ``snapshot_at``
    iterations both are computed and a snapshot folder is written under ``snapshot_dir`` (docs/snapshots.md;
    ``nn.Sequential`` of ``Linear`` and ``ReLU`` only). Every ``distance_every`` iterations (and at every moments,
    spectrum and snapshot iteration): ``paramDistance`` = ||θ_t − θ_0|| (0 = only at those); in between it is None
    (not computed). It reads θ_t and θ_0 whole, about as much memory traffic as the gradient statistics, so every
    iteration would double run.log's cost (bench/pytorch-client/RESULTS.md); θ moves slowly, and 10 keeps the cost
    a tenth of that.
    """

    def __init__(self, model, *, probe=None, loss_fn=None, moments_every=0, spectrum_every=0, top_k=5,
                 snapshot_at=(), snapshot_dir=None, run_id=None, max_steps=300, tol=1e-5, distance_every=10):
        if (moments_every or spectrum_every or snapshot_at) and probe is None:
            raise ValueError("moments, spectra and snapshots need probe=(X, y)")
        if snapshot_at and snapshot_dir is None:
            raise ValueError("snapshot_at needs snapshot_dir")
        if snapshot_at:
            _sequential_layers(model)  # refuses other nets now, not at the snapshot
        self.probe = probe
        self.loss_fn = loss_fn or torch.nn.functional.cross_entropy
        self.moments_every = int(moments_every)
        self.spectrum_every = int(spectrum_every)
        self.distance_every = int(distance_every)
        if self.moments_every < 0 or self.spectrum_every < 0 or self.distance_every < 0:
            raise ValueError("moments_every, spectrum_every and distance_every must be >= 0 (0 = off)")
        self.top_k = int(top_k)
        self.snapshot_at = set(int(t) for t in snapshot_at)
        self.snapshot_dir = snapshot_dir
        self.run_id = run_id
        self.max_steps = max_steps
        self.tol = tol
        self._gradients = GradientTracker(model.parameters())
        self._distance = DistanceFromStart(model.parameters())
        self.theta0 = self._distance.theta0
        self._spectrum = None
        self._model = model

    def observe(self, iteration, model, loss):
        """The IterationMetrics fields of iteration t computed from the model (before the optimizer step)."""
        norm, cosine = self._gradients.observe()
        snap = iteration in self.snapshot_at
        moments = snap or (self.moments_every > 0 and iteration % self.moments_every == 0)
        spectrum = snap or (self.spectrum_every > 0 and iteration % self.spectrum_every == 0)
        distance = moments or spectrum or (self.distance_every > 0 and iteration % self.distance_every == 0)
        values = {"sgNorm": norm, "sgCosPrev": cosine,
                  "paramDistance": self._distance.distance() if distance else None}
        self._spectrum = None
        if moments or spectrum:
            X, y = self.probe
            metrics, self._spectrum = curvature(model, self.loss_fn, X, y, top_k=self.top_k, spectrum=spectrum,
                                                max_steps=self.max_steps, tol=self.tol, seed=iteration)
            values.update(metrics)
        return values

    def take_spectrum(self):
        spectrum, self._spectrum = self._spectrum, None
        return spectrum

    def after_publish(self, iteration, record, spectrum):
        if iteration in self.snapshot_at:
            folder = os.path.join(self.snapshot_dir, record["runId"], str(int(iteration)))
            write_snapshot(folder, self._model, self.probe, self.theta0, iteration, self.top_k, record, spectrum)


def _sequential_layers(model):
    """The Linear layers of an nn.Sequential of Linear and ReLU, or ValueError naming what else it holds."""
    if not isinstance(model, torch.nn.Sequential):
        raise ValueError("snapshot folders need an nn.Sequential of Linear and ReLU, not %s" % type(model).__name__)
    linears = []
    for module in model:
        if isinstance(module, torch.nn.Linear):
            linears.append(module)
        elif not isinstance(module, torch.nn.ReLU):
            raise ValueError("snapshot folders need an nn.Sequential of Linear and ReLU; it holds a %s"
                             % type(module).__name__)
    return linears


def _npy(path, array):
    import numpy as np
    np.save(path, np.ascontiguousarray(array))


def _json_value(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    return v


def write_snapshot(folder, model, probe, theta0, iteration, top_k, record, spectrum):
    """A snapshot folder of the curvature contract (docs/snapshots.md): θ_t, the data and the published values."""
    linears = _sequential_layers(model)
    os.makedirs(folder, exist_ok=True)
    X, y = probe
    layers = [linears[0].in_features] + [m.out_features for m in linears]
    with open(os.path.join(folder, "meta.json"), "w", encoding="utf-8") as f:
        json.dump({"layers": layers, "activation": "relu", "loss": "softmax_cross_entropy", "iteration": int(iteration),
                   "topK": int(top_k), "priorSigma": None}, f)
    _npy(os.path.join(folder, "X.npy"), X.detach().cpu().numpy())
    _npy(os.path.join(folder, "y.npy"), y.detach().cpu().numpy().astype("int64"))
    for l, m in enumerate(linears):
        _npy(os.path.join(folder, "W%d.npy" % l), m.weight.detach().cpu().numpy().T)   # [in, out]: z = a W + b
        _npy(os.path.join(folder, "b%d.npy" % l), m.bias.detach().cpu().numpy())
    # θ_0 flat in the contract's order (per layer W_l row-major [in, out], then b_l), from torch's order
    # (per layer weight [out, in], then bias).
    parts, at = [], 0
    for m in linears:
        n_w, n_b = m.weight.numel(), m.bias.numel()
        parts.append(theta0[at:at + n_w].reshape(m.out_features, m.in_features).T.reshape(-1))
        parts.append(theta0[at + n_w:at + n_w + n_b])
        at += n_w + n_b
    _npy(os.path.join(folder, "theta0.npy"), torch.cat(parts).cpu().numpy())
    published = {"iteration": int(iteration)}
    for name in ("loss", "gradNormSq", "traceM", "traceSigma", "sigmaFrobenius", "sigmaSpectral", "sigmaHalfMuNorm"):
        published[name] = _json_value(record.get(name))
    if spectrum is not None:
        published["hessianEigenvalues"] = _json_value(spectrum["hessianEigenvalues"])
        published["secondMomentEigenvalues"] = _json_value(spectrum["secondMomentEigenvalues"])
        published["residualEigenvalues"] = _json_value(spectrum["predictionHessianEigenvalues"])
        published["principalAngleCosines"] = _json_value(spectrum["principalAngleCosines"])
    with open(os.path.join(folder, "published.json"), "w", encoding="utf-8") as f:
        json.dump(published, f)
    return folder


def model_spec(model, *, loss="softmax_cross_entropy", initialization="pytorch-default"):
    """RunStarted's ModelSpec of a torch model: layers of an nn.Sequential of Linear/ReLU, parameter count."""
    layers = []
    if isinstance(model, torch.nn.Sequential):
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        if linears:
            layers = [linears[0].in_features] + [m.out_features for m in linears]
    activation = "relu" if any(isinstance(m, torch.nn.ReLU) for m in model.modules()) else "unknown"
    return {"layers": layers, "activation": activation, "loss": loss,
            "parameterCount": sum(p.numel() for p in model.parameters()), "initialization": initialization}
