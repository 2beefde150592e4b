"""Save and load weights as safetensors files.

Why safetensors rather than pickle (``np.save(allow_pickle=True)``, ``torch.save``):
a safetensors file is an 8-byte little-endian header length, a JSON header that
names each tensor's dtype, shape and byte range, and then raw tensor bytes.
Loading it only parses JSON and copies bytes, so a weights file downloaded from
anywhere cannot execute code on load. Nothing in this module uses pickle.

Damaged files are reported as :class:`WeightsFileError` naming the file and the
problem. The header is checked here before ``safetensors`` sees the file, so a
truncated download is always caught with a clear message.
"""

from __future__ import annotations

import json
import os
import secrets
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from lucid.backend import asnumpy

__all__ = [
    "WeightsFileError",
    "load",
    "load_metadata",
    "load_with_metadata",
    "save",
]

# safetensors itself refuses headers above 100 MB; reading one that large is
# already a sign of a bad file, so we refuse it before allocating anything.
_MAX_HEADER_BYTES = 100_000_000
_METADATA_KEY = "__metadata__"

PathLike = str | os.PathLike[str]


class WeightsFileError(ValueError):
    """A weights file is truncated, tampered with, or not a safetensors file."""


def _to_numpy(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as a C-contiguous little-endian numpy array (from any device)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a lucid (or torch) tensor
        value = value.detach().cpu().numpy()
    elif hasattr(value, "__cuda_array_interface__"):  # a CuPy array
        value = asnumpy(value)
    elif not isinstance(value, np.ndarray):
        if not hasattr(value, "numpy"):
            raise TypeError(
                f"state_dict[{name!r}] is {type(value).__name__}, expected an array "
                "or an object with a .numpy() method"
            )
        value = value.numpy()
    arr = np.asarray(value)
    if arr.dtype.kind in "OUSVMm":  # objects, strings, records, datetimes
        raise TypeError(f"state_dict[{name!r}] has dtype {arr.dtype}, which cannot be saved")
    # The format is little-endian; convert here rather than rely on every
    # safetensors release byte-swapping big-endian input for us.
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    # Not np.ascontiguousarray: it turns 0-d arrays into shape (1,).
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    if metadata is None:
        return None
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"metadata must map str to str; got {key!r}: {type(value).__name__}")
    return dict(metadata)


def _create_temp(folder: Path, name: str) -> str:
    """Create an empty, uniquely named file in ``folder`` and return its path.

    Unlike ``tempfile.mkstemp`` (mode 0600) this honours the umask; ``save``
    reuses the resulting mode for the final file.
    """
    while True:
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return os.fspath(tmp)


def save(
    state_dict: Mapping[str, Any],
    path: PathLike,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write ``state_dict`` (dotted name -> array) to ``path`` as safetensors.

    The file is written to a temporary file in the same folder and moved into
    place with :func:`os.replace`, so readers never see a half-written file and
    a crash leaves any previous file intact.
    """
    tensors: dict[str, np.ndarray] = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"state_dict keys must be str, got {name!r}")
        tensors[name] = _to_numpy(name, value)
    meta = _check_metadata(metadata)

    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    tmp_name = _create_temp(folder, target.name)
    try:
        mode = os.stat(tmp_name).st_mode & 0o777
        save_file(tensors, tmp_name, metadata=meta)
        # safetensors recreates the file with mode 0600; restore the umask-based
        # mode our own creation got, like any other newly written file.
        os.chmod(tmp_name, mode)
        # Flush to disk before the rename so a power cut cannot leave an empty
        # file under the final name.
        with open(tmp_name, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def _read_header(path: PathLike) -> tuple[dict[str, Any], int]:
    """Parse and validate the header; return it and the data section's size.

    Raises FileNotFoundError for a missing file and WeightsFileError for a
    malformed one. Only the header bytes are read.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        prefix = fh.read(8)
        if len(prefix) < 8:
            raise WeightsFileError(
                f"{path}: not a safetensors file (only {size} bytes, no header length)"
            )
        (header_len,) = struct.unpack("<Q", prefix)
        if header_len > _MAX_HEADER_BYTES:
            raise WeightsFileError(
                f"{path}: not a safetensors file or corrupted header "
                f"(header length {header_len} is implausibly large)"
            )
        if header_len > size - 8:
            raise WeightsFileError(
                f"{path}: file is truncated or not a safetensors file (header length "
                f"{header_len} exceeds the {size - 8} bytes after the length field)"
            )
        raw = fh.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsFileError(f"{path}: corrupted header, not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise WeightsFileError(f"{path}: corrupted header, expected a JSON object")

    data_size = size - 8 - header_len
    for name, info in header.items():
        if name == _METADATA_KEY:
            if not isinstance(info, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in info.items()
            ):
                raise WeightsFileError(f"{path}: corrupted header, metadata is not str->str")
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]
        ):
            raise WeightsFileError(
                f"{path}: corrupted header, bad data_offsets for tensor {name!r}"
            )
        if offsets[1] > data_size:
            raise WeightsFileError(
                f"{path}: file is truncated or header is corrupted: tensor {name!r} "
                f"ends at byte {offsets[1]} of the data section, which holds only "
                f"{data_size} bytes"
            )
    return header, data_size


def load_metadata(path: PathLike) -> dict[str, str]:
    """Return the string metadata stored in the file's header (tensors are not read)."""
    header, _ = _read_header(path)
    return dict(header.get(_METADATA_KEY) or {})


def load_with_metadata(path: PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Return ``(state_dict, metadata)`` read from a safetensors file."""
    header, _ = _read_header(path)
    metadata = dict(header.get(_METADATA_KEY) or {})
    tensors: dict[str, np.ndarray] = {}
    try:
        with safe_open(os.fspath(path), framework="np") as f:
            for name in f.keys():
                # Copy so callers get ordinary writable arrays that do not
                # depend on the file staying around.
                tensors[name] = np.array(f.get_tensor(name), copy=True)
    except SafetensorError as exc:
        raise WeightsFileError(f"{path}: invalid safetensors file ({exc})") from None
    return tensors, metadata


def load(path: PathLike) -> dict[str, np.ndarray]:
    """Return the arrays stored in a safetensors file, keyed by name."""
    return load_with_metadata(path)[0]
