"""One error path for the CLI: a domain error becomes one line on stderr and exit code 1."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# one console for results and progress (stdout), one for errors (stderr)
console = Console()
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


class CLIError(Exception):
    """A problem to report to the user in one line (naming the file when there is one)."""


def one_line(text: str) -> str:
    """``text`` with line breaks and other unprintable characters written as escapes
    (``\\n``): an error about a file with an odd name stays one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace")
                   .decode("ascii") for c in text)


def print_error(message: str) -> None:
    """``error: message`` on stderr, in one line."""
    error_console.print(f"[bold red]error:[/] {escape(one_line(message))}", markup=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr (one line) and exit with ``code``; never returns."""
    print_error(message)
    raise typer.Exit(code)


@contextlib.contextmanager
def reported(debug: bool = False) -> Iterator[None]:
    """Turn the library's and the CLI's known errors into ``fail``; tracebacks only in debug."""
    from lucid.models.store import ModelError
    from lucid.pth import PthError
    from lucid.serialization import WeightsFileError
    from lucid_cli.images import ImageError

    try:
        yield
    except (CLIError, ImageError, ModelError, PthError, WeightsFileError, OSError,
            ValueError) as error:
        if debug:
            raise
        fail(_message(error))
    except KeyboardInterrupt:
        if debug:
            raise
        fail("interrupted", code=130)


def _message(error: Exception) -> str:
    """``path: reason`` for the file system's errors ("file name too long"), else the
    error's own one line."""
    if isinstance(error, OSError) and error.filename is not None:
        from lucid.imagefile import os_error_reason

        return f"{os.fsdecode(error.filename)}: {os_error_reason(error)}"
    return str(error)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C and a polite kill (SIGTERM: ``kill``, ``timeout``, a container stopping) both
    raise ``KeyboardInterrupt`` meanwhile, so either ends a run through the same clean path:
    outputs finished or removed, a checkpoint written, "interrupted" and exit code 130 from
    :func:`reported`. Installed explicitly, since a shell starts its background jobs with
    SIGINT ignored."""
    previous = {sig: signal.signal(sig, signal.default_int_handler)
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
