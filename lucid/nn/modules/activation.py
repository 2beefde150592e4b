"""Activation layers.

Each accepts PyTorch's ``inplace`` argument so that model code ports unchanged, but always
computes out of place: lucid's autograd keeps the arrays backward needs, and overwriting
them would corrupt gradients. ``inplace=True`` only shows in the repr.
"""

from __future__ import annotations

from lucid.nn.functional import activation as F
from lucid.nn.modules.module import Module
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
