"""Adagrad, with PyTorch's update rule."""

from __future__ import annotations

from typing import Any

from lucid.backend import get_array_module
from lucid.optim.optimizer import Optimizer, ParamsT, gradients

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011) with PyTorch's exact update rule.

    For each parameter :math:`p` with gradient :math:`g` (negated when ``maximize``), at step
    :math:`t = 1, 2, \dots`:

    .. math::
        g &\leftarrow g + \lambda p \qquad (\lambda = \text{weight\_decay}) \\
        \tilde\eta &\leftarrow \eta / (1 + (t - 1) \delta) \\
        s &\leftarrow s + g^2 \\
        p &\leftarrow p - \tilde\eta \, g / (\sqrt{s} + \epsilon)

    with :math:`\eta` = ``lr``, :math:`\delta` = ``lr_decay``, and :math:`s` starting at
    ``initial_accumulator_value``. ``state[p]`` holds ``step`` (a Python int; PyTorch's is a
    float tensor) and ``sum`` (s). As PyTorch's, the constructor creates the state of every
    parameter it is given (a parameter that never gets a gradient keeps ``step`` 0 and its
    initial ``sum``); a parameter without a gradient is skipped by ``step``.

    Differences from PyTorch: a param group's own ``initial_accumulator_value`` is used for
    its parameters (PyTorch's constructor reads only the argument, and parameters that get
    their state later read the defaults); no ``foreach``, ``fused`` or ``differentiable``
    options, no sparse gradients; real parameters only.

    Example:
        >>> import lucid
        >>> from lucid.optim import Adagrad
        >>> w = lucid.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adagrad([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w  # the first step moves each coordinate by lr: g / sqrt(g^2)
        tensor([ 0.9, -1.9], requires_grad=True)
        >>> opt.state[w]["step"]
        1
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:  # eager, as PyTorch's: every parameter has state
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        state["step"] = 0
        xp = get_array_module(p.data)
        state["sum"] = xp.full_like(p.data, float(group["initial_accumulator_value"]))
        return state

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        for p, param, grad in gradients(group):
            xp = get_array_module(param)

            state = self.state[p]
            if not state:  # a parameter added with add_param_group: state on its first grad
                state = self._init_state(p, group)
            state["step"] += 1
            step = state["step"]

            if weight_decay != 0:
                grad = grad + weight_decay * param  # new array: p.grad stays untouched

            clr = lr / (1 + (step - 1) * lr_decay)

            state_sum = state["sum"]
            state_sum += grad * grad
            std = xp.asarray(xp.sqrt(state_sum))  # 0-d: an array, not a numpy scalar
            std += eps
            # torch's addcdiv order: (value * grad) / std
            param += (-clr * grad) / std
