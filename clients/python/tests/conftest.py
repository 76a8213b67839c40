"""Small float64 nets and data shared by the tests: everything is made here, nothing is downloaded."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))


@pytest.fixture
def small_net():
    """A 4-6-5-3 ReLU net in float64 with 12 samples of 3 classes: p = 83, dense matrices are cheap."""
    import torch
    torch.manual_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 5), torch.nn.ReLU(),
                                torch.nn.Linear(5, 3)).double()
    X = torch.randn(12, 4, dtype=torch.float64)
    y = torch.tensor([0, 1, 2] * 4)
    return model, X, y
