"""conv2d: values and gradients against PyTorch, finite differences, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lucid
from lucid.autograd import Function
from lucid.nn.functional.conv import _crop, _offset_slice, _out_size, _pad_zeros, conv2d
from lucid.ops._util import xp_of
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


def test_input_gradients_never_share_scratch_memory() -> None:
    # a 1x1 conv's input gradient of one image and one channel, padded only in height, is a
    # contiguous slice of the reused column buffer: the next conv's backward overwrote it
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, w1, w2 = (rng.standard_normal(s) for s in ((1, 1, 4, 5), (3, 1, 1, 1), (3, 1, 3, 3)))
    grads = []
    for lib, conv in ((lucid, conv2d), (torch, torch.nn.functional.conv2d)):
        x0 = lib.tensor(x, requires_grad=True)
        h = x0 * 1
        a, b = conv(h, lib.tensor(w1), padding=(1, 0)), conv(h, lib.tensor(w2), padding=1)
        (a.sum() + (b * b).sum()).backward()
        grads.append(x0.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan], ids=str)
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_a_non_finite_input_stays_in_its_windows(value: float, padding_mode: str,
                                                 device: str) -> None:
    """Winograd's transforms spread one NaN or inf over whole 4x4 output tiles (inf - inf);
    such an input goes to the GEMM kernels, whose outputs match PyTorch's (before: NaN over
    the tile where torch has inf, and over outputs whose windows do not hold it)."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((1, 16, 9, 10)).astype(np.float32)
    x[0, 3, 4, 5] = value
    conv = lucid.nn.Conv2d(16, 16, 3, padding=1, padding_mode=padding_mode)
    ref = torch.nn.Conv2d(16, 16, 3, padding=1, padding_mode=padding_mode)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in conv.state_dict().items()})
    conv.to(device)
    expected = ref(torch.tensor(x)).detach().numpy()
    for grad in (True, False):  # recorded, and inference's reflection-padded fast path
        with lucid.set_grad_enabled(grad):
            got = conv(lucid.tensor(x, device=device)).detach().cpu().numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


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
def test_inference_in_row_bands_matches_one_call(monkeypatch, device, stride, padding,
                                                  dilation) -> None:
    """Large no-grad convs run a band of rows at a time; the result must not change."""
    import lucid.nn.functional.conv as conv_module

    rng = np.random.default_rng(11)
    x = lucid.tensor(rng.standard_normal((2, 4, 23, 17)).astype(np.float32), device=device)
    w = lucid.tensor(rng.standard_normal((6, 4, 3, 3)).astype(np.float32), device=device)
    b = lucid.tensor(rng.standard_normal(6).astype(np.float32), device=device)
    whole = conv_module.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    for budget in ("BAND_BYTES", "GPU_BAND_BYTES"):
        monkeypatch.setattr(conv_module, budget, 4096)  # a few rows per band
    assert conv_module._band_rows(2, 36, 23, 4, 4096) < whole.shape[2]
    with lucid.no_grad():
        banded = conv_module.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    np.testing.assert_allclose(banded.cpu().numpy(), whole.detach().cpu().numpy(), rtol=1e-5,
                               atol=1e-5)


# ----------------------------------------------------------------------------- reference
# The depthwise kernel before the flat-shift rewrite (channels-last broadcast multiply-adds),
# kept verbatim as an independent reference for the current one. It shares only the padding
# helpers of the dense path (_pad_zeros, _crop, _offset_slice), which the dense tests cover.
def _ref_scratch(xp: Any, shape: tuple[int, ...], dtype: Any, slot: int = 0) -> Any:
    return xp.empty(shape, dtype=dtype)


Pads = tuple[int, int, int, int]


def _to_channels_last(a: Any, slot: int | None = None) -> Any:
    """(N, C, H, W) -> contiguous (H, W, N, C); in scratch ``slot`` if given, else fresh.

    A plane of a multiple of 1 KiB makes the transposing copy read with a stride that maps
    every element to the same cache set (3x slower); going through a buffer with one spare
    column per row breaks that stride first.
    """
    xp = xp_of(a)
    n, c, h, w = a.shape
    if (h * w * a.itemsize) % 1024 == 0:
        buffer = _ref_scratch(xp, (n, c, h, w + 1), a.dtype, slot=3)
        buffer[..., :w] = a
        a = buffer[..., :w]
    shape = (h, w, n, c)
    out = xp.empty(shape, dtype=a.dtype) if slot is None else _ref_scratch(xp, shape, a.dtype, slot)
    out[...] = a.transpose(2, 3, 0, 1)
    return out


def _from_channels_last(a: Any) -> Any:
    """(H, W, N, C) (any strides) -> contiguous (N, C, H, W)."""
    return xp_of(a).ascontiguousarray(a.transpose(2, 3, 0, 1))


def _window(a: Any, axes: int, i: int, j: int, stride: tuple[int, int],
            dilation: tuple[int, int], out_hw: tuple[int, int]) -> Any:
    """The (strided) view that kernel offset (i, j) reads; spatial axes start at ``axes``."""
    rows = _offset_slice(i, dilation[0], stride[0], out_hw[0])
    cols = _offset_slice(j, dilation[1], stride[1], out_hw[1])
    return a[(slice(None),) * axes + (rows, cols)]


class _ReferenceDepthwise(Function):
    """Depthwise conv (``groups == C``, ``C_out = m * C``), inputs ``(x, weight[, bias])``.

    ``out[n, c*m + j] = sum_{kh,kw} w[c*m + j, 0, kh, kw] * xpad[n, c, oh*sh + kh*dh, ...]``,
    one broadcast multiply-add per kernel offset. numpy's elementwise loops pay per row of
    their innermost axis, so the work runs channels-last, (H, W, N, C), whenever N*C is longer
    than a plane (the deep, small-map layers of an encoder), and in NCHW otherwise.
    """

    def forward(self, x: Any, weight: Any, bias: Any = None, *, stride: tuple[int, int],
                pads: Pads, dilation: tuple[int, int], groups: int = 0,
                need_weight_grad: bool = True) -> Any:
        xp = xp_of(x)
        self.unbatched = x.ndim == 3
        if self.unbatched:
            x = x[None]
        n, c = x.shape[:2]
        co, _, kh, kw = weight.shape
        m = co // c
        xpad = _pad_zeros(x, pads)
        hp, wp = xpad.shape[2:]
        oh = _out_size(hp, kh, stride[0], dilation[0])
        ow = _out_size(wp, kw, stride[1], dilation[1])
        self.channels_last = oh * ow < n * c
        # per-offset weights (K, C, m) shaped to broadcast against a window; the multiplier
        # axis exists only when m > 1 (a trailing size-1 axis slows numpy's inner loops)
        wk = xp.ascontiguousarray(weight.reshape(c, m, kh * kw).transpose(2, 0, 1))
        if m == 1:
            wk = wk[:, :, 0]
        if self.channels_last:
            src = _to_channels_last(xpad)  # (Hp, Wp, N, C), kept for backward
            # accumulate in scratch: the NCHW output is a fresh transposed copy of it
            out = _ref_scratch(xp, (oh, ow, n, c) + ((m,) if m > 1 else ()), x.dtype, slot=1)
        else:
            src = xpad
            wk = wk[..., None, None]
            out = xp.empty((n, c) + ((m,) if m > 1 else ()) + (oh, ow), dtype=x.dtype)
        axes = 0 if self.channels_last else 2
        tmp = _ref_scratch(xp, out.shape, out.dtype)
        for i in range(kh):
            for j in range(kw):
                window = _window(src, axes, i, j, stride, dilation, (oh, ow))
                if m > 1:
                    window = window[..., None] if self.channels_last else window[:, :, None]
                if i == 0 and j == 0:
                    xp.multiply(window, wk[0], out=out)
                else:
                    xp.multiply(window, wk[i * kw + j], out=tmp)
                    out += tmp
        if self.channels_last:
            out = _from_channels_last(out.reshape(oh, ow, n, co))
        else:
            out = out.reshape(n, co, oh, ow)
        if bias is not None:
            out += bias.reshape(co, 1, 1)
        # the (padded, maybe transposed) input only serves grad-weight
        self.src = src if need_weight_grad else None
        self.wk, self.has_bias = wk, bias is not None
        self.geometry = (x.shape, xpad.shape, weight.shape, stride, pads, dilation, (oh, ow))
        return out[0] if self.unbatched else out

    def backward(self, gy: Any) -> tuple[Any, ...]:
        xp = xp_of(gy)
        x_shape, padded, w_shape, stride, pads, dilation, (oh, ow) = self.geometry
        src, wk, cl = self.src, self.wk, self.channels_last
        n, c = x_shape[:2]
        co, _, kh, kw = w_shape
        m = co // c
        if self.unbatched:
            gy = gy[None]
        mshape = (m,) if m > 1 else ()
        if cl:
            g = _to_channels_last(xp.ascontiguousarray(gy), slot=2).reshape((oh, ow, n, c) + mshape)
            gsrc_shape = padded[2:] + padded[:2]
        else:
            g = gy.reshape((n, c) + mshape + (oh, ow))
            gsrc_shape = padded
        axes, maxis = (0, 4) if cl else (2, 2)
        want_x = self.inputs[0].requires_grad
        want_w = src is not None and self.inputs[1].requires_grad
        gsrc = None
        if want_x:  # grad of the padded input: cropped (and transposed) into a fresh array
            if cl:
                gsrc = _ref_scratch(xp, gsrc_shape, gy.dtype, slot=1)
                gsrc.fill(0)
            else:
                gsrc = xp.zeros(gsrc_shape, dtype=gy.dtype)
        gw = xp.empty((kh * kw, c) + mshape, dtype=gy.dtype) if want_w else None
        tmp = _ref_scratch(xp, g.shape, gy.dtype)
        sum_axes = (0, 1, 2) if cl else ((0, 3, 4) if m > 1 else (0, 2, 3))
        for i in range(kh):
            for j in range(kw):
                k = i * kw + j
                if want_x:  # scatter: the window that read x gets gy * w back
                    xp.multiply(g, wk[k], out=tmp)
                    part = tmp.sum(axis=maxis) if m > 1 else tmp
                    _window(gsrc, axes, i, j, stride, dilation, (oh, ow))[...] += part
                if want_w:
                    window = _window(src, axes, i, j, stride, dilation, (oh, ow))
                    if m > 1:
                        window = window[..., None] if cl else window[:, :, None]
                    xp.multiply(g, window, out=tmp)
                    gw[k] = tmp.sum(axis=sum_axes)
        gx = None
        if want_x:
            top, bottom, left, right = pads
            if cl:
                h, w = padded[2] - top - bottom, padded[3] - left - right
                gx = _from_channels_last(gsrc[top : top + h, left : left + w])
            else:
                gx = _crop(gsrc, pads)
            if self.unbatched:
                gx = gx[0]
        if gw is not None:  # (K, C[, m]) -> (C*m, 1, KH, KW)
            gw = xp.ascontiguousarray(xp.moveaxis(gw, 0, -1)).reshape(w_shape)
        grads: tuple[Any, ...] = (gx, gw)
        if self.has_bias:
            grads += (gy.sum(axis=(0, 2, 3)),)
        return grads


# (input shape, channel multiplier, kernel, stride, padding, dilation): odd sizes, strides
# that do not divide the padded size, padding wider than the kernel, batch 1 and > 1
DEPTHWISE_CASES = [
    ((3, 5, 9, 7), 1, 3, 1, 1, 1),
    ((3, 5, 9, 7), 1, 5, 1, 2, 1),
    ((3, 5, 9, 7), 1, 3, 2, 1, 1),
    ((2, 6, 10, 11), 1, 5, 2, 2, 1),
    ((1, 4, 13, 12), 1, 3, 2, 1, 1),
    ((2, 3, 8, 8), 1, 3, 3, 1, 1),
    ((2, 3, 7, 9), 1, (3, 5), (2, 1), (0, 2), 1),
    ((2, 3, 7, 9), 1, 3, 1, 4, 1),  # padding past the kernel
    ((2, 3, 9, 9), 1, 3, 2, (3, 0), 2),
    ((2, 3, 8, 7), 2, 3, 1, 1, (2, 1)),
    ((2, 3, 7, 6), 3, 5, 2, 2, 1),
    ((1, 2, 1, 1), 1, 3, 1, 1, 1),
    ((2, 2, 5, 5), 1, 1, 2, 0, 1),
]


def _dw_ids(case: tuple[Any, ...]) -> str:
    shape, m, k, s, p, d = case
    return f"{'x'.join(map(str, shape))}-m{m}-k{k}-s{s}-p{p}-d{d}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=_dw_ids)
def test_depthwise_matches_reference(case: tuple[Any, ...], dtype: Any) -> None:
    """The flat-shift depthwise kernel against the previous implementation (and torch)."""
    from lucid.nn.functional._pairs import _pair
    from lucid.nn.functional.conv import _conv_padding

    shape, m, k, s, p, d = case
    c = shape[1]
    kh, kw = _pair(k)
    rng = np.random.default_rng(3)
    x, gy_seed = rng.standard_normal(shape).astype(dtype), 4
    w = rng.standard_normal((c * m, 1, kh, kw)).astype(dtype)
    b = rng.standard_normal(c * m).astype(dtype)
    xl, wl, bl = (lucid.tensor(a, requires_grad=True) for a in (x, w, b))
    y = conv2d(xl, wl, bl, stride=s, padding=p, dilation=d, groups=c)
    gy = np.random.default_rng(gy_seed).standard_normal(y.shape).astype(dtype)
    y.backward(lucid.tensor(gy))

    xr, wr, br = (lucid.tensor(a, requires_grad=True) for a in (x, w, b))
    stride, dilation = _pair(s), _pair(d)
    pads = _conv_padding(p, (kh, kw), stride, dilation)
    yr = _ReferenceDepthwise.apply(xr, wr, br, stride=stride, pads=pads, dilation=dilation,
                                   groups=c, need_weight_grad=True)
    yr.backward(lucid.tensor(gy))
    for got, want in ((y, yr), (xl.grad, xr.grad), (wl.grad, wr.grad), (bl.grad, br.grad)):
        assert got.dtype == np.dtype(dtype)
        _close(_np(got), _np(want), dtype)

    torch = pytest.importorskip("torch")
    yt = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b),
                                    stride=s, padding=p, dilation=d, groups=c)
    _close(_np(y), yt.numpy(), dtype)


@pytest.mark.parametrize("case", DEPTHWISE_CASES[:6] + DEPTHWISE_CASES[8:11], ids=_dw_ids)
def test_depthwise_gradcheck(case: tuple[Any, ...]) -> None:
    shape, m, k, s, p, d = case
    kh, kw = (k, k) if isinstance(k, int) else k
    x = random_tensor(*shape)
    w = random_tensor(shape[1] * m, 1, kh, kw)
    assert gradcheck(lambda a, b: conv2d(a, b, None, s, p, d, shape[1]), [x, w])


@pytest.mark.parametrize("stride", [1, 2])
def test_depthwise_input_grad_only(stride: int) -> None:
    """A frozen weight (the encoder): no canvas kept, the input gradient still exact."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 11, 10))
    w = rng.standard_normal((4, 1, 5, 5))
    xl = lucid.tensor(x, requires_grad=True)
    wl = lucid.tensor(w)
    y = conv2d(xl, wl, stride=stride, padding=2, groups=4)
    assert y.grad_fn.src is None  # nothing saved for grad-weight
    y.backward(lucid.ones(*y.shape))
    assert wl.grad is None
    xr = lucid.tensor(x, requires_grad=True)
    yr = _ReferenceDepthwise.apply(xr, lucid.tensor(w), stride=(stride, stride),
                                   pads=(2, 2, 2, 2), dilation=(1, 1), need_weight_grad=False)
    yr.backward(lucid.ones(*yr.shape))
    _close(_np(xl.grad), _np(xr.grad), np.float64)
    assert gradcheck(lambda a: conv2d(a, wl, stride=stride, padding=2, groups=4),
                     [random_tensor(1, 4, 7, 6)])


def test_depthwise_in_blocks(monkeypatch) -> None:
    """Tiny blocks (channels, batch entries, bands of lines) give the same results."""
    import lucid.nn.functional.conv as conv_module

    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 5, 12, 9)).astype(np.float32)
    w = rng.standard_normal((5, 1, 3, 3)).astype(np.float32)
    results = []
    for block in (1 << 15, 200, 40, 7):
        monkeypatch.setattr(conv_module, "DW_BLOCK", block)
        xl, wl = lucid.tensor(x, requires_grad=True), lucid.tensor(w, requires_grad=True)
        y = conv2d(xl, wl, stride=(2, 1), padding=1, groups=5)
        y.backward(lucid.tensor(np.cos(_np(y))))
        results.append([_np(y), _np(xl.grad), _np(wl.grad)])
    for other in results[1:]:
        for got, want in zip(other, results[0]):
            _close(got, want, np.float32)
    assert np.getbufsize() == 8192  # numpy's ufunc buffer, shrunk inside the loops, is back


def test_gpu_float32_convolutions_run_on_tf32_by_default(device: str) -> None:
    """As in PyTorch (cudnn.allow_tf32): float32 conv GEMMs on TF32, close to float32 but
    not equal to it (so TF32 did run); the switch turns it off; float64 never changes; the
    compute type of CuPy's other matrix products is left as it was."""
    if device == "cpu":
        pytest.skip("TF32 is a GPU setting")
    cupy = lucid.backend.array_module("gpu")
    if int(cupy.cuda.Device().compute_capability) < 80:
        pytest.skip("this GPU has no TF32")
    linalg = cupy._core._routines_linalg
    before = linalg.get_compute_type(np.float32)
    x, w, b = _arrays(((1, 64, 24, 24), 64, 3, 1, 1, 1, 1, True), np.float64)
    want = conv2d(lucid.tensor(x), lucid.tensor(w), lucid.tensor(b), padding=1).numpy()

    def on_gpu(dtype: Any) -> np.ndarray:
        args = (lucid.tensor(a.astype(dtype), device="gpu") for a in (x, w, b))
        return _np(conv2d(*args, padding=1)).astype(np.float64)

    lucid.gpu.set_conv_tf32(True)  # the tests' fixture turned it off
    tf32 = np.abs(on_gpu(np.float32) - want).max() / np.abs(want).max()
    assert 1e-5 < tf32 < 5e-3
    assert linalg.get_compute_type(np.float32) == before
    np.testing.assert_allclose(on_gpu(np.float64), want, rtol=0, atol=1e-10 * np.abs(want).max())
    lucid.gpu.set_conv_tf32(False)
    assert np.abs(on_gpu(np.float32) - want).max() / np.abs(want).max() < 2e-6


def test_tf32_switch_is_restored_only_when_the_last_overlapping_conv_leaves(monkeypatch) -> None:
    """CuPy's compute type is one setting per process: with two convolutions overlapping (as
    on two threads), the first to leave must not switch TF32 off under the other, and the
    last must restore what was there before. A stand-in CuPy records the setting."""
    from types import SimpleNamespace

    import lucid.backend as backend

    class FakeArray:
        dtype = np.dtype(np.float32)
        device = SimpleNamespace(id=0)

    state = {"float32": "default"}
    linalg = SimpleNamespace(COMPUTE_TYPE_TF32="tf32",
                             get_compute_type=lambda dtype: state["float32"],
                             set_compute_type=lambda dtype, kind: state.update(float32=kind))
    fake = SimpleNamespace(ndarray=FakeArray, _core=SimpleNamespace(_routines_linalg=linalg),
                           cuda=SimpleNamespace(Device=lambda index: SimpleNamespace(
                               compute_capability="90")))
    monkeypatch.setattr(backend, "_cupy", lambda: fake)
    backend._has_tf32.cache_clear()
    try:
        lucid.gpu.set_conv_tf32(True)
        first, second = backend.conv_math(FakeArray()), backend.conv_math(FakeArray())
        first.__enter__()
        assert state["float32"] == "tf32"
        second.__enter__()
        first.__exit__(None, None, None)
        assert state["float32"] == "tf32"  # the second conv is still running
        second.__exit__(None, None, None)
        assert state["float32"] == "default"
        lucid.gpu.set_conv_tf32(False)
        with backend.conv_math(FakeArray()):
            assert state["float32"] == "default"
    finally:
        backend._has_tf32.cache_clear()
