"""``interpolate`` for 4-D input: ``nearest`` (PyTorch's legacy rule) and ``bilinear``.

Both modes are separable linear maps (``out = A_h @ x @ A_w^T``), so they share
``pooling.SeparableLinear``: each axis is a banded matrix applied as one or two gathers
(bilinear) or a plain ``repeat`` (nearest by an integer factor, whose backward is then a
reshape-sum). The matrices are built once per (size, mode, scale) on the host and cached.
Index and weight arithmetic follows PyTorch's CPU kernels, in float32 for nearest and in the
input's dtype for bilinear, so the sampled positions agree bit for bit.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from lucid.nn.functional.pooling import Band, SeparableLinear
from lucid.tensor import Tensor


@functools.lru_cache(maxsize=256)
def _nearest_band(size: int, out: int, scale: float | None) -> Band:
    """Legacy nearest: ``src = min(floor(dst * s), size - 1)``, ``s`` as PyTorch computes it."""
    dst = np.arange(out)
    if out == size:
        src = dst
    elif out == 2 * size:
        src = dst >> 1
    else:
        # float32 throughout, as PyTorch's nearest_idx (floorf of float products)
        s = np.float32(1.0 / scale) if scale is not None and scale > 0 \
            else np.float32(size) / np.float32(out)
        src = np.minimum(np.floor(dst.astype(np.float32) * s).astype(np.int64), size - 1)
    matrix = np.zeros((out, size))
    matrix[dst, src] = 1.0
    return Band(matrix, matrix != 0)


@functools.lru_cache(maxsize=256)
def _bilinear_band(size: int, out: int, align_corners: bool, scale: float | None,
                   dtype: np.dtype) -> Band:
    """Linear interpolation weights along one axis (PyTorch's area_pixel_compute_* rules)."""
    f = dtype.type
    dst = np.arange(out).astype(dtype)
    if out == size:  # PyTorch's CPU kernel copies an axis whose size is kept, whatever the scale
        src = dst
    elif align_corners:
        s = f(size - 1) / f(out - 1) if out > 1 else f(0)
        src = s * dst
    else:
        s = f(1.0 / scale) if scale is not None and scale > 0 else f(size) / f(out)
        src = np.maximum(s * (dst + f(0.5)) - f(0.5), f(0))  # negative -> 0, as PyTorch
    i0 = src.astype(np.int64)  # src >= 0, so truncation is floor
    i1 = i0 + (i0 < size - 1)
    w1 = np.clip(src - i0.astype(dtype), f(0), f(1))
    w0 = f(1) - w1
    rows = np.arange(out)
    matrix = np.zeros((out, size))
    np.add.at(matrix, (rows, i0), w0)  # i0 == i1 at the last pixel: weights merge
    np.add.at(matrix, (rows, i1), w1)
    mask = np.zeros((out, size), dtype=bool)
    mask[rows, i0] = mask[rows, i1] = True  # structural, even where a weight is 0
    return Band(matrix, mask)


def _output_size(in_hw: tuple[int, int], size: int | Sequence[int] | None,
                 scale_factor: float | Sequence[float] | None
                 ) -> tuple[tuple[int, int], tuple[float, float] | None]:
    """PyTorch's output size, and the scales (if any) that the kernels map coordinates with."""
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        sizes = (size, size) if isinstance(size, int) else tuple(size)
        if len(sizes) != 2:
            raise ValueError(f"interpolate: size must be an int or a pair for 4-D input, got "
                             f"{size!r}")
        out = (int(sizes[0]), int(sizes[1]))
        scales = None
    elif scale_factor is not None:
        factors = (scale_factor, scale_factor) if isinstance(scale_factor, (int, float)) \
            else tuple(scale_factor)
        if len(factors) != 2:
            raise ValueError(f"interpolate: scale_factor must be a number or a pair for 4-D "
                             f"input, got {scale_factor!r}")
        scales = (float(factors[0]), float(factors[1]))
        out = (math.floor(in_hw[0] * scales[0]), math.floor(in_hw[1] * scales[1]))
    else:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    if min(out) <= 0:
        raise ValueError(f"interpolate: output size must be positive, got {out}")
    return out, scales


def interpolate(input: Tensor, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None) -> Tensor:
    """Resize the last two axes, as ``torch.nn.functional.interpolate`` (4-D input).

    Output size: ``size``, or ``floor(in * scale_factor)``. Coordinates map with
    ``s = 1 / scale_factor`` when ``scale_factor`` is given (and ``recompute_scale_factor`` is
    not True), else ``s = in / out``:

    * ``nearest``: ``src = min(floor(dst * s), in - 1)`` (PyTorch's legacy ``nearest``).
    * ``bilinear``: ``align_corners=False``: ``src = max(s * (dst + 0.5) - 0.5, 0)``;
      ``align_corners=True``: ``src = dst * (in - 1) / (out - 1)``; the output mixes the two
      neighbouring pixels ``floor(src)`` and ``floor(src) + 1`` (clamped) linearly. An axis
      whose size is kept is copied (``src = dst``) even where ``scale_factor`` is not 1, as
      PyTorch's CPU kernel does (``scale_factor=1.1`` keeps a 5-pixel axis 5 pixels).

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out).

    Example:
        >>> import lucid
        >>> from lucid.nn.functional.upsampling import interpolate
        >>> interpolate(lucid.tensor([[[[1.0, 2.0]]]]), scale_factor=2)
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.]]]])
    """
    if input.ndim != 4:
        raise NotImplementedError(f"interpolate: only 4-D (N, C, H, W) input is supported, got "
                                  f"{input.ndim}-D input of size {tuple(input.shape)}")
    if mode not in ("nearest", "bilinear"):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; use 'nearest' "
                                  "or 'bilinear'")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    in_hw = (int(input.shape[2]), int(input.shape[3]))
    out_hw, scales = _output_size(in_hw, size, scale_factor)
    if recompute_scale_factor:
        scales = None
    sh, sw = scales if scales is not None else (None, None)
    if mode == "nearest":
        band_h = _nearest_band(in_hw[0], out_hw[0], sh)
        band_w = _nearest_band(in_hw[1], out_hw[1], sw)
    else:
        if not np.issubdtype(input.dtype, np.floating):
            raise TypeError(f"interpolate: bilinear needs floating point input, got {input.dtype}")
        corners, dtype = bool(align_corners), np.dtype(input.dtype)
        band_h = _bilinear_band(in_hw[0], out_hw[0], corners, sh, dtype)
        band_w = _bilinear_band(in_hw[1], out_hw[1], corners, sw, dtype)
    return SeparableLinear.apply(input, band_h=band_h, band_w=band_w)
