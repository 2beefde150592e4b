"""Opening picture files with Pillow, for the training loader (:mod:`lucid.models.data`) and the
command line's image loader alike: Pillow's decoding limits, why a file cannot be read, in a
user's words, and deep (16-bit, float) pixels scaled to [0, 1]."""

from __future__ import annotations

import contextlib
import errno
import threading
import warnings
from collections.abc import Iterator

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

#: Pixel budget for decoding. Pillow's default (~89 Mpx) rejects ordinary large photos;
#: this allows e.g. 14000 x 14000 while still refusing decompression bombs.
MAX_IMAGE_PIXELS = 200_000_000

#: PNG text metadata read with a picture (Photoshop's XMP can be MBs); Pillow's own limit is 1 MB.
MAX_TEXT_BYTES = 64 * 2**20

_limits_lock = threading.Lock()
_limits_users = 0  # decodes under way (a batch decodes on several threads)
_limits_saved: tuple[int | None, int] | None = None


@contextlib.contextmanager
def decoding_limits() -> Iterator[None]:
    """Pillow's bomb limits raised to :data:`MAX_IMAGE_PIXELS` and :data:`MAX_TEXT_BYTES`
    (one PNG text chunk, 1 MB by default) while any decode is under way, and restored when
    the last one ends: shared by every decoding thread, so one thread's end cannot lower
    them under another's decode.

    Above the pixel limit Pillow only warns (its error comes at twice the limit); from the
    first decode on, that warning is an error in this process (warnings' own context
    managers are not thread-safe, and the warning means a refusal here anyway)."""
    global _limits_users, _limits_saved
    entered = False
    try:
        with _limits_lock:
            if _limits_users == 0:
                _limits_saved = (Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK)
                Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
                PngImagePlugin.MAX_TEXT_CHUNK = MAX_TEXT_BYTES
                warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
            _limits_users += 1
            entered = True
        yield
    finally:
        with _limits_lock:
            if entered:
                _limits_users -= 1
                if _limits_users == 0 and _limits_saved is not None:
                    Image.MAX_IMAGE_PIXELS, PngImagePlugin.MAX_TEXT_CHUNK = _limits_saved


def os_error_reason(exc: OSError) -> str:
    """What went wrong reaching a file (``"no such file"``, ``"permission denied"``, ...).

    Example:
        >>> os_error_reason(OSError(36, "File name too long"))
        'file name too long'
    """
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
        return "no such file"
    if isinstance(exc, IsADirectoryError) or exc.errno == errno.EISDIR:
        return "is a directory"
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return reason[:1].lower() + reason[1:]  # "file name too long", as the reasons above


def read_error_reason(exc: Exception) -> str:
    """Why Pillow could not open or decode a file: :func:`os_error_reason` for the file system's
    errors (those with an ``errno``), else what is wrong with the file's content.

    Example:
        >>> read_error_reason(OSError("image file is truncated (3 bytes not processed)"))
        'truncated or corrupt image data'
    """
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return f"image too large (more than {MAX_IMAGE_PIXELS:,} pixels)"
    if isinstance(exc, OSError) and exc.errno is not None:
        return os_error_reason(exc)
    if isinstance(exc, UnidentifiedImageError):
        return "not an image file (cannot identify image)"
    text = str(exc)
    if "Ghostscript" in text:
        return "EPS pictures need Ghostscript, which is not installed"
    if "MAX_TEXT_CHUNK" in text or "MAX_TEXT_MEMORY" in text:
        return (f"more than {MAX_TEXT_BYTES // 2**20} MB of text metadata; "
                "save the picture again without it")
    return "truncated or corrupt image data"


def pixels_to_float(img: Image.Image) -> np.ndarray:
    """A single- or multi-band 8/16/32-bit or float picture as float32 in [0, 1], its bands
    as they are (16-bit: 65535 is white; 32-bit integer: widened 16-bit data when it fits; float:
    [0, 1], stretched when outside). ``lucid stylize`` and the training images read pictures
    through it alike."""
    mode = img.mode
    if mode.startswith("I;16"):
        return np.asarray(img, dtype=np.float32) / 65535.0
    if mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
        if lo >= 0 and hi <= 65535:
            # 32-bit integer images from Pillow are almost always widened 16-bit data.
            return (arr / 65535.0).astype(np.float32)
        return _minmax(arr)
    if mode == "F":
        arr = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            # No convention for the range of float images outside [0, 1]: stretch.
            return _minmax(arr)
        return arr.astype(np.float32)
    return np.asarray(img, dtype=np.float32) / 255.0


def _minmax(arr: np.ndarray) -> np.ndarray:
    lo, hi = float(arr.min()), float(arr.max())
    if hi <= lo:
        return np.zeros(arr.shape, np.float32)
    return ((arr - lo) / (hi - lo)).astype(np.float32)
