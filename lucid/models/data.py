"""Training images: a folder of pictures held in memory, sampled as random crops with flips."""

from __future__ import annotations

import struct
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from lucid.imagefile import decoding_limits, pixels_to_float, read_error_reason

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class TrainingImageError(ValueError):
    """Training images that cannot be read; the message names each (the first few)."""


def list_images(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted by name (so splits are reproducible); hidden
    files (macOS's ``._photo.jpg`` companions) and folders are not images."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: a file, not a folder")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                  and not p.name.startswith(".") and not p.is_dir())


def split_holdout(paths: Sequence[Path], fraction: float) -> tuple[list[Path], list[Path]]:
    """(train, held out): every k-th file is held out, k = round(1 / fraction)."""
    if fraction <= 0:
        return list(paths), []
    step = max(2, round(1 / fraction))
    held = [p for i, p in enumerate(paths) if i % step == step - 1]
    train = [p for i, p in enumerate(paths) if i % step != step - 1]
    return train, held


def load_rgb(path: Path, min_side: int) -> np.ndarray:
    """An image as uint8 (H, W, 3), upscaled if needed so both sides reach ``min_side``.

    Raises :class:`TrainingImageError` naming the file when it cannot be read, in the command
    line's words (:func:`lucid.imagefile.read_error_reason`).
    """
    try:
        with decoding_limits(), warnings.catch_warnings(), Image.open(path) as image:
            warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data": not an error
            image = _eight_bit(image).convert("RGB")
            short = min(image.size)
            if short < 1:
                raise TrainingImageError(f"{path}: image has no pixels")
            if short < min_side:
                scale = min_side / short
                image = image.resize((max(min_side, round(image.width * scale)),
                                      max(min_side, round(image.height * scale))),
                                     Image.BICUBIC)
            return np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, EOFError, SyntaxError, struct.error,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        if isinstance(error, TrainingImageError):
            raise
        raise TrainingImageError(f"{path}: {read_error_reason(error)}") from error


def _eight_bit(image: Image.Image) -> Image.Image:
    """A 16-bit or floating-point greyscale picture as an 8-bit one, scaled by
    :func:`pixels_to_float`, where Pillow's ``convert`` clips every value past 255 (a 16-bit
    photo comes out white); others as they are."""
    if not (image.mode.startswith("I;16") or image.mode in ("I", "F")):
        return image
    return Image.fromarray(np.round(pixels_to_float(image) * 255).astype(np.uint8), "L")


def load_all(paths: Sequence[Path], min_side: int) -> list[np.ndarray]:
    """:func:`load_rgb` of every path; a :class:`TrainingImageError` names every file that
    cannot be read (the first three, and how many in all), not just the first."""
    images, failures = [], []
    for path in paths:
        try:
            images.append(load_rgb(path, min_side))
        except TrainingImageError as error:
            failures.append(str(error))
    if failures:
        more = f"; {len(failures) - 3} more" if len(failures) > 3 else ""
        raise TrainingImageError(f"{len(failures)} training image(s) cannot be read: "
                                 + "; ".join(failures[:3]) + more)
    return images


class ImagePool:
    """Decoded images kept in memory (uint8) and cut into random training crops.

    Example:
        >>> pool = ImagePool([np.zeros((40, 50, 3), np.uint8)], crop_size=32)
        >>> pool.batch(np.random.default_rng(0), 2).shape
        (2, 3, 32, 32)
    """

    def __init__(self, images: Sequence[np.ndarray], crop_size: int) -> None:
        if not images:
            raise ValueError("no training images")
        self.images = list(images)
        self.crop_size = crop_size

    def batch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` random crops with random horizontal flips, float32 (N, 3, S, S) in [0, 1]."""
        s = self.crop_size
        out = np.empty((size, s, s, 3), dtype=np.uint8)
        for i, index in enumerate(rng.integers(len(self.images), size=size)):
            image = self.images[index]
            top = rng.integers(image.shape[0] - s + 1)
            left = rng.integers(image.shape[1] - s + 1)
            crop = image[top : top + s, left : left + s]
            out[i] = crop[:, ::-1] if rng.random() < 0.5 else crop
        return out.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
