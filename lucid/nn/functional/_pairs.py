"""Normalisation of PyTorch's "int or (h, w)" arguments for the 2-D ops."""

from __future__ import annotations

import operator
from collections.abc import Sequence


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
