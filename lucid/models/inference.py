"""Stylizing whole images with a StyleNet: padding, blending several styles, masks.

Images here are float32 numpy arrays (H, W, 3) in [0, 1]; the model runs under ``no_grad`` on the
device its weights are on. Style statistics are computed once per style and reused for every
content (``style_statistics``), which is what makes batches of N contents x M styles cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

import lucid
from lucid import Tensor
from lucid.models.stylenet import ContentStatistics, Features, StyleNet, StyleStatistics
from lucid.nn.functional import interpolate


def _to_batch(image: np.ndarray, model: StyleNet) -> Tensor:
    """An (H, W, 3) image as a (1, 3, H, W) tensor on the model's device, in its dtype (so a
    float16 model on a GPU gets float16 input)."""
    weight = next(iter(model.parameters()))
    return lucid.tensor(np.ascontiguousarray(image.transpose(2, 0, 1)[None]),
                        dtype=weight.dtype, device=weight.device)


def _device(model: StyleNet) -> lucid.Device:
    return next(iter(model.parameters())).device


def style_statistics(model: StyleNet, style: np.ndarray) -> StyleStatistics:
    """Encode a style image once; reuse the result for any number of contents."""
    with lucid.no_grad():
        return model.style_statistics(_to_batch(style, model))


def add_grain(image: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """``image`` with Gaussian grain of std ``sigma`` in every channel alike, clipped to
    [0, 1]; the same grain for the same image size (``seed``), so a picture repaints alike.

    A fully convolutional network maps a flat region to constant features and those to a
    flat paint: a white wall or a clear sky stays untextured, and the strokes gather in a
    band round the edges (a pale or dark rim). A little grain (0.02) gives flat regions
    features for the decoder to paint as brush strokes, and barely changes the rest. On
    pure white or black half of each grain is clipped off (std 0.0117 for 0.02 on white).
    Added in bands of rows into one float32 copy: an 8K picture costs one more picture.
    """
    if sigma <= 0:
        return image
    rng = np.random.default_rng(seed)
    out = image.astype(np.float32, copy=True)
    band = max(1, (1 << 20) // max(1, image.shape[1]))  # about 4 MB of noise at a time
    for top in range(0, image.shape[0], band):
        rows = out[top : top + band]
        rows += rng.normal(0.0, sigma, rows.shape[:2]).astype(np.float32)[..., None]
    return np.clip(out, 0.0, 1.0, out=out)


BORDER_STRIDES = 8  # reflected margin around the content, in encoder strides


def border_for(model: StyleNet, height: int, width: int) -> tuple[int, int, int, int]:
    """Padding (top, bottom, left, right) around a content image before encoding.

    A reflected margin of ``BORDER_STRIDES`` encoder strides keeps the encoder's zero-padded
    borders away from the picture: they paint a frame of lines along the edges, measured on a
    flat photo as a step of 0.27 (of the [0, 1] range) between neighbouring edge rows with a
    margin of 2 strides, 0.03 with 4 and 0.001 with 6. The rest makes both sides a multiple
    of the stride, so the output crops back to exactly the input's size. Tiny images are
    padded to at least two feature positions a side.
    """
    stride = model.stride

    def split(n: int) -> tuple[int, int]:
        margin = min(BORDER_STRIDES * stride, n - 1)
        # at least two feature rows: instance statistics of a single position are undefined
        padded = max(n + 2 * margin, 2 * stride)
        extra = -(-padded // stride) * stride - n
        return extra // 2, extra - extra // 2

    return (*split(height), *split(width))


Span = tuple[int, int]  # (start, stop) in padded pixels


@dataclass(frozen=True)
class Tile:
    """One window of the padded image: ``core`` is what it contributes, ``window`` what it
    sees (the core plus a halo of context); both are (start, stop) in padded pixels."""

    rows: tuple[int, int]
    cols: tuple[int, int]
    window_rows: tuple[int, int]
    window_cols: tuple[int, int]


def plan_tiles(height: int, width: int, stride: int, tile_size: int, halo: int) -> list[Tile]:
    """Cover a (padded) image with cores of ``tile_size`` px, each seen with ``halo`` px around.

    Every edge is a multiple of ``stride``, so each window's features sit exactly on the
    whole image's feature grid and the tiles agree with an untiled run up to the halo's reach.
    """
    tile_size = max(stride, tile_size // stride * stride)
    halo = halo // stride * stride

    def spans(n: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        out = []
        for start in range(0, n, tile_size):
            stop = min(start + tile_size, n)
            out.append(((start, stop), (max(0, start - halo), min(n, stop + halo))))
        return out

    return [Tile(r, c, wr, wc) for r, wr in spans(height) for c, wc in spans(width)]


TILE_SIZE = 768  # cores of this many pixels once an image is larger than one tile
HALO = 96  # context around each core: beyond the encoder-decoder's effective reach


def stylize(
    model: StyleNet,
    content: np.ndarray,
    styles: Sequence[StyleStatistics],
    weights: Sequence[float] | None = None,
    alpha: float = 1.0,
    mask: np.ndarray | None = None,
    tile_size: int = TILE_SIZE,
    on_tile: Callable[[int, int], None] | None = None,
    alpha_towards: np.ndarray | None = None,
) -> np.ndarray:
    """Repaint ``content`` with one style, a weighted blend of several, or two under a mask.

    Images larger than ``tile_size`` are processed in overlapping tiles in two passes: the
    first gathers the content's AdaIN statistics over the WHOLE image, the second
    normalises each tile with them, so the result matches an untiled run without seams,
    in memory bounded by the tile size.

    Args:
        model: the network.
        content: (H, W, 3) float image in [0, 1].
        styles: statistics from ``style_statistics``.
        weights: blend weights, one per style (normalised to sum 1); default equal.
        alpha: 1 = full style, 0 = the content reconstructed.
        mask: (H, W) in [0, 1], with exactly two styles: where 1 the first style, where 0
            the second (Huang and Belongie's spatial control).
        tile_size: core size of a tile in pixels.
        on_tile: called with (tiles done, tiles in all) as work progresses.
        alpha_towards: the picture ``alpha`` < 1 mixes back in, the size of ``content``
            (default: ``content``): a repainting pass brings back the photo it started from.

    Returns:
        (H, W, 3) float32 in [0, 1], the size of ``content``.
    """
    _check_arguments(styles, weights, alpha, mask)
    weights = list(weights) if weights is not None else [1.0] * len(styles)
    total_weight = float(sum(weights))
    height, width = content.shape[:2]
    device = _device(model)
    stride = model.stride
    top, bottom, left, right = border_for(model, height, width)
    # reflection looks best; images smaller than their padding replicate their edges instead
    mode = "reflect" if max(top, bottom) < height and max(left, right) < width else "edge"
    padded = np.pad(content.astype(np.float32), ((top, bottom), (left, right), (0, 0)), mode=mode)
    mixed_in = None
    if alpha_towards is not None and alpha < 1.0:
        if alpha_towards.shape[:2] != content.shape[:2]:
            raise ValueError(f"alpha_towards is {alpha_towards.shape[:2]}, the content "
                             f"{content.shape[:2]}: they must be the same size")
        mixed_in = np.pad(alpha_towards.astype(np.float32),
                          ((top, bottom), (left, right), (0, 0)), mode=mode)
    small_masks: dict[int, Tensor] = {}  # the mask at each AdaIN layer's stride

    def mask_at(scale: int) -> Tensor:
        if scale not in small_masks:
            full = np.pad(mask.astype(np.float32), ((top, bottom), (left, right)), mode="edge")
            small_masks[scale] = interpolate(
                lucid.tensor(full[None, None], device=device),
                size=(padded.shape[0] // scale, padded.shape[1] // scale),
                mode="bilinear", align_corners=False,
            )
        return small_masks[scale]

    tiles = plan_tiles(padded.shape[0], padded.shape[1], stride, tile_size, HALO)
    passes = 1 if len(tiles) == 1 else 2
    plans = _decode_plans(tiles, ((top, top + height), (left, left + width)),
                          model.decoder.reach, stride)
    total = len(plans) + (len(tiles) if passes == 2 else 0)
    done = 0

    def features_of(tile: Tile) -> Features:
        nonlocal done
        (r0, r1), (c0, c1) = tile.window_rows, tile.window_cols
        window = padded[r0:r1, c0:c1]
        result = model.content_features(_to_batch(window, model))
        done += 1
        if on_tile is not None:
            on_tile(done, total)
        return result

    def mask_of(tile: Tile, array: Tensor) -> Tensor:
        scale = _scale(tile, array)
        (r0, r1), (c0, c1) = tile.window_rows, tile.window_cols
        return mask_at(scale)[:, :, r0 // scale : r1 // scale, c0 // scale : c1 // scale]

    output = np.empty((height, width, 3), dtype=np.float32)
    with lucid.no_grad():
        content_stats = None if passes == 1 else _whole_image_stats(
            {tap: _crop(t, x, t.rows, t.cols) for tap, x in features_of(t).items()}
            for t in tiles)
        for tile, ((r0, r1), (c0, c1)), (rows, cols) in plans:
            features = features_of(tile)
            mix = None
            if mixed_in is not None:
                (w0, w1), (v0, v1) = tile.window_rows, tile.window_cols
                mix = model.content_features(_to_batch(mixed_in[w0:w1, v0:v1], model))
            if mask is not None:
                first = model.blend(features, styles[0], alpha, content_stats, mix)
                second = model.blend(features, styles[1], alpha, content_stats, mix)
                target = {}
                for tap, x in first.items():
                    tile_mask = mask_of(tile, x)
                    target[tap] = x * tile_mask + second[tap] * (1.0 - tile_mask)
            else:
                target = _weighted_sum(
                    (model.blend(features, stats, alpha, content_stats, mix),
                     weight / total_weight)
                    for stats, weight in zip(styles, weights) if weight != 0)
            image = model.decode({tap: _crop(tile, x, rows, cols) for tap, x in target.items()})
            image = image.clamp(0.0, 1.0).cpu().numpy()[0].transpose(1, 2, 0)
            output[r0 - top : r1 - top, c0 - left : c1 - left] = image[
                r0 - rows[0] : r1 - rows[0], c0 - cols[0] : c1 - cols[0]]
    return output


def _scale(tile: Tile, array: Tensor) -> int:
    """Pixels per position of a window's array (features at some stride, or the image)."""
    return (tile.window_rows[1] - tile.window_rows[0]) // array.shape[2]


def _crop(tile: Tile, array: Tensor, rows: Span, cols: Span) -> Tensor:
    """The part of a window's array that covers ``rows`` x ``cols`` (on the array's grid)."""
    scale = _scale(tile, array)
    r0, c0 = tile.window_rows[0], tile.window_cols[0]
    return array[:, :, (rows[0] - r0) // scale : (rows[1] - r0) // scale,
                 (cols[0] - c0) // scale : (cols[1] - c0) // scale]


def _decode_plans(tiles: Sequence[Tile], picture: tuple[Span, Span], reach: int,
                  stride: int) -> list[tuple[Tile, list[Span], list[Span]]]:
    """Per tile that shows some of the picture: the (rows, cols) of its core inside the
    picture, and the (rows, cols) it decodes: those grown by the decoder's reach, on the
    stride grid, inside its window. The reflected margin and the halos beyond only serve the
    encoder; a tile of the margin alone decodes nothing."""
    plans = []
    for tile in tiles:
        spans = [_overlap(core, inside)
                 for core, inside in zip((tile.rows, tile.cols), picture, strict=True)]
        if None not in spans:
            plans.append((tile, spans, [
                _widen(span, window, reach, stride)
                for span, window in zip(spans, (tile.window_rows, tile.window_cols),
                                        strict=True)]))
    return plans


def _overlap(a: Span, b: Span) -> Span | None:
    start, stop = max(a[0], b[0]), min(a[1], b[1])
    return (start, stop) if stop > start else None


def _widen(span: Span, window: Span, reach: int, stride: int) -> Span:
    """``span`` grown by ``reach`` on both sides, out to the stride grid, inside ``window``."""
    return (max(window[0], (span[0] - reach) // stride * stride),
            min(window[1], -(-(span[1] + reach) // stride) * stride))


def _weighted_sum(parts: Iterable[tuple[Features, float]]) -> Features:
    """Sum of AdaIN targets, each level weighted alike."""
    total: Features = {}
    for features, weight in parts:
        for tap, x in features.items():
            total[tap] = x * weight if tap not in total else total[tap] + x * weight
    return total


def _whole_image_stats(core_features: Iterable[Features]) -> dict[str, ContentStatistics]:
    """Per-channel mean and biased variance over all tiles' cores at each AdaIN layer, one tile
    at a time (float64 sums, so a whole 8K image adds up without loss)."""
    totals: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    dtypes = {}
    for features in core_features:
        for tap, x in features.items():
            data = x.data.astype(np.float64)
            total, squares, count = totals.get(tap, (0.0, 0.0, 0))
            totals[tap] = (total + data.sum(axis=(0, 2, 3)),
                           squares + (data * data).sum(axis=(0, 2, 3)),
                           count + data.shape[0] * data.shape[2] * data.shape[3])
            dtypes[tap] = x.dtype
    stats = {}
    for tap, (total, squares, count) in totals.items():
        mean = total / count
        var = squares / count - mean * mean
        var = var * (var > 0)  # rounding can leave a tiny negative
        stats[tap] = ContentStatistics(Tensor._wrap(mean.astype(dtypes[tap])),
                                       Tensor._wrap(var.astype(dtypes[tap])), count)
    return stats


def _check_arguments(styles: Sequence[StyleStatistics], weights: Sequence[float] | None,
                     alpha: float, mask: np.ndarray | None) -> None:
    if not styles:
        raise ValueError("stylize needs at least one style")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if mask is not None and len(styles) != 2:
        raise ValueError(f"a mask needs exactly two styles, got {len(styles)}")
    if weights is not None and (len(weights) != len(styles) or min(weights) < 0
                                or sum(weights) <= 0):
        raise ValueError("style weights must be non-negative, one per style, not all zero")
