"""The ``lucid`` command line, and its Python API for stylizing image files.

Example:
    >>> from lucid_cli import StylizeOptions, stylize_files
    >>> StylizeOptions(size=256).size
    256
"""

from __future__ import annotations

from typing import Any

__all__ = ["StylizeOptions", "stylize_files"]


def __getattr__(name: str) -> Any:
    """The API from :mod:`lucid_cli.batch`, imported when first asked for, so that the
    console script starts with nothing heavy imported (``lucid_cli.__main__``)."""
    if name in __all__:
        from lucid_cli import batch

        return getattr(batch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
