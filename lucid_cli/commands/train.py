"""``lucid train``: train a decoder with the AdaIN objective; resumable."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from lucid_cli.app import app
from lucid_cli.devices import DeviceChoice, resolve_device
from lucid_cli.errors import check_model_output, console, fail, reported


@app.command()
def train(
    ctx: typer.Context,
    content_dir: Annotated[Path, typer.Option(help="Folder of content photos.")] = None,
    style_dir: Annotated[Path, typer.Option(help="Folder of style paintings.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output",
                                         help="Model file written at the end.")] = Path(
        "model.safetensors"),
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace an existing model file at --output (a run carried on "
                            "and exported to the same file again needs it too).")] = False,
    run_dir: Annotated[Path, typer.Option(help="Checkpoints, log, sample sheets.")] = Path(
        "runs/default"),
    resume: Annotated[bool, typer.Option(
        help="Continue from the run's last checkpoint, with any of --iterations, --batch-size, "
             "--crop-size, --content-weight, --style-weight, --gram-weight, --remd-weight, "
             "--coarse-weight, --identity-weight, --checkpoint-every, --log-every and "
             "--ema-decay changed.")] = False,
    iterations: Annotated[int, typer.Option(min=1, help="Total optimisation steps.")] = 20000,
    batch_size: Annotated[int, typer.Option(min=1)] = 8,
    crop_size: Annotated[int, typer.Option(min=32, help="Random crop side in pixels.")] = 128,
    lr: Annotated[float, typer.Option(min=0.0, help="Adam learning rate.")] = 1e-4,
    lr_decay: Annotated[float, typer.Option(min=0.0, help="lr / (1 + decay * step).")] = 5e-5,
    content_weight: Annotated[float, typer.Option(min=0.0)] = 1.0,
    style_weight: Annotated[float, typer.Option(min=0.0)] = 10.0,
    gram_weight: Annotated[float, typer.Option(
        min=0.0, help="Also match the style's Gram matrices (channel correlations) at this "
                      "weight, inside the style loss (default 0: the AdaIN paper's loss).")] = 0.0,
    remd_weight: Annotated[float, typer.Option(
        min=0.0, help="Also match the style's feature vectors one by one, nearest to nearest "
                      "(relaxed earth mover's distance, STROTSS) at the two deepest style taps, "
                      "at this weight inside the style loss (default 0).")] = 0.0,
    coarse_weight: Annotated[float, typer.Option(
        min=0.0, help="Also match the style at half size (output and painting halved, the "
                      "painting's larger marks in the encoder's reach), at this weight inside "
                      "the style loss (default 0).")] = 0.0,
    identity_weight: Annotated[float, typer.Option(
        min=0.0, help="Also paint each painting back from its own features (SANet's identity "
                      "loss: the style taps' features and the pixels), at this weight inside "
                      "the style loss (default 0; the default model: 0.03, then 0.025 "
                      "with --style-weight 12).")] = 0.0,
    checkpoint_every: Annotated[int, typer.Option(min=1)] = 500,
    log_every: Annotated[int, typer.Option(min=1)] = 10,
    ema_decay: Annotated[float | None, typer.Option(
        min=0.0, max=0.99999, help="Decay of the weights' moving average, what the model file "
                                   "gets (0: the last step's weights; default 0.999, or the "
                                   "run's own with --resume).")] = None,
    encoder_lr: Annotated[float | None, typer.Option(
        min=0.0, help="Fine-tune the encoder too, at this learning rate, judged by a frozen copy "
                      "of the trunk (default 0: frozen; with --resume the run's own, and a "
                      "frozen run carried on from its checkpoint with its encoder tuned).")] = None,
    holdout: Annotated[float, typer.Option(min=0.0, max=0.5,
                                           help="Fraction of images never trained on.")] = 0.05,
    seed: Annotated[int, typer.Option(help="Seed for weights and sampling.")] = 0,
    encoder_weights: Annotated[Path | None, typer.Option(
        help="Encoder weights: a trunk file from tools/convert_lite2.py, whose variant "
             "sets the architecture (default: the embedded EfficientNet-Lite2 trunk).")] = None,
    device: Annotated[DeviceChoice, typer.Option(
        case_sensitive=False, help="auto = the GPU when CuPy sees one.")] = DeviceChoice.auto,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Shards per batch, one thread each (CPU; default: one per core's BLAS "
                    "thread).")] = None,
    quiet: Annotated[bool, typer.Option(
        "-q", "--quiet", help="No progress, checkpoints or summary; errors only.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Train a style-transfer decoder (AdaIN objective) on folders of photos and paintings."""
    from lucid.models.training import Trainer, TrainOptions, trunk_config
    from lucid_cli.train import run_training

    for name, value in ctx.params.items():  # Typer takes "inf" as a float at least 0
        if isinstance(value, float) and not math.isfinite(value):
            fail(f"--{name.replace('_', '-')}: {value} is not a finite number", code=2)
    with reported(debug):
        where = resolve_device(device)
        if run_dir.exists() and not run_dir.is_dir():
            fail(f"{run_dir}: a file, not a folder (--run-dir)")
        if resume:
            if not (run_dir / Trainer.CHECKPOINT).exists():
                fail(f"{run_dir}: no checkpoint to resume from")
            stored = Trainer.stored_options(run_dir)
            check_model_output(output, overwrite, inputs=_inputs(
                stored.content_dir, stored.style_dir, run_dir / Trainer.CHECKPOINT))
            trainer = Trainer.resume(run_dir, where, **_given_on_resume(ctx, run_dir))
            if encoder_lr is not None and encoder_lr != trainer.options.encoder_lr:
                if trainer.critic is not None:
                    fail(f"{run_dir}: fine-tunes its encoder at {trainer.options.encoder_lr} "
                         "already", code=2)
                trainer = trainer.fine_tuned(encoder_lr, run_dir)
        else:
            if content_dir is None or style_dir is None:
                fail("--content-dir and --style-dir are required (or --resume)", code=2)
            if (run_dir / Trainer.CHECKPOINT).exists():
                fail(f"{run_dir}: holds a checkpoint already; use --resume, or another --run-dir")
            check_model_output(output, overwrite, inputs=_inputs(
                content_dir, style_dir, encoder_weights))
            options = TrainOptions(
                content_dir=str(content_dir), style_dir=str(style_dir), run_dir=str(run_dir),
                iterations=iterations, batch_size=batch_size, crop_size=crop_size, lr=lr,
                lr_decay=lr_decay, content_weight=content_weight, style_weight=style_weight,
                gram_weight=gram_weight, remd_weight=remd_weight, coarse_weight=coarse_weight,
                identity_weight=identity_weight, holdout=holdout, seed=seed,
                checkpoint_every=checkpoint_every, log_every=log_every,
            )
            if ema_decay is not None:
                options.ema_decay = ema_decay
            if encoder_lr is not None:
                options.encoder_lr = encoder_lr
            if encoder_weights is not None:
                options.encoder_weights = str(encoder_weights)
                options.config = trunk_config(encoder_weights)
            trainer = Trainer(options, where)
        if workers is not None:
            trainer.workers = workers
        try:
            run_training(trainer, console, quiet=quiet)
        except MemoryError:
            if debug:
                raise
            fail("out of memory; try a smaller --batch-size or --crop-size")
        if output.exists() and not overwrite:  # appeared while it trained
            fail(f"{output}: appeared meanwhile; the run is kept: export it with lucid train "
                 f"--resume --run-dir {run_dir} --iterations {trainer.iteration} -o OTHER_FILE")
        trainer.export_model(output)
        if not quiet:
            console.print(f"wrote {output}")


def _inputs(content_dir: str | Path, style_dir: str | Path,
            file: Path | None) -> list[Path]:
    """What a run reads, which its model file must not replace: the pictures in its folders
    (those that are folders) and ``file``, its checkpoint or encoder weights."""
    from lucid.models.data import list_images

    folders = [Path(folder) for folder in (content_dir, style_dir) if Path(folder).is_dir()]
    return [path for folder in folders for path in list_images(folder)] + (
        [file] if file is not None else [])


# options of ``lucid train`` that are TrainOptions' fields of the same name
_RUN_OPTIONS = ("content_dir", "style_dir", "iterations", "batch_size", "crop_size", "lr",
                "lr_decay", "content_weight", "style_weight", "gram_weight", "remd_weight",
                "coarse_weight", "identity_weight", "checkpoint_every", "log_every", "ema_decay",
                "holdout", "seed", "encoder_weights")


def _given_on_resume(ctx: typer.Context, run_dir: Path) -> dict[str, object]:
    """The run options typed on this command line, to carry the run on with
    (``Trainer.resume`` refuses those a run cannot change); ``--iterations`` always, its
    default included. A folder or file typed as another path to the run's own is the run's."""
    from lucid.models.training import Trainer

    stored = Trainer.stored_options(run_dir)
    given: dict[str, object] = {"iterations": ctx.params["iterations"]}
    for name in _RUN_OPTIONS:
        value = ctx.params[name]
        source = ctx.get_parameter_source(name)  # click's ParameterSource, vendored by Typer
        if source is None or source.name != "COMMANDLINE":
            continue
        if isinstance(value, Path):
            own = Path(getattr(stored, name))
            value = str(own) if own.resolve() == value.resolve() else str(value)
        given[name] = value
    return given
