"""``lucid info``: what this installation runs on (versions, BLAS, threads, GPU, model)."""

from __future__ import annotations

import os
import platform

from rich.markup import escape
from rich.table import Table

from lucid_cli.app import app
from lucid_cli.errors import console

# environment variables that cap numpy's BLAS threads
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _gpu_rows() -> list[tuple[str, str]]:
    """GPU availability, device count, CuPy version; never raises (a broken driver is news,
    not a crash)."""
    import lucid
    from lucid.backend import _cupy

    try:
        available = lucid.gpu.is_available()
        count = lucid.gpu.device_count() if available else 0
        cupy = _cupy()
    except Exception as error:  # noqa: BLE001 - report whatever went wrong, keep going
        return [("gpu", f"error: {error}")]
    if cupy is None:
        return [("gpu", "not available (CuPy missing or no device)")]
    return [("gpu", f"available, {count} device(s)"), ("cupy", str(cupy.__version__))]


@app.command("info")
def info() -> None:
    """Show versions, numpy's BLAS, threads, GPU/CuPy status and the default model."""
    import numpy as np

    import lucid
    from lucid.backend import blas_info
    from lucid.models.store import DEFAULT_MODEL, user_model_dir

    threads = ", ".join(f"{name}={os.environ[name]}" for name in _THREAD_VARS
                        if name in os.environ) or "not limited by environment"
    default = f"present ({DEFAULT_MODEL})" if DEFAULT_MODEL.exists() else \
        f"MISSING ({DEFAULT_MODEL})"
    rows = [
        ("lucid", lucid.__version__),
        ("python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("platform", platform.platform()),
        ("numpy", np.__version__),
        ("blas", blas_info()),
        ("cpu cores", str(os.cpu_count())),
        ("threads", threads),
        *_gpu_rows(),
        ("default model", default),
        ("user models", str(user_model_dir())),
    ]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(key, escape(value))
    console.print(table)
