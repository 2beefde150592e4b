"""2-D transposed convolution (PyTorch's ``conv_transpose2d``), the adjoint of ``conv2d``.

A transposed conv is conv2d's input gradient run as a forward pass, so it is built from the
same pieces as conv2d's im2col kernel (``conv.py``), with the roles of its passes swapped:

* forward: one (batched, per group) GEMM ``W^T @ x`` gives the columns of the output, and
  ``_col2im`` adds them onto the padded output grid, whose padding is then cropped;
* input gradient: conv2d of the output gradient with the same weight, stride, padding and
  dilation: ``_im2col`` of the padded gradient, then ``_columns_times_weight``;
* weight gradient: a GEMM of the input with those same columns.

The two gradients share one column buffer, built in backward. The input is kept for
backward only when the weight's gradient is wanted (decided at forward time, as conv2d's
``need_weight_grad``). Everything stays in the input's dtype; on a GPU the float32 GEMMs run
on TF32 like conv2d's (``lucid.gpu.set_conv_tf32``). No Python loop runs over pixels,
channels or batch entries: only over the kernel offsets, in ``_col2im`` and ``_im2col``.
Memory: the column buffer holds ``N * C_out * KH * KW * H * W`` values (in the reused
scratch buffer); unlike conv2d, a large input under ``no_grad`` is not split into bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lucid.autograd import Function, is_grad_enabled
from lucid.nn.functional._pairs import _pair, _single, scratch
from lucid.nn.functional.conv import (
    Pads,
    _col2im,
    _columns_times_weight,
    _im2col,
    _in_conv_math,
    _matmul_into,
    _pad_zeros,
)
from lucid.ops._util import xp_of
from lucid.tensor import Tensor


def _transposed_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                     output_padding: int) -> int:
    """``(size - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1``."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


class ConvTranspose2dFunction(Function):
    """Transposed conv, inputs ``(x, weight[, bias])``.

    Shapes: x (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, KH, KW); bias
    (C_out,). ``out = conv2d_input_grad(x)`` for a conv2d from C_out to C_in channels whose
    weight is ``weight``: the output's columns ``W^T @ x`` (per group), then col2im.
    """

    reads_inputs = "others"  # x only for grad-weight, the weight only for grad-input

    @_in_conv_math
    def forward(self, x: Any, weight: Any, bias: Any = None, *, stride: tuple[int, int],
                padding: tuple[int, int], output_padding: tuple[int, int],
                dilation: tuple[int, int], groups: int, need_weight_grad: bool = True) -> Any:
        xp = xp_of(x)
        self.unbatched = x.ndim == 3
        if self.unbatched:
            x = x[None]
        n, ci, h, w = x.shape
        _, cog, kh, kw = weight.shape
        co = cog * groups
        oh, ow = (_transposed_size(size, k, s, p, d, op) for size, k, s, p, d, op in zip(
            (h, w), (kh, kw), stride, padding, dilation, output_padding, strict=True))
        pads: Pads = (padding[0], padding[0], padding[1], padding[1])
        # the output on its padded grid: the conv2d that this is the input gradient of reads
        # exactly the (H, W) windows of that grid at the stride (its last rows may be output
        # padding that no window reaches: hence the explicit grid for col2im)
        padded_shape = (n, co, oh + 2 * padding[0], ow + 2 * padding[1])
        x4 = xp.ascontiguousarray(x).reshape(n, groups, ci // groups, h * w)
        w2 = weight.reshape(groups, ci // groups, cog * kh * kw)
        cols = scratch(xp, (n, groups, cog * kh * kw, h * w), x.dtype)
        _matmul_into(w2.transpose(0, 2, 1), x4, cols)
        out = _col2im(cols, padded_shape, (kh, kw), stride, dilation, pads, out_hw=(h, w))
        if bias is not None:
            out += bias.reshape(co, 1, 1)
        self.geometry = (stride, pads, dilation, groups, (kh, kw), (h, w))
        self.weight, self.has_bias, self.need_w = weight, bias is not None, need_weight_grad
        # only grad-weight reads the input: a frozen weight keeps nothing of it
        self.x4 = x4 if need_weight_grad else None
        return out[0] if self.unbatched else out

    @_in_conv_math
    def backward(self, gy: Any) -> tuple[Any, ...]:
        xp = xp_of(gy)
        stride, pads, dilation, groups, kernel, (h, w) = self.geometry
        weight = self.weight
        if self.unbatched:
            gy = gy[None]
        want_x = self.needs[0]
        want_w = self.need_w and self.needs[1]
        gx = gw = None
        if want_x or want_w:
            # conv2d's columns of the output gradient, read at the input's (H, W) grid
            gpad = _pad_zeros(xp.ascontiguousarray(gy), pads)
            cols = _im2col(gpad, kernel, stride, dilation, (h, w), fresh=False)
            if want_w:
                n = gy.shape[0]
                cols4 = cols.reshape(n, groups, weight.shape[1] * kernel[0] * kernel[1], h * w)
                gw = xp.matmul(self.x4, cols4.transpose(0, 1, 3, 2)).sum(axis=0)
                gw = gw.reshape(weight.shape)
            if want_x:
                gx = _columns_times_weight(cols, weight, groups, (h, w))
                if self.unbatched:
                    gx = gx[0]
        grads: tuple[Any, ...] = (gx, gw)
        if self.has_bias:
            grads += (gy.sum(axis=(0, 2, 3)),)
        return grads


def _non_negative_pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    pair = _pair(value, name)
    if min(pair) < 0:
        raise ValueError(f"conv_transpose2d: negative {name} is not supported, got {value!r}")
    return pair


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                     output_padding: int | Sequence[int] = 0, groups: int = 1,
                     dilation: int | Sequence[int] = 1) -> Tensor:
    """2-D transposed convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``.

    The adjoint of ``conv2d``: ``conv_transpose2d(y, w, ...)`` is the gradient of
    ``conv2d(x, w, ...)`` with respect to ``x`` for the output gradient ``y`` (same weight,
    stride, padding, dilation, groups), so ``<conv2d(x, w), y> == <x, conv_transpose2d(y, w)>``.
    Each input pixel scatters ``x[n, c, i, j] * weight[c, o]`` onto the output at
    ``(i*sh - ph + kh*dh, j*sw - pw + kw*dw)``; output channel ``o`` of group ``g`` reads the
    input channels of group ``g``.

    Args:
        input: (N, C_in, H, W), or (C_in, H, W) unbatched.
        weight: (C_in, C_out / groups, KH, KW) (note: C_in first, unlike conv2d's weight).
        bias: (C_out,) or None.
        stride, dilation: int or (h, w), positive.
        padding: int or (h, w): ``dilation*(kernel - 1) - padding`` zeros around the input in
            the equivalent direct convolution, i.e. ``padding`` rows/columns cropped from each
            side of the full output. Strings (``"same"``) are not accepted, as in PyTorch.
        output_padding: int or (h, w) extra rows/columns added at the bottom/right of the
            output (to pick one of the sizes that a strided conv2d maps to the same size);
            each must be smaller than the stride or the dilation of its axis.
        groups: split input and output channels into this many independent convolutions.

    Shape:
        Output (N, C_out, H_out, W_out) (no N when the input is unbatched) with
        ``H_out = (H - 1)*sh - 2*ph + dh*(KH - 1) + oph + 1`` (same for W).

    Raises:
        RuntimeError: shape mismatches (channels, groups, bias, an output size below 1,
            dtypes) and an ``output_padding`` not smaller than stride or dilation, worded
            like PyTorch's messages.
        ValueError: non-positive stride/dilation/groups, negative padding or output_padding
            (PyTorch raises RuntimeError for these; lucid's conv2d raises ValueError, and so
            does this op).
        TypeError: non-integer stride/padding/output_padding/dilation (a padding string).

    Example:
        >>> import lucid
        >>> from lucid.nn.functional import conv_transpose2d
        >>> x = lucid.ones(1, 4, 5, 5)
        >>> conv_transpose2d(x, lucid.ones(4, 2, 3, 3), stride=2, padding=1).shape
        (1, 2, 9, 9)
        >>> conv_transpose2d(x, lucid.ones(4, 2, 3, 3), stride=2, padding=1,
        ...                  output_padding=1).shape
        (1, 2, 10, 10)
    """
    if input.ndim not in (3, 4):
        raise RuntimeError("Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, "
                           f"but got input of size: {list(input.shape)}")
    if weight.ndim != 4:
        raise RuntimeError("conv_transpose2d: expected a 4D weight (C_in, C_out/groups, KH, KW), "
                           f"got size {tuple(weight.shape)}")
    stride_, dilation_ = _pair(stride, "stride"), _pair(dilation, "dilation")
    padding_ = _non_negative_pair(padding, "padding")
    output_padding_ = _non_negative_pair(output_padding, "output_padding")
    if min(stride_) <= 0:
        raise ValueError(f"conv_transpose2d: stride must be positive, got {stride!r}")
    if min(dilation_) <= 0:
        raise ValueError(f"conv_transpose2d: dilation must be positive, got {dilation!r}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"conv_transpose2d: groups must be a positive integer, got {groups!r}")
    if any(op >= s and op >= d for op, s, d in zip(output_padding_, stride_, dilation_,
                                                    strict=True)):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding_height: {output_padding_[0]} output_padding_width: "
            f"{output_padding_[1]} stride_height: {stride_[0]} stride_width: {stride_[1]} "
            f"dilation_height: {dilation_[0]} dilation_width: {dilation_[1]}")
    ci, cog, kh, kw = weight.shape
    c, h, w = input.shape[-3:]
    if ci % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size {list(weight.shape)} instead")
    if c != ci:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {ci} channels, but got {c} "
                           "channels instead")
    if bias is not None and tuple(bias.shape) != (cog * groups,):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"bias to be 1-dimensional with {cog * groups} elements, but got "
                           f"bias of size {list(bias.shape)} instead")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"conv_transpose2d: input type ({input.dtype}) and {name} type "
                               f"({t.dtype}) should be the same")
    oh, ow = (_transposed_size(size, k, s, p, d, op) for size, k, s, p, d, op in zip(
        (h, w), (kh, kw), stride_, padding_, dilation_, output_padding_, strict=True))
    if oh < 1 or ow < 1:
        raise RuntimeError(f"Given input size per channel: ({h} x {w}). Calculated output size "
                           f"per channel: ({oh} x {ow}). Output size is too small")
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return ConvTranspose2dFunction.apply(
        *inputs, stride=stride_, padding=padding_, output_padding=output_padding_,
        dilation=dilation_, groups=groups,
        need_weight_grad=is_grad_enabled() and weight.requires_grad)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                     output_padding: int | Sequence[int] = 0, groups: int = 1,
                     dilation: int | Sequence[int] = 1) -> Tensor:
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    The adjoint of ``conv1d``. Runs :func:`conv_transpose2d` on a unit height (the input
    viewed (N, C_in, 1, L), the weight (C_in, C_out / groups, 1, K)), so its autograd and
    GPU path are conv_transpose2d's; errors are its too, worded for the 2-D views.

    Args:
        input: (N, C_in, L), or (C_in, L) unbatched.
        weight: (C_in, C_out / groups, K) (C_in first, unlike conv1d's weight).
        bias: (C_out,) or None.
        stride, dilation: int or (s,), positive.
        padding: int or (p,): elements cropped from each side of the full output.
        output_padding: int or (op,) extra elements at the right of the output; smaller
            than the stride or the dilation.
        groups: split input and output channels into this many independent convolutions.

    Shape:
        Output (N, C_out, L_out) (no N when the input is unbatched) with
        ``L_out = (L - 1)*s - 2*p + d*(K - 1) + op + 1``.

    Example:
        >>> import lucid
        >>> from lucid.nn.functional import conv_transpose1d
        >>> conv_transpose1d(lucid.ones(1, 4, 5), lucid.ones(4, 2, 3), stride=2).shape
        (1, 2, 11)
    """
    if input.ndim not in (2, 3):
        raise RuntimeError("Expected 2D (unbatched) or 3D (batched) input to conv_transpose1d, "
                           f"but got input of size: {list(input.shape)}")
    if weight.ndim != 3:
        raise RuntimeError("conv_transpose1d: expected a 3D weight (C_in, C_out/groups, K), "
                           f"got size {tuple(weight.shape)}")
    (s,), (d,) = _single(stride, "stride"), _single(dilation, "dilation")
    (p,), (op,) = _single(padding, "padding"), _single(output_padding, "output_padding")
    out = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, s), (0, p),
                           (0, op), groups, (1, d))
    return out.squeeze(-2)
