"""``Flatten`` and ``Unflatten``: dims merged into one, and one split into several."""

from __future__ import annotations

from collections.abc import Sequence

from lucid.nn.modules.module import Module
from lucid.ops._util import normalize_dims
from lucid.tensor import Tensor


class Flatten(Module):
    """Dims ``start_dim`` to ``end_dim`` merged into one: between convolutions and a
    ``Linear``.

    Shape:
        - Input: (*, S_start, ..., S_end, *). Output: (*, S_start * ... * S_end, *).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Flatten()(lucid.zeros(32, 1, 5, 5)).shape
        (32, 25)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Dim ``dim`` split into ``unflattened_size`` (one entry may be -1).

    Shape:
        - Input: (*, S_dim, *). Output: (*, U_1, ..., U_n, *), U_1 * ... * U_n = S_dim.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Unflatten(1, (2, 5))(lucid.zeros(3, 10)).shape
        (3, 2, 5)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        (dim,) = normalize_dims(self.dim, input.ndim)
        return input.reshape(*input.shape[:dim], *self.unflattened_size,
                             *input.shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
