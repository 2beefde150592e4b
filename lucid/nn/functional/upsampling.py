"""``interpolate`` for 4-D input: ``nearest``, ``nearest-exact``, ``bilinear``, ``bicubic``,
``area``, and ``antialias=True`` for ``bilinear`` / ``bicubic``.

Every mode is a separable linear map (``out = A_h @ x @ A_w^T``), so they share
``pooling.SeparableLinear``: each axis is a banded matrix applied as a few gathers (two taps
for bilinear, four for bicubic, a support-wide window with antialiasing) or a plain
``repeat`` (nearest by an integer factor, whose backward is then a reshape-sum). ``area`` is
PyTorch's ``adaptive_avg_pool2d``, itself such a map. The matrices are built once per
(size, mode, scale, dtype) on the host and cached. Index and weight arithmetic follows
PyTorch's CPU kernels (``aten/src/ATen/native/UpSample.h`` and ``cpu/UpSampleKernel.cpp``):
float32 for the nearest modes' indices, the input's dtype for the other modes' weights, with
the same double-precision intermediates and the multiply-adds that PyTorch's x86 wheels fuse
in their AVX2 and AVX-512 kernels, so sampled positions and weights agree bit for bit
(``torch.backends.cpu.get_cpu_capability()`` ``DEFAULT``, without FMA, differs in the last
bit of some bicubic and bilinear weights). Sums of several taps may still round differently.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from lucid.nn.functional.pooling import Band, SeparableLinear, adaptive_avg_pool2d
from lucid.tensor import Tensor

#: the modes ``interpolate`` implements (4-D input)
MODES = ("nearest", "nearest-exact", "bilinear", "bicubic", "area")


def _fma(a: np.ndarray | np.floating, b: np.ndarray | np.floating,
         c: np.ndarray | np.floating) -> np.ndarray:
    """``a * b + c`` rounded once, in the arguments' dtype (float32 or float64): the fused
    multiply-add that the compiler makes of these expressions in PyTorch's AVX2 and AVX-512
    kernels. float32 goes through float64 (the product is exact there); float64 adds Dekker's
    exact product and Knuth's two-sum. Both round twice in the end, so a result that falls
    on a tie may be off by one unit in the last place (not met in the tests' sweeps)."""
    a, b, c = np.asarray(a), np.asarray(b), np.asarray(c)
    if np.result_type(a, b, c) == np.float32:
        d = np.float64
        return (a.astype(d) * b.astype(d) + c.astype(d)).astype(np.float32)
    split = 134217729.0  # 2**27 + 1: Veltkamp's split into 26-bit halves
    ah = split * a
    ah = ah - (ah - a)
    bh = split * b
    bh = bh - (bh - b)
    al, bl = a - ah, b - bh
    p = a * b
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # a * b == p + err exactly
    s = p + c
    v = s - p
    t = (p - (s - v)) + (c - v)  # p + c == s + t exactly
    return s + (t + err)


def _area_scale(size: int, out: int, align_corners: bool, scale: float | None,
                dtype: np.dtype) -> np.floating:
    """PyTorch's ``area_pixel_compute_scale`` in ``dtype``."""
    f = dtype.type
    if align_corners:
        return f(size - 1) / f(out - 1) if out > 1 else f(0)
    return f(1.0 / scale) if scale is not None and scale > 0 else f(size) / f(out)


def _taps_band(rows: np.ndarray, taps: Sequence[np.ndarray], weights: Sequence[np.ndarray],
             size: int, dtype: np.dtype) -> Band:
    """The band whose row ``r`` holds ``weights[t][r]`` at column ``taps[t][r]``; taps that land
    on the same column (clamped at a border) add up in tap order and in ``dtype``, as PyTorch's
    kernel sums them."""
    matrix = np.zeros((len(rows), size), dtype=dtype)
    mask = np.zeros((len(rows), size), dtype=bool)
    for col, w in zip(taps, weights):
        np.add.at(matrix, (rows, col), w.astype(dtype))
        mask[rows, col] = True  # structural, even where a weight is 0
    return Band(matrix.astype(np.float64), mask)


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
        # s * (dst + 0.5) - 0.5 fused in double, stored in dtype; negative -> 0, as PyTorch
        src = np.maximum(_fma(np.float64(s), np.arange(out) + 0.5, np.float64(-0.5))
                         .astype(dtype), f(0))
    # guard_index_and_lambda: floorf (a float's floor, also for double input)
    i0 = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), size - 1)
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


@functools.lru_cache(maxsize=256)
def _nearest_exact_band(size: int, out: int, scale: float | None) -> Band:
    """``nearest-exact``: ``src = min(floor((dst + 0.5) * s), size - 1)``, ``s`` in float32,
    the product in double and floored as a float (PyTorch's ``nearest_exact_idx``)."""
    s = np.float64(_area_scale(size, out, False, scale, np.dtype(np.float32)))
    dst = np.arange(out)
    src = np.floor(((dst + 0.5) * s).astype(np.float32)).astype(np.int64)
    src = np.minimum(src, size - 1)
    return _taps_band(dst, [src], [np.ones(out)], size, np.dtype(np.float64))


def _cubic_inner(x: np.ndarray, a: np.floating, fuse_last: bool = False) -> np.ndarray:
    """Keys' cubic on ``|x| <= 1`` (PyTorch's ``cubic_convolution1``, ``((a + 2) * x - (a + 3))
    * x * x + 1``), in ``x``'s dtype. Its multiply-adds are fused as PyTorch's build fuses
    them: the first one, and the last where ``a`` is a constant (the antialiasing filter)."""
    r = _fma(a + 2, x, -(a + 3)) * x
    return _fma(r, x, x.dtype.type(1)) if fuse_last else r * x + 1


def _cubic_outer(x: np.ndarray, a: np.floating, fuse_last: bool = False) -> np.ndarray:
    """Keys' cubic on ``1 <= |x| <= 2`` (PyTorch's ``cubic_convolution2``, ``((a * x - 5 * a)
    * x + 8 * a) * x - 4 * a``): the first two multiply-adds fused, and the last where ``a``
    is a constant, as in PyTorch's build."""
    r = _fma(_fma(a, x, -(5 * a)), x, 8 * a)
    return _fma(r, x, -(4 * a)) if fuse_last else r * x - 4 * a


def _cubic_coefficients(t: np.ndarray, a: float) -> list[np.ndarray]:
    """Weights of the taps at offsets -1, 0, 1, 2 from ``floor(src)``, ``t = src - floor(src)``,
    in ``t``'s dtype (PyTorch's ``get_cubic_upsample_coefficients``)."""
    f = t.dtype.type
    u = f(1) - t
    return [_cubic_outer(t + f(1), f(a)), _cubic_inner(t, f(a)), _cubic_inner(u, f(a)),
            _cubic_outer(u + f(1), f(a))]


@functools.lru_cache(maxsize=256)
def _bicubic_band(size: int, out: int, align_corners: bool, scale: float | None,
                  dtype: np.dtype) -> Band:
    """Bicubic weights along one axis (A = -0.75): taps ``floor(src) - 1 .. floor(src) + 2``
    clamped into the axis, ``src`` not clamped below 0 (PyTorch's ``cubic=True``)."""
    f = dtype.type
    s = _area_scale(size, out, align_corners, scale, dtype)
    dst = np.arange(out)
    if align_corners:
        src = s * dst.astype(dtype)
    else:  # scale * (dst + 0.5) - 0.5 fused in double, stored in dtype
        src = _fma(np.float64(s), dst + 0.5, np.float64(-0.5)).astype(dtype)
    # guard_index_and_lambda: floorf (a float's floor, also for double input)
    i0 = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), size - 1)
    t = np.clip(src - i0.astype(dtype), f(0), f(1))
    taps = [np.clip(i0 + k - 1, 0, size - 1) for k in range(4)]
    return _taps_band(dst, taps, _cubic_coefficients(t, -0.75), size, dtype)


def _triangle(x: np.ndarray) -> np.ndarray:
    """PIL's bilinear filter (PyTorch's ``HelperInterpLinear::aa_filter``)."""
    x = np.abs(x)
    return np.where(x < 1, x.dtype.type(1) - x, x.dtype.type(0))


def _keys(x: np.ndarray) -> np.ndarray:
    """PIL's bicubic filter, a = -0.5 (PyTorch's ``HelperInterpCubic::aa_filter``)."""
    x = np.abs(x)
    a = x.dtype.type(-0.5)
    return np.where(x < 1, _cubic_inner(x, a, fuse_last=True),
                    np.where(x < 2, _cubic_outer(x, a, fuse_last=True), x.dtype.type(0)))


@functools.lru_cache(maxsize=256)
def _antialias_band(size: int, out: int, align_corners: bool, scale: float | None,
                    dtype: np.dtype, cubic: bool) -> Band:
    """PIL-style resampling (PyTorch's ``_compute_indices_min_size_weights_aa``): output ``i``
    averages the input around ``center = s * (i + 0.5)`` with the filter stretched by ``s``
    when downsampling (support ``taps/2 * max(s, 1)``), weights normalised to sum to 1. An
    axis whose size is kept is copied, as PyTorch's separable kernel skips it."""
    if out == size:
        return _taps_band(np.arange(out), [np.arange(out)], [np.ones(out)], size, dtype)
    f, d = dtype.type, np.float64
    taps, filt = (4, _keys) if cubic else (2, _triangle)
    s = _area_scale(size, out, align_corners, scale, dtype)
    support = f(taps * 0.5 * d(s)) if s >= 1 else f(taps * 0.5)
    width = int(math.ceil(support)) * 2 + 1
    invscale = f(1.0 / d(s)) if s >= 1 else f(1)
    center = (d(s) * (np.arange(out) + 0.5)).astype(dtype)
    # C++'s mixed float/double arithmetic, then truncation toward zero
    xmin = np.maximum(((center - support).astype(d) + 0.5).astype(np.int64), 0)
    xsize = np.minimum(((center + support).astype(d) + 0.5).astype(np.int64), size) - xmin
    xsize = np.clip(xsize, 0, width)
    weights, total = [], np.zeros(out, dtype)
    for j in range(width):
        x = ((((xmin + j).astype(dtype) - center).astype(d) + 0.5) * d(invscale)).astype(dtype)
        w = np.where(j < xsize, filt(x), f(0))
        weights.append(w)
        total = total + w  # in dtype, in tap order
    nonzero = total != 0
    weights = [np.where(nonzero, w / np.where(nonzero, total, f(1)), w) for w in weights]
    rows = np.arange(out)
    matrix = np.zeros((out, size), dtype=dtype)
    mask = np.zeros((out, size), dtype=bool)
    for j, w in enumerate(weights):
        inside = j < xsize
        matrix[rows[inside], xmin[inside] + j] = w[inside]
        mask[rows[inside], xmin[inside] + j] = True
    return Band(matrix.astype(np.float64), mask)


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
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the last two axes, as ``torch.nn.functional.interpolate`` (4-D input).

    Output size: ``size``, or ``floor(in * scale_factor)``. Coordinates map with
    ``s = 1 / scale_factor`` when ``scale_factor`` is given (and ``recompute_scale_factor`` is
    not True), else ``s = in / out``; with ``align_corners=True`` (linear modes only),
    ``s = (in - 1) / (out - 1)`` and ``src = dst * s``:

    * ``nearest``: ``src = min(floor(dst * s), in - 1)`` (PyTorch's legacy ``nearest``, which
      OpenCV's ``INTER_NEAREST`` shares: it shifts the image by half a pixel).
    * ``nearest-exact``: ``src = min(floor((dst + 0.5) * s), in - 1)`` (PIL, scikit-image).
    * ``bilinear``: ``src = max(s * (dst + 0.5) - 0.5, 0)``; the output mixes the pixels
      ``floor(src)`` and ``floor(src) + 1`` (clamped) linearly. An axis whose size is kept is
      copied (``src = dst``) even where ``scale_factor`` is not 1, as PyTorch's CPU kernel does
      (``scale_factor=1.1`` keeps a 5-pixel axis 5 pixels).
    * ``bicubic``: ``src = s * (dst + 0.5) - 0.5``, *not* clamped at 0; Keys' cubic convolution
      (A = -0.75) over the pixels ``floor(src) - 1 .. floor(src) + 2``, each clamped into the
      image (the border pixel repeats). Values may overshoot the input's range, as in PyTorch.
      Unlike ``bilinear``, a kept axis is resampled with ``s`` (PyTorch does the same).
    * ``area``: ``adaptive_avg_pool2d`` to the output size (``scale_factor`` only sizes it).
    * ``antialias=True`` (``bilinear``, ``bicubic``): PIL's resampling, as PyTorch's
      ``_upsample_bilinear2d_aa`` / ``_upsample_bicubic2d_aa``: output ``i`` is the normalised
      filter-weighted mean of the input around ``s * (i + 0.5)``, the filter (triangle, or
      Keys' cubic with A = -0.5) stretched by ``s`` when downsampling so that every input
      pixel contributes. ``align_corners`` then only changes ``s``. A kept axis is copied.

    Args:
        input: (N, C, H, W); floating point for the linear modes and ``area``.
        size: output (H_out, W_out), or an int for both.
        scale_factor: multiplier of H and W, a float or a pair.
        mode: ``"nearest"`` | ``"nearest-exact"`` | ``"bilinear"`` | ``"bicubic"`` |
            ``"area"``. Default: ``"nearest"``.
        align_corners: linear modes only (None means False); setting it with ``nearest``,
            ``nearest-exact`` or ``area`` raises ValueError, as in PyTorch.
        recompute_scale_factor: map coordinates with ``in / out`` rather than
            ``1 / scale_factor`` (only with ``scale_factor``).
        antialias: PIL-style antialiasing; ``bilinear`` and ``bicubic`` only.

    Differences from PyTorch: 4-D input only (no 3-D ``linear``, 5-D ``trilinear``), no
    ``lanczos`` mode, no uint8 path; an unknown mode's NotImplementedError lists lucid's modes.
    Gradients are the exact transposes of the forward maps: PyTorch's CPU backward sums the
    same weights in another order (they agree to rounding), except with ``antialias=True`` on
    an axis whose size a ``scale_factor`` keeps (1.1 on 9 pixels): PyTorch's forward copies
    it, its backward resamples it with ``1 / scale_factor`` (its own gradcheck fails); lucid's
    gradient is the copy's.

    Shape:
        (N, C, H, W) -> (N, C, H_out, W_out).

    Example:
        >>> import lucid
        >>> from lucid.nn.functional.upsampling import interpolate
        >>> interpolate(lucid.tensor([[[[1.0, 2.0]]]]), scale_factor=2)
        tensor([[[[1., 1., 2., 2.],
                  [1., 1., 2., 2.]]]])
    """
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners option can only be set with the "
                             "interpolating modes: linear | bilinear | bicubic | trilinear")
    if input.ndim != 4:
        raise NotImplementedError(f"interpolate: only 4-D (N, C, H, W) input is supported, got "
                                  f"{input.ndim}-D input of size {tuple(input.shape)}")
    in_hw = (int(input.shape[2]), int(input.shape[3]))
    out_hw, scales = _output_size(in_hw, size, scale_factor)
    if recompute_scale_factor and size is not None:
        raise ValueError("interpolate: recompute_scale_factor is not meaningful with an "
                         "explicit size.")
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError("interpolate: Anti-alias option is restricted to bilinear and bicubic "
                         f"modes (lucid has no lanczos), got mode {mode!r}")
    if mode not in MODES:
        if mode in ("linear", "trilinear"):
            raise NotImplementedError(f"interpolate: Got 4D input, but {mode} mode needs "
                                      f"{'3D' if mode == 'linear' else '5D'} input")
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported; the modes "
                                  f"for 4D input are: {' | '.join(MODES)}")
    if mode == "area":
        return adaptive_avg_pool2d(input, out_hw)
    if recompute_scale_factor:
        scales = None
    sh, sw = scales if scales is not None else (None, None)
    if mode == "nearest":
        band_h = _nearest_band(in_hw[0], out_hw[0], sh)
        band_w = _nearest_band(in_hw[1], out_hw[1], sw)
        return SeparableLinear.apply(input, band_h=band_h, band_w=band_w)
    if mode == "nearest-exact":
        band_h = _nearest_exact_band(in_hw[0], out_hw[0], sh)
        band_w = _nearest_exact_band(in_hw[1], out_hw[1], sw)
        return SeparableLinear.apply(input, band_h=band_h, band_w=band_w)
    if not np.issubdtype(input.dtype, np.floating):
        raise TypeError(f"interpolate: {mode} needs floating point input, got {input.dtype}")
    corners, dtype = bool(align_corners), np.dtype(input.dtype)
    if antialias:
        cubic = mode == "bicubic"
        band_h = _antialias_band(in_hw[0], out_hw[0], corners, sh, dtype, cubic)
        band_w = _antialias_band(in_hw[1], out_hw[1], corners, sw, dtype, cubic)
    else:
        build = _bilinear_band if mode == "bilinear" else _bicubic_band
        band_h = build(in_hw[0], out_hw[0], corners, sh, dtype)
        band_w = build(in_hw[1], out_hw[1], corners, sw, dtype)
    return SeparableLinear.apply(input, band_h=band_h, band_w=band_w)
