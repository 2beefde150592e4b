"""Small helpers shared by the 1-D and 2-D ops: argument pairs and a scratch buffer."""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Sequence
from typing import Any

_scratch_state = threading.local()


def _int(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    try:
        return operator.index(value)  # accepts numpy integers, refuses floats
    except TypeError:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None


def _pair(value: int | Sequence[int], name: str = "argument") -> tuple[int, int]:
    """``3 -> (3, 3)``, ``(2, 3) -> (2, 3)``; a one-element sequence is repeated.

    Raises TypeError for non-integers and ValueError for sequences of another length.
    """
    if isinstance(value, (list, tuple)):
        items = tuple(value)
        if len(items) == 1:
            items = items * 2
        if len(items) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return _int(items[0], name), _int(items[1], name)
    n = _int(value, name)
    return n, n


def _single(value: int | Sequence[int], name: str = "argument") -> tuple[int]:
    """``3 -> (3,)``, ``(3,) -> (3,)``: a 1-D op's argument, as PyTorch's ``_single``.

    Raises TypeError for non-integers and ValueError for sequences of another length.
    """
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a 1-tuple of ints, got {value!r}")
        return (_int(value[0], name),)
    return (_int(value, name),)


def scratch(xp: Any, shape: tuple[int, ...], dtype: Any, slot: int = 0) -> Any:
    """An uninitialised array for a temporary that never leaves the op that asks for it.

    On the CPU a fresh multi-megabyte array is new memory from the OS, and the kernel zeroes
    every page on first touch: for im2col columns that costs as much as the copy itself.
    One buffer per (thread, slot), grown on demand and reused, avoids it. The next call for
    the same slot (by any op) overwrites it, so the result must not be returned, saved for
    backward or held across another op; an op that needs two temporaries at once uses two
    slots. CuPy's memory pool already recycles device memory: there it is a plain ``empty``.
    """
    if xp.__name__ != "numpy":
        return xp.empty(shape, dtype=dtype)
    nbytes = math.prod(shape) * xp.dtype(dtype).itemsize
    buffers = _scratch_state.__dict__.setdefault("buffers", {})
    buffer = buffers.get(slot)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = buffers[slot] = xp.empty(max(nbytes, 1), dtype=xp.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)
