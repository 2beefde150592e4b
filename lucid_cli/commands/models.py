"""``lucid models``: the models a ``--model NAME`` can name, as a Rich table."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from lucid_cli.app import app
from lucid_cli.errors import console, error_console, one_line, reported

# provenance keys worth a glance, in the order shown; the rest stays in the file
_SUMMARY_KEYS = ("trained_by", "source", "converted_from", "iterations", "encoder")


def provenance_summary(provenance: dict[str, Any], limit: int = 3) -> str:
    """A short ``key: value; ...`` line from a model's provenance metadata.

    >>> provenance_summary({"trained_by": "lucid train", "iterations": 20000, "data": {}})
    'trained_by: lucid train; iterations: 20000'
    """
    # nested entries (data folders, training recipe) are detail, not a summary
    keys = [k for k in _SUMMARY_KEYS if k in provenance]
    keys += [k for k in provenance if k not in keys]
    parts = [f"{key}: {provenance[key]}" for key in keys
             if not isinstance(provenance[key], (dict, list))]
    return "; ".join(parts[:limit]) or "-"


@app.command("models")
def models() -> None:
    """List the available models: the embedded default and those in the user model folder."""
    from lucid.models.store import DEFAULT_MODEL, available_models, user_model_dir

    broken: list[Exception] = []
    with reported():
        found = available_models(broken)
    for problem in broken:  # each on its own line; the readable models are still listed
        error_console.print(f"warning: {one_line(str(problem))} (skipped)", markup=False)
    table = Table(title="models")
    table.add_column("name", style="bold", overflow="fold")
    table.add_column("architecture", overflow="fold")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("provenance")
    for info in found:
        table.add_row(escape(info.name), escape(info.architecture),
                      f"{info.size_bytes / 1e6:.1f} MB",
                      escape(info.provenance_problem or provenance_summary(info.provenance)))
    if found:
        console.print(table)
    else:
        console.print("no models found")
    if DEFAULT_MODEL.exists():
        console.print(f"default: {escape(str(DEFAULT_MODEL))}", highlight=False)
    if not DEFAULT_MODEL.exists():
        console.print(f"note: the embedded default model is missing ({escape(str(DEFAULT_MODEL))});"
                      " pass --model NAME|PATH to 'lucid stylize'", highlight=False)
    console.print(f"user models: {escape(str(user_model_dir()))}/*.safetensors "
                  "(set LUCID_HOME to move it)", highlight=False)
