"""Random number generation with one seed for both backends (``lucid.manual_seed``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from lucid.backend import Device, array_module

_seed: int | None = None
_cpu = np.random.default_rng()
_gpu: dict[int, Any] = {}


def manual_seed(seed: int) -> None:
    """Seed the generators of every device, for reproducible runs."""
    global _seed, _cpu
    _seed = int(seed)
    _cpu = np.random.default_rng(_seed)
    _gpu.clear()


def generator(device: Device) -> Any:
    """The generator of ``device``: a numpy Generator, or cupy's on a GPU."""
    if device.type == "cpu":
        return _cpu
    index = device.index or 0
    if index not in _gpu:
        cupy = array_module(device)
        with cupy.cuda.Device(index):
            _gpu[index] = cupy.random.default_rng(None if _seed is None else _seed + index)
    return _gpu[index]


def get_rng_state() -> dict[str, Any]:
    """The CPU generator's state (a plain dict), for checkpoints."""
    return _cpu.bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a state from ``get_rng_state``."""
    _cpu.bit_generator.state = state
