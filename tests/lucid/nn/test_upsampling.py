"""interpolate (nearest, bilinear): against PyTorch and finite differences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lucid
from lucid.nn.functional.upsampling import interpolate
from lucid.testing import gradcheck, random_tensor

SIZES = [
    dict(scale_factor=2),
    dict(scale_factor=3),
    dict(scale_factor=1.7),
    dict(scale_factor=(0.5, 2.5)),
    dict(scale_factor=0.3),
    dict(scale_factor=(1.1, 2.0)),  # the first axis keeps its size: PyTorch copies it
    dict(scale_factor=(1.15, 1.1)),  # both kept
    dict(size=(7, 5)),
    dict(size=(13, 11)),
    dict(size=(3, 2)),
    dict(size=6),
]
MODES = [("nearest", None), ("bilinear", False), ("bilinear", True)]


def _np(t: lucid.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("mode", "align_corners"), MODES, ids=str)
@pytest.mark.parametrize("sizing", SIZES, ids=str)
def test_matches_torch(sizing: dict, mode: str, align_corners: bool | None, dtype: Any,
                       device: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 5)).astype(dtype)
    xl = lucid.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y = interpolate(xl, mode=mode, align_corners=align_corners, **sizing)
    yt = torch.nn.functional.interpolate(xt, mode=mode, align_corners=align_corners, **sizing)
    assert y.shape == tuple(yt.shape) and y.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=tol, atol=tol)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(lucid.tensor(gy, device=device))
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(_np(xl.grad), xt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("value", [np.nan, np.inf], ids=str)
@pytest.mark.parametrize("sizing", [dict(size=(3, 3)), dict(size=(13, 11)), dict(scale_factor=2)],
                         ids=str)
def test_bilinear_keeps_a_non_finite_input_local(value: float, sizing: dict,
                                                 device: str) -> None:
    """The dense matrix of a short axis multiplied NaN or inf by its zeros (0 * inf = NaN):
    whole rows of the output turned NaN."""
    torch = pytest.importorskip("torch")
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    x[0, 0, 0, 0] = value
    got = interpolate(lucid.tensor(x, device=device), mode="bilinear", **sizing)
    expected = torch.nn.functional.interpolate(torch.tensor(x), mode="bilinear", **sizing)
    np.testing.assert_allclose(_np(got), expected.numpy(), rtol=1e-12)


def test_recompute_scale_factor_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 5))
    for mode in ("nearest", "bilinear"):
        y = interpolate(lucid.tensor(x), scale_factor=1.7, mode=mode, recompute_scale_factor=True)
        yt = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=1.7, mode=mode,
                                             recompute_scale_factor=True)
        np.testing.assert_allclose(_np(y), yt.numpy(), atol=1e-12)


@pytest.mark.parametrize(("mode", "align_corners"), MODES, ids=str)
@pytest.mark.parametrize("sizing", [dict(scale_factor=2), dict(size=(5, 7)), dict(size=(2, 3))],
                         ids=str)
def test_gradcheck(sizing: dict, mode: str, align_corners: bool | None, device: str) -> None:
    x = random_tensor(1, 2, 4, 3, device=device)
    assert gradcheck(lambda a: interpolate(a, mode=mode, align_corners=align_corners, **sizing),
                     [x])


def test_nearest_integer_factor_values(device: str) -> None:
    x = lucid.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], device=device, requires_grad=True)
    y = interpolate(x, scale_factor=2)
    np.testing.assert_array_equal(_np(y)[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2],
                                                 [3, 3, 4, 4], [3, 3, 4, 4]])
    y.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), np.full((1, 1, 2, 2), 4.0))


def test_same_size_copies(device: str) -> None:
    x = random_tensor(1, 1, 3, 3, device=device, requires_grad=False)
    y = interpolate(x, size=(3, 3))
    y.data[...] = 0
    assert float(x.abs().sum().item()) > 0


def test_errors() -> None:
    x = lucid.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        interpolate(x)
    with pytest.raises(ValueError, match="align_corners"):
        interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="lanczos"):
        interpolate(x, scale_factor=2, mode="lanczos")
    with pytest.raises(NotImplementedError, match="4-D"):
        interpolate(lucid.zeros(1, 4, 4), scale_factor=2)
