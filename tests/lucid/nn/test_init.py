"""lucid.nn.init: in-place fills with the right statistics, from the seeded generator."""

import math

import numpy as np
import pytest

import lucid
import lucid.nn as nn
from lucid.nn import init

SHAPE = (64, 32, 3, 3)  # fan_in 288, fan_out 576; 18432 samples
FAN_IN, FAN_OUT = 32 * 9, 64 * 9


def stats(t):
    values = t.detach().cpu().numpy().astype(np.float64)
    return values.mean(), values.std(), np.abs(values).max()


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_kaiming_uniform(device):
    w = lucid.empty(*SHAPE, device=device)
    assert init.kaiming_uniform_(w, nonlinearity="relu") is w
    bound = math.sqrt(2) * math.sqrt(3 / FAN_IN)
    mean, std, peak = stats(w)
    assert peak <= bound and peak > 0.99 * bound
    assert abs(mean) < 0.02 * bound
    assert std == pytest.approx(bound / math.sqrt(3), rel=0.03)
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    assert stats(w)[2] <= math.sqrt(2) * math.sqrt(3 / FAN_OUT)


def test_kaiming_normal(device):
    w = init.kaiming_normal_(lucid.empty(*SHAPE, device=device), a=0.2, mode="fan_out")
    mean, std, _ = stats(w)
    expected = math.sqrt(2 / (1 + 0.04)) / math.sqrt(FAN_OUT)
    assert std == pytest.approx(expected, rel=0.03)
    assert abs(mean) < 0.03 * expected


def test_xavier(device):
    w = init.xavier_uniform_(lucid.empty(*SHAPE, device=device), gain=2.0)
    bound = 2.0 * math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert bound * 0.99 < stats(w)[2] <= bound
    w = init.xavier_normal_(lucid.empty(*SHAPE, device=device))
    assert stats(w)[1] == pytest.approx(math.sqrt(2 / (FAN_IN + FAN_OUT)), rel=0.03)


def test_simple_fills(device):
    t = lucid.empty(1000, 20, device=device, dtype=lucid.float64)
    init.uniform_(t, -2.0, 3.0)
    values = t.cpu().numpy()
    assert values.min() >= -2 and values.max() < 3 and values.mean() == pytest.approx(0.5, abs=0.05)
    assert t.dtype == lucid.float64 and t.device == device
    init.normal_(t, 1.0, 0.5)
    assert t.cpu().numpy().mean() == pytest.approx(1.0, abs=0.02)
    assert t.cpu().numpy().std() == pytest.approx(0.5, rel=0.02)
    assert not init.zeros_(t).cpu().numpy().any()
    assert (init.ones_(t).cpu().numpy() == 1).all()
    assert (init.constant_(t, 2.5).cpu().numpy() == 2.5).all()


def test_in_place_on_parameters():
    layer = nn.Linear(4, 3)
    weight = layer.weight
    array = weight.data
    init.xavier_uniform_(layer.weight)
    assert layer.weight is weight and weight.data is array  # same tensor, same array
    assert weight.requires_grad and weight.is_leaf and weight.grad_fn is None


def test_seeded():
    lucid.manual_seed(3)
    a = init.kaiming_normal_(lucid.empty(4, 4)).numpy().copy()
    lucid.manual_seed(3)
    b = init.kaiming_normal_(lucid.empty(4, 4)).numpy()
    np.testing.assert_array_equal(a, b)


def test_fan_errors_and_empty():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(lucid.empty(5))
    with pytest.raises(ValueError, match="Mode"):
        init.kaiming_uniform_(lucid.empty(2, 2), mode="fan_avg")
    assert init.kaiming_uniform_(lucid.empty(0, 3)).shape == (0, 3)


def test_layer_default_init_matches_torch_bounds():
    conv = nn.Conv2d(8, 16, 3)
    fan_in = 8 * 9
    # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as does the bias
    bound = 1 / math.sqrt(fan_in)
    assert 0.95 * bound < stats(conv.weight)[2] <= bound
    assert stats(conv.bias)[2] <= bound
    grouped = nn.Conv2d(8, 4, 3, groups=2)
    assert grouped.weight.shape == (4, 4, 3, 3)
    assert stats(grouped.bias)[2] <= 1 / math.sqrt(4 * 9)
