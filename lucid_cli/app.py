"""The ``lucid`` command: a Typer app whose commands hand off to plain functions.

Each command lives in its own module under ``lucid_cli.commands`` and registers itself on
``app``; domain errors become one line on stderr and exit code 1 (``lucid_cli.errors``).
"""

from __future__ import annotations

from typing import Annotated

import typer

import lucid

app = typer.Typer(
    name="lucid",
    help="Repaint photos in the style of any painting.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lucid {lucid.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Repaint photos in the style of any painting."""
    lucid.backend.reuse_freed_memory()


# importing the command modules registers their commands on ``app``
from lucid_cli.commands import import_adain, info, models, stylize, train  # noqa: E402, F401
