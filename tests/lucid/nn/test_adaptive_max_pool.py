"""adaptive_max_pool1d/2d and max_unpool2d: against PyTorch and finite differences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lucid
import lucid.nn as nn
from lucid.nn.functional import (
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    max_pool2d,
    max_unpool2d,
)
from lucid.testing import gradcheck, random_tensor

# (input shape, output_size): divisible, non-divisible, larger than the input, None, global
CASES_2D = [
    ((2, 3, 8, 8), 4),
    ((2, 3, 10, 9), (3, 5)),
    ((2, 3, 7, 5), (4, 4)),
    ((2, 3, 4, 3), (7, 6)),  # output larger than input: bins repeat elements
    ((2, 3, 9, 6), (None, 4)),
    ((2, 3, 9, 6), (5, None)),
    ((2, 3, 5, 7), 1),
    ((3, 7, 9), (2, 4)),  # unbatched
]
CASES_1D = [((2, 3, 10), 4), ((2, 3, 7), 3), ((2, 3, 3), 7), ((3, 11), 5), ((2, 4, 6), 1)]


def _np(t: lucid.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _compare(lucid_fn: Any, torch_fn: Any, x: np.ndarray, device: str) -> None:
    """Values, indices, dtype and gradient of lucid_fn(x) equal torch_fn's."""
    torch = pytest.importorskip("torch")
    xl = lucid.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    (y, idx), (yt, idxt) = lucid_fn(xl), torch_fn(xt)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(_np(idx), idxt.numpy())
    assert y.shape == tuple(yt.shape) and y.dtype == x.dtype
    tol = 1e-6 if x.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=tol, atol=tol)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(x.dtype)
    y.backward(lucid.tensor(gy, device=device))
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(_np(xl.grad), xt.grad.numpy(), rtol=tol, atol=tol)


def _randn(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("shape", "size"), CASES_2D, ids=str)
def test_adaptive_max_pool2d_matches_torch(shape: tuple[int, ...], size: Any, dtype: Any,
                                           device: str) -> None:
    torch = pytest.importorskip("torch")
    _compare(lambda x: adaptive_max_pool2d(x, size, return_indices=True),
             lambda x: torch.nn.functional.adaptive_max_pool2d(x, size, return_indices=True),
             _randn(shape, dtype), device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("shape", "size"), CASES_1D, ids=str)
def test_adaptive_max_pool1d_matches_torch(shape: tuple[int, ...], size: int, dtype: Any,
                                           device: str) -> None:
    torch = pytest.importorskip("torch")
    _compare(lambda x: adaptive_max_pool1d(x, size, return_indices=True),
             lambda x: torch.nn.functional.adaptive_max_pool1d(x, size, return_indices=True),
             _randn(shape, dtype), device)


@pytest.mark.parametrize("fill", ["constant", "few_values", "neg_inf", "nan"])
@pytest.mark.parametrize(("shape", "size"), [((2, 2, 7, 9), (3, 4)), ((1, 2, 3, 4), (5, 6)),
                                             ((2, 6, 6), 2)], ids=str)
def test_adaptive_max_pool2d_ties_and_nan(shape: tuple[int, ...], size: Any, fill: str,
                                          device: str) -> None:
    # ties: the first maximum in row-major order takes the index and the gradient;
    # NaN: the bin pools to NaN, its last NaN takes them (PyTorch's CPU rule)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    if fill == "constant":
        x = np.full(shape, 1.5)
    elif fill == "few_values":
        x = rng.integers(0, 3, shape).astype(np.float64)
    elif fill == "neg_inf":
        x = np.where(rng.random(shape) < 0.7, -np.inf, rng.standard_normal(shape))
    else:
        x = np.where(rng.random(shape) < 0.3, np.nan, rng.standard_normal(shape))
    xl = lucid.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, idx = adaptive_max_pool2d(xl, size, return_indices=True)
    yt, idxt = torch.nn.functional.adaptive_max_pool2d(xt, size, return_indices=True)
    np.testing.assert_array_equal(_np(idx), idxt.numpy())
    np.testing.assert_array_equal(_np(y), yt.detach().numpy())  # NaN == NaN here
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(_np(xl.grad), xt.grad.numpy())


@pytest.mark.parametrize(("shape", "size"), CASES_2D[1:5] + CASES_2D[7:], ids=str)
def test_adaptive_max_pool2d_gradcheck(shape: tuple[int, ...], size: Any, device: str) -> None:
    # distinct values: finite differences are only defined away from ties
    x = random_tensor(*shape, device=device)
    assert gradcheck(lambda a: adaptive_max_pool2d(a, size), [x], eps=1e-7)


@pytest.mark.parametrize(("shape", "size"), CASES_1D[1:4], ids=str)
def test_adaptive_max_pool1d_gradcheck(shape: tuple[int, ...], size: int, device: str) -> None:
    x = random_tensor(*shape, device=device)
    assert gradcheck(lambda a: adaptive_max_pool1d(a, size), [x], eps=1e-7)


def test_adaptive_max_pool_plain_output_and_modules(device: str) -> None:
    x = lucid.tensor(_randn((2, 3, 9, 7), np.float64), device=device)
    y = adaptive_max_pool2d(x, (4, 3))
    assert isinstance(y, lucid.Tensor) and y.shape == (2, 3, 4, 3)
    np.testing.assert_array_equal(_np(nn.AdaptiveMaxPool2d((4, 3))(x)), _np(y))
    out, idx = nn.AdaptiveMaxPool2d((4, 3), return_indices=True)(x)
    np.testing.assert_array_equal(_np(out), _np(y))
    assert idx.shape == (2, 3, 4, 3)
    x1 = x.reshape(2, 3, 63)
    np.testing.assert_array_equal(_np(nn.AdaptiveMaxPool1d(5)(x1)),
                                  _np(adaptive_max_pool1d(x1, 5)))
    assert len(nn.AdaptiveMaxPool1d(5, return_indices=True)(x1)) == 2


def test_adaptive_max_pool_rejects_bad_input() -> None:
    with pytest.raises(RuntimeError):
        adaptive_max_pool2d(lucid.zeros(2, 3), 2)
    with pytest.raises(ValueError):
        adaptive_max_pool2d(lucid.zeros(1, 4, 4), (2, 2, 2))
    with pytest.raises(ValueError):
        adaptive_max_pool2d(lucid.zeros(1, 4, 4), 0)
    with pytest.raises(RuntimeError):
        adaptive_max_pool1d(lucid.zeros(4), 2)


# ----------------------------------------------------------------------------- max_unpool2d
UNPOOL_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2), None),
    ((2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1), None),
    ((2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1), (9, 7)),
    ((2, 3, 9, 9), dict(kernel_size=2), (2, 3, 9, 9)),  # full shape, odd size recovered
    ((3, 6, 7), dict(kernel_size=(2, 3), stride=(2, 2)), None),  # unbatched
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("shape", "kwargs", "output_size"), UNPOOL_CASES, ids=str)
def test_max_unpool2d_round_trip_matches_torch(shape: tuple[int, ...], kwargs: dict,
                                               output_size: Any, dtype: Any,
                                               device: str) -> None:
    torch = pytest.importorskip("torch")
    x = _randn(shape, dtype)
    pooled, idx = max_pool2d(lucid.tensor(x, device=device), **kwargs, return_indices=True)
    pooled_t, idx_t = torch.nn.functional.max_pool2d(torch.tensor(x), **kwargs,
                                                      return_indices=True)
    np.testing.assert_array_equal(_np(idx), idx_t.numpy())
    pl = pooled.detach().requires_grad_(True)
    pt = pooled_t.detach().requires_grad_(True)
    y = max_unpool2d(pl, idx, **kwargs, output_size=output_size)
    yt = torch.nn.functional.max_unpool2d(pt, idx_t, **kwargs, output_size=output_size)
    assert y.shape == tuple(yt.shape) and y.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(_np(y), yt.detach().numpy())
    gy = np.random.default_rng(2).standard_normal(y.shape).astype(dtype)
    y.backward(lucid.tensor(gy, device=device))
    yt.backward(torch.tensor(gy))
    np.testing.assert_array_equal(_np(pl.grad), pt.grad.numpy())
    module = nn.MaxUnpool2d(**kwargs)
    np.testing.assert_array_equal(_np(module(pooled, idx, output_size)), _np(y))


def test_max_unpool2d_gradcheck(device: str) -> None:
    x = random_tensor(2, 3, 8, 6, device=device)
    _, idx = max_pool2d(x, 2, return_indices=True)
    pooled = random_tensor(2, 3, 4, 3, device=device)
    assert gradcheck(lambda a: max_unpool2d(a, idx, 2), [pooled])


def test_max_unpool2d_rejects_bad_arguments() -> None:
    x, idx = max_pool2d(lucid.randn(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(ValueError):
        max_unpool2d(x, idx, 2, output_size=(6, 4))  # too far from the default 4x4
    with pytest.raises(RuntimeError):
        max_unpool2d(x, idx.reshape(1, 1, 4), 2)  # shapes differ
    with pytest.raises(RuntimeError):
        max_unpool2d(x, lucid.full((1, 1, 2, 2), 16, dtype=lucid.int64), 2)  # out of range


def test_max_unpool2d_unbatched_output_size_lengths_as_torch() -> None:
    # PyTorch takes 2 or 4 sizes whatever the input's rank: 4 for a (C, H, W) input too, never 3
    x, idx = max_pool2d(lucid.randn(3, 6, 6), 2, return_indices=True)
    assert max_unpool2d(x, idx, 2, output_size=(1, 3, 7, 7)).shape == (3, 7, 7)
    with pytest.raises(ValueError):
        max_unpool2d(x, idx, 2, output_size=(3, 7, 7))


def test_reprs_match_torch() -> None:
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.AdaptiveMaxPool2d(3), torch.nn.AdaptiveMaxPool2d(3)),
        (nn.AdaptiveMaxPool2d((2, None)), torch.nn.AdaptiveMaxPool2d((2, None))),
        (nn.AdaptiveMaxPool2d(2, return_indices=True),
         torch.nn.AdaptiveMaxPool2d(2, return_indices=True)),
        (nn.AdaptiveMaxPool1d(4), torch.nn.AdaptiveMaxPool1d(4)),
        (nn.MaxUnpool2d(2), torch.nn.MaxUnpool2d(2)),
        (nn.MaxUnpool2d((3, 2), stride=1, padding=1), torch.nn.MaxUnpool2d((3, 2), 1, 1)),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
