"""``lucid train`` end to end on a tiny data set: trains, logs, draws, resumes, refuses."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import lucid_cli.commands.train  # noqa: F401 - registers the command on the app
from lucid.models.store import load_model, read_info
from lucid_cli.app import app


@pytest.fixture()
def data(tmp_path: Path) -> tuple[Path, Path]:
    """Eight small photos and eight small 'paintings'."""
    rng = np.random.default_rng(0)
    folders = tmp_path / "content", tmp_path / "style"
    for folder in folders:
        folder.mkdir()
        for i in range(8):
            pixels = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    return folders


def train(*args: str):  # noqa: ANN201 - a click Result
    return CliRunner().invoke(app, ["train", *args])


def one_step_run(data: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A run trained one step: its folder, its model file and the options naming them (with
    --overwrite, for the same file exported again)."""
    content, style = data
    run, model = tmp_path / "run", tmp_path / "model.safetensors"
    common = ["--run-dir", str(run), "-o", str(model), "--device", "cpu", "-q", "--overwrite"]
    result = train("--content-dir", str(content), "--style-dir", str(style), "--iterations", "1",
                   "--batch-size", "2", "--crop-size", "32", "--holdout", "0.25", *common)
    assert result.exit_code == 0, result.output
    return run, model, common


def test_train_writes_a_model_a_log_sheets_and_resumes(data, tmp_path: Path) -> None:
    content, style = data
    run, model = tmp_path / "run", tmp_path / "model.safetensors"
    common = ["--run-dir", str(run), "-o", str(model), "--device", "cpu", "-q"]
    result = train("--content-dir", str(content), "--style-dir", str(style), "--iterations", "2",
                   "--batch-size", "2", "--crop-size", "32", "--checkpoint-every", "2",
                   "--log-every", "1", "--holdout", "0.25", "--ema-decay", "0.5", *common)
    assert result.exit_code == 0, result.output
    assert read_info(model).provenance["iterations"] == 2
    assert read_info(model).provenance["weights"].endswith("decay 0.5")
    load_model(model)  # a usable model file
    assert (run / "checkpoint.safetensors").exists() and (run / "loss.png").exists()
    assert [p.name for p in (run / "samples").iterdir()] == ["sheet_000002.png"]

    again = train("--content-dir", str(content), "--style-dir", str(style), *common)
    assert again.exit_code == 1 and "use --resume" in again.output

    with (run / "log.csv").open("a") as f:  # a run killed after logging step 3, before saving it
        f.write("3,9,9,0,1\n")
    kept = train("--resume", "--iterations", "3", *common)  # the model file is there
    assert kept.exit_code == 1 and "already exists; pass --overwrite" in kept.output
    resumed = train("--resume", "--iterations", "3", "--workers", "2", "--ema-decay", "0",
                    "--overwrite", *common)
    assert resumed.exit_code == 0, resumed.output
    assert read_info(model).provenance["iterations"] == 3
    assert read_info(model).provenance["weights"] == "the last step's"  # --ema-decay 0
    with (run / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(row["iteration"]) for row in rows] == [1, 2, 3] and rows[-1]["content_loss"] != "9"


def test_train_refuses_what_it_cannot_do(data, tmp_path: Path) -> None:
    missing = train("--run-dir", str(tmp_path / "run"))
    assert missing.exit_code == 2 and "--content-dir" in missing.output
    nothing = train("--resume", "--run-dir", str(tmp_path / "none"))
    assert nothing.exit_code == 1 and "no checkpoint" in nothing.output
    no_workers = train("--resume", "--run-dir", str(tmp_path / "none"), "--workers", "0")
    assert no_workers.exit_code == 2 and "--workers" in no_workers.output
    if not __import__("lucid").gpu.is_available():
        content, style = data
        gpu = train("--content-dir", str(content), "--style-dir", str(style), "--device", "gpu",
                    "--run-dir", str(tmp_path / "run"))
        assert gpu.exit_code == 1 and "no GPU" in gpu.output


def test_an_existing_model_file_is_kept_unless_overwrite(data, tmp_path: Path) -> None:
    """``-o`` over a file that exists (the default name, model.safetensors, included) is
    refused before any step, unless --overwrite; so are a folder and a missing folder."""
    content, style = data
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"someone's model")
    run = tmp_path / "run"
    args = ("--content-dir", str(content), "--style-dir", str(style), "--iterations", "1",
            "--batch-size", "2", "--crop-size", "32", "--holdout", "0.25", "--run-dir", str(run),
            "--device", "cpu", "-q")
    for output, says in ((model, "model.safetensors: already exists; pass --overwrite"),
                         (tmp_path, "is a folder"),
                         (tmp_path / "no" / "m.safetensors", "no such folder")):
        refused = train(*args, "-o", str(output))
        assert refused.exit_code == 1 and says in refused.output, refused.output
        assert model.read_bytes() == b"someone's model" and not run.exists()
    replaced = train(*args, "-o", str(model), "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert read_info(model).provenance["iterations"] == 1


def test_a_run_carried_on_with_its_encoder_fine_tuned(data, tmp_path: Path) -> None:
    run, model, common = one_step_run(data, tmp_path)
    assert "fine-tuned" not in read_info(model).provenance["encoder"]
    trunk = load_model(model).encoder.state_dict()

    tuned = train("--resume", "--iterations", "2", "--encoder-lr", "1e-3", *common)
    assert tuned.exit_code == 0, tuned.output
    assert "fine-tuned" in read_info(model).provenance["encoder"]
    moved = load_model(model).encoder.state_dict()
    assert any(not np.array_equal(moved[k].numpy(), trunk[k].numpy()) for k in trunk)

    frozen_again = train("--resume", "--iterations", "3", "--encoder-lr", "0", *common)
    assert frozen_again.exit_code == 2 and "already" in frozen_again.output


def test_unreadable_training_images_are_named_in_one_line(data, tmp_path: Path) -> None:
    """Every file that cannot be read, held out or not, is named before any step; folders and
    hidden files (macOS's ``._x.jpg``) named like images are not counted as images."""
    content, style = data
    (content / "empty.jpg").write_bytes(b"")
    (content / "cut.png").write_bytes((content / "0.png").read_bytes()[:60])
    (content / "folder.jpg").mkdir()
    (content / "._0.jpg").write_bytes(b"\0\5\26\7 AppleDouble")
    model = tmp_path / "model.safetensors"
    result = train("--content-dir", str(content), "--style-dir", str(style), "--iterations", "1",
                   "--holdout", "0.5",  # every other file held out: empty.jpg is, cut.png not
                   "--run-dir", str(tmp_path / "run"), "-o", str(model), "--device", "cpu", "-q")
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "2 training image(s) cannot be read" in lines[0]
    assert "empty.jpg: not an image" in lines[0] and "cut.png: truncated" in lines[0]
    assert not model.exists()


def test_a_run_with_nothing_held_out_trains_without_sheets(data, tmp_path: Path) -> None:
    content, style = data
    run, model = tmp_path / "run", tmp_path / "model.safetensors"
    result = train("--content-dir", str(content), "--style-dir", str(style), "--iterations", "2",
                   "--batch-size", "2", "--crop-size", "32", "--checkpoint-every", "1",
                   "--holdout", "0", "--run-dir", str(run), "-o", str(model), "--device", "cpu",
                   "-q")
    assert result.exit_code == 0, result.output
    assert model.exists() and not (run / "samples").exists()


def test_training_folders_that_are_not_folders_of_images(data, tmp_path: Path) -> None:
    content, style = data
    empty = tmp_path / "empty"
    empty.mkdir()
    for folder, says in ((content / "0.png", "a file, not a folder"),
                         (empty, "no training images")):
        result = train("--content-dir", str(content), "--style-dir", str(folder),
                       "--run-dir", str(tmp_path / "run"), "--device", "cpu", "-q")
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"{folder}: {says}" in result.output.strip()


def test_a_resumed_run_takes_the_options_it_can_change_and_refuses_the_rest(
        data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--content-weight, --crop-size and the like carry the run on with new values (they were
    silently ignored once); the seed, the learning rate or the data are what the run is."""
    from lucid.models.training import Trainer

    run, model, common = one_step_run(data, tmp_path)

    changed = train("--resume", "--iterations", "2", "--content-weight", "2.5",
                    "--crop-size", "40", "--batch-size", "4", *common)
    assert changed.exit_code == 0, changed.output
    options = Trainer.stored_options(run)
    assert (options.iterations, options.content_weight, options.crop_size,
            options.batch_size) == (2, 2.5, 40, 4)

    refused = train("--resume", "--iterations", "3", "--lr", "1e-3", "--seed", "5", *common)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "keeps its own lr (0.0001), seed (0)" in " ".join(refused.output.split())
    assert Trainer.stored_options(run).iterations == 2  # nothing trained

    content = data[0]
    monkeypatch.chdir(content.parent)  # the run's own folder, typed as a relative path
    same = train("--resume", "--iterations", "3", "--content-dir", content.name, "--seed", "0",
                 *common)
    assert same.exit_code == 0, same.output
    assert Trainer.stored_options(run).content_dir == str(content)


@pytest.mark.parametrize("term", ["gram", "remd", "coarse", "identity"])
def test_a_style_term_weight_is_an_option_a_run_can_change(data, tmp_path: Path,
                                                           term: str) -> None:
    run, model, common = one_step_run(data, tmp_path)
    assert read_info(model).provenance["recipe"][f"{term}_weight"] == 0.0
    carried = train("--resume", "--iterations", "2", f"--{term}-weight", "0.5", *common)
    assert carried.exit_code == 0, carried.output
    assert read_info(model).provenance["recipe"][f"{term}_weight"] == 0.5


@pytest.mark.parametrize("damage", ["model file", "no optimiser", "other architecture"])
def test_a_checkpoint_that_is_not_one_is_named_in_one_line(data, tmp_path: Path,
                                                           damage: str) -> None:
    """--resume over a safetensors file that is not this trainer's checkpoint (a model file
    copied in, a damaged checkpoint, one whose weights and options disagree) names the file
    in one line, exit 1; a traceback (KeyError, RuntimeError) once. Nothing is changed."""
    import json

    from lucid import serialization

    run, model, common = one_step_run(data, tmp_path)
    checkpoint = run / "checkpoint.safetensors"
    arrays, metadata = serialization.load_with_metadata(checkpoint)
    if damage == "model file":
        checkpoint.write_bytes(model.read_bytes())
    elif damage == "no optimiser":
        serialization.save({k: v for k, v in arrays.items() if not k.startswith("optim.")},
                           checkpoint, metadata=metadata)
    else:
        options = json.loads(metadata["train.options"])
        options["config"]["decoder"]["layers"] = [["conv", 64], ["up"], ["conv", 3, "none"]]
        serialization.save(arrays, checkpoint,
                           metadata={**metadata, "train.options": json.dumps(options)})
    before = checkpoint.read_bytes()
    result = train("--resume", "--iterations", "2", *common)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"{checkpoint}: not a training checkpoint" in lines[0]
    assert checkpoint.read_bytes() == before


def test_a_run_that_diverged_stops_and_writes_nothing(data, tmp_path: Path) -> None:
    """A learning rate far too high turns every weight to NaN: the run stops at the first loss
    that is not a number, in one line, exit 1 (it trained on to the end, then wrote a model
    file no command could paint with, exit 0), and writes neither the model file nor a
    checkpoint of the broken weights."""
    content, style = data
    run, model = tmp_path / "run", tmp_path / "model.safetensors"
    result = train("--content-dir", str(content), "--style-dir", str(style), "--iterations", "50",
                   "--batch-size", "2", "--crop-size", "32", "--lr", "1e30", "--run-dir",
                   str(run), "-o", str(model), "--device", "cpu", "-q")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "diverged at iteration" in result.output and len(result.output.splitlines()) == 1
    assert int(result.output.split("diverged at iteration ")[1].split()[0]) < 10
    assert not model.exists() and not (run / "checkpoint.safetensors").exists()


def test_the_model_file_never_replaces_what_the_run_reads(data, tmp_path: Path) -> None:
    """-o naming a training picture, or the run's own checkpoint, is refused even with
    --overwrite (as ``lucid stylize`` refuses an output that is an input): both were
    replaced by the model file."""
    content, style = data
    picture = content / "0.png"
    before = picture.read_bytes()
    new_run = train("--content-dir", str(content), "--style-dir", str(style), "--iterations", "1",
                    "--batch-size", "2", "--crop-size", "32", "--run-dir", str(tmp_path / "new"),
                    "-o", str(picture), "--overwrite", "--device", "cpu", "-q")
    assert new_run.exit_code == 1 and "is one of the inputs" in new_run.output, new_run.output
    assert picture.read_bytes() == before

    run, _, common = one_step_run(data, tmp_path)
    checkpoint = run / "checkpoint.safetensors"
    before = checkpoint.read_bytes()
    resumed = train("--resume", "--iterations", "2", *common, "-o", str(checkpoint))
    assert resumed.exit_code == 1 and "is one of the inputs" in resumed.output, resumed.output
    assert checkpoint.read_bytes() == before


def test_quiet_prints_nothing_but_errors(data, tmp_path: Path) -> None:
    """-q is errors only, as for ``lucid stylize``: each checkpoint's line was printed."""
    content, style = data
    result = train("--content-dir", str(content), "--style-dir", str(style), "--iterations", "2",
                   "--batch-size", "2", "--crop-size", "32", "--checkpoint-every", "1",
                   "--run-dir", str(tmp_path / "run"), "-o", str(tmp_path / "m.safetensors"),
                   "--device", "cpu", "-q")
    assert result.exit_code == 0, result.output
    assert result.output == "" and (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("option", ["--lr", "--style-weight", "--encoder-lr"])
def test_an_infinite_number_is_a_usage_error(data, tmp_path: Path, option: str) -> None:
    """Typer takes "inf" for a float option at least 0: the run trained to NaN, numpy's
    warnings on stderr."""
    content, style = data
    result = train("--content-dir", str(content), "--style-dir", str(style), "--iterations", "1",
                   "--batch-size", "2", "--crop-size", "32", option, "inf", "--run-dir",
                   str(tmp_path / "run"), "-o", str(tmp_path / "m.safetensors"), "--device",
                   "cpu", "-q")
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"error: {option}: inf is not a finite number"
    assert not (tmp_path / "run").exists()


def test_a_batch_too_large_for_memory_is_one_line(data, tmp_path: Path) -> None:
    """numpy's MemoryError (a batch of petabytes) was a traceback."""
    content, style = data
    result = train("--content-dir", str(content), "--style-dir", str(style), "--iterations", "1",
                   "--batch-size", str(10**13), "--crop-size", "32", "--run-dir",
                   str(tmp_path / "run"), "-o", str(tmp_path / "m.safetensors"), "--device",
                   "cpu", "-q")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output.strip() == ("error: out of memory; try a smaller --batch-size or "
                                     "--crop-size")
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize("resume", [False, True])
def test_a_run_folder_that_is_a_file_is_named(data, tmp_path: Path, resume: bool) -> None:
    """--run-dir naming a file said "file exists" (after the folders were read), or "no
    checkpoint to resume from"."""
    content, style = data
    run = tmp_path / "notes.txt"
    run.write_text("mine")
    args = ["--resume"] if resume else ["--content-dir", str(content), "--style-dir", str(style)]
    result = train(*args, "--iterations", "1", "--batch-size", "2", "--crop-size", "32",
                   "--run-dir", str(run), "-o", str(tmp_path / "m.safetensors"), "--device",
                   "cpu", "-q")
    assert result.exit_code == 1, result.output
    assert result.output.strip() == f"error: {run}: a file, not a folder (--run-dir)"
    assert run.read_text() == "mine"
