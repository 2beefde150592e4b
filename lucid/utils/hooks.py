"""``RemovableHandle``: what registering a hook returns, as ``torch.utils.hooks``'s."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

_next_id = itertools.count()


class RemovableHandle:
    """Takes a hook out of the dict it was registered in: ``handle.remove()``, or at the
    end of a ``with handle:`` block. Removing twice does nothing.

    Example:
        >>> import lucid
        >>> x = lucid.ones(2, requires_grad=True)
        >>> with x.register_hook(lambda grad: grad * 10):
        ...     (x * 3).sum().backward()
        >>> x.grad.tolist()
        [30.0, 30.0]
    """

    def __init__(self, hooks: dict[int, Any], *also: set[int]) -> None:
        self.hooks = hooks
        self.also = also  # other tables that name the hook (a module's "with kwargs" set)
        self.id = next(_next_id)

    def remove(self) -> None:
        self.hooks.pop(self.id, None)
        for table in self.also:
            table.discard(self.id)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.remove()


def add_hook(table: dict[int, Any], hook: Callable[..., Any], prepend: bool = False,
             *also: set[int]) -> RemovableHandle:
    """Put ``hook`` into ``table`` (last, or first with ``prepend``: ``table`` is then an
    OrderedDict) under a new handle's id; the handle also takes it out of ``also``."""
    handle = RemovableHandle(table, *also)
    table[handle.id] = hook
    if prepend:
        table.move_to_end(handle.id, last=False)
    return handle
