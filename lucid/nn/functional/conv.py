"""2-D convolution (PyTorch's ``conv2d``: cross-correlation, zero padding, groups, dilation).

Three kernels share one public entry point, chosen by shape:

* **im2col + GEMM** (strided convs, and convs that widen the channels): the input windows
  are copied once into a column buffer ``(N, C*KH*KW, OH*OW)`` and one batched GEMM does the
  rest. A 1x1 stride-1 conv has no copy at all: the input *is* its column buffer.
* **shifted GEMM** (stride 1 and ``C_out <= C_in``, i.e. most decoder convs; the forward only
  from ``C_out <= C_in / 2``): on the flattened padded image, kernel offset ``(kh, kw)`` is
  a constant shift ``kh*dh*Wp + kw*dw`` of the flat index. One GEMM multiplies the input by
  all ``KH*KW`` weight slices at once and the output is the sum of ``KH*KW`` shifted slices
  of that product (computed on rows of width ``Wp``, then cropped). Backward needs no column
  buffer and no col2im: the gradient is spread to the ``KH*KW`` shifts once, then
  grad-input and grad-weight are one GEMM each. Its buffers scale with ``C_out`` where
  im2col's scale with ``C_in``, hence the channel rule.
* **Winograd F(4x4, 3x3)** (dense 3x3 stride 1, at least 16 channels in and out, numpy):
  forward and grad-input, in ``winograd.py``; grad-weight stays one of the GEMMs above.
* **depthwise** (``groups == C_in``): a loop over the ``KH*KW`` kernel offsets of
  broadcast multiply-adds, vectorised over batch, channels and pixels; no GEMM. It runs
  channels-last when N*C is longer than a plane (numpy's loops pay per innermost row).

All work stays in the input's dtype (float32 in, float32 sgemm). Only the kernel offsets are
looped over in Python, never pixels, channels or batch entries. Large temporaries (columns
that backward does not need, GEMM products, spread gradients) live in a reused per-thread
scratch buffer (``_pairs.scratch``) instead of fresh memory that the OS must zero-fill.
Tensors saved for backward are only those its gradients need: a frozen weight (the encoder)
keeps no columns and no input copy.
"""

from __future__ import annotations

from typing import Any

from lucid.autograd import Function, is_grad_enabled
from lucid.nn.functional import winograd
from lucid.nn.functional._pairs import _pair, scratch
from lucid.ops._util import xp_of
from lucid.tensor import Tensor

Pads = tuple[int, int, int, int]  # (top, bottom, left, right)


# ----------------------------------------------------------------------------- array helpers
def _pad_zeros(x: Any, pads: Pads) -> Any:
    """Zero-pad the last two axes of ``x`` (N, C, H, W); no copy when there is no padding."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    xp = xp_of(x)
    n, c, h, w = x.shape
    out = xp.zeros((n, c, h + top + bottom, w + left + right), dtype=x.dtype)
    out[:, :, top : top + h, left : left + w] = x
    return out


def _crop(x: Any, pads: Pads, copy: bool = False) -> Any:
    """Undo ``_pad_zeros`` (the gradient of padding); a contiguous array (a copy if asked)."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x.copy() if copy else x
    h, w = x.shape[-2] - top - bottom, x.shape[-1] - left - right
    return xp_of(x).ascontiguousarray(x[..., top : top + h, left : left + w])


def _out_size(padded: int, kernel: int, stride: int, dilation: int) -> int:
    return (padded - dilation * (kernel - 1) - 1) // stride + 1


def _offset_slice(k: int, dilation: int, stride: int, out: int) -> slice:
    """Rows (or columns) of the padded input that kernel offset ``k`` reads, one per output."""
    start = k * dilation
    return slice(start, start + stride * (out - 1) + 1, stride)


def _im2col(xpad: Any, kernel: tuple[int, int], stride: tuple[int, int],
            dilation: tuple[int, int], out_hw: tuple[int, int], fresh: bool = True) -> Any:
    """Columns ``(N, C*KH*KW, OH*OW)`` of a padded input, as one contiguous copy.

    ``cols[n, (c, kh, kw), (oh, ow)] = xpad[n, c, oh*sh + kh*dh, ow*sw + kw*dw]``. The
    (N, C, KH, KW, OH, OW) window view is free (strides only); the copy reads rows of OW
    elements, contiguous for stride 1. ``fresh=False`` writes into scratch memory.
    """
    xp = xp_of(xpad)
    n, c = xpad.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    if kh == kw == 1 and sh == sw == 1 and xpad.shape[2:] == (oh, ow):
        return xpad.reshape(n, c, oh * ow)  # 1x1 stride 1: the input is its own column buffer
    s = xpad.strides
    windows = xp.lib.stride_tricks.as_strided(
        xpad, (n, c, kh, kw, oh, ow), (s[0], s[1], s[2] * dh, s[3] * dw, s[2] * sh, s[3] * sw)
    )
    shape = (n, c, kh, kw, oh, ow)
    cols = xp.empty(shape, dtype=xpad.dtype) if fresh else scratch(xp, shape, xpad.dtype)
    cols[...] = windows
    return cols.reshape(n, c * kh * kw, oh * ow)


def _col2im(gcols: Any, padded_shape: tuple[int, ...], kernel: tuple[int, int],
            stride: tuple[int, int], dilation: tuple[int, int], pads: Pads) -> Any:
    """Adjoint of ``_im2col`` followed by the crop of the padding: (N, C, H, W).

    ``gcols`` is (N, C*KH*KW, OH*OW) (any leading group split); each kernel offset's
    columns are added back onto the padded input with one strided add.
    """
    xp = xp_of(gcols)
    n, c, hp, wp = padded_shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = _out_size(hp, kh, sh, dh), _out_size(wp, kw, sw, dw)
    if kh == kw == 1 and sh == sw == 1 and (hp, wp) == (oh, ow):
        return _crop(gcols.reshape(padded_shape), pads, copy=True)
    g = gcols.reshape(n, c, kh, kw, oh, ow)
    out = xp.zeros(padded_shape, dtype=gcols.dtype)
    for i in range(kh):
        rows = _offset_slice(i, dh, sh, oh)
        for j in range(kw):
            out[:, :, rows, _offset_slice(j, dw, sw, ow)] += g[:, :, i, j]
    return _crop(out, pads)


def _matmul_into(a: Any, b: Any, out: Any) -> None:
    """``out[...] = a @ b`` without a temporary where the backend allows it.

    numpy hands a strided ``out`` (unit inner stride) straight to BLAS; CuPy gets a plain
    matmul and a copy, which is cheap on a GPU and sidesteps its ``out`` restrictions.
    """
    xp = xp_of(a)
    if xp.__name__ == "numpy":
        xp.matmul(a, b, out=out)
    else:
        out[...] = xp.matmul(a, b)


def _shifts(kernel: tuple[int, int], dilation: tuple[int, int], wp: int) -> list[int]:
    """Flat-index shift of each kernel offset on a padded image of width ``wp``."""
    return [i * dilation[0] * wp + j * dilation[1] for i in range(kernel[0])
            for j in range(kernel[1])]


# ----------------------------------------------------------------------------- dense / grouped
class Conv2dFunction(Function):
    """Dense or grouped conv (not depthwise), inputs ``(x, weight[, bias])``.

    Shapes: x (N, C, H, W) or (C, H, W); weight (C_out, C/groups, KH, KW); bias (C_out,).
    Forward and backward each pick im2col or shifted GEMM (see the module docstring).
    """

    def forward(self, x: Any, weight: Any, bias: Any = None, *, stride: tuple[int, int],
                pads: Pads, dilation: tuple[int, int], groups: int,
                need_weight_grad: bool = True) -> Any:
        xp = xp_of(x)
        self.unbatched = x.ndim == 3
        if self.unbatched:
            x = x[None]
        n, c = x.shape[:2]
        co, cg, kh, kw = weight.shape
        # dense 3x3 stride 1: Winograd F(4x4, 3x3) for the forward and grad-input; it pads
        # on the fly, so the padded copy then only serves grad-weight
        self.winograd = winograd.applies(xp, x.shape, weight.shape, stride, dilation, groups,
                                         pads)
        xpad = None if self.winograd and not need_weight_grad else _pad_zeros(x, pads)
        hp, wp = x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3]
        oh = _out_size(hp, kh, stride[0], dilation[0])
        ow = _out_size(wp, kw, stride[1], dilation[1])
        self.params = (stride, pads, dilation, groups, (kh, kw))
        self.x_shape, self.padded_shape, self.out_hw = x.shape, (n, c, hp, wp), (oh, ow)
        self.has_bias, self.weight, self.cols = bias is not None, weight, None
        # Shifted GEMM needs stride 1 (1x1 convs need no im2col anyway). Its elementwise work
        # scales with C_out where im2col's scales with C_in: backward (copy + GEMM + col2im
        # vs. spread + GEMM) wins from C_out <= C_in; forward (im2col copy vs. KH*KW shifted
        # adds, which cost more per element than a copy) only once C_out is clearly smaller.
        can_shift = stride == (1, 1) and (kh, kw) != (1, 1)
        self.shifted = can_shift and co <= c
        fwd_shift = can_shift and 2 * co <= c
        if self.winograd:
            out = winograd.winograd_conv3x3(x, weight, pads)
        elif fwd_shift:
            out = _shifted_forward(xpad, weight, groups, dilation, (oh, ow))
        else:
            # columns are kept only for an im2col grad-weight; else they live in scratch
            keep = need_weight_grad and not self.shifted
            cols = _im2col(xpad, (kh, kw), stride, dilation, (oh, ow), fresh=keep)
            w2 = weight.reshape(groups, co // groups, cg * kh * kw)
            cols4 = cols.reshape(n, groups, cg * kh * kw, oh * ow)
            out = xp.matmul(w2, cols4).reshape(n, co, oh, ow)
            self.cols = cols if keep else None
        # only grad-weight reads the input (saved columns, or xpad for the shifted GEMM or
        # rebuilt columns): a frozen weight keeps nothing
        self.need_w = need_weight_grad
        self.xpad = xpad if need_weight_grad and self.cols is None else None
        if bias is not None:
            out += bias.reshape(co, 1, 1)
        return out[0] if self.unbatched else out

    def backward(self, gy: Any) -> tuple[Any, ...]:
        xp = xp_of(gy)
        stride, pads, dilation, g, kernel = self.params
        weight = self.weight
        co, cg, kh, kw = weight.shape
        n = self.x_shape[0]
        oh, ow = self.out_hw
        if self.unbatched:
            gy = gy[None]
        want_x = self.inputs[0].requires_grad
        want_w = self.need_w and self.inputs[1].requires_grad
        gx = gw = None
        if self.winograd and want_x:
            gx = winograd.winograd_grad_input(xp.ascontiguousarray(gy), weight, pads)
            want_x = False
        if self.shifted:
            if want_x or want_w:
                gx_shift, gw = _shifted_backward(gy, self.xpad if want_w else None,
                                                 self.padded_shape, weight, g, dilation, pads,
                                                 want_x)
                gx = gx if gx_shift is None else gx_shift
        else:
            gy4 = xp.ascontiguousarray(gy).reshape(n, g, co // g, oh * ow)
            w2 = weight.reshape(g, co // g, cg * kh * kw)
            if want_w:
                cols = self.cols
                if cols is None:  # columns went to scratch (shifted backward): rebuild them
                    cols = _im2col(self.xpad, kernel, stride, dilation, (oh, ow))
                cols4 = cols.reshape(n, g, cg * kh * kw, oh * ow)
                gw = xp.matmul(gy4, cols4.transpose(0, 1, 3, 2)).sum(axis=0).reshape(weight.shape)
            if want_x:
                gcols = scratch(xp, (n, g, cg * kh * kw, oh * ow), gy.dtype)
                _matmul_into(w2.transpose(0, 2, 1), gy4, gcols)
                gx = _col2im(gcols, self.padded_shape, kernel, stride, dilation, pads)
        if gx is not None and self.unbatched:
            gx = gx[0]
        grads: tuple[Any, ...] = (gx, gw)
        if self.has_bias:
            grads += (gy.sum(axis=(0, 2, 3)),)
        return grads


def _shifted_forward(xpad: Any, weight: Any, groups: int, dilation: tuple[int, int],
                     out_hw: tuple[int, int]) -> Any:
    """Stride-1 conv as one GEMM over all kernel offsets plus KH*KW shifted adds.

    ``prod[n, g, k, o, j] = sum_c w[g, o, c, k] * xflat[n, g, c, j]`` on the flattened padded
    image; ``out[n, o, y, x] = sum_k prod[n, k, o, shift_k + y*Wp + x]``. Each shifted term
    is read as a (OH, Wp) block of a prod row and cropped to OW columns, so the sum lands in
    the output directly; rows get a tail of ``dw*(KW-1)`` so the last block stays in bounds.
    """
    xp = xp_of(xpad)
    n, c, hp, wp = xpad.shape
    co, cg, kh, kw = weight.shape
    k, cog, plane = kh * kw, co // groups, hp * wp
    oh, ow = out_hw
    tail = dilation[1] * (kw - 1)
    # all kernel offsets in one weight matrix: rows (offset, c_out), per group
    w_all = weight.reshape(groups, cog, cg, k).transpose(0, 3, 1, 2).reshape(groups, k * cog, cg)
    prod = scratch(xp, (n, groups, k, cog, plane + tail), xpad.dtype)
    _matmul_into(w_all, xpad.reshape(n, groups, cg, plane),
                 prod.reshape(n, groups, k * cog, plane + tail)[..., :plane])
    out = xp.empty((n, groups, cog, oh, ow), dtype=xpad.dtype)
    for index, shift in enumerate(_shifts((kh, kw), dilation, wp)):
        # columns ow..wp-1 of a block row straddle two image rows (or the tail): cropped
        block = prod[:, :, index, :, shift : shift + oh * wp].reshape(n, groups, cog, oh, wp)
        if index == 0:
            out[...] = block[..., :ow]
        else:
            out += block[..., :ow]
    return out.reshape(n, co, oh, ow)


def _shifted_backward(gy: Any, xpad: Any, padded_shape: tuple[int, ...], weight: Any,
                      groups: int, dilation: tuple[int, int], pads: Pads,
                      want_x: bool) -> tuple[Any, Any]:
    """Adjoint of ``_shifted_forward``: spread gy to every kernel shift, then two GEMMs.

    ``spread[n, g, k, o, j] = gy_wide[n, g, o, j - shift_k]`` (zero outside), where gy_wide
    is gy on rows of width Wp with zero padding columns. Then
    ``grad_xflat = W_all^T @ spread`` and ``grad_W_all = sum_n spread @ xflat^T`` (only
    when ``xpad`` is given).
    """
    xp = xp_of(gy)
    n, c, hp, wp = padded_shape
    co, cg, kh, kw = weight.shape
    k, cog, plane = kh * kw, co // groups, hp * wp
    oh, ow = gy.shape[2:]
    tail = dilation[1] * (kw - 1)
    wide = xp.zeros((n, groups, cog, oh, wp), dtype=gy.dtype)
    wide[..., :ow] = gy.reshape(n, groups, cog, oh, ow)
    wide = wide.reshape(n, groups, cog, oh * wp)
    spread = scratch(xp, (n, groups, k, cog, plane + tail), gy.dtype)
    for index, shift in enumerate(_shifts((kh, kw), dilation, wp)):
        spread[:, :, index, :, :shift] = 0
        spread[:, :, index, :, shift : shift + oh * wp] = wide
        spread[:, :, index, :, shift + oh * wp :] = 0
    spread = spread.reshape(n, groups, k * cog, plane + tail)[..., :plane]
    gx = gw = None
    if xpad is not None:
        xflat_t = xpad.reshape(n, groups, cg, plane).transpose(0, 1, 3, 2)
        gw_all = xp.matmul(spread, xflat_t).sum(axis=0)  # (g, k*cog, cg)
        gw = gw_all.reshape(groups, k, cog, cg).transpose(0, 2, 3, 1).reshape(weight.shape)
    if want_x:
        w_all_t = weight.reshape(groups, cog, cg, k).transpose(0, 2, 3, 1)
        gxpad = xp.matmul(w_all_t.reshape(groups, cg, k * cog), spread)
        gx = _crop(gxpad.reshape(padded_shape), pads)
    return gx, gw


# ----------------------------------------------------------------------------- depthwise
def _to_channels_last(a: Any, slot: int | None = None) -> Any:
    """(N, C, H, W) -> contiguous (H, W, N, C); in scratch ``slot`` if given, else fresh.

    A plane of a multiple of 1 KiB makes the transposing copy read with a stride that maps
    every element to the same cache set (3x slower); going through a buffer with one spare
    column per row breaks that stride first.
    """
    xp = xp_of(a)
    n, c, h, w = a.shape
    if (h * w * a.itemsize) % 1024 == 0:
        buffer = scratch(xp, (n, c, h, w + 1), a.dtype, slot=3)
        buffer[..., :w] = a
        a = buffer[..., :w]
    shape = (h, w, n, c)
    out = xp.empty(shape, dtype=a.dtype) if slot is None else scratch(xp, shape, a.dtype, slot)
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


class DepthwiseConv2dFunction(Function):
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
            out = scratch(xp, (oh, ow, n, c) + ((m,) if m > 1 else ()), x.dtype, slot=1)
        else:
            src = xpad
            wk = wk[..., None, None]
            out = xp.empty((n, c) + ((m,) if m > 1 else ()) + (oh, ow), dtype=x.dtype)
        axes = 0 if self.channels_last else 2
        tmp = scratch(xp, out.shape, out.dtype)
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
                gsrc = scratch(xp, gsrc_shape, gy.dtype, slot=1)
                gsrc.fill(0)
            else:
                gsrc = xp.zeros(gsrc_shape, dtype=gy.dtype)
        gw = xp.empty((kh * kw, c) + mshape, dtype=gy.dtype) if want_w else None
        tmp = scratch(xp, g.shape, gy.dtype)
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


# ----------------------------------------------------------------------------- public API
def _conv_padding(padding: str | int | tuple[int, int], kernel: tuple[int, int],
                  stride: tuple[int, int], dilation: tuple[int, int]) -> Pads:
    """PyTorch's padding argument as (top, bottom, left, right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided "
                                 f"convolutions (got stride={stride})")
            # as PyTorch: total = d*(k-1); the extra pixel of an odd total goes bottom/right
            th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
            return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        raise ValueError(f"conv2d: invalid padding string {padding!r}, should be one of "
                         "{'valid', 'same'}")
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"conv2d: negative padding is not supported, got {padding!r}")
    return (ph, ph, pw, pw)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride: int | tuple[int, int] = 1, padding: str | int | tuple[int, int] = 0,
           dilation: int | tuple[int, int] = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    ``out[n, o, y, x] = bias[o] + sum_{c in group(o), kh, kw}
    weight[o, c, kh, kw] * input_padded[n, c, y*sh + kh*dh, x*sw + kw*dw]``

    Args:
        input: (N, C_in, H, W), or (C_in, H, W) unbatched.
        weight: (C_out, C_in / groups, KH, KW).
        bias: (C_out,) or None.
        stride, dilation: int or (h, w), positive.
        padding: int or (h, w) zero padding on both sides, ``"valid"`` (none) or ``"same"``
            (stride 1 only; output size = input size; when ``d*(k-1)`` is odd the extra
            row/column goes at the bottom/right, as in PyTorch). Other padding modes: pad
            with ``lucid.functional.pad`` first.
        groups: split input and output channels into this many independent convolutions.

    Shape:
        Output (N, C_out, H_out, W_out) (no N when the input is unbatched) with
        ``H_out = (H + pad_top + pad_bottom - dh*(KH-1) - 1) // sh + 1`` (same for W).

    Raises:
        RuntimeError: shape mismatches (channels, groups, bias, kernel larger than input,
            dtypes), worded like PyTorch's messages.
        ValueError: bad argument values (padding string, 'same' with stride > 1, non-positive
            stride/dilation/groups, negative padding).

    Example:
        >>> import lucid
        >>> from lucid.nn.functional.conv import conv2d
        >>> x = lucid.ones(1, 2, 5, 5)
        >>> conv2d(x, lucid.ones(4, 2, 3, 3), padding=1).shape
        (1, 4, 5, 5)
    """
    if input.ndim not in (3, 4):
        raise RuntimeError("conv2d: expected 3D (unbatched) or 4D (batched) input, but got "
                           f"input of size {tuple(input.shape)}")
    if weight.ndim != 4:
        raise RuntimeError(f"conv2d: expected a 4D weight (C_out, C_in/groups, KH, KW), got "
                           f"size {tuple(weight.shape)}")
    stride_, dilation_ = _pair(stride, "stride"), _pair(dilation, "dilation")
    if min(stride_) <= 0:
        raise ValueError(f"conv2d: stride must be positive, got {stride!r}")
    if min(dilation_) <= 0:
        raise ValueError(f"conv2d: dilation must be positive, got {dilation!r}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"conv2d: groups must be a positive integer, got {groups!r}")
    co, cg, kh, kw = weight.shape
    c, h, w = input.shape[-3:]
    if co % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {list(weight.shape)} instead")
    if c != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {cg * groups} channels, but got "
                           f"{c} channels instead")
    if bias is not None and tuple(bias.shape) != (co,):
        raise RuntimeError(f"conv2d: expected bias of shape ({co},) for {co} output channels, "
                           f"got {tuple(bias.shape)}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"conv2d: input type ({input.dtype}) and {name} type "
                               f"({t.dtype}) should be the same")
    pads = _conv_padding(padding, (kh, kw), stride_, dilation_)
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    if hp < dilation_[0] * (kh - 1) + 1 or wp < dilation_[1] * (kw - 1) + 1:
        raise RuntimeError(f"Calculated padded input size per channel: ({hp} x {wp}). Kernel "
                           f"size: ({dilation_[0] * (kh - 1) + 1} x {dilation_[1] * (kw - 1) + 1})."
                           " Kernel size can't be greater than actual input size")
    depthwise = groups == c and groups > 1
    # Winograd needs no column buffer (its work runs in cache-sized chunks): no bands
    fast = winograd.applies(xp_of(input.data), input.shape, weight.shape, stride_, dilation_,
                            groups, pads)
    if not depthwise and not fast and not is_grad_enabled() and input.ndim == 4:
        band = _band_rows(input.shape[0], max(c, co) * kh * kw, wp, input.dtype.itemsize)
        if band < _out_size(hp, kh, stride_[0], dilation_[0]):
            return _conv2d_in_bands(input, weight, bias, stride_, pads, dilation_, groups, band)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    fn = DepthwiseConv2dFunction if depthwise else Conv2dFunction
    return fn.apply(*inputs, stride=stride_, pads=pads, dilation=dilation_, groups=groups,
                    need_weight_grad=is_grad_enabled() and weight.requires_grad)


BAND_BYTES = 64 << 20  # im2col / shifted-GEMM buffer allowed per call when nothing is recorded


def _band_rows(n: int, taps: int, width: int, itemsize: int) -> int:
    """Output rows per band so that a band's column buffer stays near ``BAND_BYTES``."""
    return max(1, BAND_BYTES // (n * taps * width * itemsize))


def _conv2d_in_bands(input: Tensor, weight: Tensor, bias: Tensor | None,
                     stride: tuple[int, int], pads: Pads, dilation: tuple[int, int],
                     groups: int, band: int) -> Tensor:
    """Inference on a large image: the same convolution, a band of output rows at a time.

    Column buffers grow with the image (9x the input for a 3x3 kernel); bands bound them, so
    memory stays flat for any image size. Only used when no graph is recorded.
    """
    xp = xp_of(input.data)
    (kh, _), (sh, _), (dh, _) = weight.shape[2:], stride, dilation
    rows = xp.pad(input.data, ((0, 0), (0, 0), (pads[0], pads[1]), (0, 0)))
    oh = _out_size(rows.shape[2], kh, sh, dh)
    inputs = (weight,) if bias is None else (weight, bias)
    out = None
    for r0 in range(0, oh, band):
        r1 = min(oh, r0 + band)
        chunk = Tensor._wrap(rows[:, :, r0 * sh : (r1 - 1) * sh + dh * (kh - 1) + 1])
        y = Conv2dFunction.apply(chunk, *inputs, stride=stride, pads=(0, 0, pads[2], pads[3]),
                                 dilation=dilation, groups=groups, need_weight_grad=False).data
        if out is None:
            out = xp.empty(y.shape[:2] + (oh,) + y.shape[3:], dtype=y.dtype)
        out[:, :, r0:r1] = y
    return Tensor._wrap(out)
