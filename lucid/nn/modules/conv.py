"""``Conv1d``, ``Conv2d``, ``ConvTranspose1d`` and ``ConvTranspose2d``: convolution layers
over ``lucid.nn.functional``."""

from __future__ import annotations

import math
from collections.abc import Sequence

from lucid.backend import DeviceLike
from lucid.creation import empty
from lucid.dtypes import DTypeLike
from lucid.functional import pad
from lucid.nn import init
from lucid.nn.functional._pairs import _pair, _single
from lucid.nn.functional.conv import conv1d, conv2d, reflect_padded_conv2d
from lucid.nn.functional.conv_transpose import conv_transpose1d, conv_transpose2d
from lucid.nn.modules.module import Module
from lucid.nn.parameter import Parameter
from lucid.tensor import Tensor

# the non-zero modes are lucid.functional.pad's modes of the same names
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _check_groups(in_channels: int, out_channels: int, groups: int) -> None:
    if groups <= 0:
        raise ValueError("groups must be a positive integer")
    if in_channels % groups != 0:
        raise ValueError("in_channels must be divisible by groups")
    if out_channels % groups != 0:
        raise ValueError("out_channels must be divisible by groups")


def _init_conv_parameters(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's conv init: ``kaiming_uniform_(a=sqrt(5))`` and U(-1/sqrt(fan_in), ...) for
    the bias, ``fan_in = weight.shape[1] * kH * kW`` (for a transposed conv's weight
    (C_in, C_out / groups, kH, kW) that is C_out / groups * kH * kW, as in PyTorch; a 1-D
    conv's kernel is K alone)."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = weight.shape[1] * math.prod(weight.shape[2:])
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


def _add_parameters(conv: Module, weight_shape: tuple[int, ...], bias: bool,
                    device: DeviceLike, dtype: DTypeLike) -> None:
    """A conv layer's ``weight`` of ``weight_shape`` and ``bias`` (or None), initialised."""
    conv.weight = Parameter(empty(*weight_shape, device=device, dtype=dtype))
    if bias:
        conv.bias = Parameter(empty(conv.out_channels, device=device, dtype=dtype))
    else:
        conv.register_parameter("bias", None)
    conv.reset_parameters()


def _conv_repr(conv: Module) -> str:
    """PyTorch's ``extra_repr`` of a conv layer: the arguments that differ from the default."""
    text = (f"{conv.in_channels}, {conv.out_channels}, kernel_size={conv.kernel_size}, "
            f"stride={conv.stride}")
    zeros, ones = (0,) * len(conv.kernel_size), (1,) * len(conv.kernel_size)
    if conv.padding != zeros:
        text += f", padding={conv.padding}"
    if conv.dilation != ones:
        text += f", dilation={conv.dilation}"
    output_padding = getattr(conv, "output_padding", zeros)
    if output_padding != zeros:
        text += f", output_padding={output_padding}"
    if conv.groups != 1:
        text += f", groups={conv.groups}"
    if conv.bias is None:
        text += ", bias=False"
    if conv.padding_mode != "zeros":
        text += f", padding_mode={conv.padding_mode}"
    return text


class _ConvNd(Module):
    """What ``Conv1d`` and ``Conv2d`` share (as PyTorch's ``_ConvNd``): arguments, checks,
    parameters and the padding the non-zero padding modes add. A subclass names its
    convolution and how it reads a size argument (``_pair`` or ``_single``)."""

    _ntuple = staticmethod(_pair)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | str = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: DeviceLike = None,
        dtype: DTypeLike = None,
    ) -> None:
        super().__init__()
        _check_groups(in_channels, out_channels, groups)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = self._ntuple(kernel_size, "kernel_size")
        self.stride = self._ntuple(stride, "stride")
        self.dilation = self._ntuple(dilation, "dilation")
        self.groups = groups
        self.padding_mode = padding_mode
        self.padding: tuple[int, ...] | str
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of ['valid', 'same']"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = self._ntuple(padding, "padding")
        self._reversed_padding_repeated_twice = self._explicit_padding()
        _add_parameters(self, (out_channels, in_channels // groups, *self.kernel_size), bias,
                        device, dtype)

    def _explicit_padding(self) -> tuple[int, ...]:
        """The widths ``pad`` takes for the non-zero modes: (left, right[, top, bottom])."""
        widths: list[int] = []
        for i in reversed(range(len(self.kernel_size))):
            if self.padding == "valid":
                widths += [0, 0]
            elif self.padding == "same":  # for an even kernel the extra one goes after, as PyTorch
                total = self.dilation[i] * (self.kernel_size[i] - 1)
                widths += [total // 2, total - total // 2]
            else:
                widths += [self.padding[i]] * 2
        return tuple(widths)

    def reset_parameters(self) -> None:
        _init_conv_parameters(self.weight, self.bias)

    def _conv(self, input: Tensor, padding: tuple[int, ...] | str | int) -> Tensor:
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode != "zeros":
            padded = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return self._conv(padded, 0)
        return self._conv(input, self.padding)

    def extra_repr(self) -> str:
        return _conv_repr(self)


class _ConvTransposeNd(Module):
    """What ``ConvTranspose1d`` and ``ConvTranspose2d`` share: arguments, checks, parameters
    and PyTorch's rule for the output padding that gives a requested ``output_size``."""

    _ntuple = staticmethod(_pair)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        device: DeviceLike = None,
        dtype: DTypeLike = None,
    ) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {type(self).__name__}')
        _check_groups(in_channels, out_channels, groups)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = self._ntuple(kernel_size, "kernel_size")
        self.stride = self._ntuple(stride, "stride")
        self.padding = self._ntuple(padding, "padding")
        self.output_padding = self._ntuple(output_padding, "output_padding")
        self.dilation = self._ntuple(dilation, "dilation")
        self.groups = groups
        self.padding_mode = padding_mode
        _add_parameters(self, (in_channels, out_channels // groups, *self.kernel_size), bias,
                        device, dtype)

    def reset_parameters(self) -> None:
        _init_conv_parameters(self.weight, self.bias)

    def _output_padding(self, input: Tensor,
                        output_size: Sequence[int] | None) -> tuple[int, ...]:
        """The output padding that gives ``output_size`` (PyTorch's rule), else the layer's."""
        if output_size is None:
            return self.output_padding
        n = len(self.kernel_size)
        size = [int(s) for s in output_size]
        batch_dims = 2 if input.ndim == n + 2 else 1
        if len(size) == batch_dims + n:
            size = size[batch_dims:]
        if len(size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have "
                             f"{n} or {batch_dims + n} elements (got {len(size)})")
        in_sizes = tuple(input.shape[-n:])
        min_sizes = [(i - 1) * s - 2 * p + d * (k - 1) + 1 for i, s, p, d, k in zip(
            in_sizes, self.stride, self.padding, self.dilation, self.kernel_size, strict=True)]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, self.stride, strict=True)]
        if any(not lo <= want <= hi
               for want, lo, hi in zip(size, min_sizes, max_sizes, strict=True)):
            raise ValueError(f"requested an output size of {size}, but valid sizes range from "
                             f"{min_sizes} to {max_sizes} (for an input of {in_sizes})")
        return tuple(want - lo for want, lo in zip(size, min_sizes, strict=True))

    def extra_repr(self) -> str:
        return _conv_repr(self)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    ``out[n, o] = bias[o] + sum_i weight[o, i] * input[n, g(o) * C_in / groups + i]``, with
    ``*`` the 2-D cross-correlation.

    Args:
        in_channels: channels of the input.
        out_channels: channels produced.
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW). Default: 1.
        padding: int, (pH, pW), ``"valid"`` (no padding) or ``"same"`` (output size equals
            input size; stride must be 1). Default: 0.
        dilation: spacing between kernel elements. Default: 1.
        groups: blocked connections from input to output channels. Default: 1.
        bias: learn an additive bias. Default: True.
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``. The
            non-zero modes pad with ``lucid.functional.pad`` first and then convolve without
            padding, as PyTorch does. Default: ``"zeros"``.
        device, dtype: where and in which dtype to create the parameters.

    Initialised as PyTorch does: ``weight`` with ``kaiming_uniform_(a=sqrt(5))`` and ``bias``
    from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), ``fan_in = in_channels / groups * kH * kW``.

    Shape:
        - Input: (N, C_in, H, W) or (C_in, H, W).
        - Output: (N, C_out, H_out, W_out) or (C_out, H_out, W_out), with
          ``H_out = (H + 2 * pH - dH * (kH - 1) - 1) // sH + 1`` (likewise ``W_out``).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> conv = nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect")
        >>> conv(lucid.randn(2, 3, 16, 16)).shape
        (2, 8, 16, 16)
        >>> conv
        Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), padding_mode=reflect)
    """

    def _conv(self, input: Tensor, padding: tuple[int, ...] | str | int) -> Tensor:
        return conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode == "reflect" and isinstance(self.padding, tuple):
            out = reflect_padded_conv2d(input, self.weight, self.bias, self.padding, self.stride,
                                        self.dilation, self.groups)
            if out is not None:  # inference on Winograd: the padding read, not copied
                return out
        return super().forward(input)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution ("deconvolution", fractionally-strided convolution).

    The gradient of ``Conv2d`` with respect to its input, as a layer: a ``Conv2d`` and a
    ``ConvTranspose2d`` built with the same arguments map each other's input and output
    shapes. Runs ``lucid.nn.functional.conv_transpose2d``.

    Args:
        in_channels: channels of the input.
        out_channels: channels produced.
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW). Default: 1.
        padding: int or (pH, pW): rows/columns cropped from each side of the full output
            (``dilation * (kernel_size - 1) - padding`` zeros around the input of the
            equivalent direct convolution). Default: 0.
        output_padding: int or (h, w) extra rows/columns at the bottom/right of the output;
            each must be smaller than the stride or the dilation of its axis. Default: 0.
        groups: blocked connections from input to output channels. Default: 1.
        bias: learn an additive bias. Default: True.
        dilation: spacing between kernel elements. Default: 1.
        padding_mode: only ``"zeros"``, as in PyTorch (others raise ValueError).
        device, dtype: where and in which dtype to create the parameters.

    ``weight`` is (in_channels, out_channels / groups, kH, kW) and ``bias`` (out_channels,).
    Initialised as PyTorch does: ``weight`` with ``kaiming_uniform_(a=sqrt(5))`` and ``bias``
    from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), where, as PyTorch computes it from the weight's
    dimensions, ``fan_in = out_channels / groups * kH * kW``; both bounds are
    ``sqrt(groups / (out_channels * kH * kW))``.

    ``forward(input, output_size=None)``: ``output_size`` (H_out, W_out), or the full size
    with the batch and channel dimensions as ``x.shape``, picks the output padding that gives
    it (PyTorch's argument; it overrides ``output_padding``); it must lie between the
    sizes of ``output_padding`` 0 and ``stride - 1``, else ValueError.

    Differences from PyTorch: a negative padding or output_padding, or a non-positive stride
    or dilation, raises ValueError where PyTorch raises RuntimeError (as lucid's conv2d).

    Shape:
        - Input: (N, C_in, H, W) or (C_in, H, W).
        - Output: (N, C_out, H_out, W_out) or (C_out, H_out, W_out), with
          ``H_out = (H - 1) * sH - 2 * pH + dH * (kH - 1) + output_padding[0] + 1``
          (likewise ``W_out``).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> down = nn.Conv2d(16, 16, 3, stride=2, padding=1)
        >>> up = nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1)
        >>> x = lucid.randn(1, 16, 12, 12)
        >>> h = down(x)
        >>> h.shape
        (1, 16, 6, 6)
        >>> up(h).shape
        (1, 16, 11, 11)
        >>> up(h, output_size=x.shape).shape
        (1, 16, 12, 12)
        >>> up
        ConvTranspose2d(16, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    """

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation), as ``torch.nn.Conv1d``.

    ``out[n, o] = bias[o] + sum_i weight[o, i] * input[n, g(o) * C_in / groups + i]``, with
    ``*`` the 1-D cross-correlation. Runs ``lucid.nn.functional.conv1d`` (conv2d on a unit
    height).

    Args:
        in_channels: channels of the input.
        out_channels: channels produced.
        kernel_size: int or (K,).
        stride: int or (s,). Default: 1.
        padding: int, (p,), ``"valid"`` (no padding) or ``"same"`` (output length equals
            input length; stride must be 1). Default: 0.
        dilation: spacing between kernel elements. Default: 1.
        groups: blocked connections from input to output channels. Default: 1.
        bias: learn an additive bias. Default: True.
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``; the
            non-zero modes pad with ``lucid.functional.pad`` first, as PyTorch does.
            Default: ``"zeros"``.
        device, dtype: where and in which dtype to create the parameters.

    ``weight`` is (out_channels, in_channels / groups, K) and ``bias`` (out_channels,), so
    PyTorch's state_dict loads. Initialised as PyTorch does: ``kaiming_uniform_(a=sqrt(5))``
    and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, ``fan_in = in_channels / groups * K``.

    Shape:
        - Input: (N, C_in, L) or (C_in, L).
        - Output: (N, C_out, L_out) or (C_out, L_out), with
          ``L_out = (L + 2 * p - d * (K - 1) - 1) // s + 1``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> conv = nn.Conv1d(3, 8, 3, padding=1, padding_mode="reflect")
        >>> conv(lucid.randn(2, 3, 16)).shape
        (2, 8, 16)
        >>> conv
        Conv1d(3, 8, kernel_size=(3,), stride=(1,), padding=(1,), padding_mode=reflect)
    """

    _ntuple = staticmethod(_single)

    def _conv(self, input: Tensor, padding: tuple[int, ...] | str | int) -> Tensor:
        return conv1d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution, as ``torch.nn.ConvTranspose1d``; see :class:`ConvTranspose2d`.

    Runs ``lucid.nn.functional.conv_transpose1d`` (conv_transpose2d on a unit height).

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size: int or (K,).
        stride: int or (s,). Default: 1.
        padding: int or (p,): elements cropped from each side of the full output. Default: 0.
        output_padding: int or (op,) extra elements at the right of the output; smaller
            than the stride or the dilation. Default: 0.
        groups: blocked connections from input to output channels. Default: 1.
        bias: learn an additive bias. Default: True.
        dilation: spacing between kernel elements. Default: 1.
        padding_mode: only ``"zeros"``, as in PyTorch (others raise ValueError).
        device, dtype: where and in which dtype to create the parameters.

    ``weight`` is (in_channels, out_channels / groups, K) and ``bias`` (out_channels,), as in
    PyTorch; initialised as PyTorch does (``fan_in = out_channels / groups * K``).

    ``forward(input, output_size=None)``: ``output_size`` (L_out,), or the full size with
    the batch and channel dimensions, picks the output padding that gives it (it overrides
    ``output_padding``); it must lie between the lengths of output padding 0 and
    ``stride - 1``, else ValueError.

    Differences from PyTorch: a negative padding or output_padding, or a non-positive stride
    or dilation, raises ValueError where PyTorch raises RuntimeError (as lucid's conv2d).

    Shape:
        - Input: (N, C_in, L) or (C_in, L).
        - Output: (N, C_out, L_out) or (C_out, L_out), with
          ``L_out = (L - 1) * s - 2 * p + d * (K - 1) + output_padding + 1``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> up = nn.ConvTranspose1d(16, 8, 3, stride=2, padding=1)
        >>> x = lucid.randn(1, 16, 6)
        >>> up(x).shape
        (1, 8, 11)
        >>> up(x, output_size=[12]).shape
        (1, 8, 12)
        >>> up
        ConvTranspose1d(16, 8, kernel_size=(3,), stride=(2,), padding=(1,))
    """

    _ntuple = staticmethod(_single)

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)
