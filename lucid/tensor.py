"""``Tensor``: an n-dimensional array on a device, with an optional gradient.

Methods and names follow PyTorch. The array is numpy's on the CPU and CuPy's on a GPU; ops
never look at which, they ask ``backend.get_array_module``.
"""

from __future__ import annotations

import builtins
import math
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from lucid import autograd
from lucid.backend import (
    Device,
    DeviceLike,
    array_module,
    as_device,
    asnumpy,
    device_of,
    to_device,
)
from lucid.dtypes import DTypeLike, as_dtype, get_default_dtype
from lucid.ops import elementwise as ew
from lucid.ops import linalg, reduction, shape
from lucid.ops._util import normalize_dims, unbroadcast, xp_of
from lucid.utils.hooks import RemovableHandle, add_hook

Scalar = builtins.int | builtins.float | builtins.bool


class ValuesIndices(NamedTuple):
    """What ``max(dim)`` and ``min(dim)`` return, as PyTorch's ``(values, indices)``."""

    values: Tensor
    indices: Tensor


def check_same_device(tensors: Sequence[Tensor], op: str) -> None:
    """Raise a clear error when an op gets tensors on different devices."""
    if len(tensors) < 2:
        return
    first = tensors[0].device
    for t in tensors[1:]:
        if t.device != first:
            raise RuntimeError(
                f"{op}: expected all tensors to be on the same device, but found at least two "
                f"devices, {first} and {t.device}; move them with .to(device) first"
            )


def _shape_args(sizes: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike, as PyTorch does."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return tuple(builtins.int(s) for s in sizes)


class Tensor:
    """A multi-dimensional array with autograd, on the CPU (numpy) or a GPU (CuPy).

    Example:
        >>> import lucid
        >>> x = lucid.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([[2., 4.],
                [6., 8.]])
    """

    __array_priority__ = 1000  # make numpy defer to Tensor's reflected operators
    #: writes into ``data`` in place, counted in a box that views of the same array (and
    #: detached aliases) share (autograd checks what a backward will read:
    #: ``autograd._check_versions``)
    _box: _VersionBox | None = None
    #: an in-place op in a recorded graph leaves the tensor's earlier self to a stand-in, by
    #: the id of the function that made it: the gradients of earlier consumers go there
    _replaced: weakref.WeakValueDictionary[int, Tensor] | None = None
    #: the tensor whose array a view's array views (the first of a chain of views), as
    #: PyTorch's ``_base``: an in-place op on the view changes it in the graph too
    _base: Tensor | None = None
    #: ``register_hook``'s hooks by handle id, run on this tensor's gradient in a backward
    _hooks: dict[int, Callable[[Tensor], Tensor | None]] | None = None
    #: ``retain_grad``: a non-leaf tensor whose gradient ``backward`` keeps in ``.grad``
    _retains_grad: builtins.bool = False

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self.data = data
        self.requires_grad = builtins.bool(requires_grad)
        self.grad: Tensor | None = None
        self._grad_fn: autograd.Function | None = None
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError("only tensors of floating point dtype can require gradients")

    @classmethod
    def _wrap(cls, array: Any) -> Tensor:
        """A tensor around an existing array, without copying or checking."""
        t = cls.__new__(cls)
        # a 0-d result is an array, not a numpy scalar: it can be written, viewed and aliased
        t.data = np.asarray(array) if isinstance(array, np.generic) else array
        t.requires_grad = False
        t.grad = None
        t._grad_fn = None
        return t

    # ---- attributes -------------------------------------------------------------------------
    @property
    def _version(self) -> int:
        return 0 if self._box is None else self._box.version

    def _version_box(self) -> _VersionBox:
        if self._box is None:
            self._box = _VersionBox()
        return self._box

    def _bump_version(self) -> None:
        self._version_box().version += 1

    def _share_version(self, base: Tensor, view: bool = True) -> None:
        """Count writes with ``base``, whose array this tensor shares: a view of it (known
        to ``base``'s box while alive), or a detached alias."""
        self._box = base._version_box()
        if view:
            self._box.add_view(self)
            self._base = base._base if base._base is not None else base

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> Device:
        return device_of(self.data)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad_fn(self) -> autograd.Function | None:
        return self._grad_fn

    @property
    def retains_grad(self) -> builtins.bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` in the backward passes to come
        (added up, as a leaf's); a leaf's is kept anyway."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if not self.is_leaf:
            self._retains_grad = True

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Run ``hook(grad)`` on this tensor's gradient in each backward pass (and in
        ``autograd.grad``), in the order registered; a tensor it returns takes the
        gradient's place, for this tensor's ``.grad`` and for what flows on. A retained
        gradient (``retain_grad``) is the one after the hooks, as PyTorch's. Difference:
        hooks of tensors on independent branches may run in another order than PyTorch's
        (lucid's engine goes depth first); each sees the same gradient.

        Example:
            >>> import lucid
            >>> x = lucid.tensor([1.0, 2.0], requires_grad=True)
            >>> y = x * 2
            >>> handle = y.register_hook(lambda grad: grad * 0)
            >>> (y * y).sum().backward()
            >>> x.grad.tolist()
            [0.0, 0.0]
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self._hooks is None:
            self._hooks = {}
        return add_hook(self._hooks, hook)

    def _hooked(self, grad: Any) -> Any:
        """``grad`` (an array) after this tensor's hooks."""
        for hook in list(self._hooks.values()):
            result = hook(Tensor._wrap(grad))
            if result is None:
                continue
            if not isinstance(result, Tensor):
                raise TypeError(f"a hook must return a Tensor or None, got "
                                f"{type(result).__name__}")
            if result.shape != self.shape:
                raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has changed the "
                                   f"size of value")
            if result.dtype != self.dtype:
                raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has changed the "
                                   f"type of value (was {self.dtype} got {result.dtype})")
            grad = result.data
        return grad

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return builtins.int(self.data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(
            asnumpy(self.data), separator=", ", prefix="tensor(", precision=4
        )
        extras = []
        empty = self.numel() == 0  # PyTorch: an empty tensor's size and any other dtype shown
        if empty and self.shape != (0,):
            extras.append(f"size={self.shape}")
        shown = (get_default_dtype(),) if empty else \
            (get_default_dtype(), np.dtype("int64"), np.dtype("bool"))
        if self.dtype not in shown:
            extras.append(f"dtype=lucid.{self.dtype}")
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self._grad_fn is not None:
            extras.append(f"grad_fn=<{type(self._grad_fn).__name__}Backward0>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ---- conversion -------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shared, not copied, on the CPU)."""
        if self.requires_grad:
            raise RuntimeError(
                "can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()"
            )
        if self.device.type != "cpu":
            raise TypeError(
                f"can't convert a {self.device} tensor to numpy; use tensor.cpu().numpy()"
            )
        return self.data

    def item(self) -> builtins.float | builtins.int | builtins.bool:
        if self.numel() != 1:
            raise ValueError(
                f"a tensor with {self.numel()} elements cannot be converted to a scalar"
            )
        return asnumpy(self.data).reshape(()).item()

    def tolist(self) -> Any:
        return asnumpy(self.data).tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph (writes to either count for both)."""
        out = Tensor._wrap(self.data)
        out._share_version(self, view=False)
        return out

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError("requires_grad_() can only be changed on leaf tensors")
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError("only tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    def clone(self) -> Tensor:
        """A copy with its own memory, its axes laid out in this tensor's order of strides
        (a transpose stays a transpose, so ``reshape`` of it copies too), as PyTorch's
        ``preserve_format``."""
        return _Clone.apply(self, order="K")

    def contiguous(self) -> Tensor:
        """Itself when its data is laid out in row-major order, else a copy that is (so that
        writing into it leaves the tensor it was a view of alone), as in PyTorch."""
        return self if self.data.flags.c_contiguous else _Clone.apply(self, order="C")

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        device: DeviceLike = kwargs.pop("device", None)
        dtype: DTypeLike = kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, Device)):
                device = arg
            else:
                dtype = arg
        out = self
        if device is not None and as_device(device) != self.device:
            out = _ToDevice.apply(out, device=as_device(device))
        if dtype is not None and as_dtype(dtype) != self.dtype:
            out = ew.Cast.apply(out, dtype=as_dtype(dtype))
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def gpu(self, index: int = 0) -> Tensor:
        return self.to(Device("gpu", index))

    cuda = gpu

    def float(self) -> Tensor:
        return self.to(np.dtype("float32"))

    def double(self) -> Tensor:
        return self.to(np.dtype("float64"))

    def half(self) -> Tensor:
        return self.to(np.dtype("float16"))

    def long(self) -> Tensor:
        return self.to(np.dtype("int64"))

    def int(self) -> Tensor:
        return self.to(np.dtype("int32"))

    def bool(self) -> Tensor:
        return self.to(np.dtype("bool"))

    def __float__(self) -> builtins.float:
        return builtins.float(self.item())

    def __int__(self) -> builtins.int:
        return builtins.int(self.item())

    def __bool__(self) -> builtins.bool:
        return builtins.bool(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = asnumpy(self.data)
        return array if dtype is None else array.astype(dtype)

    # ---- autograd ---------------------------------------------------------------------------
    def backward(self, gradient: Tensor | None = None, retain_graph: bool = False,
                 create_graph: bool = False, inputs: Sequence[Tensor] | None = None) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf, or of
        ``inputs`` only (leaves or not), as PyTorch's. ``create_graph=True`` (gradients of
        gradients) is not supported: NotImplementedError."""
        autograd._no_create_graph(create_graph)
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        autograd.backward(self, self._grad_seed(gradient), retain_graph=retain_graph,
                          inputs=inputs)

    def _grad_seed(self, gradient: Any, name: str = "gradient") -> Any:
        """The array a backward pass from this tensor starts with: ``gradient`` (``name`` in
        messages; a tensor or array of this shape), or ones for a scalar without one."""
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            return xp_of(self.data).ones(self.data.shape, dtype=self.dtype)
        gradient = gradient if isinstance(gradient, Tensor) else tensor(gradient,
                                                                         device=self.device)
        if gradient.shape != self.shape:
            raise RuntimeError(
                f"{name} has shape {gradient.shape} but the output has shape {self.shape}"
            )
        return gradient.data.astype(self.dtype, copy=False)

    # ---- arithmetic -------------------------------------------------------------------------
    def _operand(self, other: Any) -> tuple[Tensor, Tensor]:
        """Both operands as tensors, promoted the way PyTorch promotes them."""
        if not isinstance(other, Tensor):
            if isinstance(other, (builtins.bool, builtins.int, builtins.float)):
                if self.dtype.kind == "f":
                    dtype = self.dtype
                elif isinstance(other, builtins.float):
                    dtype = get_default_dtype()
                elif isinstance(other, builtins.bool) and self.dtype.kind == "b":
                    dtype = self.dtype
                else:
                    dtype = self.dtype if self.dtype.kind in "iu" else np.dtype("int64")
                # an int out of the dtype's range wraps, as PyTorch's (numpy refuses it)
                value = np.asarray(other).astype(dtype) if dtype.kind in "iu" else other
                other = Tensor._wrap(xp_of(self.data).asarray(value, dtype=dtype))
            else:
                other = tensor(other, device=self.device)
        a, b = self, other
        # a floating operand decides the result's dtype (numpy would widen int64+float32)
        if a.dtype != b.dtype:
            if a.dtype.kind == "f" and b.dtype.kind != "f":
                b = Tensor._wrap(b.data.astype(a.dtype))
            elif b.dtype.kind == "f" and a.dtype.kind != "f":
                a = a.to(b.dtype)
            elif _category(a.dtype) == _category(b.dtype) and (a.ndim == 0) != (b.ndim == 0):
                # of one category, a tensor with dimensions decides over a 0-d one (a scalar)
                a, b = (a.to(b.dtype), b) if a.ndim == 0 else (a, b.to(a.dtype))
        return a, b

    def __add__(self, other: Any) -> Tensor:
        return ew.Add.apply(*self._operand(other))

    def __radd__(self, other: Any) -> Tensor:
        b, a = self._operand(other)
        return ew.Add.apply(a, b)

    def __sub__(self, other: Any) -> Tensor:
        return ew.Sub.apply(*self._operand(other))

    def __rsub__(self, other: Any) -> Tensor:
        b, a = self._operand(other)
        return ew.Sub.apply(a, b)

    def __mul__(self, other: Any) -> Tensor:
        return ew.Mul.apply(*self._operand(other))

    def __rmul__(self, other: Any) -> Tensor:
        b, a = self._operand(other)
        return ew.Mul.apply(a, b)

    def __truediv__(self, other: Any) -> Tensor:
        a, b = self._operand(other)
        if a.dtype.kind != "f":  # true division of integers gives floats, as in PyTorch
            a, b = a.to(get_default_dtype()), b.to(get_default_dtype())
        return ew.Div.apply(a, b)

    def __rtruediv__(self, other: Any) -> Tensor:
        b, a = self._operand(other)
        if a.dtype.kind != "f":
            a, b = a.to(get_default_dtype()), b.to(get_default_dtype())
        return ew.Div.apply(a, b)

    def __pow__(self, exponent: Any) -> Tensor:
        if isinstance(exponent, (builtins.int, builtins.float)) and not isinstance(
            exponent, builtins.bool
        ):
            base = self._floating() if isinstance(exponent, builtins.float) else self
            return ew.PowScalar.apply(base, exponent=exponent)
        return ew.Pow.apply(*self._operand(exponent))

    def __rpow__(self, base: Any) -> Tensor:
        b, a = self._operand(base)
        return ew.Pow.apply(a, b)

    def __mod__(self, other: Any) -> Tensor:
        return ew.Remainder.apply(*self._operand(other))

    def __rmod__(self, other: Any) -> Tensor:
        b, a = self._operand(other)
        return ew.Remainder.apply(a, b)

    def __floordiv__(self, other: Any) -> Tensor:
        return ew.FloorDivide.apply(*self._operand(other))

    def __rfloordiv__(self, other: Any) -> Tensor:
        b, a = self._operand(other)
        return ew.FloorDivide.apply(a, b)

    def __matmul__(self, other: Tensor) -> Tensor:
        return linalg.MatMul.apply(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return linalg.MatMul.apply(tensor(other, device=self.device), self)

    def __neg__(self) -> Tensor:
        return ew.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return self.abs()

    # the operators' named forms, as PyTorch's methods
    def add(self, other: Any, *, alpha: Scalar = 1) -> Tensor:
        """``self + alpha * other``."""
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other: Any, *, alpha: Scalar = 1) -> Tensor:
        """``self - alpha * other``."""
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any) -> Tensor:
        return self / other

    def pow(self, exponent: Any) -> Tensor:
        return self**exponent

    def neg(self) -> Tensor:
        return -self

    # in-place forms
    def _inplace(self, op: Callable[[Tensor], Tensor]) -> Tensor:
        """``self`` becomes ``op(self)``, as PyTorch's in-place ops.

        The result is written into ``data``, so that views and other tensors sharing the
        array see it, and the version shared with them goes up: a recorded op that kept the
        old values (of an input, or of its output) refuses its backward
        (``autograd._check_versions``). In a recorded graph the tensor also takes the
        result's place in the graph, and its earlier self stays with the ops that used it (a
        stand-in in ``_replaced``), so their gradients are unchanged; a view of it taken
        before refuses to be used after (``autograd._check_views``: PyTorch would take it
        again). An in-place op on a view changes its base in the graph too (``_rebase``).
        """
        self._check_no_overlap()
        producer = self._grad_fn
        if not autograd.is_grad_enabled():
            return self._write(self._castable(op(self)))
        if self.is_leaf and self.requires_grad:
            raise RuntimeError(
                "a leaf tensor that requires grad is being used in an in-place operation; "
                "wrap it in lucid.no_grad()"
            )
        view = self._box is not None and self._box.is_view(self)
        if view:
            self._check_writable_view()
        earlier = self._stand_in(self.data)
        result = self._castable(op(earlier))
        if not result.requires_grad:
            return self._write(result)
        if view:
            base = self._base
            if base.is_leaf and base.requires_grad:
                raise RuntimeError("a view of a leaf tensor that requires grad is being used "
                                   "in an in-place operation; wrap it in lucid.no_grad()")
            index = _index_in(self.data, base.data)
        elif not self.requires_grad:  # joins the graph: its views taken before must not be used
            self._version_box().joined_graph = True
        fn = result._grad_fn
        if any(t is earlier and fn.reads(i) for i, t in enumerate(fn.inputs)):
            # the new op keeps the old values: it runs again on a copy of them
            earlier = self._stand_in(self.data.copy())
            result = self._castable(op(earlier))
        if result.dtype != self.dtype:
            result = result.to(self.dtype)
        self._leave_behind(producer, earlier)
        if view:
            self._rebase(base, result, index)
            return self
        self._write(result)
        self._grad_fn, self.requires_grad = result._grad_fn, True
        return self

    def _check_writable_view(self) -> None:
        """A view written in place in grad mode must be in the graph where its base is:
        one taken before its base moved in the graph is stale (``autograd._check_views``),
        and one taken outside the graph (in ``no_grad``) of a base in it is refused, as in
        PyTorch; either would change the base's values without its gradient. A view an op
        made that forbids writes to it (a module's backward-hook identity) is refused too
        (``autograd._check_inplace_view``)."""
        autograd._check_inplace_view(self)
        autograd._check_views([self])
        if self._base.requires_grad and not self.requires_grad:
            raise RuntimeError(
                "a view created in no_grad mode is being modified in place with grad mode "
                "enabled; take the view and change it both inside no_grad, or both outside")

    def _rebase(self, base: Tensor, result: Tensor, index: tuple[Any, ...]) -> None:
        """An in-place op gave this view ``result``: ``base`` takes it at the view's elements
        (``index``) in the graph as in memory (PyTorch's ``CopySlices``), its earlier self
        left to a stand-in, and the view becomes a view of the new ``base``."""
        producer = base._grad_fn
        earlier = base._stand_in(base.data)
        if not base.requires_grad:  # its views taken before outside the graph are stale now
            base._version_box().joined_graph = True
        moved = _SetItem.apply(earlier, result.reshape(()) if index == () else result,
                               index=index)
        self._write(result)
        base._leave_behind(producer, earlier)
        base._grad_fn, base.requires_grad = moved._grad_fn, True
        self._grad_fn = _ViewAt.apply(base, view=self.data, index=index)._grad_fn
        self.requires_grad = True

    def _leave_behind(self, producer: autograd.Function | None, earlier: Tensor) -> None:
        """The ops that used this tensor as ``producer`` made it send their gradients to
        ``earlier``, its stand-in, now that it moves in the graph (``autograd._edges``)."""
        if producer is not None:
            if self._replaced is None:
                self._replaced = weakref.WeakValueDictionary()
            self._replaced[id(producer)] = earlier  # alive while the graph after it is
        # hooks registered until now are on the earlier value's gradient, as PyTorch's
        earlier._hooks, self._hooks = self._hooks, None

    def _stand_in(self, data: Any) -> Tensor:
        """A tensor for this one as it is now, in the graph and in version: what an
        in-place op computes from."""
        earlier = Tensor._wrap(data)
        earlier.requires_grad, earlier._grad_fn = self.requires_grad, self._grad_fn
        earlier._box = _VersionBox(self._version)
        return earlier

    def _castable(self, result: Tensor) -> Tensor:
        """``result``, if an in-place op may store it in this tensor's dtype: within a kind
        (float64 into float32), never across (a float into an int tensor), as in PyTorch."""
        if _category(result.dtype) > _category(self.dtype):
            raise RuntimeError(f"result type {result.dtype} can't be cast to the desired "
                               f"output type {self.dtype}")
        return result

    def _check_no_overlap(self) -> None:
        """Refuse a write into a tensor whose elements share memory (an ``expand()``ed one),
        as PyTorch's in-place arithmetic and copies do. Deliberate difference: PyTorch lets
        ``fill_``/``zero_`` through, and an indexed write into a part with no such elements
        (changing every element that shares its memory); lucid refuses those too."""
        if self.numel() and any(n > 1 and step == 0
                                for n, step in zip(self.shape, self.data.strides)):
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation.")

    def _write(self, result: Tensor) -> Tensor:
        """``result`` into ``data``; the version (shared with views and aliases) goes up."""
        self.data[...] = result.data
        self._bump_version()
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(lambda t: t + other)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(lambda t: t - other)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(lambda t: t * other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(lambda t: t / other)

    def add_(self, other: Any, alpha: Scalar = 1) -> Tensor:
        return self._inplace(lambda t: t.add(other, alpha=alpha))

    def sub_(self, other: Any, alpha: Scalar = 1) -> Tensor:
        return self._inplace(lambda t: t.sub(other, alpha=alpha))

    def mul_(self, other: Any) -> Tensor:
        return self._inplace(lambda t: t * other)

    def div_(self, other: Any) -> Tensor:
        return self._inplace(lambda t: t / other)

    def clamp_(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        return self._inplace(lambda t: t.clamp(min, max))

    def copy_(self, source: Any) -> Tensor:
        source = source if isinstance(source, Tensor) else tensor(source, dtype=self.dtype)
        if source.device != self.device:
            source = source.to(self.device)
        source = source.to(self.dtype).expand(*self.shape)
        return self._inplace(lambda t: _Fill.apply(t, value=0) + source)

    def fill_(self, value: Scalar) -> Tensor:
        return self._inplace(lambda t: _Fill.apply(t, value=value))

    def zero_(self) -> Tensor:
        return self.fill_(0)

    # ---- comparisons (never differentiable) -------------------------------------------------
    def _compare(self, other: Any, op: Any) -> Tensor:
        """``op`` on the operands promoted as arithmetic promotes them (a float32 tensor and
        a 0-d float64 one compare in float32, as in PyTorch); never differentiable."""
        if isinstance(other, Tensor):
            check_same_device((self, other), "comparison")
        a, b = self._operand(other)
        return Tensor._wrap(op(a.data, b.data))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a >= b)

    def __invert__(self) -> Tensor:
        return Tensor._wrap(~self.data)

    def __and__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a & b)

    def __or__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a | b)

    def __xor__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a ^ b)

    __hash__ = object.__hash__

    # ---- math -------------------------------------------------------------------------------
    def _floating(self) -> Tensor:
        """Itself, or an integer or bool tensor in the default float dtype: PyTorch's
        floating functions (exp, sqrt, sigmoid, ...) take integers to float32."""
        return self if self.dtype.kind in "fc" else self.to(get_default_dtype())

    def exp(self) -> Tensor:
        return ew.Exp.apply(self._floating())

    def log(self) -> Tensor:
        return ew.Log.apply(self._floating())

    def sqrt(self) -> Tensor:
        return ew.Sqrt.apply(self._floating())

    def abs(self) -> Tensor:
        return ew.Abs.apply(self)

    def relu(self) -> Tensor:
        return ew.Relu.apply(self)

    def sigmoid(self) -> Tensor:
        return ew.Sigmoid.apply(self._floating())

    def tanh(self) -> Tensor:
        return ew.Tanh.apply(self._floating())

    def softmax(self, dim: int, dtype: DTypeLike = None) -> Tensor:
        """``lucid.nn.functional.softmax`` along ``dim``."""
        from lucid.nn.functional import softmax

        return softmax(self, dim, dtype)

    def log_softmax(self, dim: int, dtype: DTypeLike = None) -> Tensor:
        """``lucid.nn.functional.log_softmax`` along ``dim``."""
        from lucid.nn.functional import log_softmax

        return log_softmax(self, dim, dtype)

    def erf(self) -> Tensor:
        """The error function, ``2 / sqrt(pi) * integral of exp(-t^2) from 0 to x``."""
        return ew.Erf.apply(self._floating())

    def _in_float32(self, compute: Callable[[Tensor], Tensor]) -> Tensor:
        """``compute`` of itself, for float16 in float32 and the result cast back, as PyTorch
        computes half-precision norms, running sums and rounding (float16 overflows past
        65504, and its running sums stall)."""
        if self.dtype != np.float16:
            return compute(self)
        return compute(self.float()).to(self.dtype)

    def reciprocal(self) -> Tensor:
        return ew.Reciprocal.apply(self._floating())

    def rsqrt(self) -> Tensor:
        return ew.Rsqrt.apply(self._floating())

    def sin(self) -> Tensor:
        return ew.Sin.apply(self._floating())

    def cos(self) -> Tensor:
        return ew.Cos.apply(self._floating())

    def _step(self, name: str, decimals: int | None = None) -> Tensor:
        if self.dtype.kind == "b" and name != "sign":
            raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")
        if decimals is not None and self.dtype.kind in "iu":
            raise NotImplementedError(f"\"round\" with decimals not implemented for "
                                      f"'{self.dtype}'")
        return ew.Step.apply(self, name=name, decimals=decimals or 0)

    def floor(self) -> Tensor:
        return self._step("floor")

    def ceil(self) -> Tensor:
        return self._step("ceil")

    def trunc(self) -> Tensor:
        return self._step("trunc")

    def round(self, decimals: int | None = None) -> Tensor:
        """Round half to even (``decimals`` places), as PyTorch's."""
        if decimals:
            return self._in_float32(lambda x: x._step("round", decimals))
        return self._step("round", decimals)

    def sign(self) -> Tensor:
        return self._step("sign")

    def isnan(self) -> Tensor:
        return Tensor._wrap(self.data != self.data)

    def isinf(self) -> Tensor:
        return Tensor._wrap(xp_of(self.data).isinf(self.data))

    def isfinite(self) -> Tensor:
        return Tensor._wrap(xp_of(self.data).isfinite(self.data))

    def clamp(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        if min is None and max is None:
            raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):  # bounds that take gradients
            bounds = [b if isinstance(b, Tensor) else tensor(b, dtype=self.dtype,
                                                             device=self.device)
                      for b in (min, max) if b is not None]
            return ew.ClampTensor.apply(self, *bounds, has_low=min is not None,
                                        has_high=max is not None)
        floats = any(isinstance(bound, builtins.float) for bound in (min, max))
        return ew.Clamp.apply(self._floating() if floats else self, min=min, max=max)

    clip = clamp

    def maximum(self, other: Tensor) -> Tensor:
        return ew.Maximum.apply(*self._operand(other))

    def minimum(self, other: Tensor) -> Tensor:
        return ew.Minimum.apply(*self._operand(other))

    def matmul(self, other: Tensor) -> Tensor:
        return self @ other

    # ---- reductions -------------------------------------------------------------------------
    def _accumulating(self, dtype: DTypeLike) -> Tensor:
        """Itself in ``dtype``, or, when None, integers and bools as int64: PyTorch's sums and
        products of them."""
        if dtype is not None:
            if as_dtype(dtype).kind != "f" and self.requires_grad and autograd.is_grad_enabled():
                raise RuntimeError(f"Autograd not support dtype: {as_dtype(dtype)}")
            return self.to(dtype)
        return self.to(np.dtype("int64")) if self.dtype.kind in "biu" else self

    def sum(self, dim: int | Sequence[int] | None = None, keepdim: bool = False,
            dtype: DTypeLike = None) -> Tensor:
        x = self._accumulating(dtype)
        out = reduction.Sum.apply(x, axes=_reduced(dim, x.ndim), keepdim=keepdim)
        return out if out.dtype == x.dtype else out.to(x.dtype)  # numpy widens int32 sums

    def prod(self, dim: int | None = None, keepdim: bool = False,
             dtype: DTypeLike = None) -> Tensor:
        """Product of all elements, or over one ``dim``; zeros get exact gradients."""
        if dim is None and keepdim:
            raise TypeError("prod(): keepdim needs a dim")
        x = self._accumulating(dtype)
        axes = _reduced(None, x.ndim) if dim is None else normalize_dims(builtins.int(dim), x.ndim)
        out = reduction.Prod.apply(x, axes=axes, keepdim=keepdim)
        return out if out.dtype == x.dtype else out.to(x.dtype)

    def all(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Whether every element is non-zero (bool; uint8 stays uint8, as in PyTorch)."""
        return self._test("all", dim, keepdim)

    def any(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        """Whether any element is non-zero (bool; uint8 stays uint8, as in PyTorch)."""
        return self._test("any", dim, keepdim)

    def _test(self, name: str, dim: int | Sequence[int] | None, keepdim: bool) -> Tensor:
        xp = xp_of(self.data)
        axes = () if isinstance(dim, (tuple, list)) and not dim else _reduced(dim, self.ndim)
        out = xp.asarray(getattr(self.data, name)(axis=axes, keepdims=keepdim))  # () as torch
        return Tensor._wrap(out.astype(np.uint8) if self.dtype == np.uint8 else out)

    def cumsum(self, dim: int, dtype: DTypeLike = None) -> Tensor:
        """Running sum along ``dim`` (integers and bools as int64, as PyTorch's)."""
        if dtype is not None and as_dtype(dtype).kind == "b":
            raise NotImplementedError("cumsum: not implemented for 'Bool' (PyTorch's neither)")
        x = self._accumulating(dtype)
        (axis,) = normalize_dims(dim, x.ndim) or (0,)
        if not x.ndim:
            return x.clone()
        return x._in_float32(lambda t: reduction.Cumsum.apply(t, axis=axis))

    def logsumexp(self, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
        """``log(sum(exp(x)))`` over ``dim``, computed from the largest value so it neither
        overflows nor underflows; all -inf gives -inf."""
        x = self._floating()
        axes = _reduced(dim, x.ndim)
        xp = xp_of(x.data)
        kept = [1 if i in axes else n for i, n in enumerate(x.shape)]
        peak = x.data.max(axis=axes, keepdims=True) if x.numel() else xp.zeros(kept, x.dtype)
        peak = Tensor._wrap(xp.where(xp.isfinite(peak), peak, 0).astype(x.dtype))
        out = (x - peak).exp().sum(axes, keepdim=True).log() + peak
        return reduction.drop_axes(out, x.shape, axes, keepdim)

    def norm(self, p: float | str = "fro", dim: int | Sequence[int] | None = None,
             keepdim: bool = False) -> Tensor:
        """Vector norm of the elements over ``dim`` (all when None), as PyTorch's
        ``linalg.vector_norm``: ``p`` 2 (or "fro"), 1, inf, -inf, 0 (a count, without
        gradient) or any other number; an all-zero input's gradient is 0. Over a single
        element every order gives ``|x|`` (as PyTorch's) with the gradient ``sign(x)``, where
        PyTorch's formula for orders other than 0, 1, 2 and +-inf overflows to NaN far from
        1 (a deliberate difference)."""
        if self.dtype.kind != "f":
            raise RuntimeError(f"norm(): expected a floating point tensor, got {self.dtype}")
        if self.dtype == np.float16:
            return self._in_float32(lambda x: x.norm(p, dim, keepdim))
        axes = _reduced(dim, self.ndim)
        if p == "fro" and dim is not None and len(axes) > 2:
            raise RuntimeError(f"norm: the Frobenius norm takes at most 2 dims, got {dim}")
        if isinstance(p, str) and p != "fro":
            raise ValueError(f"norm: order {p!r} is not supported (numbers or 'fro')")
        reduced = math.prod(self.shape[a] for a in axes)
        if reduced == 1 and p not in (0, 1, math.inf, -math.inf):  # |x|: no power overflows
            return reduction.SingleNorm.apply(self, axes=axes, keepdim=keepdim)
        if p in ("fro", 2):  # the gradient of a zero norm is zero, as PyTorch's
            return ew.Sqrt.apply((self * self).sum(axes, keepdim), zero_at_zero=True)
        if p < 0 and reduced == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {p} norm on an empty "
                               "tensor because the operation does not have an identity")
        if p == 1:
            return self.abs().sum(axes, keepdim)
        if p in (float("inf"), float("-inf")):  # a NaN norm passes no gradient back (torch)
            extreme = reduction.Amax if p > 0 else reduction.Amin
            return extreme.apply(self.abs(), axes=axes, keepdim=keepdim, nan="zero")
        if p == 0:
            return (self != 0).to(self.dtype).sum(axes, keepdim)
        return reduction.PowerNorm.apply(self, p=builtins.float(p), axes=axes, keepdim=keepdim)

    def mean(self, dim: int | Sequence[int] | None = None, keepdim: bool = False,
             dtype: DTypeLike = None) -> Tensor:
        x = self if dtype is None else self.to(dtype)
        if x.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype; input dtype is {x.dtype}")
        return reduction.Mean.apply(x, axes=_reduced(dim, x.ndim), keepdim=keepdim)

    def var(self, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
            keepdim: bool = False, *, correction: int | None = None) -> Tensor:
        """Variance; ``unbiased=True`` (the default) or ``correction=1`` divides by N - 1."""
        if unbiased is not None and correction is not None:
            raise ValueError("var: give either 'unbiased' or 'correction', not both")
        if correction is None:
            correction = 0 if unbiased is False else 1
        return reduction.Var.apply(
            self, axes=_reduced(dim, self.ndim), correction=correction, keepdim=keepdim
        )

    def std(self, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
            keepdim: bool = False, *, correction: int | None = None) -> Tensor:
        variance = self.var(dim, unbiased, keepdim, correction=correction)
        return ew.Sqrt.apply(variance, zero_at_zero=True)

    def amax(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return reduction.Amax.apply(self, axes=_reduced(dim, self.ndim), keepdim=keepdim)

    def amin(self, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
        return reduction.Amin.apply(self, axes=_reduced(dim, self.ndim), keepdim=keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._arg("argmax", dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._arg("argmin", dim, keepdim)

    def _arg(self, name: str, dim: int | None, keepdim: bool) -> Tensor:
        if dim is None:  # an index into the flattened tensor; keepdim keeps every dim as 1
            found = xp_of(self.data).asarray(getattr(self.data, name)())
            return Tensor._wrap(found.reshape((1,) * self.ndim) if keepdim else found)
        if self.ndim == 0:  # dim 0 or -1 of a 0-d tensor: its only element, as in PyTorch
            normalize_dims(dim, 0)
            return self.reshape(1)._arg(name, 0, False)
        (axis,) = normalize_dims(dim, self.ndim)
        out = getattr(self.data, name)(axis=axis)
        return Tensor._wrap(xp_of(out).expand_dims(out, axis) if keepdim else out)

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """``max()`` the largest value; ``max(dim)`` the pair (values, indices);
        ``max(other)`` the element-wise maximum."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:  # PyTorch: the gradient shared by the maxima, or by the NaNs if any
            return reduction.Amax.apply(self, axes=_reduced(None, self.ndim), nan="wins")
        return self._extreme(dim, keepdim, largest=True)

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        """``min()``, ``min(dim)`` or ``min(other)``, as ``max``."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return reduction.Amin.apply(self, axes=_reduced(None, self.ndim), nan="wins")
        return self._extreme(dim, keepdim, largest=False)

    def _extreme(self, dim: int, keepdim: bool, largest: bool) -> ValuesIndices:
        if self.ndim == 0:  # as in _arg
            normalize_dims(dim, 0)
            return self.reshape(1)._extreme(0, False, largest)
        indices = self.argmax(dim) if largest else self.argmin(dim)
        (axis,) = normalize_dims(dim, self.ndim)
        values = reduction.TakeAlong.apply(self, indices=indices.data, axis=axis, keepdim=keepdim)
        if keepdim:
            indices = indices.unsqueeze(axis)
        return ValuesIndices(values, indices)

    # ---- shape ------------------------------------------------------------------------------
    def reshape(self, *shape_: Any) -> Tensor:
        target = _shape_args(shape_)
        if target == self.shape:
            return self
        return shape.Reshape.apply(self, shape=target)

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        start, end = normalize_dims(start_dim, self.ndim)[0], normalize_dims(end_dim, self.ndim)[0]
        if start > end:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        middle = 1
        for n in self.shape[start : end + 1]:
            middle *= n
        return self.reshape(self.shape[:start] + (middle,) + self.shape[end + 1 :])

    def gather(self, dim: int, index: Tensor) -> Tensor:
        """``out[i][j][k] = self[i][index[i][j][k]][k]`` for ``dim`` 1 (and so on): the
        output has ``index``'s shape; ``index`` has as many dims as this tensor (a 0-d one
        counts as one dim), each no longer than this tensor's but along ``dim``. Repeated
        indices add their gradients."""
        idx = _index_array(index, "gather", empty_of_any_dtype=True)
        if idx.size == 0:  # PyTorch checks nothing more: an empty result of index's shape
            normalize_dims(dim, builtins.max(self.ndim, 1))
            return self.reshape(-1)[:0].reshape(idx.shape)
        if self.ndim == 0 or idx.ndim == 0:  # 0-d counts as one element, as in PyTorch
            flat = self.reshape(-1) if self.ndim == 0 else self
            if flat.ndim != 1:
                raise RuntimeError("Index tensor must have the same number of dimensions as "
                                   "input tensor")
            normalize_dims(dim, self.ndim)
            return flat.gather(0, Tensor._wrap(idx.reshape(-1))).reshape(idx.shape)
        (axis,) = normalize_dims(dim, self.ndim)
        if idx.ndim != self.ndim or any(
                n > m for d, (n, m) in enumerate(zip(idx.shape, self.shape)) if d != axis):
            raise RuntimeError(f"Size does not match at dimension {axis}: index "
                               f"{tuple(idx.shape)} against input {self.shape} in gather")
        _check_in_bounds(idx, axis, self.shape[axis])
        return shape.GetItem.apply(self, index=_along(idx, axis))

    def scatter(self, dim: int, index: Tensor, src: Tensor | Scalar | None = None, *,
                value: Scalar | None = None, reduce: str | None = None) -> Tensor:
        """A copy with ``out[index[i][j][k]][j][k] = src[i][j][k]`` for ``dim`` 0 (and so on),
        for each entry of ``index`` (integers, as many dims as this tensor, no longer than
        ``src`` along any and than this tensor but along ``dim``); ``src`` a tensor of this
        dtype, or a number (also as ``value=``). Where an index repeats, one of its values is
        written (PyTorch: undefined which). ``reduce`` "add" or "multiply" combines instead
        (``scatter_reduce``'s "sum" and "prod"); unlike PyTorch's, that has a gradient."""
        if (src is None) == (value is None):
            raise TypeError("scatter() takes one of 'src' and 'value'")
        if reduce not in (None, "add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        reduction = {None: None, "add": "sum", "multiply": "prod"}[reduce]
        return self._scatter("scatter", dim, index, value if src is None else src, reduction)

    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """As ``scatter``, but each ``src`` entry is added at its place (repeats add up)."""
        if not isinstance(src, Tensor):
            raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not "
                            f"{type(src).__name__}")
        return self._scatter("scatter_add", dim, index, src, "sum")

    def scatter_reduce(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        """As ``scatter``, but the ``src`` entries sent to a place are reduced there with this
        tensor's own value (or without it: ``include_self=False``): ``reduce`` is "sum",
        "prod", "mean" (integers: rounded down), "amax" or "amin". Places no entry goes to
        keep their value. The gradient's split of a maximum or minimum among equal values
        counts this tensor's only where it is included (PyTorch counts it always), and is
        computed for any ``src`` (PyTorch: only one of the index's shape)."""
        if not isinstance(src, Tensor):
            raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not "
                            f"{type(src).__name__}")
        if reduce not in ("sum", "prod", "mean", "amax", "amin"):
            raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                               f"got {reduce}")
        if reduce == "mean" and self.dtype == np.bool_:
            raise NotImplementedError("scatter_reduce(): 'mean' is not implemented for bool")
        return self._scatter("scatter_reduce", dim, index, src, reduce, include_self)

    def scatter_(self, dim: int, index: Tensor, src: Tensor | Scalar | None = None, *,
                 value: Scalar | None = None, reduce: str | None = None) -> Tensor:
        return self._inplace(lambda t: t.scatter(dim, index, src, value=value, reduce=reduce))

    def scatter_add_(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        return self._inplace(lambda t: t.scatter_add(dim, index, src))

    def scatter_reduce_(self, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        return self._inplace(lambda t: t.scatter_reduce(dim, index, src, reduce,
                                                        include_self=include_self))

    def _scatter(self, name: str, dim: int, index: Tensor, src: Tensor | Scalar,
                 reduce: str | None, include_self: bool = True) -> Tensor:
        idx = _index_array(index, name, empty_of_any_dtype=True)
        if not isinstance(src, Tensor):
            _check_fits(src, self.dtype)
            src = Tensor._wrap(xp_of(self.data).asarray(src).astype(self.dtype)
                               ).expand(*index.shape)
        elif src.dtype != self.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        shapes = [_one_dim_at_least(t) for t in (self, index, src)]
        out_shape, idx_shape, src_shape = shapes
        (axis,) = normalize_dims(dim, len(out_shape))
        if idx.size == 0:  # PyTorch checks nothing more: nothing is written
            where = tuple(xp_of(idx).zeros((0,) * len(src_shape), np.int64) for _ in out_shape)
            part = tuple(slice(0, 0) for _ in src_shape)
        else:
            for other, what in ((idx_shape, "self"), (src_shape, "src")):
                if len(other) != len(out_shape):
                    raise RuntimeError(f"Index tensor must have the same number of "
                                       f"dimensions as {what} tensor")
            if any(n > m for n, m in zip(idx_shape, src_shape)) or any(
                    n > m for d, (n, m) in enumerate(zip(idx_shape, out_shape)) if d != axis):
                raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than "
                                   f"self {list(self.shape)} apart from dimension {axis} and "
                                   f"to be no larger size than src {list(src.shape)}")
            idx = idx.reshape(idx_shape)
            _check_in_bounds(idx, axis, out_shape[axis])
            where, part = _along(idx, axis), tuple(slice(0, n) for n in idx_shape)
        # 0-d tensors go in as they are (the op counts them 1-d): an in-place scatter's
        # input must be the tensor itself, for autograd's version checks
        return shape.Scatter.apply(self, src, index=where, part=part, reduce=reduce,
                                   include_self=include_self)

    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False
             ) -> ValuesIndices:
        """Values sorted along ``dim`` and where they came from. Always stable (equal values
        keep their order, descending too; PyTorch only promises that with ``stable``); NaN
        sorts as the largest value, as in PyTorch."""
        indices = self.argsort(dim, descending, stable=stable)
        if self.ndim == 0:
            return ValuesIndices(self.clone(), indices)
        return ValuesIndices(self.gather(dim, indices), indices)

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False
                ) -> Tensor:
        """Where ``sort``'s values come from (always stable)."""
        del stable  # always stable
        xp = xp_of(self.data)
        if self.ndim == 0:
            normalize_dims(dim, 0)  # 0 or -1
            return Tensor._wrap(xp.zeros((), np.int64))
        (axis,) = normalize_dims(dim, self.ndim)

        def stable_argsort(a: Any) -> Any:  # CuPy's always is stable, and takes no kind
            return np.argsort(a, axis=axis, kind="stable") if xp is np else \
                xp.argsort(a, axis=axis)

        if descending:  # ascending of the reversed, reversed: equal values keep their order
            order = self.shape[axis] - 1 - xp.flip(stable_argsort(xp.flip(self.data, axis)), axis)
        else:
            order = stable_argsort(self.data)
        return Tensor._wrap(order.astype(np.int64, copy=False))

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
             ) -> ValuesIndices:
        """The ``k`` largest (or smallest) values along ``dim`` and their indices, in order
        (also with ``sorted=False``; among equal values the first comes first)."""
        del sorted  # always sorted
        if self.dtype == np.bool_:
            raise RuntimeError("topk does not support bool dtypes")
        (axis,) = normalize_dims(dim, self.ndim) or (0,)
        if not 0 <= k <= (self.shape[axis] if self.ndim else 1):
            raise RuntimeError("selected index k out of range")
        if self.ndim == 0:
            return self.sort()
        values, indices = self.sort(axis, descending=largest)
        keep = (slice(None),) * axis + (slice(0, k),)
        return ValuesIndices(values[keep], indices[keep])

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        """The entries at ``index`` (a vector of integers) along ``dim``; repeated indices
        add their gradients."""
        (axis,) = normalize_dims(dim, self.ndim) or (0,)
        idx = _index_array(index, "index_select")
        if idx.ndim > 1:
            raise IndexError("index_select(): Index is supposed to be a vector")
        size = self.shape[axis] if self.ndim else 1
        if ((idx < 0) | (idx >= size)).any():
            raise IndexError("index out of range in self")
        if self.ndim == 0:
            if idx.size != 1:
                raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                                   f"{idx.size} value(s)")
            return self.reshape(1).index_select(0, index).reshape(())
        return shape.GetItem.apply(self, index=(slice(None),) * axis + (idx.reshape(-1),))

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """A view of ``length`` entries from ``start`` (negative: from the end) along ``dim``."""
        if self.ndim == 0:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        (axis,) = normalize_dims(dim, self.ndim)
        size = self.shape[axis]
        if not -size <= start <= size:
            raise IndexError(f"start out of range (expected to be in range of [{-size}, "
                             f"{size}], but got {start})")
        if start < 0:
            start += size
        if length < 0 or start + length > size:
            raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                               f"({size}).")
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
             ) -> Tensor:
        """Entries shifted cyclically by ``shifts`` along ``dims`` (None: the flattened
        tensor, its shape kept)."""
        if dims is None:
            if not isinstance(shifts, (builtins.int, np.integer)):
                if len(shifts) != 1:
                    raise RuntimeError(f"shifts and dimensions must align. shifts: "
                                       f"{len(shifts)}, dims:0")
                (shifts,) = shifts  # one shift for the flattened tensor, as PyTorch
            return shape.Roll.apply(self, shifts=builtins.int(shifts), axes=None)
        many = isinstance(dims, (tuple, list))
        if self.ndim == 0:
            raise IndexError(f"Dimension specified as {dims} but tensor has no dimensions")
        axes = [normalize_dims(d, self.ndim)[0] for d in (dims if many else (dims,))]
        steps = [builtins.int(n) for n in (shifts if isinstance(shifts, (tuple, list))
                                           else (shifts,))]
        if len(steps) != len(axes):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(steps)}, "
                               f"dims:{len(axes)}")
        return shape.Roll.apply(self, shifts=tuple(steps), axes=tuple(axes))

    def masked_fill(self, mask: Tensor, value: Scalar | Tensor) -> Tensor:
        """``value`` where ``mask`` (bool, broadcast to this tensor's shape) holds, else this
        tensor; the dtype is this tensor's."""
        if mask.dtype != np.bool_:
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with "
                               f"dtype {mask.dtype}")
        if not isinstance(value, Tensor):
            _check_fits(value, self.dtype)
        fill = value.to(self.dtype) if isinstance(value, Tensor) else \
            tensor(value, dtype=self.dtype, device=self.device)
        if fill.ndim:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {fill.ndim} dimension(s).")
        return ew.Where.apply(fill, self, condition=mask.data)

    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle of the last two dims (on and below ``diagonal``), zeros above."""
        return self._triangle(diagonal, lower=True)

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle of the last two dims (on and above ``diagonal``), zeros below."""
        return self._triangle(diagonal, lower=False)

    def _triangle(self, diagonal: int, lower: bool) -> Tensor:
        if self.ndim < 2:
            raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at "
                               "least 2 dimensions")
        xp = xp_of(self.data)
        rows, cols = self.shape[-2:]
        below = xp.tri(rows, cols, diagonal if lower else diagonal - 1, dtype=bool)
        zero = Tensor._wrap(xp.zeros((), self.dtype))
        return ew.Where.apply(self, zero, condition=below if lower else ~below)

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0
              ) -> tuple[Tensor, ...]:
        """Views of consecutive pieces along ``dim``: each ``split_size`` long (the last
        shorter), or as long as each of the listed sections."""
        _need_dims(self, "split")
        (axis,) = normalize_dims(dim, self.ndim)
        length = self.shape[axis]
        if isinstance(split_size_or_sections, (builtins.int, np.integer)):
            size = builtins.int(split_size_or_sections)
            if size <= 0 and length:
                raise RuntimeError(f"split expects split_size be positive, but got {size}")
            sizes = [min(size, length - start) for start in range(0, length, size)] if length \
                else [0]
        else:
            sizes = list(split_size_or_sections)
            if builtins.sum(sizes) != length or any(n < 0 for n in sizes):
                raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                                   f"{length} (input tensor's size at dimension {dim}), but "
                                   f"got split_sizes={sizes}")
        pieces = []
        start = 0
        for n in sizes:
            pieces.append(self[(slice(None),) * axis + (slice(start, start + n),)])
            start += n
        return tuple(pieces)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``split`` into pieces of ``ceil(size / chunks)``: at most ``chunks`` of them,
        fewer where they come out even sooner, as in PyTorch."""
        if chunks <= 0:
            raise RuntimeError("chunk expects `chunks` to be greater than 0, got: "
                               f"{chunks}")
        _need_dims(self, "chunk")
        (axis,) = normalize_dims(dim, self.ndim)
        if self.shape[axis] == 0:  # as many empty pieces as asked for, as PyTorch
            return self.split([0] * chunks, dim)
        return self.split(-(-self.shape[axis] // chunks), dim)

    def repeat(self, *sizes: Any) -> Tensor:
        """The tensor tiled ``sizes[i]`` times along each dim (extra leading sizes add
        dims), as PyTorch's ``repeat`` (numpy's ``tile``)."""
        reps = _shape_args(sizes)
        if not sizes:
            raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
        if len(reps) < self.ndim:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                               "number of dimensions of tensor")
        return shape.Repeat.apply(self, reps=reps)

    def permute(self, *dims: Any) -> Tensor:
        order = _shape_args(dims)
        if sorted(d % max(self.ndim, 1) for d in order) != list(range(self.ndim)):
            raise RuntimeError(f"permute: {order} is not a permutation of {self.ndim} dims")
        return shape.Permute.apply(self, dims=tuple(d % self.ndim for d in order))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        order = list(range(self.ndim))
        a, b = normalize_dims(dim0, self.ndim)[0], normalize_dims(dim1, self.ndim)[0]
        order[a], order[b] = order[b], order[a]
        return self.permute(*order)

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError("t() expects a tensor with <= 2 dimensions")
        return self.T

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        axes = normalize_dims(dim, self.ndim) if self.ndim else ()
        return self.reshape(
            tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        )

    def unsqueeze(self, dim: int) -> Tensor:
        if not -self.ndim - 1 <= dim <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim} out of range for a {self.ndim}-d tensor")
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def expand(self, *sizes: Any) -> Tensor:
        target = _shape_args(sizes)
        lead = len(target) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: {target} has fewer dims than the tensor's {self.shape}")
        full = tuple(
            self.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(target)
        )
        if full == self.shape:
            return self
        return shape.Expand.apply(self, shape=full)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(*other.shape)

    def flip(self, dims: int | Sequence[int]) -> Tensor:
        return shape.Flip.apply(self, axes=normalize_dims(dims, self.ndim))

    # ---- indexing ---------------------------------------------------------------------------
    @staticmethod
    def _index(index: Any) -> Any:
        if isinstance(index, Tensor):
            return index.data
        if isinstance(index, tuple):
            return tuple(i.data if isinstance(i, Tensor) else i for i in index)
        if isinstance(index, list):
            return np.asarray(index)
        return index

    def __getitem__(self, index: Any) -> Tensor:
        parts = index if isinstance(index, tuple) else (index,)
        if any(isinstance(p, slice) and p.step is not None and p.step <= 0 for p in parts):
            raise ValueError("step must be greater than zero (use flip() to reverse)")
        index = self._index(index)
        steps = _integers_first(index)
        if steps is not None:
            return self[steps[0]][steps[1]]
        return shape.GetItem.apply(self, index=index)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value``, in place; a value that needs a gradient passes it on, as in
        PyTorch (``_inplace``: in a graph, the tensor takes the assignment's place)."""
        self._check_no_overlap()
        index = self._index(index)
        steps = _integers_first(index)
        if steps is not None:
            self[steps[0]][steps[1]] = value  # a view, then the assignment into it
            return
        if isinstance(value, Tensor):
            check_same_device((self, value), "setitem")
        graph = self.requires_grad or (isinstance(value, Tensor) and value.requires_grad) or \
            (self._base is not None and self._base.requires_grad)  # a view of a graph's tensor
        if autograd.is_grad_enabled() and graph:
            v = value.to(self.dtype) if isinstance(value, Tensor) else \
                tensor(value, dtype=self.dtype, device=self.device)
            self._inplace(lambda t: _SetItem.apply(t, v, index=index))
            return
        self.data[index] = value.data if isinstance(value, Tensor) else value
        self._bump_version()

    def __iter__(self) -> Iterable[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))


def _integers_first(index: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """PyTorch's order for an index that mixes integers with advanced indices (lists,
    arrays, masks): the integers first, each removing its dim (a view), then the rest on
    what is left. Numpy counts an integer among the advanced indices instead, which moves
    their dims to the front when a slice lies between (``t[0, :, [1, 2]]`` is (3, 2) in
    PyTorch, (2, 3) in numpy). The two steps' indices, or None where numpy's order is
    PyTorch's."""
    parts = index if isinstance(index, tuple) else (index,)

    def integer(part: Any) -> bool:
        if isinstance(part, (builtins.int, np.integer)):
            return not isinstance(part, builtins.bool)
        return hasattr(part, "ndim") and part.ndim == 0 and part.dtype.kind in "iu"

    def advanced(part: Any) -> bool:
        return isinstance(part, list) or (hasattr(part, "ndim") and part.ndim > 0)

    if not (any(integer(p) for p in parts) and any(advanced(p) for p in parts)):
        return None
    first: list[Any] = []
    then: list[Any] = []
    for part in parts:
        if integer(part):
            first.append(builtins.int(part))  # a 0-d array would index a copy, not a view
        elif advanced(part):
            dims = np.ndim(part) if getattr(part, "dtype", None) == np.bool_ else 1
            first.extend([slice(None)] * dims)  # a mask covers as many dims as it has
            then.append(part)
        elif part is Ellipsis:
            first.append(part)
            then.append(part)
        else:  # a slice or None: taken in the first step, kept whole in the second
            first.append(part)
            then.append(slice(None))
    return tuple(first), tuple(then)


def _need_dims(tensor: Tensor, name: str) -> None:
    if tensor.ndim == 0:
        raise RuntimeError(f"{name} expects at least a 1-dimensional tensor")


def _check_fits(value: Scalar, dtype: np.dtype) -> None:
    """Refuse a Python number that ``dtype`` cannot hold, as PyTorch's scalar conversion
    (an unsigned type takes negative integers down to minus its maximum: they wrap; no
    negative float)."""
    if isinstance(value, builtins.bool) or dtype.kind not in "iuf":
        return
    if dtype.kind == "f":
        bad = math.isfinite(value) and abs(value) > builtins.float(np.finfo(dtype).max)
    else:
        info = np.iinfo(dtype)
        if dtype.kind == "i":
            low = builtins.int(info.min)
        elif isinstance(value, builtins.float):
            low = 0  # no negative float into an unsigned type
        else:
            low = -builtins.int(info.max)  # a negative integer wraps
        bad = value != value or abs(value) == math.inf or not low <= value <= info.max
    if bad:
        raise RuntimeError(f"value cannot be converted to type {dtype} without overflow")


def _index_array(index: Tensor, name: str, empty_of_any_dtype: bool = False) -> Any:
    """An index tensor's array, refused unless int32 or int64, as PyTorch's; with
    ``empty_of_any_dtype`` an empty index of any dtype is taken (as int64), as PyTorch's
    gather and scatter do."""
    if index.dtype not in (np.int32, np.int64):
        if empty_of_any_dtype and not index.numel():
            return index.data.astype(np.int64)
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index, got {index.dtype}")
    return index.data


def _along(idx: Any, axis: int) -> tuple[Any, ...]:
    """The advanced index that takes, for each entry of ``idx``, the element at that entry
    along ``axis`` and at the entry's own place along the other axes (gather's, scatter's)."""
    xp = xp_of(idx)
    return tuple(idx if d == axis else
                 xp.arange(n).reshape([-1 if e == d else 1 for e in range(idx.ndim)])
                 for d, n in enumerate(idx.shape))


def _check_in_bounds(idx: Any, axis: int, size: int) -> None:
    bad = idx[(idx < 0) | (idx >= size)]
    if bad.size:
        raise RuntimeError(f"index {builtins.int(bad.reshape(-1)[0])} is out of bounds for "
                           f"dimension {axis} with size {size}")


def _one_dim_at_least(array: Any) -> tuple[int, ...]:
    """The shape, a 0-d array's as (1,): PyTorch's index ops count a 0-d tensor as 1-d."""
    return tuple(array.shape) if array.ndim else (1,)


def _reduced(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """A reduction's axes: ``dim`` as ``normalize_dims``, where None or an empty sequence
    means every dim, as in PyTorch."""
    return normalize_dims(None if isinstance(dim, (tuple, list)) and not dim else dim, ndim)


def _numpy_floats(data: Any) -> np.dtype:
    """The widest numpy floating scalar type in nested lists (float16 where there is none:
    it widens nothing)."""
    widest = np.dtype(np.float16)
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, np.floating):
            widest = np.promote_types(widest, item.dtype)
    return widest


def _category(dtype: np.dtype) -> int:
    """PyTorch's promotion categories: bool < integer < floating < complex."""
    return {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}[dtype.kind]


class _VersionBox:
    """How many times an array was written in place, shared by the tensors that hold it
    (a tensor, its views and detached aliases); which of them are views; and whether a tensor
    holding it has joined a graph in place since (then its views taken before, outside the
    graph, must not be used: they would bring its new values without their gradient)."""

    __slots__ = ("version", "joined_graph", "_views")

    def __init__(self, version: int = 0) -> None:
        self.version = version
        self.joined_graph = False
        self._views: weakref.WeakValueDictionary[int, Tensor] | None = None

    def add_view(self, view: Tensor) -> None:
        if self._views is None:
            self._views = weakref.WeakValueDictionary()
        self._views[id(view)] = view

    def is_view(self, tensor: Tensor) -> bool:
        return self._views is not None and self._views.get(id(tensor)) is tensor


class _SetItem(autograd.Function):
    """``a`` with ``a[index] = v``: the gradient of the overwritten part goes to ``v``."""

    reads_inputs = False

    def forward(self, a: Any, v: Any, index: Any = None) -> Any:
        out = a.copy()
        out[index] = v
        self.index, self.shape = index, v.shape
        return out

    def backward(self, gy: Any) -> tuple[Any, Any]:
        xp = xp_of(gy)
        ga = xp.array(gy, copy=True)  # arrays, also for a 0-d gradient (a numpy scalar)
        gv = xp.asarray(ga[self.index]).copy()
        ga[self.index] = 0
        return ga, unbroadcast(gv, self.shape)


class _ViewAt(autograd.Function):
    """The existing ``view`` of ``a``'s elements at ``index``: how a view an in-place op
    changed stays a view of its moved base. The gradient goes back to those elements."""

    reads_inputs = False
    views_input = True

    def forward(self, a: Any, view: Any = None, index: Any = None) -> Any:
        self.shape, self.index = a.shape, index
        return view

    def backward(self, gy: Any) -> Any:
        grad = xp_of(gy).zeros(self.shape, dtype=gy.dtype)
        grad[self.index] = gy.reshape(grad[self.index].shape)  # a 0-d base's one element
        return grad


def _index_in(view: Any, base: Any) -> tuple[Any, ...]:
    """Where the elements of ``view``, an array viewing ``base``'s memory, lie in ``base``:
    an index (one integer array per axis, of ``view``'s shape) for ``base[index]``."""
    xp = xp_of(view)

    def offsets(array: Any) -> np.ndarray:  # each element's address, in items
        start = array.data.ptr if xp is not np else array.__array_interface__["data"][0]
        grid = np.zeros(array.shape, dtype=np.int64)
        for axis, (size, stride) in enumerate(zip(array.shape, array.strides, strict=True)):
            shape = [1] * array.ndim
            shape[axis] = size
            grid += (np.arange(size) * (stride // array.itemsize)).reshape(shape)
        return grid + start // array.itemsize

    if base.ndim == 0:
        return ()
    found = offsets(view)  # distinct: _check_no_overlap refused a view sharing memory
    own = offsets(base).ravel()
    order = np.argsort(own, kind="stable")
    flat = order[np.searchsorted(own[order], found)]
    return tuple(xp.asarray(i) for i in np.unravel_index(flat, base.shape))


class _Fill(autograd.Function):
    """A tensor of ``a``'s shape and dtype filled with ``value``: no gradient reaches ``a``."""

    reads_inputs = False

    def forward(self, a: Any, value: Scalar = 0) -> Any:
        return xp_of(a).full(a.shape, value, dtype=a.dtype)

    def backward(self, gy: Any) -> Any:
        return xp_of(gy).zeros_like(gy)


class _Clone(autograd.Function):
    reads_inputs = False

    def forward(self, a: Any, order: str = "C") -> Any:
        return a.copy(order=order)

    def backward(self, gy: Any) -> Any:
        return gy


class _ToDevice(autograd.Function):
    reads_inputs = False

    def forward(self, a: Any, device: Device = None) -> Any:  # type: ignore[assignment]
        self.source = device_of(a)
        return to_device(a, device)

    def backward(self, gy: Any) -> Any:
        return to_device(gy, self.source)


def tensor(data: Any, dtype: DTypeLike = None, device: DeviceLike = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, numbers or arrays).

    Python floats give the default dtype (float32), Python ints int64, bools bool; numpy
    arrays and scalars keep their dtype (in a list, the widest of them and the default), as
    in PyTorch.
    """
    if isinstance(data, Tensor):
        data = data.data
    elif not hasattr(data, "dtype"):  # Python numbers and (nested) lists
        widest = _numpy_floats(data)
        data = np.asarray(data)
        if data.dtype == np.float64 and dtype is None:  # else straight to dtype: no rounding
            # Python floats are the default dtype; numpy floats in a list keep theirs
            data = data.astype(np.promote_types(get_default_dtype(), widest))
    target = as_device(device) if device is not None else device_of(data)
    array = array_module(target).array(
        to_device(data, target), dtype=None if dtype is None else as_dtype(dtype), copy=True
    )
    return Tensor(array, requires_grad=requires_grad)

