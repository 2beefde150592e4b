"""1-D and 2-D padding layers over ``lucid.functional.pad``."""

from __future__ import annotations

from collections.abc import Sequence

from lucid.functional import pad
from lucid.nn.modules.module import Module
from lucid.tensor import Tensor

_SIDES = ("left", "right", "top", "bottom")


def _widths(padding: int | Sequence[int], count: int) -> tuple[int, ...]:
    """``p -> (p,) * count``; a sequence of ``count`` is (left, right[, top, bottom])."""
    if isinstance(padding, int):
        return (padding,) * count
    widths = tuple(int(p) for p in padding)
    if len(widths) != count:
        raise ValueError(f"expected an int or {count} padding widths "
                         f"({', '.join(_SIDES[:count])}), got {tuple(padding)}")
    return widths


class _PadNd(Module):
    """Pads the last ``dims`` dims in ``mode``: what every padding layer shares."""

    mode = "constant"
    dims = 2

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _widths(padding, 2 * self.dims)

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, mode=self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pads with a constant ``value``."""

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, mode="constant", value=self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _Zeros:
    """Mixin of ``ZeroPad1d`` and ``ZeroPad2d``: a constant pad of 0, shown as its widths."""

    padding: tuple[int, ...]

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)  # type: ignore[call-arg]

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad2d(_PadNd):
    """Pad the last two dims with the reflection of the input (the edge is not repeated).

    Args:
        padding: int, or (left, right, top, bottom); each must be smaller than the
            padded dimension.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H + top + bottom, W + left + right), or without N.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.ReflectionPad2d(1)(lucid.arange(4.0).reshape(1, 1, 2, 2))[0, 0]
        tensor([[3., 2., 3., 2.],
                [1., 0., 1., 0.],
                [3., 2., 3., 2.],
                [1., 0., 1., 0.]])
    """

    mode = "reflect"


class ReplicationPad2d(_PadNd):
    """Pad the last two dims by repeating the edge values.

    Args:
        padding: int, or (left, right, top, bottom).

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H + top + bottom, W + left + right), or without N.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.ReplicationPad2d((1, 0, 0, 0))(lucid.ones(1, 1, 2, 2)).shape
        (1, 1, 2, 3)
    """

    mode = "replicate"


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with a constant ``value``.

    Args:
        padding: int, or (left, right, top, bottom); negative widths crop.
        value: the fill value.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H + top + bottom, W + left + right), or without N.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.ConstantPad2d(1, 3.5)(lucid.zeros(1, 1, 1, 1))[0, 0, 0]
        tensor([3.5, 3.5, 3.5])
    """


class ZeroPad2d(_Zeros, ConstantPad2d):
    """Pad the last two dims with zeros.

    Args:
        padding: int, or (left, right, top, bottom); negative widths crop.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H + top + bottom, W + left + right), or without N.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.ZeroPad2d((1, 1, 2, 0))(lucid.ones(1, 1, 3, 3)).shape
        (1, 1, 5, 5)
    """


class ReflectionPad1d(_PadNd):
    """Pad the last dim with the reflection of the input (the edge is not repeated).

    Args:
        padding: int, or (left, right); each must be smaller than the padded dimension.

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: (N, C, L + left + right), or without N.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.ReflectionPad1d((2, 1))(lucid.arange(4.0).reshape(1, 1, 4))
        tensor([[[2., 1., 0., 1., 2., 3., 2.]]])
    """

    mode = "reflect"
    dims = 1


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating the edge values.

    Args:
        padding: int, or (left, right).

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: (N, C, L + left + right), or without N.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.ReplicationPad1d((2, 1))(lucid.arange(3.0).reshape(1, 3))
        tensor([[0., 0., 0., 1., 2., 2.]])
    """

    mode = "replicate"
    dims = 1


class CircularPad2d(_PadNd):
    """Pad the last two dims by wrapping the input around (the far edge's values first).

    Args:
        padding: int, or (left, right, top, bottom); each at most the padded dimension.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H + top + bottom, W + left + right), or without N.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.CircularPad2d((1, 0, 0, 0))(lucid.arange(4.0).reshape(1, 1, 2, 2))[0, 0]
        tensor([[1., 0., 1.],
                [3., 2., 3.]])
    """

    mode = "circular"


class CircularPad1d(_PadNd):
    """Pad the last dim by wrapping the input around (the far edge's values first).

    Args:
        padding: int, or (left, right); each at most the padded dimension.

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: (N, C, L + left + right), or without N.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.CircularPad1d((2, 1))(lucid.arange(3.0).reshape(1, 3))
        tensor([[1., 2., 0., 1., 2., 0.]])
    """

    mode = "circular"
    dims = 1


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant ``value``.

    Args:
        padding: int, or (left, right); negative widths crop.
        value: the fill value.

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: (N, C, L + left + right), or without N.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.ConstantPad1d((1, 2), 3.5)(lucid.zeros(1, 2))
        tensor([[3.5, 0. , 0. , 3.5, 3.5]])
    """

    dims = 1


class ZeroPad1d(_Zeros, ConstantPad1d):
    """Pad the last dim with zeros.

    Args:
        padding: int, or (left, right); negative widths crop.

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: (N, C, L + left + right), or without N.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.ZeroPad1d((1, 2))(lucid.ones(1, 1, 3)).shape
        (1, 1, 6)
    """
