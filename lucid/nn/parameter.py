"""``Parameter`` and ``Buffer``: tensors that a ``Module`` registers when assigned to it, as
learnable weights and as state (running statistics and the like)."""

from __future__ import annotations

from typing import Any

import numpy as np

from lucid.dtypes import get_default_dtype
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


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` for the plain tensors ``Buffer(...)`` makes, as PyTorch's."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """A tensor that a ``Module`` registers as a buffer when assigned to it (as
    ``register_buffer``): module state that is not learnt, such as a norm layer's running
    statistics, saved in ``state_dict`` unless ``persistent=False``. ``Buffer(data)`` is
    ``data`` detached (its array shared, as PyTorch's), a plain ``Tensor`` marked as a buffer.

    Example:
        >>> import lucid
        >>> from lucid import nn
        >>> layer = nn.Module()
        >>> layer.count = nn.Buffer(lucid.zeros(1))
        >>> layer.scratch = nn.Buffer(lucid.ones(2), persistent=False)
        >>> list(layer.state_dict())
        ['count']
    """

    persistent: bool

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:  # type: ignore[misc]
        data = Tensor(np.empty((0,), dtype=get_default_dtype())) if data is None else data
        buffer = data.detach()
        if data.requires_grad:
            buffer.requires_grad_(True)
        buffer.persistent = persistent
        buffer._is_buffer = True
        return buffer
