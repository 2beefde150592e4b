"""Activation functions and dropout, as ``torch.nn.functional``'s."""

from __future__ import annotations

import numpy as np

from lucid.creation import rand_like
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
