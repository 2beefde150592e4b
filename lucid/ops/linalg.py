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


class Einsum(Function):
    """``einsum`` of an explicit equation (``"ij,jk->ik"``: one letter per axis, ``->`` and
    the output given, no ellipsis). An operand's gradient is the einsum of the output's
    gradient with the other operands into its letters; along a letter only it has the
    gradient is broadcast, along an axis of size 1 that met a longer one it is summed, and
    a letter it repeats (a diagonal) has it written back on the diagonal."""

    reads_inputs = "others"

    def forward(self, *arrays: Any, equation: str = "") -> Any:
        self.save_for_backward(*arrays)
        self.equation = equation
        return xp_of(*arrays).einsum(equation, *arrays, optimize=len(arrays) > 2)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        inputs, output = self.equation.split("->")
        terms = inputs.split(",")
        return tuple(_einsum_gradient(gy, output, terms, self.saved_tensors, k)
                     for k in range(len(terms)))


def _einsum_gradient(gy: Any, output: str, terms: list[str], arrays: Any, k: int) -> Any:
    """The gradient of ``einsum`` for operand ``k`` (``Einsum``)."""
    xp = xp_of(gy)
    term, array = terms[k], arrays[k]
    others = [(t, a) for i, (t, a) in enumerate(zip(terms, arrays)) if i != k]
    known = set(output).union(*(t for t, _ in others))
    unique = "".join(dict.fromkeys(term))
    own = {c: n for c, n in zip(term, array.shape)}
    kept = "".join(c for c in unique if c in known)
    equation = ",".join([output, *(t for t, _ in others)]) + "->" + kept
    grad = xp.einsum(equation, gy, *(a for _, a in others), optimize=len(others) > 1)
    found = dict(zip(kept, grad.shape))
    grad = grad.reshape([found.get(c, 1) for c in unique])
    met_longer = tuple(d for d, c in enumerate(unique) if own[c] == 1 and grad.shape[d] > 1)
    if met_longer:
        grad = grad.sum(axis=met_longer, keepdims=True)
    grad = xp.broadcast_to(grad, [own[c] for c in unique])
    if len(unique) < len(term):  # a repeated letter: the gradient lies on the diagonal
        full = xp.zeros(array.shape, gy.dtype)
        ranges = {c: xp.arange(own[c]).reshape([-1 if d == c else 1 for d in unique])
                  for c in unique}
        full[tuple(ranges[c] for c in term)] = grad
        grad = full
    return xp.array(grad, dtype=array.dtype)  # a writable copy; 0-d stays 0-d
