"""RMSprop, with PyTorch's update rule (plain or centered, with momentum)."""

from __future__ import annotations

from typing import Any

from lucid.backend import get_array_module
from lucid.optim.adam import _lerp_
from lucid.optim.optimizer import Optimizer, ParamsT, gradients

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Tieleman & Hinton, 2012) with PyTorch's exact update rule.

    For each parameter :math:`p` with gradient :math:`g` (negated when ``maximize``):

    .. math::
        g &\leftarrow g + \lambda p \qquad (\lambda = \text{weight\_decay}) \\
        v &\leftarrow \alpha v + (1 - \alpha) g^2 \\
        \bar g &\leftarrow \alpha \bar g + (1 - \alpha) g \quad\text{(centered only)} \\
        a &\leftarrow \sqrt{v - \bar g^2} + \epsilon \text{ if centered, else }
            \sqrt{v} + \epsilon \\
        b &\leftarrow \mu b + g / a, \quad p \leftarrow p - \eta b
            \quad\text{if } \mu > 0, \text{ else } p \leftarrow p - \eta g / a

    with :math:`\eta` = ``lr``, :math:`\alpha` = ``alpha``, :math:`\mu` = ``momentum``.
    ``state[p]`` holds ``step`` (a Python int; PyTorch's is a float tensor), ``square_avg``
    (v) and, when ``momentum > 0``, ``momentum_buffer`` (b) and, when centered, ``grad_avg``
    (:math:`\bar g`); it is created on the first step that sees a gradient for ``p``, and a
    parameter without a gradient is skipped.

    Differences from PyTorch: no ``foreach``, ``capturable`` or ``differentiable`` options
    (one implementation, on numpy or CuPy arrays), so ``maximize`` is keyword-only; real
    parameters only.

    Example:
        >>> import lucid
        >>> from lucid.optim import RMSprop
        >>> w = lucid.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = RMSprop([w], lr=0.01)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w  # the first step moves each coordinate by about lr / sqrt(1 - alpha) = 0.1
        tensor([ 0.9, -1.9], requires_grad=True)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        # Python floats throughout: they take the arrays' dtype (no float64 temporaries)
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered = bool(group["centered"])
        for p, param, grad in gradients(group):
            xp = get_array_module(param)

            state = self.state[p]
            if not state:  # lazy: only parameters that ever get a gradient carry state
                state["step"] = 0
                state["square_avg"] = xp.zeros_like(param)
                if momentum > 0:
                    state["momentum_buffer"] = xp.zeros_like(param)
                if centered:
                    state["grad_avg"] = xp.zeros_like(param)
            state["step"] += 1

            if weight_decay != 0:
                grad = grad + weight_decay * param  # new array: p.grad stays untouched

            square_avg = state["square_avg"]
            square_avg *= alpha
            square_avg += (1.0 - alpha) * grad * grad  # torch's addcmul order: (c * g) * g

            if centered:
                grad_avg = state["grad_avg"]
                _lerp_(grad_avg, grad, 1.0 - alpha)
                # addcmul with value -1 is exact: v - g_avg^2; asarray: 0-d stays an array
                avg = xp.asarray(square_avg - grad_avg * grad_avg)
                xp.sqrt(avg, out=avg)
            else:
                avg = xp.asarray(xp.sqrt(square_avg))  # 0-d: an array, not a numpy scalar
            avg += eps

            if momentum > 0:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += grad / avg
                param -= lr * buf
            else:
                # torch's addcdiv order: (value * grad) / avg
                param += (-lr * grad) / avg
