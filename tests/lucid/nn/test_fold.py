"""unfold / fold (Unfold / Fold) and pixel_shuffle / pixel_unshuffle (PixelShuffle /
PixelUnshuffle): values and gradients against PyTorch, finite differences, fold as unfold's
adjoint, outputs that own their memory, PyTorch's errors, the layers' reprs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.backend import get_array_module
from lucid.testing import gradcheck, random_tensor

# (unfold's input shape, kernel_size, dilation, padding, stride); fold runs each case back
# from unfold's output shape to the input's spatial size
CASES = [
    ((2, 3, 5, 6), 3, 1, 0, 1),  # plain, overlapping blocks
    ((2, 3, 5, 6), (2, 3), 1, 1, 1),  # non-square kernel, padding
    ((2, 2, 7, 8), (3, 2), (2, 1), (1, 0), (2, 3)),  # non-square everything
    ((1, 1, 5, 5), 1, 1, 0, 1),  # 1x1 stride 1: im2col is a reshape of the input
    ((2, 3, 5, 6), 1, 1, 0, 2),  # 1x1 stride 2
    ((1, 1, 4, 5), 1, 1, (1, 0), 1),  # 1x1, one image of one channel padded only in height
    ((1, 4, 6, 6), 2, 1, 0, 2),  # non-overlapping blocks: fold inverts unfold
    ((2, 1, 5, 5), 5, 1, 0, 1),  # a kernel the size of the image: L = 1
    ((1, 2, 4, 4), 3, 2, 2, 1),  # dilation with padding
    ((1, 2, 3, 9), (1, 4), (1, 2), (0, 3), (1, 2)),  # one kernel row, strided columns
    ((2, 3, 6, 5), 2, 1, 0, 3),  # stride larger than the kernel: pixels no block reads
    ((0, 3, 5, 6), 3, 1, 1, 1),  # empty batch
    ((3, 5, 6), (2, 2), 1, 0, 2),  # unbatched
    ((2, 4, 5), 3, 1, 1, 1),  # unbatched, padding
]


def _ids(case: tuple[Any, ...]) -> str:
    shape, k, d, p, s = case
    return f"{'x'.join(map(str, shape))}-k{k}-d{d}-p{p}-s{s}".replace(" ", "")


def _np(t: lucid.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _close(actual: np.ndarray, expected: np.ndarray, dtype: Any) -> None:
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    tol = 1e-5 * scale if dtype == np.float32 else 1e-12 * scale
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol)


def _unfold_args(case: tuple[Any, ...]) -> dict[str, Any]:
    _, k, d, p, s = case
    return {"kernel_size": k, "dilation": d, "padding": p, "stride": s}


def _torch_unfold_shape(case: tuple[Any, ...]) -> tuple[int, ...]:
    torch = pytest.importorskip("torch")
    return tuple(torch.nn.functional.unfold(torch.zeros(case[0]), **_unfold_args(case)).shape)


def _unfold_shape(case: tuple[Any, ...]) -> tuple[int, ...]:
    shape, k, d, p, s = case
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = ((v, v) if isinstance(v, int) else v
                                              for v in (k, d, p, s))
    lh = (shape[-2] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    lw = (shape[-1] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    return (*shape[:-3], shape[-3] * kh * kw, lh * lw)


def _compare_with_torch(lucid_fn: Callable[[lucid.Tensor], lucid.Tensor],
                        torch_fn: Callable[[Any], Any], shape: tuple[int, ...], dtype: Any,
                        device: str) -> None:
    """Values, dtype and the input's gradient (for a random output gradient) against torch."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    xl = lucid.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    y, yt = lucid_fn(xl), torch_fn(xt)
    assert y.shape == tuple(yt.shape)
    assert y.dtype == np.dtype(dtype)
    _close(_np(y), yt.detach().numpy(), dtype)
    gy = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(lucid.tensor(gy, device=device))
    assert xl.grad.shape == shape and xl.grad.dtype == np.dtype(dtype)
    yt.backward(torch.tensor(gy))
    _close(_np(xl.grad), xt.grad.numpy(), dtype)


# ----------------------------------------------------------------------------- unfold / fold
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_unfold_matches_torch(case: tuple[Any, ...], dtype: Any, device: str) -> None:
    torch = pytest.importorskip("torch")
    args = _unfold_args(case)
    assert _torch_unfold_shape(case) == _unfold_shape(case)
    _compare_with_torch(lambda x: F.unfold(x, **args),
                        lambda x: torch.nn.functional.unfold(x, **args), case[0], dtype, device)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_fold_matches_torch(case: tuple[Any, ...], dtype: Any, device: str) -> None:
    torch = pytest.importorskip("torch")
    args = _unfold_args(case)
    size = case[0][-2:]
    _compare_with_torch(lambda c: F.fold(c, size, **args),
                        lambda c: torch.nn.functional.fold(c, size, **args),
                        _unfold_shape(case), dtype, device)


@pytest.mark.parametrize("case", [c for c in CASES if 0 not in c[0]], ids=_ids)
def test_gradcheck(case: tuple[Any, ...], device: str) -> None:
    args = _unfold_args(case)
    x = random_tensor(*case[0], device=device)
    assert gradcheck(lambda t: F.unfold(t, **args), [x])
    cols = random_tensor(*_unfold_shape(case), device=device)
    assert gradcheck(lambda t: F.fold(t, case[0][-2:], **args), [cols])


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_fold_of_unfold_is_input_times_divisor(case: tuple[Any, ...], device: str) -> None:
    """PyTorch's documented identity: ``fold(unfold(x)) == divisor * x`` with
    ``divisor = fold(unfold(ones))``, the number of blocks covering each pixel."""
    args = _unfold_args(case)
    size = case[0][-2:]
    x = random_tensor(*case[0], device=device, requires_grad=False)
    divisor = F.fold(F.unfold(lucid.ones(*case[0], dtype=lucid.float64, device=device), **args),
                     size, **args)
    np.testing.assert_allclose(_np(F.fold(F.unfold(x, **args), size, **args)),
                               _np(divisor) * _np(x), rtol=1e-14, atol=0)
    d = _np(divisor)
    assert np.all(d == np.round(d)) and d.min(initial=0) >= 0


def test_divisor_counts_blocks() -> None:
    ones = lucid.ones(1, 1, 4, 4, dtype=lucid.float64)
    assert _np(F.fold(F.unfold(ones, 2), 4, 2))[0, 0].tolist() == [
        [1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]
    # non-overlapping blocks that tile the image: fold inverts unfold
    x = random_tensor(2, 3, 6, 4, requires_grad=False)
    np.testing.assert_array_equal(_np(F.fold(F.unfold(x, (3, 2), stride=(3, 2)), (6, 4),
                                             (3, 2), stride=(3, 2))), _np(x))
    # a stride past the kernel: pixels no block reads come back as zeros
    back = _np(F.fold(F.unfold(lucid.ones(1, 1, 5, 5), 1, stride=2), 5, 1, stride=2))[0, 0]
    assert back[::2, ::2].min() == 1 and back[1::2].max() == 0 and back[:, 1::2].max() == 0


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_fold_is_the_adjoint_of_unfold(case: tuple[Any, ...], device: str) -> None:
    args = _unfold_args(case)
    rng = np.random.default_rng(2)
    x = rng.standard_normal(case[0])
    c = rng.standard_normal(_unfold_shape(case))
    ux = _np(F.unfold(lucid.tensor(x, device=device), **args))
    fc = _np(F.fold(lucid.tensor(c, device=device), case[0][-2:], **args))
    assert float(np.sum(ux * c)) == pytest.approx(float(np.sum(x * fc)), rel=1e-12, abs=1e-12)


def test_unfold_is_conv2d_as_a_matrix_product(device: str) -> None:
    """The row order (C, kH, kW) is a conv2d weight's: conv2d == weight @ unfold."""
    x = random_tensor(2, 3, 7, 6, device=device, requires_grad=False)
    w = random_tensor(4, 3, 3, 2, device=device, requires_grad=False)
    cols = F.unfold(x, (3, 2), dilation=(1, 2), padding=1, stride=(2, 1))
    y = F.conv2d(x, w, dilation=(1, 2), padding=1, stride=(2, 1))
    via_cols = (w.reshape(4, -1) @ cols).reshape(y.shape)
    np.testing.assert_allclose(_np(via_cols), _np(y), rtol=0, atol=1e-12)


def test_unbatched_matches_batched(device: str) -> None:
    x = random_tensor(3, 5, 6, device=device)
    cols = F.unfold(x, (2, 3), padding=(1, 0), stride=(1, 2))
    batched = F.unfold(x.detach().unsqueeze(0), (2, 3), padding=(1, 0), stride=(1, 2))
    np.testing.assert_array_equal(_np(cols), _np(batched)[0])
    back = F.fold(cols, (5, 6), (2, 3), padding=(1, 0), stride=(1, 2))
    assert back.shape == (3, 5, 6)
    np.testing.assert_array_equal(
        _np(back), _np(F.fold(cols.detach().unsqueeze(0), (5, 6), (2, 3), padding=(1, 0),
                              stride=(1, 2)))[0])
    back.sum().backward()
    assert x.grad.shape == (3, 5, 6)


def test_empty_batch_backward(device: str) -> None:
    x = random_tensor(0, 2, 4, 4, device=device)
    F.unfold(x, 3, padding=1).sum().backward()
    assert x.grad.shape == (0, 2, 4, 4)
    c = random_tensor(0, 18, 16, device=device)
    F.fold(c, 4, 3, padding=1).sum().backward()
    assert c.grad.shape == (0, 18, 16)


def test_no_grad_records_nothing(device: str) -> None:
    x = random_tensor(1, 2, 4, 4, device=device)
    with lucid.no_grad():
        assert not F.unfold(x, 2).requires_grad
        assert not F.fold(F.unfold(x, 2), 4, 2).requires_grad
    assert F.unfold(x.detach(), 2).grad_fn is None


def _owns_memory(out: lucid.Tensor, *others: lucid.Tensor) -> bool:
    xp = get_array_module(out.data)
    return not any(xp.may_share_memory(out.data, t.data) for t in others)


@pytest.mark.parametrize("batch, channels, padding", [(2, 3, 0), (1, 1, (1, 0)), (1, 1, 0)])
def test_outputs_never_share_scratch_or_input_memory(batch: int, channels: int, padding: Any,
                                                     device: str) -> None:
    """Results (and gradients) must survive the next conv or unfold, which reuse scratch
    buffers, and must not be views of the input: one image of one channel, 1x1 (im2col is a
    reshape), padded only in height (the crop is a contiguous slice)."""
    x = random_tensor(batch, channels, 5, 6, dtype=np.float32, device=device)
    cols = F.unfold(x, 1, padding=padding)
    image = F.fold(cols, (5, 6), 1, padding=padding)
    other = F.unfold(x, 3, padding=padding)
    other_image = F.fold(other, (5, 6), 3, padding=padding)
    for out in (cols, image, other, other_image):
        assert _owns_memory(out, x)
    assert _owns_memory(image, cols) and _owns_memory(other_image, other)
    (cols.sum() + other_image.sum()).backward()
    kept = [_np(t).copy() for t in (cols, image, other, other_image, x.grad)]
    with lucid.no_grad():
        w = random_tensor(channels, channels, 1, 1, dtype=np.float32, device=device)
        for _ in range(2):
            F.conv2d(x, random_tensor(8, channels, 3, 3, dtype=np.float32, device=device),
                     stride=2)
            F.conv_transpose2d(x, w, padding=padding)
            F.conv2d(x, w, padding=padding)
            F.unfold(x * 2, 1, padding=padding)
            F.fold(cols * 3, (5, 6), 1, padding=padding)
            F.unfold(x * 2, 3, padding=padding)
    x.data[...] = 7  # nothing above is a view of the input
    for got, want in zip((cols, image, other, other_image, x.grad), kept, strict=True):
        np.testing.assert_array_equal(_np(got), want)


# ----------------------------------------------------------------------------- errors
def _same_error(lucid_call: Callable[[], Any], torch_call: Callable[[], Any],
                exc: type[Exception] = RuntimeError) -> None:
    with pytest.raises(exc) as got:
        lucid_call()
    with pytest.raises(exc) as want:
        torch_call()
    assert str(got.value) == str(want.value).split("\n")[0]


UNFOLD_ERRORS = [
    ((2, 3, 5, 6), {"kernel_size": 7}),
    ((2, 3, 5, 6), {"kernel_size": (2, 7), "padding": (0, 0)}),
    ((2, 3, 5, 6), {"kernel_size": 3, "dilation": 3}),
    ((2, 3, 5, 6), {"kernel_size": 0}),
    ((2, 3, 5, 6), {"kernel_size": (0, 1)}),
    ((2, 3, 5, 6), {"kernel_size": 3, "stride": 0}),
    ((2, 3, 5, 6), {"kernel_size": 3, "stride": (1, -1)}),
    ((2, 3, 5, 6), {"kernel_size": 3, "dilation": 0}),
    ((2, 3, 5, 6), {"kernel_size": 3, "padding": -1}),
    ((2, 3, 5, 6), {"kernel_size": 0, "stride": 0, "dilation": 0, "padding": -1}),  # order
    ((2, 3, 5, 6), {"kernel_size": 1, "stride": 0, "dilation": 1, "padding": -1}),
    ((2, 3, 5, 6), {"kernel_size": 1, "stride": 0, "dilation": 1, "padding": 0}),
    ((1, 2, 3, 4, 5), {"kernel_size": 3}),
    ((2, 0, 5, 6), {"kernel_size": 3}),
    ((2, 3, 0, 6), {"kernel_size": 1}),
    ((3, 5, 0), {"kernel_size": 1}),
]


@pytest.mark.parametrize("shape, kwargs", UNFOLD_ERRORS)
def test_unfold_errors_match_torch(shape: tuple[int, ...], kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    _same_error(lambda: F.unfold(lucid.zeros(*shape), **kwargs),
                lambda: torch.nn.functional.unfold(torch.zeros(shape), **kwargs))


FOLD_ERRORS = [
    ((2, 26, 12), (5, 6), {"kernel_size": 3}),  # C*kH*kW not divisible
    ((2, 27, 13), (5, 6), {"kernel_size": 3}),  # wrong number of blocks
    ((2, 27, 12), (2, 2), {"kernel_size": 3}),  # 0 * 0 blocks
    ((2, 27, 4), (1, 6), {"kernel_size": 3}),  # negative blocks
    ((2, 27, 12), (0, 6), {"kernel_size": 3}),
    ((1, 9, 1), (1, 1), {"kernel_size": 3}),  # (-1) * (-1) = 1 block: too small
    ((2, 27, 12), 5, {"kernel_size": 3}),
    ((2, 27, 2), (1, 6), {"kernel_size": 3, "padding": 1}),
    ((2, 8, 6), (3, 4), {"kernel_size": 2, "stride": (1, 2), "dilation": (2, 1)}),
    ((27,), (5, 6), {"kernel_size": 3}),
    ((1, 2, 27, 12), (5, 6), {"kernel_size": 3}),
    ((2, 0, 12), (5, 6), {"kernel_size": 3}),
    ((2, 27, 0), (5, 6), {"kernel_size": 3}),
    ((27, 0), (5, 6), {"kernel_size": 3}),
    ((2, 27, 12), (5, 6), {"kernel_size": 0}),
    ((2, 27, 12), (5, 6), {"kernel_size": 3, "stride": 0}),
    ((2, 27, 12), (5, 6), {"kernel_size": 3, "padding": -1}),
    ((2, 27, 12), (5, 6), {"kernel_size": 3, "dilation": (1, 0)}),
    ((1, 9, 1), (1, 1), {"kernel_size": 0, "stride": 0, "dilation": 0, "padding": -1}),
    ((1, 9, 1), (1, 1), {"kernel_size": 1, "stride": 0, "dilation": 0, "padding": -1}),
    ((1, 9, 1), (1, 1), {"kernel_size": 1, "stride": 1, "dilation": 0, "padding": -1}),
]


@pytest.mark.parametrize("shape, size, kwargs", FOLD_ERRORS)
def test_fold_errors_match_torch(shape: tuple[int, ...], size: Any,
                                 kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    _same_error(lambda: F.fold(lucid.zeros(*shape), size, **kwargs),
                lambda: torch.nn.functional.fold(torch.zeros(shape), size, **kwargs))


def test_argument_errors() -> None:
    """Deliberate differences: lucid's argument pairs raise TypeError/ValueError (PyTorch:
    TypeError or RuntimeError), and a 2-D unfold input raises RuntimeError (PyTorch: an
    IndexError)."""
    x = lucid.zeros(1, 2, 5, 5)
    with pytest.raises(TypeError, match="kernel_size must be an int"):
        F.unfold(x, 2.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="padding must be an int"):
        F.unfold(x, 2, padding="same")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        F.unfold(x, (2, 2, 2))
    with pytest.raises(ValueError, match="output_size must be an int or a pair"):
        F.fold(lucid.zeros(1, 8, 16), (5, 5, 5), 2)
    with pytest.raises(RuntimeError, match=r"Expected 3D or 4D .* but got: \[5, 5\]"):
        F.unfold(lucid.zeros(5, 5), 2)
    # one-element sequences repeat, as PyTorch's _pair does not but its C++ accepts
    assert F.unfold(x, [2], stride=[1]).shape == (1, 8, 16)
    assert F.fold(lucid.zeros(1, 8, 16), [5], [2]).shape == (1, 2, 5, 5)


# ----------------------------------------------------------------------------- pixel shuffle
SHUFFLE_CASES = [
    ((2, 8, 3, 4), 2),
    ((1, 18, 2, 3), 3),
    ((8, 3, 4), 2),  # unbatched
    ((2, 3, 8, 2, 3), 2),  # two leading batch dims
    ((1, 1, 2, 4, 1, 2), 2),  # three
    ((2, 3, 4, 5), 1),  # factor 1: a copy
]


def _shuffle_ids(case: tuple[Any, ...]) -> str:
    return f"{'x'.join(map(str, case[0]))}-r{case[1]}"


def _unshuffle_shape(case: tuple[Any, ...]) -> tuple[int, ...]:
    *lead, c, h, w = case[0]
    r = case[1]
    return (*lead, c // (r * r), h * r, w * r)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", SHUFFLE_CASES, ids=_shuffle_ids)
def test_pixel_shuffle_matches_torch(case: tuple[Any, ...], dtype: Any, device: str) -> None:
    torch = pytest.importorskip("torch")
    shape, r = case
    _compare_with_torch(lambda x: F.pixel_shuffle(x, r),
                        lambda x: torch.nn.functional.pixel_shuffle(x, r), shape, dtype, device)
    _compare_with_torch(lambda x: F.pixel_unshuffle(x, r),
                        lambda x: torch.nn.functional.pixel_unshuffle(x, r),
                        _unshuffle_shape(case), dtype, device)


@pytest.mark.parametrize("shape", [(0, 4, 2, 2), (2, 0, 3, 4), (3, 0, 8, 1, 2)])
def test_pixel_shuffle_of_empty_tensors(shape: tuple[int, ...], device: str) -> None:
    """The documented shapes. Deliberately not PyTorch 2.13's: its pixel_shuffle and
    pixel_unshuffle return an empty input's own shape (and then fail in backward)."""
    x = random_tensor(*shape, device=device)
    y = F.pixel_shuffle(x, 2)
    assert y.shape == (*shape[:-3], shape[-3] // 4, shape[-2] * 2, shape[-1] * 2)
    z = F.pixel_unshuffle(y, 2)
    assert z.shape == shape
    z.sum().backward()
    assert x.grad.shape == shape


@pytest.mark.parametrize("case", SHUFFLE_CASES, ids=_shuffle_ids)
def test_pixel_shuffle_gradcheck(case: tuple[Any, ...], device: str) -> None:
    shape, r = case
    assert gradcheck(lambda t: F.pixel_shuffle(t, r), [random_tensor(*shape, device=device)])
    assert gradcheck(lambda t: F.pixel_unshuffle(t, r),
                     [random_tensor(*_unshuffle_shape(case), device=device)])


def test_pixel_shuffle_layout_and_inverse(device: str) -> None:
    x = lucid.arange(2 * 8 * 2 * 3, dtype=lucid.float64, device=device).reshape(2, 8, 2, 3)
    y = F.pixel_shuffle(x, 2)
    a, b = _np(x), _np(y)
    for c, h, w, i, j in np.ndindex(2, 2, 3, 2, 2):
        assert b[:, c, h * 2 + i, w * 2 + j].tolist() == a[:, c * 4 + i * 2 + j, h, w].tolist()
    np.testing.assert_array_equal(_np(F.pixel_unshuffle(y, 2)), a)
    z = random_tensor(3, 2, 6, 9, device=device, requires_grad=False)
    np.testing.assert_array_equal(_np(F.pixel_shuffle(F.pixel_unshuffle(z, 3), 3)), _np(z))


@pytest.mark.parametrize("r", [1, 2])
def test_pixel_shuffle_outputs_own_their_memory(r: int, device: str) -> None:
    x = random_tensor(1, 4, 2, 2, device=device)
    y, z = F.pixel_shuffle(x, r), F.pixel_unshuffle(x, r)
    assert _owns_memory(y, x) and _owns_memory(z, x)
    assert y.data.flags.c_contiguous and z.data.flags.c_contiguous
    kept = _np(x).copy()
    y.data[...] = 1
    z.data[...] = 2
    np.testing.assert_array_equal(_np(x), kept)


SHUFFLE_ERRORS = [
    ("pixel_shuffle", (2, 8, 3, 4), 3, RuntimeError),
    ("pixel_shuffle", (2, 8, 3, 4), 0, RuntimeError),
    ("pixel_shuffle", (2, 8, 3, 4), -1, RuntimeError),
    ("pixel_shuffle", (8, 3), 2, RuntimeError),
    ("pixel_shuffle", (8, 3), 0, RuntimeError),  # the rank is checked first
    ("pixel_shuffle", (2, 8, 3, 4), 2.0, TypeError),
    ("pixel_shuffle", (2, 8, 3, 4), True, TypeError),
    ("pixel_unshuffle", (2, 2, 5, 4), 2, RuntimeError),
    ("pixel_unshuffle", (2, 2, 6, 5), 2, RuntimeError),
    ("pixel_unshuffle", (6, 4), 2, RuntimeError),
    ("pixel_unshuffle", (2, 6, 4), 0, RuntimeError),
    ("pixel_unshuffle", (2, 6, 4), True, TypeError),
]


@pytest.mark.parametrize("name, shape, factor, exc", SHUFFLE_ERRORS)
def test_pixel_shuffle_errors_match_torch(name: str, shape: tuple[int, ...], factor: Any,
                                          exc: type[Exception]) -> None:
    torch = pytest.importorskip("torch")
    if exc is TypeError:  # PyTorch's argument parser names the position too
        with pytest.raises(TypeError, match=f"argument '.*_factor' must be int, not "
                                            f"{type(factor).__name__}"):
            getattr(F, name)(lucid.zeros(*shape), factor)
        with pytest.raises(TypeError):
            getattr(torch.nn.functional, name)(torch.zeros(shape), factor)
        return
    _same_error(lambda: getattr(F, name)(lucid.zeros(*shape), factor),
                lambda: getattr(torch.nn.functional, name)(torch.zeros(shape), factor))


def test_pixel_shuffle_accepts_numpy_integers() -> None:
    assert F.pixel_shuffle(lucid.zeros(4, 2, 2), np.int64(2)).shape == (1, 4, 4)


# ----------------------------------------------------------------------------- layers
LAYERS = [
    ("Unfold", (3,), {}),
    ("Unfold", ((2, 3),), {"dilation": 2, "padding": (0, 1), "stride": 2}),
    ("Unfold", (), {"kernel_size": [2, 3], "stride": (1, 2)}),
    ("Fold", ((4, 5), 3), {}),
    ("Fold", (4, (2, 3)), {"dilation": 2, "padding": 1, "stride": (1, 2)}),
    ("Fold", (), {"output_size": [4, 5], "kernel_size": [2, 3]}),
    ("PixelShuffle", (3,), {}),
    ("PixelUnshuffle", (2,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layer_repr_matches_torch(name: str, args: tuple[Any, ...],
                                  kwargs: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    layer, ref = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(layer) == repr(ref)
    assert list(layer.parameters()) == []


@pytest.mark.parametrize("name, args, kwargs, shape", [
    ("Unfold", ((2, 3),), {"dilation": (2, 1), "padding": 1, "stride": (1, 2)}, (2, 3, 6, 7)),
    ("Unfold", (3,), {"padding": 1}, (2, 6, 5)),
    ("Fold", ((6, 7), (2, 3)), {"dilation": (2, 1), "padding": 1, "stride": (1, 2)},
     (2, 18, 24)),
    ("Fold", (5, 2), {}, (8, 16)),
    ("PixelShuffle", (2,), {}, (2, 3, 8, 2, 3)),
    ("PixelUnshuffle", (2,), {}, (3, 4, 6)),
])
def test_layer_matches_torch(name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                             shape: tuple[int, ...], device: str) -> None:
    torch = pytest.importorskip("torch")
    layer, ref = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    _compare_with_torch(layer, ref, shape, np.float32, device)


def test_exports() -> None:
    from lucid.nn.functional.folding import fold, unfold
    from lucid.nn.functional.pixelshuffle import pixel_shuffle, pixel_unshuffle

    assert (F.fold, F.unfold, F.pixel_shuffle, F.pixel_unshuffle) == (
        fold, unfold, pixel_shuffle, pixel_unshuffle)
    for name in ("fold", "unfold", "pixel_shuffle", "pixel_unshuffle"):
        assert name in F.__all__
    for name in ("Fold", "Unfold", "PixelShuffle", "PixelUnshuffle"):
        assert name in nn.__all__ and name in nn.modules.__all__
        assert getattr(nn, name) is getattr(nn.modules, name)
