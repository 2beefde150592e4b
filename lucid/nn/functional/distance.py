"""Distances between vectors, as ``torch.nn.functional``'s: ``cosine_similarity`` and
``pairwise_distance``."""

from __future__ import annotations

from typing import Any

import numpy as np

from lucid.autograd import Function
from lucid.nn.functional.loss import _broadcast_shape
from lucid.ops._util import xp_of
from lucid.tensor import Tensor


class _AtLeast(Function):
    """``max(a, low)`` whose gradient passes as if nothing were clamped: PyTorch's
    ``cosine_similarity`` clamps the norms in place under ``no_grad``, so its gradient
    through a norm below ``eps`` is the unclamped norm's."""

    reads_inputs = False

    def forward(self, a: Any, low: float = 0.0) -> Any:
        return xp_of(a).maximum(a, a.dtype.type(low))

    def backward(self, gy: Any) -> Any:
        return gy


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim``, as PyTorch 2
    computes it: each vector divided by its norm clamped below at ``eps``, then the dot
    product::

        similarity = sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps), dim)

    so it stays in [-1, 1], a zero vector gives 0, and nothing overflows from multiplying
    two norms. ``x1`` and ``x2`` broadcast (``dim`` indexes the common shape); an integer
    one takes the other's floating dtype, two integer ones are refused. The gradient passes
    through a norm below ``eps`` as if unclamped, as PyTorch's.

    Shape:
        - x1: (*1, D, *2) and x2 broadcastable to a common shape, D at ``dim``. Output:
          the common shape without ``dim``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> a = lucid.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> b = lucid.tensor([[0.0, 2.0], [3.0, 3.0]])
        >>> [round(v, 4) for v in F.cosine_similarity(a, b).tolist()]
        [0.0, 1.0]
    """
    floats = [t.dtype for t in (x1, x2) if t.dtype.kind == "f"]
    if not floats:
        common = np.result_type(x1.dtype, x2.dtype)
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{common}")
    x1, x2 = (t if t.dtype.kind == "f" else t.to(np.result_type(*floats)) for t in (x1, x2))
    shape = _broadcast_shape(x1.shape, x2.shape)
    x1, x2 = (t if t.shape == shape else t.expand(*shape) for t in (x1, x2))
    n1 = _AtLeast.apply(x1.norm(2, dim, keepdim=True), low=eps)
    n2 = _AtLeast.apply(x2.norm(2, dim, keepdim=True), low=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The ``p``-norm distance between the vectors of ``x1`` and ``x2`` along their last
    dimension, with ``eps`` added to the difference (as PyTorch, so that equal vectors have a
    gradient)::

        distance = ||x1 - x2 + eps||_p

    ``x1`` and ``x2`` broadcast; the norm is over the last dimension of the one with more
    dimensions. ``p`` takes the orders of ``Tensor.norm`` (an order 0 count has no
    gradient: PyTorch's has a zero one).

    Shape:
        - x1: (N, D) or (D). x2: broadcastable to it. Output: (N) or (), or (N, 1) and
          (1) with ``keepdim``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> a, b = lucid.tensor([[0.0, 0.0], [1.0, 1.0]]), lucid.tensor([3.0, 4.0])
        >>> [round(v, 4) for v in F.pairwise_distance(a, b, eps=0.0).tolist()]
        [5.0, 3.6056]
    """
    _broadcast_shape(x1.shape, x2.shape)
    dim = max(x1.ndim, x2.ndim) - 1
    return (x1 - x2 + eps).norm(p, dim, keepdim)
