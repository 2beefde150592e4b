"""Free-function forms of tensor ops (``lucid.exp(x)``, ``lucid.cat([a, b])``, ...)."""

from __future__ import annotations

import builtins
import collections
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from lucid.dtypes import DTypeLike
from lucid.ops import elementwise as ew
from lucid.ops import linalg, shape
from lucid.ops._util import normalize_dims
from lucid.tensor import Tensor, check_same_device, tensor


def _as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return tensor(x, device=None if like is None else like.device,
                  dtype=like.dtype if like is not None and like.dtype.kind == "f" else None)


def add(input: Tensor, other: Any, alpha: float = 1) -> Tensor:
    return input.add(other, alpha=alpha)


def sub(input: Tensor, other: Any, alpha: float = 1) -> Tensor:
    return input.sub(other, alpha=alpha)


def mul(input: Tensor, other: Any) -> Tensor:
    return input.mul(other)


def div(input: Tensor, other: Any) -> Tensor:
    return input.div(other)


def pow(input: Tensor, exponent: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    return input.pow(exponent)


def neg(input: Tensor) -> Tensor:
    return input.neg()


def exp(input: Tensor) -> Tensor:
    return input.exp()


def erf(input: Tensor) -> Tensor:
    return input.erf()


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return input.softmax(dim, dtype)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return input.log_softmax(dim, dtype)


def log(input: Tensor) -> Tensor:
    return input.log()


def sqrt(input: Tensor) -> Tensor:
    return input.sqrt()


def reciprocal(input: Tensor) -> Tensor:
    return input.reciprocal()


def rsqrt(input: Tensor) -> Tensor:
    return input.rsqrt()


def sin(input: Tensor) -> Tensor:
    return input.sin()


def cos(input: Tensor) -> Tensor:
    return input.cos()


def floor(input: Tensor) -> Tensor:
    return input.floor()


def ceil(input: Tensor) -> Tensor:
    return input.ceil()


def trunc(input: Tensor) -> Tensor:
    return input.trunc()


def round(input: Tensor, decimals: int | None = None) -> Tensor:  # noqa: A001 - PyTorch's name
    return input.round(decimals)


def sign(input: Tensor) -> Tensor:
    return input.sign()


def isnan(input: Tensor) -> Tensor:
    return input.isnan()


def isinf(input: Tensor) -> Tensor:
    return input.isinf()


def isfinite(input: Tensor) -> Tensor:
    return input.isfinite()


def abs(input: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    return input.abs()


def clamp(input: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    return input.clamp(min, max)


clip = clamp


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return input.maximum(other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return input.minimum(other)


def where(condition: Tensor, input: Any, other: Any) -> Tensor:
    """``input`` where ``condition`` holds, else ``other``; differentiable in both. The two
    are promoted as in arithmetic (PyTorch's rules: a Python float or a 0-d tensor of the
    same kind does not widen a tensor)."""
    if isinstance(input, Tensor):
        a, b = input._operand(other)
    elif isinstance(other, Tensor):
        b, a = other._operand(input)
    else:
        a, b = _as_tensor(input, None), _as_tensor(other, None)
    if a.dtype != b.dtype:
        common = np.result_type(a.dtype, b.dtype)
        a, b = a.to(common), b.to(common)
    cond = condition.data if isinstance(condition, Tensor) else condition
    return ew.Where.apply(a, b, condition=cond)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return input @ other


def einsum(equation: str, *operands: Tensor | Sequence[Tensor]) -> Tensor:
    """Sums of products of the operands' elements, their axes named by the letters of
    ``equation`` as in PyTorch (and NumPy): ``"ij,jk->ik"`` a matrix product, ``"ii->i"`` a
    diagonal, ``"bij->bji"`` a transpose; ``...`` stands for the same broadcast axes in each
    operand; without ``->`` the output is the letters used once, in alphabetical order,
    after the ellipsis' axes. The operands may also come as one list. Not supported: the
    sublist form (``einsum(a, [0, 1], b, [1, 2])``). A single integer or bool operand that
    is summed over comes out int64, as its ``sum()`` (PyTorch's too).

    Example::

        >>> import lucid
        >>> a, b = lucid.ones(2, 3), lucid.ones(3, 4)
        >>> lucid.einsum("ij,jk->ik", a, b).shape
        (2, 4)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = list(operands)
    if not tensors or not builtins.all(isinstance(t, Tensor) for t in tensors):
        raise TypeError("einsum(): expected an equation and tensors")
    check_same_device(tensors, "einsum")
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError(f"einsum(): expected scalar type {tensors[0].dtype} but found "
                           f"{next(t.dtype for t in tensors if t.dtype != tensors[0].dtype)}")
    explicit = _explicit_einsum(equation, tensors)
    inputs, output = explicit.split("->")
    if tensors[0].dtype.kind in "biu" and set(inputs) - set(output) - {","}:  # a sum
        if len(tensors) == 1:  # PyTorch sums one integer operand as its sum(): into int64
            tensors = [tensors[0].to(np.int64)]
        elif tensors[0].dtype.kind == "b":
            raise RuntimeError("einsum(): bool operands cannot be multiplied and summed")
    return linalg.Einsum.apply(*tensors, equation=explicit)


def _explicit_einsum(equation: str, tensors: list[Tensor]) -> str:
    """``equation`` with its output spelled out and each ``...`` replaced by letters of its
    own (the same letter for the same broadcast axis in every operand), checked against the
    operands' dims."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(tensors):
        raise RuntimeError(f"einsum(): {len(terms)} operands in the equation ('{equation}') but "
                           f"{len(tensors)} tensors given")
    used = set(equation) - set(".,->")
    if not builtins.all(c.isascii() and c.isalpha() for c in used):
        raise RuntimeError(f"einsum(): invalid subscript in '{equation}': letters a-z and A-Z "
                           "only")
    spare = [c for c in string.ascii_letters if c not in used]
    widest = 0
    for term, t in zip(terms, tensors):
        if term.count("...") > 1 or term.replace("...", "").count("."):
            raise RuntimeError(f"einsum(): more than one ellipsis ('...') in '{term}'")
        named = len(term.replace("...", ""))
        if "..." in term:
            widest = builtins.max(widest, t.ndim - named)
        if ("..." in term and named > t.ndim) or ("..." not in term and named != t.ndim):
            raise RuntimeError(f"einsum(): the subscripts '{term}' do not match the "
                               f"{t.ndim} dims of the operand {t.shape}")
    ellipsis = "".join(spare[:widest])
    terms = [term.replace("...", ellipsis[widest - (t.ndim - len(term) + 3):])
             if "..." in term else term for term, t in zip(terms, tensors)]
    sizes: dict[str, int] = {}  # each letter's size other than 1: one per letter
    for k, (term, t) in enumerate(zip(terms, tensors)):
        for letter, n in zip(term, t.shape):
            if n != 1 and sizes.setdefault(letter, n) != n:
                raise RuntimeError(f"einsum(): subscript {letter} has size {n} for operand {k} "
                                   f"which does not broadcast with previously seen size "
                                   f"{sizes[letter]}")
    if not arrow:
        counts = collections.Counter("".join(inputs.split(",")).replace(".", ""))
        output = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:  # an ellipsis left out of the output is summed over, as PyTorch's
        output = output.replace("...", ellipsis)
        if len(set(output)) != len(output) or not set(output) <= set("".join(terms)):
            raise RuntimeError(f"einsum(): output subscripts '{output}' must each appear in "
                               "an operand, once")
    return ",".join(terms) + "->" + output


def sum(input: Tensor, dim: Any = None, keepdim: bool = False,  # noqa: A001
        dtype: DTypeLike = None) -> Tensor:
    return input.sum(dim, keepdim, dtype=dtype)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False,
         dtype: DTypeLike = None) -> Tensor:
    return input.mean(dim, keepdim, dtype=dtype)


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: int | None = None) -> Tensor:
    return input.var(dim, unbiased, keepdim, correction=correction)


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: int | None = None) -> Tensor:
    return input.std(dim, unbiased, keepdim, correction=correction)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False,
         dtype: DTypeLike = None) -> Tensor:
    return input.prod(dim, keepdim, dtype=dtype)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return input.all(dim, keepdim)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return input.any(dim, keepdim)


def cumsum(input: Tensor, dim: int, dtype: DTypeLike = None) -> Tensor:
    return input.cumsum(dim, dtype=dtype)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
         ) -> Any:
    return input.sort(dim, descending, stable=stable)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
            ) -> Tensor:
    return input.argsort(dim, descending, stable=stable)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True  # noqa: A002
         ) -> Any:
    return input.topk(k, dim, largest, sorted)


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    return input.gather(dim, index)


def scatter(input: Tensor, dim: int, index: Tensor, src: Tensor | float, *,
            reduce: str | None = None) -> Tensor:
    return input.scatter(dim, index, src, reduce=reduce)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return input.scatter_add(dim, index, src)


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    return input.scatter_reduce(dim, index, src, reduce, include_self=include_self)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return input.logsumexp(dim, keepdim)


def norm(input: Tensor, p: float | str = "fro", dim: Any = None, keepdim: bool = False
         ) -> Tensor:
    return input.norm(p, dim, keepdim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return input.max(dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    return input.min(dim, keepdim)


def amax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return input.amax(dim, keepdim)


def amin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    return input.amin(dim, keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return input.argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return input.argmin(dim, keepdim)


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    return input.reshape(shape)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    return input.permute(*dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return input.transpose(dim0, dim1)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    return input.flatten(start_dim, end_dim)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    return input.squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    return input.unsqueeze(dim)


def flip(input: Tensor, dims: Sequence[int]) -> Tensor:
    return input.flip(dims)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    return input.index_select(dim, index)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    return input.narrow(dim, start, length)


def roll(input: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
         ) -> Tensor:
    return input.roll(shifts, dims)


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    return input.masked_fill(mask, value)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    return input.tril(diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    return input.triu(diagonal)


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
          ) -> tuple[Tensor, ...]:
    return tensor.split(split_size_or_sections, dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    return input.chunk(chunks, dim)


def _check_join(tensors: Sequence[Tensor], name: str) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty list of tensors")
    check_same_device(tensors, name)
    # PyTorch's promotion: a floating tensor decides (the widest float); else the widest type
    floats = [t.dtype for t in tensors if t.dtype.kind == "f"]
    dtype = np.result_type(*(floats or [t.dtype for t in tensors]))
    return [t if t.dtype == dtype else t.to(dtype) for t in tensors]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = _check_join(tensors, "cat")
    (axis,) = normalize_dims(dim, tensors[0].ndim)
    return shape.Cat.apply(*tensors, axis=axis)


concat = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along a new dimension."""
    tensors = _check_join(tensors, "stack")
    (axis,) = normalize_dims(dim, tensors[0].ndim + 1)
    return shape.Stack.apply(*tensors, axis=axis)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` is (left, right, top, bottom, ...).

    Modes: ``constant`` (with ``value``), ``reflect``, ``replicate``, ``circular``. Negative
    widths crop, as in PyTorch (``circular`` wraps the cropped input, ``reflect`` and
    ``replicate`` pad the whole input and then crop).
    """
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected an even number of widths for at most {input.ndim} dims, "
                         f"got {tuple(pad)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: unknown mode {mode!r}; expected constant, reflect, replicate "
                         "or circular")
    for i, width in enumerate(pad):
        size = input.shape[input.ndim - 1 - i // 2]
        if mode == "reflect" and width >= size:
            raise ValueError(f"pad: reflection padding {width} must be smaller than the "
                             f"padded dimension ({size})")
        other = pad[i ^ 1]  # the same dim's other side
        kept = size + (width if width < 0 else 0) + (other if other < 0 else 0)  # after crops
        if mode == "circular" and width > kept:
            raise ValueError(f"pad: circular padding {width} wraps more than once around the "
                             f"padded dimension ({kept} after cropping)")
    return shape.Pad.apply(input, pad=tuple(int(w) for w in pad), mode=mode, value=value)

