"""Image loading, resizing and atomic saving for the CLI.

Inside the program an image is a float32 array in [0, 1] with layout (H, W, 3) RGB,
plus an optional (H, W) float32 alpha channel. Everything here is numpy + Pillow.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import signal
import stat
import struct
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from lucid.imagefile import (
    MAX_IMAGE_PIXELS,
    decoding_limits,
    os_error_reason,
    pixels_to_float,
    read_error_reason,
)

__all__ = [
    "ImageError",
    "LoadedImage",
    "MAX_IMAGE_PIXELS",
    "SUPPORTED_INPUT_SUFFIXES",
    "SUPPORTED_OUTPUT_FORMATS",
    "center_crop_square",
    "check_output_size",
    "load_image",
    "resize_shorter_side",
    "resize_to",
    "save_image",
    "shorter_side_shape",
]

#: File suffixes (lower case, with the dot) that ``load_image`` is meant for.
SUPPORTED_INPUT_SUFFIXES: tuple[str, ...] = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp",
)

#: Output suffix -> Pillow format name.
SUPPORTED_OUTPUT_FORMATS: Mapping[str, str] = MappingProxyType({
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
})

# Pillow warns (a UserWarning from its own modules) about damaged metadata that it then
# ignores, a corrupt EXIF block say: the picture still decodes, and the warning, printed from
# whichever thread decoded it, would break the progress bar, even with --quiet.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")

# The longest side each format can store (libjpeg's and libwebp's limits); the others' are
# beyond the pixel budget.
_MAX_SIDE = MappingProxyType({"JPEG": 65_500, "WEBP": 16_383})


def check_output_size(path: str | os.PathLike[str], height: int, width: int) -> None:
    """Raise ``ImageError`` if a picture of ``height`` x ``width`` cannot be stored in the
    format ``path``'s suffix names (checked before painting, so no time is spent in vain)."""
    fmt = SUPPORTED_OUTPUT_FORMATS.get(Path(path).suffix.lower())
    limit = _MAX_SIDE.get(fmt or "")
    if limit is not None and max(height, width) > limit:
        raise ImageError(os.fspath(path), f"{fmt} pictures hold at most {limit:,} pixels a "
                                          f"side, and this one would be {width}x{height}; use "
                                          "a smaller --size, --crop, or a .png or .tif output")


# Formats whose files can carry an alpha channel; alpha is silently dropped for the rest.
_ALPHA_FORMATS = frozenset({"PNG", "WEBP", "TIFF"})

class ImageError(Exception):
    """A file could not be read or written as an image.

    ``str(err)`` is one line: ``"<path>: <what is wrong>"``.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class LoadedImage:
    """A decoded image: ``rgb`` (H, W, 3) float32 in [0, 1], optional ``alpha`` (H, W)."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    path: Path
    icc_converted: bool = False
    full_size: tuple[int, int] | None = None
    """(height, width) of the picture in the file (upright), when ``rgb`` holds it reduced
    (``load_image``'s ``shorter_side``); None when ``rgb`` is the full picture."""

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return int(self.rgb.shape[0]), int(self.rgb.shape[1])


# --------------------------------------------------------------------------- loading


def _split_alpha(img: Image.Image) -> tuple[Image.Image, np.ndarray | None]:
    """Bring any Pillow mode to a colour image (RGB/L/CMYK/16-bit/float) plus optional alpha."""
    mode = img.mode
    if mode in ("RGB", "L", "CMYK", "I", "F") or mode.startswith("I;16"):
        return img, None
    if mode == "1":
        return img.convert("L"), None
    if mode in ("RGBA", "RGBa", "LA", "La", "PA"):
        img = img.convert("LA" if mode in ("LA", "La") else "RGBA")
        alpha = np.asarray(img.getchannel("A"), dtype=np.float32) / 255.0
        return img.convert("L" if img.mode == "LA" else "RGB"), alpha
    if mode == "P":
        has_alpha = getattr(img, "has_transparency_data", None)
        if has_alpha is None:  # Pillow < 10.1
            has_alpha = "transparency" in img.info or img.palette.mode == "RGBA"
        if has_alpha:
            return _split_alpha(img.convert("RGBA"))
        return img.convert("RGB"), None
    # RGBX, YCbCr, HSV, ...: whatever Pillow can turn into RGB.
    return img.convert("RGB"), None


def _icc_to_srgb(img: Image.Image, icc: bytes) -> Image.Image | None:
    """Convert ``img`` (RGB, L or CMYK) from its embedded profile to sRGB; None on failure."""
    try:
        from PIL import ImageCms
    except ImportError:  # Pillow built without littlecms
        return None
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        out = ImageCms.profileToProfile(img, src, dst, outputMode="RGB")
    except Exception:  # noqa: BLE001 - best effort: a broken profile must not block loading
        return None
    return out


def _reduction(size: tuple[int, int], shorter_side: int) -> int:
    """The whole factor a picture of ``size`` may be reduced by and keep its shorter side at
    least twice ``shorter_side`` (1: not at all; 0 means full size)."""
    return max(1, min(size) // (2 * shorter_side)) if shorter_side > 0 else 1


# Pillow modes whose ``reduce`` averages like values (not palette indices, not 1-bit)
_REDUCIBLE_MODES = frozenset({"L", "LA", "La", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr",
                              "I", "F"})
# modes Pillow cannot reduce, and the mode each is averaged in instead
_AVERAGED_AS = {"1": "L", "P": "RGB", "PA": "RGBA", "I;16": "I", "I;16L": "I", "I;16B": "I",
                "I;16N": "I"}


def _reduced(img: Image.Image, factor: int) -> Image.Image:
    """``img`` reduced by ``factor`` (box average), its metadata (EXIF) kept; itself for a
    factor below 2 or a mode that cannot be averaged. 1-bit, palette and 16-bit pictures are
    widened first (a palette with a transparent entry to RGBA), so that a 24 KB 1-bit PNG
    of 14000 x 14000 does not become 2.4 GB of floats for a 64 px picture. Bands are reduced
    one by one: Pillow reduces a picture with alpha premultiplied, which blackens the colour
    under transparent pixels (the full-size path keeps it)."""
    if factor < 2:
        return img
    if img.mode in _AVERAGED_AS:
        mode = "RGBA" if img.mode == "P" and "transparency" in img.info else \
            _AVERAGED_AS[img.mode]
        info = img.info.copy()
        img = img.convert(mode)
        img.info = info
    if img.mode not in _REDUCIBLE_MODES:
        return img
    if "A" not in img.getbands():
        return img.reduce(factor)
    reduced = Image.merge(img.mode, [band.reduce(factor) for band in img.split()])
    reduced.info = img.info.copy()
    return reduced


def load_image(path: str | os.PathLike[str], shorter_side: int = 0) -> LoadedImage:
    """Decode an image file into float32 RGB in [0, 1] (+ alpha when it has one).

    Applies EXIF orientation, converts an embedded ICC profile to sRGB (best effort),
    takes the first frame of animations. Raises ``ImageError`` with a one-line reason.

    ``shorter_side`` > 0 says the caller will shrink the picture until its shorter side is
    that long: a picture at least 4 times that is then decoded at a reduced scale (JPEG)
    and reduced by a whole factor (box average) before it becomes floats, its shorter side
    kept at least twice ``shorter_side`` so the caller's resize still does the rest;
    ``full_size`` tells the size in the file. (A 14000x14000 PNG for a 64 px picture took
    7.3 GB as floats.)
    """
    p = Path(path)
    name = os.fspath(path)
    try:
        status = p.stat()
        if stat.S_ISDIR(status.st_mode):
            raise ImageError(name, "is a directory")
        if not stat.S_ISREG(status.st_mode):  # a pipe would read as empty, a device forever
            raise ImageError(name, "is not a regular file (a pipe or a device)")
        if status.st_size == 0:
            raise ImageError(name, "file is empty")
    except OSError as exc:
        raise ImageError(name, os_error_reason(exc)) from exc

    try:
        with decoding_limits():
            try:
                img = Image.open(p)
            except (UnidentifiedImageError, ValueError, EOFError, SyntaxError,
                    struct.error) as exc:
                raise ImageError(name, read_error_reason(exc)) from exc
            with img:
                try:
                    img.seek(0)  # first frame of animated GIF/WebP/TIFF
                    width, height = img.size  # in the file, before any draft
                    factor = _reduction(img.size, shorter_side)
                    if factor >= 2:  # JPEG only: DCT-domain downscaling while decoding
                        img.draft(img.mode, (-(-width // factor), -(-height // factor)))
                    img.load()  # force full decode: truncation surfaces here, not later
                except (OSError, ValueError, EOFError, SyntaxError, struct.error) as exc:
                    raise ImageError(name, read_error_reason(exc)) from exc
                icc = img.info.get("icc_profile")
                source = _reduced(img, _reduction(img.size, shorter_side))  # after the draft
                try:
                    oriented = ImageOps.exif_transpose(source)
                    turned = source.getexif().get(0x0112) in (5, 6, 7, 8)  # a quarter turn
                except Exception:  # noqa: BLE001 - malformed EXIF: keep the stored orientation
                    oriented, turned = source.copy(), False
                full_size = (width, height) if turned else (height, width)  # upright
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, OSError) as exc:
        raise ImageError(name, read_error_reason(exc)) from exc

    color, alpha = _split_alpha(oriented)
    icc_converted = False
    if icc and color.mode in ("RGB", "L", "CMYK"):
        converted = _icc_to_srgb(color, icc)
        if converted is not None:
            color, icc_converted = converted, True
    if color.mode == "CMYK":
        color = color.convert("RGB")

    arr = pixels_to_float(color)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    rgb = np.ascontiguousarray(arr[:, :, :3], dtype=np.float32)
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ImageError(name, "image has no pixels")
    reduced = rgb.shape[:2] != full_size
    return LoadedImage(rgb=rgb, alpha=alpha, path=p, icc_converted=icc_converted,
                       full_size=full_size if reduced else None)


# --------------------------------------------------------------------------- resizing


def _check_image_array(img: np.ndarray) -> None:
    if img.ndim not in (2, 3):
        raise ValueError(f"expected an (H, W) or (H, W, C) array, got shape {img.shape}")


def resize_to(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Lanczos-resize an (H, W) or (H, W, C) float array to ``size=(h, w)``, clipped to [0, 1]."""
    _check_image_array(img)
    h, w = int(size[0]), int(size[1])
    if h < 1 or w < 1:
        raise ValueError(f"cannot resize to {h}x{w}: every side must be at least 1 pixel")
    if (h, w) == img.shape[:2]:
        return np.array(img, dtype=np.float32)
    # Pillow's "F" mode resamples in float32, so no 8-bit quantisation on the way.
    channels = [img] if img.ndim == 2 else [img[:, :, c] for c in range(img.shape[2])]
    out = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(ch, dtype=np.float32), mode="F").resize(
                (w, h), Image.Resampling.LANCZOS
            ),
            dtype=np.float32,
        )
        for ch in channels
    ]
    res = out[0] if img.ndim == 2 else np.stack(out, axis=2)
    # Lanczos rings past the input range near hard edges.
    return np.clip(res, 0.0, 1.0)


def shorter_side_shape(shape: tuple[int, ...], size: int) -> tuple[int, int]:
    """(h, w) that ``resize_shorter_side`` would produce for an array of ``shape``."""
    h, w = int(shape[0]), int(shape[1])
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    if size == 0:
        return h, w
    if h <= w:
        return size, max(1, round(w * size / h))
    return max(1, round(h * size / w)), size


def resize_shorter_side(img: np.ndarray, size: int) -> np.ndarray:
    """Resize so the shorter side is exactly ``size`` keeping aspect; ``size=0`` = unchanged."""
    _check_image_array(img)
    if size == 0:
        return img
    return resize_to(img, shorter_side_shape(img.shape, size))


def center_crop_square(img: np.ndarray) -> np.ndarray:
    """Largest centred square of an (H, W) or (H, W, C) array."""
    _check_image_array(img)
    h, w = img.shape[:2]
    side = min(h, w)
    if side < 1:
        raise ValueError(f"cannot crop an image of size {h}x{w}")
    top, left = (h - side) // 2, (w - side) // 2
    return img[top : top + side, left : left + side]


# --------------------------------------------------------------------------- saving


def _to_uint8(x: np.ndarray) -> np.ndarray:
    x = np.nan_to_num(np.asarray(x, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def _create_temp(target: Path) -> tuple[int, Path]:
    """Exclusive temp file next to ``target``: hidden, and named ``.lucid-<random>.tmp`` so
    that its name stays short however long the target's is. Mode follows the umask."""
    for _ in range(100):
        tmp = target.with_name(f".lucid-{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not create a temporary file", str(target))


_DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM that arrive during the block are held and raised again once it is
    done (to whatever handled them before), so a save is never left halfway as a stray temp
    file. Python runs signal handlers on the main thread only, so elsewhere nothing changes.
    (Blocking the signals would not do: any other thread, a BLAS worker say, still takes
    them for the main thread.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in _DEFERRED_SIGNALS}
    for sig, handler in previous.items():
        if handler not in (signal.SIG_IGN, None):
            signal.signal(sig, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if handler is not None:
                signal.signal(sig, handler)
        _raise_each(list(dict.fromkeys(held)))


def _raise_each(signals: list[int]) -> None:
    """Raise every signal in turn, also when a handler raises (Ctrl-C's does)."""
    if signals:
        try:
            signal.raise_signal(signals[0])
        finally:
            _raise_each(signals[1:])


def _move_into_place(tmp: Path, target: Path, overwrite: bool) -> None:
    """Rename ``tmp`` to ``target``; without ``overwrite`` never over a file that appeared
    since it was checked (a hard link fails if the name is taken, a rename would not)."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system: the check-then-rename
        if target.exists():
            raise FileExistsError(errno.EEXIST, "file exists", str(target)) from None
        os.replace(tmp, target)
    else:
        os.unlink(tmp)


def save_image(
    path: str | os.PathLike[str],
    rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    quality: int = 95,
    overwrite: bool = False,
) -> Path:
    """Write ``rgb`` (H, W, 3) [0, 1] (+ ``alpha``) atomically; format from the extension.

    Alpha is kept for PNG/WebP/TIFF and dropped for JPEG/BMP. The image is written to a
    hidden temp file in the target directory and moved into place, so readers never see
    a half-written file; Ctrl-C or SIGTERM on the main thread wait until it is done. Raises
    ``FileExistsError`` if the target exists (or appears meanwhile) and not ``overwrite``,
    ``ImageError`` for unsupported extensions and unwritable locations.
    """
    name = os.fspath(path)
    target = Path(path)
    fmt = SUPPORTED_OUTPUT_FORMATS.get(target.suffix.lower())
    if fmt is None:
        supported = ", ".join(SUPPORTED_OUTPUT_FORMATS)
        shown = f"'{target.suffix}'" if target.suffix else "no extension"
        raise ImageError(name, f"unsupported output format {shown} (supported: {supported})")
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"rgb must have shape (H, W, 3), got {rgb.shape}")
    if alpha is not None:
        alpha = np.asarray(alpha)
        if alpha.shape != rgb.shape[:2]:
            raise ValueError(f"alpha must have shape {rgb.shape[:2]}, got {alpha.shape}")
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    check_output_size(target, rgb.shape[0], rgb.shape[1])

    if target.is_dir():
        raise ImageError(name, "is a directory")
    # checked up front too, so that nothing is encoded in vain (the move checks again)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{name}: file already exists (pass overwrite=True to replace it)")

    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # a path component is a regular file
        raise ImageError(name, "parent is not a directory") from exc
    except OSError as exc:
        raise ImageError(name, f"cannot create directory {os.fspath(parent)}: "
                               f"{os_error_reason(exc)}") from exc

    u8 = _to_uint8(rgb)
    if alpha is not None and fmt in _ALPHA_FORMATS:
        pil = Image.fromarray(np.dstack([u8, _to_uint8(alpha)]), mode="RGBA")
    else:
        pil = Image.fromarray(u8, mode="RGB")

    options: dict[str, object] = {}
    if fmt == "JPEG":
        # 4:4:4 chroma at high quality: stylised images have fine colour texture.
        options = {"quality": quality, "subsampling": 0 if quality >= 90 else 2,
                   "optimize": True}
    elif fmt == "WEBP":
        options = {"quality": quality}
    # Encoded in memory, then written by Python's file object, which retries a short write and
    # raises when the disk is full: Pillow's encoders writing to a file descriptor themselves
    # took a short write (the disk full) as done, leaving a truncated JPEG or TIFF.
    encoded = io.BytesIO()
    pil.save(encoded, format=fmt, **options)

    with _interrupts_deferred():
        try:
            fd, tmp = _create_temp(target)
        except OSError as exc:
            reason = os_error_reason(exc)
            if reason == "no such file":
                reason = "no such directory"
            raise ImageError(name, reason) from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(encoded.getbuffer())
                fh.flush()
                os.fsync(fh.fileno())
            _move_into_place(tmp, target, overwrite)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, FileExistsError):
                raise FileExistsError(f"{name}: file already exists (pass overwrite=True to "
                                      "replace it)") from exc
            if isinstance(exc, OSError):
                raise ImageError(name, os_error_reason(exc)) from exc
            raise
    return target
