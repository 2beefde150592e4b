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
    gradient with the other operands into its letters; a letter only it has is broadcast, a
    letter it repeats (a diagonal) is written back on the diagonal, and an axis of size 1
    that broadcast against a longer one is summed back."""

    reads_inputs = "others"

    def forward(self, *arrays: Any, equation: str = "") -> Any:
        self.save_for_backward(*arrays)
        self.equation = equation
        return xp_of(*arrays).einsum(equation, *arrays, optimize=len(arrays) > 2)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        arrays = self.saved_tensors
        inputs, output = self.equation.split("->")
        letters = inputs.split(",")
        sizes: dict[str, int] = {}
        for term, array in zip(letters, arrays):
            for letter, n in zip(term, array.shape):
                sizes[letter] = max(sizes.get(letter, 1), n)
        return tuple(self._gradient(gy, output, letters, arrays, k, sizes)
                     for k in range(len(arrays)))

    def _gradient(self, gy: Any, output: str, letters: list[str], arrays: Any, k: int,
                  sizes: dict[str, int]) -> Any:
        xp = xp_of(gy)
        term, array = letters[k], arrays[k]
        others = [(t, a) for i, (t, a) in enumerate(zip(letters, arrays)) if i != k]
        known = set(output).union(*(t for t, _ in others))
        unique = "".join(dict.fromkeys(term))
        kept = "".join(c for c in unique if c in known)
        equation = ",".join([output, *(t for t, _ in others)]) + "->" + kept
        grad = xp.einsum(equation, gy, *(a for _, a in others), optimize=len(others) > 1)
        # letters only this operand has: the output does not depend on where along them
        grad = grad.reshape([sizes[c] if c in known else 1 for c in unique])
        grad = xp.broadcast_to(grad, [sizes[c] for c in unique])
        if len(unique) < len(term):  # a repeated letter: the gradient lies on the diagonal
            full = xp.zeros([sizes[c] for c in term], gy.dtype)
            ranges = {c: xp.arange(sizes[c]).reshape(
                [-1 if d == c else 1 for d in unique]) for c in unique}
            full[tuple(ranges[c] for c in term)] = grad
            grad = full
        shrunk = tuple(d for d, n in enumerate(array.shape) if n == 1 and grad.shape[d] != 1)
        if shrunk:  # an axis of size 1 broadcast against a longer one
            grad = grad.sum(axis=shrunk, keepdims=True)
        return xp.ascontiguousarray(grad).astype(array.dtype, copy=False)
