"""``lucid train``: the training loop of lucid.models.training, rendered with Rich."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

import lucid
from lucid.models.data import load_rgb
from lucid.models.training import CheckpointReport, StepReport, Trainer
from lucid_cli.errors import interruptible
from lucid_cli.sheets import contact_sheet, loss_curve

SHEET_PAIRS = 4  # held-out contents x held-out styles on every checkpoint's sheet


def render_sheet(trainer: Trainer, size: int = 192) -> Path | None:
    """Stylize fixed held-out pairs with the weights a model file would get now (their moving
    average, when the run keeps one) and save a contact sheet; None when nothing is held out
    (``--holdout 0``, or folders too small to spare an image)."""
    if not trainer.content_held or not trainer.style_held:
        return None
    contents = [_square(load_rgb(p, size), size) for p in trainer.content_held[:SHEET_PAIRS]]
    styles = [_square(load_rgb(p, size), size) for p in trainer.style_held[:SHEET_PAIRS]]
    model = trainer.averaged_model()
    model.eval()
    results = []
    with lucid.no_grad():
        batch = lucid.tensor(np.stack(contents).transpose(0, 3, 1, 2), device=trainer.device)
        features = model.content_features(batch)
        for style in styles:
            statistics = model.style_statistics(
                lucid.tensor(style.transpose(2, 0, 1)[None], device=trainer.device))
            out = model.decode(model.blend(features, statistics)).clamp(0, 1)
            results.append(out.cpu().numpy().transpose(0, 2, 3, 1))
    model.train()
    grid = [[results[j][i] for j in range(len(styles))] for i in range(len(contents))]
    folder = trainer.run_dir / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sheet_{trainer.iteration:06d}.png"
    contact_sheet(contents, styles, grid).save(path)
    return path


def _square(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    top, left = (h - min(h, w)) // 2, (w - min(h, w)) // 2
    crop = image[top : top + min(h, w), left : left + min(h, w)]
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.LANCZOS),
                      dtype=np.float32) / 255.0


class TrainLog:
    """Appends StepReports to ``log.csv`` and redraws ``loss.png`` at checkpoints.

    ``start`` is the iteration the run starts from: rows logged after it (by a run killed
    between checkpoints, whose last steps are repeated on resume) are dropped.
    """

    FIELDS = ("iteration", "content_loss", "style_loss", "lr", "seconds_per_step")

    def __init__(self, run_dir: Path, start: int = 0) -> None:
        self.path = run_dir / "log.csv"
        run_dir.mkdir(parents=True, exist_ok=True)
        rows = self._rows() if self.path.exists() else []
        kept = [row for row in rows if int(row["iteration"]) <= start]
        if not self.path.exists() or len(kept) < len(rows):
            # rewritten beside and renamed over: a kill mid-write never loses the history
            partial = self.path.with_name("log.csv.partial")
            with partial.open("w", newline="") as f:
                writer = csv.DictWriter(f, self.FIELDS)
                writer.writeheader()
                writer.writerows(kept)
            os.replace(partial, self.path)

    def _rows(self) -> list[dict[str, str]]:
        with self.path.open() as f:
            return list(csv.DictReader(f))

    def add(self, report: StepReport) -> None:
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([getattr(report, k) for k in self.FIELDS])

    def plot(self) -> None:
        rows = self._rows()
        if rows:
            loss_curve([int(r["iteration"]) for r in rows],
                       {"content": [float(r["content_loss"]) for r in rows],
                        "style": [float(r["style_loss"]) for r in rows]},
                       self.path.with_name("loss.png"))


def run_training(trainer: Trainer, console: Console, quiet: bool = False) -> None:
    """Drive a trainer with a Rich progress bar, a CSV log, sheets and loss curves."""
    log = TrainLog(trainer.run_dir, start=trainer.iteration)
    progress = Progress(
        TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console, disable=quiet,
    )

    def on_checkpoint(t: Trainer) -> Path | None:
        log.plot()
        return render_sheet(t)

    with interruptible():  # Ctrl-C, and a polite kill of a background run, end in a checkpoint
        _train_with_progress(trainer, progress, log, on_checkpoint)


def _train_with_progress(trainer: Trainer, progress: Progress, log: TrainLog,
                         on_checkpoint: Callable[[Trainer], Path | None]) -> None:
    options = trainer.options
    with progress:
        task = progress.add_task("train", total=options.iterations, completed=trainer.iteration,
                                 status="")

        def callback(report: StepReport | CheckpointReport) -> None:
            if isinstance(report, StepReport):
                log.add(report)
                progress.update(task, completed=report.iteration, status=(
                    f"{1 / max(report.seconds_per_step, 1e-9):.2f} it/s  "
                    f"content {report.content_loss:.3f}  style {report.style_loss:.3f}"))
            elif not progress.disable:  # --quiet: errors only
                progress.console.print(
                    f"checkpoint {report.iteration}: {report.path}"
                    + (f", sheet {report.sheet}" if report.sheet else ""))

        trainer.run(callback, on_checkpoint)
