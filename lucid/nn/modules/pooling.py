"""1-D and 2-D pooling layers over ``lucid.nn.functional``'s pooling ops."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lucid.nn.functional._pairs import _pair, _single
from lucid.nn.functional.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool2d,
)
from lucid.nn.modules.module import Module
from lucid.tensor import Tensor

IntOrPair = int | Sequence[int]


class MaxPool2d(Module):
    """The maximum over each ``kernel_size`` window.

    Args:
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW). Default: ``kernel_size``.
        padding: implicit padding with -inf on both sides. Default: 0.
        dilation: spacing between window elements. Default: 1.
        return_indices: also return the flat (H * W) index of each maximum. Default: False.
        ceil_mode: round the output size up instead of down. Default: False.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H_out, W_out), ``H_out = (H + 2p - d(k - 1) - 1) // s + 1``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.MaxPool2d(2)(lucid.randn(1, 3, 8, 8)).shape
        (1, 3, 4, 4)
    """

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                 padding: IntOrPair = 0, dilation: IntOrPair = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean over each ``kernel_size`` window.

    Args:
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW). Default: ``kernel_size``.
        padding: implicit zero padding on both sides. Default: 0.
        ceil_mode: round the output size up instead of down. Default: False.
        count_include_pad: count the padding zeros in the mean. Default: True.
        divisor_override: divide every window's sum by this instead. Default: None.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H_out, W_out), ``H_out = (H + 2p - k) // s + 1``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.AvgPool2d(2)(lucid.ones(1, 1, 4, 4))
        tensor([[[[1., 1.],
                  [1., 1.]]]])
    """

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                 padding: IntOrPair = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                          ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad,
                          divisor_override=self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePoolNd(Module):
    """What the adaptive pooling layers share: the output size (and, for max pooling,
    ``return_indices``), handed to the subclass's ``_pool``."""

    _pool: Callable[..., Any]

    def __init__(self, output_size: int | None | Sequence[int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size: int | None | Sequence[int | None],
                 return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return self._pool(input, self.output_size, self.return_indices)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Average pooling to a fixed output size, whatever the input size.

    Args:
        output_size: int or (H_out, W_out); None in a position keeps the input's size there.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.AdaptiveAvgPool2d(1)(lucid.randn(2, 5, 7, 9)).shape
        (2, 5, 1, 1)
    """

    _pool = staticmethod(adaptive_avg_pool2d)


class MaxPool1d(MaxPool2d):
    """The maximum over each ``kernel_size`` window of the last dim, as ``torch.nn.MaxPool1d``.

    Args:
        kernel_size: int or (k,).
        stride: int or (s,). Default: ``kernel_size``.
        padding: implicit padding with -inf on both sides, at most half the kernel. Default: 0.
        dilation: spacing between window elements. Default: 1.
        return_indices: also return the position along L of each maximum. Default: False.
        ceil_mode: round the output size up instead of down. Default: False.

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: (N, C, L_out) or (C, L_out), ``L_out = (L + 2p - d(k - 1) - 1) // s + 1``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.MaxPool1d(2)(lucid.randn(1, 3, 9)).shape
        (1, 3, 4)
        >>> nn.MaxPool1d(3, stride=2, padding=1)
        MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)
    """

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool1d(Module):
    """The mean over each ``kernel_size`` window of the last dim, as ``torch.nn.AvgPool1d``.

    Args:
        kernel_size: int or (k,).
        stride: int or (s,). Default: ``kernel_size``.
        padding: implicit zero padding on both sides, at most half the kernel. Default: 0.
        ceil_mode: round the output size up instead of down. Default: False.
        count_include_pad: count the padding zeros in the mean. Default: True.

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: (N, C, L_out) or (C, L_out), ``L_out = (L + 2p - k) // s + 1``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.AvgPool1d(2)(lucid.ones(1, 1, 5))
        tensor([[[1., 1.]]])
        >>> nn.AvgPool1d(3, stride=2)
        AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))
    """

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                 padding: IntOrPair = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size, "kernel_size")
        self.stride = _single(stride if stride is not None else kernel_size, "stride")
        self.padding = _single(padding, "padding")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                          ceil_mode=self.ceil_mode, count_include_pad=self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Average pooling of the last dim to a fixed length, as ``torch.nn.AdaptiveAvgPool1d``.

    Args:
        output_size: int, the output length.

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: (N, C, output_size) or (C, output_size).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.AdaptiveAvgPool1d(3)(lucid.randn(2, 5, 7)).shape
        (2, 5, 3)
    """

    _pool = staticmethod(adaptive_avg_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed output size, whatever the input size, as
    ``torch.nn.AdaptiveMaxPool2d``.

    Args:
        output_size: int or (H_out, W_out); None in a position keeps the input's size there.
        return_indices: also return the flat (H * W) index of each maximum. Default: False.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.AdaptiveMaxPool2d((3, None))(lucid.randn(2, 5, 7, 9)).shape
        (2, 5, 3, 9)
        >>> nn.AdaptiveMaxPool2d(1)
        AdaptiveMaxPool2d(output_size=1)
    """

    _pool = staticmethod(adaptive_max_pool2d)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of the last dim to a fixed length, as ``torch.nn.AdaptiveMaxPool1d``.

    Args:
        output_size: int, the output length.
        return_indices: also return the position along L of each maximum. Default: False.

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: (N, C, output_size) or (C, output_size).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.AdaptiveMaxPool1d(3)(lucid.randn(2, 5, 7)).shape
        (2, 5, 3)
    """

    _pool = staticmethod(adaptive_max_pool1d)


class MaxUnpool2d(Module):
    """Partial inverse of :class:`MaxPool2d`: each value to its index in a zero plane, as
    ``torch.nn.MaxUnpool2d``.

    Args:
        kernel_size: int or (kH, kW).
        stride: int or (sH, sW). Default: ``kernel_size``.
        padding: the padding of the pooling being inverted. Default: 0.

    ``forward(input, indices, output_size=None)``: ``indices`` as returned by
    ``MaxPool2d(..., return_indices=True)``; ``output_size`` picks among the sizes that pool
    to the input's.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H_out, W_out), ``H_out = (H - 1) * s - 2p + k`` by default.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> out, idx = nn.MaxPool2d(2, return_indices=True)(lucid.randn(1, 3, 8, 8))
        >>> nn.MaxUnpool2d(2)(out, idx).shape
        (1, 3, 8, 8)
        >>> nn.MaxUnpool2d(2)
        MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    """

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None,
                 padding: IntOrPair = 0) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride if stride is not None else kernel_size, "stride")
        self.padding = _pair(padding, "padding")

    def forward(self, input: Tensor, indices: Tensor,
                output_size: Sequence[int] | None = None) -> Tensor:
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                            output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
