"""conv2d: values and gradients against PyTorch, finite differences, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lucid
from lucid.nn.functional.conv import conv2d
from lucid.testing import gradcheck, random_tensor

# PyTorch warns that it copies the input for an even-sized 'same' kernel; we test exactly that
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

# (input shape, C_out, kernel, stride, padding, dilation, groups, bias). Together they reach
# every kernel: im2col (strided, or C_out > C_in), shifted GEMM (stride 1, C_out <= C_in,
# forward too when C_out <= C_in / 2), 1x1 without columns, grouped, and depthwise in both
# layouts (NCHW when a plane is larger than N*C, channels-last otherwise) with multiplier 1, 2.
CASES = [
    ((2, 4, 7, 6), 8, 3, 1, 1, 1, 1, True),  # im2col, C_out > C_in
    ((2, 8, 7, 6), 3, 3, 1, 1, 1, 1, True),  # shifted forward and backward
    ((2, 6, 7, 6), 5, 3, 1, 0, 1, 1, False),  # shifted backward only, no padding
    ((2, 4, 9, 8), 6, 3, 2, 1, 1, 1, True),  # stride 2
    ((2, 4, 9, 8), 4, 5, 2, 2, 1, 1, True),  # 5x5 stride 2
    ((2, 4, 7, 6), 4, 3, 1, 2, 2, 1, True),  # dilation 2, padding 2
    ((2, 4, 8, 9), 4, (4, 2), 1, "same", 1, 1, True),  # even kernel: asymmetric 'same'
    ((2, 4, 8, 9), 2, (3, 5), 1, "same", (2, 1), 1, False),
    ((2, 4, 8, 9), 6, 3, 1, "valid", 1, 1, True),
    ((2, 4, 7, 6), 3, 1, 1, 0, 1, 1, True),  # 1x1: the input is the column buffer
    ((2, 4, 7, 6), 8, 1, 2, 0, 1, 1, True),  # 1x1 stride 2
    ((2, 4, 7, 6), 5, 1, 1, 1, 1, 1, True),  # 1x1 with padding
    ((2, 4, 8, 9), 6, 3, 1, 2, 1, 2, True),  # groups 2
    ((2, 8, 8, 9), 2, 3, 1, 1, (2, 1), 2, False),  # groups 2, shifted
    ((2, 4, 9, 8), 8, 5, 2, 2, 1, 4, True),  # depthwise x2 stride 2 (NCHW)
    ((2, 4, 8, 9), 4, 3, 1, 1, 1, 4, True),  # depthwise (NCHW)
    ((6, 5, 3, 3), 5, 3, 1, 1, 1, 5, True),  # depthwise channels-last
    ((6, 5, 4, 5), 10, 3, (2, 1), (1, 2), (1, 2), 5, False),  # depthwise x2 channels-last
    ((2, 4, 7, 6), 4, 5, 1, "same", 1, 4, True),  # depthwise 5x5 'same'
]


def _ids(case: tuple[Any, ...]) -> str:
    shape, co, k, s, p, d, g, b = case
    return f"{'x'.join(map(str, shape))}-o{co}-k{k}-s{s}-p{p}-d{d}-g{g}-{'b' if b else 'nob'}"


def _arrays(case: tuple[Any, ...], dtype: Any, seed: int = 0) -> tuple[np.ndarray, ...]:
    shape, co, k, _, _, _, g, _ = case
    kh, kw = (k, k) if isinstance(k, int) else k
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((co, shape[-3] // g, kh, kw)).astype(dtype)
    b = rng.standard_normal(co).astype(dtype)
    return x, w, b


def _np(t: lucid.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _close(actual: np.ndarray, expected: np.ndarray, dtype: Any) -> None:
    # float32: tolerance relative to the largest magnitude (sums of many products)
    scale = max(1.0, float(np.abs(expected).max()))
    tol = 2e-5 * scale if dtype == np.float32 else 1e-10 * scale
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_matches_torch(case: tuple[Any, ...], dtype: Any, device: str) -> None:
    torch = pytest.importorskip("torch")
    _, _, _, s, p, d, g, with_bias = case
    x, w, b = _arrays(case, dtype)
    xl, wl = (lucid.tensor(a, device=device, requires_grad=True) for a in (x, w))
    bl = lucid.tensor(b, device=device, requires_grad=True) if with_bias else None
    xt, wt = (torch.tensor(a, requires_grad=True) for a in (x, w))
    bt = torch.tensor(b, requires_grad=True) if with_bias else None

    y = conv2d(xl, wl, bl, stride=s, padding=p, dilation=d, groups=g)
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p, dilation=d, groups=g)
    assert y.shape == tuple(yt.shape)
    assert y.dtype == np.dtype(dtype)
    _close(_np(y), yt.detach().numpy(), dtype)

    gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(lucid.tensor(gy, device=device))
    yt.backward(torch.tensor(gy))
    for got, want in ((xl, xt), (wl, wt)) + (((bl, bt),) if with_bias else ()):
        assert got.grad.dtype == np.dtype(dtype)
        _close(_np(got.grad), want.grad.numpy(), dtype)


@pytest.mark.parametrize("case", [CASES[i] for i in (0, 1, 2, 3, 6, 10, 13, 14, 17)], ids=_ids)
def test_gradcheck(case: tuple[Any, ...], device: str) -> None:
    shape, co, k, s, p, d, g, with_bias = case
    kh, kw = (k, k) if isinstance(k, int) else k
    small = (1,) + shape[1:3] + (min(shape[3], 6),) if shape[0] > 1 else shape
    x = random_tensor(*small, device=device)
    w = random_tensor(co, shape[1] // g, kh, kw, device=device)
    inputs = [x, w] + ([random_tensor(co, device=device)] if with_bias else [])

    def fn(*t: lucid.Tensor) -> lucid.Tensor:
        return conv2d(t[0], t[1], t[2] if with_bias else None, s, p, d, g)

    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("groups", [1, 3])
def test_unbatched_input(groups: int, device: str) -> None:
    x = random_tensor(3, 6, 5, device=device)
    w = random_tensor(6, 3 // groups, 3, 3, device=device)
    y = conv2d(x, w, padding=1, groups=groups)
    assert y.shape == (6, 6, 5)
    batched = conv2d(x.detach().unsqueeze(0), w.detach(), padding=1, groups=groups)
    np.testing.assert_allclose(_np(y), _np(batched)[0], atol=1e-12)
    y.sum().backward()
    assert x.grad.shape == (3, 6, 5)
    assert gradcheck(lambda a, b: conv2d(a, b, padding=1, groups=groups), [x, w])


def test_frozen_weight_and_no_grad(device: str) -> None:
    x = random_tensor(2, 4, 6, 6, device=device)
    w = random_tensor(8, 4, 3, 3, device=device, requires_grad=False)
    with lucid.no_grad():
        y = conv2d(x, w, padding=1)
    assert not y.requires_grad
    # frozen weight: only the input gets a gradient (the columns are never kept)
    for stride in (1, 2):
        x.grad = None
        conv2d(x, w, padding=1, stride=stride).sum().backward()
        assert x.grad is not None and w.grad is None
        assert gradcheck(lambda a, s=stride: conv2d(a, w, padding=1, stride=s), [x])


def test_input_without_grad(device: str) -> None:
    x = random_tensor(2, 4, 6, 6, device=device, requires_grad=False)
    w = random_tensor(2, 4, 3, 3, device=device)
    conv2d(x, w, padding=1).sum().backward()
    assert w.grad is not None and x.grad is None


def test_outputs_never_share_scratch_memory(device: str) -> None:
    # temporaries live in a reused buffer: results must survive the next conv
    x = random_tensor(2, 8, 9, 9, dtype=np.float32, device=device, requires_grad=False)
    w1 = random_tensor(4, 8, 3, 3, dtype=np.float32, device=device, requires_grad=False)
    w2 = random_tensor(8, 1, 3, 3, dtype=np.float32, device=device, requires_grad=False)
    with lucid.no_grad():
        first = conv2d(x, w1, padding=1)
        kept = _np(first).copy()
        conv2d(x, w1, stride=2)
        conv2d(x, w2, padding=1, groups=8)
    np.testing.assert_array_equal(_np(first), kept)


def test_same_padding_keeps_size() -> None:
    x = lucid.zeros(1, 2, 7, 8)
    for k, d in ((3, 1), (4, 1), (5, 2), (2, 3)):
        assert conv2d(x, lucid.zeros(3, 2, k, k), padding="same", dilation=d).shape == (1, 3, 7, 8)


def test_errors() -> None:
    x = lucid.zeros(1, 4, 8, 8)
    with pytest.raises(RuntimeError, match=r"expected input\[1, 4, 8, 8\] to have 3 channels, "
                                           r"but got 4 channels"):
        conv2d(x, lucid.zeros(2, 3, 3, 3))
    with pytest.raises(RuntimeError, match="to have 6 channels"):
        conv2d(x, lucid.zeros(4, 3, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        conv2d(x, lucid.zeros(3, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="invalid padding string 'full'"):
        conv2d(x, lucid.zeros(2, 4, 3, 3), padding="full")
    with pytest.raises(ValueError, match="not supported for strided"):
        conv2d(x, lucid.zeros(2, 4, 3, 3), padding="same", stride=2)
    with pytest.raises(ValueError, match="negative padding"):
        conv2d(x, lucid.zeros(2, 4, 3, 3), padding=-1)
    with pytest.raises(ValueError, match="stride must be positive"):
        conv2d(x, lucid.zeros(2, 4, 3, 3), stride=0)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        conv2d(x, lucid.zeros(2, 4, 9, 9))
    with pytest.raises(RuntimeError, match="bias of shape"):
        conv2d(x, lucid.zeros(2, 4, 3, 3), lucid.zeros(3))
    with pytest.raises(RuntimeError, match="3D .* or 4D"):
        conv2d(lucid.zeros(4, 8), lucid.zeros(2, 4, 3, 3))
    with pytest.raises(RuntimeError, match="should be the same"):
        conv2d(x, lucid.zeros(2, 4, 3, 3, dtype=lucid.float64))


@pytest.mark.parametrize("stride,padding,dilation", [(1, 1, 1), (2, 1, 1), (1, 2, 2), (1, 0, 1)])
def test_inference_in_row_bands_matches_one_call(monkeypatch, stride, padding, dilation) -> None:
    """Large no-grad convs run a band of rows at a time; the result must not change."""
    import lucid.nn.functional.conv as conv_module

    rng = np.random.default_rng(11)
    x = lucid.tensor(rng.standard_normal((2, 4, 23, 17)).astype(np.float32))
    w = lucid.tensor(rng.standard_normal((6, 4, 3, 3)).astype(np.float32))
    b = lucid.tensor(rng.standard_normal(6).astype(np.float32))
    whole = conv_module.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    monkeypatch.setattr(conv_module, "BAND_BYTES", 4096)  # a few rows per band
    assert conv_module._band_rows(2, 36, 23, 4) < whole.shape[2]
    with lucid.no_grad():
        banded = conv_module.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    np.testing.assert_allclose(banded.numpy(), whole.detach().numpy(), rtol=1e-5, atol=1e-5)
