"""Tensor factories: zeros, ones, full, arange, linspace, eye, rand, randn and their
``*_like`` forms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lucid.backend import DeviceLike, array_module, as_device
from lucid.dtypes import DTypeLike, as_dtype, get_default_dtype
from lucid.random import generator
from lucid.tensor import Tensor, _check_fits, _shape_args


def _make(fill: Any, sizes: tuple[Any, ...], dtype: DTypeLike, device: DeviceLike,
          requires_grad: bool) -> Tensor:
    xp = array_module(device)
    t = Tensor._wrap(fill(xp, _shape_args(sizes), as_dtype(dtype)))
    return t.requires_grad_(requires_grad) if requires_grad else t


def zeros(*size: Any, dtype: DTypeLike = None, device: DeviceLike = None,
          requires_grad: bool = False) -> Tensor:
    return _make(lambda xp, s, d: xp.zeros(s, dtype=d), size, dtype, device, requires_grad)


def ones(*size: Any, dtype: DTypeLike = None, device: DeviceLike = None,
         requires_grad: bool = False) -> Tensor:
    return _make(lambda xp, s, d: xp.ones(s, dtype=d), size, dtype, device, requires_grad)


def empty(*size: Any, dtype: DTypeLike = None, device: DeviceLike = None,
          requires_grad: bool = False) -> Tensor:
    return _make(lambda xp, s, d: xp.empty(s, dtype=d), size, dtype, device, requires_grad)


def full(size: Any, fill_value: float, dtype: DTypeLike = None, device: DeviceLike = None,
         requires_grad: bool = False) -> Tensor:
    if dtype is None and isinstance(fill_value, bool):
        dtype = np.dtype("bool")
    elif dtype is None and isinstance(fill_value, (int, np.integer)):  # numpy's too, as PyTorch
        dtype = np.dtype("int64")
    return _make(lambda xp, s, d: xp.full(s, fill_value, dtype=d), (size,), dtype, device,
                 requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: DTypeLike = None,
           device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """Like PyTorch: integer arguments give int64, any float argument the default dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = np.dtype("int64") if is_int else get_default_dtype()
    xp = array_module(device)
    t = Tensor._wrap(xp.arange(start, end, step).astype(as_dtype(dtype)))
    return t.requires_grad_(requires_grad) if requires_grad else t


def linspace(start: float, end: float, steps: int, dtype: DTypeLike = None,
             device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (default dtype),
    as PyTorch's: from each end towards the middle, an integer dtype's ends converted to it
    first and the values truncated. Computed in float64 and rounded once: PyTorch computes
    in the dtype (float32 also for integers), so its values can differ in the last place,
    and an integer that its rounding puts just below a whole number comes out one lower."""
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    dtype = as_dtype(dtype)
    if dtype.kind == "b":
        raise RuntimeError("linspace(): not implemented for 'Bool'")
    for value, used in ((start, steps >= 1), (end, steps >= 2)):  # PyTorch checks these
        if used:
            _check_fits(value, dtype)
    if dtype.kind in "iu":
        start, end = (np.array(v).astype(np.int64).astype(dtype) for v in (start, end))
    first, last = np.float64(start), np.float64(end)
    i = np.arange(steps, dtype=np.float64)
    if steps == 1:
        values = np.array([first])
    else:
        step = (last - first) / max(steps - 1, 1)
        values = np.where(i < steps // 2, first + i * step, last - (steps - 1 - i) * step)
    t = Tensor._wrap(array_module(device).asarray(values.astype(dtype)))
    return t.requires_grad_(requires_grad) if requires_grad else t


def eye(n: int, m: int | None = None, dtype: DTypeLike = None, device: DeviceLike = None,
        requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` (default square) identity matrix."""
    return _make(lambda xp, s, d: xp.eye(*s, dtype=d), (n, n if m is None else m), dtype,
                 device, requires_grad)


def rand(*size: Any, dtype: DTypeLike = None, device: DeviceLike = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the device's seeded generator."""
    gen = generator(as_device(device))
    return _make(lambda xp, s, d: gen.random(s, dtype=np.float64).astype(d), size, dtype, device,
                 requires_grad)


def randn(*size: Any, dtype: DTypeLike = None, device: DeviceLike = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the device's seeded generator."""
    gen = generator(as_device(device))
    return _make(lambda xp, s, d: gen.standard_normal(s, dtype=np.float64).astype(d), size, dtype,
                 device, requires_grad)


def randperm(n: int, dtype: DTypeLike = None, device: DeviceLike = None,
             requires_grad: bool = False) -> Tensor:
    """0, ..., n - 1 in a random order from the device's seeded generator (int64 unless
    ``dtype``).

    Example:
        >>> import lucid
        >>> sorted(lucid.randperm(5).tolist())
        [0, 1, 2, 3, 4]
    """
    gen = generator(as_device(device))
    dtype = np.dtype("int64") if dtype is None else as_dtype(dtype)
    if dtype.kind == "b":
        raise NotImplementedError("randperm: not implemented for 'Bool' (PyTorch's neither)")
    largest = np.iinfo(dtype).max if dtype.kind in "iu" else 2 ** (np.finfo(dtype).nmant + 1)
    if n - 1 > largest:  # some would not be told apart
        raise RuntimeError(f"n is too large for result tensor type: '{dtype}'")
    xp = array_module(as_device(device))
    return Tensor._wrap(xp.argsort(gen.random(n)).astype(dtype)).requires_grad_(requires_grad)


def randint(low: int, high: int | Sequence[int] | None = None, size: Sequence[int] = (),
            dtype: DTypeLike = None, device: DeviceLike = None) -> Tensor:
    """Integers drawn uniformly from ``[low, high)``, as ``torch.randint(low, high, size)``
    or ``torch.randint(high, size)``."""
    if isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    gen = generator(as_device(device))
    dtype = np.dtype("int64") if dtype is None else as_dtype(dtype)
    return Tensor._wrap(gen.integers(low, high, size=size).astype(dtype))


def _like(factory: Any) -> Any:
    def like(t: Tensor, dtype: DTypeLike = None, device: DeviceLike = None,
             requires_grad: bool = False) -> Tensor:
        return factory(*t.shape, dtype=t.dtype if dtype is None else dtype,
                       device=t.device if device is None else device, requires_grad=requires_grad)

    like.__name__ = f"{factory.__name__}_like"
    like.__doc__ = f"``{factory.__name__}`` with the shape (and dtype, device) of ``t``."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(t: Tensor, fill_value: float, dtype: DTypeLike = None, device: DeviceLike = None,
              requires_grad: bool = False) -> Tensor:
    return full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype,
                device=t.device if device is None else device, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)
