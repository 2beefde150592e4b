"""Adam and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

from typing import Any

from lucid.backend import get_array_module
from lucid.optim.optimizer import Optimizer, ParamsT, gradients

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with PyTorch's exact update rule.

    For each parameter :math:`p` with gradient :math:`g` (negated when ``maximize``), at step
    :math:`t = 1, 2, \dots`:

    .. math::
        g &\leftarrow g + \lambda p \quad\text{(Adam)}
            \qquad p \leftarrow p (1 - \eta\lambda) \quad\text{(AdamW: decoupled)} \\
        m &\leftarrow \beta_1 m + (1 - \beta_1) g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \hat v &\leftarrow \max(\hat v, v) \text{ if amsgrad, else } v \\
        p &\leftarrow p - \frac{\eta}{1 - \beta_1^t}
            \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}

    with :math:`\eta` = ``lr``, :math:`\lambda` = ``weight_decay``. ``state[p]`` holds
    ``step`` (a Python int), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad,
    ``max_exp_avg_sq``.

    Example:
        >>> import lucid
        >>> from lucid.optim import Adam
        >>> w = lucid.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.1)
        >>> opt.zero_grad()
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w  # the first Adam step moves every coordinate by about lr
        tensor([ 0.9, -1.9], requires_grad=True)
        >>> opt.state[w]["step"]
        1
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        # Python floats throughout: they take the arrays' dtype (no float64 temporaries)
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        weight_decay = float(group["weight_decay"])
        amsgrad = bool(group["amsgrad"])
        for p, param, grad in gradients(group):
            xp = get_array_module(param)

            state = self.state[p]
            if not state:  # lazy: only parameters that ever get a gradient carry state
                state["step"] = 0
                state["exp_avg"] = xp.zeros_like(param)
                state["exp_avg_sq"] = xp.zeros_like(param)
                if amsgrad:
                    state["max_exp_avg_sq"] = xp.zeros_like(param)
            state["step"] += 1
            step = state["step"]
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]

            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param *= 1.0 - lr * weight_decay
                else:
                    grad = grad + weight_decay * param  # new array: p.grad stays untouched

            _lerp_(exp_avg, grad, 1.0 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += (1.0 - beta2) * grad * grad  # torch's addcmul order: (c * g) * g

            bias_correction1 = 1.0 - beta1**step
            bias_correction2_sqrt = (1.0 - beta2**step) ** 0.5
            step_size = lr / bias_correction1

            if amsgrad:
                max_exp_avg_sq = state["max_exp_avg_sq"]
                xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                denom = xp.sqrt(max_exp_avg_sq)
            else:
                denom = xp.sqrt(exp_avg_sq)
            denom = xp.asarray(denom)  # of a 0-d parameter numpy gives a scalar: no out=
            # one temporary, reused: denom -> m / denom -> step_size * m / denom
            denom /= bias_correction2_sqrt
            denom += eps
            xp.divide(exp_avg, denom, out=denom)
            denom *= step_size
            param -= denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch's AdamW.

    The decay shrinks the parameter directly, :math:`p \leftarrow p (1 - \eta\lambda)`, before
    the Adam step, instead of adding :math:`\lambda p` to the gradient; see :class:`Adam` for
    the rest of the update. ``weight_decay`` defaults to ``1e-2``.

    Example:
        >>> import lucid
        >>> from lucid.optim import AdamW
        >>> w = lucid.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w  # decay first (x 0.95), then the Adam step of about lr
        tensor([ 0.85, -1.8 ], requires_grad=True)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )


def _lerp_(start: Any, end: Any, weight: float) -> None:
    """``start += weight * (end - start)`` in place, with torch's two-sided lerp formula.

    torch evaluates ``end - (end - start) * (1 - weight)`` when ``|weight| >= 0.5`` (exact at
    weight 1); matching it keeps lucid within an ulp or so of torch on such betas (the other
    terms' order of operations still differs by an ulp here and there).
    """
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        # 1 - weight in the array's precision, as torch computes it after casting weight
        one_minus = float(start.dtype.type(1) - start.dtype.type(weight))
        diff = end - start
        diff *= one_minus
        start[...] = end - diff
