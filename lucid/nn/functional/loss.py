"""Regression losses, as ``torch.nn.functional``'s."""

from __future__ import annotations

import warnings

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
