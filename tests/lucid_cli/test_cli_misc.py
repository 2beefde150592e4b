"""``lucid models``, ``lucid info``, model names from the user folder, ``python -m lucid_cli``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

import lucid_cli.commands.info  # noqa: F401 - registers the commands on the app
import lucid_cli.commands.models  # noqa: F401
import lucid_cli.commands.stylize  # noqa: F401
from lucid import serialization
from lucid.models.store import CONFIG_KEY, save_model
from lucid.models.stylenet import StyleNet, tiny_config
from lucid_cli.app import app
from lucid_cli.commands.models import provenance_summary
from lucid_cli.errors import interruptible, reported


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """LUCID_HOME with one tiny user model ``tiny`` and one broken file beside it."""
    monkeypatch.setenv("LUCID_HOME", str(tmp_path / "home"))
    folder = tmp_path / "home" / "models"
    folder.mkdir(parents=True)
    save_model(StyleNet(tiny_config()), folder / "tiny.safetensors",
               provenance={"trained_by": "a test", "iterations": 0})
    save_model(StyleNet(tiny_config(skip=True)), folder / "skip.safetensors", provenance={})
    (folder / "broken.safetensors").write_text("not a model")
    return tmp_path / "home"


def test_models_lists_user_models(home: Path) -> None:
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.stderr
    assert "tiny" in result.stdout
    assert "efficientnet_lite" in result.stdout and "MB" in result.stdout
    assert "block2_expand + stem" in result.stdout  # AdaIN layers: the main one, then skips
    assert "trained_by: a test" in result.stdout
    assert "broken" not in result.stdout  # unreadable files do not hide the others


def test_models_notes_a_missing_default(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lucid.models.store.DEFAULT_MODEL", home / "none.safetensors")
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.stderr
    assert "default model is missing" in result.stdout
    monkeypatch.setenv("LUCID_HOME", str(home / "empty"))
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0 and "no models found" in result.stdout


def test_provenance_summary_is_short() -> None:
    assert provenance_summary({}) == "-"
    summary = provenance_summary({"data": {"content": "/x"}, "iterations": 5, "seed": 1,
                                  "lr": 0.1, "trained_by": "me"})
    assert summary == "trained_by: me; iterations: 5; seed: 1"


def test_info(home: Path) -> None:
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.stderr
    for word in ("lucid", "python", "numpy", "blas", "threads", "gpu", "default model"):
        assert word in result.stdout, word
    assert str(np.__version__) in result.stdout


def test_model_by_name_from_the_user_folder(home: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (12, 10), (200, 30, 30)).save("c.png")
    Image.new("RGB", (10, 10), (20, 30, 200)).save("s.png")
    result = CliRunner().invoke(app, ["stylize", "c.png", "s.png", "--model", "tiny",
                                      "--size", "8", "--style-size", "8", "-o", "o.png"])
    assert result.exit_code == 0, result.stderr
    assert Image.open("o.png").size == (10, 8)


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("stylize", "models", "info"):
        assert command in result.stdout


def test_python_dash_m(home: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "lucid_cli", "info"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "numpy" in done.stdout


def _add_broken_models(folder: Path) -> list[str]:
    """Broken files beside the good ones; their stems, sorted."""
    (folder / "adir.safetensors").mkdir()
    for stem, config in (("empty", "{}"), ("badjson", "{not json")):
        serialization.save({}, folder / f"{stem}.safetensors", metadata={CONFIG_KEY: config})
    return ["adir", "badjson", "broken", "empty"]


def test_models_reports_each_broken_file_in_one_line(home: Path) -> None:
    stems = _add_broken_models(home / "models")
    env = {**os.environ, "LUCID_HOME": str(home), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "lucid_cli", "models"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "tiny" in done.stdout and "skip" in done.stdout
    lines = done.stderr.strip().splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        str(home / "models" / f"{stem}.safetensors") for stem in stems], done.stderr
    assert all(line.startswith("warning: ") for line in lines), done.stderr


@pytest.mark.parametrize(("model", "message"), [
    ("models", "is a directory, not a model file"),
    ("", "'': no such model"),
    ("nosuch", "nosuch: no such model (known models: default, skip, tiny)"),
])
def test_stylize_with_an_odd_model_gives_one_line(home: Path, tmp_path: Path, model: str,
                                                  message: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _add_broken_models(home / "models")
    monkeypatch.chdir(home)  # holds the folder "models"
    Image.new("RGB", (12, 10)).save("c.png")
    result = CliRunner().invoke(app, ["stylize", "c.png", "c.png", "--model", model,
                                      "--size", "8", "-o", "o.png"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert "Traceback" not in result.stderr


def test_a_ctrl_c_while_the_command_starts_is_one_line() -> None:
    """An interrupt during the start-up imports (Rich, numpy: a few tenths of a second) was a
    traceback from inside them; it ends as a later one does."""
    script = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def interrupted(name, *args, **kwargs):\n"
        "    if name.startswith('rich'):\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = interrupted\n"
        "from lucid_cli.__main__ import main\n"
        "sys.argv = ['lucid', 'info']\n"
        "main()\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    assert (run.returncode, run.stderr, run.stdout) == (130, "error: interrupted\n", "")


@pytest.mark.parametrize(("sig", "code", "line"), [(signal.SIGINT, 130, "error: interrupted"),
                                                   (signal.SIGTERM, 143, "error: terminated")])
def test_a_signal_ends_in_one_line_and_the_shells_exit_code(
        capsys: pytest.CaptureFixture[str], sig: int, code: int, line: str) -> None:
    """Ctrl-C and a polite kill take the same clean path (an interrupt), and end as a shell
    reports them: 128 + the signal's number (SIGTERM ended with Ctrl-C's 130)."""
    with pytest.raises(typer.Exit) as stop, reported(), interruptible():
        signal.raise_signal(sig)
    assert stop.value.exit_code == code
    assert capsys.readouterr().err == line + "\n"
