"""max_pool2d, avg_pool2d, adaptive_avg_pool2d: against PyTorch and finite differences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lucid
from lucid.nn.functional.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from lucid.testing import gradcheck, random_tensor

# (input shape, kwargs) for max_pool2d; odd sizes make ceil_mode matter
MAX_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 10, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 3, 7, 7), dict(kernel_size=2, ceil_mode=True)),
    ((2, 3, 10, 9), dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0), dilation=2)),
    ((3, 9, 8), dict(kernel_size=3, stride=1, padding=1)),  # unbatched
]
AVG_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 10, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 3, 10, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                         count_include_pad=False)),
    ((2, 3, 9, 8), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), divisor_override=5)),
    ((2, 3, 8, 8), dict(kernel_size=3, stride=1, padding=1)),
    ((3, 7, 7), dict(kernel_size=2, ceil_mode=True)),  # unbatched
]
ADAPTIVE_CASES = [1, 2, (2, 3), (3, 5), (None, 4), (7, 7), (10, 9)]


def _np(t: lucid.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _compare(lucid_fn: Any, torch_fn: Any, shape: tuple[int, ...], dtype: Any,
             device: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    xl = lucid.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, yt = lucid_fn(xl), torch_fn(xt)
    if isinstance(yt, tuple):  # return_indices
        np.testing.assert_array_equal(_np(y[1]), yt[1].numpy())
        y, yt = y[0], yt[0]
    assert y.shape == tuple(yt.shape) and y.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=tol, atol=tol)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(lucid.tensor(gy, device=device))
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(_np(xl.grad), xt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("shape", "kwargs"), MAX_CASES, ids=str)
def test_max_pool_matches_torch(shape: tuple[int, ...], kwargs: dict, dtype: Any,
                                device: str) -> None:
    torch = pytest.importorskip("torch")
    _compare(lambda x: max_pool2d(x, **kwargs, return_indices=True),
             lambda x: torch.nn.functional.max_pool2d(x, **kwargs, return_indices=True),
             shape, dtype, device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("shape", "kwargs"), AVG_CASES, ids=str)
def test_avg_pool_matches_torch(shape: tuple[int, ...], kwargs: dict, dtype: Any,
                                device: str) -> None:
    torch = pytest.importorskip("torch")
    _compare(lambda x: avg_pool2d(x, **kwargs),
             lambda x: torch.nn.functional.avg_pool2d(x, **kwargs), shape, dtype, device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("size", ADAPTIVE_CASES, ids=str)
def test_adaptive_avg_pool_matches_torch(size: Any, dtype: Any, device: str) -> None:
    torch = pytest.importorskip("torch")
    _compare(lambda x: adaptive_avg_pool2d(x, size),
             lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size), (2, 3, 10, 9), dtype,
             device)


@pytest.mark.parametrize(("shape", "kwargs"), MAX_CASES[1:3] + MAX_CASES[4:5], ids=str)
def test_max_pool_gradcheck(shape: tuple[int, ...], kwargs: dict, device: str) -> None:
    # distinct values: finite differences are only defined away from ties
    x = random_tensor(1, 2, *shape[-2:], device=device)
    assert gradcheck(lambda a: max_pool2d(a, **kwargs), [x], eps=1e-7)


@pytest.mark.parametrize(("shape", "kwargs"), AVG_CASES[1:5], ids=str)
def test_avg_pool_gradcheck(shape: tuple[int, ...], kwargs: dict, device: str) -> None:
    x = random_tensor(1, 2, *shape[-2:], device=device)
    assert gradcheck(lambda a: avg_pool2d(a, **kwargs), [x])


@pytest.mark.parametrize("size", [1, (3, 5), (4, 4)], ids=str)
def test_adaptive_gradcheck(size: Any, device: str) -> None:
    x = random_tensor(1, 2, 7, 6, device=device)
    assert gradcheck(lambda a: adaptive_avg_pool2d(a, size), [x])


def test_max_pool_gradient_goes_to_first_maximum(device: str) -> None:
    x = lucid.zeros(1, 1, 3, 4, device=device, requires_grad=True)
    max_pool2d(x, 2, stride=1).sum().backward()  # every window is a tie of zeros
    expected = np.zeros((1, 1, 3, 4))
    expected[0, 0, :2, :3] = 1.0  # each window's top-left element
    np.testing.assert_array_equal(_np(x.grad), expected)


@pytest.mark.parametrize(("shape", "kwargs"), MAX_CASES[:3], ids=str)
def test_max_pool_with_nan_matches_torch(shape: tuple[int, ...], kwargs: dict,
                                         device: str) -> None:
    """A window holding NaN pools to NaN; its index and gradient go to its last NaN (the
    first maximum before any NaN was lucid's index)."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape)
    x[np.random.default_rng(1).random(shape) < 0.2] = np.nan
    xl = lucid.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    (y, idx), (yt, idxt) = max_pool2d(xl, return_indices=True, **kwargs), \
        torch.nn.functional.max_pool2d(xt, return_indices=True, **kwargs)
    np.testing.assert_array_equal(_np(y), yt.detach().numpy())  # NaN where torch has NaN
    np.testing.assert_array_equal(_np(idx), idxt.numpy())
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(_np(xl.grad), xt.grad.numpy())


@pytest.mark.parametrize(("shape", "kwargs"), MAX_CASES[:4] + [
    ((1, 1, 2, 2), dict(kernel_size=2, padding=1))], ids=str)
def test_max_pool_of_minus_infinity_matches_torch(shape: tuple[int, ...], kwargs: dict,
                                                 device: str) -> None:
    """A padded window whose real elements are all -inf: PyTorch's index is its first real
    element (lucid's pointed into the padding, and its gradient was lost)."""
    torch = pytest.importorskip("torch")
    x = np.full(shape, -np.inf)
    x[..., 1, 1] = 1.0  # one finite element, so that windows differ
    xl = lucid.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    (y, idx), (yt, idxt) = max_pool2d(xl, return_indices=True, **kwargs), \
        torch.nn.functional.max_pool2d(xt, return_indices=True, **kwargs)
    np.testing.assert_array_equal(_np(idx), idxt.numpy())
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(_np(xl.grad), xt.grad.numpy())


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf], ids=str)
@pytest.mark.parametrize("name", ["avg_pool2d", "avg_pool2d_padded", "adaptive_avg_pool2d"])
def test_a_non_finite_input_stays_in_its_windows(value: float, name: str,
                                                 device: str) -> None:
    """The dense matrix of a short axis multiplied NaN or inf by the zeros outside each
    window (0 * inf = NaN), and so did a ragged band's filler taps: whole rows turned NaN."""
    torch = pytest.importorskip("torch")
    x = np.arange(2 * 36, dtype=np.float64).reshape(1, 2, 6, 6)
    x[0, 0, 0, 0] = x[0, 1, 5, 2] = value
    calls = {"avg_pool2d": ("avg_pool2d", (3, 1)),
             "avg_pool2d_padded": ("avg_pool2d", (3, 2, 1)),
             "adaptive_avg_pool2d": ("adaptive_avg_pool2d", (4,))}
    fn, args = calls[name]
    got = _np(globals()[fn](lucid.tensor(x, device=device), *args))
    expected = getattr(torch.nn.functional, fn)(torch.tensor(x), *args).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)  # NaN where torch has NaN


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1),
                                    dict(kernel_size=3, stride=2, padding=1,
                                         count_include_pad=False),
                                    dict(kernel_size=3, stride=2, padding=1, divisor_override=4),
                                    dict(kernel_size=3, stride=2, ceil_mode=True)], ids=str)
def test_avg_pool_of_int64_matches_torch(kwargs: dict, device: str) -> None:
    """PyTorch divides each window's sum in integers, truncating toward zero (lucid's
    weights of 1 / count were cast to int64: all zeros)."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).integers(-100, 100, (2, 3, 7, 6))
    got = avg_pool2d(lucid.tensor(x, device=device), **kwargs)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(_np(got), torch.nn.functional.avg_pool2d(
        torch.tensor(x), **kwargs).numpy())


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.bool_])
def test_average_pools_refuse_other_integers(dtype: Any) -> None:
    x = lucid.tensor(np.ones((1, 1, 4, 4), dtype=dtype))
    with pytest.raises(TypeError, match="avg_pool2d: not implemented for"):
        avg_pool2d(x, 2)
    with pytest.raises(TypeError, match="adaptive_avg_pool2d: not implemented for"):
        adaptive_avg_pool2d(x, 2)


def test_max_pool_values_and_indices(device: str) -> None:
    x = lucid.arange(16.0, device=device).reshape(1, 1, 4, 4)
    out, idx = max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(_np(out)[0, 0], [[5.0, 7.0], [13.0, 15.0]])
    np.testing.assert_array_equal(_np(idx)[0, 0], [[5, 7], [13, 15]])
    assert _np(idx).dtype == np.int64
    with lucid.no_grad():
        assert max_pool2d(x, 2, return_indices=True)[1].shape == (1, 1, 2, 2)


def test_results_do_not_alias_input(device: str) -> None:
    x = random_tensor(1, 2, 4, 4, device=device, requires_grad=False)
    y = adaptive_avg_pool2d(x, 4)  # an identity map must still copy
    y.data[...] = 0
    assert float(x.abs().sum().item()) > 0


def test_errors() -> None:
    x = lucid.zeros(1, 1, 6, 6)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        max_pool2d(x, 3, padding=2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        avg_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        max_pool2d(x, 7)
    with pytest.raises(ValueError, match="positive"):
        max_pool2d(x, 2, stride=0)
    with pytest.raises(RuntimeError, match="3D .* or 4D"):
        avg_pool2d(lucid.zeros(6, 6), 2)
    with pytest.raises(ValueError, match="output_size"):
        adaptive_avg_pool2d(x, (1, 2, 3))
