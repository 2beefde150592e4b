"""Data types: lucid's dtypes are numpy dtypes, with PyTorch's names."""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")  # noqa: A001 - PyTorch's alias
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")  # noqa: A001 - PyTorch's alias
int64 = long = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

DTypeLike = Any

_default_dtype = float32


def get_default_dtype() -> np.dtype:
    """The floating dtype of new tensors made from Python floats (float32)."""
    return _default_dtype


def set_default_dtype(dtype: DTypeLike) -> None:
    """Set the default floating dtype (float16, float32 or float64)."""
    global _default_dtype
    dtype = as_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"only floating dtypes can be the default, got {dtype}")
    _default_dtype = dtype


def as_dtype(dtype: DTypeLike) -> np.dtype:
    """Normalise a dtype argument (a lucid/numpy dtype, a name, or None for the default)."""
    if dtype is None:
        return _default_dtype
    return np.dtype(dtype)


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"
