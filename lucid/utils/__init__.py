"""Helpers, as ``torch.utils``: ``hooks`` and ``data`` (loaded when first used, so that
``lucid.utils.data`` works after ``import lucid``, as ``torch.utils.data`` does)."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("data", "hooks"):
        return importlib.import_module(f"lucid.utils.{name}")
    raise AttributeError(f"module 'lucid.utils' has no attribute {name!r}")
