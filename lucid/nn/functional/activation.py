"""Activation functions and dropout, as ``torch.nn.functional``'s."""

from __future__ import annotations

import math
import warnings

import numpy as np

from lucid.creation import rand_like
from lucid.dtypes import DTypeLike
from lucid.ops import elementwise as ew
from lucid.tensor import Tensor


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``. ``inplace`` is accepted for PyTorch compatibility and ignored."""
    return ew.Relu.apply(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``; no gradient at 0 and 6, as in PyTorch. ``inplace`` is ignored."""
    return hardtanh(input, 0.0, 6.0)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]``; the gradient passes strictly inside only (none
    at the bounds), as in PyTorch. Integer input stays integer, its bounds truncated to
    integers, as in PyTorch. ``inplace`` is ignored."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if np.issubdtype(input.dtype, np.integer):
        min_val, max_val = int(min_val), int(max_val)
        if np.issubdtype(input.dtype, np.unsignedinteger) and min(min_val, max_val) < 0:
            raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    return ew.Clamp.apply(input, min=min_val, max=max_val, edges=False)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere. ``inplace`` is ignored."""
    return ew.LeakyRelu.apply(input, negative_slope=negative_slope)


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)``, Phi the standard normal's distribution function: ``x / 2 * (1 +
    erf(x / sqrt(2)))``, or with ``approximate="tanh"`` Hendrycks and Gimpel's ``x / 2 * (1 +
    tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> [round(v, 4) for v in F.gelu(lucid.tensor([-1.0, 0.0, 1.0])).tolist()]
        [-0.1587, 0.0, 0.8413]
    """
    if approximate == "none":
        return input * ((input * (1 / math.sqrt(2))).erf() + 1) * 0.5
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * (inner.tanh() + 1) * 0.5
    raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (the swish). ``inplace`` is ignored."""
    return input * input.sigmoid()


def _softmax_dim(dim: int | None, ndim: int, name: str) -> int:
    if dim is None:  # PyTorch's legacy choice, with its warning
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      f"call to include dim=X as an argument.", stacklevel=3)
        return 0 if ndim in (0, 1, 3) else 1
    return dim


def softmax(input: Tensor, dim: int | None = None, dtype: DTypeLike = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (computed from the largest value, so nothing
    overflows), in ``dtype`` when given.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.softmax(lucid.tensor([0.0, 0.0, 0.0, 0.0]), dim=0).tolist()
        [0.25, 0.25, 0.25, 0.25]
    """
    x = input if dtype is None else input.to(dtype)
    dim = _softmax_dim(dim, x.ndim, "softmax")

    def compute(x: Tensor) -> Tensor:
        if not x.numel():
            return x.exp()
        peak = x.detach().amax(dim, keepdim=True) if x.ndim else x.detach()
        exp = (x - peak).exp()
        return exp / exp.sum(dim, keepdim=True)

    return x._in_float32(compute)  # float16 in float32, as PyTorch's


def log_softmax(input: Tensor, dim: int | None = None, dtype: DTypeLike = None) -> Tensor:
    """``x - log(sum(exp(x)))`` along ``dim``, in ``dtype`` when given: the log of
    ``softmax``, without its rounding to 0 for very unlikely classes.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> round(F.log_softmax(lucid.tensor([0.0, 0.0]), dim=0)[0].item(), 4)
        -0.6931
    """
    x = input if dtype is None else input.to(dtype)
    dim = _softmax_dim(dim, x.ndim, "log_softmax")
    return x._in_float32(lambda x: x - x.logsumexp(dim, keepdim=True) if x.numel() else x * 1)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The mask comes from lucid's seeded generator (``lucid.manual_seed``). Outside training,
    or with ``p == 0``, the input is returned as it is. ``inplace`` is ignored.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> x = lucid.ones(1000)
        >>> y = F.dropout(x, p=0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = rand_like(input).data >= input.dtype.type(p)
    # one multiplication by a constant mask: the mask doubles as the gradient's mask
    mask = Tensor._wrap(keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p)))
    return input * mask
