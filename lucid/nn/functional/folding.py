"""``unfold`` (im2col) and ``fold`` (col2im), as ``torch.nn.functional.unfold`` / ``fold``.

``unfold`` copies every sliding ``kH x kW`` block of a zero-padded image into a column:
``(N, C, H, W) -> (N, C*kH*kW, L)``, ``L`` the number of blocks. ``fold`` is its adjoint: it
adds each column back onto the padded image at its block's place (overlapping blocks sum)
and crops the padding: ``(N, C*kH*kW, L) -> (N, C, H, W)``. So each is the other's
backward, and both are conv2d's own pieces (``conv.py``): ``_im2col`` after ``_pad_zeros``
(on a GPU, the one-pass CUDA kernel of ``im2col_cuda``), and ``_col2im``. The only Python
loop runs over the ``kH*kW`` kernel offsets, in ``_col2im``.

Outputs and gradients are always fresh arrays: never the input (a 1x1 unfold would
otherwise be a reshape of it) and never the reused scratch buffer of the convolutions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lucid.autograd import Function
from lucid.nn.functional import im2col_cuda
from lucid.nn.functional._pairs import _pair
from lucid.nn.functional.conv import Pads, _col2im, _im2col, _pad_zeros
from lucid.ops._util import xp_of
from lucid.tensor import Tensor

Pair = tuple[int, int]


def _columns(x: Any, kernel: Pair, stride: Pair, dilation: Pair, pads: Pads,
             out_hw: Pair) -> Any:
    """``(N, C*kH*kW, OH*OW)`` columns of ``x`` (N, C, H, W) zero-padded by ``pads``, in
    memory of their own (neither ``x`` nor scratch)."""
    xp = xp_of(x)
    if xp.__name__ != "numpy":
        x = xp.ascontiguousarray(x)
        if im2col_cuda.fits(x, kernel, out_hw):
            return im2col_cuda.im2col(x, kernel, stride, dilation, pads, out_hw)
    cols = _im2col(_pad_zeros(x, pads), kernel, stride, dilation, out_hw, fresh=True)
    # 1x1, stride 1, no padding: _im2col hands back a reshape of its input
    return cols.copy() if xp.may_share_memory(cols, x) else cols


def _image(cols: Any, image_shape: tuple[int, int, int, int], kernel: Pair, stride: Pair,
           dilation: Pair, pads: Pads) -> Any:
    """The adjoint of ``_columns``: (N, C, H, W) from columns (N, C*kH*kW, OH*OW)."""
    n, c, h, w = image_shape
    padded = (n, c, h + pads[0] + pads[1], w + pads[2] + pads[3])
    return _col2im(cols, padded, kernel, stride, dilation, pads)


class UnfoldFunction(Function):
    """im2col: x (N, C, H, W) or (C, H, W) -> columns (N, C*kH*kW, L) or (C*kH*kW, L)."""

    reads_inputs = False  # the gradient is fold's: it needs the geometry only

    def forward(self, x: Any, *, kernel: Pair, dilation: Pair, pads: Pads, stride: Pair,
                out_hw: Pair) -> Any:
        self.unbatched = x.ndim == 3
        x4 = x[None] if self.unbatched else x
        self.geometry = (x4.shape, kernel, stride, dilation, pads)
        cols = _columns(x4, kernel, stride, dilation, pads, out_hw)
        return cols[0] if self.unbatched else cols

    def backward(self, gy: Any) -> Any:
        shape, kernel, stride, dilation, pads = self.geometry
        gx = _image(gy[None] if self.unbatched else gy, shape, kernel, stride, dilation, pads)
        return gx[0] if self.unbatched else gx


class FoldFunction(Function):
    """col2im: columns (N, C*kH*kW, L) or (C*kH*kW, L) -> (N, C, H, W) or (C, H, W)."""

    reads_inputs = False  # the gradient is unfold's: it needs the geometry only

    def forward(self, cols: Any, *, output_size: Pair, kernel: Pair, dilation: Pair,
                pads: Pads, stride: Pair, out_hw: Pair) -> Any:
        self.unbatched = cols.ndim == 2
        cols3 = cols[None] if self.unbatched else cols
        n, ckk = cols3.shape[:2]
        shape = (n, ckk // (kernel[0] * kernel[1]), *output_size)
        self.geometry = (kernel, stride, dilation, pads, out_hw)
        out = _image(cols3, shape, kernel, stride, dilation, pads)  # fresh: _col2im copies
        return out[0] if self.unbatched else out

    def backward(self, gy: Any) -> Any:
        kernel, stride, dilation, pads, out_hw = self.geometry
        gx = _columns(gy[None] if self.unbatched else gy, kernel, stride, dilation, pads,
                      out_hw)
        return gx[0] if self.unbatched else gx


# ----------------------------------------------------------------------------- arguments
def _check_geometry(kernel: Pair, dilation: Pair, padding: Pair, stride: Pair,
                    order: Sequence[str]) -> None:
    """PyTorch's checks of the block geometry, in ``order`` (unfold and fold differ)."""
    checks = {
        "kernel": (min(kernel) > 0, "kernel size should be greater than zero, but got "
                   f"kernel_height: {kernel[0]} kernel_width: {kernel[1]}"),
        "dilation": (min(dilation) > 0, "dilation should be greater than zero, but got "
                     f"dilation_height: {dilation[0]} dilation_width: {dilation[1]}"),
        "padding": (min(padding) >= 0, "padding should be non-negative, but got pad_height: "
                    f"{padding[0]} pad_width: {padding[1]}"),
        "stride": (min(stride) > 0, "stride should be greater than zero, but got "
                   f"stride_height: {stride[0]} stride_width: {stride[1]}"),
    }
    for name in order:
        ok, message = checks[name]
        if not ok:
            raise RuntimeError(message)


def _blocks(size: Pair, kernel: Pair, dilation: Pair, padding: Pair, stride: Pair) -> Pair:
    """Sliding blocks along each axis: ``(size + 2*p - d*(k - 1) - 1) / s + 1``, the division
    rounded toward zero as PyTorch's C++ does (the count may be < 1; its messages print it)."""
    counts = []
    for n, k, d, p, s in zip(size, kernel, dilation, padding, stride, strict=True):
        span = n + 2 * p - d * (k - 1) - 1
        counts.append((span // s if span >= 0 else -(-span // s)) + 1)
    return counts[0], counts[1]


def _describe(kernel: Pair, dilation: Pair, padding: Pair) -> str:
    return f"kernel_size={kernel}, dilation={dilation}, padding={padding}"


# ----------------------------------------------------------------------------- public API
def unfold(input: Tensor, kernel_size: int | Sequence[int], dilation: int | Sequence[int] = 1,
           padding: int | Sequence[int] = 0, stride: int | Sequence[int] = 1) -> Tensor:
    """Sliding local blocks of a batched image as columns (im2col), as
    ``torch.nn.functional.unfold``.

    ``out[n, (c, i, j), (y, x)] = input_padded[n, c, y*sH + i*dH, x*sW + j*dW]``: column
    ``l = y * L_W + x`` holds block ``(y, x)``, its rows running over channels, then kernel
    rows, then kernel columns (the order of a conv2d weight's ``(C, kH, kW)``, so that
    ``conv2d(x, w) == (w.reshape(C_out, -1) @ unfold(x, k)).reshape(...)``). Differentiable;
    the gradient is ``fold`` of the output's gradient.

    Args:
        input: (N, C, H, W), or (C, H, W) unbatched (N may be 0; C, H, W may not).
        kernel_size: int or (kH, kW), positive.
        dilation: spacing between kernel elements, int or (dH, dW), positive. Default: 1.
        padding: zeros added on both sides of each spatial axis, int or (pH, pW), >= 0.
            Default: 0.
        stride: int or (sH, sW), positive. Default: 1.

    Shape:
        Output (N, C*kH*kW, L) (no N when the input is unbatched), ``L = L_H * L_W`` with
        ``L_H = (H + 2*pH - dH*(kH - 1) - 1) // sH + 1`` (same for W).

    Raises:
        RuntimeError: PyTorch's messages for a non-positive kernel size, dilation or stride, a
            negative padding, an input that is not 3-D or 4-D or has an empty channel or
            spatial axis, and a kernel larger than the padded input.
        TypeError, ValueError: non-integer arguments, or sequences not of length 1 or 2
            (lucid's argument pairs; PyTorch raises TypeError and RuntimeError).

    Differences from PyTorch: a 2-D input raises the RuntimeError above (PyTorch: an
    IndexError); non-float inputs are unfolded too (PyTorch: NotImplementedError).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.unfold(lucid.ones(2, 3, 5, 6), kernel_size=(2, 3), padding=1).shape
        (2, 18, 36)
    """
    kernel, dilation_ = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    padding_, stride_ = _pair(padding, "padding"), _pair(stride, "stride")
    _check_geometry(kernel, dilation_, padding_, stride_,
                    ("kernel", "dilation", "padding", "stride"))
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           "and other non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    size = (input.shape[-2], input.shape[-1])
    out_hw = _blocks(size, kernel, dilation_, padding_, stride_)
    if min(out_hw) < 1:
        raise RuntimeError(f"Given input with spatial size {size}, "
                           f"{_describe(kernel, dilation_, padding_)}, calculated shape of the "
                           f"array of sliding blocks as {out_hw}, but its components must be "
                           "at least one.")
    pads: Pads = (padding_[0], padding_[0], padding_[1], padding_[1])
    return UnfoldFunction.apply(input, kernel=kernel, dilation=dilation_, pads=pads,
                                stride=stride_, out_hw=out_hw)


def fold(input: Tensor, output_size: int | Sequence[int], kernel_size: int | Sequence[int],
         dilation: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
         stride: int | Sequence[int] = 1) -> Tensor:
    """Columns of sliding local blocks summed back into a batched image (col2im), as
    ``torch.nn.functional.fold``.

    The adjoint of ``unfold`` with the same arguments: each column ``l`` (block ``(y, x)``)
    is added onto the zero-padded image at rows ``y*sH + i*dH``, columns ``x*sW + j*dW``,
    where blocks overlap their values sum, and the padding is cropped. So
    ``<unfold(x), c> == <x, fold(c)>``, and ``fold(unfold(x))`` is ``x`` times the number of
    blocks each pixel lies in (``fold(unfold(ones))``), not ``x`` itself unless blocks do not
    overlap. Differentiable; the gradient is ``unfold`` of the output's gradient.

    Args:
        input: (N, C*kH*kW, L), or (C*kH*kW, L) unbatched (N may be 0; the others may not).
        output_size: the image's spatial size (H, W), or an int for both.
        kernel_size: int or (kH, kW), positive.
        dilation: int or (dH, dW), positive. Default: 1.
        padding: int or (pH, pW), >= 0: rows/columns cropped from each side. Default: 0.
        stride: int or (sH, sW), positive. Default: 1.

    Shape:
        Output (N, C, H, W) (no N when the input is unbatched); ``L`` must equal
        ``L_H * L_W`` with ``L_H = (H + 2*pH - dH*(kH - 1) - 1) // sH + 1`` (same for W).

    Raises:
        RuntimeError: PyTorch's messages for a non-positive kernel size, stride or dilation,
            a negative padding, an input that is not 2-D or 3-D or has an empty non-batch
            axis, a dim -2 not divisible by ``kH*kW``, an ``L`` other than the number of
            blocks, and a non-positive number of blocks.
        TypeError, ValueError: non-integer arguments, or sequences not of length 1 or 2
            (lucid's argument pairs; PyTorch raises TypeError and RuntimeError).

    Differences from PyTorch: non-float inputs are folded too (PyTorch:
    NotImplementedError).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> x = lucid.ones(1, 1, 3, 3)
        >>> F.fold(F.unfold(x, 2), (3, 3), 2)[0, 0].tolist()  # blocks covering each pixel
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    size = _pair(output_size, "output_size")
    kernel, dilation_ = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    padding_, stride_ = _pair(padding, "padding"), _pair(stride, "stride")
    _check_geometry(kernel, dilation_, padding_, stride_,
                    ("kernel", "stride", "dilation", "padding"))
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           "batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    ckk, length = input.shape[-2:]
    if ckk % (kernel[0] * kernel[1]):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={ckk} and "
                           f"kernel_size={kernel}.")
    out_hw = _blocks(size, kernel, dilation_, padding_, stride_)
    where = (f"Given output_size={size}, {_describe(kernel, dilation_, padding_)}, "
             f"stride={stride_}")
    if out_hw[0] * out_hw[1] != length:
        raise RuntimeError(f"{where}, expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {out_hw[0]} * {out_hw[1]} = "
                           f"{out_hw[0] * out_hw[1]}, but got input.size(2)={length}.")
    if min(out_hw) < 1:
        raise RuntimeError(f"{where}, calculated shape of the array of sliding blocks as "
                           f"{out_hw}, which is too small (non-positive)")
    pads: Pads = (padding_[0], padding_[0], padding_[1], padding_[1])
    return FoldFunction.apply(input, output_size=size, kernel=kernel, dilation=dilation_,
                              pads=pads, stride=stride_, out_hw=out_hw)


__all__ = ["fold", "unfold"]
