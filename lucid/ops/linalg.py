"""Matrix products."""

from __future__ import annotations

from typing import Any

from lucid.autograd import Function
from lucid.ops._util import unbroadcast, xp_of


class MatMul(Function):
    """``a @ b`` with NumPy's (and PyTorch's) broadcasting and 1-D promotion rules."""

    reads_inputs = "others"

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return a @ b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.saved_tensors
        xp = xp_of(gy)
        if a.ndim == 1 and b.ndim == 1:  # a dot product: a 0-d gradient
            return gy * b, gy * a
        # promote 1-D operands the way matmul did, then drop the added axes again
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = gy
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = g @ xp.swapaxes(b2, -1, -2)
        gb = xp.swapaxes(a2, -1, -2) @ g
        if a.ndim == 1:
            ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if b.ndim == 1:
            gb = gb.reshape(gb.shape[:-1])
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)
