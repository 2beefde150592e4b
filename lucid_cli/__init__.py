"""The ``lucid`` command line, and its Python API for stylizing image files.

Example:
    >>> from lucid_cli import StylizeOptions, stylize_files
    >>> StylizeOptions(size=256).size
    256
"""

from lucid_cli.batch import StylizeOptions, stylize_files

__all__ = ["StylizeOptions", "stylize_files"]
