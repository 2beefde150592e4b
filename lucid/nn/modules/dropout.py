"""``Dropout``, ``Dropout1d`` and ``Dropout2d``: random zeroing during training, the
identity in evaluation."""

from __future__ import annotations

from lucid.nn.functional.activation import dropout, dropout1d, dropout2d
from lucid.nn.modules.module import Module
from lucid.tensor import Tensor


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)``; in evaluation mode return the input unchanged.

    The mask is drawn from lucid's seeded generator (``lucid.manual_seed``). ``inplace`` is
    accepted for PyTorch compatibility and ignored (the result is always a new tensor).

    Args:
        p: probability of zeroing an element. Default: 0.5.
        inplace: ignored. Default: False.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> drop = nn.Dropout(p=0.2)
        >>> drop(lucid.randn(20, 16)).shape
        (20, 16)
        >>> x = lucid.randn(3)
        >>> drop.eval()(x) is x
        True
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """In training, zero each whole channel ``input[n, c, :]`` with probability ``p`` and
    scale the others by ``1 / (1 - p)``; in evaluation mode return the input unchanged. As
    ``torch.nn.Dropout1d``, for features whose neighbours along L are correlated.

    Args:
        p: probability of zeroing a channel. Default: 0.5.
        inplace: ignored (the result is always a new tensor). Default: False.

    Shape:
        - Input: (N, C, L) or (C, L). Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> y = nn.Dropout1d(p=0.5)(lucid.ones(4, 8, 5))
        >>> bool(((y == 0).all(dim=2) | (y == 2).all(dim=2)).all())
        True
    """

    def forward(self, input: Tensor) -> Tensor:
        return dropout1d(input, self.p, self.training)


class Dropout2d(Dropout):
    """In training, zero each whole channel ``input[n, c]`` with probability ``p`` and scale
    the others by ``1 / (1 - p)``; in evaluation mode return the input unchanged. As
    ``torch.nn.Dropout2d``, including its reading of a 3-D input as (N, C, L), with its
    warning (see :func:`lucid.nn.functional.dropout2d`).

    Args:
        p: probability of zeroing a channel. Default: 0.5.
        inplace: ignored (the result is always a new tensor). Default: False.

    Shape:
        - Input: (N, C, H, W). Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> y = nn.Dropout2d(p=0.5)(lucid.ones(4, 8, 3, 3))
        >>> bool(((y == 0).all(dim=(2, 3)) | (y == 2).all(dim=(2, 3))).all())
        True
    """

    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training)
