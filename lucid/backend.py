"""The array backend: numpy on the CPU, CuPy on a GPU.

This is the only module that imports cupy. Everything else asks it for the array module of
the arrays at hand (``get_array_module``) and moves data only through ``to_device``.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np


@functools.cache
def _cupy() -> ModuleType | None:
    """Import cupy once; None when it is missing or sees no usable GPU."""
    try:
        import cupy  # noqa: PLC0415 - optional dependency, imported lazily on purpose

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        return cupy
    except Exception:  # ImportError, CUDARuntimeError, driver problems: all mean "no GPU"
        return None


def gpu_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return _cupy() is not None


def gpu_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy)."""
    cupy = _cupy()
    return 0 if cupy is None else int(cupy.cuda.runtime.getDeviceCount())


@dataclass(frozen=True)
class Device:
    """Where a tensor's data lives: ``Device("cpu")`` or ``Device("gpu", 0)``.

    ``"cuda"`` and ``"cuda:N"`` are accepted as aliases of ``"gpu"`` and ``"gpu:N"``.
    Compares equal to its string form, so ``t.device == "cpu"`` works.
    """

    type: str
    index: int | None = None

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = as_device(other)
            except ValueError:
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return (self.type, self.index or 0) == (other.type, other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


CPU = Device("cpu")

DeviceLike = Device | str | None


def as_device(device: DeviceLike) -> Device:
    """Parse ``"cpu"``, ``"gpu"``, ``"gpu:1"``, ``"cuda"``, ``"cuda:0"`` or a Device."""
    if device is None:
        return CPU
    if isinstance(device, Device):
        return device
    if not isinstance(device, str):
        raise TypeError(f"expected a device name such as 'cpu' or 'gpu', got {device!r}")
    name, _, index = device.strip().lower().partition(":")
    if name == "cuda":
        name = "gpu"
    if name not in ("cpu", "gpu") or (index and not index.isdigit()) or (name == "cpu" and index):
        raise ValueError(f"unknown device {device!r}: expected 'cpu', 'gpu', 'gpu:N' or 'cuda:N'")
    if name == "cpu":
        return CPU
    return Device("gpu", int(index) if index else 0)


def array_module(device: DeviceLike) -> ModuleType:
    """The array module (numpy or cupy) that holds data on ``device``."""
    device = as_device(device)
    if device.type == "cpu":
        return np
    cupy = _cupy()
    if cupy is None:
        raise RuntimeError(
            "a GPU was requested but CuPy sees none; install lucid with the 'gpu' extra "
            "(pip install .[gpu]) on a machine with an NVIDIA GPU, or use device 'cpu'"
        )
    return cupy


def get_array_module(*arrays: Any) -> ModuleType:
    """numpy or cupy, whichever owns the given arrays (numpy for anything else)."""
    cupy = _cupy()
    if cupy is not None:
        for a in arrays:
            if isinstance(a, cupy.ndarray):
                return cupy
    return np


def device_of(array: Any) -> Device:
    """The device an array lives on."""
    cupy = _cupy()
    if cupy is not None and isinstance(array, cupy.ndarray):
        return Device("gpu", int(array.device.id))
    return CPU


def to_device(array: Any, device: DeviceLike) -> Any:
    """Move an array to ``device`` (no copy when it is already there)."""
    device = as_device(device)
    if device.type == "cpu":
        return asnumpy(array)
    cupy = array_module(device)
    with cupy.cuda.Device(device.index or 0):
        return cupy.asarray(array)


def asnumpy(array: Any) -> np.ndarray:
    """A numpy array with the data of ``array`` (copies from a GPU)."""
    cupy = _cupy()
    if cupy is not None and isinstance(array, cupy.ndarray):
        return cupy.asnumpy(array)
    return np.asarray(array)


def synchronize() -> None:
    """Wait for queued GPU work to finish (a no-op without a GPU); for timing."""
    cupy = _cupy()
    if cupy is not None:
        cupy.cuda.Stream.null.synchronize()


_conv_tf32 = True


def set_conv_tf32(enabled: bool) -> None:
    """Let float32 convolutions on a GPU run their matrix products on TF32 tensor cores
    (Ampere and later; the default), or keep them in full float32 (``False``).

    PyTorch's default too: ``torch.backends.cudnn.allow_tf32`` is True. TF32 rounds the
    products' inputs to 10 bits of mantissa and accumulates in float32 (a layer's output moves
    by 1e-4 to 1e-3 relative); it made the reference AdaIN network 1.8x faster at 512 px on
    an H200 (14.1 ms to 7.7 ms). Other matrix products stay in float32, as in PyTorch.
    Process-wide.
    """
    global _conv_tf32
    _conv_tf32 = bool(enabled)


def conv_tf32_enabled() -> bool:
    """Whether GPU convolutions may use TF32 (see ``set_conv_tf32``)."""
    return _conv_tf32


_tf32_lock = threading.Lock()
_tf32_users = 0  # convolutions inside conv_math right now, on any thread
_tf32_before: Any = None  # CuPy's float32 compute type before the first of them


@contextmanager
def conv_math(array: Any) -> Iterator[None]:
    """CuPy's float32 matrix products on TF32 while a convolution of ``array`` runs, where
    that is allowed and the GPU has TF32 (compute capability 8.0 or later); else nothing.

    CuPy's compute type is one setting for the whole process: it is switched when the first
    convolution enters (on any thread) and restored when the last one leaves, so float32
    matrix products that other threads run meanwhile use TF32 too. Disabled
    (``set_conv_tf32(False)``), CuPy's own setting (``CUPY_TF32``) is left in charge.
    """
    global _tf32_users, _tf32_before
    cupy = _cupy()
    if (not _conv_tf32 or cupy is None or not isinstance(array, cupy.ndarray)
            or array.dtype != np.float32 or not _has_tf32(int(array.device.id))):
        yield
        return
    linalg = cupy._core._routines_linalg
    with _tf32_lock:
        if _tf32_users == 0:
            _tf32_before = linalg.get_compute_type(np.float32)
            linalg.set_compute_type(np.float32, linalg.COMPUTE_TYPE_TF32)
        _tf32_users += 1
    try:
        yield
    finally:
        with _tf32_lock:
            _tf32_users -= 1
            if _tf32_users == 0:
                linalg.set_compute_type(np.float32, _tf32_before)


@functools.cache
def _has_tf32(device: int) -> bool:
    cupy = _cupy()
    return cupy is not None and int(cupy.cuda.Device(device).compute_capability) >= 80


def reuse_freed_memory(limit_bytes: int = 1 << 30) -> bool:
    """Ask the C allocator to keep freed host blocks under ``limit_bytes`` for reuse.

    By default glibc hands every block over 32 MB back to the system when it is freed, so each
    layer's fresh output pays page faults on first touch; at 512 px that cost a seventh of the
    default model's time. For a process that runs networks (the ``lucid`` command, benchmarks)
    keeping those blocks is a free speed-up; the peak memory stays what the largest layer
    needs. Returns False where this is not glibc (nothing changes). Process-wide, so the
    library never calls it on its own.
    """
    import ctypes  # noqa: PLC0415 - only here
    import ctypes.util  # noqa: PLC0415

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, limit_bytes)) and bool(
        mallopt(m_trim_threshold, 2 * limit_bytes))


def blas_info() -> str:
    """A one-line description of numpy's BLAS, for ``lucid info``."""
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy without mode="dicts"
        return "unknown"
