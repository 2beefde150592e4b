"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

from lucid.optim.optimizer import Optimizer, ParamsT, gradients

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent with PyTorch's exact update rule.

    For each parameter :math:`p` with gradient :math:`g` (negated when ``maximize``):

    .. math::
        g &\leftarrow g + \lambda p \qquad (\lambda = \text{weight\_decay}) \\
        b &\leftarrow g \text{ on the first step, else } \mu b + (1 - \tau) g \\
        g &\leftarrow g + \mu b \text{ if nesterov, else } b \qquad (\text{when } \mu \ne 0) \\
        p &\leftarrow p - \eta g

    with :math:`\mu` = ``momentum``, :math:`\tau` = ``dampening``, :math:`\eta` = ``lr``.
    The momentum buffer lives in ``state[p]["momentum_buffer"]``.

    Example:
        >>> import lucid
        >>> from lucid.optim import SGD
        >>> w = lucid.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()
        ...     opt.step()
        >>> w
        tensor([ 0.46, -0.92], requires_grad=True)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        # Python floats keep the arrays' dtype (float32 stays float32) under numpy and CuPy
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        for p, param, grad in gradients(group):
            if weight_decay != 0:
                grad = grad + weight_decay * param  # new array: p.grad itself stays untouched
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = grad.copy()
                    state["momentum_buffer"] = buf
                else:
                    buf *= momentum
                    if dampening == 0:
                        buf += grad  # torch's alpha=1 is exact: skip the multiply
                    else:
                        buf += (1.0 - dampening) * grad
                grad = grad + momentum * buf if group["nesterov"] else buf
            param -= lr * grad
