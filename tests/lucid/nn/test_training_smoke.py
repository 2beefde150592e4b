"""A small conv net learns a 3x3 box blur with Adam: layers, autograd and optimiser together."""

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F


def box_blur(images: np.ndarray) -> np.ndarray:
    """The target map: the mean of each pixel's 3x3 neighbourhood (zero padded)."""
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    h, w = images.shape[2:]
    return sum(padded[:, :, i : i + h, j : j + w] for i in range(3) for j in range(3)) / 9


def test_conv_net_learns_blur():
    optim = pytest.importorskip("lucid.optim")
    if not hasattr(optim, "Adam"):
        pytest.skip("lucid.optim.Adam is not written yet")
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 1, 3, padding=1))
    opt = optim.Adam(net.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)

    def batch():
        images = rng.uniform(0, 1, (8, 1, 8, 8)).astype(np.float32)
        return lucid.tensor(images), lucid.tensor(box_blur(images).astype(np.float32))

    with lucid.no_grad():
        first = np.mean([F.mse_loss(net(x), y).item() for x, y in (batch() for _ in range(4))])
    for _ in range(150):
        x, y = batch()
        opt.zero_grad()
        loss = F.mse_loss(net(x), y)
        loss.backward()
        opt.step()
    net.eval()
    with lucid.no_grad():
        last = np.mean([F.mse_loss(net(x), y).item() for x, y in (batch() for _ in range(4))])
    assert last < first / 20, (first, last)
