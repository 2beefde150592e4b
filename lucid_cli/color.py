"""Colour utilities for ``--preserve-color`` and ``--recolor`` (numpy only).

All functions take and return (H, W, 3) float32 RGB arrays in [0, 1]. Maths is done in
float64 and the results are clipped back to [0, 1].

References: Gatys et al., "Preserving Color in Neural Artistic Style Transfer" (2016)
for colour-histogram matching and luminance-only transfer; Reinhard et al.,
"Color Transfer between Images" (2001) for the statistics-matching baseline.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "lab_statistics",
    "lab_to_rgb",
    "match_color_histogram",
    "recolor",
    "reinhard_color_transfer",
    "rgb_to_lab",
    "rgb_to_ycbcr",
    "transfer_luminance",
    "ycbcr_to_rgb",
]

# Full-range BT.601 (JPEG) YCbCr; chroma is offset by 0.5 so it lives in [0, 1] too.
_RGB_TO_YCBCR = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.299 / 1.772, -0.587 / 1.772, 0.886 / 1.772],
        [0.701 / 1.402, -0.587 / 1.402, -0.114 / 1.402],
    ]
)
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)
_YCBCR_OFFSET = np.array([0.0, 0.5, 0.5])

# sRGB (D65) primaries -> CIE XYZ, and the D65 reference white.
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_WHITE_D65 = _RGB_TO_XYZ.sum(axis=1)  # XYZ of RGB (1, 1, 1)
_LAB_EPS = (6.0 / 29.0) ** 3


def _check_rgb(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[2] != 3:
        raise ValueError(f"{name} must have shape (H, W, 3), got {x.shape}")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} is empty: shape {x.shape}")
    return x.astype(np.float64)


def _out(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------- colour spaces


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """RGB [0, 1] -> full-range BT.601 YCbCr, Y in [0, 1] and Cb/Cr centred on 0.5."""
    return np.asarray(rgb, np.float64) @ _RGB_TO_YCBCR.T + _YCBCR_OFFSET


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr` (not clipped)."""
    return (np.asarray(ycc, np.float64) - _YCBCR_OFFSET) @ _YCBCR_TO_RGB.T


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB [0, 1] -> CIE L*a*b* (D65), L in [0, 100]."""
    c = np.clip(np.asarray(rgb, np.float64), 0.0, 1.0)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    t = (lin @ _RGB_TO_XYZ.T) / _WHITE_D65
    f = np.where(t > _LAB_EPS, np.cbrt(t), t / (3 * (6.0 / 29.0) ** 2) + 4.0 / 29.0)
    L = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) -> sRGB, clipped to [0, 1] (out-of-gamut colours are clamped)."""
    lab = np.asarray(lab, np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    t = np.where(f > 6.0 / 29.0, f**3, 3 * (6.0 / 29.0) ** 2 * (f - 4.0 / 29.0))
    lin = np.clip((t * _WHITE_D65) @ _XYZ_TO_RGB.T, 0.0, 1.0)
    srgb = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1.0 / 2.4) - 0.055)
    return np.clip(srgb, 0.0, 1.0)


# --------------------------------------------------------------------------- transfers


def _sym_sqrt(cov: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Symmetric (inverse) square root of an SPD matrix via eigendecomposition."""
    w, v = np.linalg.eigh(cov)
    w = np.maximum(w, 1e-12)
    d = w**-0.5 if inverse else w**0.5
    return (v * d) @ v.T


def match_color_histogram(
    source: np.ndarray, target: np.ndarray, eps: float = 1e-5
) -> np.ndarray:
    """Affinely recolour ``source`` so its RGB mean and covariance match ``target``'s.

    ``x' = C_t^{1/2} C_s^{-1/2} (x - mu_s) + mu_t`` with symmetric matrix square roots
    (Gatys et al. found them to give fewer artefacts than Cholesky). ``eps`` is added to
    the covariance diagonals so flat images do not blow up. Sizes may differ.
    """
    src = _check_rgb(source, "source").reshape(-1, 3)
    tgt = _check_rgb(target, "target").reshape(-1, 3)
    mu_s, mu_t = src.mean(axis=0), tgt.mean(axis=0)
    eye = np.eye(3) * eps
    # bias=True: population covariance, so 1-pixel images work.
    cov_s = np.cov(src, rowvar=False, bias=True) + eye
    cov_t = np.cov(tgt, rowvar=False, bias=True) + eye
    a = _sym_sqrt(cov_t) @ _sym_sqrt(cov_s, inverse=True)
    out = (src - mu_s) @ a.T + mu_t
    return _out(out.reshape(np.shape(source)))


def transfer_luminance(stylized: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Luminance of ``stylized`` with the chroma (BT.601 Cb/Cr) of ``content``.

    Both images must have the same shape (resize first).
    """
    sty = _check_rgb(stylized, "stylized")
    con = _check_rgb(content, "content")
    if sty.shape != con.shape:
        raise ValueError(
            f"stylized and content must have the same shape, got {sty.shape} and {con.shape}"
        )
    ycc = rgb_to_ycbcr(con)
    ycc[..., 0] = rgb_to_ycbcr(sty)[..., 0]
    return _out(ycbcr_to_rgb(ycc))


def _weighted_moments(lab: np.ndarray, weights: np.ndarray | None
                      ) -> tuple[np.ndarray, np.ndarray]:
    flat = lab.reshape(-1, 3)
    w = None if weights is None else np.asarray(weights, np.float64).reshape(-1)
    if w is not None and w.sum() <= 0:
        w = None  # nothing visible: every pixel counts alike
    mean = np.average(flat, axis=0, weights=w)
    return mean, np.sqrt(np.average((flat - mean) ** 2, axis=0, weights=w))


def lab_statistics(rgb: np.ndarray, weights: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of an image in CIE Lab, each of shape (3,); ``weights``
    (H, W), e.g. an alpha channel, counts each pixel that much (all zero: uniform)."""
    return _weighted_moments(rgb_to_lab(_check_rgb(rgb, "image")), weights)


def recolor(content: np.ndarray, mean: np.ndarray, std: np.ndarray,
            weights: np.ndarray | None = None, eps: float = 1e-6) -> np.ndarray:
    """``content`` with its Lab channels shifted and scaled to ``mean`` and ``std``.

    ``mean`` and ``std`` are (3,), or (H, W, 3) for a target that varies over the picture
    (two palettes mixed under a mask). The content's own statistics count each pixel by
    ``weights`` (H, W) when given: an alpha channel, so that transparent pixels, whatever
    colour they store, do not shift the visible ones. A (nearly) flat content channel keeps
    its shape (scale 1) since no spread can be created from nothing.
    """
    c_lab = rgb_to_lab(_check_rgb(content, "content"))
    for name, target in (("mean", mean), ("std", std)):
        if np.shape(target) not in ((3,), c_lab.shape):
            raise ValueError(f"{name} must have shape (3,) or {c_lab.shape}, "
                             f"got {np.shape(target)}")
    mu_c, sd_c = _weighted_moments(c_lab, weights)
    scale = np.where(sd_c > eps, np.asarray(std) / np.maximum(sd_c, eps), 1.0)
    return _out(lab_to_rgb((c_lab - mu_c) * scale + mean))


def reinhard_color_transfer(
    content: np.ndarray, style: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Reinhard et al. 2001: match per-channel Lab mean/std of ``content`` to ``style``'s.

    Uses CIE Lab instead of the paper's l-alpha-beta space (see :func:`recolor`).
    """
    _check_rgb(content, "content")  # the content's shape is reported before the style's
    return recolor(content, *lab_statistics(_check_rgb(style, "style")), eps=eps)
