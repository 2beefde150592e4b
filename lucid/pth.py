"""Read PyTorch ``.pth`` / ``.pt`` weight files without torch, and without running code.

``torch.save`` (torch >= 1.6) writes a zip archive: ``<name>/data.pkl`` is a pickle of the
saved object, and each tensor's raw bytes live in ``<name>/data/<key>``. Older files (the
"legacy" format, still common for published weights) are a series of pickles followed by
the raw storages.

Unpickling normally imports and calls whatever the file names, so loading an untrusted
``.pth`` with plain :mod:`pickle` can run arbitrary code. Here the pickle is read by an
unpickler whose ``find_class`` knows only the handful of globals a tensor state dict needs
(tensor rebuild functions, storage types, ``collections.OrderedDict``) and maps them to
local stand-ins; any other global is refused with :class:`PthError` before it is imported,
so nothing from the file is ever executed.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["PthError", "load_pth"]


class PthError(ValueError):
    """A ``.pth`` file is damaged, in an unsupported format, or holds more than tensors."""


# torch's legacy storage class names -> numpy dtype of the raw bytes.
_STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "f8",
    "FloatStorage": "f4",
    "HalfStorage": "f2",
    "BFloat16Storage": "u2",  # widened to float32 after reading; numpy has no bfloat16
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
    "ComplexFloatStorage": "c8",
    "ComplexDoubleStorage": "c16",
}


# The stand-ins below are NamedTuples on purpose: a pickle can apply BUILD
# (__setstate__ or setattr) to any object it got from find_class, and these
# objects are shared by every load in the process. NamedTuples have neither a
# __setstate__ nor settable attributes, so BUILD fails instead of poisoning
# them. (Frozen slotted dataclasses do NOT work: they define __setstate__.)
class _StorageType(NamedTuple):
    """Stand-in for ``torch.FloatStorage`` and friends: only names a dtype."""

    name: str


class _Storage(NamedTuple):
    """A storage resolved by ``persistent_load``: a flat array of elements."""

    data: np.ndarray


class _Allowed(NamedTuple):
    """An allowed callable global, wrapped so the pickle cannot modify it."""

    fn: Callable[..., Any]

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


def _as_index_tuple(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        raise ValueError(f"bad tensor {what}: {value!r}")
    return tuple(value)


def _rebuild_tensor_v2(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any = False,
    backward_hooks: Any = None,
    metadata: Any = None,
) -> np.ndarray:
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: a copied strided view."""
    if not isinstance(storage, _Storage):
        raise ValueError(f"tensor storage is {type(storage).__name__}, not a storage record")
    data = storage.data
    shape = _as_index_tuple(size, "size")
    strides = _as_index_tuple(stride, "stride")
    (offset,) = _as_index_tuple((storage_offset,), "storage offset")
    if len(shape) != len(strides):
        raise ValueError(f"tensor size {shape} and stride {strides} differ in length")
    if 0 in shape:
        return np.empty(shape, dtype=data.dtype)
    # as_strided does no bounds checking; without this a crafted size/stride
    # would read memory outside the storage.
    last = offset + sum((n - 1) * s for n, s in zip(shape, strides, strict=True))
    if last >= data.size:
        raise ValueError(
            f"tensor (offset {offset}, size {shape}, stride {strides}) reaches element "
            f"{last} of a storage with {data.size} elements"
        )
    view = np.lib.stride_tricks.as_strided(
        data[offset:],
        shape=shape,
        strides=tuple(s * data.itemsize for s in strides),
        writeable=False,
    )
    return view.copy()


def _rebuild_parameter(data: Any, requires_grad: Any = False, backward_hooks: Any = None) -> Any:
    """Stand-in for ``torch._utils._rebuild_parameter``: a Parameter is just its data."""
    if not isinstance(data, np.ndarray):
        raise ValueError(f"parameter data is {type(data).__name__}, not a tensor")
    return data


_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): _Allowed(_rebuild_tensor_v2),
    ("torch._utils", "_rebuild_parameter"): _Allowed(_rebuild_parameter),
    # The C OrderedDict type is immutable, so handing out the real class is safe.
    ("collections", "OrderedDict"): collections.OrderedDict,
    **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
}


StorageResolver = Callable[[_StorageType, str, int], _Storage]


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only tensor-related globals; storages come from a resolver."""

    def __init__(self, stream: io.BytesIO, path: str, resolve: StorageResolver) -> None:
        super().__init__(stream)
        self._path = path
        self._resolve = resolve
        self._storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise PthError(
                f"refusing to load '{module}.{name}' from {self._path}: only tensor data is allowed"
            ) from None

    def persistent_load(self, pid: Any) -> _Storage:
        # zip format: ('storage', type, key, location, numel);
        # legacy format adds a view_metadata entry, None unless the storage is a view
        if (
            not isinstance(pid, tuple)
            or len(pid) not in (5, 6)
            or pid[0] != "storage"
            or not isinstance(pid[1], _StorageType)
            or not isinstance(pid[2], str)
            or not isinstance(pid[4], int)
            or pid[4] < 0
            or (len(pid) == 6 and pid[5] is not None)
        ):
            raise PthError(f"{self._path}: unsupported persistent id {pid!r}")
        storage_type, key, numel = pid[1], pid[2], pid[4]
        if key not in self._storages:  # views of one tensor share a storage record
            self._storages[key] = self._resolve(storage_type, key, numel)
        return self._storages[key]


def _storage_dtype(storage_type: _StorageType, byteorder: str) -> np.dtype:
    code = _STORAGE_DTYPES[storage_type.name]
    return np.dtype(code).newbyteorder("<" if byteorder == "little" else ">")


def _as_storage(raw: bytes, storage_type: _StorageType, numel: int, byteorder: str) -> _Storage:
    dtype = _storage_dtype(storage_type, byteorder)
    flat = np.frombuffer(raw, dtype=dtype, count=numel).astype(dtype.newbyteorder("="))
    if storage_type.name == "BFloat16Storage":
        # bfloat16 is the top half of a float32.
        flat = (flat.astype(np.uint32) << 16).view(np.float32)
    return _Storage(flat)


def _zip_resolver(archive: zipfile.ZipFile, prefix: str, path: str,
                  byteorder: str) -> StorageResolver:
    def resolve(storage_type: _StorageType, key: str, numel: int) -> _Storage:
        member = f"{prefix}data/{key}"
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise PthError(f"{path}: storage {member!r} is missing") from None
        nbytes = numel * _storage_dtype(storage_type, byteorder).itemsize
        if info.file_size < nbytes:
            raise PthError(
                f"{path}: storage {member!r} holds {info.file_size} bytes, "
                f"expected {nbytes} for {numel} elements"
            )
        return _as_storage(archive.read(member), storage_type, numel, byteorder)  # CRC checked

    return resolve


_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


def _load_legacy(path: str) -> Any:
    """The pre-1.6 format: pickles of magic, protocol, sys info, the object, storage keys,
    then each storage as an int64 element count and its raw bytes.

    The object's pickle refers to storages whose bytes come after it, so it is read twice:
    once to learn the storage types and sizes, then again with the storages filled in.
    """
    with open(path, "rb") as fh:
        stream = io.BytesIO(fh.read())
    sizes: dict[str, tuple[_StorageType, int]] = {}

    def record(storage_type: _StorageType, key: str, numel: int) -> _Storage:
        sizes[key] = (storage_type, numel)
        return _Storage(np.zeros(numel, dtype=_storage_dtype(storage_type, "little")))

    def plain(s: io.BytesIO) -> Any:
        return _RestrictedUnpickler(s, path, record).load()

    if plain(stream) != _LEGACY_MAGIC or plain(stream) != _LEGACY_PROTOCOL:
        raise PthError(f"{path}: not a PyTorch .pth file (bad magic number)")
    sys_info = plain(stream)
    byteorder = "little" if not isinstance(sys_info, dict) or sys_info.get(
        "little_endian", True) else "big"
    object_start = stream.tell()
    plain(stream)  # first pass: learn the storages
    keys = plain(stream)
    if not isinstance(keys, list) or set(keys) != set(sizes):
        raise PthError(f"{path}: storage list does not match the tensors in the file")
    storages: dict[str, _Storage] = {}
    for key in keys:
        storage_type, numel = sizes[key]
        count = np.frombuffer(stream.read(8), dtype="<i8")
        nbytes = numel * _storage_dtype(storage_type, byteorder).itemsize
        raw = stream.read(nbytes)
        if count.size != 1 or int(count[0]) != numel or len(raw) != nbytes:
            raise PthError(f"{path}: truncated or damaged tensor data (storage {key!r})")
        storages[key] = _as_storage(raw, storage_type, numel, byteorder)
    stream.seek(object_start)
    return _RestrictedUnpickler(stream, path, lambda _t, key, _n: storages[key]).load()


def _find_pickle(archive: zipfile.ZipFile, path: str) -> tuple[str, str]:
    """Return (member name of data.pkl, archive prefix ending in '/')."""
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        raise PthError(f"{path}: not a torch.save archive (expected one '<name>/data.pkl')")
    return pickles[0], pickles[0][: -len("data.pkl")]


def _load_zip(path: str) -> Any:
    with zipfile.ZipFile(path) as archive:
        pkl_name, prefix = _find_pickle(archive, path)
        byteorder = "little"
        if f"{prefix}byteorder" in archive.namelist():
            byteorder = archive.read(f"{prefix}byteorder").decode("ascii", "replace")
            if byteorder not in ("little", "big"):
                raise PthError(f"{path}: unknown byte order {byteorder!r}")
        resolve = _zip_resolver(archive, prefix, path, byteorder)
        return _RestrictedUnpickler(io.BytesIO(archive.read(pkl_name)), path, resolve).load()


def load_pth(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Load a PyTorch state dict (name -> tensor) as numpy arrays, without torch.

    bfloat16 tensors come back as float32; every array is an independent copy,
    even where tensors shared storage in the file.
    """
    path = os.fspath(path)
    with open(path, "rb") as fh:  # FileNotFoundError names the path
        head = fh.read(4)
    try:
        if zipfile.is_zipfile(path):
            obj = _load_zip(path)
        elif head.startswith(b"PK"):
            raise PthError(f"{path}: truncated or damaged zip archive")
        elif head[:1] == b"\x80":
            obj = _load_legacy(path)
        else:
            raise PthError(f"{path}: not a PyTorch .pth file (neither a zip archive nor a pickle)")
    except PthError:
        raise
    except Exception as exc:  # malformed pickle/zip data fails in many ways
        raise PthError(f"{path}: corrupted file ({type(exc).__name__}: {exc})") from exc

    if not isinstance(obj, dict):
        raise PthError(
            f"{path}: top-level object is {type(obj).__name__}, "
            "expected a mapping of names to tensors"
        )
    result: dict[str, np.ndarray] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, np.ndarray):
            raise PthError(
                f"{path}: entry {key!r} is {type(value).__name__}, not a tensor "
                "(only flat state dicts of tensors are supported)"
            )
        result[key] = value
    return result
