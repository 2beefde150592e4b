"""Loss layers: ``MSELoss``, ``L1Loss``, ``NLLLoss``, ``CrossEntropyLoss``, ``BCELoss``,
``BCEWithLogitsLoss``, ``SmoothL1Loss``, ``HuberLoss`` and ``KLDivLoss``, each the
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


class BCELoss(_Loss):
    """Binary cross-entropy between probabilities (``functional.binary_cross_entropy``):
    ``-weight * (target * log(input) + (1 - target) * log(1 - input))``, logs clamped at
    -100; ``weight`` (a buffer) broadcasts to the input. ``size_average`` and ``reduce`` are
    PyTorch's deprecated spellings of ``reduction``.

    Shape:
        - Input: (*) in [0, 1]. Target: the input's shape, in [0, 1]. Output: a scalar, or
          the input's shape with ``reduction="none"``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> loss = nn.BCELoss()
        >>> round(loss(lucid.tensor([0.5, 0.9]), lucid.tensor([1.0, 0.0])).item(), 4)
        1.4979
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(F._legacy_reduction(size_average, reduce, reduction))
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of ``sigmoid(input)``, computed from the logits so that it is
    stable for any of them (``functional.binary_cross_entropy_with_logits``); ``weight``
    and ``pos_weight`` (buffers) broadcast to the input, ``pos_weight`` scaling the
    positive term. ``size_average`` and ``reduce`` are PyTorch's deprecated spellings of
    ``reduction``.

    Shape:
        - Input: (*) logits. Target: the input's shape. Output: a scalar, or the input's
          shape with ``reduction="none"``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> loss = nn.BCEWithLogitsLoss(pos_weight=lucid.tensor([2.0]))
        >>> round(loss(lucid.tensor([0.0, 0.0]), lucid.tensor([1.0, 0.0])).item(), 4)
        1.0397
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(F._legacy_reduction(size_average, reduce, reduction))
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss (``functional.smooth_l1_loss``): ``0.5 * d ** 2 / beta`` where ``|d| <
    beta``, else ``|d| - 0.5 * beta``, for ``d = input - target``. ``size_average`` and
    ``reduce`` are PyTorch's deprecated spellings of ``reduction``.

    Shape:
        - Input: (*). Target: the input's shape. Output: a scalar, or the input's shape
          with ``reduction="none"``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.SmoothL1Loss(beta=0.5)(lucid.tensor([0.25, 2.0]), lucid.zeros(2)).item()
        0.90625
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(F._legacy_reduction(size_average, reduce, reduction))
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss (``functional.huber_loss``): ``0.5 * d ** 2`` where ``|d| < delta``, else
    ``delta * (|d| - 0.5 * delta)``, for ``d = input - target``.

    Shape:
        - Input: (*). Target: the input's shape. Output: a scalar, or the input's shape
          with ``reduction="none"``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.HuberLoss(delta=2.0)(lucid.tensor([1.0, 4.0]), lucid.zeros(2)).item()
        3.25
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """The Kullback-Leibler divergence of a target distribution from log-probabilities
    (``functional.kl_div``): pointwise ``target * (log(target) - input)``, or with
    ``log_target`` ``exp(target) * (target - input)``. ``reduction="batchmean"`` gives the
    divergence; the default ``"mean"`` averages over every element, with PyTorch's warning.
    ``size_average`` and ``reduce`` are PyTorch's deprecated spellings of ``reduction``.

    Shape:
        - Input: (*) log-probabilities. Target: the input's shape. Output: a scalar, or the
          input's shape with ``reduction="none"``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> loss = nn.KLDivLoss(reduction="batchmean", log_target=True)
        >>> logp = lucid.tensor([[0.5, 0.5]]).log()
        >>> loss(logp, logp).item()
        0.0
    """

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(F._legacy_reduction(size_average, reduce, reduction))
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
