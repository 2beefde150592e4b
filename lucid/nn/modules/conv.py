"""``Conv2d``: a 2-D convolution layer over ``lucid.nn.functional.conv2d``."""

from __future__ import annotations

import math
from collections.abc import Sequence

from lucid.backend import DeviceLike
from lucid.creation import empty
from lucid.dtypes import DTypeLike
from lucid.functional import pad
from lucid.nn import init
from lucid.nn.functional._pairs import _pair
from lucid.nn.functional.conv import conv2d, reflect_padded_conv2d
from lucid.nn.modules.module import Module
from lucid.nn.parameter import Parameter
from lucid.tensor import Tensor

# the non-zero modes are lucid.functional.pad's modes of the same names
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
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
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.dilation = _pair(dilation, "dilation")
        self.groups = groups
        self.padding_mode = padding_mode
        self.padding: tuple[int, int] | str
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of ['valid', 'same']"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding")
        self._reversed_padding_repeated_twice = self._explicit_padding()
        self.weight = Parameter(empty(out_channels, in_channels // groups, *self.kernel_size,
                                      device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _explicit_padding(self) -> tuple[int, int, int, int]:
        """(left, right, top, bottom), the widths ``pad`` takes for the non-zero modes."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            widths: list[int] = []
            # for an even kernel the extra row/column goes after, as in PyTorch
            for d, k in reversed(list(zip(self.dilation, self.kernel_size, strict=True))):
                total = d * (k - 1)
                widths += [total // 2, total - total // 2]
            return tuple(widths)  # type: ignore[return-value]
        ph, pw = self.padding
        return (pw, pw, ph, ph)

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode == "reflect" and isinstance(self.padding, tuple):
            out = reflect_padded_conv2d(input, self.weight, self.bias, self.padding, self.stride,
                                        self.dilation, self.groups)
            if out is not None:  # inference on Winograd: the padding read, not copied
                return out
        if self.padding_mode != "zeros":
            padded = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv2d(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                          self.groups)
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text
