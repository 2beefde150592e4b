"""One error path for the CLI: a domain error becomes one line on stderr and exit code 1."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

# one console for results and progress (stdout), one for errors (stderr)
console = Console()
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


class CLIError(Exception):
    """A problem to report to the user in one line (naming the file when there is one)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a container stopping), raised as an interrupt so that it
    ends a run through Ctrl-C's clean path, but told apart at the end: exit code 143."""


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


def check_model_output(output: Path, overwrite: bool, inputs: Iterable[Path] = ()) -> None:
    """Fail (one line) unless ``output`` can take a new model file: not an existing file
    without ``overwrite``, not one of the command's ``inputs`` even with it, not a folder, in
    a folder that exists. Checked before the work, so that no conversion or training is done
    for nothing."""
    if output.is_dir():
        fail(f"{output}: is a folder; give a file name for the model")
    if output.exists() and any(_same_file(output, path) for path in inputs):
        fail(f"{output}: is one of the inputs; refusing to overwrite it")
    if output.exists() and not overwrite:
        fail(f"{output}: already exists; pass --overwrite to replace it")
    if not output.parent.is_dir():
        fail(f"{output.parent}: no such folder for the output")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # b missing or unreadable: not the same file as an existing a
        return False


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
    except KeyboardInterrupt as interrupt:
        if debug:
            raise
        if isinstance(interrupt, Terminated):
            fail("terminated", code=128 + signal.SIGTERM)
        fail("interrupted", code=128 + signal.SIGINT)


def _terminated(signum: int, frame: object) -> NoReturn:
    raise Terminated


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
    raise ``KeyboardInterrupt`` meanwhile (:class:`Terminated` for SIGTERM), so either ends a
    run through the same clean path: outputs finished or removed, a checkpoint written, then
    from :func:`reported` "interrupted" and exit code 130, or "terminated" and 143, as a
    shell reports the two signals. Installed explicitly, since a shell starts its background
    jobs with SIGINT ignored."""
    previous = {signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
                signal.SIGTERM: signal.signal(signal.SIGTERM, _terminated)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
