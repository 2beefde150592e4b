"""``Fold`` and ``Unfold``: sliding local blocks to columns (im2col) and back (col2im)."""

from __future__ import annotations

from collections.abc import Sequence

from lucid.nn.functional.folding import fold, unfold
from lucid.nn.modules.module import Module
from lucid.tensor import Tensor


class Unfold(Module):
    """Sliding local blocks of a batched image as columns; runs
    ``lucid.nn.functional.unfold``.

    Column ``l`` holds the ``C * kH * kW`` values of block ``l`` (blocks in row-major order
    over the output grid), rows ordered as a conv2d weight's ``(C, kH, kW)``.

    Args:
        kernel_size: int or (kH, kW).
        dilation: spacing between kernel elements. Default: 1.
        padding: zeros added on both sides of each spatial axis. Default: 0.
        stride: step between blocks. Default: 1.

    The arguments are kept as given (ints or tuples) and shown so by ``repr``, as in PyTorch.
    Differences from PyTorch: those of ``lucid.nn.functional.unfold`` (a 2-D input raises
    RuntimeError, non-float inputs are accepted).

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C * kH * kW, L) or (C * kH * kW, L), ``L = L_H * L_W`` with
          ``L_H = (H + 2 * pH - dH * (kH - 1) - 1) // sH + 1`` (likewise ``L_W``).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> unfold = nn.Unfold(kernel_size=(2, 3))
        >>> unfold(lucid.randn(2, 5, 3, 4)).shape
        (2, 30, 4)
        >>> unfold
        Unfold(kernel_size=(2, 3), dilation=1, padding=0, stride=1)
    """

    def __init__(self, kernel_size: int | Sequence[int], dilation: int | Sequence[int] = 1,
                 padding: int | Sequence[int] = 0, stride: int | Sequence[int] = 1) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Columns of sliding local blocks summed back into a batched image, the adjoint of
    ``Unfold``; runs ``lucid.nn.functional.fold``.

    Overlapping blocks sum: ``Fold(Unfold(x))`` is ``x`` times the number of blocks that
    cover each pixel (``x`` itself only when the blocks do not overlap).

    Args:
        output_size: the image's spatial size (H, W), or an int for both.
        kernel_size: int or (kH, kW).
        dilation: spacing between kernel elements. Default: 1.
        padding: rows/columns cropped from each side of the summed image. Default: 0.
        stride: step between blocks. Default: 1.

    The arguments are kept as given (ints or tuples) and shown so by ``repr``, as in PyTorch.
    Differences from PyTorch: those of ``lucid.nn.functional.fold`` (non-float inputs are
    accepted).

    Shape:
        - Input: (N, C * kH * kW, L) or (C * kH * kW, L), with ``L = L_H * L_W`` the number
          of blocks, ``L_H = (H + 2 * pH - dH * (kH - 1) - 1) // sH + 1`` (likewise ``L_W``).
        - Output: (N, C, H, W) or (C, H, W).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> fold = nn.Fold(output_size=(4, 5), kernel_size=(2, 2))
        >>> fold(lucid.randn(1, 3 * 2 * 2, 12)).shape
        (1, 3, 4, 5)
        >>> fold
        Fold(output_size=(4, 5), kernel_size=(2, 2), dilation=1, padding=0, stride=1)
    """

    def __init__(self, output_size: int | Sequence[int], kernel_size: int | Sequence[int],
                 dilation: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                 stride: int | Sequence[int] = 1) -> None:
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input: Tensor) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
