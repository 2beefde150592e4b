"""2-D pooling: ``max_pool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d`` (PyTorch semantics).

Average pooling (plain and adaptive) is a *separable linear map*: ``out = A_h @ x @ A_w^T`` on
the last two axes, with one small banded matrix per axis (window membership divided by the
PyTorch divisor). ``SeparableLinear`` applies such maps as a few shifted gathers per axis
(the band width), forward and backward, and is shared with ``interpolate``. Max pooling
loops over the kernel offsets only, keeping the offset of the first maximum for backward.
All ops accept (N, C, H, W) or unbatched (C, H, W) input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lucid.autograd import Function, is_grad_enabled
from lucid.nn.functional._pairs import _pair, _single, scratch
from lucid.ops._util import xp_of
from lucid.tensor import Tensor


# ----------------------------------------------------------------------------- banded maps
class Band:
    """A banded ``(rows, cols)`` matrix applied along one axis as ``width`` gathers.

    ``(A @ v)[r] = sum_t coef[t, r] * v[idx[t, r]]``; built on the host from a dense matrix
    and a mask of its structural entries, whose columns must be contiguous in every row
    (true of pooling windows and interpolation stencils). Three patterns skip the gathers:
    the identity, ``repeat`` (nearest upsampling by an integer factor: ``xp.repeat``) and
    ``block`` (row ``r`` = ``c`` times the sum of columns ``[r*f, r*f+f)``: ``f`` strided
    slices added, e.g. 2x2 average pooling, or the backward of ``repeat``). Other bands on
    an axis of at most 128 use one GEMM with the dense matrix (``gemm``). ``transpose()``
    gives ``A^T``.
    """

    def __init__(self, matrix: np.ndarray, mask: np.ndarray) -> None:
        self.matrix, self.mask = matrix, mask
        self._transposed: Band | None = None
        rows, cols = matrix.shape
        has = mask.any(axis=1)
        lo = np.where(has, mask.argmax(axis=1), 0)
        hi = np.where(has, cols - mask[:, ::-1].argmax(axis=1), 0)
        width = max(int((hi - lo).max(initial=0)), 1)
        t = np.arange(width)[:, None]
        self.idx = np.minimum(lo[None, :] + t, cols - 1)
        inside = lo[None, :] + t < hi[None, :]
        self.coef = np.where(inside, matrix[np.arange(rows)[None, :], self.idx], 0.0)
        # rows narrower than the band gather filler taps (weight 0) past their window
        self.filler = None if inside.all() else ~inside
        # a gather whose indices step evenly is a strided slice: a view, no copy
        self.slices: list[slice | None] = []
        for row in self.idx:
            step = int(row[1] - row[0]) if rows > 1 else 1
            even = step > 0 and bool(np.all(np.diff(row) == step))
            self.slices.append(slice(int(row[0]), int(row[-1]) + 1, step) if even else None)
        values = self.coef[inside]
        uniform = values.size > 0 and bool(np.all(values == values[0]))
        self.scale = float(values[0]) if uniform else None
        self.ones = width == 1 and uniform and self.scale == 1.0 and bool(has.all())
        self.identity = self.ones and rows == cols and bool(np.all(self.idx[0] == np.arange(rows)))
        self.repeat = None
        if self.ones and rows % cols == 0 and np.array_equal(
                self.idx[0], np.arange(rows) // (rows // cols)):
            self.repeat = rows // cols
        self._dense: dict[Any, Any] = {}
        self.gemm = width > 1 and cols <= 128
        self.block = None
        if uniform and cols % rows == 0 and bool(has.all()):
            f = cols // rows
            if np.array_equal(lo, np.arange(rows) * f) and np.array_equal(hi, lo + f):
                self.block = f

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def transpose(self) -> Band:
        if self._transposed is None:
            self._transposed = Band(self.matrix.T.copy(), self.mask.T.copy())
        return self._transposed

    def apply(self, x: Any, axis: int) -> Any:
        """``A`` applied along ``axis`` of ``x`` (which has length ``cols`` there)."""
        xp = xp_of(x)
        axis %= x.ndim
        if self.identity:
            return x
        if self.repeat is not None:
            return xp.repeat(x, self.repeat, axis=axis)
        lead = (slice(None),) * axis
        short = self.gemm and axis >= x.ndim - 2
        if (short or self.filler is not None) and not xp.isfinite(x.sum()):
            # NaN or inf: the dense matrix's zeros and the filler taps would multiply it
            # (0 * inf = NaN) into outputs whose windows do not hold it; they are left out
            return self._gather(x, axis, skip_filler=True)
        if short:
            # a short axis: one BLAS matmul with the dense matrix beats width gathers,
            # multiplies and adds (2*cols flops per output against ~5 memory passes)
            key = (type(x), x.dtype, str(getattr(x, "device", "")))  # bands are cached
            dense = self._dense.get(key)
            if dense is None:
                dense = self._dense[key] = xp.asarray(self.matrix.astype(x.dtype))
            return x @ dense.T if axis == x.ndim - 1 else dense @ x
        if self.block is not None:
            # f strided slices added: ~10x faster than a reshape-sum over a length-f axis
            f = self.block
            out = x[lead + (slice(0, None, f),)] * x.dtype.type(self.scale)
            for j in range(1, f):
                part = x[lead + (slice(j, None, f),)]
                out += part if self.scale == 1.0 else part * x.dtype.type(self.scale)
            return out
        return self._gather(x, axis)

    def _gather(self, x: Any, axis: int, skip_filler: bool = False) -> Any:
        """``A`` along ``axis`` as ``width`` gathers, each times its column of weights."""
        xp = xp_of(x)
        lead = (slice(None),) * axis
        bshape = (-1,) + (1,) * (x.ndim - axis - 1)
        out = None
        for t, row in enumerate(self.idx):
            sl = self.slices[t]
            part = x[lead + (sl,)] if sl is not None else xp.take(x, xp.asarray(row), axis=axis)
            fresh = sl is None  # take() copies; a slice is a view of x
            if skip_filler and self.filler is not None and self.filler[t].any():
                part = xp.where(xp.asarray(self.filler[t]).reshape(bshape), 0, part)
                fresh = True
            if not self.ones:
                part = part * xp.asarray(self.coef[t].astype(x.dtype)).reshape(bshape)
                fresh = True
            if out is None:
                out = part if fresh else xp.array(part, copy=True)
            else:
                out += part
        return out


class SeparableLinear(Function):
    """``out = A_h @ x @ A_w^T`` on the last two axes; backward ``A_h^T @ gy @ A_w``.

    Shape: x (..., H, W) -> (..., rows(A_h), rows(A_w)).
    """

    def forward(self, x: Any, *, band_h: Band, band_w: Band) -> Any:
        self.bands = (band_h, band_w)
        # W first, then H: the order PyTorch's bilinear kernel sums in
        out = band_h.apply(band_w.apply(x, -1), -2)
        return out.copy() if out is x else out  # never alias the input (identity maps)

    def backward(self, gy: Any) -> Any:
        band_h, band_w = self.bands
        return band_w.transpose().apply(band_h.transpose().apply(gy, -2), -1)


def _window_band(size: int, out: int, kernel: int, stride: int, pad: int,
                 include_pad: bool, divisor: int | None = None) -> Band:
    """Average-pool matrix of one axis: row ``o`` averages its window (clipped to the input)."""
    matrix = np.zeros((out, size))
    mask = np.zeros((out, size), dtype=bool)
    for o in range(out):  # host-side, O(out): a handful of small numpy ops per output size
        start = o * stride - pad
        end = min(start + kernel, size + pad)
        count = end - start  # count_include_pad: the window clipped to the padded input
        start, end = max(start, 0), min(end, size)
        if not include_pad:
            count = end - start
        mask[o, start:end] = True
        matrix[o, start:end] = 1.0 / (divisor if divisor is not None else count)
    return Band(matrix, mask)


def _adaptive_band(size: int, out: int) -> Band:
    """PyTorch's adaptive bins: ``[floor(o*size/out), ceil((o+1)*size/out))``."""
    matrix = np.zeros((out, size))
    mask = np.zeros((out, size), dtype=bool)
    for o in range(out):
        start, end = (o * size) // out, -((-(o + 1) * size) // out)
        mask[o, start:end] = True
        matrix[o, start:end] = 1.0 / (end - start)
    return Band(matrix, mask)


# ----------------------------------------------------------------------------- helpers
def _check_input(input: Tensor, name: str) -> None:
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{name}: expected 3D (unbatched) or 4D (batched) input, got input "
                           f"of size {tuple(input.shape)}")


def _check_floating(input: Tensor, name: str) -> None:
    if not np.issubdtype(input.dtype, np.floating):  # PyTorch: "not implemented for 'Int'"
        raise TypeError(f"{name}: not implemented for {input.dtype} input")


def _integer_average(x: Any, band_h: Band, band_w: Band) -> Any:
    """Average pooling of int64 input as PyTorch's: each window's exact sum divided by its
    divisor, truncated toward zero (the bands' weights are 1 / divisor per axis)."""
    xp = xp_of(x)
    sums = x.astype(np.float64)  # exact below 2**53
    for band, axis in ((band_w, -1), (band_h, -2)):
        sums = Band(band.mask.astype(np.float64), band.mask)._gather(sums, axis % x.ndim)
    divisors = [np.rint(1.0 / band.matrix.max(axis=1)) for band in (band_h, band_w)]
    return xp.trunc(sums / xp.asarray(np.outer(*divisors))).astype(np.int64)


def _pool_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int,
                   ceil_mode: bool) -> int:
    """PyTorch's rule; with ceil_mode the last window must start inside input or left pad."""
    out = (size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0))
    out = out // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _pool_args(name: str, input: Tensor, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any, ceil_mode: bool) -> tuple[tuple[int, int], ...]:
    _check_input(input, name)
    kernel = _pair(kernel_size, "kernel_size")
    strides = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _pair(stride, "stride")
    pads, dils = _pair(padding, "padding"), _pair(dilation, "dilation")
    if min(kernel) <= 0 or min(strides) <= 0 or min(dils) <= 0:
        raise ValueError(f"{name}: kernel_size, stride and dilation must be positive, got "
                         f"kernel_size={kernel_size!r}, stride={stride!r}, dilation={dilation!r}")
    if pads[0] < 0 or pads[1] < 0 or pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
        raise RuntimeError(f"{name}: pad should be at most half of kernel size, but got "
                           f"pad={padding!r}, kernel_size={kernel_size!r}")
    h, w = input.shape[-2:]
    out = tuple(_pool_out_size(s, k, st, p, d, ceil_mode)
                for s, k, st, p, d in zip((h, w), kernel, strides, pads, dils, strict=True))
    if min(out) < 1:
        raise RuntimeError(f"{name}: given input size ({h}x{w}), calculated output size "
                           f"({out[0]}x{out[1]}) is too small")
    return kernel, strides, pads, dils, out


# ----------------------------------------------------------------------------- max pooling
class MaxPool2dFunction(Function):
    """Max over each window; the gradient goes to the window's first maximum (row-major), or
    to its last NaN where it holds one.

    Works on (..., H, W); padding is -inf, so padded taps never win.
    """

    def forward(self, x: Any, *, kernel: tuple[int, int], stride: tuple[int, int],
                pads: tuple[int, int], dilation: tuple[int, int], out_hw: tuple[int, int],
                track: bool, sink: list[MaxPool2dFunction] | None = None) -> Any:
        xp = xp_of(x)
        if sink is not None:
            sink.append(self)
        h, w = x.shape[-2:]
        (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = kernel, stride, pads, dilation, out_hw
        # ceil_mode may need more than `pad` on the bottom/right: pad up to the last window
        hp = max(h + 2 * ph, (oh - 1) * sh + dh * (kh - 1) + 1)
        wp = max(w + 2 * pw, (ow - 1) * sw + dw * (kw - 1) + 1)
        if (hp, wp) != (h, w):
            xpad = xp.full(x.shape[:-2] + (hp, wp), -xp.inf, dtype=x.dtype)
            xpad[..., ph : ph + h, pw : pw + w] = x
        else:
            xpad = x
        best = arg = None
        for i in range(kh):
            for j in range(kw):
                window = xpad[..., i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                              j * dw : j * dw + sw * (ow - 1) + 1 : sw]
                if best is None:
                    best = window.copy()
                    if track:
                        arg = xp.zeros(best.shape, dtype=np.int16 if kh * kw < 2**15 else np.int32)
                    continue
                if track:  # strict '>' keeps the first maximum and a NaN wins, and the
                    # last NaN of a window is its index, as PyTorch's `val > max || isnan(val)`
                    wins = window > best
                    wins |= window != window
                    xp.copyto(arg, i * kw + j, where=wins)
                xp.maximum(best, window, out=best)  # propagates NaN like PyTorch
        if track and (hp, wp) != (h, w):
            # a window whose real elements are all -inf keeps its first tap, which may lie
            # in the padding: PyTorch's index is then its first real element
            empty = best == -xp.inf
            if empty.any():
                first = [_first_inside(o, s, p, d, k, size) for o, s, p, d, k, size in
                         ((oh, sh, ph, dh, kh, h), (ow, sw, pw, dw, kw, w))]
                taps = xp.asarray(first[0][:, None] * kw + first[1][None, :])
                xp.copyto(arg, xp.broadcast_to(taps, arg.shape).astype(arg.dtype), where=empty)
        self.arg = arg
        self.geometry = (x.shape, (hp, wp), kernel, stride, pads, dilation, out_hw)
        return best

    def indices(self) -> Any:
        """Flat ``h * W + w`` input positions of the maxima (PyTorch's ``return_indices``)."""
        xp = xp_of(self.arg)
        shape, _, (_, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = self.geometry
        rows = xp.arange(oh).reshape(oh, 1) * sh - ph + (self.arg // kw) * dh
        cols = xp.arange(ow) * sw - pw + (self.arg % kw) * dw
        return (rows * shape[-1] + cols).astype(np.int64)

    def backward(self, gy: Any) -> Any:
        xp = xp_of(gy)
        shape, (hp, wp), (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow) = self.geometry
        # windows that do not overlap (stride >= dilated kernel) write disjoint slices:
        # assign in place of read-add-write, and skip the zero fill when they tile the input
        disjoint = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1
        tiles = disjoint and (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) \
            and (hp, wp) == (oh * sh, ow * sw)
        gxpad = (xp.empty if tiles else xp.zeros)(shape[:-2] + (hp, wp), dtype=gy.dtype)
        tmp = None if disjoint else scratch(xp, gy.shape, gy.dtype)
        for i in range(kh):
            for j in range(kw):
                target = gxpad[..., i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                               j * dw : j * dw + sw * (ow - 1) + 1 : sw]
                if disjoint:
                    xp.multiply(gy, self.arg == i * kw + j, out=target)
                else:
                    xp.multiply(gy, self.arg == i * kw + j, out=tmp)
                    target += tmp
        h, w = shape[-2:]
        if (hp, wp) == (h, w):
            return gxpad
        return xp.ascontiguousarray(gxpad[..., ph : ph + h, pw : pw + w])


def _first_inside(out: int, stride: int, pad: int, dilation: int, kernel: int,
                  size: int) -> np.ndarray:
    """Per output position of one axis, the first tap of its window inside the input
    (``kernel - 1`` where none is: PyTorch's index is then out of range too)."""
    starts = np.arange(out) * stride - pad
    taps = np.arange(kernel)
    inside = (starts[:, None] + taps * dilation >= 0) & (starts[:, None] + taps * dilation < size)
    return np.where(inside.any(axis=1), inside.argmax(axis=1), kernel - 1)


def max_pool2d(input: Tensor, kernel_size: int | tuple[int, int],
               stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0,
               dilation: int | tuple[int, int] = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over (dilated) windows, as ``torch.nn.functional.max_pool2d``.

    ``out[..., y, x] = max_{kh, kw} input_padded[..., y*sh + kh*dh, x*sw + kw*dw]`` with
    -inf padding (``padding`` at most half the kernel). ``stride`` defaults to the kernel.
    With ``ceil_mode`` the output rounds up, but the last window must start inside the input
    or the left padding. The gradient flows to the first maximum of each window; a window
    holding NaN pools to NaN and its gradient and index go to its last NaN (PyTorch's rule).

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out) (or unbatched (C, H, W) -> (C, H_out, W_out)),
        ``H_out = floor_or_ceil((H + 2p - d*(k-1) - 1) / s) + 1``.

    Returns:
        The pooled tensor, and with ``return_indices`` also int64 flat indices ``h * W + w``
        of the maxima in each input plane.

    Example:
        >>> import lucid
        >>> from lucid.nn.functional.pooling import max_pool2d
        >>> max_pool2d(lucid.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    kernel, strides, pads, dils, out_hw = _pool_args("max_pool2d", input, kernel_size, stride,
                                                     padding, dilation, ceil_mode)
    track = return_indices or (is_grad_enabled() and input.requires_grad)
    sink: list[MaxPool2dFunction] = []  # forward hands itself over, for the indices
    out = MaxPool2dFunction.apply(input, kernel=kernel, stride=strides, pads=pads,
                                  dilation=dils, out_hw=out_hw, track=track, sink=sink)
    if not return_indices:
        return out
    return out, Tensor._wrap(sink[0].indices())


# ----------------------------------------------------------------------------- average pooling
def avg_pool2d(input: Tensor, kernel_size: int | tuple[int, int],
               stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over windows, as ``torch.nn.functional.avg_pool2d``.

    Each window sums the (zero-padded) input and divides by ``divisor_override`` if given,
    else by the window size clipped to the padded input (``count_include_pad=True``) or by
    the number of real input elements in it (``False``). Windows that ``ceil_mode`` adds past
    the padding are clipped, as in PyTorch. Floating input, or int64 (as PyTorch's CPU
    kernel: the sum divided in integers, truncated toward zero; no gradient).

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out), or unbatched (C, H, W) -> (C, H_out, W_out).

    Example:
        >>> import lucid
        >>> from lucid.nn.functional.pooling import avg_pool2d
        >>> avg_pool2d(lucid.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 2.5,  4.5],
                  [10.5, 12.5]]]])
    """
    kernel, strides, pads, _, (oh, ow) = _pool_args("avg_pool2d", input, kernel_size, stride,
                                                    padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError("avg_pool2d: divisor_override must be non-zero")
    h, w = input.shape[-2:]
    # the divisor is a product of per-axis counts, so it splits between the two bands
    band_h = _window_band(h, oh, kernel[0], strides[0], pads[0], count_include_pad,
                          divisor_override)
    band_w = _window_band(w, ow, kernel[1], strides[1], pads[1], count_include_pad,
                          None if divisor_override is None else 1)
    if input.dtype == np.int64:
        return Tensor._wrap(_integer_average(input.data, band_h, band_w))
    _check_floating(input, "avg_pool2d")
    return SeparableLinear.apply(input, band_h=band_h, band_w=band_w)


def adaptive_avg_pool2d(input: Tensor,
                        output_size: int | None | Sequence[int | None]) -> Tensor:
    """Average over PyTorch's adaptive bins, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output cell ``o`` of an axis of length ``L`` averages ``[floor(o*L/out), ceil((o+1)*L/out))``
    (bins may overlap or differ in size when ``out`` does not divide ``L``). ``None`` in
    ``output_size`` keeps that axis' size.

    Shape:
        (N, C, H, W) -> (N, C, *output_size), or unbatched (C, H, W) -> (C, *output_size).
    """
    _check_input(input, "adaptive_avg_pool2d")
    _check_floating(input, "adaptive_avg_pool2d")
    h, w = input.shape[-2:]
    sizes = (output_size, output_size) if output_size is None or isinstance(output_size, int) \
        else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got "
                         f"{output_size!r}")
    oh, ow = (h if sizes[0] is None else int(sizes[0])), (w if sizes[1] is None else int(sizes[1]))
    if oh <= 0 or ow <= 0:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    if (oh, ow) == (1, 1):
        return input.mean(dim=(-2, -1), keepdim=True)  # global pooling: one reduction
    return SeparableLinear.apply(input, band_h=_adaptive_band(h, oh), band_w=_adaptive_band(w, ow))


# ----------------------------------------------------------------------------- 1-D
def _check_input_1d(input: Tensor, name: str) -> None:
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{name}: expected 2D (unbatched) or 3D (batched) input, got input "
                           f"of size {tuple(input.shape)}")


def max_pool1d(input: Tensor, kernel_size: int | tuple[int],
               stride: int | tuple[int] | None = None, padding: int | tuple[int] = 0,
               dilation: int | tuple[int] = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over (dilated) windows of the last dim, as ``torch.nn.functional.max_pool1d``.

    Runs :func:`max_pool2d` on a unit height, so its rules hold: -inf padding (at most half
    the kernel), ``stride`` defaulting to the kernel, ``ceil_mode``'s last window starting
    inside the input or the left padding, the gradient to the first maximum, NaN propagated.

    Shape:
        (N, C, L) -> (N, C, L_out), or unbatched (C, L) -> (C, L_out),
        ``L_out = floor_or_ceil((L + 2p - d*(k-1) - 1) / s) + 1``.

    Returns:
        The pooled tensor, and with ``return_indices`` also the int64 positions of the
        maxima along L.

    Example:
        >>> import lucid
        >>> from lucid.nn.functional import max_pool1d
        >>> max_pool1d(lucid.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0]]]), 2)
        tensor([[[3., 5.]]])
    """
    _check_input_1d(input, "max_pool1d")
    (k,) = _single(kernel_size, "kernel_size")
    no_stride = stride is None or (isinstance(stride, (list, tuple)) and not stride)
    (s,) = (k,) if no_stride else _single(stride, "stride")
    (p,), (d,) = _single(padding, "padding"), _single(dilation, "dilation")
    out = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil_mode=ceil_mode,
                     return_indices=return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: int | tuple[int],
               stride: int | tuple[int] | None = None, padding: int | tuple[int] = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Mean over windows of the last dim, as ``torch.nn.functional.avg_pool1d``.

    Runs :func:`avg_pool2d` on a unit height, so its rules hold (zero padding at most half
    the kernel, ``count_include_pad``, ``ceil_mode`` windows clipped to the padded input,
    int64 input divided in integers).

    Shape:
        (N, C, L) -> (N, C, L_out), or unbatched (C, L) -> (C, L_out).

    Example:
        >>> import lucid
        >>> from lucid.nn.functional import avg_pool1d
        >>> avg_pool1d(lucid.tensor([[[1.0, 3.0, 2.0, 6.0]]]), 2)
        tensor([[[2., 4.]]])
    """
    _check_input_1d(input, "avg_pool1d")
    (k,) = _single(kernel_size, "kernel_size")
    no_stride = stride is None or (isinstance(stride, (list, tuple)) and not stride)
    (s,) = (k,) if no_stride else _single(stride, "stride")
    (p,) = _single(padding, "padding")
    return avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), ceil_mode=ceil_mode,
                      count_include_pad=count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input: Tensor, output_size: int | tuple[int]) -> Tensor:
    """Average over PyTorch's adaptive bins of the last dim, as
    ``torch.nn.functional.adaptive_avg_pool1d`` (:func:`adaptive_avg_pool2d` on a unit
    height).

    Shape:
        (N, C, L) -> (N, C, output_size), or unbatched (C, L) -> (C, output_size).

    Example:
        >>> import lucid
        >>> from lucid.nn.functional import adaptive_avg_pool1d
        >>> adaptive_avg_pool1d(lucid.tensor([[[1.0, 3.0, 2.0, 6.0]]]), 2)
        tensor([[[2., 4.]]])
    """
    _check_input_1d(input, "adaptive_avg_pool1d")
    (size,) = _single(output_size, "output_size")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


# ----------------------------------------------------------------------------- adaptive max
def _adaptive_output_size(name: str, input: Tensor,
                          output_size: int | None | Sequence[int | None]) -> tuple[int, int]:
    h, w = input.shape[-2:]
    sizes = (output_size, output_size) if output_size is None or isinstance(output_size, int) \
        else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"{name}: output_size must be an int or a pair, got {output_size!r}")
    oh, ow = (h if sizes[0] is None else int(sizes[0])), (w if sizes[1] is None else int(sizes[1]))
    if oh <= 0 or ow <= 0:
        raise ValueError(f"{name}: output_size must be positive, got {output_size!r}")
    return oh, ow


def _adaptive_max_axis(x: Any, axis: int, out: int) -> tuple[Any, Any]:
    """Max over PyTorch's adaptive bins along ``axis``, and each maximum's input position.

    Taps are visited in order with ``val > best or isnan(val)`` (PyTorch's rule): the first
    maximum wins, or the last NaN. Bins shorter than the widest repeat their last element,
    which can never displace the current winner by another position.
    """
    xp = xp_of(x)
    size = x.shape[axis]
    starts = np.array([(o * size) // out for o in range(out)])
    ends = np.array([-((-(o + 1) * size) // out) for o in range(out)])
    bshape = (1,) * (axis % x.ndim) + (-1,) + (1,) * (x.ndim - axis % x.ndim - 1)
    best = pos = None
    for t in range(int((ends - starts).max())):
        idx = np.minimum(starts + t, ends - 1)
        part = xp.take(x, xp.asarray(idx), axis=axis)
        taps = xp.asarray(idx).reshape(bshape)
        if best is None:
            best = part
            pos = xp.broadcast_to(taps, part.shape).astype(np.int64)
            continue
        wins = (part > best) | (part != part)
        best = xp.where(wins, part, best)
        pos = xp.where(wins, taps, pos)
    return best, pos


class AdaptiveMaxPool2dFunction(Function):
    """Max over adaptive bins of the last two axes; the gradient goes to each bin's maximum
    (scatter-added: bins may overlap). Separable: a bin's first row-major maximum is the first
    maximum of the first row whose maximum is the bin's; likewise for the last NaN.
    """

    def forward(self, x: Any, *, out_hw: tuple[int, int],
                sink: list[AdaptiveMaxPool2dFunction] | None = None) -> Any:
        xp = xp_of(x)
        if sink is not None:
            sink.append(self)
        oh, ow = out_hw
        row_best, cols = _adaptive_max_axis(x, -1, ow)  # (..., H, ow)
        best, rows = _adaptive_max_axis(row_best, -2, oh)  # (..., oh, ow)
        col = xp.take_along_axis(cols, rows, axis=-2)
        self.flat = rows * x.shape[-1] + col
        self.in_shape = x.shape
        return best

    def backward(self, gy: Any) -> Any:
        xp = xp_of(gy)
        shape = self.in_shape
        plane = shape[-2] * shape[-1]
        lead = int(np.prod(shape[:-2], dtype=np.int64))
        gx = xp.zeros(lead * plane, dtype=gy.dtype)
        offsets = (xp.arange(lead, dtype=np.int64) * plane).reshape(-1, 1)
        index = (self.flat.reshape(lead, -1) + offsets).ravel()
        xp.add.at(gx, index, gy.reshape(-1))
        return gx.reshape(shape)


def adaptive_max_pool2d(input: Tensor, output_size: int | None | Sequence[int | None],
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over PyTorch's adaptive bins, as ``torch.nn.functional.adaptive_max_pool2d``.

    Output cell ``o`` of an axis of length ``L`` covers ``[floor(o*L/out), ceil((o+1)*L/out))``
    (bins may overlap, or repeat input elements when ``out > L``). ``None`` in ``output_size``
    keeps that axis' size. The gradient flows to each bin's first maximum in row-major order
    (summed where bins overlap); a bin holding NaN pools to NaN, its index and gradient going
    to its last NaN (PyTorch's CPU rule).

    Shape:
        (N, C, H, W) -> (N, C, *output_size), or unbatched (C, H, W) -> (C, *output_size).

    Returns:
        The pooled tensor, and with ``return_indices`` also int64 flat indices ``h * W + w``
        of the maxima in each input plane.

    Example:
        >>> import lucid
        >>> from lucid.nn.functional import adaptive_max_pool2d
        >>> adaptive_max_pool2d(lucid.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    _check_input(input, "adaptive_max_pool2d")
    _check_floating(input, "adaptive_max_pool2d")
    if min(input.shape[-2:]) < 1:
        raise RuntimeError(f"adaptive_max_pool2d: expected non-empty spatial dims, got input of "
                           f"size {tuple(input.shape)}")
    out_hw = _adaptive_output_size("adaptive_max_pool2d", input, output_size)
    sink: list[AdaptiveMaxPool2dFunction] = []
    out = AdaptiveMaxPool2dFunction.apply(input, out_hw=out_hw, sink=sink)
    if not return_indices:
        return out
    return out, Tensor._wrap(sink[0].flat)


def adaptive_max_pool1d(input: Tensor, output_size: int | tuple[int],
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over PyTorch's adaptive bins of the last dim, as
    ``torch.nn.functional.adaptive_max_pool1d`` (:func:`adaptive_max_pool2d` on a unit
    height, so its rules for ties and NaN hold).

    Shape:
        (N, C, L) -> (N, C, output_size), or unbatched (C, L) -> (C, output_size).

    Returns:
        The pooled tensor, and with ``return_indices`` also the int64 positions of the
        maxima along L.

    Example:
        >>> import lucid
        >>> from lucid.nn.functional import adaptive_max_pool1d
        >>> adaptive_max_pool1d(lucid.tensor([[[1.0, 3.0, 2.0, 6.0]]]), 2)
        tensor([[[3., 6.]]])
    """
    _check_input_1d(input, "adaptive_max_pool1d")
    (size,) = _single(output_size, "output_size")
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices=return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


# ----------------------------------------------------------------------------- max unpooling
class MaxUnpool2dFunction(Function):
    """Scatter each plane's values to their flat indices in a zero plane; backward gathers."""

    def forward(self, x: Any, *, index: Any, out_hw: tuple[int, int]) -> Any:
        xp = xp_of(x)
        lead = x.shape[:-2]
        planes = int(np.prod(lead, dtype=np.int64))
        size = out_hw[0] * out_hw[1]
        self.index = index.reshape(planes, -1)
        self.in_shape = x.shape
        out = xp.zeros((planes, size), dtype=x.dtype)
        rows = xp.arange(planes).reshape(-1, 1)
        out[rows, self.index] = x.reshape(planes, -1)
        return out.reshape(lead + tuple(out_hw))

    def backward(self, gy: Any) -> Any:
        xp = xp_of(gy)
        planes = self.index.shape[0]
        flat = gy.reshape(planes, -1)
        return xp.take_along_axis(flat, self.index, axis=1).reshape(self.in_shape)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: int | tuple[int, int],
                 stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """Partial inverse of :func:`max_pool2d`, as ``torch.nn.functional.max_unpool2d``.

    Each value goes to its flat index ``h * W_out + w`` in a zero plane; everything else is
    zero. The default output is ``(H - 1) * stride - 2 * padding + kernel_size`` per axis;
    ``output_size`` ((H, W), or four sizes (N, C, H, W) whose last two are used, also for an
    unbatched input, as PyTorch) may differ from it by less than ``stride``. The gradient
    gathers back from the indices. Where several values share an index the last one in memory
    order is kept (PyTorch leaves this unspecified).
    Indices outside the output raise ``RuntimeError`` (as PyTorch's CPU kernel).

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out), or unbatched (C, H, W) -> (C, H_out, W_out).

    Example:
        >>> import lucid
        >>> from lucid.nn.functional import max_pool2d, max_unpool2d
        >>> out, idx = max_pool2d(lucid.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
        >>> max_unpool2d(out, idx, 2)
        tensor([[[[ 0.,  0.,  0.,  0.],
                  [ 0.,  5.,  0.,  7.],
                  [ 0.,  0.,  0.,  0.],
                  [ 0., 13.,  0., 15.]]]])
    """
    _check_input(input, "max_unpool2d")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"max_unpool2d: expected shape of indices to be same as that of the "
                           f"input tensor ({tuple(input.shape)}) but got indices tensor with "
                           f"shape: {tuple(indices.shape)}")
    if indices.dtype != np.int64:
        raise RuntimeError(f"max_unpool2d: expected indices to have dtype int64, got "
                           f"{indices.dtype}")
    kernel = _pair(kernel_size, "kernel_size")
    strides = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _pair(stride, "stride")
    pads = _pair(padding, "padding")
    default = tuple((s - 1) * st - 2 * p + k for s, st, p, k in
                    zip(input.shape[-2:], strides, pads, kernel, strict=True))
    if output_size is None:
        out_hw = default
    else:
        sizes = tuple(int(s) for s in output_size)
        if len(sizes) == 4:  # as PyTorch: a full (N, C, H, W) shape, even for unbatched input
            sizes = sizes[-2:]
        if len(sizes) != 2:
            raise ValueError(f"max_unpool2d: output_size must have 2 or 4 elements, got "
                             f"{output_size!r}")
        for d in range(2):
            if not default[d] - strides[d] < sizes[d] < default[d] + strides[d]:
                raise ValueError(f"max_unpool2d: invalid output_size {output_size!r} (dim {d} "
                                 f"must be between {default[d] - strides[d]} and "
                                 f"{default[d] + strides[d]})")
        out_hw = sizes
    if min(out_hw) < 1:
        raise ValueError(f"max_unpool2d: output size {out_hw} must be positive")
    index = indices.data
    if index.size and (int(index.min()) < 0 or int(index.max()) >= out_hw[0] * out_hw[1]):
        raise RuntimeError(f"max_unpool2d: found an invalid max index (outside an output of "
                           f"size {out_hw[0]}x{out_hw[1]})")
    return MaxUnpool2dFunction.apply(input, index=index, out_hw=tuple(out_hw))
