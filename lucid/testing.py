"""Checks for op authors: numerical gradients and device lists (as ``torch.autograd.gradcheck``).

Used by the test suite; nothing here runs at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lucid.backend import as_device, asnumpy, device_of, gpu_available, to_device
from lucid.random import generator
from lucid.tensor import Tensor


def available_devices() -> list[str]:
    """``["cpu"]``, plus ``"gpu"`` when CuPy sees one."""
    return ["cpu", "gpu"] if gpu_available() else ["cpu"]


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool:
    """Compare autograd's gradients of ``fn`` with central differences (float64 inputs).

    The output is projected on a fixed random direction so that one backward pass checks
    the whole Jacobian-vector product. Raises AssertionError naming the first input that
    disagrees; returns True otherwise.
    """
    inputs = list(inputs)
    for t in inputs:
        if t.requires_grad and t.dtype != np.float64:
            raise TypeError("gradcheck needs float64 inputs for accurate finite differences")
    out = fn(*inputs)
    rng = np.random.default_rng(0)
    direction_np = rng.standard_normal(out.shape)
    xp_direction = Tensor._wrap(to_device(direction_np.astype(out.dtype), device_of(out.data)))
    for t in inputs:
        t.grad = None
    (out * xp_direction).sum().backward()

    for index, t in enumerate(inputs):
        if not t.requires_grad:
            continue
        analytic = np.zeros(t.shape) if t.grad is None else asnumpy(t.grad.data)
        numeric = np.zeros(t.shape)
        flat = t.data.reshape(-1)  # a view: perturb in place, then restore
        for i in range(flat.size):
            original = flat[i].item()
            flat[i] = original + eps
            plus = float((fn(*inputs).detach() * xp_direction).sum().item())
            flat[i] = original - eps
            minus = float((fn(*inputs).detach() * xp_direction).sum().item())
            flat[i] = original
            numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            worst = np.abs(analytic - numeric).max()
            raise AssertionError(
                f"gradient of input {index} differs from finite differences "
                f"(max abs diff {worst:.3g})\nanalytic:\n{analytic}\nnumeric:\n{numeric}"
            )
    return True


def random_tensor(*shape: int, dtype: Any = np.float64, device: str = "cpu",
                  requires_grad: bool = True, low: float = -1.0, high: float = 1.0) -> Tensor:
    """Uniform values in [low, high) from the seeded generator, ready for gradcheck."""
    values = np.random.default_rng(generator(as_device("cpu")).integers(1 << 30)).uniform(
        low, high, shape
    )
    t = Tensor._wrap(to_device(values.astype(dtype), device))
    return t.requires_grad_(requires_grad) if requires_grad else t
