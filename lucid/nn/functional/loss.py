"""Losses, as ``torch.nn.functional``'s: regression (squared and absolute error) and
classification (negative log-likelihood, cross-entropy)."""

from __future__ import annotations

import warnings

import numpy as np

import lucid
from lucid.nn.functional.activation import log_softmax
from lucid.tensor import Tensor


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction; use mean, sum or none")


def _check_shapes(input: Tensor, target: Tensor, name: str) -> None:
    if input.shape != target.shape:
        # as PyTorch: broadcast, but say so, since a broadcast loss is usually a bug
        warnings.warn(
            f"{name}: using a target size {target.shape} that is different to the input size "
            f"{input.shape}; this will likely lead to incorrect results due to broadcasting",
            stacklevel=3,
        )


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target) ** 2``, averaged (``mean``), summed or kept (``none``).

    Shapes that differ are broadcast, with a warning, as in PyTorch.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.mse_loss(lucid.tensor([1.0, 2.0]), lucid.tensor([1.0, 4.0])).item()
        2.0
    """
    _check_shapes(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Absolute error ``|input - target|``, averaged (``mean``), summed or kept (``none``).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.l1_loss(lucid.tensor([1.0, 2.0]), lucid.tensor([1.0, 4.0]), reduction="sum").item()
        2.0
    """
    _check_shapes(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def _class_dim(input: Tensor) -> int:
    """Where the classes are: dim 1 of (N, C, *), dim 0 of an unbatched (C,)."""
    if input.ndim == 0:
        raise ValueError("Expected input to have at least 1 dimension (the classes)")
    return 0 if input.ndim == 1 else 1


def _check_targets(input: Tensor, target: Tensor, ignore_index: int) -> Tensor:
    """Class-index targets: integers, of the input's shape less its class dim, each a class
    or ``ignore_index``. Returns where they are not ignored."""
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    dim = _class_dim(input)
    expected = input.shape[:dim] + input.shape[dim + 1:]
    if target.shape != expected:
        raise ValueError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    kept = target != ignore_index
    bad = np.asarray((target.data < 0) | (target.data >= input.shape[dim]))[np.asarray(
        kept.data)]
    if bad.any():
        raise IndexError(f"Target {int(np.asarray(target.data)[np.asarray(kept.data)][bad][0])} "
                         f"is out of bounds.")
    return kept


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of the target classes: ``-weight[t] * input[n, t]`` for
    ``input`` of log-probabilities (``log_softmax``'s). Targets equal to ``ignore_index``
    count for nothing; ``mean`` divides by the kept targets' weights (NaN when none are
    kept, as PyTorch's).

    Shape:
        - Input: (N, C) or (N, C, d1, ...) or (C,). Target: (N) or (N, d1, ...) or ().

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> logp = lucid.tensor([[-0.5, -1.0], [-2.0, -0.1]])
        >>> round(F.nll_loss(logp, lucid.tensor([0, 1])).item(), 4)
        0.3
    """
    kept = _check_targets(input, target, ignore_index)
    dim = _class_dim(input)
    if weight is not None and weight.shape != (input.shape[dim],):
        raise RuntimeError(f"weight tensor should be defined either for all {input.shape[dim]} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    index = target.masked_fill(~kept, 0).long()
    picked = input.gather(dim, index.unsqueeze(dim)).squeeze(dim)
    picked = lucid.where(kept, picked, 0.0)  # an ignored place's NaN stays out
    weights = kept.to(input.dtype)
    if weight is not None:
        weights = weights * weight.gather(0, index.reshape(-1)).reshape(index.shape)
    loss = -picked * weights
    if reduction == "mean":
        return _divided(loss.sum(), weights.sum())
    return _reduce(loss, reduction)


def _divided(total: Tensor, count: Tensor) -> Tensor:
    """``total / count``: NaN where ``count`` is 0 (every target ignored), as PyTorch's, with
    a zero gradient there, not a NaN one."""
    empty = count == 0
    return lucid.where(empty, float("nan"), total / lucid.where(empty, 1.0, count))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between ``input`` logits (unnormalised scores) and ``target``: class
    indices (``nll_loss`` of ``log_softmax``) or class probabilities of the input's shape.
    ``label_smoothing`` ε mixes the target with the uniform distribution over the C
    classes: ``(1 - ε) * target + ε / C``. With probabilities, ``mean`` divides by the
    number of samples (not by weights) and ``ignore_index`` does not apply.

    Shape:
        - Input: (N, C) or (N, C, d1, ...) or (C,). Target: (N) or (N, d1, ...) or () of
          class indices, or the input's shape of probabilities.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> round(F.cross_entropy(lucid.tensor([[2.0, 0.0]]), lucid.tensor([0])).item(), 4)
        0.1269
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    dim = _class_dim(input)
    classes = input.shape[dim]
    logp = log_softmax(input, dim)
    weight_shape = [1] * input.ndim
    weight_shape[dim] = classes
    weighted = logp if weight is None else logp * weight.reshape(weight_shape)
    if target.dtype.kind == "f":  # probabilities
        if target.shape != input.shape:
            raise RuntimeError(f"Expected target size {list(input.shape)}, got "
                               f"{list(target.shape)}")
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        loss = -(weighted * target).sum(dim)
        if reduction == "mean":  # over the samples: N, or N * d1 * ...
            return loss.sum() / (input.numel() // classes if classes else 0)
        return _reduce(loss, reduction)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if not label_smoothing:
        return nll
    kept = target != ignore_index
    smooth = lucid.where(kept, -weighted.sum(dim), 0.0)
    if reduction == "mean":
        if weight is None:
            smooth = _divided(smooth.sum(), kept.to(input.dtype).sum())
        else:
            index = target.masked_fill(~kept, 0).long().reshape(-1)
            kept_weights = weight.gather(0, index) * kept.reshape(-1).to(input.dtype)
            smooth = _divided(smooth.sum(), kept_weights.sum())
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / classes)
