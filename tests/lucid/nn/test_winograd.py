"""Winograd F(m x m, 3 x 3) convolutions: the kernel itself and conv2d routed through it.

The reference is the GEMM path (im2col / shifted GEMM, forced by raising
``winograd.MIN_CHANNELS``) and PyTorch where it is installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lucid
import lucid.nn.functional.winograd as winograd
from lucid.nn.functional.conv import conv2d
from lucid.testing import gradcheck, random_tensor


def _direct(x: np.ndarray, w: np.ndarray, pads: tuple[int, int, int, int]) -> np.ndarray:
    """Plain float64 cross-correlation of the zero-padded input (the definition)."""
    top, bottom, left, right = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))
    oh, ow = xp.shape[2] - 2, xp.shape[3] - 2
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    for i in range(3):
        for j in range(3):
            out += np.einsum("oc,nchw->nohw", w[:, :, i, j], xp[:, :, i : i + oh, j : j + ow])
    return out


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("shape,co,pads", [
    ((1, 3, 5, 5), 2, (0, 0, 0, 0)),  # one partial tile
    ((2, 5, 9, 11), 7, (1, 1, 1, 1)),  # odd sizes, batch 2
    ((3, 4, 13, 8), 6, (2, 2, 2, 2)),
    ((2, 3, 7, 10), 4, (0, 2, 1, 0)),  # asymmetric padding
    ((1, 2, 3, 3), 3, (0, 0, 0, 0)),  # a single output pixel
])
def test_kernel_matches_direct_conv(m: int, shape: tuple[int, ...], co: int,
                                    pads: tuple[int, int, int, int]) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((co, shape[1], 3, 3))
    want = _direct(x, w, pads)
    got = winograd.winograd_conv3x3(x, w, pads, m)
    assert got.shape == want.shape and got.flags.c_contiguous
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())
    got32 = winograd.winograd_conv3x3(x.astype(np.float32), w.astype(np.float32), pads, m)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, want, rtol=0, atol=1e-5 * np.abs(want).max())


def test_kernel_in_many_chunks(monkeypatch) -> None:
    """Tiny chunks (one tile row each, last one partial) give the same result."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 18, 9))
    w = rng.standard_normal((4, 3, 3, 3))
    whole = winograd.winograd_conv3x3(x, w, (1, 1, 1, 1))
    monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
    monkeypatch.setattr(winograd, "MIN_TILES", 1)
    np.testing.assert_allclose(winograd.winograd_conv3x3(x, w, (1, 1, 1, 1)), whole,
                               rtol=0, atol=1e-12)


def test_grad_input_is_the_adjoint() -> None:
    """<conv(x), gy> == <x, grad_input(gy)> for every padding up to 2."""
    rng = np.random.default_rng(2)
    for pads in [(0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 2, 2), (1, 0, 2, 1)]:
        x = rng.standard_normal((2, 3, 7, 6))
        w = rng.standard_normal((5, 3, 3, 3))
        y = _direct(x, w, pads)
        gy = rng.standard_normal(y.shape)
        gx = winograd.winograd_grad_input(gy, w, pads)
        assert gx.shape == x.shape
        np.testing.assert_allclose(np.vdot(y, gy), np.vdot(x, gx), rtol=1e-12)


def _direct_grad_weight(x: np.ndarray, gy: np.ndarray,
                        pads: tuple[int, int, int, int]) -> np.ndarray:
    """``dW[o, c, i, j] = sum gy[n, o, y, x] * xpad[n, c, y + i, x + j]`` in float64."""
    top, bottom, left, right = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (top, bottom), (left, right)))
    oh, ow = gy.shape[2:]
    return np.stack([np.stack([np.einsum("nohw,nchw->oc", gy, xp[:, :, i : i + oh, j : j + ow])
                               for j in range(3)], -1) for i in range(3)], -2)


@pytest.mark.parametrize("chunked", [False, True], ids=["whole", "chunks"])
@pytest.mark.parametrize("shape,co,pads", [
    ((1, 3, 5, 5), 2, (0, 0, 0, 0)),  # one partial tile
    ((2, 5, 9, 11), 7, (1, 1, 1, 1)),  # odd sizes: output tiles cut by the edge
    ((3, 4, 13, 8), 6, (2, 2, 2, 2)),
    ((2, 3, 7, 10), 4, (0, 2, 1, 0)),  # asymmetric padding
    ((1, 2, 3, 3), 3, (0, 0, 0, 0)),  # a single output pixel
])
def test_grad_weight_matches_the_definition(monkeypatch, shape: tuple[int, ...], co: int,
                                            pads: tuple[int, int, int, int],
                                            chunked: bool) -> None:
    if chunked:  # one tile row per chunk, the last one partial
        monkeypatch.setattr(winograd, "CHUNK_BYTES", 1)
        monkeypatch.setattr(winograd, "MIN_TILES", 1)
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    top, bottom, left, right = pads
    gy = rng.standard_normal((shape[0], co, shape[2] + top + bottom - 2,
                              shape[3] + left + right - 2))
    want = _direct_grad_weight(x, gy, pads)
    got = winograd.winograd_grad_weight(x, gy, pads)
    assert got.shape == (co, shape[1], 3, 3) and got.flags.c_contiguous
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())
    got32 = winograd.winograd_grad_weight(x.astype(np.float32), gy.astype(np.float32), pads)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, want, rtol=0, atol=2e-5 * np.abs(want).max())


def _calls(monkeypatch) -> list[str]:
    """Record which Winograd entry points run (grad-input calls the forward kernel too)."""
    calls: list[str] = []
    for name in ("winograd_conv3x3", "winograd_grad_input", "winograd_grad_weight"):
        real = getattr(winograd, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(winograd, name, spy)
    return calls


WINOGRAD_ALL = {"winograd_conv3x3", "winograd_grad_input", "winograd_grad_weight"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shape,co,padding,bias", [
    ((2, 16, 9, 11), 24, 1, True),  # C_out > C_in: the GEMM path's im2col kernel
    ((3, 32, 7, 6), 16, 1, False),  # C_out < C_in: the GEMM path's shifted kernel
    ((1, 16, 12, 12), 16, 0, True),
    ((2, 20, 5, 13), 17, 2, True),
])
def test_conv2d_matches_gemm_path(monkeypatch, shape: tuple[int, ...], co: int, padding: int,
                                  bias: bool, dtype: Any) -> None:
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(shape), rng.standard_normal((co, shape[1], 3, 3)) / 8,
              rng.standard_normal(co)]
    gy = None
    results = []
    for min_channels in (16, 10**9):  # Winograd, then the GEMM kernels
        monkeypatch.setattr(winograd, "MIN_CHANNELS", min_channels)
        calls = _calls(monkeypatch)
        x, w, b = (lucid.tensor(a.astype(dtype), requires_grad=True) for a in arrays)
        y = conv2d(x, w, b if bias else None, padding=padding)
        if gy is None:
            gy = rng.standard_normal(y.shape).astype(dtype)
        y.backward(lucid.tensor(gy))
        assert set(calls) == (WINOGRAD_ALL if min_channels == 16 else set())
        results.append([y.detach().numpy(), x.grad.numpy(), w.grad.numpy()]
                       + ([b.grad.numpy()] if bias else []))
    for got, want in zip(*results):
        tol = (2e-5 if dtype == np.float32 else 1e-11) * max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def test_conv2d_matches_torch(monkeypatch) -> None:
    torch = pytest.importorskip("torch")
    calls = _calls(monkeypatch)
    rng = np.random.default_rng(4)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in
               ((2, 64, 19, 21), (48, 64, 3, 3), (48,)))
    w /= 24
    xl, wl, bl = (lucid.tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = conv2d(xl, wl, bl, padding=1)
    yt = torch.nn.functional.conv2d(xt, wt, bt, padding=1)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(lucid.tensor(gy))
    yt.backward(torch.tensor(gy))
    assert set(calls) == WINOGRAD_ALL
    for got, want in ((y.detach(), yt.detach()), (xl.grad, xt.grad), (wl.grad, wt.grad),
                      (bl.grad, bt.grad)):
        want = want.numpy()
        np.testing.assert_allclose(got.numpy(), want, rtol=0,
                                   atol=1e-5 * max(1.0, float(np.abs(want).max())))


@pytest.mark.parametrize("co,padding,bias", [(3, 1, True), (5, 0, False), (2, 2, True)])
def test_gradcheck_through_winograd(monkeypatch, co: int, padding: int, bias: bool) -> None:
    """float64 finite differences, with the channel threshold lowered to reach small convs."""
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    calls = _calls(monkeypatch)
    x = random_tensor(2, 4, 6, 5)
    w = random_tensor(co, 4, 3, 3)
    inputs = [x, w] + ([random_tensor(co)] if bias else [])

    def fn(*t: lucid.Tensor) -> lucid.Tensor:
        return conv2d(t[0], t[1], t[2] if bias else None, padding=padding)

    assert gradcheck(fn, inputs)
    assert set(calls) == WINOGRAD_ALL


def test_unbatched_and_frozen_weight(monkeypatch) -> None:
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    x = random_tensor(3, 7, 6)
    w = random_tensor(4, 3, 3, 3, requires_grad=False)
    assert gradcheck(lambda a: conv2d(a, w, padding=1), [x])
    assert conv2d(x, w, padding=1).shape == (4, 7, 6)


def test_no_grad_large_image_needs_no_bands(monkeypatch) -> None:
    """Winograd inference runs in one call (its chunks bound memory), same result."""
    import lucid.nn.functional.conv as conv_module

    rng = np.random.default_rng(5)
    x = lucid.tensor(rng.standard_normal((1, 16, 37, 29)).astype(np.float32))
    w = lucid.tensor(rng.standard_normal((16, 16, 3, 3)).astype(np.float32) / 12)
    monkeypatch.setattr(conv_module, "BAND_BYTES", 4096)
    bands = []
    monkeypatch.setattr(conv_module, "_conv2d_in_bands",
                        lambda *a, **k: bands.append(1))  # must not be reached
    with lucid.no_grad():
        y = conv_module.conv2d(x, w, padding=1).numpy()
    assert not bands
    want = _direct(x.numpy(), w.numpy(), (1, 1, 1, 1))
    np.testing.assert_allclose(y, want, rtol=0, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("shape,pads", [
    ((2, 3, 9, 11), (1, 1, 1, 1)),  # odd sizes
    ((1, 2, 3, 3), (2, 2, 2, 2)),  # pads one less than the sides: the whole input reflected
    ((1, 3, 13, 8), (2, 2, 1, 1)),
    ((2, 2, 6, 7), (0, 2, 1, 0)),  # asymmetric
])
def test_kernel_reads_a_reflection_padding(monkeypatch, m: int, shape: tuple[int, ...],
                                           pads: tuple[int, int, int, int]) -> None:
    """``reflect=True`` equals the zero-pad kernel on the reflection-padded copy, also when
    chunks are single tile rows (pad rows then fall at the start and end of a chunk)."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((4, shape[1], 3, 3))
    top, bottom, left, right = pads
    padded = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode="reflect")
    want = _direct(padded, w, (0, 0, 0, 0))
    for chunk_bytes, min_tiles in ((winograd.CHUNK_BYTES, winograd.MIN_TILES), (1, 1)):
        monkeypatch.setattr(winograd, "CHUNK_BYTES", chunk_bytes)
        monkeypatch.setattr(winograd, "MIN_TILES", min_tiles)
        got = winograd.winograd_conv3x3(x, w, pads, m, reflect=True)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())


def test_reflect_conv_layer_in_inference_skips_the_padded_copy(monkeypatch) -> None:
    """nn.Conv2d(padding_mode="reflect") under no_grad reads the padding through Winograd's
    tiling (no pad op runs) and gives what the padded path and PyTorch give."""
    import lucid.nn.modules.conv as conv_modules

    rng = np.random.default_rng(7)
    layer = lucid.nn.Conv2d(24, 20, 3, padding=1, padding_mode="reflect")
    x = lucid.tensor(rng.standard_normal((2, 24, 15, 18)).astype(np.float32))
    padded_path = layer(x).detach().numpy()  # weights require grad: recorded, padded copy
    pads: list[Any] = []
    monkeypatch.setattr(conv_modules, "pad", lambda *a, **k: pads.append(a) or None)
    with lucid.no_grad():
        fused = layer(x).numpy()
    assert not pads
    np.testing.assert_allclose(fused, padded_path, rtol=0, atol=1e-5 * np.abs(padded_path).max())
    torch = pytest.importorskip("torch")
    twin = torch.nn.Conv2d(24, 20, 3, padding=1, padding_mode="reflect")
    twin.weight.data = torch.tensor(layer.weight.detach().numpy())
    twin.bias.data = torch.tensor(layer.bias.detach().numpy())
    want = twin(torch.tensor(x.numpy())).detach().numpy()
    np.testing.assert_allclose(fused, want, rtol=0, atol=1e-5 * np.abs(want).max())
