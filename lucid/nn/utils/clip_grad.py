"""Gradient clipping: scale all gradients down to a total norm, or clamp each value."""

from __future__ import annotations

import math
from collections.abc import Iterable

from lucid import autograd
from lucid.tensor import Tensor


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale the gradients in place so that their total ``norm_type`` norm (all of them as
    one vector) is at most ``max_norm``; return that total norm as it was. ``foreach`` is
    accepted and changes nothing.

    Example:
        >>> import lucid
        >>> from lucid.nn.utils import clip_grad_norm_
        >>> w = lucid.ones(4, requires_grad=True)
        >>> (w * 3).sum().backward()
        >>> clip_grad_norm_([w], 1.0).item(), [round(g, 4) for g in w.grad.tolist()]
        (6.0, [0.5, 0.5, 0.5, 0.5])
    """
    import lucid

    norm_type = float(norm_type)  # "inf" too, as PyTorch's
    grads = [p.grad for p in _with_grads(parameters)]
    if not grads:
        return lucid.tensor(0.0)
    with autograd.no_grad():
        norms = lucid.stack([g.norm(norm_type) for g in grads])
        total = norms.norm(norm_type) if norm_type != math.inf else norms.amax()
        if error_if_nonfinite and not bool(total.isfinite().item()):
            raise RuntimeError(f"The total norm of order {float(norm_type)} for gradients from "
                               "`parameters` is non-finite, so it cannot be clipped. To disable "
                               "this error and scale the gradients by the non-finite norm "
                               "anyway, set `error_if_nonfinite=False`")
        factor = min(max_norm / (total.item() + 1e-6), 1.0)
        for g in grads:
            g.data *= g.dtype.type(factor)
            g._bump_version()
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp each gradient value in place to ``[-clip_value, clip_value]``.

    Example:
        >>> import lucid
        >>> from lucid.nn.utils import clip_grad_value_
        >>> w = lucid.ones(2, requires_grad=True)
        >>> (w * lucid.tensor([3.0, -0.5])).sum().backward()
        >>> clip_grad_value_(w, 1.0); w.grad.tolist()
        [1.0, -0.5]
    """
    for p in _with_grads(parameters):
        p.grad.data.clip(-clip_value, clip_value, out=p.grad.data)
        p.grad._bump_version()
