"""Stylizing whole images with a StyleNet: padding, blending several styles, masks.

Images here are float32 numpy arrays (H, W, 3) in [0, 1]; the model runs under ``no_grad`` on the
device its weights are on. Style statistics are computed once per style and reused for every
content (``style_statistics``), which is what makes batches of N contents x M styles cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import lucid
from lucid import Tensor
from lucid.models.stylenet import StyleNet
from lucid.nn.functional import interpolate


@dataclass(frozen=True)
class StyleStatistics:
    """AdaIN statistics of one style image: per-channel mean and std, each (1, C, 1, 1)."""

    mean: Tensor
    std: Tensor


def _to_batch(image: np.ndarray, device: lucid.Device) -> Tensor:
    return lucid.tensor(np.ascontiguousarray(image.transpose(2, 0, 1)[None]), device=device)


def _device(model: StyleNet) -> lucid.Device:
    return next(iter(model.parameters())).device


def style_statistics(model: StyleNet, style: np.ndarray) -> StyleStatistics:
    """Encode a style image once; reuse the result for any number of contents."""
    with lucid.no_grad():
        mean, std = model.style_statistics(_to_batch(style.astype(np.float32), _device(model)))
    return StyleStatistics(mean, std)


def border_for(model: StyleNet, height: int, width: int) -> tuple[int, int, int, int]:
    """Padding (top, bottom, left, right) around a content image before encoding.

    A margin of two encoder strides keeps the encoder's zero-padded borders away from the
    picture (they otherwise paint lines along the edges); the rest makes both sides a multiple
    of the stride, so the output crops back to exactly the input's size.
    """
    stride = model.stride

    def split(n: int) -> tuple[int, int]:
        margin = min(2 * stride, n - 1)
        extra = (-(n + 2 * margin)) % stride
        return margin + extra // 2, margin + extra - extra // 2

    return (*split(height), *split(width))


def stylize(
    model: StyleNet,
    content: np.ndarray,
    styles: Sequence[StyleStatistics],
    weights: Sequence[float] | None = None,
    alpha: float = 1.0,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Repaint ``content`` with one style, a weighted blend of several, or two under a mask.

    Args:
        model: the network.
        content: (H, W, 3) float image in [0, 1].
        styles: statistics from ``style_statistics``.
        weights: blend weights, one per style (normalised to sum 1); default equal.
        alpha: 1 = full style, 0 = the content reconstructed.
        mask: (H, W) in [0, 1], with exactly two styles: where 1 the first style, where 0
            the second (Huang and Belongie's spatial control).

    Returns:
        (H, W, 3) float32 in [0, 1], the size of ``content``.
    """
    if not styles:
        raise ValueError("stylize needs at least one style")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if mask is not None and len(styles) != 2:
        raise ValueError(f"a mask needs exactly two styles, got {len(styles)}")
    if weights is None:
        weights = [1.0] * len(styles)
    if len(weights) != len(styles) or min(weights) < 0 or sum(weights) <= 0:
        raise ValueError("style weights must be non-negative, one per style, not all zero")
    total = float(sum(weights))
    height, width = content.shape[:2]
    device = _device(model)
    top, bottom, left, right = border_for(model, height, width)
    with lucid.no_grad():
        image = _to_batch(content.astype(np.float32), device)
        # reflection looks best; images smaller than their padding replicate their edges instead
        mode = "reflect" if max(top, bottom) < height and max(left, right) < width else "replicate"
        padded = lucid.functional.pad(image, (left, right, top, bottom), mode=mode)
        features = model.content_features(padded)
        if mask is not None:
            full = np.pad(mask.astype(np.float32), ((top, bottom), (left, right)), mode="edge")
            small = interpolate(lucid.tensor(full[None, None], device=device),
                                size=features.shape[2:], mode="bilinear", align_corners=False)
            first = model.blend(features, styles[0].mean, styles[0].std, alpha)
            second = model.blend(features, styles[1].mean, styles[1].std, alpha)
            target = first * small + second * (1.0 - small)
        else:
            target = None
            for stats, weight in zip(styles, weights):
                if weight == 0:
                    continue
                part = model.blend(features, stats.mean, stats.std, alpha) * (weight / total)
                target = part if target is None else target + part
        out = model.decoder(target)
        out = out[:, :, top : top + height, left : left + width].clamp(0.0, 1.0)
    return out.cpu().numpy()[0].transpose(1, 2, 0)
