"""What the benchmarks share: the machine a run used, the command that made it, its file.

Each benchmark prints its table and writes it, headed by the machine and the exact command
line, to ``benchmarks/results/<name>[_gpu][_reuse_memory].md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def add_memory_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reuse-memory", action="store_true",
                        help="keep freed host memory for reuse (glibc), as `lucid` does; "
                             "process-wide, so PyTorch's buffers get the same treatment")


def apply_memory_option(args: argparse.Namespace) -> None:
    if args.reuse_memory:
        import lucid

        lucid.backend.reuse_freed_memory()


def cpu() -> str:
    """The processor and core count, e.g. ``x86_64 AMD EPYC, 2 cores``."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = " " + line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()}{model}, {os.cpu_count()} cores"


def command() -> str:
    """This run's command line, as a user would type it from the repository root."""
    return shlex.join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])


def write(name: str, title: str, machine: str, body: str,
          variants: Iterable[str | None] = ()) -> Path:
    """Print ``body`` under a header (machine, command) and write it to the results file."""
    suffix = "".join(f"_{variant}" for variant in variants if variant)
    text = f"Machine: {machine}\nCommand: `{command()}`\n\n{body}"
    out = RESULTS / f"{name}{suffix}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# {title}\n\n{text}")
    print(text)
    return out
