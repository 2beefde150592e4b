"""The ``lucid`` command: a Typer app whose commands hand off to plain functions."""

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


def main() -> None:
    """Console-script entry point."""
    app()
