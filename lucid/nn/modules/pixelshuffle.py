"""``PixelShuffle`` and ``PixelUnshuffle``: channels moved into space and back."""

from __future__ import annotations

from lucid.nn.functional.pixelshuffle import pixel_shuffle, pixel_unshuffle
from lucid.nn.modules.module import Module
from lucid.tensor import Tensor


class PixelShuffle(Module):
    """Sub-pixel upsampling: ``(*, C * r * r, H, W) -> (*, C, H * r, W * r)``, runs
    ``lucid.nn.functional.pixel_shuffle`` (``r = upscale_factor``).

    ``out[..., c, h * r + i, w * r + j] = input[..., c * r * r + i * r + j, h, w]``.
    Differences from PyTorch: an empty input gets the documented output shape (PyTorch 2.13
    returns the input's own shape).

    Shape:
        - Input: (*, C * r * r, H, W), any number of leading batch dimensions.
        - Output: (*, C, H * r, W * r).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> shuffle = nn.PixelShuffle(3)
        >>> shuffle(lucid.randn(1, 9, 4, 4)).shape
        (1, 1, 12, 12)
        >>> shuffle
        PixelShuffle(upscale_factor=3)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """The inverse of ``PixelShuffle``: ``(*, C, H * r, W * r) -> (*, C * r * r, H, W)``, runs
    ``lucid.nn.functional.pixel_unshuffle`` (``r = downscale_factor``).

    ``out[..., c * r * r + i * r + j, h, w] = input[..., c, h * r + i, w * r + j]``.
    Differences from PyTorch: an empty input gets the documented output shape (PyTorch 2.13
    returns the input's own shape).

    Shape:
        - Input: (*, C, H * r, W * r), any number of leading batch dimensions.
        - Output: (*, C * r * r, H, W).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> unshuffle = nn.PixelUnshuffle(3)
        >>> unshuffle(lucid.randn(1, 1, 12, 12)).shape
        (1, 9, 4, 4)
        >>> unshuffle
        PixelUnshuffle(downscale_factor=3)
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
