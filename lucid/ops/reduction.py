"""Reductions over dimensions (sum, mean, var, max/min, prod and friends) and cumsum."""

from __future__ import annotations

from typing import Any, Literal

from lucid.autograd import Function
from lucid.ops._util import xp_of


def _expand_back(gy: Any, shape: tuple[int, ...], axes: tuple[int, ...], keepdim: bool) -> Any:
    """Reshape a reduced gradient so it broadcasts against the input again."""
    if not keepdim:
        gy = gy.reshape([1 if i in axes else n for i, n in enumerate(shape)])
    return gy


def drop_axes(y: Any, shape: tuple[int, ...], axes: tuple[int, ...], keepdim: bool) -> Any:
    """A result reduced with kept dims, without them unless ``keepdim``."""
    return y if keepdim else y.reshape([n for i, n in enumerate(shape) if i not in axes])


class Sum(Function):
    reads_inputs = False

    def forward(self, a: Any, axes: tuple[int, ...] = (), keepdim: bool = False) -> Any:
        self.meta = (a.shape, axes, keepdim)
        return a.sum(axis=axes, keepdims=keepdim)

    def backward(self, gy: Any) -> Any:
        shape, axes, keepdim = self.meta
        return xp_of(gy).broadcast_to(_expand_back(gy, shape, axes, keepdim), shape)


class Mean(Function):
    reads_inputs = False

    def forward(self, a: Any, axes: tuple[int, ...] = (), keepdim: bool = False) -> Any:
        self.meta = (a.shape, axes, keepdim)
        return a.mean(axis=axes, keepdims=keepdim)

    def backward(self, gy: Any) -> Any:
        shape, axes, keepdim = self.meta
        count = 1
        for i in axes:
            count *= shape[i]
        gy = _expand_back(gy, shape, axes, keepdim) / gy.dtype.type(max(count, 1))
        return xp_of(gy).broadcast_to(gy, shape)


class Var(Function):
    """Variance with Bessel's ``correction`` (0 = population, 1 = unbiased)."""

    reads_inputs = False  # it keeps its own centred copy

    def forward(
        self, a: Any, axes: tuple[int, ...] = (), correction: int = 1, keepdim: bool = False
    ) -> Any:
        count = 1
        for i in axes:
            count *= a.shape[i]
        centered = a - a.mean(axis=axes, keepdims=True)
        divisor = a.dtype.type(max(count - correction, 0))
        self.save_for_backward(centered)
        self.meta = (a.shape, axes, keepdim, divisor)
        # divisor 0 gives nan for one element (0 / 0) and inf past it, as in PyTorch
        return (centered * centered).sum(axis=axes, keepdims=keepdim) / divisor

    def backward(self, gy: Any) -> Any:
        (centered,) = self.saved_tensors
        shape, axes, keepdim, divisor = self.meta
        gy = _expand_back(gy, shape, axes, keepdim)
        return gy * centered * (2 / divisor)


class Amax(Function):
    """Maximum over dims; ties share the gradient equally (PyTorch's ``amax``). Where the
    result is NaN, ``nan`` says where its gradient goes: "pass" NaN back to every element
    (``amax``), "wins" to the NaNs (``max()``), "zero" nowhere (``norm(inf)``)."""

    saves_output = True

    reduce = "max"

    def forward(self, a: Any, axes: tuple[int, ...] = (), keepdim: bool = False,
                nan: Literal["pass", "wins", "zero"] = "pass") -> Any:
        y = getattr(a, self.reduce)(axis=axes, keepdims=True)
        self.save_for_backward(a, y)
        self.meta = (a.shape, axes, keepdim, nan)
        return drop_axes(y, a.shape, axes, keepdim)

    def backward(self, gy: Any) -> Any:
        a, y = self.saved_tensors
        shape, axes, keepdim, nan = self.meta
        mask = a == y
        if nan == "wins":
            mask |= (a != a) & (y != y)
        count = mask.sum(axis=axes, keepdims=True).astype(gy.dtype)
        if nan == "zero":  # no element equals a NaN result: nothing to share
            count = xp_of(a).where(count == 0, gy.dtype.type("inf"), count)  # 0-d: a scalar
        return _expand_back(gy, shape, axes, keepdim) * mask / count


class Amin(Amax):
    """Minimum over dims; ties share the gradient equally (PyTorch's ``amin``)."""

    reduce = "min"


class TakeAlong(Function):
    """Values at given indices along one axis (the values of ``max(dim)``/``min(dim)``)."""

    def forward(self, a: Any, indices: Any = None, axis: int = 0, keepdim: bool = False) -> Any:
        xp = xp_of(a)
        idx = xp.expand_dims(indices, axis)
        self.meta = (a.shape, a.dtype, idx, axis)
        y = xp.take_along_axis(a, idx, axis=axis)
        return y if keepdim else y.squeeze(axis)

    def backward(self, gy: Any) -> Any:
        shape, dtype, idx, axis = self.meta
        xp = xp_of(gy)
        grad = xp.zeros(shape, dtype=gy.dtype)
        xp.put_along_axis(grad, idx, gy.reshape(idx.shape), axis=axis)
        return grad


class Prod(Function):
    """Product over dims, with PyTorch's gradient: the product over the element where a
    slice holds no zero, the product of the others where it holds one, 0 where it holds
    more."""

    saves_output = True

    def forward(self, a: Any, axes: tuple[int, ...] = (), keepdim: bool = False) -> Any:
        y = a.prod(axis=axes, keepdims=True)
        self.save_for_backward(a, y)
        self.meta = (axes, keepdim)
        return drop_axes(y, a.shape, axes, keepdim)

    def backward(self, gy: Any) -> Any:
        a, y = self.saved_tensors
        axes, keepdim = self.meta
        xp = xp_of(a)
        gy = _expand_back(gy, a.shape, axes, keepdim)
        zeros = (a == 0).sum(axis=axes, keepdims=True)
        grad = xp.where(zeros == 0, gy * y / a, 0).astype(gy.dtype, copy=False)
        if (zeros == 1).any():
            grad = xp.where(zeros == 1, gy * _others_product(a, axes), grad)
        return grad


def _others_product(a: Any, axes: tuple[int, ...]) -> Any:
    """Each element's product of the other elements of its slice over ``axes``, without
    dividing (exclusive products from both sides)."""
    xp = xp_of(a)
    kept = [i for i in range(a.ndim) if i not in axes]
    order = kept + list(axes)
    moved = a.transpose(order)
    flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
    ones = xp.ones(flat.shape[:-1] + (1,), dtype=a.dtype)
    before = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = xp.cumprod(xp.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    back = [order.index(i) for i in range(a.ndim)]
    return (before * after).reshape(moved.shape).transpose(back)


class Cumsum(Function):
    """Running sum along one axis; the gradient is the running sum of ``gy`` from the end."""

    reads_inputs = False

    def forward(self, a: Any, axis: int = 0) -> Any:
        self.axis = axis
        return xp_of(a).cumsum(a, axis=axis, dtype=a.dtype)

    def backward(self, gy: Any) -> Any:
        xp = xp_of(gy)
        return xp.flip(xp.cumsum(xp.flip(gy, self.axis), axis=self.axis), self.axis)


class SingleNorm(Function):
    """A norm of order 2 (or another but 0, 1 and +-inf) over axes that hold one element:
    ``|a|``, which no power overflows or underflows, with the gradient ``a / |a|`` (0 at 0,
    NaN at NaN and at infinity: PyTorch's for the 2-norm)."""

    def forward(self, a: Any, axes: tuple[int, ...] = (), keepdim: bool = False) -> Any:
        self.save_for_backward(a)
        self.meta = (axes, keepdim)
        return drop_axes(xp_of(a).abs(a), a.shape, axes, keepdim)

    def backward(self, gy: Any) -> Any:
        (a,) = self.saved_tensors
        axes, keepdim = self.meta
        xp = xp_of(a)
        return _expand_back(gy, a.shape, axes, keepdim) * xp.where(a == 0, 0, a / xp.abs(a))


class PowerNorm(Function):
    """``(sum |a|^p) ^ (1/p)`` over axes for an order ``p`` other than 0, 1, 2 and +-inf,
    with PyTorch's gradient: ``sign(a) |a|^(p-1) / norm^(p-1)``, 0 where the norm is 0 (and,
    below order 1, where ``a`` is 0)."""

    saves_output = True

    def forward(self, a: Any, p: float = 3.0, axes: tuple[int, ...] = (),
                keepdim: bool = False) -> Any:
        xp = xp_of(a)
        norm = (xp.abs(a) ** p).sum(axis=axes, keepdims=True) ** (1 / p)
        self.save_for_backward(a, norm)
        self.meta = (p, axes, keepdim)
        return drop_axes(norm, a.shape, axes, keepdim)

    def backward(self, gy: Any) -> Any:
        a, norm = self.saved_tensors
        p, axes, keepdim = self.meta
        xp = xp_of(a)
        gy = _expand_back(gy, a.shape, axes, keepdim)
        scaled = xp.sign(a) * xp.abs(a) ** (p - 1)
        if p < 1:
            return xp.where(a == 0, 0, scaled) * gy * norm ** (1 - p)
        return scaled * xp.where(norm == 0, 0, gy / norm ** (p - 1))
