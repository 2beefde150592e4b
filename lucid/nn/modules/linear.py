"""Fully connected layers: ``Linear`` and the do-nothing ``Identity``."""

from __future__ import annotations

import math
from typing import Any

from lucid.backend import DeviceLike
from lucid.creation import empty
from lucid.dtypes import DTypeLike
from lucid.nn import init
from lucid.nn.functional.linear import linear
from lucid.nn.modules.module import Module
from lucid.nn.parameter import Parameter
from lucid.tensor import Tensor


class Identity(Module):
    """Returns its input; a placeholder that keeps a network's layer names (args are ignored).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> x = lucid.randn(2, 3)
        >>> nn.Identity()(x) is x
        True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    """``y = x @ weight.T + bias``.

    Initialised as PyTorch does: ``weight`` with ``kaiming_uniform_(a=sqrt(5))``, i.e.
    U(-1/sqrt(in_features), 1/sqrt(in_features)), and ``bias`` from the same range.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias. Default: True.
        device, dtype: where and in which dtype to create the parameters.

    Shape:
        - Input: (*, in_features).
        - Output: (*, out_features).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> fc = nn.Linear(20, 30)
        >>> fc(lucid.randn(128, 20)).shape
        (128, 30)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
