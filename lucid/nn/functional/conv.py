"""2-D convolution (PyTorch's ``conv2d``: cross-correlation, zero padding, groups, dilation).

Three kernels share one public entry point, chosen by shape:

* **im2col + GEMM** (strided convs, and convs that widen the channels; every dense conv's
  forward on a GPU): the input windows are copied once into a column buffer
  ``(N, C*KH*KW, OH*OW)`` and one batched GEMM does the rest. A 1x1 stride-1 conv has no
  copy at all: the input *is* its column buffer. On a GPU one CUDA kernel writes the
  columns straight from the unpadded input (``im2col_cuda.py``).
* **shifted GEMM** (stride 1 and ``C_out <= C_in``, i.e. most decoder convs; the forward only
  from ``C_out <= C_in / 2``): on the flattened padded image, kernel offset ``(kh, kw)`` is
  a constant shift ``kh*dh*Wp + kw*dw`` of the flat index. One GEMM multiplies the input by
  all ``KH*KW`` weight slices at once and the output is the sum of ``KH*KW`` shifted slices
  of that product (computed on rows of width ``Wp``, then cropped). Backward needs no column
  buffer and no col2im: the gradient is spread to the ``KH*KW`` shifts once, then
  grad-input and grad-weight are one GEMM each. Its buffers scale with ``C_out`` where
  im2col's scale with ``C_in``, hence the channel rule.
* **Winograd F(4x4, 3x3)** (dense 3x3 stride 1, at least 16 channels in and out, numpy):
  forward, grad-input and grad-weight, in ``winograd.py``; no padded copy, no column buffer.
  An input holding NaN or inf goes to the GEMM kernels instead (the forward's transforms
  would spread it over whole 4x4 output tiles); the gradients do not check, so a NaN or inf
  output gradient spreads over tiles there, where PyTorch's stays in each 3x3 window.
* **depthwise** (``groups == C_in``): a loop over the ``KH*KW`` kernel offsets of in-place
  multiply-adds; no GEMM. Channels-first: the images of one channel lie on a flat canvas
  whose zero margins they share, where each offset is a shift of the flat index, so one
  multiply-add covers a channel's whole batch (strided convs: the canvas is split into
  stride phases first). The input gradient is the same loop over the output gradient.

All work stays in the input's dtype (float32 in, float32 sgemm; on a GPU the float32 GEMMs
run on TF32 unless ``lucid.gpu.set_conv_tf32(False)``, as PyTorch's cuDNN convolutions do).
Only the kernel offsets are looped over in Python, never pixels, channels or batch entries.
Large temporaries (columns that backward does not need, GEMM products, spread gradients) live
in a reused per-thread scratch buffer (``_pairs.scratch``) instead of fresh memory that the OS
must zero-fill. Tensors saved for backward are only those its gradients need: a frozen weight
(the encoder) keeps no columns and no input copy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from lucid.autograd import Function, is_grad_enabled
from lucid.backend import conv_math
from lucid.nn.functional import im2col_cuda, winograd
from lucid.nn.functional._pairs import _pair, _single, scratch
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
    """Undo ``_pad_zeros`` (the gradient of padding); a contiguous array, and a copy if asked
    (``x`` in scratch memory: a crop that happens to be contiguous, as one with a single
    channel cropped only in height is, would otherwise come back as a view of it)."""
    top, bottom, left, right = pads
    h, w = x.shape[-2] - top - bottom, x.shape[-1] - left - right
    cropped = x[..., top : top + h, left : left + w]
    return cropped.copy() if copy else xp_of(x).ascontiguousarray(cropped)


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
            stride: tuple[int, int], dilation: tuple[int, int], pads: Pads,
            out_hw: tuple[int, int] | None = None) -> Any:
    """Adjoint of ``_im2col`` followed by the crop of the padding: (N, C, H, W).

    ``gcols`` is (N, C*KH*KW, OH*OW) (any leading group split); each kernel offset's
    columns are added back onto the padded input with one strided add. ``out_hw`` is
    (OH, OW), by default the conv's output size on ``padded_shape`` (a transposed conv's
    output_padding can leave rows at the end that no window reaches: then it is smaller).
    """
    xp = xp_of(gcols)
    n, c, hp, wp = padded_shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = out_hw or (_out_size(hp, kh, sh, dh), _out_size(wp, kw, sw, dw))
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


def _columns_times_weight(cols: Any, weight: Any, groups: int, out_hw: tuple[int, int]) -> Any:
    """The convolution from its columns ``(N, C*KH*KW, OH*OW)``: one (batched) GEMM."""
    n = cols.shape[0]
    co, cg, kh, kw = weight.shape
    if n == 1 and groups == 1:  # a plain GEMM: no batch to broadcast over
        return xp_of(cols).matmul(weight.reshape(co, -1), cols[0]).reshape(1, co, *out_hw)
    w2 = weight.reshape(groups, co // groups, cg * kh * kw)
    cols4 = cols.reshape(n, groups, cg * kh * kw, out_hw[0] * out_hw[1])
    return xp_of(cols).matmul(w2, cols4).reshape(n, co, *out_hw)


def _shifts(kernel: tuple[int, int], dilation: tuple[int, int], wp: int) -> list[int]:
    """Flat-index shift of each kernel offset on a padded image of width ``wp``."""
    return [i * dilation[0] * wp + j * dilation[1] for i in range(kernel[0])
            for j in range(kernel[1])]


# ----------------------------------------------------------------------------- dense / grouped
def _in_conv_math(method: Callable) -> Callable:
    """Run a conv's forward or backward with its GEMMs in ``conv_math`` (TF32 on a GPU)."""

    @functools.wraps(method)
    def run(self: Function, array: Any, *args: Any, **kwargs: Any) -> Any:
        with conv_math(array):
            return method(self, array, *args, **kwargs)

    return run


class Conv2dFunction(Function):
    """Dense or grouped conv (not depthwise), inputs ``(x, weight[, bias])``.

    Shapes: x (N, C, H, W) or (C, H, W); weight (C_out, C/groups, KH, KW); bias (C_out,).
    Forward and backward each pick im2col or shifted GEMM (see the module docstring).
    """

    reads_inputs = "others"

    @_in_conv_math
    def forward(self, x: Any, weight: Any, bias: Any = None, *, stride: tuple[int, int],
                pads: Pads, dilation: tuple[int, int], groups: int,
                need_weight_grad: bool = True) -> Any:
        xp = xp_of(x)
        self.unbatched = x.ndim == 3
        if self.unbatched:
            x = x[None]
        n, c = x.shape[:2]
        co, cg, kh, kw = weight.shape
        # dense 3x3 stride 1: Winograd F(4x4, 3x3) for the forward and both gradients; it
        # pads on the fly, so no padded copy is made
        self.winograd = winograd.applies(xp, x.shape, weight.shape, stride, dilation, groups,
                                         pads)
        hp, wp = x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3]
        oh = _out_size(hp, kh, stride[0], dilation[0])
        ow = _out_size(wp, kw, stride[1], dilation[1])
        # GPU: the columns come straight from x, padding included, in one kernel
        direct = (xp.__name__ != "numpy" and im2col_cuda.fits(x, (kh, kw), (oh, ow))
                  and not ((kh, kw) == stride == (1, 1) and not any(pads)))
        self.params = (stride, pads, dilation, groups, (kh, kw))
        self.x_shape, self.padded_shape, self.out_hw = x.shape, (n, c, hp, wp), (oh, ow)
        self.has_bias, self.weight, self.cols = bias is not None, weight, None
        # Shifted GEMM needs stride 1 (1x1 convs need no im2col anyway). Its elementwise work
        # scales with C_out where im2col's scales with C_in: backward (copy + GEMM + col2im
        # vs. spread + GEMM) wins from C_out <= C_in; forward (im2col copy vs. KH*KW shifted
        # adds, which cost more per element than a copy) only once C_out is clearly smaller.
        can_shift = stride == (1, 1) and (kh, kw) != (1, 1)
        self.shifted = can_shift and co <= c
        # (not on a GPU: its KH*KW shifted adds are launches of their own, slower than the
        # column kernel even for the decoder's 64->3 conv: 0.97 ms vs 0.51 ms at 512 px)
        fwd_shift = can_shift and 2 * co <= c and not direct
        out = winograd.winograd_conv3x3(x, weight, pads) if self.winograd else None
        self.winograd = out is not None  # None: NaN or inf, which the GEMM paths keep local
        xpad = None if self.winograd or direct else _pad_zeros(x, pads)
        if out is None and fwd_shift:
            out = _shifted_forward(xpad, weight, groups, dilation, (oh, ow))
        elif out is None:
            # columns are kept only for an im2col grad-weight; else they live in scratch
            keep = need_weight_grad and not self.shifted
            cols = (im2col_cuda.im2col(x, (kh, kw), stride, dilation, pads, (oh, ow)) if direct
                    else _im2col(xpad, (kh, kw), stride, dilation, (oh, ow), fresh=keep))
            out = _columns_times_weight(cols, weight, groups, (oh, ow))
            self.cols = cols if keep else None
        # only grad-weight reads the input (saved columns, xpad for the shifted GEMM or
        # rebuilt columns, x itself for Winograd): a frozen weight keeps nothing
        self.need_w = need_weight_grad
        if xpad is None and need_weight_grad and self.cols is None and not self.winograd:
            xpad = _pad_zeros(x, pads)  # the GPU's direct columns, then a shifted backward
        self.xpad = xpad if need_weight_grad and self.cols is None else None
        self.x = x if need_weight_grad and self.winograd else None
        if bias is not None:
            out += bias.reshape(co, 1, 1)
        return out[0] if self.unbatched else out

    @_in_conv_math
    def backward(self, gy: Any) -> tuple[Any, ...]:
        xp = xp_of(gy)
        stride, pads, dilation, g, kernel = self.params
        weight = self.weight
        co, cg, kh, kw = weight.shape
        n = self.x_shape[0]
        oh, ow = self.out_hw
        if self.unbatched:
            gy = gy[None]
        want_x = self.needs[0]
        want_w = self.need_w and self.needs[1]
        gx = gw = None
        if self.winograd:
            gy = xp.ascontiguousarray(gy)
            if want_x:
                gx = winograd.winograd_grad_input(gy, weight, pads)
            if want_w:
                gw = winograd.winograd_grad_weight(self.x, gy, pads)
        elif self.shifted:
            if want_x or want_w:
                gx, gw = _shifted_backward(gy, self.xpad if want_w else None,
                                           self.padded_shape, weight, g, dilation, pads, want_x)
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
DW_BLOCK = 1 << 18  # values per block of the depthwise loops (best measured: 64K..1M)

Taps = list[tuple[int, int, int]]  # (source phase, flat shift, weight index k = i*KW + j)


def _dw_ranges(size: int, pad: int, stride: int, length: int) -> list[tuple[int, int, int]]:
    """Per phase ``a`` of a padded axis: the phase positions ``[r0, r1)`` that hold input.

    Phase ``a`` of the padded axis is ``padded[r*stride + a]``; position ``r`` holds input
    element ``r*stride + a - pad``. Returns ``(r0, r1, first input element)`` per phase, with
    ``0 <= r0 <= r1 <= length`` (``r0 == r1``: the phase is all padding).
    """
    ranges = []
    for a in range(stride):
        r0 = max(0, -((a - pad) // stride))  # ceil((pad - a) / stride)
        r1 = min(length, -((a - pad - size) // stride))  # ceil((pad + size - a) / stride)
        ranges.append((r0, max(r0, r1), r0 * stride + a - pad))
    return ranges


def _dw_place(dst: Any, src: Any, top: int, left: int) -> None:
    """``dst[..., y, x] = src[..., y - top, x - left]`` where that exists, zero elsewhere.

    Any strides; ``top``/``left`` may be negative or run past ``dst`` (``src`` is then
    cropped). Only the frame around ``src`` is zeroed, not all of ``dst``.
    """
    hd, wd = dst.shape[-2:]
    hs, ws = src.shape[-2:]
    y0, y1 = max(0, top), min(hd, top + hs)
    x0, x1 = max(0, left), min(wd, left + ws)
    if y1 <= y0 or x1 <= x0:
        dst[...] = 0
        return
    dst[..., :y0, :] = 0
    dst[..., y1:, :] = 0
    dst[..., y0:y1, :x0] = 0
    dst[..., y0:y1, x1:] = 0
    dst[..., y0:y1, x0:x1] = src[..., y0 - top : y1 - top, x0 - left : x1 - left]


def _dw_canvas(img: Any, top: int, left: int, period: tuple[int, int],
               stride: tuple[int, int], extra: int, fresh: bool) -> Any:
    """Images (C, N, H, W) (any strides) on a zero canvas: (C, sh*sw, lines*wq), flat.

    Image ``n`` sits at rows ``n*Ph + top ...`` and columns ``left ...`` of a canvas of rows
    of ``Pw`` values (``period = (Ph, Pw)``, multiples of the stride). Neighbouring images
    share their zero margins, and a row's right margin is the next row's left margin in the
    flat index, so the canvas is barely larger than the images. Its ``sh*sw`` phases
    (``canvas[r*sh + a, s*sw + b]``) are stored one after the other, each ``N*Ph/sh + extra``
    lines of ``wq = Pw/sw`` values; the ``extra`` lines at the end are zero too. ``fresh``:
    a new array (kept by the caller), else the scratch slot 1.
    """
    xp = xp_of(img)
    c, n, h, w = img.shape
    (ph, pw), (sh, sw) = period, stride
    hq, wq = ph // sh, pw // sw
    shape = (c, sh * sw, (n * hq + extra) * wq)
    canvas = xp.empty(shape, dtype=img.dtype) if fresh else scratch(xp, shape, img.dtype, 1)
    for a in range(sh):
        ys = (a - top) % sh  # the first image row in phase a
        for b in range(sw):
            xs = (b - left) % sw
            phase = canvas[:, a * sw + b]
            phase[:, n * hq * wq :] = 0
            _dw_place(phase[:, : n * hq * wq].reshape(c, n, hq, wq), img[..., ys::sh, xs::sw],
                      (top + ys) // sh, (left + xs) // sw)
    return canvas


def _dw_blocks(c: int, n: int, lines: int, ny: int, width: int,
               xp: Any) -> tuple[int, int, int]:
    """(channels, batch entries, output lines) per block: about ``DW_BLOCK`` values each.

    On the CPU this keeps a block's windows, accumulator and temporary in cache across all
    the kernel taps while a call stays long enough to hide its Python overhead; on a GPU (no
    cache to fit, a launch per call) it is one block.
    """
    if xp.__name__ != "numpy":
        return c, n, ny
    plane = lines * width
    if ny * width >= DW_BLOCK:  # a large image: bands of lines of one plane
        return 1, 1, max(1, DW_BLOCK // width)
    bn = max(1, min(n, DW_BLOCK // plane))
    return (max(1, min(c, DW_BLOCK // (bn * plane))) if bn == n else 1), bn, ny


def _dw_block_ranges(c: int, n: int, lines: int, ny: int, width: int,
                     xp: Any) -> Iterator[tuple[int, int, int, int, int, int]]:
    """``(c0, c1, n0, n1, y0, y1)`` of each block of ``_dw_blocks``' size, in order."""
    bc, bn, by = _dw_blocks(c, n, lines, ny, width, xp)
    for c0 in range(0, c, bc):
        for n0 in range(0, n, bn):
            for y0 in range(0, ny, by):
                yield c0, min(c, c0 + bc), n0, min(n, n0 + bn), y0, min(ny, y0 + by)


class _SmallBuffers:
    """Context: numpy's ufunc buffer at its minimum (restored on exit).

    numpy copies operands whose contiguous rows are shorter than its buffer (8192 values)
    through that buffer to get longer inner loops: for the 2-D windows here, which need no
    cast, that copy doubles the cost of every multiply-add. A tiny buffer switches it off.
    """

    def __init__(self, xp: Any) -> None:
        self.xp = xp if xp.__name__ == "numpy" else None

    def __enter__(self) -> None:
        if self.xp is not None:
            self.old = self.xp.setbufsize(16)

    def __exit__(self, *exc: object) -> None:
        if self.xp is not None:
            self.xp.setbufsize(self.old)


def _dw_taps_sum(src: Any, lines: int, width: int, taps: Taps, wk: Any, dst: Any,
                 bias: Any = None) -> None:
    """``dst[c, n, y, x] = sum_t wk[k_t, c] * src[c, p_t, n*plane + shift_t + y*width + x]``.

    The core of every depthwise pass (plus ``bias[c]`` if given). ``src`` is (C, P, N*plane):
    per channel, ``P`` phases, each ``N`` flattened planes of ``lines`` rows of ``width``
    values. ``dst`` is (C, N, ny, nx), any strides, with ``ny < lines`` and ``nx <= width``.
    In the flat index a 2-D offset ``(dy, dx)`` is the shift ``dy*width + dx``, so a tap is
    one multiply-add of a contiguous run, for one channel across the whole batch: the sum is
    also computed on the columns past ``nx`` and on the lines between planes, garbage that
    the crop into ``dst`` drops. Blocks of (channels, batch entries, output lines) keep the
    work in cache across the taps; ``wk`` is (K, C, 1); everything stays in ``dst.dtype``.
    """
    xp = xp_of(src)
    c, n, ny, nx = dst.shape
    plane = lines * width
    bc, bn, by = _dw_blocks(c, n, lines, ny, width, xp)
    room = bc * max(bn * plane, by * width)
    acc_all, tmp_all = scratch(xp, (room,), dst.dtype, slot=0), scratch(xp, (room,), dst.dtype, 2)
    with _SmallBuffers(xp):
        for c0, c1, n0, n1, y0, y1 in _dw_block_ranges(c, n, lines, ny, width, xp):
            start = n0 * plane + y0 * width
            # whole planes (the last one's lines past ny too: the canvas has the room) keep
            # acc and tmp contiguous, so that their add is one flat loop
            size = (y1 - y0) * width if y1 - y0 < ny else (n1 - n0) * plane
            acc = acc_all[: (c1 - c0) * size].reshape(c1 - c0, size)
            tmp = tmp_all[: (c1 - c0) * size].reshape(c1 - c0, size)
            for t, (p, shift, k) in enumerate(taps):
                window = src[c0:c1, p, start + shift : start + shift + size]
                if t == 0:
                    xp.multiply(window, wk[k, c0:c1], out=acc)
                else:
                    xp.multiply(window, wk[k, c0:c1], out=tmp)
                    xp.add(acc, tmp, out=acc)
            rows = size // width if y1 - y0 < ny else lines
            block = dst[c0:c1, n0:n1, y0:y1]
            block[...] = acc.reshape(c1 - c0, n1 - n0, rows, width)[:, :, : y1 - y0, :nx]
            if bias is not None:
                block += bias[c0:c1]


def _dw_taps_dot(src: Any, lines: int, width: int, taps: Taps, g: Any) -> Any:
    """``out[k, c] = sum_{n, y, x} g[c, n, y, x] * src[c, p_t, n*plane + shift_t + ...]``.

    The weight gradient of ``_dw_taps_sum`` (same layouts; ``g`` is (C, N, ny, nx), the
    result is (K, C)): ``g`` is placed in a zero frame of the planes' shape, so the garbage
    positions contribute nothing, and each tap is one dot product per channel.
    """
    xp = xp_of(src)
    c, n, ny, nx = g.shape
    plane = lines * width
    out = xp.zeros((max(k for _, _, k in taps) + 1, c), dtype=g.dtype)
    frame = scratch(xp, (c, n, lines, width), g.dtype, slot=3)
    _dw_place(frame, g, 0, 0)
    frame = frame.reshape(c, n * plane)
    vecdot = getattr(xp, "vecdot", None)
    with _SmallBuffers(xp):
        for c0, c1, n0, n1, y0, y1 in _dw_block_ranges(c, n, lines, ny, width, xp):
            start = n0 * plane + y0 * width
            size = (n1 - n0 - 1) * plane + (y1 - y0) * width
            gblock = frame[c0:c1, start : start + size]
            for p, shift, k in taps:
                window = src[c0:c1, p, start + shift : start + shift + size]
                out[k, c0:c1] += (vecdot(window, gblock) if vecdot is not None
                                  else xp.einsum("ij,ij->i", window, gblock))
    return out


class DepthwiseConv2dFunction(Function):
    """Depthwise conv (``groups == C``, ``C_out = m * C``), inputs ``(x, weight[, bias])``.

    ``out[n, c*m + j] = sum_{kh,kw} w[c*m + j, 0, kh, kw] * xpad[n, c, oh*sh + kh*dh, ...]``,
    one in-place multiply-add per kernel tap (``_dw_taps_sum``), channel by channel over the
    whole batch. The padded input is copied once into a (C, sh*sw, N, rows, cols) buffer: its
    ``sh*sw`` phases (``xpad[r*sh + a, s*sw + b]``) make every tap of a strided conv read a
    stride-1 window of one phase, and within a flattened phase a window is a contiguous run.
    The input gradient is the same sum over the output gradient (in a zero frame, taps
    mirrored), once per phase of the padded input; the weight gradient is one dot product
    per tap and channel. A multiplier ``m > 1`` repeats the input channels first.
    """

    reads_inputs = "others"

    def forward(self, x: Any, weight: Any, bias: Any = None, *, stride: tuple[int, int],
                pads: Pads, dilation: tuple[int, int], groups: int = 0,
                need_weight_grad: bool = True) -> Any:
        xp = xp_of(x)
        self.unbatched = x.ndim == 3
        if self.unbatched:
            x = x[None]
        n, c, h, w = x.shape
        co, _, kh, kw = weight.shape
        if co > c:  # channel c*m + j reads input channel c
            x = xp.repeat(x, co // c, axis=1)
        (sh, sw), (dh, dw), (top, bottom, left, right) = stride, dilation, pads
        oh = _out_size(h + top + bottom, kh, sh, dh)
        ow = _out_size(w + left + right, kw, sw, dw)
        # the period of the images on the canvas: room for an image and its padding on either
        # side (the margins are shared) and for its output lines, a multiple of the stride
        ph = -(-max(top + h, h + bottom, oh * sh) // sh) * sh
        pw = -(-max(left + w, w + right, ow * sw) // sw) * sw
        lines, wq = ph // sh, pw // sw
        src = _dw_canvas(x.transpose(1, 0, 2, 3), top, left, (ph, pw), stride,
                         dh * (kh - 1) // sh + 2, fresh=need_weight_grad)
        taps = [((i * dh % sh) * sw + j * dw % sw, (i * dh // sh) * wq + j * dw // sw, i * kw + j)
                for i in range(kh) for j in range(kw)]
        wk = xp.ascontiguousarray(weight.reshape(co, kh * kw).T)[..., None]  # (K, C, 1)
        out = xp.empty((n, co, oh, ow), dtype=x.dtype)
        _dw_taps_sum(src, lines, wq, taps, wk, out.transpose(1, 0, 2, 3),
                     None if bias is None else bias.reshape(co, 1, 1, 1))
        # the input's canvas only serves grad-weight
        self.src = src if need_weight_grad else None
        self.taps, self.wk, self.has_bias = taps, wk, bias is not None
        self.geometry = ((n, c, h, w), weight.shape, stride, pads, dilation, (oh, ow),
                         (lines, wq))
        return out[0] if self.unbatched else out

    def backward(self, gy: Any) -> tuple[Any, ...]:
        xp = xp_of(gy)
        (n, c, h, w), w_shape, _, _, _, _, (lines, width) = self.geometry
        co = w_shape[0]
        if self.unbatched:
            gy = gy[None]
        want_x = self.needs[0]
        want_w = self.src is not None and self.needs[1]
        g = gy.transpose(1, 0, 2, 3)  # (C, N, OH, OW)
        gx = self._input_grad(g) if want_x else None
        if gx is not None:
            if co > c:
                gx = gx.reshape(n, c, co // c, h, w).sum(axis=2)
            if self.unbatched:
                gx = gx[0]
        gw = None
        if want_w:  # (K, C) -> (C, 1, KH, KW)
            gk = _dw_taps_dot(self.src, lines, width, self.taps, g)
            gw = xp.ascontiguousarray(gk.T).reshape(w_shape)
        grads: tuple[Any, ...] = (gx, gw)
        if self.has_bias:
            grads += (gy.sum(axis=(0, 2, 3)),)
        return grads

    def _input_grad(self, g: Any) -> Any:
        """Gradient of the (repeated) input, (N, C_out, H, W), from ``g`` (C_out, N, OH, OW).

        Phase ``(a, b)`` of the padded input's gradient gets ``w[i, j] * g[y - di, x - dj]``
        from the taps that read it (``i*dh = di*sh + a``, same for columns): a sum over
        those taps of shifted windows of ``g`` in a zero frame, i.e. ``_dw_taps_sum`` again,
        written straight into the strided positions of the input that the phase covers.
        """
        xp = xp_of(g)
        (n, _, h, w), w_shape, (sh, sw), pads, (dh, dw), (oh, ow), _ = self.geometry
        co, _, kh, kw = w_shape
        top, _, left, _ = pads
        rows = [(a, r) for a, r in enumerate(_dw_ranges(h, top, sh, h + top)) if r[1] > r[0]]
        cols = [(b, r) for b, r in enumerate(_dw_ranges(w, left, sw, w + left)) if r[1] > r[0]]
        ext_h, ext_w = dh * (kh - 1) // sh, dw * (kw - 1) // sw  # the largest phase offsets
        rmin, cmin = min(r[0] for _, r in rows), min(r[0] for _, r in cols)
        # g on a canvas (periods ph x pw, g at offset (gt, gl)): phase row r0 + y reads g row
        # r0 + y - di, canvas row gt + r0 + y - di; rows of g out of range must read zeros
        gt, gl = max(0, ext_h - rmin), max(0, ext_w - cmin)
        ph = max(gt + oh, max(r[1] for _, r in rows))
        pw = max(gl + ow, max(r[1] for _, r in cols))
        # spare lines: the sums run over whole periods, up to gt + r0 lines further on
        spare = gt + max(r[0] for _, r in rows) + 2
        frame = _dw_canvas(g, gt, gl, (ph, pw), (1, 1), spare, fresh=False)
        gx = xp.empty((n, co, h, w), dtype=g.dtype)
        gxt = gx.transpose(1, 0, 2, 3)
        for a, (r0, r1, ys) in rows:
            for b, (c0, c1, xs) in cols:
                dst = gxt[..., ys : ys + sh * (r1 - r0) : sh, xs : xs + sw * (c1 - c0) : sw]
                taps = [(0, (gt + r0 - i * dh // sh) * pw + gl + c0 - j * dw // sw, i * kw + j)
                        for i in range(kh) if i * dh % sh == a
                        for j in range(kw) if j * dw % sw == b]
                if taps:
                    _dw_taps_sum(frame, ph, pw, taps, self.wk, dst)
                else:
                    dst[...] = 0
        return gx


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
        band = _band_rows(input.shape[0], max(c, co) * kh * kw, wp, input.dtype.itemsize,
                          _band_bytes(xp_of(input.data)))
        if band < _out_size(hp, kh, stride_[0], dilation_[0]):
            return _conv2d_in_bands(input, weight, bias, stride_, pads, dilation_, groups, band)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    fn = DepthwiseConv2dFunction if depthwise else Conv2dFunction
    return fn.apply(*inputs, stride=stride_, pads=pads, dilation=dilation_, groups=groups,
                    need_weight_grad=is_grad_enabled() and weight.requires_grad)


def reflect_padded_conv2d(input: Tensor, weight: Tensor, bias: Tensor | None,
                          padding: tuple[int, int], stride: tuple[int, int],
                          dilation: tuple[int, int], groups: int) -> Tensor | None:
    """``conv2d(pad(input, (pw, pw, ph, ph), mode="reflect"), weight, bias, ...)`` with no
    padded copy, where that can be done while nothing is recorded, as in inference: a dense
    3x3 stride-1 conv that runs on Winograd (which reads the reflection through its tiling),
    or any dense conv on a GPU (its im2col kernel reads the reflection by index), up to a
    band's worth of columns. None elsewhere: the caller pads and convolves. Saves one copy of
    the input per layer: memory, and 4 % of the reference AdaIN network's time at 512 px on
    the CPU (1.51 s vs 1.57 s, runs alternating on 2 cores).
    """
    ph, pw = padding
    pads = (ph, ph, pw, pw)
    records = is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (input, weight, bias))
    if (records or input.ndim != 4 or ph >= input.shape[2] or pw >= input.shape[3]
            or weight.ndim != 4 or weight.shape[1] != input.shape[1]
            or weight.dtype != input.dtype or (bias is not None and bias.dtype != input.dtype)):
        return None
    x, xp = input.data, xp_of(input.data)
    if winograd.applies(xp, input.shape, weight.shape, stride, dilation, groups, pads):
        out = winograd.winograd_conv3x3(x, weight.data, pads, reflect=True)
        if out is None:  # NaN or inf in the input: the caller's direct conv keeps it local
            return None
    elif xp.__name__ != "numpy" and groups == 1:
        n, c, h, w = x.shape
        kh, kw = weight.shape[2:]
        out_hw = (_out_size(h + 2 * ph, kh, stride[0], dilation[0]),
                  _out_size(w + 2 * pw, kw, stride[1], dilation[1]))
        if (min(out_hw) < 1 or not im2col_cuda.fits(x, (kh, kw), out_hw)
                or n * c * kh * kw * out_hw[0] * out_hw[1] * x.itemsize > GPU_BAND_BYTES):
            return None
        cols = im2col_cuda.im2col(x, (kh, kw), stride, dilation, pads, out_hw, reflect=True)
        with conv_math(x):
            out = _columns_times_weight(cols, weight.data, 1, out_hw)
    else:
        return None
    if bias is not None:
        out += bias.data.reshape(-1, 1, 1)
    return Tensor._wrap(out)


# im2col / shifted-GEMM buffer allowed per call when nothing is recorded. On the CPU a band
# of 64 MiB costs nothing (the GEMM is as fast on it); on a GPU each band is a round of kernel
# launches and a smaller GEMM, so bands there are only what bounds memory on a 8K image.
BAND_BYTES = 64 << 20
GPU_BAND_BYTES = 1 << 30


def _band_bytes(xp: Any) -> int:
    return BAND_BYTES if xp.__name__ == "numpy" else GPU_BAND_BYTES


def _band_rows(n: int, taps: int, width: int, itemsize: int, budget: int) -> int:
    """Output rows per band so that a band's column buffer stays near ``budget`` bytes."""
    return max(1, budget // (n * taps * width * itemsize))


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
        window = rows[:, :, r0 * sh : (r1 - 1) * sh + dh * (kh - 1) + 1]
        if xp.__name__ != "numpy":  # the GPU's column kernel reads contiguous inputs only
            window = xp.ascontiguousarray(window)
        chunk = Tensor._wrap(window)
        y = Conv2dFunction.apply(chunk, *inputs, stride=stride, pads=(0, 0, pads[2], pads[3]),
                                 dilation=dilation, groups=groups, need_weight_grad=False).data
        if out is None:
            out = xp.empty(y.shape[:2] + (oh,) + y.shape[3:], dtype=y.dtype)
        out[:, :, r0:r1] = y
    return Tensor._wrap(out)


# ----------------------------------------------------------------------------- 1-D
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride: int | tuple[int] = 1, padding: str | int | tuple[int] = 0,
           dilation: int | tuple[int] = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation, as ``torch.nn.functional.conv1d``.

    ``out[n, o, x] = bias[o] + sum_{c in group(o), k} weight[o, c, k] *
    input_padded[n, c, x*s + k*d]``. Runs :func:`conv2d` on a unit height (the input viewed
    (N, C, 1, L), the weight (C_out, C_in / groups, 1, K)), so its autograd, kernels and GPU
    path are conv2d's; errors are conv2d's too, worded for the 2-D views.

    Args:
        input: (N, C_in, L), or (C_in, L) unbatched.
        weight: (C_out, C_in / groups, K).
        bias: (C_out,) or None.
        stride, dilation: int or (s,), positive.
        padding: int or (p,) zero padding on both sides, ``"valid"`` or ``"same"`` (stride 1
            only; when ``d*(K-1)`` is odd the extra zero goes at the right, as in PyTorch).
        groups: split input and output channels into this many independent convolutions.

    Shape:
        Output (N, C_out, L_out) (no N when the input is unbatched) with
        ``L_out = (L + 2*p - d*(K-1) - 1) // s + 1``.

    Example:
        >>> import lucid
        >>> from lucid.nn.functional import conv1d
        >>> conv1d(lucid.ones(1, 2, 5), lucid.ones(4, 2, 3), padding=1).shape
        (1, 4, 5)
    """
    if input.ndim not in (2, 3):
        raise RuntimeError("conv1d: expected 2D (unbatched) or 3D (batched) input, but got "
                           f"input of size {tuple(input.shape)}")
    if weight.ndim != 3:
        raise RuntimeError(f"conv1d: expected a 3D weight (C_out, C_in/groups, K), got size "
                           f"{tuple(weight.shape)}")
    (s,), (d,) = _single(stride, "stride"), _single(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "same" and s != 1:
            raise ValueError("conv1d: padding='same' is not supported for strided "
                             f"convolutions (got stride={stride!r})")
        pads: str | tuple[int, int] = padding
    else:
        pads = (0, _single(padding, "padding")[0])
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, s), pads, (1, d), groups)
    return out.squeeze(-2)
