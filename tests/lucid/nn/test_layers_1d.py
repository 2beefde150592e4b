"""The 1-D layers (conv, transposed conv, pooling, BatchNorm1d, channel dropout, padding):
against PyTorch, finite differences, reprs and state_dicts."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.testing import gradcheck, random_tensor

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

# (input shape, C_out, kernel, stride, padding, dilation, groups, bias)
CONV_CASES = [
    ((2, 4, 9), 6, 3, 1, 1, 1, 1, True),
    ((2, 4, 11), 3, 3, 2, 1, 1, 1, False),  # odd length, stride 2
    ((2, 4, 10), 6, 3, 1, 2, 2, 2, True),  # dilation, groups
    ((2, 4, 8), 4, 4, 1, "same", 1, 4, True),  # depthwise, even kernel 'same'
    ((2, 4, 9), 5, 2, 1, "valid", 3, 1, True),
    ((4, 7), 3, 3, 2, 1, 1, 1, True),  # unbatched
]
# (input shape, C_out, kernel, stride, padding, output_padding, groups, dilation)
TCONV_CASES = [
    ((2, 4, 5), 6, 3, 1, 0, 0, 1, 1),
    ((2, 4, 5), 6, 3, 2, 1, 1, 2, 1),
    ((2, 4, 7), 3, 4, 3, 2, 2, 1, 2),
    ((4, 6), 2, 3, 2, 1, 0, 1, 1),  # unbatched
]
MAX_CASES = [
    ((2, 3, 8), dict(kernel_size=2)),
    ((2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 3, 11), dict(kernel_size=2, stride=3, dilation=2, ceil_mode=True)),
    ((3, 9), dict(kernel_size=3, stride=1, padding=1, return_indices=True)),  # unbatched
]
AVG_CASES = [
    ((2, 3, 8), dict(kernel_size=2)),
    ((2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                      count_include_pad=False)),
    ((3, 7), dict(kernel_size=2, ceil_mode=True)),  # unbatched
]
ADAPTIVE_CASES = [1, 3, 4, 7, 10]


def _np(t: lucid.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _tol(dtype: Any) -> float:
    return 2e-5 if dtype == np.float32 else 1e-11


def _compare(lucid_fn: Any, torch_fn: Any, arrays: list[np.ndarray], grads: list[bool],
             dtype: Any, device: str) -> None:
    """Values and the gradients of every array with ``grads`` set, lucid against torch."""
    torch = pytest.importorskip("torch")
    ours = [lucid.tensor(a, device=device, requires_grad=g) for a, g in zip(arrays, grads)]
    theirs = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    y, yt = lucid_fn(*ours), torch_fn(*theirs)
    if isinstance(yt, tuple):  # return_indices
        np.testing.assert_array_equal(_np(y[1]), yt[1].numpy())
        y, yt = y[0], yt[0]
    assert y.shape == tuple(yt.shape) and y.dtype == np.dtype(dtype)
    scale = max(1.0, float(yt.detach().abs().max()))
    tol = _tol(dtype) * scale
    np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=0, atol=tol)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(lucid.tensor(gy, device=device))
    yt.backward(torch.tensor(gy))
    for a, b, g in zip(ours, theirs, grads):
        if g:
            scale = max(1.0, float(b.grad.abs().max()))
            np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), rtol=0,
                                       atol=_tol(dtype) * scale)


# ----------------------------------------------------------------------------- conv1d
def _conv_arrays(case: tuple[Any, ...], dtype: Any) -> list[np.ndarray]:
    shape, co, k, _, _, _, g, _ = case
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape).astype(dtype),
            rng.standard_normal((co, shape[-2] // g, k)).astype(dtype),
            rng.standard_normal(co).astype(dtype)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv1d_matches_torch(case: tuple[Any, ...], dtype: Any, device: str) -> None:
    torch = pytest.importorskip("torch")
    _, _, _, s, p, d, g, with_bias = case
    arrays = _conv_arrays(case, dtype)
    _compare(lambda x, w, b: F.conv1d(x, w, b if with_bias else None, s, p, d, g),
             lambda x, w, b: torch.nn.functional.conv1d(x, w, b if with_bias else None, s, p,
                                                        d, g),
             arrays, [True, True, with_bias], dtype, device)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv1d_gradcheck(case: tuple[Any, ...], device: str) -> None:
    _, _, _, s, p, d, g, with_bias = case
    x, w, b = (lucid.tensor(a, device=device, requires_grad=True)
               for a in _conv_arrays(case, np.float64))
    assert gradcheck(lambda *t: F.conv1d(t[0], t[1], t[2] if with_bias else None, s, p, d, g),
                     [x, w, b] if with_bias else [x, w, b.detach()])


def _tconv_arrays(case: tuple[Any, ...], dtype: Any) -> list[np.ndarray]:
    shape, co, k, _, _, _, g, _ = case
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape).astype(dtype),
            rng.standard_normal((shape[-2], co // g, k)).astype(dtype),
            rng.standard_normal(co).astype(dtype)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", TCONV_CASES, ids=str)
def test_conv_transpose1d_matches_torch(case: tuple[Any, ...], dtype: Any, device: str) -> None:
    torch = pytest.importorskip("torch")
    _, _, _, s, p, op, g, d = case
    _compare(lambda x, w, b: F.conv_transpose1d(x, w, b, s, p, op, g, d),
             lambda x, w, b: torch.nn.functional.conv_transpose1d(x, w, b, s, p, op, g, d),
             _tconv_arrays(case, dtype), [True, True, True], dtype, device)


@pytest.mark.parametrize("case", TCONV_CASES, ids=str)
def test_conv_transpose1d_gradcheck(case: tuple[Any, ...], device: str) -> None:
    _, _, _, s, p, op, g, d = case
    inputs = [lucid.tensor(a, device=device, requires_grad=True)
              for a in _tconv_arrays(case, np.float64)]
    assert gradcheck(lambda x, w, b: F.conv_transpose1d(x, w, b, s, p, op, g, d), inputs)


@pytest.mark.parametrize("args,kwargs", [
    ((4, 6, 3), {}),
    ((4, 6, 3), {"stride": 2, "padding": 1, "groups": 2, "bias": False,
                 "padding_mode": "reflect"}),
    ((4, 4, 4), {"padding": "same", "dilation": 2, "padding_mode": "replicate"}),
    ((4, 8, (5,)), {"padding": "valid", "padding_mode": "circular", "groups": 4}),
    ((2, 3, 3), {"padding": 2, "padding_mode": "zeros", "dilation": 2}),
])
def test_conv1d_layer_matches_torch(args: tuple[Any, ...], kwargs: dict[str, Any],
                                    device: str) -> None:
    torch = pytest.importorskip("torch")
    layer, ref = nn.Conv1d(*args, **kwargs), torch.nn.Conv1d(*args, **kwargs)
    assert repr(layer) == repr(ref)
    state = layer.state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == \
        {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    # torch's weights into lucid's layer: the same outputs and gradients
    layer.load_state_dict({k: lucid.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    layer.to(device)
    for shape in ((2, args[0], 9), (args[0], 8)):
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        xl = lucid.tensor(x, device=device, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        y, yt = layer(xl), ref(xt)
        np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=0, atol=1e-5)
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(_np(xl.grad), xt.grad.numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(_np(layer.weight.grad), ref.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-4)
    # and back: lucid's state_dict loads into torch's layer
    ref.load_state_dict({k: torch.tensor(_np(v)) for k, v in layer.state_dict().items()})


@pytest.mark.parametrize("args,kwargs", [
    ((4, 6, 3), {}),
    ((4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ((4, 2, 4), {"stride": 3, "dilation": 2, "output_padding": 2, "bias": False}),
])
def test_conv_transpose1d_layer_matches_torch(args: tuple[Any, ...], kwargs: dict[str, Any],
                                              device: str) -> None:
    torch = pytest.importorskip("torch")
    layer, ref = nn.ConvTranspose1d(*args, **kwargs), torch.nn.ConvTranspose1d(*args, **kwargs)
    assert repr(layer) == repr(ref)
    assert layer.weight.shape == tuple(ref.weight.shape)
    layer.load_state_dict({k: lucid.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    layer.to(device)
    for shape in ((2, args[0], 5), (args[0], 6)):
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(_np(layer(lucid.tensor(x, device=device))),
                                   ref(torch.tensor(x)).detach().numpy(), rtol=0, atol=1e-5)


def test_conv_transpose1d_output_size_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    layer = nn.ConvTranspose1d(3, 2, 3, stride=3, padding=1)
    ref = torch.nn.ConvTranspose1d(3, 2, 3, stride=3, padding=1)
    layer.load_state_dict({k: lucid.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((1, 3, 4)).astype(np.float32)
    for size in ([10], [11], [12], [1, 2, 12]):
        y = layer(lucid.tensor(x), output_size=size)
        yt = ref(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="valid sizes"):
        layer(lucid.tensor(x), output_size=[13])


def test_conv1d_layer_init_bounds() -> None:
    """fan_in = in_channels / groups * K, for the weight and the bias."""
    layer = nn.Conv1d(64, 32, 5, groups=4)
    bound = 1 / np.sqrt(64 // 4 * 5)
    w, b = _np(layer.weight), _np(layer.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.9 * bound


def test_conv1d_errors() -> None:
    with pytest.raises(RuntimeError, match="2D .* or 3D"):
        F.conv1d(lucid.ones(1, 2, 3, 4), lucid.ones(1, 2, 3))
    with pytest.raises(RuntimeError, match="3D weight"):
        F.conv1d(lucid.ones(1, 2, 5), lucid.ones(1, 2, 1, 3))
    with pytest.raises(ValueError, match="same"):
        F.conv1d(lucid.ones(1, 2, 5), lucid.ones(1, 2, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv1d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError):
        nn.Conv1d(2, 2, (3, 3))
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose1d(2, 2, 3, padding_mode="reflect")


# ----------------------------------------------------------------------------- pooling
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("shape", "kwargs"), MAX_CASES, ids=str)
def test_max_pool1d_matches_torch(shape: tuple[int, ...], kwargs: dict, dtype: Any,
                                  device: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    _compare(lambda a: F.max_pool1d(a, **kwargs),
             lambda a: torch.nn.functional.max_pool1d(a, **kwargs), [x], [True], dtype, device)
    _compare(lambda a: nn.MaxPool1d(**kwargs)(a), lambda a: torch.nn.MaxPool1d(**kwargs)(a),
             [x], [True], dtype, device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("shape", "kwargs"), AVG_CASES, ids=str)
def test_avg_pool1d_matches_torch(shape: tuple[int, ...], kwargs: dict, dtype: Any,
                                  device: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    _compare(lambda a: F.avg_pool1d(a, **kwargs),
             lambda a: torch.nn.functional.avg_pool1d(a, **kwargs), [x], [True], dtype, device)
    _compare(lambda a: nn.AvgPool1d(**kwargs)(a), lambda a: torch.nn.AvgPool1d(**kwargs)(a),
             [x], [True], dtype, device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("size", ADAPTIVE_CASES)
@pytest.mark.parametrize("shape", [(2, 3, 7), (3, 9)], ids=str)
def test_adaptive_avg_pool1d_matches_torch(shape: tuple[int, ...], size: int, dtype: Any,
                                           device: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    _compare(lambda a: nn.AdaptiveAvgPool1d(size)(a),
             lambda a: torch.nn.AdaptiveAvgPool1d(size)(a), [x], [True], dtype, device)


@pytest.mark.parametrize(("shape", "kwargs"), MAX_CASES[:4], ids=str)
def test_pool1d_gradcheck(shape: tuple[int, ...], kwargs: dict, device: str) -> None:
    x = random_tensor(*shape, dtype=lucid.float64, device=device, requires_grad=True)
    assert gradcheck(lambda a: F.max_pool1d(a, **kwargs), [x], eps=1e-7)
    avg = {k: v for k, v in kwargs.items() if k != "dilation"}
    assert gradcheck(lambda a: F.avg_pool1d(a, **avg), [x])
    assert gradcheck(lambda a: F.adaptive_avg_pool1d(a, 3), [x])


@pytest.mark.parametrize("layer_args", [
    ("MaxPool1d", (3,), {}), ("MaxPool1d", (3, 2, 1, 2), {"ceil_mode": True}),
    ("AvgPool1d", (3,), {}), ("AvgPool1d", (4, 2, 1), {"count_include_pad": False}),
    ("AdaptiveAvgPool1d", (5,), {}),
])
def test_pool1d_reprs_match_torch(layer_args: tuple[str, tuple, dict]) -> None:
    torch = pytest.importorskip("torch")
    name, args, kwargs = layer_args
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(getattr(torch.nn, name)(*args,
                                                                                     **kwargs))


def test_pool1d_errors() -> None:
    with pytest.raises(RuntimeError, match="2D .* or 3D"):
        F.max_pool1d(lucid.ones(1, 1, 2, 4), 2)
    with pytest.raises(RuntimeError, match="2D .* or 3D"):
        F.adaptive_avg_pool1d(lucid.ones(4), 2)
    with pytest.raises(RuntimeError, match="half of kernel"):
        F.avg_pool1d(lucid.ones(1, 1, 4), 2, padding=2)


# ----------------------------------------------------------------------------- BatchNorm1d
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"track_running_stats": False}],
                         ids=str)
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 7)], ids=str)
def test_batch_norm1d_matches_torch(shape: tuple[int, ...], kwargs: dict, momentum: Any,
                                    dtype: Any, device: str) -> None:
    torch = pytest.importorskip("torch")
    layer = nn.BatchNorm1d(3, momentum=momentum, dtype=dtype, device=device, **kwargs)
    ref = torch.nn.BatchNorm1d(3, momentum=momentum, dtype=torch.float64 if dtype == np.float64
                               else torch.float32, **kwargs)
    # PyTorch 2.13 prints its keyword-only ``bias`` switch, which lucid leaves out (as for
    # BatchNorm2d, see test_module.test_repr_matches_torch)
    assert repr(layer) == re.sub(r"(affine=\w+), bias=\w+", r"\1", repr(ref))
    assert list(layer.state_dict()) == list(ref.state_dict())
    rng = np.random.default_rng(0)
    if layer.weight is not None:  # non-trivial affine parameters, the same in both
        w = rng.standard_normal(3).astype(dtype)
        layer.weight.data[...] = lucid.tensor(w, device=device).data
        ref.weight.data[:] = torch.tensor(w)
    if layer.bias is not None:
        b = rng.standard_normal(3).astype(dtype)
        layer.bias.data[...] = lucid.tensor(b, device=device).data
        ref.bias.data[:] = torch.tensor(b)
    for step in range(3):  # three training batches, then evaluation
        x = (rng.standard_normal(shape) * 2 + step).astype(dtype)
        _compare(layer, ref, [x], [True], dtype, device)
    layer.eval()
    ref.eval()
    x = rng.standard_normal(shape).astype(dtype)
    _compare(layer, ref, [x], [True], dtype, device)
    for key, value in ref.state_dict().items():
        np.testing.assert_allclose(_np(layer.state_dict()[key]), value.numpy(),
                                   rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_batch_norm1d_gradcheck() -> None:
    layer = nn.BatchNorm1d(3, dtype=lucid.float64)
    x = random_tensor(4, 3, 5, dtype=lucid.float64, requires_grad=True)
    assert gradcheck(lambda a, w, b: F.batch_norm(a, None, None, w, b, True),
                     [x, layer.weight, layer.bias])
    assert gradcheck(lambda a: layer(a), [random_tensor(6, 3, dtype=lucid.float64,
                                                        requires_grad=True)])


def test_batch_norm1d_state_dict_round_trip_and_errors() -> None:
    torch = pytest.importorskip("torch")
    ref = torch.nn.BatchNorm1d(4)
    ref(torch.randn(8, 4, 3))
    layer = nn.BatchNorm1d(4)
    layer.load_state_dict({k: lucid.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    assert int(layer.num_batches_tracked.item()) == 1
    np.testing.assert_allclose(_np(layer.running_var), ref.running_var.numpy())
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        layer(lucid.ones(2, 4, 3, 3))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(4)(lucid.ones(2, 4, 3))
    with pytest.raises(ValueError, match="more than 1 value"):
        layer(lucid.ones(1, 4))


def test_batch_norm1d_empty_batch_in_training_as_torch() -> None:
    # PyTorch: only exactly one value per channel raises; a 0-size batch gives an empty output,
    # the running statistics unchanged and num_batches_tracked counted
    layer = nn.BatchNorm1d(3)
    for shape in [(0, 3), (0, 3, 4)]:
        y = layer(lucid.randn(*shape))
        assert y.shape == shape and y.dtype == np.float32
    np.testing.assert_array_equal(_np(layer.running_mean), np.zeros(3, np.float32))
    np.testing.assert_array_equal(_np(layer.running_var), np.ones(3, np.float32))
    assert int(layer.num_batches_tracked.item()) == 2
    # the affine parameters get zero gradients (they were left None), as PyTorch's
    layer(lucid.randn(0, 3, requires_grad=True)).sum().backward()
    for parameter in (layer.weight, layer.bias):
        np.testing.assert_array_equal(_np(parameter.grad), np.zeros(3, np.float32))


# ----------------------------------------------------------------------------- dropout
@pytest.mark.parametrize(("cls", "fn", "shape"), [
    (nn.Dropout1d, F.dropout1d, (40, 50, 3)),
    (nn.Dropout1d, F.dropout1d, (2000, 3)),  # unbatched: channels are the rows
    (nn.Dropout2d, F.dropout2d, (40, 50, 2, 3)),
], ids=["1d", "1d-unbatched", "2d"])
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_channel_dropout(cls: Any, fn: Any, shape: tuple[int, ...], p: float,
                         device: str) -> None:
    values = 1 + np.abs(np.random.default_rng(0).standard_normal(shape))  # no zero in x
    x = lucid.tensor(values, device=device, requires_grad=True)
    layer = cls(p)
    y = layer(x)
    assert y.shape == x.shape
    channel_dims = 2 if len(shape) > 2 else 1
    flat = _np(y).reshape(int(np.prod(shape[:channel_dims])), -1)
    zeroed = (flat == 0).all(axis=1)
    kept = (flat != 0).all(axis=1)
    assert (zeroed | kept).all()  # every element of a channel goes together
    xs = _np(x).reshape(flat.shape)
    np.testing.assert_allclose(flat[kept], xs[kept] / (1 - p))
    n = flat.shape[0]
    assert abs(zeroed.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    y.sum().backward()  # the gradient is the mask
    g = _np(x.grad).reshape(flat.shape)
    np.testing.assert_allclose(g[kept], 1 / (1 - p))
    assert (g[zeroed] == 0).all()
    # the same seed, the same mask; another seed, another one
    lucid.manual_seed(7)
    a = _np(fn(x, p))
    lucid.manual_seed(7)
    np.testing.assert_array_equal(_np(fn(x, p)), a)
    lucid.manual_seed(8)
    assert not np.array_equal(_np(fn(x, p)), a)
    # evaluation mode and p == 0: the identity; p == 1: zeros
    assert layer.eval()(x) is x
    assert fn(x, 0.0) is x and fn(x, 0.5, training=False) is x
    assert (_np(fn(x, 1.0)) == 0).all()


def test_dropout_reprs_and_warnings_match_torch() -> None:
    torch = pytest.importorskip("torch")
    assert repr(nn.Dropout1d()) == repr(torch.nn.Dropout1d())
    assert repr(nn.Dropout2d(0.3)) == repr(torch.nn.Dropout2d(0.3))
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(lucid.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout1d(1.5)
    for shape, count in (((2, 3, 4), 1), ((2, 3), 1), ((2, 3, 4, 5), 0), ((2, 3, 1, 4, 5), 1)):
        for f in (lambda s=shape: F.dropout2d(lucid.ones(*s)),
                  lambda s=shape: torch.nn.functional.dropout2d(torch.ones(*s))):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                f()
            assert len([w for w in caught if "dropout2d" in str(w.message)]) == count
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        y = F.dropout2d(lucid.ones(50, 40, 6), 0.5)  # 3-D: (N, C, L), as PyTorch reads it
    flat = _np(y).reshape(2000, 6)
    assert ((flat == 0).all(axis=1) | (flat != 0).all(axis=1)).all()
    assert 0.4 < (flat == 0).all(axis=1).mean() < 0.6


# ----------------------------------------------------------------------------- padding
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize(("name", "args"), [
    ("ReflectionPad1d", (2,)), ("ReflectionPad1d", ((3, 1),)),
    ("ReplicationPad1d", (2,)), ("ReplicationPad1d", ((0, 4),)),
    ("ConstantPad1d", (2, 3.5)), ("ConstantPad1d", ((1, -2), -1.0)),
    ("ZeroPad1d", (2,)), ("ZeroPad1d", ((3, 0),)),
    ("CircularPad1d", (2,)), ("CircularPad1d", ((3, 1),)),
])
@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 4)], ids=str)
def test_padding_1d_matches_torch(name: str, args: tuple, shape: tuple[int, ...], dtype: Any,
                                  device: str) -> None:
    torch = pytest.importorskip("torch")
    layer, ref = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(layer) == repr(ref)
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    _compare(layer, ref, [x], [True], dtype, device)
    xg = lucid.tensor(x.astype(np.float64), device=device, requires_grad=True)
    assert gradcheck(layer, [xg])


@pytest.mark.parametrize("padding", [1, (1, 0, 2, 3)], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 4)], ids=str)
def test_circular_pad_2d_matches_torch(padding: Any, shape: tuple[int, ...],
                                       device: str) -> None:
    torch = pytest.importorskip("torch")
    layer, ref = nn.CircularPad2d(padding), torch.nn.CircularPad2d(padding)
    assert repr(layer) == repr(ref)
    x = np.random.default_rng(1).standard_normal(shape)
    _compare(layer, ref, [x], [True], np.float64, device)


def test_padding_1d_errors() -> None:
    with pytest.raises(ValueError, match="2 padding widths"):
        nn.ReflectionPad1d((1, 2, 3, 4))


def test_exports() -> None:
    for name in ("Conv1d", "ConvTranspose1d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
                 "BatchNorm1d", "Dropout1d", "Dropout2d", "ConstantPad1d", "ReflectionPad1d",
                 "ReplicationPad1d", "ZeroPad1d", "CircularPad1d", "CircularPad2d"):
        assert name in nn.__all__ and getattr(nn, name) is getattr(nn.modules, name)
    for name in ("conv1d", "conv_transpose1d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d",
                 "dropout1d", "dropout2d"):
        assert name in F.__all__ and callable(getattr(F, name))
