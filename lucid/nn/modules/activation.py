"""Activation layers.

Each accepts PyTorch's ``inplace`` argument so that model code ports unchanged, but always
computes out of place: lucid's autograd keeps the arrays backward needs, and overwriting
them would corrupt gradients. ``inplace=True`` only shows in the repr.
"""

from __future__ import annotations

import warnings

from lucid.backend import DeviceLike
from lucid.creation import empty
from lucid.dtypes import DTypeLike
from lucid.nn import init
from lucid.nn.functional import activation as F
from lucid.nn.modules.module import Module
from lucid.nn.parameter import Parameter
from lucid.tensor import Tensor


class _Inplace(Module):
    """An activation that takes PyTorch's ``inplace`` (shown in the repr only)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class _AlongDim(Module):
    """An activation along one dim (``None``: PyTorch's legacy choice, with a warning)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class ReLU(_Inplace):
    """``max(x, 0)`` element-wise.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.ReLU()(lucid.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)


class ReLU6(_Inplace):
    """``min(max(x, 0), 6)`` element-wise.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.ReLU6()(lucid.tensor([-1.0, 3.0, 9.0]))
        tensor([0., 3., 6.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.relu6(input)


class LeakyReLU(Module):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.LeakyReLU(0.2)(lucid.tensor([-1.0, 2.0]))
        tensor([-0.2,  2. ])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """``x`` clamped to ``[min_val, max_val]`` element-wise; no gradient at the bounds.

    Args:
        min_val, max_val: the bounds (``max_val`` must be greater). Default: -1 and 1.
        inplace: accepted and ignored (see the module's docstring). ``min_value`` and
            ``max_value`` are PyTorch's deprecated names for the bounds.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Hardtanh(-2.0, 2.0)(lucid.tensor([-3.0, 0.5, 3.0]))
        tensor([-2. ,  0.5,  2. ])
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise AssertionError(f"max_val ({self.max_val}) must be greater than min_val "
                                 f"({self.min_val})")

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` element-wise.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Sigmoid()(lucid.zeros(2))
        tensor([0.5, 0.5])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """``tanh(x)`` element-wise.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Tanh()(lucid.zeros(2))
        tensor([0., 0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class SiLU(_Inplace):
    """``x * sigmoid(x)`` element-wise (the swish).

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.SiLU()(lucid.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.silu(input)


class GELU(Module):
    """``x * Phi(x)`` element-wise (``functional.gelu``; ``approximate="tanh"`` for the tanh
    form).

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> round(nn.GELU()(lucid.tensor([1.0])).item(), 4)
        0.8413
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(_AlongDim):
    """``softmax`` along ``dim``: each slice made non-negative and summing to 1.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Softmax(dim=1)(lucid.zeros(1, 2)).tolist()
        [[0.5, 0.5]]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self.dim)


class LogSoftmax(_AlongDim):
    """``log_softmax`` along ``dim``: log-probabilities, for ``NLLLoss``.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.LogSoftmax(dim=0)(lucid.zeros(2)).exp().tolist()
        [0.5, 0.5]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self.dim)


class ELU(Module):
    """The exponential linear unit: ``x`` where ``x > 0``, ``alpha * (exp(x) - 1)`` elsewhere.

    Args:
        alpha: the negative side's saturation value, ``-alpha``. Default: 1.
        inplace: accepted and ignored (see the module's docstring).

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> [round(v, 4) for v in nn.ELU()(lucid.tensor([-1.0, 2.0])).tolist()]
        [-0.6321, 2.0]
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """The continuously differentiable ELU: ``max(0, x) + min(0, alpha * (exp(x / alpha) -
    1))``.

    Args:
        alpha: the negative side's saturation value, ``-alpha`` (not 0). Default: 1.
        inplace: accepted and ignored (see the module's docstring).

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> [round(v, 4) for v in nn.CELU(2.0)(lucid.tensor([-1.0, 2.0])).tolist()]
        [-0.7869, 2.0]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.celu(input, self.alpha)


class SELU(_Inplace):
    """The scaled ELU: ``scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))``, with
    ``alpha = 1.6732632423543772`` and ``scale = 1.0507009873554805``.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> [round(v, 4) for v in nn.SELU()(lucid.tensor([-1.0, 1.0])).tolist()]
        [-1.1113, 1.0507]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.selu(input)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta`` element-wise; ``x`` itself where ``beta * x >
    threshold`` (``functional.softplus``, which says where it is finite and PyTorch's is not).

    Args:
        beta: the sharpness. Default: 1.
        threshold: above ``beta * x`` this, the identity. Default: 20.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> [round(v, 4) for v in nn.Softplus()(lucid.tensor([0.0, 30.0])).tolist()]
        [0.6931, 30.0]
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """``x / (1 + |x|)`` element-wise.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Softsign()(lucid.tensor([-3.0, 1.0]))
        tensor([-0.75,  0.5 ])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softsign(input)


class Hardsigmoid(_Inplace):
    """``relu6(x + 3) / 6`` element-wise: 0 up to -3, 1 from 3, linear between.

    Its repr never shows ``inplace``, as PyTorch's.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Hardsigmoid()(lucid.tensor([-4.0, 0.0, 1.5]))
        tensor([0.  , 0.5 , 0.75])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.hardsigmoid(input)

    def extra_repr(self) -> str:
        return ""


class Hardswish(_Inplace):
    """``x * relu6(x + 3) / 6`` element-wise (MobileNetV3's).

    Its repr never shows ``inplace``, as PyTorch's.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Hardswish()(lucid.tensor([-4.0, 1.5, 4.0]))
        tensor([-0.   ,  1.125,  4.   ])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.hardswish(input)

    def extra_repr(self) -> str:
        return ""


class Mish(_Inplace):
    """``x * tanh(softplus(x))`` element-wise.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> [round(v, 4) for v in nn.Mish()(lucid.tensor([-1.0, 1.0])).tolist()]
        [-0.3034, 0.8651]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.mish(input)


class LogSigmoid(Module):
    """``log(sigmoid(x))`` element-wise, finite for large ``|x|``.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> [round(v, 4) for v in nn.LogSigmoid()(lucid.tensor([-200.0, 0.0])).tolist()]
        [-200.0, -0.6931]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.logsigmoid(input)


class GLU(Module):
    """The gated linear unit: the input halved along ``dim`` into ``a`` and ``b``, then
    ``a * sigmoid(b)``.

    Args:
        dim: the dim to halve (its size must be even). Default: -1.

    Shape:
        - Input: ``(*, N, *)``. Output: ``(*, N / 2, *)``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.GLU()(lucid.randn(4, 2, 6)).shape
        (4, 2, 3)
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(_AlongDim):
    """``softmax(-x)`` along ``dim``: each slice made non-negative and summing to 1, the
    smallest value getting the most.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Softmin(dim=1)(lucid.zeros(1, 2)).tolist()
        [[0.5, 0.5]]
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softmin(input, self.dim)


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, 0 elsewhere, element-wise.

    Args:
        lambd: the half-width of the band set to 0. Default: 0.5.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Hardshrink()(lucid.tensor([-1.0, 0.25, 0.75]))
        tensor([-1.  ,  0.  ,  0.75])
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """``x - lambd`` where ``x > lambd``, ``x + lambd`` where ``x < -lambd``, 0 elsewhere,
    element-wise.

    Args:
        lambd: the half-width of the band set to 0 (at least 0). Default: 0.5.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Softshrink()(lucid.tensor([-1.0, 0.25, 0.75]))
        tensor([-0.5 ,  0.  ,  0.25])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.softshrink(input, self.lambd)


class Tanhshrink(Module):
    """``x - tanh(x)`` element-wise.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Tanhshrink()(lucid.zeros(2))
        tensor([0., 0.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanhshrink(input)


class Threshold(Module):
    """``x`` where ``x > threshold``, ``value`` elsewhere, element-wise.

    Args:
        threshold: the value to exceed.
        value: what replaces the values that do not.
        inplace: accepted and ignored (see the module's docstring).

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.Threshold(0.5, -7.0)(lucid.tensor([0.5, 2.0]))
        tensor([-7.,  2.])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")


class PReLU(Module):
    """``x`` where ``x > 0``, ``weight * x`` elsewhere, with ``weight`` learnt.

    Args:
        num_parameters: 1 (one slope for every channel) or the input's channel count (dim
            1; an input of fewer than 2 dims has one). Default: 1.
        init: the slopes' initial value. Default: 0.25.
        device, dtype: where and in which dtype to create ``weight``.

    Shape:
        - Input: any shape. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.PReLU(2)(lucid.tensor([[-4.0, 8.0], [4.0, -8.0]])).tolist()
        [[-1.0, 8.0], [4.0, -2.0]]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: DeviceLike = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
