"""interpolate's bicubic, nearest-exact, area and antialiased modes, and the Upsampling layers:
against PyTorch (values, gradients, weights bit for bit) and finite differences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lucid
import lucid.nn as nn
from lucid.nn.functional.pooling import adaptive_avg_pool2d, avg_pool2d
from lucid.nn.functional.upsampling import interpolate
from lucid.testing import gradcheck, random_tensor

# (input shape, sizing): up- and down-scaling, integer and non-integer factors, size against
# scale_factor, a kept axis, 1x1 inputs and outputs, axes past the short-axis GEMM (128)
SIZINGS = [
    ((2, 3, 6, 5), dict(scale_factor=2)),
    ((2, 3, 6, 5), dict(scale_factor=3)),
    ((2, 3, 6, 5), dict(scale_factor=1.7)),
    ((2, 3, 6, 5), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ((2, 3, 6, 5), dict(scale_factor=(0.5, 2.5))),
    ((2, 3, 6, 5), dict(scale_factor=0.3)),  # 1x1 output
    ((1, 2, 9, 8), dict(scale_factor=(1.1, 0.45))),  # the first axis keeps its size
    ((2, 3, 6, 5), dict(size=(7, 5))),
    ((2, 3, 6, 5), dict(size=(13, 11))),
    ((3, 1, 12, 10), dict(size=(3, 2))),
    ((1, 4, 20, 17), dict(size=(6, 5))),
    ((2, 3, 6, 5), dict(size=1)),
    ((2, 2, 1, 1), dict(size=(4, 3))),  # 1x1 input
    ((1, 1, 1, 1), dict(scale_factor=3)),
    ((1, 2, 40, 3), dict(size=(150, 7))),
    ((1, 1, 200, 6), dict(size=(45, 2))),
]
# (mode, align_corners, antialias)
MODES = [
    ("bicubic", None, False),
    ("bicubic", False, False),
    ("bicubic", True, False),
    ("nearest-exact", None, False),
    ("area", None, False),
    ("bilinear", False, True),
    ("bilinear", True, True),
    ("bicubic", False, True),
    ("bicubic", True, True),
]


def _np(t: lucid.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _id(value: Any) -> str:
    return str(value).replace(" ", "")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("mode", "align_corners", "antialias"), MODES, ids=_id)
@pytest.mark.parametrize(("shape", "sizing"), SIZINGS, ids=_id)
def test_matches_torch(shape: tuple[int, ...], sizing: dict, mode: str,
                       align_corners: bool | None, antialias: bool, dtype: Any,
                       device: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).uniform(0, 1, shape).astype(dtype)
    xl = lucid.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    kwargs = dict(mode=mode, align_corners=align_corners, antialias=antialias, **sizing)
    y = interpolate(xl, **kwargs)
    yt = torch.nn.functional.interpolate(xt, **kwargs)
    assert y.shape == tuple(yt.shape) and y.dtype == np.dtype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=tol, atol=tol)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(lucid.tensor(gy, device=device))
    if antialias and "scale_factor" in sizing and not sizing.get("recompute_scale_factor"):
        # PyTorch's antialiased forward copies an axis whose size a scale_factor keeps, but
        # its backward resamples that axis with the scale: the reference gradient is that of
        # the same forward with the factor 1 there (see test_antialias_gradient_of_a_kept_axis)
        factors = sizing["scale_factor"]
        factors = (factors, factors) if isinstance(factors, (int, float)) else factors
        factors = tuple(1.0 if int(n * f) == n else f for n, f in zip(shape[2:], factors))
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.interpolate(xt, **{**kwargs, "scale_factor": factors})
        np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=tol, atol=tol)
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(_np(xl.grad), xt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialias_gradient_of_a_kept_axis(mode: str, device: str) -> None:
    """scale_factor=1.1 keeps a 9-pixel axis 9 pixels: the antialiased forward copies it (as
    PyTorch's); the gradient is that copy's (finite differences agree), where PyTorch 2.13's
    backward resamples the axis with 1 / 1.1 and fails its own gradcheck."""
    x = random_tensor(1, 2, 9, 8, device=device)
    assert gradcheck(lambda a: interpolate(a, scale_factor=(1.1, 0.45), mode=mode,
                                           antialias=True), [x])
    torch = pytest.importorskip("torch")
    xt = torch.tensor(_np(x), requires_grad=True)
    assert not torch.autograd.gradcheck(
        lambda a: torch.nn.functional.interpolate(a, scale_factor=(1.1, 0.45), mode=mode,
                                                  antialias=True), (xt,), raise_exception=False)


# (mode, align_corners, antialias) whose weights are compared with PyTorch's bit for bit
EXACT = MODES[1:3] + MODES[3:4] + MODES[5:] + [("bilinear", False, False),
                                               ("bilinear", True, False)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("mode", "align_corners", "antialias"), EXACT, ids=_id)
def test_weights_match_torch_bit_for_bit(mode: str, align_corners: bool | None,
                                         antialias: bool, dtype: Any, device: str) -> None:
    """One-hot inputs read out each axis' weights: every sampled position and weight equals
    PyTorch's, for sizes and scale factors in both directions."""
    torch = pytest.importorskip("torch")
    if mode != "nearest-exact" and torch.backends.cpu.get_cpu_capability() not in (
            "AVX2", "AVX512"):
        pytest.skip("PyTorch's weights are checked against its AVX2 / AVX-512 kernels (FMA)")
    kwargs = dict(mode=mode, align_corners=align_corners, antialias=antialias)
    for n in (1, 2, 3, 5, 8, 13, 30):
        eye = np.eye(n, dtype=dtype).reshape(1, n, 1, n)
        sizings = [dict(size=(1, m)) for m in (1, 2, 3, 7, n + 1, 2 * n, 3 * n - 1, 150)]
        sizings += [dict(scale_factor=(1.0, s)) for s in (0.3, 0.77, 1.5, 2.5, 1 / 3)
                    if int(n * s) > 0]
        for sizing in sizings:
            got = interpolate(lucid.tensor(eye, device=device), **kwargs, **sizing)
            expected = torch.nn.functional.interpolate(torch.tensor(eye), **kwargs, **sizing)
            np.testing.assert_array_equal(_np(got), expected.numpy(), err_msg=f"{n} {sizing}")


@pytest.mark.parametrize(("mode", "align_corners", "antialias"), MODES, ids=_id)
@pytest.mark.parametrize("sizing", [dict(scale_factor=2), dict(size=(5, 7)), dict(size=(2, 3)),
                                    dict(scale_factor=(0.4, 1.5))], ids=_id)
def test_gradcheck(sizing: dict, mode: str, align_corners: bool | None, antialias: bool,
                   device: str) -> None:
    x = random_tensor(2, 2, 6, 5, device=device)
    assert gradcheck(lambda a: interpolate(a, mode=mode, align_corners=align_corners,
                                           antialias=antialias, **sizing), [x])


def test_bicubic_overshoots_as_torch(device: str) -> None:
    """A step in [0, 1] rings: bicubic leaves the input's range (no clamping), as PyTorch."""
    torch = pytest.importorskip("torch")
    x = np.zeros((1, 1, 4, 8))
    x[..., 4:] = 1.0
    y = _np(interpolate(lucid.tensor(x, device=device), scale_factor=3, mode="bicubic"))
    assert y.min() < 0 and y.max() > 1
    expected = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=3, mode="bicubic")
    np.testing.assert_allclose(y, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_bicubic_align_corners_keeps_the_corners(device: str) -> None:
    x = random_tensor(1, 2, 4, 5, device=device, requires_grad=False)
    y = interpolate(x, size=(9, 11), mode="bicubic", align_corners=True)
    for i, j in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        np.testing.assert_allclose(_np(y)[..., i, j], _np(x)[..., i, j], rtol=1e-12)


def test_area_is_adaptive_average_pooling(device: str) -> None:
    x = random_tensor(2, 3, 8, 6, device=device, requires_grad=False)
    np.testing.assert_array_equal(_np(interpolate(x, scale_factor=0.5, mode="area")),
                                  _np(avg_pool2d(x, 2)))
    np.testing.assert_array_equal(_np(interpolate(x, size=(3, 5), mode="area")),
                                  _np(adaptive_avg_pool2d(x, (3, 5))))


def test_nearest_exact_samples_pixel_centres(device: str) -> None:
    """5 -> 3 pixels: nearest-exact takes the centre pixels 0, 2, 4 (floor((i + 0.5) * 5/3));
    legacy nearest takes 0, 1, 3 (floor(i * 5/3))."""
    x = lucid.tensor(np.arange(5.0).reshape(1, 1, 1, 5), device=device)
    np.testing.assert_array_equal(_np(interpolate(x, size=(1, 3), mode="nearest-exact")).ravel(),
                                  [0, 2, 4])
    np.testing.assert_array_equal(_np(interpolate(x, size=(1, 3), mode="nearest")).ravel(),
                                  [0, 1, 3])


def test_antialias_averages_every_pixel(device: str) -> None:
    """Downsampling 8 -> 2 with the triangle filter stretched 4x: every input pixel weighs in
    (plain bilinear reads only 2 of each 4)."""
    x = lucid.tensor(np.eye(8).reshape(1, 8, 1, 8), device=device)
    weights = _np(interpolate(x, size=(1, 2), mode="bilinear", antialias=True))[0, :, 0, :]
    assert (weights.sum(axis=1) > 0).all()
    np.testing.assert_allclose(weights.sum(axis=0), [1.0, 1.0], rtol=1e-12)
    plain = _np(interpolate(x, size=(1, 2), mode="bilinear"))[0, :, 0, :]
    assert (plain.sum(axis=1) == 0).sum() == 4


def test_floating_input_required() -> None:
    x = lucid.tensor(np.arange(16).reshape(1, 1, 4, 4))
    for mode in ("bicubic", "bilinear"):
        with pytest.raises(TypeError, match="floating point"):
            interpolate(x, scale_factor=2, mode=mode)


# (kwargs, exception, lucid's message, PyTorch's message)
ERRORS = [
    (dict(mode="nearest", align_corners=False, scale_factor=2), ValueError,
     "align_corners option can only be set with the interpolating modes", None),
    (dict(mode="nearest-exact", align_corners=True, scale_factor=2), ValueError,
     "align_corners option can only be set with the interpolating modes", None),
    (dict(mode="area", align_corners=False, size=2), ValueError,
     "align_corners option can only be set with the interpolating modes", None),
    (dict(mode="bogus", scale_factor=2), NotImplementedError, "mode 'bogus' is not supported",
     r"\(got bogus\)"),
    (dict(mode="linear", scale_factor=2), NotImplementedError,
     "Got 4D input, but linear mode needs 3D input", None),
    (dict(mode="trilinear", scale_factor=2), NotImplementedError,
     "Got 4D input, but trilinear mode needs 5D input", None),
    (dict(mode="nearest", antialias=True, scale_factor=0.5), ValueError,
     "Anti-alias option is restricted to bilinear", None),
    (dict(mode="area", antialias=True, size=2), ValueError,
     "Anti-alias option is restricted to bilinear", None),
    (dict(mode="bicubic", size=3, recompute_scale_factor=True), ValueError,
     "recompute_scale_factor is not meaningful with an explicit size", None),
    (dict(mode="bicubic", size=2, scale_factor=2), ValueError,
     "only one of size or scale_factor should be defined", None),
    (dict(mode="nearest-exact"), ValueError, "either size or scale_factor should be defined",
     None),
]


@pytest.mark.parametrize(("kwargs", "error", "message", "torch_message"), ERRORS, ids=_id)
def test_errors_as_torch(kwargs: dict, error: type[Exception], message: str,
                         torch_message: str | None) -> None:
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(error, match=message):
        interpolate(lucid.tensor(x), **kwargs)
    torch = pytest.importorskip("torch")
    with pytest.raises(error, match=torch_message or message):
        torch.nn.functional.interpolate(torch.tensor(x), **kwargs)


LAYERS = [
    ("UpsamplingNearest2d", dict(scale_factor=2)),
    ("UpsamplingNearest2d", dict(size=(5, 7))),
    ("UpsamplingBilinear2d", dict(scale_factor=2)),
    ("UpsamplingBilinear2d", dict(size=(5, 7))),
    ("UpsamplingBilinear2d", dict(scale_factor=(0.5, 1.5))),
    ("Upsample", dict(scale_factor=1.5, mode="bicubic")),
    ("Upsample", dict(size=4, mode="bicubic", align_corners=True)),
    ("Upsample", dict(size=(3, 4), mode="area")),
    ("Upsample", dict(scale_factor=(2, 0.5), mode="nearest-exact")),
    ("Upsample", dict(scale_factor=0.5, mode="area", recompute_scale_factor=True)),
]


@pytest.mark.parametrize(("name", "kwargs"), LAYERS, ids=_id)
def test_layers_match_torch(name: str, kwargs: dict, device: str) -> None:
    torch = pytest.importorskip("torch")
    layer, reference = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(layer) == repr(reference)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 8))
    xl = lucid.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, yt = layer(xl), reference(xt)
    np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(_np(xl.grad), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_layer_attributes_as_torch() -> None:
    torch = pytest.importorskip("torch")
    for name in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):
        ours, theirs = getattr(nn, name)(scale_factor=2), getattr(torch.nn, name)(scale_factor=2)
        for attr in ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"):
            assert getattr(ours, attr) == getattr(theirs, attr), (name, attr)
        assert isinstance(ours, nn.Upsample)
