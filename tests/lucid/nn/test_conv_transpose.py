"""conv_transpose2d and ConvTranspose2d: values and gradients against PyTorch, finite
differences, the adjoint of conv2d, the layer's init and output_size, errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.testing import gradcheck, random_tensor

# (input shape, C_out, kernel, stride, padding, output_padding, groups, dilation, bias)
CASES = [
    ((2, 4, 5, 6), 3, 3, 1, 0, 0, 1, 1, True),  # plain, C_out < C_in
    ((2, 3, 5, 6), 6, 3, 1, 1, 0, 1, 1, False),  # padding, C_out > C_in
    ((2, 4, 5, 6), 6, 3, 2, 1, 1, 1, 1, True),  # stride 2 + output_padding (2x upsampling)
    ((2, 4, 4, 5), 4, 4, 2, 1, 0, 1, 1, True),  # the DCGAN/U-Net 4x4 stride-2 up-conv
    ((2, 3, 4, 5), 5, 3, 3, 1, 2, 1, 1, False),  # stride 3, output_padding 2
    ((2, 4, 5, 4), 4, (2, 3), (2, 1), (0, 1), (1, 0), 1, 1, True),  # non-square everything
    ((2, 4, 5, 6), 3, 3, 1, 2, 1, 1, 2, True),  # dilation 2: output_padding < dilation
    ((1, 4, 5, 6), 6, (3, 2), (1, 3), (2, 0), (1, 2), 1, (2, 1), True),  # op < dilation, < stride
    ((2, 4, 5, 6), 6, 3, 2, 1, 1, 2, 1, True),  # groups 2
    ((2, 6, 5, 6), 3, 3, 1, 1, 0, 3, 2, False),  # groups 3, dilation
    ((2, 4, 5, 6), 4, 3, 2, 1, 1, 4, 1, True),  # depthwise-like (groups == C_in == C_out)
    ((2, 4, 5, 6), 8, 3, 1, 1, 0, 4, 1, True),  # depthwise-like, channel multiplier 2
    ((2, 4, 5, 6), 6, 1, 1, 0, 0, 1, 1, True),  # 1x1: col2im is a reshape
    ((2, 4, 5, 6), 6, 1, 2, 0, 1, 1, 1, False),  # 1x1 stride 2
    ((2, 4, 3, 3), 2, 3, 1, 2, 0, 1, 1, True),  # padding crops a 5x5 result to 1x1
    ((4, 5, 6), 3, 3, 2, 1, 1, 1, 1, True),  # unbatched
    ((4, 5, 6), 4, 3, 1, 1, 0, 2, 1, False),  # unbatched, groups
]


def _ids(case: tuple[Any, ...]) -> str:
    shape, co, k, s, p, op, g, d, b = case
    return (f"{'x'.join(map(str, shape))}-o{co}-k{k}-s{s}-p{p}-op{op}-g{g}-d{d}-"
            f"{'b' if b else 'nob'}").replace(" ", "")


def _kernel(k: Any) -> tuple[int, int]:
    return (k, k) if isinstance(k, int) else k


def _arrays(case: tuple[Any, ...], dtype: Any, seed: int = 0) -> tuple[np.ndarray, ...]:
    shape, co, k, _, _, _, g, _, _ = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((shape[-3], co // g, *_kernel(k))).astype(dtype)
    b = rng.standard_normal(co).astype(dtype)
    return x, w, b


def _np(t: lucid.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _close(actual: np.ndarray, expected: np.ndarray, dtype: Any) -> None:
    scale = max(1.0, float(np.abs(expected).max()))
    tol = 2e-5 * scale if dtype == np.float32 else 1e-10 * scale
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_matches_torch(case: tuple[Any, ...], dtype: Any, device: str) -> None:
    torch = pytest.importorskip("torch")
    _, _, _, s, p, op, g, d, with_bias = case
    x, w, b = _arrays(case, dtype)
    xl, wl = (lucid.tensor(a, device=device, requires_grad=True) for a in (x, w))
    bl = lucid.tensor(b, device=device, requires_grad=True) if with_bias else None
    xt, wt = (torch.tensor(a, requires_grad=True) for a in (x, w))
    bt = torch.tensor(b, requires_grad=True) if with_bias else None

    y = F.conv_transpose2d(xl, wl, bl, stride=s, padding=p, output_padding=op, groups=g,
                           dilation=d)
    yt = torch.nn.functional.conv_transpose2d(xt, wt, bt, stride=s, padding=p,
                                              output_padding=op, groups=g, dilation=d)
    assert y.shape == tuple(yt.shape)
    assert y.dtype == np.dtype(dtype)
    _close(_np(y), yt.detach().numpy(), dtype)

    gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(lucid.tensor(gy, device=device))
    yt.backward(torch.tensor(gy))
    for got, want in ((xl, xt), (wl, wt)) + (((bl, bt),) if with_bias else ()):
        assert got.grad.dtype == np.dtype(dtype)
        assert got.grad.shape == tuple(want.grad.shape)
        _close(_np(got.grad), want.grad.numpy(), dtype)


@pytest.mark.parametrize("case", [CASES[i] for i in (0, 2, 4, 5, 7, 8, 10, 12, 15)], ids=_ids)
def test_gradcheck(case: tuple[Any, ...], device: str) -> None:
    shape, co, k, s, p, op, g, d, with_bias = case
    small = (1,) + shape[1:] if len(shape) == 4 else shape
    x = random_tensor(*small, device=device)
    w = random_tensor(shape[-3], co // g, *_kernel(k), device=device)
    inputs = [x, w] + ([random_tensor(co, device=device)] if with_bias else [])

    def fn(*t: lucid.Tensor) -> lucid.Tensor:
        return F.conv_transpose2d(t[0], t[1], t[2] if with_bias else None, s, p, op, g, d)

    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("case", [CASES[i] for i in (0, 3, 4, 5, 6, 7, 9, 11, 13, 15)],
                         ids=_ids)
def test_adjoint_of_conv2d(case: tuple[Any, ...], device: str) -> None:
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)>: the defining property, with the
    transposed conv's input in conv2d's output shape and its output in conv2d's input shape
    (output_padding makes the sizes match where a strided conv2d floors). An output_padding
    of at least the stride (allowed when smaller than the dilation) adds rows that conv2d
    reads with windows past the transposed conv's input: those outputs are left out."""
    shape, co, k, s, p, op, g, d, _ = case
    y, w, _ = _arrays(case, np.float64, seed=2)  # y: the transposed conv's input
    xt = F.conv_transpose2d(lucid.tensor(y, device=device), lucid.tensor(w, device=device),
                            stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    x = np.random.default_rng(3).standard_normal(xt.shape)  # conv2d's input, same shape
    cx = _np(F.conv2d(lucid.tensor(x, device=device), lucid.tensor(w, device=device), stride=s,
                      padding=p, dilation=d, groups=g))
    h, w_ = y.shape[-2:]
    ops = (op, op) if isinstance(op, int) else op
    strides = (s, s) if isinstance(s, int) else s
    if all(o < st for o, st in zip(ops, strides, strict=True)):
        assert cx.shape == y.shape
    cx = cx[..., :h, :w_]
    assert cx.shape == y.shape
    lhs = float(np.sum(cx * y))
    rhs = float(np.sum(x * _np(xt)))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-10)


def test_unbatched_matches_batched(device: str) -> None:
    x = random_tensor(4, 5, 6, device=device)
    w = random_tensor(4, 3, 3, 3, device=device)
    y = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    assert y.shape == (3, 10, 12)
    batched = F.conv_transpose2d(x.detach().unsqueeze(0), w.detach(), stride=2, padding=1,
                                 output_padding=1)
    np.testing.assert_allclose(_np(y), _np(batched)[0], atol=1e-12)
    y.sum().backward()
    assert x.grad.shape == (4, 5, 6)


def test_frozen_weight_keeps_no_input(device: str) -> None:
    """A weight without grad (decided at forward time): the input is not kept, and the input
    gradient is still exact; under no_grad nothing is recorded."""
    x = random_tensor(2, 4, 5, 6, device=device)
    w = random_tensor(4, 3, 3, 3, device=device, requires_grad=False)
    y = F.conv_transpose2d(x, w, stride=2)
    assert y.grad_fn.x4 is None
    y.sum().backward()
    assert x.grad is not None and w.grad is None
    assert gradcheck(lambda a: F.conv_transpose2d(a, w, stride=2, padding=1), [x])
    with lucid.no_grad():
        assert not F.conv_transpose2d(x, random_tensor(4, 3, 3, 3, device=device)).requires_grad


def test_empty_batch_backward(device: str) -> None:
    x = random_tensor(0, 2, 3, 3, device=device)
    w = random_tensor(2, 2, 3, 3, device=device)
    F.conv_transpose2d(x, w, stride=2).sum().backward()
    assert x.grad.shape == (0, 2, 3, 3)
    np.testing.assert_array_equal(_np(w.grad), np.zeros((2, 2, 3, 3)))


def test_input_without_grad(device: str) -> None:
    x = random_tensor(2, 4, 5, 6, device=device, requires_grad=False)
    w = random_tensor(4, 3, 3, 3, device=device)
    F.conv_transpose2d(x, w, padding=1).sum().backward()
    assert w.grad is not None and x.grad is None


@pytest.mark.parametrize("batch, c_out, padding", [(2, 4, 0), (1, 1, (1, 0))])
def test_outputs_never_share_scratch_memory(batch: int, c_out: int, padding: Any,
                                            device: str) -> None:
    # the output's columns live in a reused buffer: results must survive the next conv (one
    # image of one channel cropped only in height is a contiguous slice of that buffer)
    x = random_tensor(batch, 4, 5, 5, dtype=np.float32, device=device, requires_grad=False)
    w = random_tensor(4, c_out, 1, 1, dtype=np.float32, device=device, requires_grad=False)
    with lucid.no_grad():
        first = F.conv_transpose2d(x, w, padding=padding)  # 1x1: the column buffer reshaped
        kept = _np(first).copy()
        F.conv_transpose2d(x, random_tensor(4, 4, 3, 3, dtype=np.float32, device=device),
                           stride=2)
        F.conv2d(x, random_tensor(8, 4, 3, 3, dtype=np.float32, device=device), stride=2)
    np.testing.assert_array_equal(_np(first), kept)


# ----------------------------------------------------------------------------- the layer
def test_layer_matches_torch(device: str) -> None:
    torch = pytest.importorskip("torch")
    layer = nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=(1, 0), output_padding=1,
                               groups=2, dilation=(1, 2))
    ref = torch.nn.ConvTranspose2d(4, 6, (3, 2), stride=2, padding=(1, 0), output_padding=1,
                                   groups=2, dilation=(1, 2))
    assert layer.weight.shape == tuple(ref.weight.shape) == (4, 3, 3, 2)
    assert layer.bias.shape == tuple(ref.bias.shape) == (6,)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in layer.state_dict().items()})
    layer.to(device)
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 6)).astype(np.float32)
    y = layer(lucid.tensor(x, device=device))
    _close(_np(y), ref(torch.tensor(x)).detach().numpy(), np.float32)
    assert repr(layer) == repr(ref)


@pytest.mark.parametrize("args,kwargs", [
    ((16, 33, 3), {"stride": 2}),
    ((16, 33, (3, 5)), {"stride": (2, 1), "padding": (4, 2)}),
    ((8, 4, 4), {"stride": 2, "padding": 1, "output_padding": 1, "dilation": 2}),
    ((6, 9, 3), {"groups": 3, "bias": False}),
    ((4, 4, 1), {}),
])
def test_layer_repr_and_shapes_match_torch(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    layer, ref = nn.ConvTranspose2d(*args, **kwargs), torch.nn.ConvTranspose2d(*args, **kwargs)
    assert repr(layer) == repr(ref)
    assert layer.weight.shape == tuple(ref.weight.shape)
    assert (layer.bias is None) == (ref.bias is None)


@pytest.mark.parametrize("in_channels,out_channels,kernel,groups", [
    (64, 8, 3, 1), (8, 64, 3, 1), (16, 32, (3, 5), 4), (32, 32, 4, 32)])
def test_layer_init_bounds_match_torch(in_channels: int, out_channels: int, kernel: Any,
                                       groups: int) -> None:
    """PyTorch's ConvTranspose2d init: kaiming_uniform(a=sqrt(5)) with the fan-in taken
    from weight.shape[1] * kH * kW = out_channels / groups * kH * kW, so weight and bias
    both lie in +-sqrt(groups / (out_channels * kH * kW))."""
    torch = pytest.importorskip("torch")
    layer = nn.ConvTranspose2d(in_channels, out_channels, kernel, groups=groups)
    ref = torch.nn.ConvTranspose2d(in_channels, out_channels, kernel, groups=groups)
    kh, kw = _kernel(kernel)
    fan_in = torch.nn.init._calculate_fan_in_and_fan_out(ref.weight)[0]
    assert fan_in == out_channels // groups * kh * kw
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform's gain*sqrt(3/fan_in) with a=sqrt(5)
    w, b = _np(layer.weight), _np(layer.bias)
    for values, reference in ((w, ref.weight), (b, ref.bias)):
        assert np.abs(values).max() <= bound
        assert float(reference.detach().abs().max()) <= bound
    # and the weights fill the range, uniformly: the spread of U(-bound, bound)
    assert np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert abs(float(w.mean())) < 0.1 * bound


def test_layer_dtype_and_device(device: str) -> None:
    layer = nn.ConvTranspose2d(3, 2, 3, dtype=lucid.float64, device=device)
    assert layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64
    y = layer(random_tensor(1, 3, 4, 4, device=device))
    assert y.shape == (1, 2, 6, 6) and y.dtype == np.float64
    y.sum().backward()
    assert layer.weight.grad.shape == (3, 2, 3, 3) and layer.bias.grad.shape == (2,)


@pytest.mark.parametrize("output_size", [(9, 9), (10, 10), (9, 10), (1, 2, 10, 9)])
def test_output_size_matches_torch(output_size: tuple[int, ...], device: str) -> None:
    torch = pytest.importorskip("torch")
    layer = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    ref = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in layer.state_dict().items()})
    layer.to(device)
    x = np.random.default_rng(0).standard_normal((1, 4, 5, 5)).astype(np.float32)
    y = layer(lucid.tensor(x, device=device), output_size=output_size)
    yt = ref(torch.tensor(x), output_size=list(output_size))
    assert y.shape == tuple(yt.shape) == (1, 2) + tuple(output_size[-2:])
    _close(_np(y), yt.detach().numpy(), np.float32)


def test_output_size_inverts_a_strided_conv2d() -> None:
    down = nn.Conv2d(3, 3, 3, stride=2, padding=1)
    up = nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1)
    for size in (12, 11):
        x = lucid.randn(2, 3, size, size + 1)
        assert up(down(x), output_size=x.shape).shape == x.shape
        assert up(down(x[0]), output_size=x.shape[1:]).shape == x.shape[1:]


def test_output_size_errors() -> None:
    layer = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    x = lucid.zeros(1, 4, 5, 5)
    with pytest.raises(ValueError, match=r"requested an output size of \[12, 12\], but valid "
                                         r"sizes range from \[9, 9\] to \[10, 10\]"):
        layer(x, output_size=(12, 12))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        layer(x, output_size=(1, 10, 10))
    with pytest.raises(ValueError, match="output_size must have 2 or 3 elements"):
        layer(x[0], output_size=(1, 1, 10, 10))


# ----------------------------------------------------------------------------- errors
def test_errors() -> None:
    x = lucid.zeros(1, 4, 5, 5)
    w = lucid.zeros(4, 2, 3, 3)
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride "
                                           "or dilation, but got output_padding_height: 2"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(x, w, stride=(2, 1), output_padding=(1, 1))
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        nn.ConvTranspose2d(4, 2, 3, output_padding=1)(x)
    assert F.conv_transpose2d(x, w, output_padding=1, dilation=2).shape == (1, 2, 10, 10)
    with pytest.raises(RuntimeError, match=r"Given transposed=1, weight of size \[5, 2, 3, 3\], "
                                           r"expected input\[1, 4, 5, 5\] to have 5 channels"):
        F.conv_transpose2d(x, lucid.zeros(5, 2, 3, 3))
    with pytest.raises(RuntimeError, match="expected weight to be divisible by 3"):
        F.conv_transpose2d(x, w, groups=3)
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 2 elements"):
        F.conv_transpose2d(x, w, lucid.zeros(3))
    with pytest.raises(RuntimeError, match=r"Calculated output size per channel: \(-1 x -1\). "
                                           "Output size is too small"):
        F.conv_transpose2d(x, w, padding=4)
    with pytest.raises(RuntimeError, match="3D .* or 4D"):
        F.conv_transpose2d(lucid.zeros(5, 5), w)
    with pytest.raises(RuntimeError, match="should be the same"):
        F.conv_transpose2d(x, lucid.zeros(4, 2, 3, 3, dtype=lucid.float64))
    with pytest.raises(ValueError, match="negative padding"):
        F.conv_transpose2d(x, w, padding=-1)
    with pytest.raises(ValueError, match="negative output_padding"):
        F.conv_transpose2d(x, w, output_padding=-1)
    with pytest.raises(ValueError, match="stride must be positive"):
        F.conv_transpose2d(x, w, stride=0)
    with pytest.raises(ValueError, match="dilation must be positive"):
        F.conv_transpose2d(x, w, dilation=0)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        F.conv_transpose2d(x, w, groups=0)
    with pytest.raises(TypeError, match="padding must be an int"):
        F.conv_transpose2d(x, w, padding="same")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "bogus"])
def test_layer_refuses_padding_modes_other_than_zeros(mode: str) -> None:
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                         "ConvTranspose2d"):
        nn.ConvTranspose2d(4, 2, 3, padding_mode=mode)


def test_layer_argument_errors() -> None:
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.ConvTranspose2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.ConvTranspose2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.ConvTranspose2d(4, 4, 3, groups=0)


def test_exports() -> None:
    from lucid.nn.functional.conv_transpose import conv_transpose2d

    assert F.conv_transpose2d is conv_transpose2d
    assert "conv_transpose2d" in F.__all__ and "ConvTranspose2d" in nn.__all__
    assert nn.ConvTranspose2d is nn.modules.ConvTranspose2d
