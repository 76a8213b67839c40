"""Snapshot folders read back with numpy against the torch model, and frames cut into slices of 1,000 runs."""
import json
import os
import socket

import numpy as np
import pytest
import torch

import sgdscope
from sgdscope import pytorch as sp

F = torch.nn.functional


def test_a_snapshot_folder_holds_theta_the_data_and_the_published_values_as_docs_snapshots_says(small_net, tmp_path):
    model, X, y = small_net
    theta0_torch = [p.detach().clone() for p in model.parameters()]
    watch = sp.ModelWatch(model, probe=(X, y), top_k=2, snapshot_at=[1], snapshot_dir=str(tmp_path))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for t in range(2):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        values = watch.observe(t, model, float(loss))
        spectrum = watch.take_spectrum()
        record = dict(values, runId="e-r00000", iteration=t, loss=float(loss))
        watch.after_publish(t, record, spectrum)
        if t == 1:
            expected_loss, expected = float(loss), (values, spectrum)
        if t == 0:
            optimizer.step()
    folder = tmp_path / "e-r00000" / "1"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["layers"] == [4, 6, 5, 3] and meta["iteration"] == 1 and meta["topK"] == 2
    # numpy forward pass on the files: z_{l+1} = a_l W_l + b_l, ReLU between, softmax cross-entropy
    a = np.load(folder / "X.npy")
    labels = np.load(folder / "y.npy")
    assert labels.dtype == np.int64 and a.shape == (12, 4)
    for l in range(3):
        a = a @ np.load(folder / ("W%d.npy" % l)) + np.load(folder / ("b%d.npy" % l))
        if l < 2:
            a = np.maximum(a, 0.0)
    a = a - a.max(axis=1, keepdims=True)
    loss = float(np.mean(np.log(np.exp(a).sum(axis=1)) - a[np.arange(12), labels]))
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    # theta0 flat: per layer W_l row-major ([in, out]) then b_l
    flat = np.concatenate([np.concatenate([theta0_torch[2 * l].numpy().T.reshape(-1), theta0_torch[2 * l + 1].numpy()])
                           for l in range(3)])
    assert np.array_equal(np.load(folder / "theta0.npy"), flat)
    published = json.loads((folder / "published.json").read_text())
    assert published["traceM"] == expected[0]["traceM"]
    assert published["hessianEigenvalues"] == expected[1]["hessianEigenvalues"]
    assert published["residualEigenvalues"] == expected[1]["predictionHessianEigenvalues"]


def test_snapshots_are_refused_for_nets_other_than_sequential_linear_relu(small_net, tmp_path):
    model, X, y = small_net
    with pytest.raises(ValueError, match="holds a Tanh"):
        sp.ModelWatch(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh()), probe=(X, y), snapshot_at=[0],
                      snapshot_dir=str(tmp_path))


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_run_group_cuts_its_runs_into_frames_of_at_most_1000_runs_each_under_its_first_runs_id():
    # A real producer with no broker behind it: the records stay in its queue, which len() counts.
    experiment = sgdscope.Experiment("127.0.0.1:%d" % closed_port(), "big", check_connection=False,
                                     kafka_config={"queue.buffering.max.messages": 100000, "message.timeout.ms": 600000})
    group = experiment.run_group(range(2500))
    assert [len(s) for s in group.slices] == [1000, 1000, 500]
    assert {r.frame_key for r in group.slices[1]} == {"big-r01000"}
    assert group.runs[2499].frame_key == "big-r02000"
    for run in group.runs:
        run.start()
    queued = len(experiment.producer._producer)
    n = 2500
    group.log(0, loss=[1.0] * n, sg_norm=[2.0] * n, step_size=0.1, batch_size=5, sg_cos_prev=[None] * n,
              active=[i != 7 for i in range(n)])
    assert len(experiment.producer._producer) - queued == 3, "one frame per slice"
    assert experiment.producer.counts.sent["iteration"] == n - 1, "a frame counts once per run it covers"
    assert group.runs[3].iterations == 1 and group.runs[7].iterations == 0
    with pytest.raises(ValueError, match="column loss has 2 values for 2500 runs"):
        group.log(1, loss=[1.0, 2.0], sg_norm=[2.0] * n, step_size=0.1, batch_size=5)
