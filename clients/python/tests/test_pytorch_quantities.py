"""The quantities of sgdscope.pytorch against dense float64 references built with plain autograd.

References: per-sample gradients by one autograd.grad call per sample (no vmap); M_t, μ, Σ as dense matrices;
H_f from torch.autograd.functional.hessian on the loss as a function of the flat parameter vector; their
spectra from LAPACK's eigvalsh.
"""
import math

import pytest
import torch

from sgdscope import pytorch as sp

F = torch.nn.functional


def dense_jacobian(model, X, y):
    rows = []
    for i in range(X.shape[0]):
        loss = F.cross_entropy(model(X[i:i + 1]), y[i:i + 1])
        grads = torch.autograd.grad(loss, list(model.parameters()))
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


def dense_hessian(model, X, y):
    params = list(model.parameters())
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]
    theta = torch.cat([p.detach().reshape(-1) for p in params])
    names = [n for n, _ in model.named_parameters()]

    def f(flat):
        ps = [part.reshape(s) for part, s in zip(torch.split(flat, sizes), shapes)]
        h = X
        layer = 0
        for module in model:
            if isinstance(module, torch.nn.Linear):
                h = h @ ps[2 * layer].T + ps[2 * layer + 1]
                layer += 1
            else:
                h = torch.relu(h)
        return F.cross_entropy(h, y)

    assert len(names) == 2 * sum(isinstance(m, torch.nn.Linear) for m in model)
    H = torch.autograd.functional.hessian(f, theta)
    return (H + H.T) / 2


def test_gradient_norm_and_cosine_match_the_flat_autograd_gradients(small_net):
    model, X, y = small_net
    model.zero_grad()
    F.cross_entropy(model(X[:5]), y[:5]).backward()
    g1 = sp.flat_gradient(list(model.parameters()))
    ref1 = torch.cat([g.reshape(-1) for g in torch.autograd.grad(F.cross_entropy(model(X[:5]), y[:5]),
                                                                 list(model.parameters()))])
    assert sp.gradient_norm(g1) == pytest.approx(math.sqrt(sum(float(v) ** 2 for v in ref1)), rel=1e-12)
    model.zero_grad()
    F.cross_entropy(model(X[5:10]), y[5:10]).backward()
    g2 = sp.flat_gradient(list(model.parameters()))
    dot = sum(float(a) * float(b) for a, b in zip(g1, g2))
    expected = dot / (math.sqrt(sum(float(a) ** 2 for a in g1)) * math.sqrt(sum(float(b) ** 2 for b in g2)))
    assert sp.gradient_cosine(g2, g1) == pytest.approx(expected, rel=1e-12)
    assert sp.gradient_cosine(g2, None) is None
    assert sp.gradient_cosine(g2, torch.zeros_like(g2)) is None


def test_per_sample_gradients_by_vmap_equal_one_backward_per_sample(small_net):
    model, X, y = small_net
    J = sp.per_sample_gradients(model, F.cross_entropy, X, y)
    assert torch.allclose(J, dense_jacobian(model, X, y), rtol=1e-12, atol=1e-14)


def test_the_moments_equal_those_of_the_dense_second_moment_and_covariance(small_net):
    model, X, y = small_net
    J = dense_jacobian(model, X, y)
    n = J.shape[0]
    mu = J.mean(0)
    M = J.T @ J / n                       # Eq. 7
    Sigma = M - torch.outer(mu, mu)       # Eq. 5
    eig = torch.linalg.eigvalsh(Sigma)
    got = sp.gradient_moments(sp.per_sample_gradients(model, F.cross_entropy, X, y))
    assert got["gradNormSq"] == pytest.approx(float(mu @ mu), rel=1e-10)
    assert got["traceM"] == pytest.approx(float(torch.trace(M)), rel=1e-10)
    assert got["traceSigma"] == pytest.approx(float(torch.trace(Sigma)), rel=1e-10)
    assert got["sigmaFrobenius"] == pytest.approx(float(torch.linalg.norm(Sigma)), rel=1e-10)
    assert got["sigmaSpectral"] == pytest.approx(float(eig.max()), rel=1e-10)
    assert got["sigmaHalfMuNorm"] == pytest.approx(math.sqrt(float(mu @ Sigma @ mu)), rel=1e-8)


def test_lanczos_on_hessian_vector_products_gives_the_dense_hessians_top_eigenvalues_and_L(small_net):
    model, X, y = small_net
    H = dense_hessian(model, X, y)
    eig = torch.linalg.eigvalsh(H)
    op = sp.HessianOperator(model, F.cross_entropy, X, y)
    v = torch.randn(op.p, dtype=torch.float64)
    assert torch.allclose(op(v), H @ v, rtol=1e-9, atol=1e-12)
    values, vectors, residuals, smallest = sp.lanczos(op, op.p, 4, tol=1e-10)
    top = eig.flip(0)[:4]
    assert torch.allclose(values, top, rtol=1e-8, atol=1e-10)
    assert smallest == pytest.approx(float(eig[0]), abs=1e-8)
    for i in range(4):
        assert float(torch.linalg.norm(H @ vectors[:, i] - top[i] * vectors[:, i])) < 1e-6
    assert float(residuals.max()) < 1e-6
    metrics, _ = sp.curvature(model, F.cross_entropy, X, y, top_k=3, spectrum=False, tol=1e-10)
    assert metrics["hessianSpectralNorm"] == pytest.approx(float(eig.abs().max()), rel=1e-8)


def test_the_spectrum_snapshot_matches_dense_M_H_and_their_difference(small_net):
    model, X, y = small_net
    J = dense_jacobian(model, X, y)
    M = J.T @ J / J.shape[0]
    H = dense_hessian(model, X, y)
    _, snap = sp.curvature(model, F.cross_entropy, X, y, top_k=3, spectrum=True, tol=1e-10)
    em, vm = torch.linalg.eigh(M)
    eh, vh = torch.linalg.eigh(H)
    ep = torch.linalg.eigvalsh(M - H)     # H_p = M_t - H_f (Eq. 12)
    assert snap["secondMomentEigenvalues"] == pytest.approx(em.flip(0)[:3].tolist(), rel=1e-9)
    assert snap["hessianEigenvalues"] == pytest.approx(eh.flip(0)[:3].tolist(), rel=1e-8)
    assert snap["predictionHessianEigenvalues"] == pytest.approx(ep.flip(0)[:3].tolist(), rel=1e-7)
    # Eq. 13: singular values of U^T V for the dense top-3 eigenvectors
    cosines = torch.linalg.svdvals(vh[:, -3:].T @ vm[:, -3:])
    assert snap["principalAngleCosines"] == pytest.approx(cosines.tolist(), abs=1e-7)
    loads = snap["hessianLayerLoadings"]
    assert len(loads) == 3 and all(abs(sum(row) - 1.0) < 1e-12 for row in loads) and len(loads[0]) == 3
    top = eh.flip(0)[:4]
    hp_norm = float(torch.linalg.eigvalsh(M - H).abs().max())
    assert snap["davisKahanBounds"] == pytest.approx(
        [2 * math.sqrt(s) * hp_norm / float(top[s - 1] - top[s]) for s in (1, 2)], rel=1e-7)


def test_the_watch_publishes_norm_and_cosine_of_successive_sgd_gradients(small_net):
    model, X, y = small_net
    watch = sp.ModelWatch(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    previous = None
    for t in range(4):
        batch = slice(3 * t, 3 * t + 3)
        optimizer.zero_grad()
        F.cross_entropy(model(X[batch]), y[batch]).backward()
        reference = torch.cat([p.grad.reshape(-1).clone() for p in model.parameters()])
        values = watch.observe(t, model, 0.0)
        assert values["sgNorm"] == pytest.approx(float(reference.norm()), rel=1e-12)
        if previous is None:
            assert values["sgCosPrev"] is None
        else:
            assert values["sgCosPrev"] == pytest.approx(
                float(reference @ previous / (reference.norm() * previous.norm())), rel=1e-12)
        previous = reference
        optimizer.step()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("torch_path", [False, True])
def test_the_watch_publishes_the_distance_from_theta_0_of_the_dense_float64_parameters(small_net, monkeypatch, dtype,
                                                                                      torch_path):
    model, X, y = small_net
    model = model.to(dtype)
    X = X.to(dtype)
    if torch_path:  # as for CUDA or half-precision parameters: one torch.dist per tensor
        monkeypatch.setattr(sp, "_numpy_view", lambda g: None)
    theta0 = [float(v) for p in model.parameters() for v in p.detach().reshape(-1)]   # exact in float64
    watch = sp.ModelWatch(model, distance_every=1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    rel = 1e-12 if dtype == torch.float64 else 1e-6
    for t in range(5):
        batch = slice(3 * t % 12, 3 * t % 12 + 3)
        optimizer.zero_grad()
        F.cross_entropy(model(X[batch]), y[batch]).backward()
        theta = [float(v) for p in model.parameters() for v in p.detach().reshape(-1)]
        expected = math.sqrt(sum((a - b) ** 2 for a, b in zip(theta, theta0)))     # dense float64 reference
        distance = watch.observe(t, model, 0.0)["paramDistance"]
        if t == 0:
            assert distance == 0.0
        else:
            assert expected > 0.01
            assert distance == pytest.approx(expected, rel=rel)
        optimizer.step()
    assert watch.theta0.tolist() == pytest.approx(theta0, rel=0, abs=0)   # the snapshot folders' theta_0, kept


def test_the_distance_is_published_on_its_cadence_and_at_every_probe_iteration(small_net):
    model, X, y = small_net
    watch = sp.ModelWatch(model, probe=(X, y), moments_every=4, distance_every=3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    theta0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).to(torch.float64)
    computed = []
    for t in range(10):
        optimizer.zero_grad()
        F.cross_entropy(model(X[:3]), y[:3]).backward()
        distance = watch.observe(t, model, 0.0)["paramDistance"]
        if distance is not None:
            theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).to(torch.float64)
            assert distance == pytest.approx(float((theta - theta0).norm()), rel=1e-12, abs=1e-15)
            computed.append(t)
        optimizer.step()
    assert computed == [0, 3, 4, 6, 8, 9]       # multiples of 3, and the moments iterations (multiples of 4)
    assert sp.ModelWatch(model).distance_every == 10
    with pytest.raises(ValueError, match="distance_every"):
        sp.ModelWatch(model, distance_every=-1)


def test_the_distance_follows_parameters_whose_storage_was_replaced(small_net):
    model, _, _ = small_net
    distance = sp.DistanceFromStart(model.parameters())
    assert distance.distance() == 0.0
    first = model[0].weight
    with torch.no_grad():
        first.data = first.data + 3.0       # new storage: the old NumPy view no longer shows the parameter
    assert distance.distance() == pytest.approx(3.0 * math.sqrt(first.numel()), rel=1e-12)


def _sgd_gradients(model, X, y, steps, set_to_none, observe, clip_after=()):
    """Runs SGD steps, calling observe() after each backward; returns the float64 dense g_t of every step."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    dense = []
    for t in range(steps):
        batch = slice((3 * t) % 9, (3 * t) % 9 + 3)
        optimizer.zero_grad(set_to_none=set_to_none(t) if callable(set_to_none) else set_to_none)
        F.cross_entropy(model(X[batch]), y[batch]).backward()
        dense.append(torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).to(torch.float64)
                                for p in model.parameters()]))
        observe(t)
        if t in clip_after:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1e-3)  # writes the .grad tensors in place
        optimizer.step()
    return dense


@pytest.mark.parametrize("set_to_none", [False, True])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("torch_path", [False, True])
def test_the_gradient_tracker_equals_the_dense_float64_norm_and_cosine(small_net, monkeypatch, set_to_none, dtype,
                                                                       torch_path):
    model, X, y = small_net
    model = model.to(dtype)
    X = X.to(dtype)
    if torch_path:  # as for CUDA or half-precision gradients: torch dots, one host sync
        monkeypatch.setattr(sp, "_numpy_view", lambda g: None)
    tracker = sp.GradientTracker(model.parameters())
    seen = []
    dense = _sgd_gradients(model, X, y, 6, set_to_none, lambda t: seen.append(tracker.observe()))
    rel = 1e-12 if dtype == torch.float64 else 1e-5
    for t, (norm, cosine) in enumerate(seen):
        g = dense[t]
        assert norm == pytest.approx(math.sqrt(sum(float(v) ** 2 for v in g)), rel=rel)
        if t == 0:
            assert cosine is None
        else:
            q = dense[t - 1]
            expected = float(g @ q) / (float(g.norm()) * float(q.norm()))
            assert cosine == pytest.approx(expected, rel=rel, abs=rel)
    if set_to_none and not torch_path:  # fresh .grad tensors are kept by reference: no copy after the first step
        assert all(k is not None for k in tracker._kept)


def test_a_kept_gradient_written_after_observe_gives_no_cosine_then_copies(small_net):
    model, X, y = small_net
    tracker = sp.GradientTracker(model.parameters())
    seen = []
    # clipped in place after observe at t = 2: with fresh tensors kept by reference, g_2 as observed is gone
    dense = _sgd_gradients(model, X, y, 6, True, lambda t: seen.append(tracker.observe()), clip_after=(2,))
    assert seen[3][1] is None
    for t in (1, 2, 4, 5):
        g, q = dense[t], dense[t - 1]
        assert seen[t][1] == pytest.approx(float(g @ q) / (float(g.norm()) * float(q.norm())), rel=1e-12)
    assert all(k is None for k in tracker._kept) and all(tracker._copy_only)


def test_parameters_without_a_gradient_count_as_zero(small_net):
    model, X, y = small_net
    first = next(model.parameters())
    first.requires_grad_(False)
    tracker = sp.GradientTracker(model.parameters())
    seen = []
    dense = _sgd_gradients(model, X, y, 3, False, lambda t: seen.append(tracker.observe()))
    for t in (1, 2):
        g, q = dense[t], dense[t - 1]
        assert seen[t][0] == pytest.approx(float(g.norm()), rel=1e-12)
        assert seen[t][1] == pytest.approx(float(g @ q) / (float(g.norm()) * float(q.norm())), rel=1e-12)


def test_the_gradient_tracker_follows_a_loop_that_switches_between_zeroing_in_place_and_fresh_tensors(small_net):
    model, X, y = small_net
    tracker = sp.GradientTracker(model.parameters())
    seen = []
    modes = [False, False, False, True, True, True, False, False, True, False]
    dense = _sgd_gradients(model, X, y, len(modes), lambda t: modes[t], lambda t: seen.append(tracker.observe()))
    for t in range(1, len(modes)):
        g, q = dense[t], dense[t - 1]
        assert seen[t][0] == pytest.approx(float(g.norm()), rel=1e-12)
        if t == 6:  # zeroing in place again wiped g_5, kept by reference: no cosine, copies from then on
            assert seen[t][1] is None and all(tracker._copy_only)
            continue
        assert seen[t][1] == pytest.approx(float(g @ q) / (float(g.norm()) * float(q.norm())), rel=1e-12), t


def test_the_snapshots_matvec_counts_are_the_hessian_products_taken(small_net, monkeypatch):
    model, X, y = small_net
    calls = []
    product = sp.HessianOperator.__call__
    monkeypatch.setattr(sp.HessianOperator, "__call__", lambda self, v: calls.append(1) or product(self, v))
    _, snap = sp.curvature(model, F.cross_entropy, X, y, top_k=3, spectrum=True, tol=1e-10)
    # every H_p v = M_t v - H_f v takes one H_f product; M_t's eigenpairs take none (the Gram matrix)
    assert snap["hessianMatvecs"] + snap["predictionHessianMatvecs"] == len(calls)
    assert snap["secondMomentMatvecs"] is None
    p = sum(q.numel() for q in model.parameters())
    for count in (snap["hessianMatvecs"], snap["predictionHessianMatvecs"]):
        assert 3 + 3 <= count <= min(p, 300) + 3     # Lanczos steps (>= k) plus k residual checks


def _run_tracker(small_net, set_to_none, steps=8):
    model, X, y = small_net
    tracker = sp.GradientTracker(model.parameters())
    seen = []
    dense = _sgd_gradients(model, X, y, steps, set_to_none, lambda t: seen.append(tracker.observe()))
    return tracker, seen, dense


def test_zeroing_in_place_and_fresh_gradient_tensors_give_identical_norms_and_cosines(small_net):
    model, X, y = small_net
    state = {k: v.clone() for k, v in model.state_dict().items()}
    in_place, seen_in_place, dense = _run_tracker(small_net, False)
    model.load_state_dict(state)
    fresh, seen_fresh, dense_fresh = _run_tracker(small_net, True)
    assert all(torch.equal(a, b) for a, b in zip(dense, dense_fresh))
    assert seen_in_place == seen_fresh                  # bit for bit: the same dots in the same order
    assert in_place._same is not None and in_place._fresh is None      # each loop reached its steady state
    assert fresh._fresh is not None and fresh._same is None
    for t in range(1, len(dense)):
        g, q = dense[t], dense[t - 1]
        assert seen_fresh[t][0] == pytest.approx(float(g.norm()), rel=1e-12)
        assert seen_fresh[t][1] == pytest.approx(float(g @ q) / (float(g.norm()) * float(q.norm())), rel=1e-12)


def test_the_fresh_tensor_steady_state_notices_a_kept_gradient_clipped_after_observe(small_net):
    model, X, y = small_net
    tracker = sp.GradientTracker(model.parameters())
    seen = []
    # steps 0-1 set up the steady state; the clip after observe at t = 4 writes g_4 while it is kept
    dense = _sgd_gradients(model, X, y, 8, True, lambda t: seen.append(tracker.observe()), clip_after=(4,))
    assert seen[5][1] is None
    for t in (1, 2, 3, 4, 6, 7):
        g, q = dense[t], dense[t - 1]
        assert seen[t][0] == pytest.approx(float(g.norm()), rel=1e-12)
        assert seen[t][1] == pytest.approx(float(g @ q) / (float(g.norm()) * float(q.norm())), rel=1e-12), t
    assert all(tracker._copy_only)                      # copies from then on


def test_the_torch_func_branch_for_pytorch_2_gives_the_dense_per_sample_gradients(small_net, monkeypatch):
    """PyTorch 2's branch of sgdscope.pytorch (torch.func) run here too: on 1.13, which has no torch.func, through a
    stand-in module of what 2.x's torch.func grew from (functorch's grad and vmap, torch.nn.utils.stateless's
    functional_call), loaded as a second copy of the module so that the copy under test takes that branch."""
    import importlib
    import importlib.util
    import sys
    import types
    try:
        importlib.import_module("torch.func")  # PyTorch 2.x: the real one
    except ImportError:
        import functorch
        stand_in = types.ModuleType("torch.func")
        stand_in.grad, stand_in.vmap = functorch.grad, functorch.vmap
        stand_in.functional_call = torch.nn.utils.stateless.functional_call
        monkeypatch.setitem(sys.modules, "torch.func", stand_in)
    spec = importlib.util.spec_from_file_location("sgdscope_pytorch_torch_func", sp.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._HAS_TORCH_FUNC
    model, X, y = small_net
    J = module.per_sample_gradients(model, F.cross_entropy, X, y)
    assert torch.allclose(J, dense_jacobian(model, X, y), rtol=1e-12, atol=1e-14)


def test_the_installed_pytorch_takes_its_own_branch():
    """torch.func on PyTorch 2.x, functorch on 1.13: `./mvnw -B verify` runs this on Debian 12's 1.13,
    clients/python/check-torch2.sh on Debian 13's 2.x, so each branch runs for real somewhere."""
    major = int(torch.__version__.split(".")[0])
    assert sp._HAS_TORCH_FUNC == (major >= 2), torch.__version__
