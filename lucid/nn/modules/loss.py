"""Loss layers: ``MSELoss``, ``L1Loss``, ``NLLLoss`` and ``CrossEntropyLoss``, each the
``lucid.nn.functional`` loss of the same name with its options kept."""

from __future__ import annotations

from lucid.nn.functional import loss as F
from lucid.nn.modules.module import Module
from lucid.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction


class MSELoss(_Loss):
    """Squared error, averaged (``reduction="mean"``), summed or kept (``"none"``).

    Shape:
        - Input and target: the same shape. Output: a scalar (or the input's shape).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.MSELoss()(lucid.tensor([1.0, 2.0]), lucid.tensor([1.0, 4.0])).item()
        2.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Absolute error, averaged (``reduction="mean"``), summed or kept (``"none"``).

    Shape:
        - Input and target: the same shape. Output: a scalar (or the input's shape).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.L1Loss()(lucid.tensor([1.0, 2.0]), lucid.tensor([1.0, 4.0])).item()
        1.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index


class NLLLoss(_WeightedLoss):
    """The negative log-likelihood of target classes from log-probabilities
    (``functional.nll_loss``); ``weight`` per class (a buffer), ``ignore_index``.

    Shape:
        - Input: (N, C) or (N, C, d1, ...) or (C,). Target: (N) or (N, d1, ...) or ().

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.NLLLoss()(lucid.tensor([[-0.5, -1.0]]), lucid.tensor([1])).item()
        1.0
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy from logits to class indices or probabilities
    (``functional.cross_entropy``); ``weight`` per class (a buffer), ``ignore_index``,
    ``label_smoothing``.

    Shape:
        - Input: (N, C) or (N, C, d1, ...) or (C,). Target: (N) or (N, d1, ...) or () of
          class indices, or the input's shape of probabilities.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> loss = nn.CrossEntropyLoss(label_smoothing=0.1)
        >>> round(loss(lucid.zeros(3, 4), lucid.tensor([0, 1, 3])).item(), 4)
        1.3863
    """

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, ignore_index, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)
