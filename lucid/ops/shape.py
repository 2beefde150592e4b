"""Shape, indexing, joining and padding ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from lucid.autograd import Function
from lucid.ops._util import xp_of


class Reshape(Function):
    reads_inputs = False
    views_input = True

    def forward(self, a: Any, shape: tuple[int, ...] = ()) -> Any:
        self.source = a.shape
        return a.reshape(shape)

    def backward(self, gy: Any) -> Any:
        return gy.reshape(self.source)


class Permute(Function):
    reads_inputs = False
    views_input = True

    def forward(self, a: Any, dims: tuple[int, ...] = ()) -> Any:
        self.dims = dims
        return a.transpose(dims)

    def backward(self, gy: Any) -> Any:
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return gy.transpose(inverse)


class Expand(Function):
    reads_inputs = False
    views_input = True

    def forward(self, a: Any, shape: tuple[int, ...] = ()) -> Any:
        self.source = a.shape
        xp = xp_of(a)
        out = xp.broadcast_to(a, shape)
        if xp is np:  # writable as its input, as PyTorch's and CuPy's: numpy's is read-only
            out = np.lib.stride_tricks.as_strided(a, out.shape, out.strides)
        return out

    def backward(self, gy: Any) -> Any:
        from lucid.ops._util import unbroadcast

        return unbroadcast(gy, self.source)


class Cat(Function):
    reads_inputs = False

    def forward(self, *arrays: Any, axis: int = 0) -> Any:
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return xp_of(*arrays).concatenate(arrays, axis=axis)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        xp = xp_of(gy)
        cuts = []
        total = 0
        for n in self.sizes[:-1]:
            total += n
            cuts.append(total)
        return tuple(xp.split(gy, cuts, axis=self.axis))


class Stack(Function):
    reads_inputs = False

    def forward(self, *arrays: Any, axis: int = 0) -> Any:
        self.axis = axis
        return xp_of(*arrays).stack(arrays, axis=axis)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        xp = xp_of(gy)
        return tuple(xp.moveaxis(gy, self.axis, 0))


def _is_basic_index(index: Any) -> bool:
    """True for ints, slices, None and Ellipsis only: such views never repeat an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice)) or p is None or p is Ellipsis for p in parts)


class GetItem(Function):
    reads_inputs = False
    views_input = True

    def forward(self, a: Any, index: Any = None) -> Any:
        self.meta = (a.shape, a.dtype, index)
        out = a[index]
        if out.ndim == 0 and out.base is None and _is_basic_index(index):  # a scalar copy
            parts = index if isinstance(index, tuple) else (index,)
            out = a[(*parts, Ellipsis)]  # one element as a 0-d view, as PyTorch's
        return out

    def backward(self, gy: Any) -> Any:
        shape, dtype, index = self.meta
        xp = xp_of(gy)
        grad = xp.zeros(shape, dtype=gy.dtype)
        if _is_basic_index(index):
            grad[index] = gy
        else:  # advanced indexing may pick an element twice: accumulate
            xp.add.at(grad, index, gy)
        return grad


class Scatter(Function):
    """``a`` with ``src[part]`` written at ``a[index]``, or reduced into it (``reduce``: "sum",
    "prod", "mean", "amax", "amin"; with ``include_self`` False the reduction at a place
    leaves out ``a``'s own value there): the scatters' op. ``index`` is a tuple of integer
    arrays of one shape, ``part`` the slices of ``src`` they take.

    Gradients as PyTorch's ``scatter_reduce``: written places take none from ``a`` (nor
    places reduced without it); a mean's share is 1/count; a product's is the product of the
    other factors (exact with zeros among them); a maximum's or minimum's goes evenly to the
    values equal to it, ``a``'s only when it is included (where PyTorch counts it in the
    split all the same)."""

    reads_inputs = False

    def forward(self, a: Any, src: Any, index: Any = None, part: Any = None,
                reduce: str | None = None, include_self: bool = True) -> Any:
        xp = xp_of(a)
        shapes = (a.shape, src.shape)
        a, src = (array.reshape(array.shape or (1,)) for array in (a, src))  # 0-d as 1-d
        values = src[part]
        out = a.copy()
        if reduce is None or not include_self:  # a's values out of the reduction
            out[index] = 0 if reduce in ("sum", "mean") else 1 if reduce == "prod" else values
        if reduce is not None:
            at = {"sum": xp.add.at, "mean": xp.add.at, "prod": _multiply_at,
                  "amax": xp.maximum.at, "amin": xp.minimum.at}[reduce]
            at(out, index, values)
        if reduce == "mean":
            count = self._count(xp, a, index, include_self)
            out = out // count if out.dtype.kind in "iu" else (out / count).astype(out.dtype)
        if reduce in ("prod", "amax", "amin"):  # their gradients read the values
            self.reads_inputs = self.saves_output = True
            self.arrays = (a, values, out)
        self.meta = (shapes, index, part, reduce, include_self)
        return out.reshape(shapes[0])

    @staticmethod
    def _count(xp: Any, a: Any, index: Any, include_self: bool) -> Any:
        """How many values a mean takes at each place of ``a`` (1 where there are none)."""
        count = xp.full(a.shape, 1 if include_self else 0, a.dtype)
        xp.add.at(count, index, 1)
        count[count == 0] = 1
        return count

    def backward(self, gy: Any) -> tuple[Any, Any]:
        (a_shape, src_shape), index, part, reduce, include_self = self.meta
        xp = xp_of(gy)
        gy = gy.reshape(gy.shape or (1,))
        if reduce in (None, "sum"):
            ga, gvalues = gy, gy[index]
        elif reduce == "mean":
            ga = gy / self._count(xp, gy, index, include_self)
            gvalues = ga[index]
        elif reduce == "prod":
            ga, gvalues = self._product_gradients(xp, gy, index, include_self)
        else:
            a, values, out = self.arrays
            own = _same(a, out)
            if not include_self:
                own[index] = False
            ties = _same(values, out[index])
            count = own.astype(gy.dtype)
            xp.add.at(count, index, ties.astype(gy.dtype))
            share = gy / xp.maximum(count, 1)
            ga, gvalues = share * own, share[index] * ties
        if reduce is None or not include_self:
            ga = ga.copy() if ga is gy else ga
            ga[index] = 0
        gsrc = xp.zeros(src_shape or (1,), gy.dtype)
        gsrc[part] = gvalues
        return ga.reshape(a_shape), gsrc.reshape(src_shape)

    def _product_gradients(self, xp: Any, gy: Any, index: Any,
                           include_self: bool) -> tuple[Any, Any]:
        """Each factor's gradient: ``gy`` times the product of the other factors at its place,
        from the count of zeros and the product of the non-zero factors there."""
        a, values, _ = self.arrays
        zeros, nonzero = (a == 0).astype(np.int64), xp.where(a == 0, 1, a)
        if not include_self:
            zeros[index], nonzero[index] = 0, 1
        xp.add.at(zeros, index, (values == 0).astype(np.int64))
        _multiply_at(nonzero, index, xp.where(values == 0, 1, values))

        def others(factor: Any, zeros_there: Any, product_there: Any) -> Any:
            is_zero = factor == 0
            alone = xp.where(zeros_there == 0, product_there / xp.where(is_zero, 1, factor), 0)
            return xp.where(is_zero, xp.where(zeros_there == 1, product_there, 0), alone)

        return gy * others(a, zeros, nonzero), gy[index] * others(values, zeros[index],
                                                                   nonzero[index])


def _multiply_at(out: Any, index: Any, values: Any) -> None:
    """``numpy.multiply.at(out, index, values)`` on either array module (CuPy's ufuncs have
    no ``multiply.at``): a place's values multiply in one at a time, a round per repeat."""
    xp = xp_of(out)
    places = xp.ravel_multi_index(xp.broadcast_arrays(*index), out.shape).ravel()
    values = values.ravel()  # of the index's shape, as the places
    order = xp.argsort(places, kind="stable")
    places, values = places[order], values[order]
    repeat = xp.arange(places.size) - xp.searchsorted(places, places)
    flat = out.reshape(-1)  # a view: out is contiguous
    for turn in range(int(repeat.max()) + 1 if places.size else 0):
        chosen = repeat == turn
        flat[places[chosen]] *= values[chosen]


def _same(a: Any, b: Any) -> Any:
    """Where ``a`` equals ``b``, NaN equal to NaN (a maximum that is NaN came from one)."""
    return (a == b) | ((a != a) & (b != b))


class Flip(Function):
    reads_inputs = False

    def forward(self, a: Any, axes: tuple[int, ...] = ()) -> Any:
        self.axes = axes
        return xp_of(a).flip(a, axis=axes).copy()  # a copy, as PyTorch's flip

    def backward(self, gy: Any) -> Any:
        return xp_of(gy).flip(gy, axis=self.axes)


def pad_array(xp: Any, a: Any, widths: list[tuple[int, int]], mode: str,
              value: float = 0.0) -> Any:
    """``a`` padded by non-negative (before, after) ``widths`` per axis: one copy of ``a``.

    Same values as ``numpy.pad`` (modes constant, reflect, edge as "replicate", wrap as
    "circular"), several times faster: numpy's general routine makes extra passes over the
    array, which made padding a quarter of the decoder's time. Borders are filled axis by axis
    across the full extent of the other axes, so corners come out right.
    """
    shape = tuple(n + lo + hi for n, (lo, hi) in zip(a.shape, widths))
    if mode == "constant":
        out = xp.zeros(shape, a.dtype) if value == 0 else xp.full(shape, value, a.dtype)
    else:
        out = xp.empty(shape, a.dtype)
    out[tuple(slice(lo, lo + n) for n, (lo, _) in zip(a.shape, widths))] = a
    if mode == "constant":
        return out
    for axis, ((lo, hi), n) in enumerate(zip(widths, a.shape)):
        end = lo + n

        def at(index: slice, axis: int = axis) -> tuple[slice, ...]:
            return (slice(None),) * axis + (index,)

        if mode == "reflect":
            if lo:
                out[at(slice(0, lo))] = out[at(slice(2 * lo, lo, -1))]
            if hi:
                stop = end - 2 - hi
                out[at(slice(end, end + hi))] = out[at(slice(end - 2, stop if stop >= 0 else None,
                                                             -1))]
        elif mode == "replicate":
            if lo:
                out[at(slice(0, lo))] = out[at(slice(lo, lo + 1))]
            if hi:
                out[at(slice(end, end + hi))] = out[at(slice(end - 1, end))]
        elif mode == "circular":
            if lo:
                out[at(slice(0, lo))] = out[at(slice(end - lo, end))]
            if hi:
                out[at(slice(end, end + hi))] = out[at(slice(lo, lo + hi))]
        else:
            raise ValueError(f"unknown padding mode {mode!r}")
    return out


class Pad(Function):
    """PyTorch's ``F.pad``: ``pad`` lists (before, after) pairs from the last dim backwards.

    Negative widths crop, as in PyTorch: in ``circular`` (and ``constant``) mode before the
    padding, so the wrap takes the cropped input's ends; in ``reflect`` and ``replicate``
    after it, so the reflection is the whole input's.
    """

    reads_inputs = False

    def forward(self, a: Any, pad: tuple[int, ...] = (), mode: str = "constant",
                value: float = 0.0) -> Any:
        xp = xp_of(a)
        widths = [(0, 0)] * a.ndim
        for i in range(len(pad) // 2):
            widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        self.meta = (a.shape, widths, mode)
        positive = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        if mode in ("constant", "circular"):
            return pad_array(xp, a[_crop(widths, a.shape)], positive, mode, value)
        out = pad_array(xp, a, positive, mode, value)
        return out[_crop(widths, out.shape)]

    def backward(self, gy: Any) -> Any:
        shape, widths, mode = self.meta
        xp = xp_of(gy)
        positive = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        cropped = any(lo < 0 or hi < 0 for lo, hi in widths)
        crop_first = mode in ("constant", "circular")
        if cropped and not crop_first:  # the gradient of the padded input, zero where cropped
            gy = _uncrop(xp, gy, widths, tuple(n + lo + hi for n, (lo, hi) in
                                                zip(shape, positive, strict=True)))
        grad = gy
        for axis, (lo, hi) in enumerate(positive):
            if lo or hi:
                grad = _fold_axis(xp, grad, axis, lo, hi, mode)
        if cropped and crop_first:
            grad = _uncrop(xp, grad, widths, shape)
        return grad


def _crop(widths: list[tuple[int, int]], shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The part of an array of ``shape`` that negative widths keep."""
    return tuple(slice(max(-lo, 0), n - max(-hi, 0))
                 for (lo, hi), n in zip(widths, shape, strict=True))


def _uncrop(xp: Any, grad: Any, widths: list[tuple[int, int]], shape: tuple[int, ...]) -> Any:
    """``grad`` of a cropped array placed back into zeros of the array's ``shape``."""
    full = xp.zeros(shape, dtype=grad.dtype)
    full[_crop(widths, shape)] = grad
    return full


def _fold_axis(xp: Any, grad: Any, axis: int, lo: int, hi: int, mode: str) -> Any:
    """Sum the gradient of the padded border of one axis back onto the values it copied.

    Slices along ``axis`` in place (no moveaxis), so the result keeps the gradient's memory
    order and the copy runs over contiguous rows.
    """
    n = grad.shape[axis] - lo - hi

    def at(start: int | None, stop: int | None, step: int | None = None) -> tuple[slice, ...]:
        return (slice(None),) * axis + (slice(start, stop, step),)

    inner = grad[at(lo, lo + n)].copy()
    if mode == "reflect":
        # padded index lo - k (k = 1..lo) copied inner index k; the tail mirrors it
        if lo:
            inner[at(1, lo + 1)] += grad[at(lo - 1, None, -1)]
        if hi:
            inner[at(n - 1 - hi, n - 1)] += grad[at(lo + n + hi - 1, lo + n - 1, -1)]
    elif mode == "replicate":
        if lo:
            inner[at(0, 1)] += grad[at(0, lo)].sum(axis=axis, keepdims=True)
        if hi:
            inner[at(n - 1, n)] += grad[at(lo + n, None)].sum(axis=axis, keepdims=True)
    elif mode == "circular":
        if lo:
            inner[at(n - lo, n)] += grad[at(0, lo)]
        if hi:
            inner[at(0, hi)] += grad[at(lo + n, None)]
    return inner


class Roll(Function):
    """Elements shifted cyclically along axes (all flattened when ``axes`` is None)."""

    reads_inputs = False

    def forward(self, a: Any, shifts: Any = 0, axes: Any = None) -> Any:
        self.meta = (shifts, axes)
        return xp_of(a).roll(a, shifts, axis=axes)

    def backward(self, gy: Any) -> Any:
        shifts, axes = self.meta
        back = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
        return xp_of(gy).roll(gy, back, axis=axes)


class Repeat(Function):
    """The input tiled ``reps[i]`` times along each dim (extra leading reps add dims); a
    new array always. The gradient sums the tiles."""

    reads_inputs = False

    def forward(self, a: Any, reps: tuple[int, ...] = ()) -> Any:
        self.meta = (a.shape, reps)
        xp = xp_of(a)
        out = xp.tile(a, reps)
        return out.copy() if xp.may_share_memory(out, a) else out  # never the input itself

    def backward(self, gy: Any) -> Any:
        source, reps = self.meta
        dims = (1,) * (len(reps) - len(source)) + source
        tiles = gy.reshape([m for r, n in zip(reps, dims) for m in (r, n)])
        return tiles.sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(source)
