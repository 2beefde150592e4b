"""Resizing layers over ``lucid.nn.functional.interpolate``: ``Upsample``,
``UpsamplingNearest2d`` and ``UpsamplingBilinear2d`` (PyTorch's semantics)."""

from __future__ import annotations

from collections.abc import Sequence

from lucid.nn.functional.upsampling import interpolate
from lucid.nn.modules.module import Module
from lucid.tensor import Tensor


class Upsample(Module):
    """Resize the spatial dims to ``size``, or by ``scale_factor``.

    Args:
        size: output spatial size, int or (H_out, W_out).
        scale_factor: multiplier of the spatial size, float or (sH, sW).
        mode: ``"nearest"`` | ``"nearest-exact"`` | ``"bilinear"`` | ``"bicubic"`` |
            ``"area"`` (as ``interpolate``). Default: ``"nearest"``.
        align_corners: for ``bilinear`` and ``bicubic``, align the corner pixels' centres.
            Default: None.
        recompute_scale_factor: compute the sampling from the output size rather than
            ``scale_factor`` (as ``interpolate``). Default: None.

    As PyTorch's, the layer has no ``antialias`` option (call ``interpolate``) and its repr
    shows only the size or scale and the mode. 4-D input only (lucid's ``interpolate``).

    Shape:
        - Input: (N, C, H, W).
        - Output: (N, C, H_out, W_out), ``H_out = size[0]`` or ``floor(H * scale_factor)``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> up = nn.Upsample(scale_factor=2, mode="nearest")
        >>> up(lucid.randn(1, 3, 4, 4)).shape
        (1, 3, 8, 8)
        >>> up
        Upsample(scale_factor=2.0, mode='nearest')
    """

    def __init__(self, size: int | Sequence[int] | None = None,
                 scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size = size
        # stored as floats, as PyTorch does (it shows in the repr)
        if isinstance(scale_factor, Sequence):
            self.scale_factor: float | tuple[float, ...] | None = tuple(
                float(s) for s in scale_factor
            )
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(input, size=self.size, scale_factor=self.scale_factor, mode=self.mode,
                           align_corners=self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample`` with ``mode="nearest"`` (PyTorch's legacy nearest: ``src = floor(dst *
    in / out)``), kept as PyTorch keeps it.

    Args:
        size: output spatial size, int or (H_out, W_out).
        scale_factor: multiplier of the spatial size, float or (sH, sW).

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.UpsamplingNearest2d(scale_factor=2)(lucid.ones(1, 1, 2, 2)).shape
        (1, 1, 4, 4)
        >>> nn.UpsamplingNearest2d(scale_factor=2)
        UpsamplingNearest2d(scale_factor=2.0, mode='nearest')
    """

    def __init__(self, size: int | Sequence[int] | None = None,
                 scale_factor: float | Sequence[float] | None = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample`` with ``mode="bilinear"`` and ``align_corners=True``, as PyTorch's (whose
    ``interpolate`` defaults to ``align_corners=False``: the two differ).

    Args:
        size: output spatial size, int or (H_out, W_out).
        scale_factor: multiplier of the spatial size, float or (sH, sW).

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.UpsamplingBilinear2d(size=3)(lucid.tensor([[[[0.0, 1.0], [2.0, 3.0]]]]))
        tensor([[[[0. , 0.5, 1. ],
                  [1. , 1.5, 2. ],
                  [2. , 2.5, 3. ]]]])
    """

    def __init__(self, size: int | Sequence[int] | None = None,
                 scale_factor: float | Sequence[float] | None = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
