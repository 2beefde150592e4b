"""Distance layers: ``CosineSimilarity`` and ``PairwiseDistance``, the ``lucid.nn.functional``
functions of the same name with their options kept."""

from __future__ import annotations

from lucid.nn.functional import distance as F
from lucid.nn.modules.module import Module
from lucid.tensor import Tensor


class CosineSimilarity(Module):
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim``
    (``functional.cosine_similarity``): ``sum(x1 / max(||x1||, eps) * x2 / max(||x2||,
    eps), dim)``.

    Shape:
        - x1: (*1, D, *2), D at ``dim``. x2: broadcastable to x1. Output: the common shape
          without ``dim``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> cos = nn.CosineSimilarity(dim=0)
        >>> round(cos(lucid.tensor([1.0, 1.0]), lucid.tensor([1.0, 0.0])).item(), 4)
        0.7071
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The ``p``-norm distance between the vectors of ``x1`` and ``x2`` along the last
    dimension (``functional.pairwise_distance``): ``||x1 - x2 + eps||_p``. The order is
    kept as ``norm``, as PyTorch's.

    Shape:
        - x1: (N, D) or (D). x2: broadcastable to it. Output: (N) or (), or (N, 1) and (1)
          with ``keepdim``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> dist = nn.PairwiseDistance(p=1.0, eps=0.0)
        >>> dist(lucid.tensor([[1.0, 2.0]]), lucid.tensor([[4.0, 6.0]])).tolist()
        [7.0]
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
