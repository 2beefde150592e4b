"""``Parameter``: a tensor that a ``Module`` registers as learnable when assigned to it."""

from __future__ import annotations

from typing import Any

import numpy as np

from lucid.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires a gradient and is found by ``Module.parameters()``.

    ``data`` may be a Tensor (its array is shared, not copied), an array, or None for an
    empty float tensor.

    Example:
        >>> import lucid
        >>> from lucid.nn import Parameter
        >>> Parameter(lucid.ones(2))
        Parameter containing:
        tensor([1., 1.], requires_grad=True)
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            array: Any = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data.data
        else:
            array = np.asarray(data)
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
